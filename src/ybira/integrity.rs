//! The integrity check: the database against storage, and each community's recorded use against
//! its blobs. The comparison itself is pure ([`taina_ybira::integrity::compare`]); this lists both
//! sides, hashes in deep mode, and repairs when asked.

use std::collections::HashSet;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use taina_core::{BlobId, CommunityId, UploadId};
use taina_ybira::integrity::{IntegrityReport, KnownBlob, QuotaDrift, compare};
use tracing::instrument;

use super::Ybira;
use crate::Result;
use crate::accounts::rows::parse_id;
use crate::jobs::{Job, NewJob};

/// Where repair moves orphans (outside `communities/`, so later checks do not list them again).
pub const QUARANTINE_PREFIX: &str = "quarantine";

/// How thorough the check is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntegrityOptions {
    /// Also read every blob and compare its SHA-256.
    pub deep: bool,
    /// Quarantine orphans, mark missing blobs (their files then report the content missing), and
    /// set each community's recorded use to the recomputed one.
    pub repair: bool,
}

impl Ybira<'_> {
    /// Compares the database with storage for the whole instance (an operator's call: the CLI, the
    /// TUI and the daily job).
    pub async fn check_integrity(&self, options: IntegrityOptions) -> Result<IntegrityReport> {
        self.check_integrity_with(options, &crate::progress::Silent)
            .await
    }

    /// [`Ybira::check_integrity`], reporting the deep check's hashing to `progress`.
    #[instrument(skip_all, fields(deep = options.deep, repair = options.repair))]
    pub async fn check_integrity_with(
        &self,
        options: IntegrityOptions,
        progress: &dyn crate::progress::Progress,
    ) -> Result<IntegrityReport> {
        let inner = &self.taina.inner;
        let rows: Vec<(String, String, i64, Option<i64>, String)> =
            sqlx::query_as("SELECT id, path, size_bytes, missing_at, sha256 FROM blobs")
                .fetch_all(inner.db.reader())
                .await?;
        let mut known = Vec::with_capacity(rows.len());
        let mut hashes = Vec::with_capacity(rows.len());
        for (id, path, size, missing_at, sha256) in rows {
            known.push(KnownBlob {
                id: parse_id(&id, BlobId::parse)?,
                path,
                size_bytes: u64::try_from(size).unwrap_or(0),
                marked_missing: missing_at.is_some(),
            });
            hashes.push(sha256);
        }
        let stored = inner.blobs.list("communities").await?;
        let uploads: Vec<(String, String)> = sqlx::query_as("SELECT id, community_id FROM uploads")
            .fetch_all(inner.db.reader())
            .await?;
        let mut in_flight = HashSet::new();
        for (upload, community) in uploads {
            in_flight.insert(taina_ybira::layout::temp_path(
                &parse_id(&community, CommunityId::parse)?,
                &parse_id(&upload, UploadId::parse)?,
            ));
        }
        let mut report = compare(&known, &stored, &in_flight, self.now());
        report.deep = options.deep;
        report.repaired = options.repair;
        // A blob purged while we listed is not missing: check again before reporting.
        let mut still_missing = Vec::new();
        for (id, path) in std::mem::take(&mut report.missing) {
            let row: Option<(String,)> = sqlx::query_as("SELECT id FROM blobs WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(inner.db.reader())
                .await?;
            if row.is_some() && !inner.blobs.exists(&path).await? {
                still_missing.push((id, path));
            }
        }
        report.missing = still_missing;
        if options.deep {
            let present: HashSet<&str> = stored.iter().map(|o| o.path.as_str()).collect();
            let mismatched: HashSet<&str> = report
                .size_mismatches
                .iter()
                .map(|m| m.path.as_str())
                .collect();
            progress.start("hashing", known.iter().map(|b| b.size_bytes).sum(), true);
            for (blob, sha256) in known.iter().zip(&hashes) {
                let path = blob.path.as_str();
                progress.advance(blob.size_bytes);
                if !present.contains(path) || mismatched.contains(path) {
                    continue;
                }
                if &self.hash_blob(path, blob.size_bytes).await? != sha256 {
                    report
                        .hash_mismatches
                        .push((blob.id.clone(), blob.path.clone()));
                }
            }
        }
        report.quota_drift = self.check_quota(options.repair).await?;
        if options.repair {
            for path in &report.orphans {
                inner
                    .blobs
                    .promote(path, &format!("{QUARANTINE_PREFIX}/{path}"))
                    .await?;
            }
            let mut tx = inner.db.begin().await?;
            for (id, _) in &report.missing {
                sqlx::query("UPDATE blobs SET missing_at = $1 WHERE id = $2")
                    .bind(self.now().as_millis())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            for (id, _) in &report.reappeared {
                super::blobs::mark_found(&mut tx, id).await?;
            }
            tx.commit().await?;
        }
        Ok(report)
    }

    async fn hash_blob(&self, path: &str, size: u64) -> Result<String> {
        let mut body = self.taina.inner.blobs.read_range(path, 0..size).await?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = body.next().await {
            hasher.update(&chunk?);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    /// Recomputes each community's use (blobs plus reservations) under its row lock, and corrects
    /// the recorded figure when repairing.
    async fn check_quota(&self, repair: bool) -> Result<Vec<QuotaDrift>> {
        let mut tx = self.taina.inner.db.begin().await?;
        sqlx::query("UPDATE communities SET updated_at = updated_at")
            .execute(&mut *tx)
            .await?;
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT c.id, c.storage_used_bytes, \
             CAST(COALESCE((SELECT SUM(b.size_bytes) FROM blobs b WHERE b.community_id = c.id), 0) \
                + COALESCE((SELECT SUM(u.reserved_bytes) FROM uploads u WHERE u.community_id = c.id), 0) \
                AS BIGINT) \
             FROM communities c ORDER BY c.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut drift = Vec::new();
        for (community, recorded, actual) in rows {
            if recorded == actual {
                continue;
            }
            if repair {
                sqlx::query("UPDATE communities SET storage_used_bytes = $1 WHERE id = $2")
                    .bind(actual)
                    .bind(&community)
                    .execute(&mut *tx)
                    .await?;
            }
            drift.push(QuotaDrift {
                community_id: parse_id(&community, CommunityId::parse)?,
                recorded_bytes: recorded,
                actual_bytes: actual,
            });
        }
        tx.commit().await?;
        Ok(drift)
    }

    /// Removes a freed blob's bytes (the `delete_blob` job), unless a blob row still names the path.
    pub(crate) async fn delete_unreferenced_blob(&self, path: &str) -> Result<()> {
        let inner = &self.taina.inner;
        let still: Option<(String,)> = sqlx::query_as("SELECT id FROM blobs WHERE path = $1")
            .bind(path)
            .fetch_optional(inner.db.reader())
            .await?;
        if still.is_some() {
            tracing::warn!(path, "blob path is in use again; not deleting");
            return Ok(());
        }
        if crate::backup::backup_running(&inner.data_dir) {
            // A backup's database snapshot may still name this blob: delete it after the backup.
            let later = NewJob {
                run_at: self
                    .taina
                    .now()
                    .plus(std::time::Duration::from_secs(10 * 60)),
                ..NewJob::now(
                    Job::DeleteBlob {
                        path: path.to_owned(),
                    },
                    self.taina.now(),
                )
            };
            return self.taina.jobs().enqueue(later).await;
        }
        inner.blobs.delete(path).await
    }
}
