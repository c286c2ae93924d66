//! The realtime subscription: the app's listener, and the running subscription it holds.

use std::sync::Arc;

use taina_client::{ClientError, RealtimeEvent};

use crate::TainaClient;

/// Hears the subscription (implemented by the app).
#[uniffi::export(with_foreign)]
pub trait EventListener: Send + Sync {
    /// An event arrived.
    fn on_event(&self, event: RealtimeEvent);
    /// The socket connected and what was missed is delivered (`true`), or it was lost and is
    /// being retried (`false`).
    fn on_connection(&self, connected: bool);
}

/// The app's listener, as the client hears through it.
struct Listener(Arc<dyn EventListener>);

impl taina_client::EventListener for Listener {
    fn on_event(&self, event: RealtimeEvent) {
        self.0.on_event(event);
    }

    fn on_connection(&self, connected: bool) {
        self.0.on_connection(connected);
    }
}

/// A running subscription; it ends when cancelled or dropped.
#[derive(uniffi::Object)]
pub struct Subscription(Arc<taina_client::Subscription>);

#[uniffi::export]
impl Subscription {
    /// Tells the others in a conversation that I am typing (or stopped).
    pub fn set_typing(&self, conversation_id: String, typing: bool) {
        self.0.set_typing(conversation_id, typing);
    }

    /// Ends the subscription.
    pub fn cancel(&self) {
        self.0.cancel();
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl TainaClient {
    /// Follows the realtime events of my conversations, files and photos until the returned
    /// subscription is cancelled or dropped.
    pub async fn subscribe(
        &self,
        listener: Arc<dyn EventListener>,
    ) -> Result<Arc<Subscription>, ClientError> {
        let listener: Arc<dyn taina_client::EventListener> = Arc::new(Listener(listener));
        let subscription = self.0.clone().subscribe(listener).await?;
        Ok(Arc::new(Subscription(subscription)))
    }
}
