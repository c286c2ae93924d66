//! Presence across instances: online, away or offline, from a person's live connections on every
//! instance.
//!
//! Each instance counts its own connections in memory ([`taina_guara::presence::Presence`]); when a
//! person's status on this instance changes it is written to the `presence` table (one row per
//! person and instance; none when offline here), and their presence — the best over live
//! instances ([`Status::best`]) — is read back and announced if it changed. Each instance beats a
//! heartbeat into `instances` every [`INSTANCE_HEARTBEAT`]; one whose heartbeat is older than
//! [`INSTANCE_DEAD_AFTER`](taina_guara::presence::INSTANCE_DEAD_AFTER) is dead (killed, or cut off), so whichever live instance notices first
//! removes it and its rows and announces its people's presence without it. A person online through
//! a dead instance is therefore seen offline within about 40 seconds.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use taina_core::event::Topic;
use taina_core::{Actor, Timestamp, UserId};
use taina_guara::event::GuaraEvent;
use taina_guara::presence::{INSTANCE_HEARTBEAT, Status};
use tracing::instrument;

use super::{Guara, parse_user};
use crate::{Inner, Result, Taina};

/// A live client connection, for presence. Close it (or drop it) when the client goes.
#[derive(Debug)]
pub struct Connection {
    taina: Taina,
    user: UserId,
    id: u64,
    open: bool,
}

impl Connection {
    /// The client went idle (`true`) or came back (`false`).
    pub async fn set_idle(&self, idle: bool) -> Result<()> {
        let change = {
            let state = &self.taina.inner.realtime;
            let mut presence = state.presence.lock().unwrap_or_else(|e| e.into_inner());
            presence.set_idle(&self.user, self.id, idle)
        };
        if let Some(here) = change {
            self.taina.guara().changed_here(&self.user, here).await?;
        }
        Ok(())
    }

    /// The client disconnected.
    pub async fn close(mut self) -> Result<()> {
        self.open = false;
        if let Some(here) = disconnect(&self.taina, &self.user, self.id) {
            self.taina.guara().changed_here(&self.user, here).await?;
        }
        Ok(())
    }
}

fn disconnect(taina: &Taina, user: &UserId, id: u64) -> Option<Status> {
    let mut presence = taina
        .inner
        .realtime
        .presence
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    presence.disconnect(user, id)
}

impl Drop for Connection {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        if let Some(here) = disconnect(&self.taina, &self.user, self.id)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let taina = self.taina.clone();
            let user = self.user.clone();
            runtime.spawn(async move {
                if let Err(e) = taina.guara().changed_here(&user, here).await {
                    tracing::warn!(error = %e, "could not announce a disconnection");
                }
            });
        }
    }
}

impl Taina {
    /// Whether another process sharing the database (a server, a command) beat its heartbeat
    /// within the last 30 s: what the instance lock alone cannot tell when its connection lapsed,
    /// and what a command that switches the configuration checks again just before it does.
    pub async fn other_instances_live(&self) -> Result<bool> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM instances WHERE id <> $1 AND seen_at >= $2")
                .bind(&self.inner.instance_id)
                .bind(taina_guara::presence::live_since(self.inner.clock.now()).as_millis())
                .fetch_one(self.inner.db.reader())
                .await?;
        Ok(n > 0)
    }
}

/// Records this instance in `instances` (at open), so that others count its people.
pub(crate) async fn register_instance(inner: &Inner) -> Result<()> {
    let now = inner.clock.now().as_millis();
    let mut tx = inner.db.begin().await?;
    sqlx::query(
        "INSERT INTO instances (id, started_at, seen_at) VALUES ($1, $2, $2) \
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(&inner.instance_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Beats this instance's heartbeat and removes dead instances every [`INSTANCE_HEARTBEAT`] while
/// the instance is open.
pub(crate) fn start_heartbeat(inner: &Arc<Inner>) {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INSTANCE_HEARTBEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = weak.upgrade() else { return };
            if inner.db.reader().is_closed() {
                return;
            }
            if let Err(e) = (Taina { inner }).guara().beat().await {
                tracing::warn!(error = %e, "the presence heartbeat failed");
            }
        }
    });
}

impl Guara<'_> {
    /// Registers a live client connection of the actor (online until closed or idle).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn connect(&self, actor: &Actor) -> Result<Connection> {
        let state = &self.taina.inner.realtime;
        let id = state.next_connection.fetch_add(1, Ordering::Relaxed);
        let change = {
            let mut presence = state.presence.lock().unwrap_or_else(|e| e.into_inner());
            presence.connect(&actor.user_id, id)
        };
        let connection = Connection {
            taina: self.taina.clone(),
            user: actor.user_id.clone(),
            id,
            open: true,
        };
        if let Some(here) = change {
            self.changed_here(&actor.user_id, here).await?;
        }
        Ok(connection)
    }

    /// The presence of everyone who shares a conversation with the actor, across instances.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn presence(&self, actor: &Actor) -> Result<Vec<(UserId, Status)>> {
        let others: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT o.user_id FROM participants p JOIN participants o \
             ON o.conversation_id = p.conversation_id WHERE p.user_id = $1 AND o.user_id <> $1 \
             ORDER BY o.user_id",
        )
        .bind(actor.user_id.as_str())
        .fetch_all(self.taina.inner.db.reader())
        .await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT pr.user_id, pr.status FROM presence pr \
             JOIN instances i ON i.id = pr.instance_id \
             WHERE (i.seen_at >= $1 OR i.id = $2) AND pr.user_id IN ( \
                SELECT o.user_id FROM participants p JOIN participants o \
                ON o.conversation_id = p.conversation_id WHERE p.user_id = $3)",
        )
        .bind(self.live_since().as_millis())
        .bind(&self.taina.inner.instance_id)
        .bind(actor.user_id.as_str())
        .fetch_all(self.taina.inner.db.reader())
        .await?;
        others
            .iter()
            .map(|(u,)| {
                let statuses = rows
                    .iter()
                    .filter(|(user, _)| user == u)
                    .filter_map(|(_, status)| Status::parse(status));
                Ok((parse_user(u)?, Status::best(statuses)))
            })
            .collect()
    }

    /// Beats this instance's heartbeat, then removes the instances whose heartbeat stopped and
    /// announces their people's presence without them; answers how many it removed. Runs every
    /// [`INSTANCE_HEARTBEAT`]; tests call it after moving the clock.
    pub async fn beat(&self) -> Result<usize> {
        let inner = &self.taina.inner;
        let mut tx = inner.db.begin().await?;
        let beat = sqlx::query("UPDATE instances SET seen_at = $1 WHERE id = $2")
            .bind(self.now().as_millis())
            .bind(&inner.instance_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if beat.rows_affected() == 0 {
            // Taken for dead meanwhile (a long pause, a cut-off network): back, with its people.
            tracing::warn!("this instance was taken for dead; registering it again");
            register_instance(inner).await?;
            self.rewrite_own_rows().await?;
        }
        let mut tx = inner.db.begin().await?;
        let dead: Vec<(String,)> =
            sqlx::query_as("DELETE FROM instances WHERE seen_at < $1 AND id <> $2 RETURNING id")
                .bind(self.live_since().as_millis())
                .bind(&inner.instance_id)
                .fetch_all(&mut *tx)
                .await?;
        let mut orphaned: Vec<(String, String)> = Vec::new();
        for (instance,) in &dead {
            orphaned.extend(
                sqlx::query_as::<_, (String, String)>(
                    "DELETE FROM presence WHERE instance_id = $1 RETURNING user_id, status",
                )
                .bind(instance)
                .fetch_all(&mut *tx)
                .await?,
            );
        }
        tx.commit().await?;
        for (instance,) in &dead {
            tracing::info!(
                instance,
                "an instance stopped beating; its connections are gone"
            );
        }
        self.announce_without(orphaned).await?;
        Ok(dead.len())
    }

    /// Forgets this instance in `instances` and `presence` (when it closes): its connections are
    /// gone with it, and the others hear of those people's presence without them.
    pub(crate) async fn unregister_instance(&self) -> Result<()> {
        let inner = &self.taina.inner;
        let mut tx = inner.db.begin().await?;
        let gone: Vec<(String, String)> =
            sqlx::query_as("DELETE FROM presence WHERE instance_id = $1 RETURNING user_id, status")
                .bind(&inner.instance_id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM instances WHERE id = $1")
            .bind(&inner.instance_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.announce_without(gone).await
    }

    /// Announces the presence of people whose rows on an instance that went (`gone`: person and
    /// their status there) were removed, where it changed without them.
    async fn announce_without(&self, gone: Vec<(String, String)>) -> Result<()> {
        for (user, status) in gone {
            let user = parse_user(&user)?;
            let now = self.shared_status(&user).await?;
            let before = Status::best([Status::parse(&status).unwrap_or(Status::Offline), now]);
            if before != now {
                self.announce_presence(&user, now).await?;
            }
        }
        Ok(())
    }

    /// `user`'s status on this instance became `here`: recorded, and their presence announced if
    /// it changed.
    async fn changed_here(&self, user: &UserId, here: Status) -> Result<()> {
        let before = self.shared_status(user).await?;
        self.write_own_row(user, here).await?;
        let after = self.shared_status(user).await?;
        if before != after {
            self.announce_presence(user, after).await?;
        }
        Ok(())
    }

    async fn write_own_row(&self, user: &UserId, here: Status) -> Result<()> {
        let inner = &self.taina.inner;
        let mut tx = inner.db.begin().await?;
        if here == Status::Offline {
            sqlx::query("DELETE FROM presence WHERE user_id = $1 AND instance_id = $2")
                .bind(user.as_str())
                .bind(&inner.instance_id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO presence (user_id, instance_id, status) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, instance_id) DO UPDATE SET status = excluded.status",
            )
            .bind(user.as_str())
            .bind(&inner.instance_id)
            .bind(here.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes this instance's rows again from its connections (after it was taken for dead).
    async fn rewrite_own_rows(&self) -> Result<()> {
        let statuses = self
            .taina
            .inner
            .realtime
            .presence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .statuses();
        for (user, status) in statuses {
            self.write_own_row(&user, status).await?;
        }
        Ok(())
    }

    /// `user`'s presence: the best of their status on every live instance.
    async fn shared_status(&self, user: &UserId) -> Result<Status> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT pr.status FROM presence pr JOIN instances i ON i.id = pr.instance_id \
             WHERE pr.user_id = $1 AND (i.seen_at >= $2 OR i.id = $3)",
        )
        .bind(user.as_str())
        .bind(self.live_since().as_millis())
        .bind(&self.taina.inner.instance_id)
        .fetch_all(self.taina.inner.db.reader())
        .await?;
        Ok(Status::best(
            rows.iter().filter_map(|(s,)| Status::parse(s)),
        ))
    }

    /// Instances seen since then are live (this one always is, whatever its last heartbeat).
    fn live_since(&self) -> Timestamp {
        taina_guara::presence::live_since(self.now())
    }

    /// Tells everyone who shares a conversation with `user` (and their own other devices).
    async fn announce_presence(&self, user: &UserId, status: Status) -> Result<()> {
        let event = GuaraEvent::Presence {
            user_id: user.clone(),
            status,
        };
        self.publish(Topic::User(user.clone()), event.clone());
        for (conversation, _) in self.memberships(user).await? {
            self.publish_in(&conversation, event.clone());
        }
        Ok(())
    }
}
