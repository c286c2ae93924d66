//! A person's realtime socket (`/api/v1/ws`), read into a list of frames the test waits on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

type Sink = futures::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Frame,
>;

/// An open socket and what it heard.
pub struct Socket {
    sink: tokio::sync::Mutex<Sink>,
    frames: Arc<Mutex<Vec<Value>>>,
    closed: Arc<Mutex<bool>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Socket {
    /// Opens the socket of the bearer of `token` at `base` (`http://host:port/`).
    pub async fn open(base: &str, token: &str) -> Socket {
        let url = format!("{}api/v1/ws", base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let (sink, mut stream) = stream.split();
        let frames = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(Mutex::new(false));
        let (heard, ended) = (frames.clone(), closed.clone());
        let reader = tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                match frame {
                    Frame::Text(text) => {
                        if let Ok(value) = serde_json::from_str(text.as_str()) {
                            heard.lock().unwrap().push(value);
                        }
                    }
                    Frame::Close(_) => break,
                    _ => {}
                }
            }
            *ended.lock().unwrap() = true;
        });
        Socket {
            sink: tokio::sync::Mutex::new(sink),
            frames,
            closed,
            reader,
        }
    }

    /// Waits (10 s at most) for a frame matching `wanted`.
    pub async fn wait_for(&self, what: &str, wanted: impl Fn(&Value) -> bool) {
        for _ in 0..200 {
            if self.frames.lock().unwrap().iter().any(&wanted) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no frame for {what}; heard {:?}",
            self.frames.lock().unwrap()
        );
    }

    /// Waits (10 s at most) for the socket to end (its server died).
    pub async fn wait_closed(&self) {
        for _ in 0..200 {
            if *self.closed.lock().unwrap() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the socket stayed open");
    }

    /// Says I am typing in `conversation`.
    pub async fn typing(&self, conversation: &str) {
        let frame = json!({"type": "typing", "conversation_id": conversation, "typing": true});
        self.sink
            .lock()
            .await
            .send(Frame::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
