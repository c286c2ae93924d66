//! Steps 3 and 4 of an upload: the staged bytes moved into place (unless the community already
//! stores this content), then one transaction records the blob, spends the reservation and adds
//! the file (or makes it a replacement's new content); whatever fails is undone by the guard.

use taina_core::{Actor, BlobId, CommunityId, Error as DomainError, ItemId, UploadId};
use taina_ybira::access::ItemAction;
use taina_ybira::listing::ItemKind;
use taina_ybira::name::{collision_key, split_extension};

use super::guard::upload_expired;
use super::{ADOPT_SAFETY_NET, AsPhoto, OnConflict, Staged, Target, UploadGuard, to_i64};
use crate::ybira::tree::{free_name, reload};
use crate::ybira::{Change, Item, Location, Ybira, blobs};
use crate::{Error, Result};

/// What step 4 made of the content's blob.
enum Recorded {
    /// The blob the file now names (new, or referenced once more).
    Blob(BlobId),
    /// A concurrent change got in between (a purge of the existing copy, say): try again.
    Retry,
    /// The same content was committed concurrently: ours goes back to staging, theirs is
    /// referenced on the next try.
    Collided,
}

impl Ybira<'_> {
    /// Steps 3 and 4, undoing everything if they fail.
    pub(crate) async fn commit(
        &self,
        mut guard: UploadGuard,
        staged: Staged,
        actor: &Actor,
        target: Target,
        as_photo: Option<AsPhoto>,
    ) -> Result<Item> {
        let result = self
            .place_and_record(&mut guard, &staged, actor, &target, as_photo)
            .await;
        match result {
            Ok((item, replaced)) => {
                guard.disarm();
                let change = if replaced {
                    Change::Updated
                } else {
                    Change::Added
                };
                self.announce(&actor.community_id, &item, change);
                Ok(item)
            }
            Err(e) => {
                guard.undo().await;
                Err(e)
            }
        }
    }

    async fn place_and_record(
        &self,
        guard: &mut UploadGuard,
        staged: &Staged,
        actor: &Actor,
        target: &Target,
        as_photo: Option<AsPhoto>,
    ) -> Result<(Item, bool)> {
        let inner = &self.taina.inner;
        let community = &actor.community_id;
        let file_id = crate::random::new_id(ItemId::from_random);
        // Deduplicate against what the community already stores; retry if a concurrent upload of
        // the same content or a purge of the existing copy gets in between.
        for _ in 0..3 {
            let existing = {
                let mut conn = inner.db.reader().acquire().await?;
                blobs::find_by_hash(&mut conn, community, &staged.sha256).await?
            };
            if existing.is_none() && guard.moved_to.is_none() {
                self.move_into_place(guard, staged, community, &file_id, target)
                    .await?;
            }
            let mut tx = self.begin_in(community).await?;
            let blob = match self
                .record_blob(&mut tx, guard, staged, community, existing.as_ref())
                .await?
            {
                Recorded::Blob(blob) => blob,
                Recorded::Retry => continue,
                Recorded::Collided => {
                    drop(tx);
                    if let Some(moved) = guard.moved_to.take() {
                        inner.blobs.promote(&moved, &guard.temp).await?;
                    }
                    continue;
                }
            };
            spend_reservation(&mut tx, community, &guard.upload).await?;
            let (item_id, replaced) = self
                .record_item(&mut tx, actor, target, &file_id, &blob, staged)
                .await?;
            crate::ybira::enqueue_previews(&mut tx, &item_id, &staged.mime_type, self.now())
                .await?;
            if let Some(as_photo) = as_photo {
                let now = self.now();
                let job = crate::jobs::Job::AdoptPhoto {
                    file_id: item_id.clone(),
                    client_file_time: as_photo.client_file_time,
                };
                let mut job = crate::jobs::NewJob::now(job, now);
                job.run_at = now.plus(ADOPT_SAFETY_NET);
                job.unique_key = Some(crate::jobs::adopt_photo_key(&item_id));
                crate::jobs::enqueue(&mut tx, job, now).await?;
            }
            let item = reload(&mut tx, &item_id).await?;
            #[cfg(feature = "testing")]
            inner.faults.check("ybira.upload.before_commit")?;
            tx.commit().await?;
            inner.job_notify.notify_waiters();
            if existing.is_some() {
                self.drop_duplicate_bytes(guard).await?;
            }
            return Ok((item, replaced));
        }
        Err(DomainError::conflict("the upload collided with concurrent changes; try again").into())
    }

    /// Step 3: moves the staged bytes to where the file's blob lives.
    async fn move_into_place(
        &self,
        guard: &mut UploadGuard,
        staged: &Staged,
        community: &CommunityId,
        file_id: &ItemId,
        target: &Target,
    ) -> Result<()> {
        let inner = &self.taina.inner;
        let now = self.now();
        let name_ext = match target {
            Target::New { name, .. } => split_extension(name).1,
            Target::Existing(_) => None,
        };
        let ext = name_ext.or(staged.extension);
        let path = taina_ybira::layout::file_path(community, file_id, now, ext);
        inner.blobs.promote(&guard.temp, &path).await?;
        guard.moved_to = Some(path);
        #[cfg(feature = "testing")]
        inner.faults.check("ybira.upload.after_move")?;
        Ok(())
    }

    /// Step 4, the blob: the existing copy referenced once more (its bytes brought back if the
    /// integrity check found them gone), or the moved bytes recorded as a new blob and charged.
    async fn record_blob(
        &self,
        tx: &mut sqlx::AnyConnection,
        guard: &UploadGuard,
        staged: &Staged,
        community: &CommunityId,
        existing: Option<&blobs::Existing>,
    ) -> Result<Recorded> {
        let inner = &self.taina.inner;
        if let Some(found) = existing {
            if !blobs::add_reference(tx, &found.id).await? {
                return Ok(Recorded::Retry);
            }
            if found.missing {
                // Content whose bytes the integrity check found gone: this upload brings
                // them back (a copy, so that the staged file stays ours until commit).
                blobs::mark_found(tx, &found.id).await?;
                inner.blobs.copy(&guard.temp, &found.path).await?;
            }
            return Ok(Recorded::Blob(found.id.clone()));
        }
        let Some(path) = guard.moved_to.clone() else {
            return Ok(Recorded::Retry);
        };
        let blob = crate::random::new_id(BlobId::from_random);
        let inserted = blobs::insert(
            tx,
            blobs::NewBlob {
                id: &blob,
                community,
                sha256: &staged.sha256,
                size_bytes: to_i64(staged.size),
                mime_type: &staged.mime_type,
                path: &path,
            },
            self.now(),
        )
        .await;
        match inserted {
            Ok(()) => {
                blobs::adjust_used(tx, community, to_i64(staged.size)).await?;
                Ok(Recorded::Blob(blob))
            }
            // The same content was committed concurrently: drop ours, reference theirs.
            Err(Error::Database(e)) if crate::db::is_unique_violation(&e) => Ok(Recorded::Collided),
            Err(e) => Err(e),
        }
    }

    /// Step 4, the item: a new file, or the new content of an existing one.
    async fn record_item(
        &self,
        tx: &mut sqlx::AnyConnection,
        actor: &Actor,
        target: &Target,
        file_id: &ItemId,
        blob: &BlobId,
        staged: &Staged,
    ) -> Result<(ItemId, bool)> {
        match target {
            Target::New {
                location,
                name,
                on_conflict,
            } => {
                self.record_new(
                    tx,
                    actor,
                    location,
                    name,
                    *on_conflict,
                    file_id,
                    blob,
                    staged,
                )
                .await
            }
            Target::Existing(id) => {
                self.load(tx, actor, id, ItemAction::WriteContent, false)
                    .await?;
                self.record_version(tx, actor, id, blob, staged).await?;
                Ok((id.clone(), true))
            }
        }
    }

    /// After a duplicate's commit: its staged (and any moved) bytes are no longer needed.
    async fn drop_duplicate_bytes(&self, guard: &mut UploadGuard) -> Result<()> {
        let inner = &self.taina.inner;
        if let Err(e) = inner.blobs.delete(&guard.temp).await {
            tracing::warn!(error = %e, "could not remove a duplicate's staged bytes");
        }
        if let Some(moved) = guard.moved_to.take() {
            inner.blobs.delete(&moved).await?;
        }
        Ok(())
    }

    /// Inserts a new file (or, with [`OnConflict::Replace`] and a taken name, replaces that file).
    #[allow(clippy::too_many_arguments)]
    async fn record_new(
        &self,
        tx: &mut sqlx::AnyConnection,
        actor: &Actor,
        location: &Location,
        name: &str,
        on_conflict: OnConflict,
        file_id: &ItemId,
        blob: &BlobId,
        staged: &Staged,
    ) -> Result<(ItemId, bool)> {
        let dest = self.destination(tx, actor, location).await?;
        if on_conflict == OnConflict::Replace {
            let existing: Option<(String, String)> = sqlx::query_as(
                "SELECT id, kind FROM items WHERE parent_key = $1 AND name_key = $2 AND deleted_at IS NULL",
            )
            .bind(&dest.parent_key)
            .bind(collision_key(name))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((id, kind)) = existing {
                if kind != ItemKind::File.as_str() {
                    return Err(DomainError::conflict(format!("\"{name}\" is a folder")).into());
                }
                let id = crate::db::parse_id(&id, ItemId::parse)?;
                self.load(tx, actor, &id, ItemAction::WriteContent, false)
                    .await?;
                self.record_version(tx, actor, &id, blob, staged).await?;
                return Ok((id, true));
            }
        }
        let name = free_name(tx, &dest.parent_key, name).await?;
        let content = crate::ybira::tree::Content {
            blob,
            size_bytes: to_i64(staged.size),
            mime_type: Some(&staged.mime_type),
        };
        crate::ybira::tree::insert_item(
            tx,
            file_id,
            actor,
            &dest,
            &name,
            Some(content),
            self.now(),
        )
        .await?;
        Ok((file_id.clone(), false))
    }

    /// Makes `blob` the file's content, keeping the current content as its newest version and
    /// dropping versions beyond the configured number.
    async fn record_version(
        &self,
        tx: &mut sqlx::AnyConnection,
        actor: &Actor,
        file: &ItemId,
        blob: &BlobId,
        staged: &Staged,
    ) -> Result<()> {
        self.swap_content(
            tx,
            actor,
            file,
            blob,
            to_i64(staged.size),
            &staged.mime_type,
        )
        .await
    }
}

/// Step 4, the reservation: spent, since the blob's size was charged (or nothing, for content
/// already stored).
async fn spend_reservation(
    tx: &mut sqlx::AnyConnection,
    community: &CommunityId,
    upload: &UploadId,
) -> Result<()> {
    let reserved: Option<(i64,)> =
        sqlx::query_as("DELETE FROM uploads WHERE id = $1 RETURNING reserved_bytes")
            .bind(upload.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let Some((reserved,)) = reserved else {
        return Err(upload_expired());
    };
    blobs::adjust_used(tx, community, -reserved).await
}
