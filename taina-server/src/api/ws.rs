//! `/api/v1/ws`: the realtime socket. The server pushes the events of the person's conversations
//! (Guará's bus) and of their community's files and photos they may see, as
//! `{"type": "<event name>", "data": {...}}`; the client sends `{"type": "typing",
//! "conversation_id", "typing": true|false}`, `{"type": "idle", "idle": true|false}` and
//! `{"type": "ping"}` (answered `{"type": "pong"}`). A client that falls behind receives
//! `{"type": "resync"}` and catches up through the API.
//!
//! The socket lives no longer than its session: signing out, a revoked session, a password change,
//! a disabled or removed account close it with [`socket::CLOSE_SESSION_ENDED`], a role change with
//! [`socket::CLOSE_ACCESS_CHANGED`] (reconnect), and the session is checked again on every
//! heartbeat. Client frames are bounded in size and rate, and a socket that cannot keep up is
//! closed rather than allowed to hold anything up (`taina_core::socket` holds the limits).

use super::constraints::string_schema;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use taina::accounts::{Ended, SessionWatch};
use taina::core::socket::{self, FrameBudget, FrameVerdict};
use taina::core::wire::{ClientFrame, ErrorCode, ServerFrame};
use taina::core::{Actor, Error as DomainError};
use taina::feed::{Feed, FeedItem};

use crate::auth::{Auth, token};
use crate::client::Client;
use crate::{ApiError, AppState};

/// Upgrades an authenticated request. A cookie-authenticated upgrade must come from our own origin
/// (browsers send cookies on cross-site WebSocket handshakes).
#[utoipa::path(get, path = "/ws", tag = "realtime",
    description = "The realtime socket (WebSocket upgrade). The server sends `{\"type\": \"<event name>\", \"data\": {...}}` \
        (`message.created`, `message.updated`, `message.deleted`, `reaction.added`, `reaction.removed`, `read`, \
        `typing`, `presence`, `conversation.*`, `file.*`, `folder.*`, `photo.*`), `{\"type\": \"resync\"}` when the client \
        fell behind (catch up through the API), `{\"type\": \"pong\"}` and `{\"type\": \"error\", \"data\": {\"message\"}}`. \
        The client sends `{\"type\": \"typing\", \"conversation_id\", \"typing\": true|false}`, \
        `{\"type\": \"idle\", \"idle\": true|false}` and `{\"type\": \"ping\"}`.",
    params(
        ("Connection" = inline(UpgradeConnection), Header, description = "`Upgrade` (RFC 6455)"),
        ("Upgrade" = inline(UpgradeProtocol), Header, description = "`websocket`"),
        ("Sec-WebSocket-Version" = inline(WebSocketVersion), Header, description = "`13`"),
        ("Sec-WebSocket-Key" = inline(WebSocketKey), Header, description = "16 random bytes in base64"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol",
            headers(
                ("Upgrade" = String, description = "`websocket`"),
                ("Connection" = String, description = "`upgrade`"),
                ("Sec-WebSocket-Accept" = String, description = "The key's answer (RFC 6455)"),
            )),
        (status = 400, description = "Not a WebSocket upgrade request", body = crate::openapi::ErrorBody),
        (status = 429, description = "Too many sockets open for this person", body = crate::openapi::ErrorBody),
    ))]
pub(super) async fn upgrade(
    State(state): State<AppState>,
    Auth(actor): Auth,
    client: Client,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let key_ok = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|k| k.to_str().ok())
        .and_then(|k| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(k.trim())
                .ok()
        })
        .is_some_and(|key| key.len() == 16);
    if ws.is_ok() && !key_ok {
        return Err(ApiError::request(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455)",
        ));
    }
    let ws = ws.map_err(|rejection| {
        ApiError::request(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!("not a WebSocket upgrade: {}", rejection.body_text()),
        )
    })?;
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
    let watch = state
        .taina
        .accounts()
        .watch(&actor, socket::MAX_SOCKETS_PER_PERSON)?;
    let feed = state.taina.subscribe(&actor).await?;
    Ok(ws
        .max_frame_size(socket::MAX_CLIENT_FRAME_BYTES)
        .max_message_size(socket::MAX_CLIENT_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let streams = Streams { watch, feed };
            if let Err(e) = run(state, actor, socket, streams).await {
                tracing::debug!(error = %e, "websocket closed");
            }
        }))
}

// The handshake's headers, for the document (RFC 6455 §4.1).
string_schema!(UpgradeConnection, "`Connection: Upgrade`.", enum "Upgrade");
string_schema!(UpgradeProtocol, "`Upgrade: websocket`.", enum "websocket");
string_schema!(WebSocketVersion, "`Sec-WebSocket-Version: 13`.", enum "13");
string_schema!(WebSocketKey, "`Sec-WebSocket-Key`: 16 bytes in base64.", pattern "^[A-Za-z0-9+/]{21}[AQgw]==$");

/// Whether the page that opens the socket is ours: its `Origin` is the origin the client used to
/// reach us (a request without `Origin` does not come from a browser page).
fn same_origin(headers: &HeaderMap, client: &Client) -> bool {
    match headers.get(header::ORIGIN).map(|h| h.to_str()) {
        None => true,
        // Scheme and host both: a page served over plain HTTP is not the HTTPS site.
        Some(Ok(origin)) => {
            let normal = |o: &str| o.trim_end_matches('/').to_ascii_lowercase();
            origin.contains("://") && normal(origin) == normal(&client.origin)
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

/// What a socket follows: its session, and the person's feed.
struct Streams {
    watch: SessionWatch,
    feed: Feed,
}

/// Why the loop stopped, and how to close.
enum Stop {
    /// The client closed, or the connection is gone: nothing more to send.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

/// What one turn of the loop produced.
enum Turn {
    Send(String),
    Nothing,
    Stop(Stop),
}

async fn run(
    state: AppState,
    actor: Actor,
    mut socket: WebSocket,
    streams: Streams,
) -> Result<(), String> {
    state.metrics.websockets.inc();
    let _open = Open(state.metrics.clone());
    let Streams {
        mut watch,
        mut feed,
    } = streams;
    let guara = state.taina.guara();
    let connection = guara.connect(&actor).await.map_err(|e| e.to_string())?;
    let mut heartbeat = tokio::time::interval(socket::HEARTBEAT);
    heartbeat.tick().await;
    let mut budget = FrameBudget::new(state.taina.now());
    let stop = loop {
        let turn = tokio::select! {
            // Checked first: nothing more goes out once the session has ended.
            biased;
            why = watch.ended() => Turn::Stop(closing(why)),
            item = feed.next() => match item {
                Some(FeedItem::Event(event)) => match event.to_frame() {
                    Ok(frame) => Turn::Send(frame),
                    Err(_) => Turn::Nothing,
                },
                Some(FeedItem::Resync) => Turn::Send(ServerFrame::Resync.to_text()),
                None => Turn::Stop(Stop::Close(socket::CLOSE_RESTARTING, "the server is stopping")),
            },
            _ = heartbeat.tick() => match state.taina.accounts().recheck(&actor).await {
                Ok(Some(why)) => Turn::Stop(closing(why)),
                Ok(None) | Err(_) => {
                    match send(&mut socket, Frame::Ping(Default::default())).await {
                        Ok(()) => Turn::Nothing,
                        Err(stop) => Turn::Stop(stop),
                    }
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Frame::Text(text))) => match budget.spend(state.taina.now()) {
                    FrameVerdict::Handle => {
                        match handle(&state, &actor, &connection, text.as_str()).await {
                            Some(frame) => Turn::Send(frame),
                            None => Turn::Nothing,
                        }
                    }
                    FrameVerdict::Refuse => Turn::Send(error_frame("too many frames; slow down")),
                    FrameVerdict::Close => {
                        Turn::Stop(Stop::Close(socket::CLOSE_TOO_MANY_FRAMES, "too many frames"))
                    }
                },
                Some(Ok(Frame::Close(_))) | None => Turn::Stop(Stop::Gone),
                Some(Ok(_)) => Turn::Nothing,
                // Frames over the size limit end here, before they are read whole.
                Some(Err(_)) => Turn::Stop(Stop::Close(socket::CLOSE_TOO_BIG, "frame refused")),
            },
        };
        match turn {
            Turn::Send(frame) => {
                if let Err(stop) = send(&mut socket, Frame::Text(frame.into())).await {
                    break stop;
                }
            }
            Turn::Nothing => {}
            Turn::Stop(stop) => break stop,
        }
    };
    if let Stop::Close(code, reason) = stop {
        let close = Frame::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(socket::SEND_TIMEOUT, socket.send(close)).await;
    }
    let _ = connection.close().await;
    Ok(())
}

/// How a socket whose session ended, or whose access changed, is closed.
fn closing(why: Ended) -> Stop {
    match why {
        Ended::SessionEnded => Stop::Close(
            socket::CLOSE_SESSION_ENDED,
            "the session ended; sign in again",
        ),
        Ended::AccessChanged => Stop::Close(
            socket::CLOSE_ACCESS_CHANGED,
            "your access changed; reconnect",
        ),
    }
}

/// Sends a frame, giving up on a socket that cannot take it within [`socket::SEND_TIMEOUT`].
async fn send(socket: &mut WebSocket, frame: Frame) -> Result<(), Stop> {
    match tokio::time::timeout(socket::SEND_TIMEOUT, socket.send(frame)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Stop::Gone),
        Err(_) => {
            tracing::info!("closing a socket that could not keep up");
            Err(Stop::Gone)
        }
    }
}

/// Answers a client frame (an error frame for bad input; the socket stays open).
async fn handle(
    state: &AppState,
    actor: &Actor,
    connection: &taina::guara::Connection,
    text: &str,
) -> Option<String> {
    let frame: ClientFrame = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(e) => return Some(error_frame(&e.to_string())),
    };
    let result = match frame {
        ClientFrame::Ping => return Some(ServerFrame::Pong.to_text()),
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
    ServerFrame::Error {
        message: message.to_owned(),
    }
    .to_text()
}
