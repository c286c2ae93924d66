//! Talking to whichever server is running: requests that wait out a restart when they could not
//! even connect, and say plainly when an answer was lost (the operation's outcome is unknown).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use super::server::Shared;

/// How long a client waits for the killer to start a server again before calling it a failure.
const RESTART_PATIENCE: Duration = Duration::from_secs(30);

/// What became of a request.
#[derive(Debug)]
pub enum Reply {
    /// A 2xx answer, received whole: the server acknowledged it.
    Done {
        /// Its headers.
        headers: HeaderMap,
        /// Its body.
        body: Bytes,
    },
    /// A 4xx answer, received whole: the server did not do it.
    Refused {
        /// Its status.
        status: StatusCode,
        /// Its body.
        body: String,
    },
    /// The connection broke after the request may have reached the server (or the server answered
    /// 5xx, which is recorded as a failure): it may or may not have happened.
    Unknown {
        /// What happened.
        reason: String,
        /// Whether the server answered (5xx), so that no restart is to be waited for.
        answered: bool,
    },
}

impl Reply {
    /// The body of a 2xx answer as JSON.
    pub fn json(&self) -> Option<Value> {
        match self {
            Reply::Done { body, .. } => serde_json::from_slice(body).ok(),
            _ => None,
        }
    }

    /// A header of a 2xx answer.
    pub fn header(&self, name: &str) -> Option<String> {
        match self {
            Reply::Done { headers, .. } => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            _ => None,
        }
    }
}

/// A request's reply and the generation of the server it was sent to.
#[derive(Debug)]
pub struct Sent {
    /// What became of it.
    pub reply: Reply,
    /// Which server it went to.
    pub generation: u64,
}

/// One person's session with the server, whichever is running.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    shared: Arc<Shared>,
    /// Their bearer token.
    pub token: String,
    /// Who, for messages.
    pub who: String,
}

/// An HTTP client for the harness: no proxies from the environment, bounded waits.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

impl Api {
    /// A session for `token`.
    pub fn new(http: reqwest::Client, shared: Arc<Shared>, token: String, who: String) -> Api {
        Api {
            http,
            shared,
            token,
            who,
        }
    }

    /// The shared state.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Sends the request `build` makes for the running server's base URL (which ends in `/`),
    /// signed in. A request that could not connect was not sent: it is sent again once the server
    /// is back. Any other broken exchange is [`Reply::Unknown`].
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Sent {
        loop {
            let (url, generation) = self.shared.server();
            let mut request = build(&self.http, &url);
            if !self.token.is_empty() {
                request = request.bearer_auth(&self.token);
            }
            let reply = match request.send().await {
                Err(e) if e.is_connect() => {
                    if !self.await_restart(generation, what).await {
                        return Sent {
                            reply: Reply::Unknown {
                                reason: format!("could not connect: {e}"),
                                answered: false,
                            },
                            generation,
                        };
                    }
                    continue;
                }
                Err(e) => Reply::Unknown {
                    reason: format!("{e:?}"),
                    answered: false,
                },
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Err(e) => Reply::Unknown {
                            reason: format!("answer cut off: {e:?}"),
                            answered: false,
                        },
                        Ok(body) if status.is_success() => Reply::Done { headers, body },
                        Ok(body) if status.is_server_error() => {
                            let body = String::from_utf8_lossy(&body).into_owned();
                            self.shared.fail(format!(
                                "{}: {what} answered {status} from server {generation}: {body}",
                                self.who
                            ));
                            Reply::Unknown {
                                reason: format!("{status}: {body}"),
                                answered: true,
                            }
                        }
                        Ok(body) => Reply::Refused {
                            status,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        },
                    }
                }
            };
            return Sent { reply, generation };
        }
    }

    /// After an unknown outcome, waits until the server it went to has been replaced (the kill
    /// that cut the exchange off is followed by a restart), so that reading the state now shows
    /// the outcome for good. `false` (and a failure recorded) if no restart comes.
    pub async fn settle(&self, sent: &Sent, what: &str) -> bool {
        match &sent.reply {
            Reply::Unknown {
                answered: false, ..
            } => self.await_restart(sent.generation, what).await,
            _ => true,
        }
    }

    /// Waits until a server newer than `generation` runs.
    async fn await_restart(&self, generation: u64, what: &str) -> bool {
        let since = Instant::now();
        loop {
            if self.shared.server().1 > generation {
                return true;
            }
            if self.shared.aborted.load(Ordering::SeqCst) {
                return false;
            }
            if since.elapsed() > RESTART_PATIENCE {
                self.shared.fail(format!(
                    "{}: {what}: server {generation} stopped answering but was not killed",
                    self.who
                ));
                self.shared.aborted.store(true, Ordering::SeqCst);
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads `path` (under `/api/v1/`) until an answer arrives: `None` for 404.
    pub async fn read(&self, path: &str) -> Result<Option<Value>, String> {
        match self.read_bytes(path).await? {
            None => Ok(None),
            Some(body) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| format!("GET {path}: not JSON: {e}")),
        }
    }

    /// Reads `path` (under `/api/v1/`) as bytes until an answer arrives: `None` for 404.
    pub async fn read_bytes(&self, path: &str) -> Result<Option<Bytes>, String> {
        let what = format!("GET {path}");
        loop {
            let sent = self
                .send(&what, |http, url| http.get(format!("{url}api/v1/{path}")))
                .await;
            match &sent.reply {
                Reply::Done { body, .. } => return Ok(Some(body.clone())),
                Reply::Refused { status, .. } if *status == StatusCode::NOT_FOUND => {
                    return Ok(None);
                }
                Reply::Refused { status, body } => return Err(format!("{what}: {status} {body}")),
                Reply::Unknown { reason, .. } => {
                    if !self.settle(&sent, &what).await {
                        return Err(format!("{what}: {reason}"));
                    }
                }
            }
        }
    }

    /// Reads `path`, which must exist.
    pub async fn read_some(&self, path: &str) -> Result<Value, String> {
        self.read(path)
            .await?
            .ok_or_else(|| format!("GET {path}: 404"))
    }

    /// Every item of a paged list (`{items, next_cursor}`) at `path` (which has no query yet).
    pub async fn read_all(&self, path: &str, limit: u32) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page_path = match &cursor {
                None => format!("{path}?limit={limit}"),
                Some(c) => format!("{path}?limit={limit}&cursor={}", query_escape(c)),
            };
            let page = self.read_some(&page_path).await?;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }
}

/// `value` made safe for a query string.
pub fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
