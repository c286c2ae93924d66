//! The in-process community event bus: services publish domain events after their changes commit,
//! front ends follow them through an [`EventFeed`] that yields only what its viewer may hear
//! (`taina_ybira::audience::may_hear`, the same rules as reading), so no front end filters.
//!
//! One bounded channel per community, made when someone first follows it and dropped when the
//! last follower goes: one busy community never makes another's followers lag. A follower that
//! falls behind loses the oldest events and reads [`FeedItem::Resync`], which it answers by
//! reloading through the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use taina_core::{Actor, CommunityId, DomainEvent, Event};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

/// Events kept per community for slow followers before they lag.
const CAPACITY: usize = 1024;

/// Publishes events to the followers of their community.
#[derive(Debug, Clone, Default)]
pub struct EventBus {
    channels: Arc<Mutex<HashMap<CommunityId, broadcast::Sender<Event>>>>,
}

impl EventBus {
    /// A bus with no followers.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CommunityId, broadcast::Sender<Event>>> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `event` to everyone following its community now (nobody listening is fine).
    pub fn publish(&self, event: Event) {
        tracing::debug!(event = event.event.name(), community = %event.community_id, "publish");
        let mut channels = self.lock();
        if let Some(tx) = channels.get(&event.community_id) {
            if tx.receiver_count() == 0 {
                channels.remove(&event.community_id);
            } else {
                let _ = tx.send(event);
            }
        }
    }

    /// A receiver of every event of `community` published from now on, unfiltered (for the
    /// shell's own modules and tests; front ends use [`EventBus::feed`]).
    pub fn subscribe(&self, community: &CommunityId) -> broadcast::Receiver<Event> {
        let mut channels = self.lock();
        // Channels whose followers all left are dropped as new ones are made.
        channels.retain(|_, tx| tx.receiver_count() > 0);
        channels
            .entry(community.clone())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe()
    }

    /// The events `viewer` may hear, from now on.
    pub fn feed(&self, viewer: &Actor) -> EventFeed {
        EventFeed {
            viewer: viewer.clone(),
            rx: self.subscribe(&viewer.community_id),
        }
    }

    /// Communities with a channel now (for tests and metrics).
    pub fn channels(&self) -> usize {
        self.lock().len()
    }
}

/// What an [`EventFeed`] yields.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    /// Something the viewer may hear of.
    Event(DomainEvent),
    /// Events were dropped because the follower fell behind: reload what is on screen.
    Resync,
}

/// A viewer's filtered view of their community's events.
#[derive(Debug)]
pub struct EventFeed {
    viewer: Actor,
    rx: broadcast::Receiver<Event>,
}

impl EventFeed {
    /// The next event the viewer may hear, waiting for one; `None` once the instance is closing.
    /// Cancel-safe.
    pub async fn next(&mut self) -> Option<FeedItem> {
        loop {
            match self.rx.recv().await {
                Ok(event) if taina_ybira::audience::may_hear(&self.viewer, &event) => {
                    return Some(FeedItem::Event(event.event));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => return Some(FeedItem::Resync),
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taina_core::{Role, Timestamp, UserId};

    fn event(community: &CommunityId) -> Event {
        Event {
            community_id: community.clone(),
            at: Timestamp::from_millis(0),
            event: DomainEvent::CommunityUpdated,
        }
    }

    fn viewer(community: &CommunityId) -> Actor {
        Actor {
            user_id: UserId::from_random([5; 21]),
            community_id: community.clone(),
            role: Role::Member,
            session_id: None,
        }
    }

    #[tokio::test]
    async fn a_busy_community_never_makes_another_lag() {
        let bus = EventBus::new();
        let (busy, quiet) = (
            CommunityId::from_random([1; 21]),
            CommunityId::from_random([2; 21]),
        );
        let mut busy_feed = bus.feed(&viewer(&busy));
        let mut quiet_feed = bus.feed(&viewer(&quiet));
        for _ in 0..CAPACITY * 3 {
            bus.publish(event(&busy));
        }
        bus.publish(event(&quiet));
        assert_eq!(
            quiet_feed.next().await,
            Some(FeedItem::Event(DomainEvent::CommunityUpdated))
        );
        assert_eq!(busy_feed.next().await, Some(FeedItem::Resync));
    }

    #[tokio::test]
    async fn channels_go_with_their_last_follower() {
        let bus = EventBus::new();
        let c = CommunityId::from_random([1; 21]);
        let feed = bus.feed(&viewer(&c));
        assert_eq!(bus.channels(), 1);
        drop(feed);
        bus.publish(event(&c));
        assert_eq!(bus.channels(), 0);
        // Publishing to a community nobody follows makes no channel.
        bus.publish(event(&CommunityId::from_random([3; 21])));
        assert_eq!(bus.channels(), 0);
    }
}
