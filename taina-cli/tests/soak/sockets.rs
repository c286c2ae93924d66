//! Each person's realtime socket (`/api/v1/ws`, bearer token), open for the whole load: a reader
//! task records every `message.created` it hears (by the sender's client key, with the instant it
//! arrived) and the latest `seq` of each conversation, and reports a socket the server dropped, an
//! error frame or a `resync` (the server dropping events for a client that fell behind); the
//! person sends `typing` frames through it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Stream = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// What one socket has heard, shared by its reader task and its person.
#[derive(Debug, Default)]
pub struct Inbox {
    /// `message.created` by client key: when it arrived.
    messages: Mutex<HashMap<String, Instant>>,
    /// The highest `seq` heard per conversation.
    latest_seq: Mutex<HashMap<String, i64>>,
    /// `typing` events heard (others typing).
    pub typing_heard: AtomicU64,
    /// Frames heard in all.
    pub frames: AtomicU64,
    /// What went wrong on this socket, in words.
    problems: Mutex<Vec<String>>,
}

impl Inbox {
    /// When the message with `client_key` arrived, if it did.
    pub fn arrived(&self, client_key: &str) -> Option<Instant> {
        self.messages
            .lock()
            .expect("the inbox")
            .get(client_key)
            .copied()
    }

    /// The highest `seq` heard in `conversation`.
    pub fn latest_seq(&self, conversation: &str) -> Option<i64> {
        self.latest_seq
            .lock()
            .expect("the inbox")
            .get(conversation)
            .copied()
    }

    /// Raises the highest `seq` known in `conversation` (from a history page or a send).
    pub fn saw_seq(&self, conversation: &str, seq: i64) {
        let mut latest = self.latest_seq.lock().expect("the inbox");
        let known = latest.entry(conversation.to_owned()).or_insert(seq);
        *known = (*known).max(seq);
    }

    /// What went wrong on this socket.
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().expect("the inbox").clone()
    }

    fn problem(&self, what: String) {
        self.problems.lock().expect("the inbox").push(what);
    }

    fn hear(&self, text: &str) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        let frame: Value = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(e) => return self.problem(format!("a frame that is not JSON ({e}): {text}")),
        };
        match frame["type"].as_str().unwrap_or_default() {
            "message.created" => {
                let data = &frame["data"];
                if let Some(key) = data["client_key"].as_str() {
                    self.messages
                        .lock()
                        .expect("the inbox")
                        .insert(key.to_owned(), Instant::now());
                }
                if let (Some(conversation), Some(seq)) =
                    (data["conversation_id"].as_str(), data["seq"].as_i64())
                {
                    self.saw_seq(conversation, seq);
                }
            }
            "typing" => {
                self.typing_heard.fetch_add(1, Ordering::Relaxed);
            }
            "error" => self.problem(format!("an error frame: {text}")),
            "resync" => self.problem("told to resync: the server dropped its events".to_owned()),
            _ => {}
        }
    }
}

/// A person's open socket.
pub struct Socket {
    sink: tokio::sync::Mutex<SplitSink<Stream, Frame>>,
    /// What it has heard.
    pub inbox: Arc<Inbox>,
    closing: Arc<AtomicBool>,
    reader: tokio::task::JoinHandle<()>,
}

impl Socket {
    /// Opens `ws://…/api/v1/ws` for `token` and starts reading it; `who` names it in reports.
    pub async fn open(base: &str, token: &str, who: String) -> Result<Socket, String> {
        let url = format!("{}api/v1/ws", base.replacen("http://", "ws://", 1));
        let mut request = url
            .into_client_request()
            .map_err(|e| format!("socket request: {e}"))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|e| format!("bearer header: {e}"))?;
        request.headers_mut().insert("authorization", bearer);
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| format!("{who}: open the socket: {e}"))?;
        let (sink, stream) = stream.split();
        let inbox = Arc::new(Inbox::default());
        let closing = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(read(stream, inbox.clone(), closing.clone(), who));
        Ok(Socket {
            sink: tokio::sync::Mutex::new(sink),
            inbox,
            closing,
            reader,
        })
    }

    /// Says I am typing (or stopped) in `conversation`.
    pub async fn typing(&self, conversation: &str, typing: bool) -> Result<(), String> {
        let frame = json!({"type": "typing", "conversation_id": conversation, "typing": typing});
        self.sink
            .lock()
            .await
            .send(Frame::Text(frame.to_string().into()))
            .await
            .map_err(|e| format!("send a typing frame: {e}"))
    }

    /// Closes the socket (a close frame, then waits for the server's) and stops reading it.
    pub async fn close(self) {
        self.closing.store(true, Ordering::SeqCst);
        let _ = self.sink.lock().await.send(Frame::Close(None)).await;
        let mut reader = self.reader;
        if tokio::time::timeout(Duration::from_secs(10), &mut reader)
            .await
            .is_err()
        {
            reader.abort();
        }
    }
}

/// Reads frames until the socket ends; an end nobody asked for is a problem.
async fn read(
    mut stream: SplitStream<Stream>,
    inbox: Arc<Inbox>,
    closing: Arc<AtomicBool>,
    who: String,
) {
    let end = loop {
        match stream.next().await {
            Some(Ok(Frame::Text(text))) => inbox.hear(text.as_str()),
            Some(Ok(Frame::Close(close))) => break format!("closed by the server: {close:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => break format!("broken: {e}"),
            None => break "ended".to_owned(),
        }
    };
    if !closing.load(Ordering::SeqCst) {
        inbox.problem(format!("{who}'s socket dropped during the run: {end}"));
    }
}
