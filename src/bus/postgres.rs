//! The bus across instances on PostgreSQL: every instance delivers what it publishes to its own
//! subscriptions at once (a [`LocalBus`]) and tells the others through `NOTIFY`; each listens
//! (`LISTEN`) and delivers what the others published to its own subscriptions. Several stateless
//! instances behind a load balancer then hear the same events: a message sent through one reaches
//! a socket connected to another.
//!
//! - **Order.** One sending connection per instance, so what an instance publishes arrives
//!   everywhere in the order it was published (PostgreSQL delivers notifications in commit order,
//!   a transaction's together).
//! - **Size.** A `NOTIFY` payload stays under 8,000 bytes: a larger envelope (a long message)
//!   travels as consecutive chunks of one transaction and is put back together on arrival.
//! - **Joins and removals** cross too ([`Bus::follow_user`], [`Bus::unfollow_user`]), before
//!   anything published after them.
//! - **Gaps.** When the listening connection drops, what was sent meanwhile is lost: every
//!   subscription of the instance is told to resync (and reloads), as when it falls behind.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnection, PgListener};
use sqlx::{Connection, Executor};
use taina_core::UserId;
use tokio::sync::mpsc;

use super::{Bus, LiveEvent, LocalBus, Queue, Topic};
use crate::Result;

/// The channel every instance of a database listens on.
const CHANNEL: &str = "taina_bus";

/// The most JSON one notification carries (PostgreSQL refuses payloads of 8,000 bytes or more;
/// the header takes the rest).
const CHUNK_BYTES: usize = 7_000;

/// Envelopes sent together in one transaction, at most.
const BATCH: usize = 64;

/// What crosses between instances.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Envelope {
    /// An event to deliver to `topic`'s followers.
    Publish {
        /// Where.
        topic: Topic,
        /// What (shared with this instance's subscribers, not copied).
        event: Arc<LiveEvent>,
    },
    /// Every subscription of `user` follows `topic` from now on.
    FollowUser {
        /// The topic.
        topic: Topic,
        /// Whose subscriptions.
        user: UserId,
    },
    /// No subscription of `user` follows `topic` any more.
    UnfollowUser {
        /// The topic.
        topic: Topic,
        /// Whose subscriptions.
        user: UserId,
    },
}

impl Envelope {
    /// Does what it says on this instance's subscriptions.
    fn deliver(self, local: &LocalBus) {
        match self {
            Envelope::Publish { topic, event } => local.publish(&topic, event),
            Envelope::FollowUser { topic, user } => local.follow_user(&topic, &user),
            Envelope::UnfollowUser { topic, user } => local.unfollow_user(&topic, &user),
        }
    }
}

/// The bus of an instance on PostgreSQL.
#[derive(Debug)]
pub struct PgBus {
    local: Arc<LocalBus>,
    outbox: mpsc::UnboundedSender<Envelope>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl PgBus {
    /// Listens on `url`'s database (returning once it listens, so nothing published by the
    /// others from then on is missed) and starts the sender.
    pub async fn start(url: &str) -> Result<PgBus> {
        let instance = hex::encode(crate::random::id_bytes());
        let local = Arc::new(LocalBus::new());
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        let (outbox, queued) = mpsc::unbounded_channel();
        let tasks = vec![
            tokio::spawn(listen(listener, instance.clone(), Arc::downgrade(&local))),
            tokio::spawn(send(url.to_owned(), instance, queued)),
        ];
        tracing::info!("events cross instances through PostgreSQL LISTEN/NOTIFY");
        Ok(PgBus {
            local,
            outbox,
            tasks,
        })
    }

    fn forward(&self, envelope: Envelope) {
        // The sender goes only with the bus.
        let _ = self.outbox.send(envelope);
    }
}

impl Drop for PgBus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Bus for PgBus {
    fn publish(&self, topic: &Topic, event: Arc<LiveEvent>) {
        self.local.publish(topic, event.clone());
        self.forward(Envelope::Publish {
            topic: topic.clone(),
            event,
        });
    }

    fn follow(&self, topic: &Topic, queue: &Arc<Queue>) {
        self.local.follow(topic, queue);
    }

    fn unfollow(&self, topic: &Topic, queue: &Arc<Queue>) {
        self.local.unfollow(topic, queue);
    }

    fn unfollow_user(&self, topic: &Topic, user: &UserId) {
        self.local.unfollow_user(topic, user);
        self.forward(Envelope::UnfollowUser {
            topic: topic.clone(),
            user: user.clone(),
        });
    }

    fn follow_user(&self, topic: &Topic, user: &UserId) {
        self.local.follow_user(topic, user);
        self.forward(Envelope::FollowUser {
            topic: topic.clone(),
            user: user.clone(),
        });
    }

    fn close(&self) {
        self.local.close();
    }
}

/// Sends what this instance publishes, in order, a batch per transaction; reconnects when the
/// connection fails (what could not be sent after a retry is dropped and logged: the others'
/// subscribers then miss it, as a client offline would, and catch up by reloading).
async fn send(url: String, instance: String, mut queued: mpsc::UnboundedReceiver<Envelope>) {
    let mut connection: Option<PgConnection> = None;
    let mut batch = Vec::with_capacity(BATCH);
    while queued.recv_many(&mut batch, BATCH).await > 0 {
        let mut payloads = Vec::new();
        for envelope in batch.drain(..) {
            match serde_json::to_string(&envelope) {
                Ok(json) => payloads.extend(notifications(&instance, &json)),
                Err(e) => tracing::error!(error = %e, "an event does not serialise"),
            }
        }
        let mut sent = false;
        for attempt in 0..2 {
            if connection.is_none() {
                match PgConnection::connect(&url).await {
                    Ok(c) => connection = Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, attempt, "cannot connect to send events");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                }
            }
            if let Some(c) = connection.as_mut() {
                match notify_all(c, &payloads).await {
                    Ok(()) => {
                        sent = true;
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, attempt, "sending events failed");
                        connection = None;
                    }
                }
            }
        }
        if !sent {
            tracing::error!(
                notifications = payloads.len(),
                "events could not reach the other instances"
            );
        }
    }
}

/// Sends `payloads` in one transaction (so a chunked envelope arrives whole and in order).
async fn notify_all(connection: &mut PgConnection, payloads: &[String]) -> sqlx::Result<()> {
    let mut tx = connection.begin().await?;
    for payload in payloads {
        tx.execute(
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload),
        )
        .await?;
    }
    tx.commit().await
}

/// The notifications that carry `json`: `"<instance> <part>/<parts> <chunk>"`, each chunk at
/// most [`CHUNK_BYTES`], cut between characters.
fn notifications(instance: &str, json: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut rest = json;
    while !rest.is_empty() {
        let mut end = rest.len().min(CHUNK_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (chunk, tail) = rest.split_at(end);
        chunks.push(chunk);
        rest = tail;
    }
    let parts = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(n, chunk)| format!("{instance} {}/{parts} {chunk}", n + 1))
        .collect()
}

/// Puts chunked envelopes back together, per sending instance.
#[derive(Debug, Default)]
struct Reassembly {
    partial: HashMap<String, String>,
}

impl Reassembly {
    /// Takes one notification; answers the whole envelope's JSON once its last part is in, and
    /// who sent it. A part out of turn (a lost notification) drops what was being assembled.
    fn take(&mut self, payload: &str) -> Option<(String, String)> {
        let mut fields = payload.splitn(3, ' ');
        let (instance, position, chunk) = (fields.next()?, fields.next()?, fields.next()?);
        let (part, parts) = position.split_once('/')?;
        let (part, parts): (usize, usize) = (part.parse().ok()?, parts.parse().ok()?);
        if part == 1 {
            self.partial.remove(instance);
        }
        if parts == 1 {
            return Some((instance.to_owned(), chunk.to_owned()));
        }
        let so_far = self.partial.entry(instance.to_owned()).or_default();
        if part > 1 && so_far.is_empty() {
            self.partial.remove(instance);
            return None;
        }
        so_far.push_str(chunk);
        if part < parts {
            return None;
        }
        self.partial
            .remove(instance)
            .map(|json| (instance.to_owned(), json))
    }
}

/// Delivers what the other instances publish to this instance's subscriptions, until the bus
/// goes.
async fn listen(mut listener: PgListener, instance: String, local: Weak<LocalBus>) {
    let mut reassembly = Reassembly::default();
    loop {
        let received = listener.try_recv().await;
        let Some(local) = local.upgrade() else { return };
        match received {
            Ok(Some(notification)) => {
                let Some((from, json)) = reassembly.take(notification.payload()) else {
                    continue;
                };
                if from == instance {
                    continue;
                }
                match serde_json::from_str::<Envelope>(&json) {
                    Ok(envelope) => envelope.deliver(&local),
                    Err(e) => {
                        tracing::warn!(error = %e, "an event from another instance does not read")
                    }
                }
            }
            // The connection dropped (it reconnects on the next call): whatever was sent
            // meanwhile is lost, so everyone here reloads.
            Ok(None) => {
                tracing::warn!("lost the events connection; subscribers will resync");
                local.resync_all();
            }
            Err(e) => {
                tracing::warn!(error = %e, "listening for events failed; retrying");
                local.resync_all();
                drop(local);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_envelope_travels_in_chunks_and_comes_back_whole() {
        let json = format!("{{\"text\":\"{}\"}}", "ação ".repeat(4_000));
        let parts = notifications("a1", &json);
        assert!(parts.len() > 2);
        assert!(parts.iter().all(|p| p.len() < 8_000));
        let mut reassembly = Reassembly::default();
        let mut whole = None;
        for part in &parts {
            whole = reassembly.take(part);
        }
        assert_eq!(whole, Some(("a1".to_owned(), json)));
        // A lost middle part loses the envelope, not the next one.
        let mut reassembly = Reassembly::default();
        assert_eq!(reassembly.take(&parts[0]), None);
        assert_eq!(reassembly.take(&parts[2]), None);
        let short = notifications("a1", "{}");
        assert_eq!(
            reassembly.take(&short[0]),
            Some(("a1".to_owned(), "{}".to_owned()))
        );
    }

    proptest::proptest! {
        /// Whatever the text, its notifications fit a payload and come back to it exactly; a
        /// notification that is not ours is ignored.
        #[test]
        fn any_envelope_comes_back_whole(json in "\\PC{1,12000}", noise in "\\PC{0,40}") {
            let parts = notifications("b2", &json);
            proptest::prop_assert!(parts.iter().all(|p| p.len() < 8_000));
            let mut reassembly = Reassembly::default();
            let _ = reassembly.take(&noise);
            let mut whole = None;
            for part in &parts {
                whole = reassembly.take(part);
            }
            proptest::prop_assert_eq!(whole, Some(("b2".to_owned(), json)));
        }
    }
}
