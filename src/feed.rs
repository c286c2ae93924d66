//! A viewer's live feed: the one way a front end (the socket today; GraphQL subscriptions, push
//! and bridges later) follows what happens, holding only what that viewer may hear.
//!
//! [`Taina::subscribe`] follows the viewer's topics on the [bus](crate::bus): their community's
//! domain events (each filtered by `taina_ybira::audience::may_hear`, the same rules as reading),
//! their own topic, and the topic of every conversation they are in, kept up to date as they join
//! and leave. No front end filters, so none can forget to.

use std::collections::HashMap;
use std::sync::Arc;

use taina_core::{Actor, CommunityId, ConversationId, DomainEvent, Event};
use taina_guara::conversation::ParticipantRole;
use taina_guara::event::{ConversationChange, GuaraEvent};
use tracing::instrument;

use crate::bus::{LiveEvent, Received, Subscription, Topic};
use crate::{Inner, Result, Taina};

/// What a [`Feed`] hands out.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    /// Something the viewer may hear of ([`LiveEvent::Community`] or [`LiveEvent::Guara`]).
    Event(Arc<LiveEvent>),
    /// Events were dropped because the follower fell behind: reload what is on screen.
    Resync,
}

impl FeedItem {
    /// The community's domain event, if it is one.
    pub fn community(&self) -> Option<&Event> {
        match self {
            FeedItem::Event(event) => match &**event {
                LiveEvent::Community(event) => Some(event),
                LiveEvent::Guara(_) => None,
            },
            FeedItem::Resync => None,
        }
    }

    /// Guará's event, if it is one.
    pub fn guara(&self) -> Option<&GuaraEvent> {
        match self {
            FeedItem::Event(event) => match &**event {
                LiveEvent::Guara(event) => Some(event),
                LiveEvent::Community(_) => None,
            },
            FeedItem::Resync => None,
        }
    }
}

/// A viewer's filtered, ordered view of the bus. Dropping it unfollows everything.
#[derive(Debug)]
pub struct Feed {
    subscription: Subscription,
    taina: Taina,
    viewer: Actor,
    /// A resync came through `try_next`: reload the topics on the next `next`.
    stale: bool,
    /// A resync was taken off the queue but not handed out yet (its `next` was cancelled).
    resync_pending: bool,
    /// The viewer's role in their conversations (read with them at the start and after a
    /// resync): each message handed out says what the viewer may do with it
    /// (`Message::for_reader`). Forgotten when a conversation's participants change, and looked
    /// up again at its next message.
    roles: HashMap<ConversationId, ParticipantRole>,
    /// An event taken off the queue and checked, not handed out yet (its `next` was cancelled).
    held: Option<Arc<LiveEvent>>,
}

impl Taina {
    /// Follows everything `viewer` may hear, from now on: their community's domain events they
    /// may read, and their conversations (messages, reactions, reads, typing, presence).
    #[instrument(skip_all, fields(community = %viewer.community_id))]
    pub async fn subscribe(&self, viewer: &Actor) -> Result<Feed> {
        let inner = &self.inner;
        let mut subscription = Subscription::new(
            inner.bus.clone(),
            inner.config.realtime_queue,
            Some(viewer.user_id.clone()),
        );
        // Follow first, then list: a conversation joined meanwhile is announced on the user topic.
        subscription.follow(Topic::Community(viewer.community_id.clone()));
        subscription.follow(Topic::User(viewer.user_id.clone()));
        let mut roles = HashMap::new();
        for (id, role) in self.guara().memberships(&viewer.user_id).await? {
            subscription.follow(Topic::Conversation(id.clone()));
            roles.insert(id, role);
        }
        Ok(Feed {
            subscription,
            taina: self.clone(),
            viewer: viewer.clone(),
            stale: false,
            resync_pending: false,
            roles,
            held: None,
        })
    }
}

impl Taina {
    /// Ends every live feed now and later (each reads its end once its queue is drained): the
    /// server is shutting down, and sockets close telling clients to reconnect.
    pub fn end_feeds(&self) {
        self.inner.bus.close();
    }
}

impl Inner {
    /// Publishes a community's domain event, after its change has committed.
    pub(crate) fn publish_event(&self, community: &CommunityId, event: DomainEvent) {
        let event = Event {
            community_id: community.clone(),
            at: self.clock.now(),
            event,
        };
        tracing::debug!(event = event.event.name(), community = %community, "publish");
        self.bus.publish(
            &Topic::Community(community.clone()),
            Arc::new(LiveEvent::Community(event)),
        );
    }
}

impl Feed {
    /// The next item, waiting for one; `None` once the instance is closing. After
    /// [`FeedItem::Resync`], reload what is on screen.
    ///
    /// Cancel-safe (it sits in `select!` loops): a resync taken off the queue is remembered until
    /// the conversations are followed again and the resync has been handed out.
    pub async fn next(&mut self) -> Option<FeedItem> {
        if self.stale || self.resync_pending {
            self.refollow().await;
            self.stale = false;
            if std::mem::take(&mut self.resync_pending) {
                return Some(FeedItem::Resync);
            }
        }
        loop {
            let event = match self.held.take() {
                Some(event) => event,
                None => match self.subscription.next().await {
                    Received::Event(event) if self.hand_out(&event) => event,
                    Received::Event(_) => continue,
                    Received::Resync => {
                        self.resync_pending = true;
                        self.refollow().await;
                        self.resync_pending = false;
                        return Some(FeedItem::Resync);
                    }
                    Received::Closed => return None,
                },
            };
            let unknown = message_conversation(&event)
                .filter(|conversation| !self.roles.contains_key(*conversation))
                .cloned();
            if let Some(conversation) = unknown {
                // Held while the role is looked up: a cancelled `next` hands it out next time.
                self.held = Some(event.clone());
                self.learn_role(&conversation).await;
                self.held = None;
            }
            return Some(FeedItem::Event(self.with_rights(event)));
        }
    }

    /// The next item if one is waiting (`None` also once the instance is closing). A message
    /// of a conversation whose roles are not known yet comes without the viewer's rights (only
    /// [`Feed::next`] may look them up).
    pub fn try_next(&mut self) -> Option<FeedItem> {
        if let Some(event) = self.held.take() {
            return Some(FeedItem::Event(self.with_rights(event)));
        }
        loop {
            match self.subscription.try_next()? {
                Received::Event(event) => {
                    if self.hand_out(&event) {
                        return Some(FeedItem::Event(self.with_rights(event)));
                    }
                }
                Received::Resync => {
                    self.stale = true;
                    return Some(FeedItem::Resync);
                }
                Received::Closed => return None,
            }
        }
    }

    /// Whether the viewer may hear `event`, following or leaving the conversations it says they
    /// joined or left.
    fn hand_out(&mut self, event: &LiveEvent) -> bool {
        match event {
            LiveEvent::Community(event) => taina_ybira::audience::may_hear(&self.viewer, event),
            LiveEvent::Guara(event) => {
                // What was queued for a conversation the viewer has since left is not handed out.
                let still_follows = event.conversation_topic().is_none_or(|conversation| {
                    self.subscription
                        .follows(&Topic::Conversation(conversation.clone()))
                });
                if still_follows {
                    self.track(event);
                }
                still_follows
            }
        }
    }

    fn track(&mut self, event: &GuaraEvent) {
        if let GuaraEvent::ConversationUpdated {
            conversation_id,
            change,
        } = event
        {
            if *change != ConversationChange::Renamed {
                self.roles.remove(conversation_id);
            }
            let topic = Topic::Conversation(conversation_id.clone());
            match change {
                ConversationChange::Joined => self.subscription.follow(topic),
                ConversationChange::Left => self.subscription.unfollow(&topic),
                ConversationChange::Renamed | ConversationChange::Participants => {}
            }
        }
    }

    /// The message event as the viewer reads it, with what they may do with the message, when
    /// their role in its conversation is known.
    fn with_rights(&self, event: Arc<LiveEvent>) -> Arc<LiveEvent> {
        let LiveEvent::Guara(guara) = &*event else {
            return event;
        };
        let (message, created) = match guara {
            GuaraEvent::MessageCreated(message) => (message, true),
            GuaraEvent::MessageUpdated(message) => (message, false),
            _ => return event,
        };
        let Some(role) = self.roles.get(&message.conversation_id) else {
            return event;
        };
        let read = Box::new((**message).clone().for_reader(&self.viewer.user_id, *role));
        Arc::new(LiveEvent::Guara(if created {
            GuaraEvent::MessageCreated(read)
        } else {
            GuaraEvent::MessageUpdated(read)
        }))
    }

    /// Looks up the viewer's role in a conversation (none: they are not in it any more).
    async fn learn_role(&mut self, conversation: &ConversationId) {
        match self
            .taina
            .guara()
            .role_in(&self.viewer.user_id, conversation)
            .await
        {
            Ok(Some(role)) => {
                self.roles.insert(conversation.clone(), role);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot look up a role for the feed"),
        }
    }

    /// After a resync the events that were dropped may have said "joined" or "left": follow
    /// exactly the viewer's conversations as they are now.
    async fn refollow(&mut self) {
        let memberships = match self.taina.guara().memberships(&self.viewer.user_id).await {
            Ok(memberships) => memberships,
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload conversations after a resync");
                return;
            }
        };
        let mut wanted = Vec::with_capacity(memberships.len());
        self.roles.clear();
        for (id, role) in memberships {
            wanted.push(Topic::Conversation(id.clone()));
            self.roles.insert(id, role);
        }
        let stale: Vec<Topic> = self
            .subscription
            .topics()
            .iter()
            .filter(|t| matches!(t, Topic::Conversation(_)) && !wanted.contains(t))
            .cloned()
            .collect();
        for topic in stale {
            self.subscription.unfollow(&topic);
        }
        for topic in wanted {
            self.subscription.follow(topic);
        }
    }
}

/// The conversation of a message event.
fn message_conversation(event: &LiveEvent) -> Option<&ConversationId> {
    match event {
        LiveEvent::Guara(GuaraEvent::MessageCreated(m) | GuaraEvent::MessageUpdated(m)) => {
            Some(&m.conversation_id)
        }
        _ => None,
    }
}
