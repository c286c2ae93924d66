//! One real server for tests (feature `testing`): [`TestServer`] serves the real router on an
//! ephemeral `127.0.0.1` port over a test instance (or any [`Taina`] handle, whatever its
//! configuration) until dropped, and calls it over HTTP the way a client would — sign-in,
//! multipart uploads, the realtime socket. The socket helpers ([`next_of`], [`next_within`],
//! [`frames_within`]), the API's error shape ([`error`]) and the shared fixture photos
//! ([`fixture_photo`]) sit beside it.
//!
//! Everything here fails loudly (it panics with a message): it exists for tests.

use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use taina::Taina;
use taina::testing::{PASSWORD, TestInstance};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A client's realtime socket to a [`TestServer`].
pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The real server on `127.0.0.1:0`, serving until dropped (which, like a signal to `taina serve`,
/// ends the instance's live feeds: its sockets close with 1012).
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT` (or `https://`, see [`TestServer::start_with_scheme`]).
    pub base: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// A plain client (no cookies) for the calls made through the server's helpers.
    pub client: Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    /// Serves `t` over plain HTTP.
    pub async fn start(t: &TestInstance) -> TestServer {
        TestServer::serve(&t.taina, "http").await
    }

    /// Serves `t`; `scheme` only names the URL (the instance's configuration decides on TLS).
    pub async fn start_with_scheme(t: &TestInstance, scheme: &str) -> TestServer {
        TestServer::serve(&t.taina, scheme).await
    }

    /// Serves `taina` (opened with any configuration); `scheme` names the URL as above.
    pub async fn serve(taina: &Taina, scheme: &str) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("the listener's address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let taina = taina.clone();
        tokio::spawn(async move {
            let feeds = taina.clone();
            crate::serve(listener, taina, async move {
                let _ = stopped.await;
                // Dropping the server stops the instance, as a signal stops `taina serve`.
                feeds.end_feeds();
            })
            .await
            .expect("the test server stopped with an error");
        });
        TestServer {
            base: format!("{scheme}://{addr}"),
            addr,
            client: Client::new(),
            _stop: stop,
        }
    }

    /// A URL under `/api/v1`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A URL at the server's root.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /api/v1/auth/login` with `email` and `password`, as it answers.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.api("/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("send the login")
    }

    /// Signs `email` in with the test password ([`PASSWORD`]), expecting 200, and answers the
    /// session's token.
    pub async fn sign_in(&self, email: &str) -> String {
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "sign in {email}");
        token_of(response).await
    }

    /// `POST /api/v1/auth/register` with `invite`, `email`, the test password and the display
    /// name "Newcomer", as it answers.
    pub async fn register(&self, invite: &str, email: &str) -> Response {
        self.client
            .post(self.api("/auth/register"))
            .json(&json!({
                "invite": invite, "email": email, "password": PASSWORD, "display_name": "Newcomer",
            }))
            .send()
            .await
            .expect("send the registration")
    }

    /// Signs a newcomer up with `invite` (as [`TestServer::register`]), expecting 201, and
    /// answers the session's token.
    pub async fn sign_up(&self, invite: &str, email: &str) -> String {
        let response = self.register(invite, email).await;
        assert_eq!(response.status(), StatusCode::CREATED, "sign up {email}");
        token_of(response).await
    }

    /// `POST path` (under `/api/v1`) with a multipart `form`, as `token`, as it answers.
    pub async fn post_form(
        &self,
        token: &str,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> Response {
        self.client
            .post(self.api(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("send the form")
    }

    /// A multipart upload of `bytes` named `name` to `path` (`/files` or `/photos`), as `token`:
    /// the text `fields` first, then the `file` part. Answers the response as it is.
    pub async fn upload(
        &self,
        token: &str,
        path: &str,
        name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Response {
        self.post_form(token, path, upload_form(name, bytes, fields))
            .await
    }

    /// The socket's URL (`ws://…/api/v1/ws`, or `wss://` over HTTPS).
    pub fn ws_url(&self) -> String {
        format!("{}/api/v1/ws", self.base.replacen("http", "ws", 1))
    }

    /// Opens the realtime socket with `token` as a bearer token; a refusal answers its status.
    pub async fn try_socket(&self, token: &str) -> Result<Socket, StatusCode> {
        match tokio_tungstenite::connect_async(bearer_request(&self.ws_url(), token)).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(StatusCode::from_u16(response.status().as_u16()).expect("a refusal's status"))
            }
            Err(e) => panic!("connecting the socket: {e}"),
        }
    }

    /// Opens the realtime socket with `token` as a bearer token.
    pub async fn socket(&self, token: &str) -> Socket {
        match self.try_socket(token).await {
            Ok(ws) => ws,
            Err(status) => panic!("the socket was refused: {status}"),
        }
    }

    /// Opens the realtime socket with `token` over plain HTTP from a TCP socket whose receive
    /// buffer is `recv_buffer` bytes when given (a slow reader).
    pub async fn socket_with_buffer(&self, token: &str, recv_buffer: Option<u32>) -> Socket {
        let tcp = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        if let Some(size) = recv_buffer {
            tcp.set_recv_buffer_size(size)
                .expect("set the receive buffer");
        }
        let stream = tcp.connect(self.addr).await.expect("connect to the server");
        let request = bearer_request(&format!("ws://{}/api/v1/ws", self.addr), token);
        tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .expect("open the socket")
            .0
    }
}

/// A socket request to `url` with `token` as a bearer token.
fn bearer_request(
    url: &str,
    token: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().expect("a socket URL");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("a header value"),
    );
    request
}

/// The `token` of a sign-in's (or sign-up's) JSON answer.
async fn token_of(response: Response) -> String {
    let body = json(response).await;
    body["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_owned()
}

/// A multipart form with the text `fields` first, then a `file` part of `bytes` named `name`.
pub fn upload_form(
    name: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (field, value) in fields {
        form = form.text((*field).to_owned(), (*value).to_owned());
    }
    form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    )
}

/// The next text frame of `kind` on `ws`, skipping others, within two seconds.
pub async fn next_of<S>(ws: &mut WebSocketStream<S>, kind: &str) -> Value
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    next_within(ws, kind, Duration::from_secs(2)).await
}

/// The next text frame of `kind` on `ws`, skipping others, within `within`; the socket closing
/// first fails the test.
pub async fn next_within<S>(ws: &mut WebSocketStream<S>, kind: &str, within: Duration) -> Value
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                Some(Ok(Frame::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).expect("a JSON frame");
                    if v["type"] == kind {
                        return v;
                    }
                }
                Some(Ok(Frame::Close(close))) => {
                    panic!("closed ({close:?}) while waiting for {kind}")
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("socket error while waiting for {kind}: {e}"),
                None => panic!("the socket ended while waiting for {kind}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} frame"))
}

/// Every text frame that arrives on `ws` within `wait`.
pub async fn frames_within<S>(ws: &mut WebSocketStream<S>, wait: Duration) -> Vec<Value>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut frames = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        while let Some(Ok(frame)) = ws.next().await {
            if let Frame::Text(text) = frame {
                frames.push(serde_json::from_str(text.as_str()).expect("a JSON frame"));
            }
        }
    })
    .await;
    frames
}

/// The JSON body of a response.
pub async fn json(response: Response) -> Value {
    let url = response.url().to_string();
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{url}: not JSON: {e}"))
}

/// Asserts `status` and the API's error shape, and answers the `error` object.
pub async fn error(response: Response, status: StatusCode) -> Value {
    let url = response.url().to_string();
    assert_eq!(response.status(), status, "{url}");
    let body = json(response).await;
    assert!(body["error"]["code"].is_string(), "{url}: {body}");
    assert!(body["error"]["message"].is_string(), "{url}: {body}");
    body["error"].clone()
}

/// The path of a photo among the shared fixtures (`tests/fixtures/photos/` of the workspace).
pub fn fixture_photo_path(name: &str) -> String {
    format!(
        "{}/../tests/fixtures/photos/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A photo from the shared fixtures.
pub fn fixture_photo(name: &str) -> Vec<u8> {
    let path = fixture_photo_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
