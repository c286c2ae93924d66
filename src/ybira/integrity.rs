//! The integrity check: the database against storage (blobs, and the previews of files), and each
//! community's recorded use against its blobs. The comparison itself is pure
//! ([`taina_ybira::integrity::compare`]); this lists both sides, hashes in deep mode, and repairs
//! when asked.

use std::collections::HashSet;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use taina_core::{BlobId, CommunityId, ItemId, UploadId};
use taina_jaci::media::preview_names;
use taina_ybira::integrity::{
    IntegrityReport, KnownBlob, KnownFile, PreviewFacts, QuotaDrift, ReferenceDrift, compare,
    previews_expected,
};
use tracing::instrument;

use super::Ybira;
use crate::Result;
use crate::db::parse_id;
use crate::jobs::{Job, NewJob};

/// Where repair moves orphans (outside `communities/`, so later checks do not list them again).
pub const QUARANTINE_PREFIX: &str = "quarantine";

/// A file's id, community, type, when its previews were made and whether that failed, whether it
/// is in the trash, and whether its content was found missing.
type FileRow = (
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// The files, as [`FileRow`]s.
const FILE_ROWS: &str = "SELECT i.id, i.community_id, i.mime_type, i.previews_at, i.preview_error, \
     i.deleted_at, b.missing_at FROM items i LEFT JOIN blobs b ON b.id = i.blob_id \
     WHERE i.kind = 'file'";

/// The previews a file must have ([`previews_expected`], [`preview_names`]).
fn expected(
    (_, _, mime, previews_at, preview_error, deleted_at, missing_at): &FileRow,
) -> Vec<String> {
    let facts = PreviewFacts {
        made: previews_at.is_some(),
        failed: preview_error.is_some(),
        in_trash: deleted_at.is_some(),
        content_missing: missing_at.is_some(),
    };
    if previews_expected(facts) {
        preview_names(mime.as_deref().unwrap_or_default())
    } else {
        Vec::new()
    }
}

/// How thorough the check is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntegrityOptions {
    /// Also read every blob and compare its SHA-256.
    pub deep: bool,
    /// Quarantine orphans, mark missing blobs (their files then report the content missing), make
    /// missing previews again (the `previews` job), and set each community's recorded use to the
    /// recomputed one.
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
        // Files before storage: a file added meanwhile has previews too new to be orphans.
        let files = self.known_files().await?;
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
        let mut report = compare(&known, &files, &stored, &in_flight, self.now());
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
        // Likewise a file purged (or given new content) while we listed is not missing previews.
        let mut still_missing = Vec::new();
        for (file, path) in std::mem::take(&mut report.missing_previews) {
            if self.expected_previews(&file).await?.is_empty() || inner.blobs.exists(&path).await? {
                continue;
            }
            still_missing.push((file, path));
        }
        report.missing_previews = still_missing;
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
        // References first: repairing them may free content, which the use then accounts for.
        report.reference_drift = self.check_references(options.repair).await?;
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
            let now = self.now();
            let mut remade = HashSet::new();
            for (file, _) in &report.missing_previews {
                if remade.insert(file) {
                    let job = Job::Previews {
                        file_id: file.clone(),
                    };
                    crate::jobs::enqueue(&mut tx, NewJob::now(job, now), now).await?;
                }
            }
            tx.commit().await?;
            if !remade.is_empty() {
                inner.job_notify.notify_waiters();
            }
        }
        Ok(report)
    }

    /// Every file (live or in the trash), with the previews storage must hold for it.
    async fn known_files(&self) -> Result<Vec<KnownFile>> {
        let rows: Vec<FileRow> = sqlx::query_as(FILE_ROWS)
            .fetch_all(self.taina.inner.db.reader())
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(KnownFile {
                    community_id: parse_id(&row.1, CommunityId::parse)?,
                    id: parse_id(&row.0, ItemId::parse)?,
                    expected_previews: expected(&row),
                })
            })
            .collect()
    }

    /// The previews storage must hold for one file now (none if it is gone).
    async fn expected_previews(&self, file: &ItemId) -> Result<Vec<String>> {
        let row: Option<FileRow> = sqlx::query_as(&format!("{FILE_ROWS} AND i.id = $1"))
            .bind(file.as_str())
            .fetch_optional(self.taina.inner.db.reader())
            .await?;
        Ok(row.as_ref().map(expected).unwrap_or_default())
    }

    async fn hash_blob(&self, path: &str, size: u64) -> Result<String> {
        let mut body = self.taina.inner.blobs.read_range(path, 0..size).await?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = body.next().await {
            hasher.update(&chunk?);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    /// Counts every blob's references — files, versions and the message attachments pinned to it —
    /// under every community's lock (every change to a reference takes its community's), and
    /// corrects the recorded counts when repairing: content nothing refers to is freed as its
    /// last reference going would free it.
    async fn check_references(&self, repair: bool) -> Result<Vec<ReferenceDrift>> {
        let mut tx = self.taina.inner.db.begin().await?;
        sqlx::query("UPDATE communities SET updated_at = updated_at")
            .execute(&mut *tx)
            .await?;
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT b.id, b.ref_count, CAST(COALESCE(r.n, 0) AS BIGINT) FROM blobs b \
             LEFT JOIN (SELECT refs.blob_id, COUNT(*) AS n FROM ( \
                SELECT blob_id FROM items WHERE blob_id IS NOT NULL \
                UNION ALL SELECT blob_id FROM file_versions \
                UNION ALL SELECT attachment_blob_id AS blob_id FROM messages \
                    WHERE attachment_blob_id IS NOT NULL) refs \
             GROUP BY refs.blob_id) r ON r.blob_id = b.id \
             WHERE b.ref_count <> COALESCE(r.n, 0) ORDER BY b.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut drift = Vec::with_capacity(rows.len());
        for (blob, recorded, actual) in rows {
            let blob_id = parse_id(&blob, BlobId::parse)?;
            if repair {
                // One more than counted, then one released: the last reference's way out.
                sqlx::query("UPDATE blobs SET ref_count = $1 WHERE id = $2")
                    .bind(actual + 1)
                    .bind(&blob)
                    .execute(&mut *tx)
                    .await?;
                super::blobs::release_reference(&mut tx, &blob_id, self.now()).await?;
            }
            drift.push(ReferenceDrift {
                blob_id,
                recorded,
                actual,
            });
        }
        tx.commit().await?;
        if repair && !drift.is_empty() {
            self.taina.inner.job_notify.notify_waiters();
        }
        Ok(drift)
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
