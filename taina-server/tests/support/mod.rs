//! What the server's integration tests share: a real server on an ephemeral port over a test
//! instance, and assertions on the API's error shape.
#![allow(dead_code, clippy::unwrap_used)] // Each test binary uses a part; tests fail loudly.

use reqwest::{Response, StatusCode};
use serde_json::Value;
use taina::testing::TestInstance;

/// A server running on `127.0.0.1:0` until dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT` (or `https://`).
    pub base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    /// Serves `t` over plain HTTP.
    pub async fn start(t: &TestInstance) -> Server {
        Server::start_with_scheme(t, "http").await
    }

    /// Serves `t`; `scheme` only names the URL (the instance's configuration decides on TLS).
    pub async fn start_with_scheme(t: &TestInstance, scheme: &str) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("{scheme}://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let taina = t.taina.clone();
        tokio::spawn(async move {
            taina_server::serve(listener, taina, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server { base, _stop: stop }
    }

    /// A URL under `/api/v1`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A URL at the server's root.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// The JSON body of a response.
pub async fn json(response: Response) -> Value {
    response.json().await.unwrap()
}

/// Asserts `status` and the API's error shape, and answers the `error` object.
pub async fn error(response: Response, status: StatusCode) -> Value {
    let url = response.url().to_string();
    assert_eq!(response.status(), status, "{url}");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "{url}: {body}");
    assert!(body["error"]["message"].is_string(), "{url}: {body}");
    body["error"].clone()
}

/// A photo from the shared fixtures.
pub fn fixture_photo(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/fixtures/photos/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}
