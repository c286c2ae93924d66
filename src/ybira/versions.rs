//! A file's versions as content changes: the current content kept as the newest version when new
//! content replaces it (a replacement upload, a version restored), and the oldest dropped beyond
//! the configured number ([`taina_ybira::versions::versions_to_drop`]).

use taina_core::{Actor, BlobId, ItemId, VersionId};
use taina_ybira::versions::versions_to_drop;

use super::upload::to_i64;
use super::{Ybira, blobs};
use crate::{Error, Result};

impl Ybira<'_> {
    /// Makes `blob` (already referenced by the caller) the file's content; the old content becomes a
    /// version. The file keeps its owner: new content makes nobody the owner of a file, not even of
    /// one whose owner left (else a write-share holder could take it by replacing its content).
    pub(crate) async fn swap_content(
        &self,
        tx: &mut sqlx::AnyConnection,
        actor: &Actor,
        file: &ItemId,
        blob: &BlobId,
        size: i64,
        mime_type: &str,
    ) -> Result<()> {
        let now = self.now();
        let (old_blob, old_size, old_mime, author, created): (
            Option<String>,
            i64,
            Option<String>,
            Option<String>,
            i64,
        ) = sqlx::query_as(
            "SELECT blob_id, size_bytes, mime_type, owner_id, updated_at FROM items WHERE id = $1",
        )
        .bind(file.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let old_blob =
            old_blob.ok_or_else(|| Error::Corrupt(format!("file {file} has no content")))?;
        sqlx::query(
            "INSERT INTO file_versions (id, file_id, community_id, blob_id, size_bytes, mime_type, \
             author_id, created_at, replaced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(crate::random::new_id(VersionId::from_random).as_str())
        .bind(file.as_str())
        .bind(actor.community_id.as_str())
        .bind(&old_blob)
        .bind(old_size)
        .bind(old_mime.unwrap_or_else(|| "application/octet-stream".into()))
        .bind(author)
        .bind(created)
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        // The previews were made from the old content: they stop counting now (the previews job
        // makes new ones for content that has them; otherwise the old ones are deleted).
        let had_previews: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT previews_at FROM items WHERE id = $1")
                .bind(file.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "UPDATE items SET blob_id = $1, size_bytes = $2, mime_type = $3, \
             revision = revision + 1, updated_at = $4, previews_at = NULL, preview_error = NULL, \
             client_modified_at = NULL WHERE id = $5",
        )
        .bind(blob.as_str())
        .bind(size)
        .bind(mime_type)
        .bind(now.as_millis())
        .bind(file.as_str())
        .execute(&mut *tx)
        .await?;
        if had_previews.is_some_and(|(at,)| at.is_some())
            && taina_jaci::media::preview_source(mime_type).is_none()
        {
            let dir = taina_ybira::layout::thumbnails_dir(&actor.community_id, file);
            crate::jobs::enqueue(
                tx,
                crate::jobs::NewJob::now(crate::jobs::Job::DeletePreviews { dir }, now),
                now,
            )
            .await?;
        }
        self.prune_versions(tx, file).await
    }

    /// Drops a file's oldest versions beyond the configured number.
    async fn prune_versions(&self, tx: &mut sqlx::AnyConnection, file: &ItemId) -> Result<()> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM file_versions WHERE file_id = $1")
                .bind(file.as_str())
                .fetch_one(&mut *tx)
                .await?;
        let drop_count = versions_to_drop(
            u64::try_from(count).unwrap_or(0),
            self.taina.inner.config.file_versions_kept,
        );
        if drop_count == 0 {
            return Ok(());
        }
        let old: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, blob_id FROM file_versions WHERE file_id = $1 \
             ORDER BY replaced_at, id LIMIT $2",
        )
        .bind(file.as_str())
        .bind(to_i64(drop_count))
        .fetch_all(&mut *tx)
        .await?;
        for (version, blob) in old {
            sqlx::query("DELETE FROM file_versions WHERE id = $1")
                .bind(&version)
                .execute(&mut *tx)
                .await?;
            let blob = crate::db::parse_id(&blob, BlobId::parse)?;
            blobs::release_reference(tx, &blob, self.now()).await?;
        }
        Ok(())
    }
}
