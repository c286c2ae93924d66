//! The realtime subscription: the server's socket, delivered to a listener the app implements,
//! reconnecting with back-off; after each reconnect the listener hears `resync` and catches up
//! through the history (messages carry their `seq`, so nothing is missed). Dropping (or
//! cancelling) the [`Subscription`] ends it.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use taina_guara::message::Message;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// What the server pushed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RealtimeEvent {
    /// The event's name: `message.created`, `message.updated`, `typing`, `presence`, `resync`, ...
    pub kind: String,
    /// The conversation it is about, if any.
    pub conversation_id: Option<String>,
    /// The message, for `message.created` and `message.updated`.
    pub message: Option<Message>,
    /// The whole event as the server sent it (JSON), for the kinds without a typed field.
    pub json: String,
}

/// Hears the subscription (implemented by the app).
#[uniffi::export(with_foreign)]
pub trait EventListener: Send + Sync {
    /// An event arrived.
    fn on_event(&self, event: RealtimeEvent);
    /// The socket connected (`true`) or was lost and is being retried (`false`).
    fn on_connection(&self, connected: bool);
}

/// A running subscription; it ends when cancelled or dropped.
#[derive(uniffi::Object)]
pub struct Subscription {
    task: tokio::task::JoinHandle<()>,
}

#[uniffi::export]
impl Subscription {
    /// Ends the subscription.
    pub fn cancel(&self) {
        self.task.abort();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts following `base`'s socket with `token`.
pub(crate) fn start(base: &str, token: String, listener: Arc<dyn EventListener>) -> Subscription {
    let url = format!(
        "{}/api/v1/ws",
        base.replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    );
    let task = tokio::spawn(async move {
        let mut wait = Duration::from_millis(500);
        let mut connected_before = false;
        loop {
            if follow(&url, &token, &listener, &mut connected_before)
                .await
                .is_ok()
            {
                wait = Duration::from_millis(500);
            }
            listener.on_connection(false);
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    });
    Subscription { task }
}

/// One connection, until it ends.
async fn follow(
    url: &str,
    token: &str,
    listener: &Arc<dyn EventListener>,
    connected_before: &mut bool,
) -> Result<(), ()> {
    let mut request = url.into_client_request().map_err(|_| ())?;
    let auth = format!("Bearer {token}").parse().map_err(|_| ())?;
    request.headers_mut().insert("authorization", auth);
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|_| ())?;
    listener.on_connection(true);
    if std::mem::replace(connected_before, true) {
        // Whatever happened while we were away is in the history.
        listener.on_event(RealtimeEvent {
            kind: "resync".into(),
            conversation_id: None,
            message: None,
            json: r#"{"type":"resync"}"#.into(),
        });
    }
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Frame::Text(text))) => listener.on_event(event(text.as_str())),
                Some(Ok(Frame::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(_)) => return Err(()),
            },
            _ = ping.tick() => {
                if socket.send(Frame::Text(r#"{"type":"ping"}"#.into())).await.is_err() {
                    return Err(());
                }
            }
        }
    }
}

fn event(text: &str) -> RealtimeEvent {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let kind = value["type"].as_str().unwrap_or_default().to_owned();
    let data = &value["data"];
    let message = matches!(kind.as_str(), "message.created" | "message.updated")
        .then(|| serde_json::from_value::<Message>(data.clone()).ok())
        .flatten();
    RealtimeEvent {
        conversation_id: data["conversation_id"].as_str().map(str::to_owned),
        kind,
        message,
        json: text.to_owned(),
    }
}
