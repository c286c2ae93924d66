//! What the SDK's tests share: a live server on a port of its own, listeners that record what
//! they hear, the fixture photos, and a proxy whose connections can be cut like a phone's.
#![allow(dead_code, clippy::unwrap_used)] // Each test uses part of it; tests fail loudly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taina::testing::PASSWORD;
use taina_client::{Client, ProgressListener, RealtimeEvent};

/// A progress listener that remembers what it was told.
#[derive(Default)]
pub struct Recorded(pub Mutex<Vec<(u64, u64)>>);

impl ProgressListener for Recorded {
    fn on_progress(&self, done: u64, total: u64) {
        self.0.lock().unwrap().push((done, total));
    }
}

impl Recorded {
    /// What it heard so far.
    pub fn heard(&self) -> Vec<(u64, u64)> {
        self.0.lock().unwrap().clone()
    }
}

/// What an event listener heard.
#[derive(Debug)]
pub enum Heard {
    Connected(bool),
    Event(Box<RealtimeEvent>),
}

/// An event listener that passes what it hears to the test.
pub struct Events(pub tokio::sync::mpsc::UnboundedSender<Heard>);

impl taina_client::EventListener for Events {
    fn on_event(&self, event: RealtimeEvent) {
        let _ = self.0.send(Heard::Event(Box::new(event)));
    }

    fn on_connection(&self, connected: bool) {
        let _ = self.0.send(Heard::Connected(connected));
    }
}

/// The next thing heard that `pick` takes, within 10 s.
pub async fn next<T>(
    heard: &mut tokio::sync::mpsc::UnboundedReceiver<Heard>,
    what: &str,
    pick: impl FnMut(Heard) -> Option<T>,
) -> T {
    next_within(Duration::from_secs(10), heard, what, pick).await
}

/// The next thing heard that `pick` takes, within `limit`.
pub async fn next_within<T>(
    limit: Duration,
    heard: &mut tokio::sync::mpsc::UnboundedReceiver<Heard>,
    what: &str,
    mut pick: impl FnMut(Heard) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(limit, async {
        while let Some(h) = heard.recv().await {
            if let Some(t) = pick(h) {
                return Some(t);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(t)) => t,
        other => panic!(
            "{what} never came: {}",
            if other.is_err() {
                "timed out"
            } else {
                "the listener is gone"
            }
        ),
    }
}

/// Waits until the subscription says it is connected.
pub async fn connected(heard: &mut tokio::sync::mpsc::UnboundedReceiver<Heard>) {
    next(heard, "the connection", |h| {
        matches!(h, Heard::Connected(true)).then_some(())
    })
    .await
}

/// A client signed in as `email`.
pub async fn signed_in(url: &str, email: &str) -> Arc<Client> {
    let client = Client::new(url.into()).unwrap();
    client
        .login(email.into(), PASSWORD.into(), None)
        .await
        .unwrap();
    client
}

/// A fixture photo's path.
#[allow(unused_imports)] // Not every test binary reads a fixture.
pub use taina_server::testing::fixture_photo_path as fixture;

/// 9 MiB that are not all alike.
pub fn nine_mib() -> Vec<u8> {
    (0..9 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect()
}

/// A TCP proxy in front of the server whose connections can be cut (and refused) and then let
/// through again: a phone losing its network.
pub struct Flaky {
    pub url: String,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Flaky {
    /// A proxy to `upstream` (`http://host:port`).
    pub async fn to(upstream: &str) -> Flaky {
        let target = upstream.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (o, l) = (open.clone(), links.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !o.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                l.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Flaky {
            url,
            open,
            links,
            accept,
        }
    }

    /// Cuts every connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Flaky {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
