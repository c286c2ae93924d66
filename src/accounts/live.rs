//! Live connections (realtime sockets) by session and person, so that what ends a session or
//! changes a person's access also ends the connections it opened.
//!
//! A front end registers each long-lived connection with [`Accounts::watch`] and keeps the
//! [`SessionWatch`] while the connection lives; [`SessionWatch::ended`] resolves when the session is
//! signed out or revoked, the password changes (other sessions), the person is disabled or removed
//! (`SessionEnded`), or their role changes (`AccessChanged`: reconnect with the new role). Changes
//! made in another process (the `taina` command, another instance) are caught by
//! [`Accounts::recheck`], which front ends call on every heartbeat.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use taina_core::{Actor, Role, SessionId, Timestamp, UserId};
use tokio::sync::watch;
use tracing::instrument;

use super::Accounts;
use crate::Result;

/// Why a live connection must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The session is over: the client signs in again.
    SessionEnded,
    /// The person's access changed: the client reconnects and gets the new access.
    AccessChanged,
}

/// The registry of live connections of an instance.
#[derive(Debug, Default)]
pub(crate) struct LiveSessions {
    next: AtomicU64,
    watches: Mutex<HashMap<u64, Entry>>,
}

#[derive(Debug)]
struct Entry {
    session: Option<SessionId>,
    user: UserId,
    ended: watch::Sender<Option<Ended>>,
}

/// Which live connections an ending applies to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Whose<'a> {
    /// One session's.
    Session(&'a SessionId),
    /// Every one of a person's.
    User(&'a UserId),
    /// A person's, except those of one session (a password change keeps the current one).
    UserExcept(&'a UserId, Option<&'a SessionId>),
}

impl LiveSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.watches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the matching live connections (call after the change has committed).
    pub(crate) fn end(&self, whose: Whose<'_>, why: Ended) {
        let watches = self.lock();
        let mut ended = 0usize;
        for entry in watches.values() {
            let matches = match whose {
                Whose::Session(s) => entry.session.as_ref() == Some(s),
                Whose::User(u) => &entry.user == u,
                Whose::UserExcept(u, keep) => {
                    &entry.user == u && (keep.is_none() || entry.session.as_ref() != keep)
                }
            };
            if matches {
                entry.ended.send_if_modified(|state| {
                    // A session that ended stays ended; an access change never downgrades it.
                    if *state == Some(Ended::SessionEnded) || *state == Some(why) {
                        return false;
                    }
                    *state = Some(why);
                    true
                });
                ended += 1;
            }
        }
        if ended > 0 {
            tracing::info!(connections = ended, reason = ?why, "ending live connections");
        }
    }

    /// How many connections `user` has open.
    fn count(&self, user: &UserId) -> usize {
        self.lock().values().filter(|e| &e.user == user).count()
    }
}

/// A registered live connection. Dropping it unregisters.
#[derive(Debug)]
pub struct SessionWatch {
    id: u64,
    registry: Arc<LiveSessions>,
    ended: watch::Receiver<Option<Ended>>,
}

impl SessionWatch {
    /// Waits until the connection must end, and says why. Cancel-safe.
    pub async fn ended(&mut self) -> Ended {
        loop {
            if let Some(why) = *self.ended.borrow_and_update() {
                return why;
            }
            if self.ended.changed().await.is_err() {
                // The registry is gone with the instance: the session is as good as over.
                return Ended::SessionEnded;
            }
        }
    }

    /// Whether the connection must end, without waiting.
    pub fn has_ended(&self) -> Option<Ended> {
        *self.ended.borrow()
    }
}

impl Drop for SessionWatch {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

impl Accounts<'_> {
    /// Registers a live connection of `actor`'s session (see the module's documentation). At most
    /// `limit` connections per person: one more is refused as rate limited.
    pub fn watch(&self, actor: &Actor, limit: usize) -> Result<SessionWatch> {
        let registry = self.inner.live.clone();
        let mut watches = registry.lock();
        let open = watches.values().filter(|e| e.user == actor.user_id).count();
        if open >= limit {
            return Err(taina_core::Error::RateLimited {
                retry_after: taina_core::socket::HEARTBEAT,
            }
            .into());
        }
        let id = registry.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        watches.insert(
            id,
            Entry {
                session: actor.session_id.clone(),
                user: actor.user_id.clone(),
                ended: tx,
            },
        );
        drop(watches);
        Ok(SessionWatch {
            id,
            registry,
            ended: rx,
        })
    }

    /// How many live connections `user` has open on this instance.
    pub fn live_connections(&self, user: &UserId) -> usize {
        self.inner.live.count(user)
    }

    /// Checks again that `actor`'s session is still what it was when the connection opened: not
    /// revoked or expired, the account enabled and present, the role unchanged. `None` while it
    /// holds. Does not renew the session.
    #[instrument(skip_all)]
    pub async fn recheck(&self, actor: &Actor) -> Result<Option<Ended>> {
        let Some(session) = &actor.session_id else {
            return Ok(None);
        };
        let row: Option<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT s.expires_at, u.role, u.disabled_at FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.user_id = $2",
        )
        .bind(session.as_str())
        .bind(actor.user_id.as_str())
        .fetch_optional(self.inner.db.reader())
        .await?;
        let now = self.now();
        Ok(match row {
            None => Some(Ended::SessionEnded),
            Some((expires_at, _, _)) if Timestamp::from_millis(expires_at) <= now => {
                Some(Ended::SessionEnded)
            }
            Some((_, _, Some(_))) => Some(Ended::SessionEnded),
            Some((_, role, None)) if role.parse::<Role>().ok() != Some(actor.role) => {
                Some(Ended::AccessChanged)
            }
            Some(_) => None,
        })
    }

    /// Ends live connections after a committed change.
    pub(crate) fn end_live(&self, whose: Whose<'_>, why: Ended) {
        self.inner.live.end(whose, why);
    }
}
