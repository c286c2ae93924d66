//! The trash: what was deleted, restoring it, purging it (now, or after the retention period), and
//! the upkeep job that also releases the reservations of crashed uploads.

use std::time::Duration;

use sqlx::AnyConnection;
use taina_core::{
    Actor, BlobId, CommunityId, Error as DomainError, ItemId, Timestamp, UploadId, UserId,
};
use taina_ybira::access::{
    ItemAction, ItemFacts, RestoreParent, SubtreeChange, authorize_item, authorize_restore,
};
use taina_ybira::listing::parent_key;
use taina_ybira::name::collision_key;
use tracing::instrument;

use super::rows::{ITEM_COLUMNS, ItemRow};
use super::tree::{free_name, reload, subtree_ids};
use super::upload::{STALE_UPLOAD, release_upload};
use super::{Item, Ybira, blobs};
use crate::Result;
use crate::db::parse_id;

/// Trash roots purged per transaction by the upkeep job.
const PURGE_BATCH: i64 = 100;

/// What one upkeep run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Trash items (with what they held) purged after the retention period.
    pub purged: u64,
    /// Crashed uploads, and expired resumable ones, whose reservation was released and staged
    /// bytes removed.
    pub stale_uploads: u64,
}

/// Deletes the items `ids_sql` picks (a sub-select of item ids taking `$1`), with their versions and
/// shares, and frees the content no one else refers to.
async fn delete_items(
    conn: &mut AnyConnection,
    ids_sql: &str,
    key: &str,
    now: Timestamp,
) -> Result<()> {
    let blob_ids: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT blob_id FROM items WHERE blob_id IS NOT NULL AND id IN ({ids_sql}) \
         UNION ALL \
         SELECT blob_id FROM file_versions WHERE file_id IN ({ids_sql})"
    ))
    .bind(key)
    .fetch_all(&mut *conn)
    .await?;
    // Their previews go too, by a job: those made, and those a previews job may be making (or
    // may have half made before its process died), which `previews_at` does not show yet.
    let files: Vec<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT id, community_id, mime_type, previews_at FROM items \
         WHERE kind = 'file' AND id IN ({ids_sql})"
    ))
    .bind(key)
    .fetch_all(&mut *conn)
    .await?;
    let previews = files.into_iter().filter(|(_, _, mime, made)| {
        made.is_some()
            || taina_jaci::media::preview_source(mime.as_deref().unwrap_or_default()).is_some()
    });
    for (file, community, ..) in previews {
        let dir = taina_ybira::layout::thumbnails_dir(
            &parse_id(&community, CommunityId::parse)?,
            &parse_id(&file, ItemId::parse)?,
        );
        crate::jobs::enqueue(
            conn,
            crate::jobs::NewJob::now(crate::jobs::Job::DeletePreviews { dir }, now),
            now,
        )
        .await?;
    }
    // Versions and shares go with their items (ON DELETE CASCADE); then the blobs lose a reference.
    sqlx::query(&format!("DELETE FROM items WHERE id IN ({ids_sql})"))
        .bind(key)
        .execute(&mut *conn)
        .await?;
    for (blob,) in blob_ids {
        blobs::release_reference(conn, &parse_id(&blob, BlobId::parse)?, now).await?;
    }
    Ok(())
}

/// Deletes an item and everything under it for good, freeing content no one else refers to.
pub(crate) async fn purge_subtree(
    conn: &mut AnyConnection,
    root: &ItemId,
    now: Timestamp,
) -> Result<()> {
    delete_items(conn, subtree_ids(false), root.as_str(), now).await
}

/// Deletes a departing member's private space for good (inside the removal's transaction).
pub(crate) async fn remove_private_space(
    conn: &mut AnyConnection,
    user: &UserId,
    now: Timestamp,
) -> Result<()> {
    delete_items(
        conn,
        "SELECT id FROM items WHERE space_owner_id = $1",
        user.as_str(),
        now,
    )
    .await
}

impl Ybira<'_> {
    /// What the actor can restore: the items they deleted from their own space, the items they own,
    /// and (for admins) what was deleted from the shared space; of these, only what they may still
    /// restore now (not their own items in someone else's space once its share was revoked, say).
    /// Newest first.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn trash(&self, actor: &Actor) -> Result<Vec<Item>> {
        let scope = taina_ybira::access::trash_scope(actor);
        let shared = if scope.shared_space {
            " OR i.space_owner_id IS NULL"
        } else {
            ""
        };
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let rows: Vec<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} WHERE i.community_id = $1 AND i.deleted_at IS NOT NULL \
             AND i.trash_id = i.id AND (i.space_owner_id = $2 OR i.owner_id = $2{shared}) \
             ORDER BY i.deleted_at DESC, i.id LIMIT 10000"
        ))
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let item = row.into_loaded()?.item;
            let facts = |share| ItemFacts {
                community_id: &actor.community_id,
                space: &item.space,
                owner_id: item.owner_id.as_ref(),
                share,
            };
            // Without a share first (one's own space, the shared space); else ask for the share.
            let may = authorize_item(actor, ItemAction::Modify, facts(None)).is_ok() || {
                let share = super::best_share(&mut conn, &item.id, &actor.user_id).await?;
                share.is_some() && authorize_item(actor, ItemAction::Modify, facts(share)).is_ok()
            };
            if may {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// Brings an item (with what went to the trash with it) back to its folder, or to the root of
    /// its space if that folder is in the trash or gone, for those who may add there (otherwise a
    /// conflict: restore the folder first, [`taina_ybira::access::authorize_restore`]); a name
    /// taken meanwhile gets a number.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn restore(&self, actor: &Actor, id: &ItemId) -> Result<Item> {
        let mut tx = self.begin_in(&actor.community_id).await?;
        let loaded = self
            .load(&mut tx, actor, id, ItemAction::Modify, true)
            .await?;
        if loaded.trash_id.as_ref() != Some(id) {
            return Err(DomainError::invalid(
                "id",
                "is inside a deleted folder: restore the folder",
            )
            .into());
        }
        let found = match &loaded.item.parent_id {
            Some(p) => {
                let row: Option<(Option<i64>,)> =
                    sqlx::query_as("SELECT deleted_at FROM items WHERE id = $1")
                        .bind(p.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                match row {
                    Some((None,)) => RestoreParent::Live,
                    Some((Some(_),)) => RestoreParent::Trashed,
                    None => RestoreParent::Gone,
                }
            }
            None => RestoreParent::Root,
        };
        // Falling back to the root of the space needs the right to add there.
        authorize_restore(actor, &loaded.item.space, found)?;
        let parent = match found {
            RestoreParent::Live => loaded.item.parent_id.clone(),
            _ => None,
        };
        let key = parent_key(&actor.community_id, &loaded.item.space, parent.as_ref());
        let name = free_name(&mut tx, &key, &loaded.item.name).await?;
        let now = self.now().as_millis();
        sqlx::query(
            "UPDATE items SET parent_id = $1, parent_key = $2, name = $3, name_key = $4, \
             sort_key = $5, revision = revision + 1, updated_at = $6 WHERE id = $7",
        )
        .bind(parent.as_ref().map(|p| p.as_str().to_owned()))
        .bind(&key)
        .bind(&name)
        .bind(collision_key(&name))
        .bind(taina_ybira::listing::sort_key(loaded.item.kind, &name))
        .bind(now)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE items SET deleted_at = NULL, trash_id = NULL WHERE trash_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(super::tree::name_conflict)?;
        let item = reload(&mut tx, id).await?;
        tx.commit().await?;
        self.announce(&actor.community_id, &item, super::Change::Restored);
        Ok(item)
    }

    /// Deletes an item in the trash (with everything in it) for good; its storage is freed once no
    /// other file refers to the same content. A folder holding items the actor may not delete
    /// (other people's, even ones they put in the trash themselves) is refused as a whole
    /// ([`taina_ybira::access::authorize_subtree`]).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn purge(&self, actor: &Actor, id: &ItemId) -> Result<()> {
        let mut tx = self.begin_in(&actor.community_id).await?;
        let loaded = self
            .load(&mut tx, actor, id, ItemAction::Modify, true)
            .await?;
        self.ensure_subtree(&mut tx, actor, &loaded, SubtreeChange::Purge)
            .await?;
        purge_subtree(&mut tx, id, self.now()).await?;
        tx.commit().await?;
        self.taina.inner.job_notify.notify_waiters();
        self.announce(&actor.community_id, &loaded.item, super::Change::Deleted);
        Ok(())
    }

    /// Purges everything in the actor's trash, bar folders holding other people's items, which
    /// stay (see [`Ybira::purge`]). Answers how many were purged.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn empty_trash(&self, actor: &Actor) -> Result<u64> {
        let mut purged = 0;
        for item in self.trash(actor).await? {
            match self.purge(actor, &item.id).await {
                Ok(()) => purged += 1,
                // Purged meanwhile (by another session or the upkeep job).
                Err(crate::Error::Domain(DomainError::NotFound { .. })) => {}
                // Holds someone else's items: left for them (or an admin).
                Err(crate::Error::Domain(DomainError::Forbidden { .. })) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(purged)
    }

    /// Upkeep: purges trash older than the retention period, releases streaming uploads not heard
    /// from for an hour and resumable uploads that expired (their staged bytes removed). Runs as a
    /// background job.
    #[instrument(skip_all)]
    pub async fn cleanup(&self) -> Result<CleanupReport> {
        let inner = &self.taina.inner;
        let mut report = CleanupReport::default();
        let retention =
            Duration::from_secs(u64::from(inner.config.trash_retention_days) * 24 * 3600);
        loop {
            let now = self.now();
            let cutoff = now.minus(retention).as_millis();
            let roots: Vec<(String, String)> = sqlx::query_as(
                "SELECT id, community_id FROM items WHERE deleted_at IS NOT NULL AND trash_id = id \
                 AND deleted_at <= $1 ORDER BY deleted_at, id LIMIT $2",
            )
            .bind(cutoff)
            .bind(PURGE_BATCH)
            .fetch_all(inner.db.reader())
            .await?;
            if roots.is_empty() {
                break;
            }
            for (root, community) in &roots {
                let community = parse_id(community, CommunityId::parse)?;
                let mut tx = self.begin_in(&community).await?;
                // Still in the trash and expired now that we hold the lock (not restored meanwhile)?
                let still: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM items WHERE id = $1 AND trash_id = id AND deleted_at <= $2",
                )
                .bind(root)
                .bind(cutoff)
                .fetch_optional(&mut *tx)
                .await?;
                if still.is_some() {
                    purge_subtree(&mut tx, &parse_id(root, ItemId::parse)?, now).await?;
                    report.purged += 1;
                }
                tx.commit().await?;
            }
        }
        // Streaming uploads touch their row while alive; resumable ones expire by their own rule
        // (from their creation, and from their last byte).
        let stale_streaming = self.now().minus(STALE_UPLOAD);
        let stale: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, community_id FROM uploads WHERE upload_length IS NULL AND touched_at <= $1",
        )
        .bind(stale_streaming.as_millis())
        .fetch_all(inner.db.reader())
        .await?;
        for (upload, community) in stale {
            let upload = parse_id(&upload, UploadId::parse)?;
            let community = parse_id(&community, CommunityId::parse)?;
            // Only if it is still stale: an upload that woke up meanwhile keeps going.
            if release_upload(self.taina, &community, &upload, Some(stale_streaming)).await? {
                let staged = taina_ybira::layout::temp_path(&community, &upload);
                if let Err(e) = inner.blobs.delete(&staged).await {
                    tracing::warn!(%upload, error = %e, "could not remove a crashed upload's bytes");
                }
                report.stale_uploads += 1;
            }
        }
        report.stale_uploads += super::resumable::release_expired(self.taina, None).await?;
        if report != CleanupReport::default() {
            tracing::info!(?report, "ybira upkeep");
            inner.job_notify.notify_waiters();
        }
        Ok(report)
    }
}
