//! WebDAV write locks, stored in `dav_locks` so that every instance sees them: taken (with the
//! conflict check and the insert in one transaction under the community's lock), refreshed,
//! released, found over a file or folder, and dropped when what they lock moves or goes. The rules
//! are `taina_ybira::dav::locks`'.

use taina_core::{Actor, Error as DomainError, ItemId, Timestamp, UserId};
use taina_ybira::access::ItemAction;
use taina_ybira::dav::locks::{self as rules, HeldLock};
use tracing::instrument;

use crate::Result;
use crate::db::parse_id;
use crate::ybira::Ybira;

/// What a LOCK asks for.
#[derive(Debug, Clone)]
pub struct LockRequest {
    /// Shared (`true`) or exclusive.
    pub shared: bool,
    /// Depth infinity (a folder and everything in it) or 0.
    pub deep: bool,
    /// The client's `owner` XML.
    pub owner: Option<String>,
    /// The timeout to give, in seconds (from [`rules::timeout_secs`]).
    pub timeout_secs: u64,
    /// The URL path it is taken on.
    pub root_href: String,
}

/// A LOCK's outcome.
#[derive(Debug, Clone)]
pub enum Locked {
    /// The new lock.
    Granted(HeldLock),
    /// A lock in the way (423).
    Conflict(HeldLock),
}

const LOCK_COLUMNS: &str =
    "token, item_id, root_href, depth, scope, owner, user_id, timeout_secs, expires_at";

#[derive(sqlx::FromRow)]
struct LockRow {
    token: String,
    item_id: String,
    root_href: String,
    depth: String,
    scope: String,
    owner: Option<String>,
    user_id: String,
    timeout_secs: i64,
    expires_at: i64,
}

impl LockRow {
    fn into_lock(self) -> Result<HeldLock> {
        Ok(HeldLock {
            token: self.token,
            item_id: parse_id(&self.item_id, ItemId::parse)?,
            root_href: self.root_href,
            deep: self.depth == "infinity",
            shared: self.scope == "shared",
            owner: self.owner,
            user_id: parse_id(&self.user_id, UserId::parse)?,
            timeout_secs: u64::try_from(self.timeout_secs).unwrap_or(0),
            expires_at: Timestamp::from_millis(self.expires_at),
        })
    }
}

impl Ybira<'_> {
    /// The locks in force over an item the actor may read: on it, deep ones on the folders above
    /// it, and, with `beneath`, any on what is in it.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_locks_over(
        &self,
        actor: &Actor,
        id: &ItemId,
        beneath: bool,
    ) -> Result<Vec<HeldLock>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        self.load(&mut conn, actor, id, ItemAction::Read, false)
            .await?;
        locks_over(&mut conn, id, beneath, self.now()).await
    }

    /// Takes a lock on a file or folder the actor may write, unless one in force conflicts.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_lock(
        &self,
        actor: &Actor,
        id: &ItemId,
        request: LockRequest,
    ) -> Result<Locked> {
        let now = self.now();
        let mut tx = self.begin_in(&actor.community_id).await?;
        self.load(&mut tx, actor, id, ItemAction::WriteContent, false)
            .await?;
        sqlx::query("DELETE FROM dav_locks WHERE community_id = $1 AND expires_at <= $2")
            .bind(actor.community_id.as_str())
            .bind(now.as_millis())
            .execute(&mut *tx)
            .await?;
        let existing = locks_over(&mut tx, id, request.deep, now).await?;
        if let Some(conflict) = rules::conflict(request.shared, &existing) {
            return Ok(Locked::Conflict(conflict.clone()));
        }
        let (held,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM dav_locks WHERE user_id = $1")
            .bind(actor.user_id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if usize::try_from(held).unwrap_or(usize::MAX) >= rules::PER_PERSON_MAX {
            return Err(DomainError::conflict("you hold too many locks; release some").into());
        }
        let lock = HeldLock {
            token: crate::random::lock_token(),
            item_id: id.clone(),
            root_href: request.root_href,
            deep: request.deep,
            shared: request.shared,
            owner: request.owner,
            user_id: actor.user_id.clone(),
            timeout_secs: request.timeout_secs,
            expires_at: now.plus(std::time::Duration::from_secs(request.timeout_secs)),
        };
        sqlx::query(
            "INSERT INTO dav_locks (token, item_id, community_id, user_id, root_href, depth, \
             scope, owner, timeout_secs, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&lock.token)
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .bind(&lock.root_href)
        .bind(if lock.deep { "infinity" } else { "0" })
        .bind(if lock.shared { "shared" } else { "exclusive" })
        .bind(&lock.owner)
        .bind(i64::try_from(lock.timeout_secs).unwrap_or(i64::MAX))
        .bind(lock.expires_at.as_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Locked::Granted(lock))
    }

    /// Refreshes the lock over an item whose token is among `tokens`, giving it a new timeout.
    /// `None`: no such lock in force over it.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_refresh_lock(
        &self,
        actor: &Actor,
        id: &ItemId,
        tokens: &[&str],
        timeout_secs: u64,
    ) -> Result<Option<HeldLock>> {
        let now = self.now();
        let mut tx = self.begin_in(&actor.community_id).await?;
        self.load(&mut tx, actor, id, ItemAction::Read, false)
            .await?;
        let over = locks_over(&mut tx, id, false, now).await?;
        let Some(mut lock) = over
            .into_iter()
            .find(|l| tokens.contains(&l.token.as_str()) && l.user_id == actor.user_id)
        else {
            return Ok(None);
        };
        lock.timeout_secs = timeout_secs;
        lock.expires_at = now.plus(std::time::Duration::from_secs(timeout_secs));
        sqlx::query("UPDATE dav_locks SET timeout_secs = $1, expires_at = $2 WHERE token = $3")
            .bind(i64::try_from(timeout_secs).unwrap_or(i64::MAX))
            .bind(lock.expires_at.as_millis())
            .bind(&lock.token)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(lock))
    }

    /// Releases the lock with `token` over an item, if the actor took it (or is an admin).
    /// `false`: no such lock over it.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_unlock(&self, actor: &Actor, id: &ItemId, token: &str) -> Result<bool> {
        let now = self.now();
        let mut tx = self.begin_in(&actor.community_id).await?;
        self.load(&mut tx, actor, id, ItemAction::Read, false)
            .await?;
        let over = locks_over(&mut tx, id, false, now).await?;
        let Some(lock) = over.into_iter().find(|l| l.token == token) else {
            return Ok(false);
        };
        if lock.user_id != actor.user_id && !actor.is_admin() {
            return Err(DomainError::Forbidden {
                reason: "this lock is someone else's",
            }
            .into());
        }
        sqlx::query("DELETE FROM dav_locks WHERE token = $1")
            .bind(token)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Drops every lock on an item and on what is in it: it moved or went (RFC 4918 §7.5: a lock
    /// stays with the URL it was taken on, not with the resource).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_drop_locks(&self, actor: &Actor, id: &ItemId) -> Result<()> {
        let mut tx = self.taina.inner.db.begin().await?;
        sqlx::query(&format!(
            "DELETE FROM dav_locks WHERE community_id = $2 AND item_id IN ({})",
            crate::ybira::tree::subtree_ids(false)
        ))
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The locks in force on these items themselves (already authorized by the caller), by item.
pub(super) async fn locks_on(
    conn: &mut sqlx::AnyConnection,
    ids: &[ItemId],
    now: Timestamp,
) -> Result<std::collections::HashMap<ItemId, Vec<HeldLock>>> {
    let mut out: std::collections::HashMap<ItemId, Vec<HeldLock>> = Default::default();
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {LOCK_COLUMNS} FROM dav_locks WHERE expires_at > $1 AND item_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, LockRow>(&sql).bind(now.as_millis());
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let lock = row.into_lock()?;
            out.entry(lock.item_id.clone()).or_default().push(lock);
        }
    }
    Ok(out)
}

/// The locks in force over `id`: on it, deep ones above it, and with `beneath` any under it.
pub(super) async fn locks_over(
    conn: &mut sqlx::AnyConnection,
    id: &ItemId,
    beneath: bool,
    now: Timestamp,
) -> Result<Vec<HeldLock>> {
    let mut rows: Vec<LockRow> = if beneath {
        sqlx::query_as(&format!(
            "SELECT {LOCK_COLUMNS} FROM dav_locks WHERE expires_at > $2 AND item_id IN ({})",
            crate::ybira::tree::subtree_ids(true)
        ))
        .bind(id.as_str())
        .bind(now.as_millis())
        .fetch_all(&mut *conn)
        .await?
    } else {
        sqlx::query_as(&format!(
            "SELECT {LOCK_COLUMNS} FROM dav_locks WHERE expires_at > $2 AND item_id = $1"
        ))
        .bind(id.as_str())
        .bind(now.as_millis())
        .fetch_all(&mut *conn)
        .await?
    };
    let mut locks: Vec<HeldLock> = rows
        .drain(..)
        .map(LockRow::into_lock)
        .collect::<Result<_>>()?;
    let above: Vec<ItemId> = crate::ybira::ancestors(conn, id)
        .await?
        .into_iter()
        .map(|folder| folder.item.id)
        .collect();
    for (_, held) in locks_on(conn, &above, now).await? {
        locks.extend(held.into_iter().filter(|l| l.deep));
    }
    Ok(locks)
}
