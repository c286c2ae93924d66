//! The realtime bus: events on topics (per user, per conversation), each subscription with its own
//! bounded queue.
//!
//! Publishing never waits: an event is pushed into the queue of every subscription following its
//! topic. A subscription that falls [`Config::realtime_queue`](crate::config::Config) events behind
//! loses what is queued and reads a [`GuaraEvent::Resync`] first, so a slow client never slows the
//! others and always knows when to reload. Delivery to connected subscribers is at least once;
//! services publish only after their change has committed.
//!
//! [`Bus`] is the one interface services publish through and subscriptions follow topics through;
//! [`LocalBus`] carries it inside one process. A bus spanning several instances implements the same
//! trait (forwarding publishes to its peers and delivering theirs through a `LocalBus`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use taina_core::UserId;
use taina_guara::event::{GuaraEvent, Topic};
use tokio::sync::Notify;

/// Queued events a subscription may hold unless configured otherwise.
pub const DEFAULT_QUEUE: usize = 1024;

/// Carries events from publishers to the subscriptions that follow their topic.
pub trait Bus: Send + Sync + 'static {
    /// Delivers `event` to every subscription following `topic` now.
    fn publish(&self, topic: &Topic, event: Arc<GuaraEvent>);
    /// Starts delivering `topic`'s events into `queue`.
    fn follow(&self, topic: &Topic, queue: &Arc<Queue>);
    /// Stops delivering `topic`'s events into `queue`.
    fn unfollow(&self, topic: &Topic, queue: &Arc<Queue>);
    /// Stops delivering `topic`'s events into every queue of `user`'s subscriptions (a person
    /// removed from a conversation hears nothing published after the removal, even before their
    /// subscriptions have read that they left).
    fn unfollow_user(&self, topic: &Topic, user: &UserId);
}

/// A subscription's bounded queue.
#[derive(Debug)]
pub struct Queue {
    id: u64,
    /// Whose subscription it is.
    owner: Option<UserId>,
    capacity: usize,
    state: Mutex<QueueState>,
    ready: Notify,
}

#[derive(Debug, Default)]
struct QueueState {
    events: VecDeque<Arc<GuaraEvent>>,
    overflowed: bool,
}

static NEXT_QUEUE: AtomicU64 = AtomicU64::new(1);

impl Queue {
    fn new(capacity: usize, owner: Option<UserId>) -> Arc<Queue> {
        Arc::new(Queue {
            id: NEXT_QUEUE.fetch_add(1, Ordering::Relaxed),
            owner,
            capacity: capacity.max(1),
            state: Mutex::new(QueueState::default()),
            ready: Notify::new(),
        })
    }

    /// Adds an event; when full, drops what is queued and marks the subscription for a resync.
    pub fn push(&self, event: Arc<GuaraEvent>) {
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.events.len() >= self.capacity {
                state.events.clear();
                if !state.overflowed {
                    tracing::warn!(
                        queue = self.id,
                        "a realtime subscriber fell behind; it will resync"
                    );
                }
                state.overflowed = true;
            }
            state.events.push_back(event);
        }
        self.ready.notify_one();
    }

    fn pop(&self) -> Option<Arc<GuaraEvent>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.overflowed {
            state.overflowed = false;
            return Some(Arc::new(GuaraEvent::Resync));
        }
        state.events.pop_front()
    }
}

/// The bus inside one process.
#[derive(Debug, Default)]
pub struct LocalBus {
    topics: Mutex<HashMap<Topic, HashMap<u64, Arc<Queue>>>>,
}

impl LocalBus {
    /// A bus with no subscriptions.
    pub fn new() -> LocalBus {
        LocalBus::default()
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: &Topic, event: Arc<GuaraEvent>) {
        let queues: Vec<Arc<Queue>> = {
            let topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
            topics
                .get(topic)
                .map(|q| q.values().cloned().collect())
                .unwrap_or_default()
        };
        tracing::trace!(event = event.name(), subscribers = queues.len(), "publish");
        for queue in queues {
            queue.push(event.clone());
        }
    }

    fn follow(&self, topic: &Topic, queue: &Arc<Queue>) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .entry(topic.clone())
            .or_default()
            .insert(queue.id, queue.clone());
    }

    fn unfollow(&self, topic: &Topic, queue: &Arc<Queue>) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(queues) = topics.get_mut(topic) {
            queues.remove(&queue.id);
            if queues.is_empty() {
                topics.remove(topic);
            }
        }
    }

    fn unfollow_user(&self, topic: &Topic, user: &UserId) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(queues) = topics.get_mut(topic) {
            queues.retain(|_, q| q.owner.as_ref() != Some(user));
            if queues.is_empty() {
                topics.remove(topic);
            }
        }
    }
}

/// A subscription: follows topics, receives their events in order. Dropping it unfollows all.
pub struct Subscription {
    bus: Arc<dyn Bus>,
    queue: Arc<Queue>,
    topics: Vec<Topic>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// A subscription of `owner` (if it is someone's) to `bus` holding at most `capacity` events.
    pub fn new(bus: Arc<dyn Bus>, capacity: usize, owner: Option<UserId>) -> Subscription {
        Subscription {
            bus,
            queue: Queue::new(capacity, owner),
            topics: Vec::new(),
        }
    }

    /// Starts receiving `topic`'s events (following twice is once).
    pub fn follow(&mut self, topic: Topic) {
        if !self.topics.contains(&topic) {
            self.bus.follow(&topic, &self.queue);
            self.topics.push(topic);
        }
    }

    /// Stops receiving `topic`'s events.
    pub fn unfollow(&mut self, topic: &Topic) {
        if let Some(at) = self.topics.iter().position(|t| t == topic) {
            self.bus.unfollow(topic, &self.queue);
            self.topics.swap_remove(at);
        }
    }

    /// Whether it follows `topic`.
    pub fn follows(&self, topic: &Topic) -> bool {
        self.topics.contains(topic)
    }

    /// The topics followed.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The next event, waiting for one.
    pub async fn next(&mut self) -> Arc<GuaraEvent> {
        loop {
            if let Some(event) = self.queue.pop() {
                return event;
            }
            self.queue.ready.notified().await;
        }
    }

    /// The next event if one is queued.
    pub fn try_next(&mut self) -> Option<Arc<GuaraEvent>> {
        self.queue.pop()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        for topic in std::mem::take(&mut self.topics) {
            self.bus.unfollow(&topic, &self.queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(n: u8) -> Topic {
        Topic::User(UserId::from_random([n; 21]))
    }

    fn typing(n: u8) -> Arc<GuaraEvent> {
        Arc::new(GuaraEvent::Typing {
            conversation_id: taina_core::ConversationId::from_random([n; 21]),
            user_id: UserId::from_random([n; 21]),
            active: true,
        })
    }

    #[tokio::test]
    async fn delivers_in_order_to_followers_only() {
        let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
        let mut a = Subscription::new(bus.clone(), 8, None);
        let mut b = Subscription::new(bus.clone(), 8, None);
        a.follow(topic(1));
        a.follow(topic(1));
        b.follow(topic(2));
        bus.publish(&topic(1), typing(1));
        bus.publish(&topic(1), typing(2));
        assert_eq!(a.next().await, typing(1));
        assert_eq!(a.next().await, typing(2));
        assert!(a.try_next().is_none());
        assert!(b.try_next().is_none());
        a.unfollow(&topic(1));
        bus.publish(&topic(1), typing(3));
        assert!(a.try_next().is_none());
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_to_resync_and_others_are_untouched() {
        let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
        let mut slow = Subscription::new(bus.clone(), 4, None);
        let mut fast = Subscription::new(bus.clone(), 64, None);
        slow.follow(topic(1));
        fast.follow(topic(1));
        for n in 0..10 {
            bus.publish(&topic(1), typing(n));
            assert_eq!(fast.next().await, typing(n));
        }
        assert_eq!(*slow.next().await, GuaraEvent::Resync);
        // What came after the overflow is still delivered.
        let rest: Vec<_> = std::iter::from_fn(|| slow.try_next()).collect();
        assert_eq!(rest, vec![typing(8), typing(9)]);
    }

    #[tokio::test]
    async fn unfollowing_a_user_stops_every_one_of_their_queues_only() {
        let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
        let ana = UserId::from_random([1; 21]);
        let bia = UserId::from_random([2; 21]);
        let mut phone = Subscription::new(bus.clone(), 8, Some(ana.clone()));
        let mut laptop = Subscription::new(bus.clone(), 8, Some(ana.clone()));
        let mut hers = Subscription::new(bus.clone(), 8, Some(bia));
        for s in [&mut phone, &mut laptop, &mut hers] {
            s.follow(topic(9));
        }
        bus.unfollow_user(&topic(9), &ana);
        bus.publish(&topic(9), typing(1));
        assert!(phone.try_next().is_none());
        assert!(laptop.try_next().is_none());
        assert_eq!(hers.try_next(), Some(typing(1)));
    }

    #[tokio::test]
    async fn dropping_unfollows() {
        let bus = Arc::new(LocalBus::new());
        let mut s = Subscription::new(bus.clone(), 4, None);
        s.follow(topic(1));
        drop(s);
        assert!(bus.topics.lock().unwrap().is_empty());
    }
}
