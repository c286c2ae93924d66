//! The realtime subscription: the server's socket (`ws://` or `wss://`), delivered to a listener
//! the app implements, reconnecting with back-off. Nothing is missed: the subscription knows the
//! last `seq` it delivered in each conversation, and after every (re)connection, or when the
//! server says the socket fell behind, it fetches what came in meanwhile and delivers those
//! messages as `message.created` first; then `resync` tells the app to refresh the rest (edits,
//! files, photos). Dropping (or cancelling) the [`Subscription`] ends it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use taina_core::ConversationId;
use taina_core::wire::{ClientFrame, ErrorBody, ErrorCode, ServerFrame};
use taina_guara::message::Message;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::{Client, ClientError};

/// What the server pushed.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RealtimeEvent {
    /// The event's name: `message.created`, `message.updated`, `typing`, `presence`, `resync`,
    /// ...; and `unauthenticated` when the session ended, after which the subscription stops.
    pub kind: String,
    /// The conversation it is about, if any.
    pub conversation_id: Option<String>,
    /// The message, for `message.created` and `message.updated`.
    pub message: Option<Message>,
    /// Whether the subscription fetched it while catching up (rather than hearing it live).
    pub caught_up: bool,
    /// The whole event as the server sent it (JSON), for the kinds without a typed field.
    pub json: String,
}

/// Hears the subscription (implemented by the app).
pub trait EventListener: Send + Sync {
    /// An event arrived.
    fn on_event(&self, event: RealtimeEvent);
    /// The socket connected and what was missed is delivered (`true`), or it was lost and is
    /// being retried (`false`).
    fn on_connection(&self, connected: bool);
}

/// A running subscription; it ends when cancelled or dropped.
pub struct Subscription {
    task: tokio::task::JoinHandle<()>,
    outgoing: mpsc::UnboundedSender<String>,
}

impl Subscription {
    /// Tells the others in a conversation that I am typing (or stopped).
    pub fn set_typing(&self, conversation_id: String, typing: bool) {
        // Typing is a hint: dropped when the socket is down, or for an id that names nothing.
        let Ok(conversation_id) = ConversationId::parse(&conversation_id) else {
            return;
        };
        let frame = ClientFrame::Typing {
            conversation_id,
            typing,
        };
        let _ = self.outgoing.send(frame.to_text());
    }

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

/// The last `seq` delivered, per conversation.
type Seen = HashMap<String, i64>;

/// Starts following `client`'s server.
pub(crate) fn start(client: Arc<Client>, listener: Arc<dyn EventListener>) -> Subscription {
    let (outgoing, mut queued) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut wait = Duration::from_millis(500);
        let mut seen: Option<Seen> = None;
        let mut connected_before = false;
        loop {
            let outcome = match seen.as_mut() {
                None => baseline(&client).await.map(|s| {
                    seen = Some(s);
                }),
                Some(seen) => {
                    follow(
                        &client,
                        &listener,
                        &mut queued,
                        seen,
                        &mut connected_before,
                        &mut wait,
                    )
                    .await
                }
            };
            match outcome {
                // The baseline is in: connect straight away.
                Ok(()) if !connected_before => continue,
                // The session ended (signed out, or ended from another device): retrying cannot
                // help; the app hears it once and signs in again.
                Err(ClientError::Api { status: 401, .. }) => {
                    listener.on_connection(false);
                    listener.on_event(RealtimeEvent {
                        kind: "unauthenticated".into(),
                        conversation_id: None,
                        message: None,
                        caught_up: false,
                        json: r#"{"type":"unauthenticated"}"#.into(),
                    });
                    return;
                }
                _ => {}
            }
            if connected_before {
                listener.on_connection(false);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    });
    Subscription { task, outgoing }
}

/// Where each conversation stands before the socket is opened.
async fn baseline(client: &Client) -> Result<Seen, ClientError> {
    Ok(client
        .conversations()
        .await?
        .into_iter()
        .map(|c| (c.conversation.id.to_string(), c.conversation.last_seq))
        .collect())
}

/// Delivers every message that arrived since `seen`, as `message.created`.
async fn catch_up(
    client: &Client,
    listener: &Arc<dyn EventListener>,
    seen: &mut Seen,
) -> Result<(), ClientError> {
    for summary in client.conversations().await? {
        let id = summary.conversation.id.to_string();
        let known = seen.get(&id).copied().unwrap_or(0);
        if summary.conversation.last_seq <= known {
            continue;
        }
        for message in client.messages_after(&id, known).await? {
            seen.insert(id.clone(), message.seq);
            let json = serde_json::json!({ "type": "message.created", "data": &message });
            listener.on_event(RealtimeEvent {
                kind: "message.created".into(),
                conversation_id: Some(id.clone()),
                message: Some(message),
                caught_up: true,
                json: json.to_string(),
            });
        }
    }
    Ok(())
}

fn resync() -> RealtimeEvent {
    RealtimeEvent {
        kind: "resync".into(),
        conversation_id: None,
        message: None,
        caught_up: false,
        json: ServerFrame::Resync.to_text(),
    }
}

/// One connection, until it ends; once it is up, the back-off starts again from its shortest.
async fn follow(
    client: &Client,
    listener: &Arc<dyn EventListener>,
    queued: &mut mpsc::UnboundedReceiver<String>,
    seen: &mut Seen,
    connected_before: &mut bool,
    wait: &mut Duration,
) -> Result<(), ClientError> {
    let network = |e: &dyn std::fmt::Display| ClientError::Network {
        message: e.to_string(),
    };
    let url = format!(
        "{}/api/v1/ws",
        client
            .base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    );
    let mut request = url.into_client_request().map_err(|e| network(&e))?;
    let auth = format!("Bearer {}", client.token_or_err()?)
        .parse()
        .map_err(|e| network(&e))?;
    request.headers_mut().insert("authorization", auth);
    let (mut socket, _) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        true,
        Some(client.tls.connector()),
    )
    .await
    .map_err(|e| match e {
        // The refusal carries the server's error when it came from the API (401, 429, ...).
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            let status = response.status();
            match response
                .body()
                .as_deref()
                .and_then(|body| serde_json::from_slice::<ErrorBody>(body).ok())
            {
                Some(body) => ClientError::Api {
                    status: status.as_u16(),
                    code: body.error.code,
                    message: body.error.message,
                    field: body.error.field,
                },
                None => ClientError::Api {
                    status: status.as_u16(),
                    code: ErrorCode::Unknown,
                    message: format!("the server refused the socket ({status})"),
                    field: None,
                },
            }
        }
        e => network(&e),
    })?;
    // Drop typing hints queued while the socket was down: they are stale.
    while queued.try_recv().is_ok() {}
    // What came in between the last look and this socket is fetched; what comes after arrives
    // on the socket (and what arrives twice is delivered once, by `seq`). Then the app hears
    // that it is connected, and up to date.
    catch_up(client, listener, seen).await?;
    *wait = Duration::from_millis(500);
    listener.on_connection(true);
    if std::mem::replace(connected_before, true) {
        listener.on_event(resync());
    }
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Frame::Text(text))) => {
                    let event = event(text.as_str());
                    if event.kind == "resync" {
                        catch_up(client, listener, seen).await?;
                        listener.on_event(event);
                    } else if let Some(event) = first_time(event, seen) {
                        listener.on_event(event);
                    }
                }
                // The server ends the socket with the session: reconnecting cannot help.
                Some(Ok(Frame::Close(Some(close))))
                    if u16::from(close.code) == taina_core::socket::CLOSE_SESSION_ENDED =>
                {
                    return Err(ClientError::Api {
                        status: 401,
                        code: ErrorCode::Unauthenticated,
                        message: close.reason.to_string(),
                        field: None,
                    });
                }
                Some(Ok(Frame::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(network(&e)),
            },
            Some(frame) = queued.recv() => {
                socket.send(Frame::Text(frame.into())).await.map_err(|e| network(&e))?;
            }
            _ = ping.tick() => {
                socket
                    .send(Frame::Text(ClientFrame::Ping.to_text().into()))
                    .await
                    .map_err(|e| network(&e))?;
            }
        }
    }
}

/// `event`, unless it is a message already delivered (while catching up); notes the `seq` of a
/// new one.
fn first_time(event: RealtimeEvent, seen: &mut Seen) -> Option<RealtimeEvent> {
    if event.kind != "message.created" {
        return Some(event);
    }
    let Some(message) = &event.message else {
        return Some(event);
    };
    let last = seen.entry(message.conversation_id.to_string()).or_insert(0);
    if message.seq <= *last {
        return None;
    }
    *last = message.seq;
    Some(event)
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
        caught_up: false,
        json: text.to_owned(),
    }
}

impl Client {
    /// Follows the realtime events of my conversations, files and photos until the returned
    /// subscription is cancelled or dropped.
    pub async fn subscribe(
        self: Arc<Self>,
        listener: Arc<dyn EventListener>,
    ) -> Result<Arc<Subscription>, ClientError> {
        self.token_or_err()?;
        Ok(Arc::new(start(self, listener)))
    }
}
