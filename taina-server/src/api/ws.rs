//! `/api/v1/ws`: the realtime socket. The server pushes the events of the person's conversations
//! (Guará's bus) and of their community's files and photos they may see, as
//! `{"type": "<event name>", "data": {...}}`; the client sends `{"type": "typing",
//! "conversation_id", "typing": true|false}`, `{"type": "idle", "idle": true|false}` and
//! `{"type": "ping"}` (answered `{"type": "pong"}`). A client that falls behind receives
//! `{"type": "resync"}` and catches up through the API.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use taina::core::{Actor, ConversationId, Error as DomainError};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Auth, token};
use crate::client::Client;
use crate::{ApiError, AppState};

/// How often the server pings an idle socket.
const HEARTBEAT: Duration = Duration::from_secs(25);

/// Frames a client sends.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Typing {
        conversation_id: ConversationId,
        typing: bool,
    },
    Idle {
        idle: bool,
    },
    Ping,
}

/// Upgrades an authenticated request. A cookie-authenticated upgrade must come from our own origin
/// (browsers send cookies on cross-site WebSocket handshakes).
#[utoipa::path(get, path = "/ws", tag = "realtime",
    description = "The realtime socket (WebSocket upgrade). The server sends `{\"type\": \"<event name>\", \"data\": {...}}` \
        (`message.created`, `message.updated`, `message.deleted`, `reaction.added`, `reaction.removed`, `read`, \
        `typing`, `presence`, `conversation.*`, `file.*`, `folder.*`, `photo.*`), `{\"type\": \"resync\"}` when the client \
        fell behind (catch up through the API), `{\"type\": \"pong\"}` and `{\"type\": \"error\", \"data\": {\"message\"}}`. \
        The client sends `{\"type\": \"typing\", \"conversation_id\", \"typing\": true|false}`, \
        `{\"type\": \"idle\", \"idle\": true|false}` and `{\"type\": \"ping\"}`.",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", body = crate::openapi::ErrorBody),
    ))]
pub(super) async fn upgrade(
    State(state): State<AppState>,
    Auth(actor): Auth,
    client: Client,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if token(&headers).is_some_and(|(_, from_cookie)| from_cookie)
        && !same_origin(&headers, &client)
    {
        return Err(DomainError::Forbidden {
            reason: "the socket must be opened from this site",
        }
        .into());
    }
    // Follow the events before the handshake answers: a client that hears it is connected
    // and then fetches what it missed has a gap of nothing.
    let feed = state.taina.guara().subscribe(&actor).await?;
    let community = state.taina.subscribe();
    Ok(ws.on_upgrade(move |socket| async move {
        if let Err(e) = run(state, actor, socket, feed, community).await {
            tracing::debug!(error = %e, "websocket closed");
        }
    }))
}

/// Whether the page that opens the socket is ours: its `Origin` is the origin the client used to
/// reach us (a request without `Origin` does not come from a browser page).
fn same_origin(headers: &HeaderMap, client: &Client) -> bool {
    match headers.get(header::ORIGIN).map(|h| h.to_str()) {
        None => true,
        Some(Ok(origin)) => {
            let host = |o: &str| {
                o.split_once("://")
                    .map(|(_, rest)| rest.trim_end_matches('/').to_owned())
            };
            host(origin).is_some_and(|h| Some(h) == host(&client.origin))
        }
        Some(Err(_)) => false,
    }
}

/// Counts an open socket while it lives.
struct Open(std::sync::Arc<crate::metrics::Metrics>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.websockets.dec();
    }
}

async fn run(
    state: AppState,
    actor: Actor,
    mut socket: WebSocket,
    mut feed: taina::guara::GuaraSubscription,
    mut community: tokio::sync::broadcast::Receiver<taina::core::Event>,
) -> Result<(), String> {
    state.metrics.websockets.inc();
    let _open = Open(state.metrics.clone());
    let guara = state.taina.guara();
    let connection = guara.connect(&actor).await.map_err(|e| e.to_string())?;
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let outcome = loop {
        let frame = tokio::select! {
            event = feed.next() => serde_json::to_string(&*event).ok(),
            event = community.recv() => match event {
                Ok(event) if event.community_id == actor.community_id
                    && event.event.visible_to(&actor.user_id) => serde_json::to_string(&event.event).ok(),
                Ok(_) => None,
                Err(RecvError::Lagged(_)) => Some(json!({"type": "resync"}).to_string()),
                Err(RecvError::Closed) => break Ok(()),
            },
            _ = heartbeat.tick() => {
                if socket.send(Frame::Ping(Default::default())).await.is_err() {
                    break Ok(());
                }
                None
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Frame::Text(text))) => handle(&state, &actor, &connection, text.as_str()).await,
                Some(Ok(Frame::Close(_))) | None => break Ok(()),
                Some(Ok(_)) => None,
                Some(Err(e)) => break Err(e.to_string()),
            },
        };
        if let Some(frame) = frame
            && socket.send(Frame::Text(frame.into())).await.is_err()
        {
            break Ok(());
        }
    };
    let _ = connection.close().await;
    outcome
}

/// Answers a client frame (an error frame for bad input; the socket stays open).
async fn handle(
    state: &AppState,
    actor: &Actor,
    connection: &taina::guara::Connection,
    text: &str,
) -> Option<String> {
    if text.len() > 4096 {
        return Some(error_frame("frame too large"));
    }
    let frame: ClientFrame = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(e) => return Some(error_frame(&e.to_string())),
    };
    let result = match frame {
        ClientFrame::Ping => return Some(json!({"type": "pong"}).to_string()),
        ClientFrame::Typing {
            conversation_id,
            typing,
        } => {
            state
                .taina
                .guara()
                .typing(actor, &conversation_id, typing)
                .await
        }
        ClientFrame::Idle { idle } => connection.set_idle(idle).await,
    };
    result.err().map(|e| error_frame(&e.public().to_string()))
}

fn error_frame(message: &str) -> String {
    json!({"type": "error", "data": {"message": message}}).to_string()
}
