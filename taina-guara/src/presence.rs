//! Presence: online, away or offline, from a person's live connections. A connection is online
//! unless its client said it is idle; a person is online if any connection is, away if all their
//! connections are idle, offline with none.
//!
//! With several instances each knows only its own connections ([`Presence`]); a person's presence
//! is the best of their status on every live instance ([`Status::best`]). An instance is live while
//! its heartbeat, every [`INSTANCE_HEARTBEAT`], is at most [`INSTANCE_DEAD_AFTER`] old
//! ([`live_since`]); the people of one that stopped beating are recomputed without it.

use std::collections::{BTreeMap, BTreeSet};

use std::time::Duration;

use serde::{Deserialize, Serialize};
use taina_core::{Timestamp, UserId};

/// A person's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At least one active connection.
    Online,
    /// Connected, but every connection is idle.
    Away,
    /// No connection.
    Offline,
}

/// How often an instance says it is alive.
pub const INSTANCE_HEARTBEAT: Duration = Duration::from_secs(10);

/// How long after its last heartbeat an instance is taken for dead (three heartbeats missed), and
/// its people's connections with it: the bound on noticing that an instance died.
pub const INSTANCE_DEAD_AFTER: Duration = Duration::from_secs(30);

/// The oldest heartbeat of a live instance at `now`: instances seen since then are live.
pub fn live_since(now: Timestamp) -> Timestamp {
    now.minus(INSTANCE_DEAD_AFTER)
}

impl Status {
    /// The best of several statuses (online over away over offline); offline for none.
    pub fn best(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses
            .into_iter()
            .min_by_key(|s| match s {
                Status::Online => 0,
                Status::Away => 1,
                Status::Offline => 2,
            })
            .unwrap_or(Status::Offline)
    }

    /// The status as stored (`online`, `away`, `offline`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Away => "away",
            Status::Offline => "offline",
        }
    }

    /// A stored status read back.
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "online" => Some(Status::Online),
            "away" => Some(Status::Away),
            "offline" => Some(Status::Offline),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Connections {
    active: BTreeSet<u64>,
    idle: BTreeSet<u64>,
}

impl Connections {
    fn status(&self) -> Status {
        if !self.active.is_empty() {
            Status::Online
        } else if !self.idle.is_empty() {
            Status::Away
        } else {
            Status::Offline
        }
    }
}

/// Everyone's live connections.
#[derive(Debug, Default, Clone)]
pub struct Presence {
    users: BTreeMap<UserId, Connections>,
}

impl Presence {
    /// Nobody connected.
    pub fn new() -> Self {
        Self::default()
    }

    /// A person's status.
    pub fn status(&self, user: &UserId) -> Status {
        self.users
            .get(user)
            .map_or(Status::Offline, Connections::status)
    }

    /// Applies a change to one person's connections; answers their new status if it changed.
    fn change(&mut self, user: &UserId, f: impl FnOnce(&mut Connections)) -> Option<Status> {
        let before = self.status(user);
        let connections = self.users.entry(user.clone()).or_default();
        f(connections);
        let after = connections.status();
        if after == Status::Offline {
            self.users.remove(user);
        }
        (after != before).then_some(after)
    }

    /// Everyone connected, with their status.
    pub fn statuses(&self) -> Vec<(UserId, Status)> {
        self.users
            .iter()
            .map(|(user, c)| (user.clone(), c.status()))
            .collect()
    }

    /// Connection `id` of `user` opened (active).
    pub fn connect(&mut self, user: &UserId, id: u64) -> Option<Status> {
        self.change(user, |c| {
            c.idle.remove(&id);
            c.active.insert(id);
        })
    }

    /// Connection `id` of `user` closed.
    pub fn disconnect(&mut self, user: &UserId, id: u64) -> Option<Status> {
        self.change(user, |c| {
            c.active.remove(&id);
            c.idle.remove(&id);
        })
    }

    /// Connection `id` of `user` went idle (`true`) or active again (`false`). Unknown
    /// connections are ignored.
    pub fn set_idle(&mut self, user: &UserId, id: u64, idle: bool) -> Option<Status> {
        self.change(user, |c| {
            if !c.active.contains(&id) && !c.idle.contains(&id) {
                return;
            }
            if idle {
                c.active.remove(&id);
                c.idle.insert(id);
            } else {
                c.idle.remove(&id);
                c.active.insert(id);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_best_status_wins_and_dead_instances_are_told_apart() {
        use Status::*;
        assert_eq!(Status::best([Offline, Away, Online]), Online);
        assert_eq!(Status::best([Away, Offline]), Away);
        assert_eq!(Status::best([]), Offline);
        for s in [Online, Away, Offline] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("busy"), None);
        let seen = Timestamp::from_millis(1_000_000);
        assert!(seen >= live_since(seen.plus(INSTANCE_DEAD_AFTER)));
        assert!(seen < live_since(seen.plus(INSTANCE_DEAD_AFTER + Duration::from_millis(1))));
        assert!(INSTANCE_DEAD_AFTER >= INSTANCE_HEARTBEAT * 3);
    }

    fn user(n: u8) -> UserId {
        UserId::from_random([n; 21])
    }

    proptest! {
        /// Status follows the connections, and a change is reported exactly when status changes.
        #[test]
        fn status_follows_connections(ops in proptest::collection::vec((0u8..3, 0u64..4, 0u8..4), 0..100)) {
            let mut p = Presence::new();
            let mut model: BTreeMap<(u8, u64), bool> = BTreeMap::new(); // (user, conn) -> idle
            for (u, conn, what) in ops {
                let before = p.status(&user(u));
                let reported = match what {
                    0 => { model.insert((u, conn), false); p.connect(&user(u), conn) }
                    1 => { model.remove(&(u, conn)); p.disconnect(&user(u), conn) }
                    n => {
                        if let Some(idle) = model.get_mut(&(u, conn)) { *idle = n == 2; }
                        p.set_idle(&user(u), conn, n == 2)
                    }
                };
                let mine: Vec<bool> = model.iter().filter(|((mu, _), _)| *mu == u).map(|(_, idle)| *idle).collect();
                let expected = if mine.iter().any(|idle| !idle) {
                    Status::Online
                } else if mine.is_empty() {
                    Status::Offline
                } else {
                    Status::Away
                };
                prop_assert_eq!(p.status(&user(u)), expected);
                prop_assert_eq!(reported, (expected != before).then_some(expected));
            }
        }
    }
}
