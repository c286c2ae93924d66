//! The one event bus: everything announced live (a community's domain events, Guará's messages,
//! reads, typing and presence) is published on a [`Topic`], and each subscription has its own
//! bounded queue.
//!
//! Publishing never waits: an event is pushed into the queue of every subscription following its
//! topic. A subscription that falls [`Config::realtime_queue`](crate::config::Config) events behind
//! loses what is queued and reads [`Received::Resync`] first, so a slow client never slows the
//! others and always knows when to reload. Delivery to connected subscribers is at least once;
//! services publish only after their change has committed.
//!
//! Nothing here decides who may hear what: front ends follow through [`crate::feed::Feed`], which
//! follows the topics its viewer may follow and filters what it hands out.
//!
//! [`Bus`] is the one interface services publish through and subscriptions follow topics through;
//! [`LocalBus`] carries it inside one process (SQLite: one instance), [`PgBus`] across the
//! instances of one PostgreSQL database (forwarding what it publishes to its peers with `NOTIFY`
//! and delivering theirs through its own `LocalBus`).

mod postgres;

pub use postgres::PgBus;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use taina_core::event::Topic;
use taina_core::{Event, UserId};
use taina_guara::event::GuaraEvent;
use tokio::sync::Notify;

/// Queued events a subscription may hold unless configured otherwise.
pub const DEFAULT_QUEUE: usize = 1024;

/// What is published on the bus.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "event", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A community's domain event, on [`Topic::Community`].
    Community(Event),
    /// Guará's, on [`Topic::User`] or [`Topic::Conversation`].
    Guara(GuaraEvent),
}

impl LiveEvent {
    /// The event as every front end sends it to a client: `{"type", "data"}` (a community event
    /// without its routing).
    pub fn to_frame(&self) -> serde_json::Result<String> {
        match self {
            LiveEvent::Community(event) => serde_json::to_string(&event.event),
            LiveEvent::Guara(event) => serde_json::to_string(event),
        }
    }

    /// The event's name as clients read it in its `type`.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::Community(event) => event.event.name(),
            LiveEvent::Guara(event) => event.name(),
        }
    }
}

/// What a subscription reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// The next event of a followed topic.
    Event(Arc<LiveEvent>),
    /// Events were dropped because the subscription fell behind: reload what is on screen.
    Resync,
    /// The instance is closing: nothing more will come.
    Closed,
}

/// Carries events from publishers to the subscriptions that follow their topic.
pub trait Bus: Send + Sync + 'static {
    /// Delivers `event` to every subscription following `topic` now.
    fn publish(&self, topic: &Topic, event: Arc<LiveEvent>);
    /// Starts delivering `topic`'s events into `queue`.
    fn follow(&self, topic: &Topic, queue: &Arc<Queue>);
    /// Stops delivering `topic`'s events into `queue`.
    fn unfollow(&self, topic: &Topic, queue: &Arc<Queue>);
    /// Stops delivering `topic`'s events into every queue of `user`'s subscriptions (a person
    /// removed from a conversation hears nothing published after the removal, even before their
    /// subscriptions have read that they left).
    fn unfollow_user(&self, topic: &Topic, user: &UserId);
    /// Starts delivering `topic`'s events into every queue of `user`'s subscriptions (a person
    /// added to a conversation hears what is said from then on, even before their
    /// subscriptions have read that they joined).
    fn follow_user(&self, topic: &Topic, user: &UserId);
    /// Ends every subscription, now and later (the instance is closing): each reads
    /// [`Received::Closed`] once its queue is empty.
    fn close(&self);
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
    events: VecDeque<Arc<LiveEvent>>,
    overflowed: bool,
    closed: bool,
    /// The topics the bus delivers into this queue.
    topics: Vec<Topic>,
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
    pub fn push(&self, event: Arc<LiveEvent>) {
        {
            let mut state = self.lock();
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

    fn pop(&self) -> Option<Received> {
        let mut state = self.lock();
        if state.overflowed {
            state.overflowed = false;
            return Some(Received::Resync);
        }
        match state.events.pop_front() {
            Some(event) => Some(Received::Event(event)),
            None if state.closed => Some(Received::Closed),
            None => None,
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    /// Drops what is queued and tells the subscription to reload (events may have been lost).
    fn force_resync(&self) {
        {
            let mut state = self.lock();
            state.events.clear();
            state.overflowed = true;
        }
        self.ready.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn followed(&self, topic: &Topic) {
        let mut state = self.lock();
        if !state.topics.contains(topic) {
            state.topics.push(topic.clone());
        }
    }

    fn unfollowed(&self, topic: &Topic) {
        self.lock().topics.retain(|t| t != topic);
    }
}

/// The bus inside one process.
#[derive(Debug, Default)]
pub struct LocalBus {
    topics: Mutex<HashMap<Topic, HashMap<u64, Arc<Queue>>>>,
    closed: std::sync::atomic::AtomicBool,
}

impl LocalBus {
    /// A bus with no subscriptions.
    pub fn new() -> LocalBus {
        LocalBus::default()
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: &Topic, event: Arc<LiveEvent>) {
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
        if self.closed.load(Ordering::Acquire) {
            queue.close();
            return;
        }
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .entry(topic.clone())
            .or_default()
            .insert(queue.id, queue.clone());
        queue.followed(topic);
    }

    fn unfollow(&self, topic: &Topic, queue: &Arc<Queue>) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(queues) = topics.get_mut(topic) {
            queues.remove(&queue.id);
            if queues.is_empty() {
                topics.remove(topic);
            }
        }
        queue.unfollowed(topic);
    }

    fn unfollow_user(&self, topic: &Topic, user: &UserId) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(queues) = topics.get_mut(topic) {
            queues.retain(|_, q| {
                let theirs = q.owner.as_ref() == Some(user);
                if theirs {
                    q.unfollowed(topic);
                }
                !theirs
            });
            if queues.is_empty() {
                topics.remove(topic);
            }
        }
    }

    fn follow_user(&self, topic: &Topic, user: &UserId) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        // Every subscription of a person follows their own topic.
        let theirs: Vec<Arc<Queue>> = topics
            .get(&Topic::User(user.clone()))
            .map(|queues| {
                queues
                    .values()
                    .filter(|q| q.owner.as_ref() == Some(user))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if theirs.is_empty() {
            return;
        }
        let followers = topics.entry(topic.clone()).or_default();
        for queue in theirs {
            queue.followed(topic);
            followers.insert(queue.id, queue);
        }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let topics = std::mem::take(&mut *self.topics.lock().unwrap_or_else(|e| e.into_inner()));
        for queue in topics.into_values().flat_map(HashMap::into_values) {
            queue.close();
        }
    }
}

impl LocalBus {
    /// Tells every subscription to reload: events meant for them may have been lost (the
    /// connection that carries other instances' events dropped).
    pub fn resync_all(&self) {
        let topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        let mut told = std::collections::HashSet::new();
        for queue in topics.values().flat_map(HashMap::values) {
            if told.insert(queue.id) {
                queue.force_resync();
            }
        }
    }

    /// Topics with at least one follower now (for tests and metrics).
    pub fn topics(&self) -> usize {
        self.topics.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A subscription: follows topics, receives their events in order. Dropping it unfollows all.
pub struct Subscription {
    bus: Arc<dyn Bus>,
    queue: Arc<Queue>,
    /// The topics its holder follows, as far as it has read: the bus may already deliver more
    /// ([`Bus::follow_user`]) or fewer ([`Bus::unfollow_user`]); what was queued is read in the
    /// light of this.
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

    /// Whether its holder follows `topic`, as far as it has read.
    pub fn follows(&self, topic: &Topic) -> bool {
        self.topics.contains(topic)
    }

    /// The topics its holder follows, as far as it has read.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The next event, waiting for one. Cancel-safe.
    pub async fn next(&mut self) -> Received {
        loop {
            if let Some(received) = self.queue.pop() {
                return received;
            }
            self.queue.ready.notified().await;
        }
    }

    /// The next event if one is queued.
    pub fn try_next(&mut self) -> Option<Received> {
        self.queue.pop()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Every topic the bus delivers into the queue, including those it followed for the owner.
        let delivered = std::mem::take(&mut self.queue.lock().topics);
        for topic in delivered.iter().chain(&self.topics) {
            self.bus.unfollow(topic, &self.queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(n: u8) -> Topic {
        Topic::User(UserId::from_random([n; 21]))
    }

    fn typing(n: u8) -> Arc<LiveEvent> {
        Arc::new(LiveEvent::Guara(GuaraEvent::Typing {
            conversation_id: taina_core::ConversationId::from_random([n; 21]),
            user_id: UserId::from_random([n; 21]),
            active: true,
        }))
    }

    fn got(n: u8) -> Received {
        Received::Event(typing(n))
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
        assert_eq!(a.next().await, got(1));
        assert_eq!(a.next().await, got(2));
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
            assert_eq!(fast.next().await, got(n));
        }
        assert_eq!(slow.next().await, Received::Resync);
        // What came after the overflow is still delivered.
        let rest: Vec<_> = std::iter::from_fn(|| slow.try_next()).collect();
        assert_eq!(rest, vec![got(8), got(9)]);
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
        assert_eq!(hers.try_next(), Some(got(1)));
    }

    #[tokio::test]
    async fn following_for_a_user_reaches_every_one_of_their_queues_only() {
        let local = Arc::new(LocalBus::new());
        let bus: Arc<dyn Bus> = local.clone();
        let ana = UserId::from_random([1; 21]);
        let bia = UserId::from_random([2; 21]);
        let mut phone = Subscription::new(bus.clone(), 8, Some(ana.clone()));
        let mut laptop = Subscription::new(bus.clone(), 8, Some(ana.clone()));
        let mut hers = Subscription::new(bus.clone(), 8, Some(bia.clone()));
        phone.follow(Topic::User(ana.clone()));
        laptop.follow(Topic::User(ana.clone()));
        hers.follow(Topic::User(bia));
        bus.follow_user(&topic(9), &ana);
        bus.publish(&topic(9), typing(1));
        assert_eq!(phone.try_next(), Some(got(1)));
        assert_eq!(laptop.try_next(), Some(got(1)));
        assert!(hers.try_next().is_none());
        // What the bus made them follow goes with them.
        drop((phone, laptop, hers));
        assert_eq!(local.topics(), 0);
    }

    #[tokio::test]
    async fn resyncing_all_tells_every_subscription_once() {
        let local = Arc::new(LocalBus::new());
        let bus: Arc<dyn Bus> = local.clone();
        let mut a = Subscription::new(bus.clone(), 8, None);
        let mut b = Subscription::new(bus.clone(), 8, None);
        a.follow(topic(1));
        a.follow(topic(2));
        b.follow(topic(2));
        bus.publish(&topic(1), typing(1));
        local.resync_all();
        assert_eq!(a.try_next(), Some(Received::Resync));
        assert_eq!(a.try_next(), None, "once, and what was queued is dropped");
        assert_eq!(b.try_next(), Some(Received::Resync));
        bus.publish(&topic(2), typing(2));
        assert_eq!(b.try_next(), Some(got(2)));
    }

    #[tokio::test]
    async fn dropping_unfollows() {
        let bus = Arc::new(LocalBus::new());
        let mut s = Subscription::new(bus.clone(), 4, None);
        s.follow(topic(1));
        drop(s);
        assert_eq!(bus.topics(), 0);
    }

    #[tokio::test]
    async fn closing_ends_every_subscription_after_what_is_queued() {
        let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
        let mut s = Subscription::new(bus.clone(), 8, None);
        s.follow(topic(1));
        bus.publish(&topic(1), typing(1));
        bus.close();
        assert_eq!(s.next().await, got(1));
        assert_eq!(s.next().await, Received::Closed);
        // A subscription made afterwards is closed from the start.
        let mut late = Subscription::new(bus.clone(), 8, None);
        late.follow(topic(1));
        assert_eq!(late.next().await, Received::Closed);
    }
}
