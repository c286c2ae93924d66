//! Desktop litter (`taina_ybira::dav::litter`): kept aside per person in `dav_litter`, by path,
//! for a week, so that a client finds the `._` companions and `.DS_Store` files it wrote, while
//! none of them becomes a file in Ybira.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use taina_core::{Actor, Error as DomainError, Timestamp};
use taina_ybira::dav::litter::{
    LITTER_BYTES_PER_PERSON_MAX, LITTER_LIFETIME_MS, LITTER_MAX_BYTES, LITTER_PER_PERSON_MAX,
    is_litter,
};
use taina_ybira::dav::path::DavPath;
use tracing::instrument;

use crate::Result;
use crate::ybira::Ybira;

/// A litter file kept aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Litter {
    /// Its bytes.
    pub content: Vec<u8>,
    /// When it was written.
    pub updated_at: Timestamp,
}

/// Where a litter file is kept: its path, names compared as Ybira compares them.
fn path_key(path: &DavPath) -> Option<String> {
    let (_, name) = path.split_last()?;
    if !is_litter(name) {
        return None;
    }
    let root = path.root?.name().to_lowercase();
    let names: Vec<String> = path
        .names
        .iter()
        .map(|n| taina_ybira::name::collision_key(n))
        .collect();
    Some(format!("{root}/{}", names.join("/")))
}

fn not_litter() -> crate::Error {
    DomainError::invalid("path", "not a desktop litter file").into()
}

impl Ybira<'_> {
    /// Keeps a litter file the actor writes at `path` (in a folder they can see). Says whether it
    /// is new.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_put_litter(
        &self,
        actor: &Actor,
        path: &DavPath,
        content: &[u8],
    ) -> Result<bool> {
        let key = path_key(path).ok_or_else(not_litter)?;
        if content.len() > LITTER_MAX_BYTES {
            return Err(DomainError::TooLarge {
                what: "a desktop litter file",
                limit_bytes: LITTER_MAX_BYTES as u64,
            }
            .into());
        }
        let Some((parent, _)) = path.split_last() else {
            return Err(not_litter());
        };
        if !self.resolve_dav(actor, &parent).await?.is_collection() {
            return Err(DomainError::not_found("folder").into());
        }
        let now = self.now().as_millis();
        let mut tx = self.taina.inner.db.begin().await?;
        sqlx::query("DELETE FROM dav_litter WHERE user_id = $1 AND updated_at <= $2")
            .bind(actor.user_id.as_str())
            .bind(now - LITTER_LIFETIME_MS)
            .execute(&mut *tx)
            .await?;
        let existed: Option<(i64,)> = sqlx::query_as(
            "SELECT size_bytes FROM dav_litter WHERE user_id = $1 AND path_key = $2",
        )
        .bind(actor.user_id.as_str())
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
        let (held,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM dav_litter \
             WHERE user_id = $1",
        )
        .bind(actor.user_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let replaced = existed.map_or(0, |(n,)| n);
        let after =
            u64::try_from(held.saturating_sub(replaced)).unwrap_or(0) + content.len() as u64;
        if after > LITTER_BYTES_PER_PERSON_MAX {
            return Err(DomainError::TooLarge {
                what: "the desktop litter kept for you (Finder's ._ files and the like)",
                limit_bytes: LITTER_BYTES_PER_PERSON_MAX,
            }
            .into());
        }
        sqlx::query(
            "INSERT INTO dav_litter (user_id, path_key, content, size_bytes, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, path_key) DO UPDATE SET \
             content = excluded.content, size_bytes = excluded.size_bytes, \
             updated_at = excluded.updated_at",
        )
        .bind(actor.user_id.as_str())
        .bind(&key)
        .bind(STANDARD.encode(content))
        .bind(i64::try_from(content.len()).unwrap_or(i64::MAX))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // The oldest go past the per-person limit.
        sqlx::query(
            "DELETE FROM dav_litter WHERE user_id = $1 AND updated_at < (\
             SELECT updated_at FROM dav_litter WHERE user_id = $1 \
             ORDER BY updated_at DESC LIMIT 1 OFFSET $2)",
        )
        .bind(actor.user_id.as_str())
        .bind(i64::try_from(LITTER_PER_PERSON_MAX).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(existed.is_none())
    }

    /// The litter file the actor kept at `path`, if any.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_litter(&self, actor: &Actor, path: &DavPath) -> Result<Option<Litter>> {
        let key = path_key(path).ok_or_else(not_litter)?;
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT content, updated_at FROM dav_litter WHERE user_id = $1 AND path_key = $2 \
             AND updated_at > $3",
        )
        .bind(actor.user_id.as_str())
        .bind(&key)
        .bind(self.now().as_millis() - LITTER_LIFETIME_MS)
        .fetch_optional(self.taina.inner.db.reader())
        .await?;
        row.map(|(content, updated_at)| {
            Ok(Litter {
                content: STANDARD
                    .decode(content)
                    .map_err(|e| crate::Error::Corrupt(format!("stored litter: {e}")))?,
                updated_at: Timestamp::from_millis(updated_at),
            })
        })
        .transpose()
    }

    /// Forgets the litter file at `path`. Says whether there was one.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_delete_litter(&self, actor: &Actor, path: &DavPath) -> Result<bool> {
        let key = path_key(path).ok_or_else(not_litter)?;
        let mut tx = self.taina.inner.db.begin().await?;
        let done = sqlx::query("DELETE FROM dav_litter WHERE user_id = $1 AND path_key = $2")
            .bind(actor.user_id.as_str())
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
