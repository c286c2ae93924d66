//! Start-up recovery: what a killed process left behind, put right before the instance serves.
//!
//! A kill mid-upload leaves an `uploads` row holding its reservation (the community's use then
//! stays too high), its staging file, and — if it came between moving the bytes into place and the
//! commit — a stored file no blob row names. Upkeep would release the row after an hour
//! ([`super::upload::STALE_UPLOAD`]) and the integrity check would call the file an orphan after
//! [`taina_ybira::integrity::ORPHAN_GRACE`]; both wait because a live upload of *another* process
//! looks the same as a dead one.
//!
//! # Who may be writing: the instance lock
//!
//! Recovery trusts [`crate::instance_lock`]: when this process holds it exclusively, no other
//! process has the data open and nothing can be writing: every streaming (plain) upload's row is
//! from a dead process and is released, every staging file without a row is deleted, and every
//! stored file no blob row names is quarantined (to `quarantine/…`, as `fsck --repair` does: bytes
//! are never destroyed on a guess, e.g. after a database restored older than the storage), all at
//! once, without the grace periods. Resumable (tus) uploads are kept — clients resume them after
//! the restart — unless their staging file is gone (killed while committing: they cannot be
//! finished, and are released). Finally each community's `storage_used_bytes` is recomputed, under
//! its lock, from its blobs and the reservations left.
//!
//! When the lock is held by another process (a server running while a CLI command starts, or
//! another instance on the same PostgreSQL database), recovery does nothing beyond what is safe
//! with live writers: upkeep's hourly rules, which the first sweep after opening enqueues anyway.

use std::collections::HashSet;

use taina_core::{CommunityId, UploadId};
use taina_ybira::integrity::leftovers;
use taina_ybira::layout::temp_path;

use super::blobs;
use super::integrity::QUARANTINE_PREFIX;
use crate::db::parse_id;
use crate::jobs::Job;
use crate::{Result, Taina};

/// What the start-up recovery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Whether no other process had the storage open, so that everything left over was recovered
    /// (otherwise nothing was: upkeep's hourly rules apply).
    pub alone: bool,
    /// Streaming uploads of a dead process whose reservation was released.
    pub released_uploads: u64,
    /// Resumable uploads whose staging file was gone, released.
    pub released_resumable: u64,
    /// Staging files with no upload left, and whole-blob writes a kill cut short, deleted.
    pub removed_staging: u64,
    /// Stored files no blob row names, quarantined.
    pub quarantined: u64,
    /// Communities whose recorded use was wrong and was set to the recomputed one.
    pub corrected_use: u64,
    /// Jobs a stopped process had claimed, made claimable again at once.
    pub released_jobs: u64,
}

/// Recovers what a killed process left (see the module documentation); does nothing unless
/// `alone`.
#[tracing::instrument(skip_all)]
pub(crate) async fn recover(taina: &Taina, alone: bool) -> Result<RecoveryReport> {
    let mut report = RecoveryReport {
        alone,
        ..RecoveryReport::default()
    };
    if !alone {
        return Ok(report);
    }
    let inner = &taina.inner;
    let stored = inner.blobs.list("communities").await?;
    let present: HashSet<&str> = stored.iter().map(|o| o.path.as_str()).collect();
    let communities: Vec<(String,)> = sqlx::query_as("SELECT id FROM communities ORDER BY id")
        .fetch_all(inner.db.reader())
        .await?;
    for (community,) in communities {
        let community = parse_id(&community, CommunityId::parse)?;
        let mut tx = inner.db.begin().await?;
        blobs::lock_community(&mut tx, &community).await?;
        report.released_uploads +=
            sqlx::query("DELETE FROM uploads WHERE community_id = $1 AND upload_length IS NULL")
                .bind(community.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let resumable: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM uploads WHERE community_id = $1 AND upload_length IS NOT NULL",
        )
        .bind(community.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for (upload,) in resumable {
            let staged = temp_path(&community, &parse_id(&upload, UploadId::parse)?);
            if !present.contains(staged.as_str()) {
                sqlx::query("DELETE FROM uploads WHERE id = $1")
                    .bind(&upload)
                    .execute(&mut *tx)
                    .await?;
                report.released_resumable += 1;
            }
        }
        let (recorded, actual): (i64, i64) = sqlx::query_as(
            "SELECT storage_used_bytes, CAST( \
                COALESCE((SELECT SUM(b.size_bytes) FROM blobs b WHERE b.community_id = $1), 0) \
                + COALESCE((SELECT SUM(u.reserved_bytes) FROM uploads u WHERE u.community_id = $1), 0) \
             AS BIGINT) FROM communities WHERE id = $1",
        )
        .bind(community.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if recorded != actual {
            sqlx::query("UPDATE communities SET storage_used_bytes = $1 WHERE id = $2")
                .bind(actual)
                .bind(community.as_str())
                .execute(&mut *tx)
                .await?;
            report.corrected_use += 1;
        }
        tx.commit().await?;
    }
    report.released_jobs = crate::jobs::release_leases(&inner.db).await?;
    // The rows are settled; now the bytes no row accounts for.
    let uploads: Vec<(String, String)> = sqlx::query_as("SELECT id, community_id FROM uploads")
        .fetch_all(inner.db.reader())
        .await?;
    let mut live_staging = HashSet::new();
    for (upload, community) in uploads {
        live_staging.insert(temp_path(
            &parse_id(&community, CommunityId::parse)?,
            &parse_id(&upload, UploadId::parse)?,
        ));
    }
    let blob_paths: HashSet<String> = sqlx::query_as::<_, (String,)>("SELECT path FROM blobs")
        .fetch_all(inner.db.reader())
        .await?
        .into_iter()
        .map(|(p,)| p)
        .collect();
    let pending: Vec<(String,)> = sqlx::query_as(
        "SELECT payload FROM jobs WHERE kind = 'delete_blob' \
         AND finished_at IS NULL AND failed_at IS NULL",
    )
    .fetch_all(inner.db.reader())
    .await?;
    let freeing: HashSet<String> = pending
        .into_iter()
        .filter_map(|(payload,)| match serde_json::from_str(&payload) {
            Ok(Job::DeleteBlob { path }) => Some(path),
            _ => None,
        })
        .collect();
    // A whole-blob write (a thumbnail, say) cut by a kill leaves `{path}#{n}` on a local folder,
    // which no listing shows.
    report.removed_staging += inner.blobs.remove_abandoned_writes().await?;
    let found = leftovers(&stored, &live_staging, &blob_paths, &freeing);
    for path in &found.staging {
        inner.blobs.delete(path).await?;
        report.removed_staging += 1;
    }
    for path in &found.orphans {
        inner
            .blobs
            .promote(path, &format!("{QUARANTINE_PREFIX}/{path}"))
            .await?;
        report.quarantined += 1;
    }
    if report
        != (RecoveryReport {
            alone,
            ..RecoveryReport::default()
        })
    {
        tracing::info!(?report, "recovered what a stopped process left");
    }
    Ok(report)
}

impl super::Ybira<'_> {
    /// What the start-up recovery did when this instance opened.
    pub fn recovered(&self) -> RecoveryReport {
        self.taina.inner.recovery.get().copied().unwrap_or_default()
    }
}
