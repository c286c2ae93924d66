//! The login throttle, shared by every instance of the database: each counted sign-in attempt is a
//! `login_attempts` row against its account and, for accounts that do not exist, its client
//! network; the pure rule ([`taina_core::throttle::Limit`]) says from a key's rows whether it may
//! try. A key's attempts are admitted one at a time (the write transaction: SQLite's one writer,
//! a per-key advisory lock on PostgreSQL), so attempts running at once, on one instance or
//! several, cannot together pass the limit. Rows are swept once they leave the window
//! ([`sweep`]).

use std::net::IpAddr;
use std::time::Duration;

use sqlx::AnyConnection;
use taina_core::Timestamp;
use taina_core::throttle::{Limit, network_of};

use super::Accounts;
use crate::Result;
use crate::db::Backend;

/// Failed sign-ins allowed per account in [`THROTTLE_WINDOW`] (whether the account exists or not,
/// so that the answer never tells).
pub const ACCOUNT_FAILURES_ALLOWED: usize = 10;
/// Sign-ins to accounts that do not exist allowed per client network (an IPv4 address, an IPv6 /64)
/// in [`THROTTLE_WINDOW`]; past that, every sign-in from the network waits. Wrong passwords of real
/// accounts never count here, so people sharing an address (a household, a proxy not listed in
/// `trusted_proxies`) cannot lock each other out by mistyping.
pub const CLIENT_FAILURES_ALLOWED: usize = 30;
/// The login throttle's sliding window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Longest client key kept when it is not an IP address.
const CLIENT_KEY_MAX_CHARS: usize = 64;

const ACCOUNTS: Limit = Limit {
    max_failures: ACCOUNT_FAILURES_ALLOWED,
    window: THROTTLE_WINDOW,
};
const NETWORKS: Limit = Limit {
    max_failures: CLIENT_FAILURES_ALLOWED,
    window: THROTTLE_WINDOW,
};

/// What one sign-in attempt counts against.
#[derive(Debug, Clone)]
pub(crate) struct AttemptKeys {
    /// The account tried, whether it exists or not.
    account: String,
    /// The client's network, when known.
    network: Option<String>,
    /// Whether the account exists (only attempts on accounts that do not count against the network).
    known_account: bool,
}

impl AttemptKeys {
    /// The keys of an attempt on `account` by `client` (an IP address, or another stable key).
    pub(crate) fn new(account: String, client: Option<&str>, known_account: bool) -> Self {
        Self {
            account,
            network: client.map(network_key),
            known_account,
        }
    }
}

/// A client key's network: an IPv4 address, an IPv6 /64 ([`network_of`]); another key as it is.
fn network_key(client: &str) -> String {
    match client.trim().parse::<IpAddr>().map(network_of) {
        Ok(v6 @ IpAddr::V6(_)) => format!("{v6}/64"),
        Ok(v4) => v4.to_string(),
        Err(_) => client.chars().take(CLIENT_KEY_MAX_CHARS).collect(),
    }
}

/// An admitted attempt: the rows that count it, taken back if it never reaches the password check.
#[derive(Debug)]
pub(crate) struct Counted {
    rows: Vec<String>,
}

impl Accounts<'_> {
    /// Admits one attempt and counts it, or refuses it (rate limited) while its account or its
    /// network is locked. It counts as a failure until [`Accounts::attempt_succeeded`].
    pub(crate) async fn admit_attempt(&self, keys: &AttemptKeys) -> Result<Counted> {
        let now = self.now();
        let limited = |retry_after| taina_core::Error::RateLimited { retry_after };
        let mut tx = self.inner.db.begin().await?;
        if self.inner.db.backend() == Backend::Postgres {
            // Always this order: the account, then the network.
            serialize(&mut tx, "account", &keys.account).await?;
            if let Some(network) = &keys.network {
                serialize(&mut tx, "network", network).await?;
            }
        }
        if let Some(network) = &keys.network {
            let times = attempts(&mut tx, "network", network, NETWORKS.counts_after(now)).await?;
            NETWORKS.check(&times, now).map_err(limited)?;
        }
        let times = attempts(
            &mut tx,
            "account",
            &keys.account,
            ACCOUNTS.counts_after(now),
        )
        .await?;
        ACCOUNTS.check(&times, now).map_err(limited)?;
        let mut rows = vec![count(&mut tx, "account", &keys.account, now).await?];
        if !keys.known_account
            && let Some(network) = &keys.network
        {
            rows.push(count(&mut tx, "network", network, now).await?);
        }
        tx.commit().await?;
        Ok(Counted { rows })
    }

    /// The attempt signed in: its account starts afresh.
    pub(crate) async fn attempt_succeeded(&self, keys: &AttemptKeys) {
        let cleared: Result<()> = async {
            let mut tx = self.inner.db.begin().await?;
            sqlx::query("DELETE FROM login_attempts WHERE scope = 'account' AND attempt_key = $1")
                .bind(&keys.account)
                .execute(&mut *tx)
                .await?;
            Ok(tx.commit().await?)
        }
        .await;
        if let Err(e) = cleared {
            tracing::warn!(error = %e, "could not clear the failed sign-ins of an account");
        }
    }

    /// The attempt never reached the password check (e.g. no hashing slot): it does not count.
    pub(crate) async fn attempt_not_tried(&self, counted: Counted) {
        let taken_back: Result<()> = async {
            let mut tx = self.inner.db.begin().await?;
            for row in &counted.rows {
                sqlx::query("DELETE FROM login_attempts WHERE id = $1")
                    .bind(row)
                    .execute(&mut *tx)
                    .await?;
            }
            Ok(tx.commit().await?)
        }
        .await;
        if let Err(e) = taken_back {
            // It stays counted: the throttle errs on the side of refusing.
            tracing::warn!(error = %e, "could not take back a sign-in attempt");
        }
    }
}

/// Waits for this key's turn among the transactions that admit attempts (PostgreSQL).
async fn serialize(conn: &mut AnyConnection, scope: &str, key: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("taina-login:{scope}:{key}"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The key's counted attempts after `after`.
async fn attempts(
    conn: &mut AnyConnection,
    scope: &str,
    key: &str,
    after: Timestamp,
) -> Result<Vec<Timestamp>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT attempted_at FROM login_attempts \
         WHERE scope = $1 AND attempt_key = $2 AND attempted_at > $3",
    )
    .bind(scope)
    .bind(key)
    .bind(after.as_millis())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at,)| Timestamp::from_millis(at))
        .collect())
}

/// Counts an attempt of the key at `now`; answers its row's id.
async fn count(conn: &mut AnyConnection, scope: &str, key: &str, now: Timestamp) -> Result<String> {
    let id = hex::encode(crate::random::id_bytes());
    sqlx::query(
        "INSERT INTO login_attempts (id, scope, attempt_key, attempted_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(scope)
    .bind(key)
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Deletes the attempts that no longer count at `now`; answers how many.
pub(crate) async fn sweep(conn: &mut AnyConnection, now: Timestamp) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM login_attempts WHERE attempted_at <= $1")
            .bind(now.minus(THROTTLE_WINDOW).as_millis())
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}
