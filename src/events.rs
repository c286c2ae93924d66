//! The in-process event bus: services publish domain events after their changes commit, front ends
//! subscribe. Bounded: a subscriber that falls behind loses the oldest events and is told so by
//! `RecvError::Lagged`, which it answers by resynchronising through the API.

use taina_core::Event;
use tokio::sync::broadcast;

/// Events kept for slow subscribers before they lag.
const CAPACITY: usize = 1024;

/// Publishes events to every subscriber.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus with no subscribers.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        Self { tx }
    }

    /// Sends `event` to everyone subscribed now (nobody listening is fine).
    pub fn publish(&self, event: Event) {
        tracing::debug!(event = event.event.name(), community = %event.community_id, "publish");
        let _ = self.tx.send(event);
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
