//! Uploads: stream to a staging file while hashing, sniffing and reserving quota; move into place;
//! commit the row. Whatever fails (or is cancelled) on the way leaves no staged or moved bytes and
//! gives its reservation back.
//!
//! The steps, each with what undoes it:
//! 1. an `uploads` row (its reservation, initially the declared size, if any) — deleted and released;
//! 2. bytes streamed to `communities/{c}/temp/{upload}`, hashed, the per-file limit and the quota
//!    reservation checked as they arrive — the staged file deleted;
//! 3. unless the community already stores this content (dedup), a rename to
//!    `communities/{c}/files/{yyyy}/{mm}/{file}.{ext}` — the moved file deleted;
//! 4. one transaction: the blob recorded (or referenced again), the reservation turned into the
//!    blob's size (or released for a duplicate), the item inserted (or, for a replacement, the old
//!    content kept as a version), the `uploads` row deleted.
//!
//! A crash between steps leaves an `uploads` row and at worst a moved file no row refers to: the
//! start-up recovery ([`super::recovery`]) releases and removes both when no other process has the
//! storage open, else [`Ybira::cleanup`] releases the row after an hour and the integrity check
//! finds the file as an orphan.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use taina_core::{Actor, BlobId, CommunityId, Error as DomainError, ItemId, UploadId, VersionId};
use taina_ybira::access::ItemAction;
use taina_ybira::listing::ItemKind;
use taina_ybira::mime::{SNIFF_BYTES, content_extension, detect_mime};
use taina_ybira::name::{collision_key, normalize_name, split_extension};
use taina_ybira::upload::{check_file_size, reservation_needed};
use taina_ybira::versions::versions_to_drop;
use tracing::instrument;

use super::tree::{free_name, reload};
use super::{Change, Item, Location, Ybira, blobs};
use crate::{Error, Result, Taina};

/// How often a long upload marks itself alive even when it needs no more quota.
const TOUCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// An upload not heard from for this long is taken for crashed and released.
pub const STALE_UPLOAD: std::time::Duration = std::time::Duration::from_secs(3600);

/// What to do when the name is already taken in the folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnConflict {
    /// Store it as `name (2).ext` (or the next free number).
    #[default]
    Rename,
    /// Replace the existing file's content, keeping the old content as a version.
    Replace,
}

/// An upload's destination and name.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// Where the file goes.
    pub location: Location,
    /// Its name.
    pub name: String,
    /// The size the client announced (e.g. `Content-Length`), if any: reserved up front, and the
    /// upload is refused at once if it cannot fit. More bytes than announced are refused.
    pub declared_size: Option<u64>,
    /// What to do when the name is taken.
    pub on_conflict: OnConflict,
}

/// Content staged and hashed, ready to commit.
pub(crate) struct Staged {
    pub(crate) sha256: String,
    pub(crate) size: u64,
    pub(crate) mime_type: String,
    /// The extension the content's type usually has, for a name without one.
    pub(crate) extension: Option<&'static str>,
}

/// Undoes an unfinished upload: deletes staged and moved bytes and releases the reservation. Runs
/// when dropped (a cancelled upload), on a spawned task.
pub(crate) struct UploadGuard {
    taina: Taina,
    community: CommunityId,
    upload: UploadId,
    temp: String,
    moved_to: Option<String>,
    armed: bool,
}

impl UploadGuard {
    /// A guard over an upload already recorded, staged at `temp`.
    pub(crate) fn new(
        taina: &Taina,
        community: &CommunityId,
        upload: &UploadId,
        temp: String,
    ) -> Self {
        UploadGuard {
            taina: taina.clone(),
            community: community.clone(),
            upload: upload.clone(),
            temp,
            moved_to: None,
            armed: true,
        }
    }

    pub(crate) async fn undo(mut self) {
        self.armed = false;
        undo(
            &self.taina,
            &self.community,
            &self.upload,
            &self.temp,
            self.moved_to.as_deref(),
        )
        .await;
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (taina, community, upload, temp, moved) = (
            self.taina.clone(),
            self.community.clone(),
            self.upload.clone(),
            self.temp.clone(),
            self.moved_to.take(),
        );
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                undo(&taina, &community, &upload, &temp, moved.as_deref()).await;
            });
        }
    }
}

async fn undo(
    taina: &Taina,
    community: &CommunityId,
    upload: &UploadId,
    temp: &str,
    moved: Option<&str>,
) {
    // A simulated kill (tests) leaves everything as a real one would, for start-up recovery.
    #[cfg(feature = "testing")]
    if taina.inner.faults.crashed() {
        return;
    }
    let blobs = &taina.inner.blobs;
    for path in std::iter::once(temp).chain(moved) {
        // A commit that landed just as the upload was cancelled owns its bytes: keep them.
        match blob_row_names(taina, path).await {
            Ok(false) => {}
            Ok(true) => continue,
            Err(e) => {
                tracing::warn!(path, error = %e, "could not check a failed upload's bytes");
                continue;
            }
        }
        if let Err(e) = blobs.delete(path).await {
            tracing::warn!(path, error = %e, "could not remove the bytes of a failed upload");
        }
    }
    if let Err(e) = release_upload(taina, community, upload, None).await {
        tracing::warn!(%upload, error = %e, "could not release a failed upload's reservation");
    }
}

/// Whether a blob row names `path`.
async fn blob_row_names(taina: &Taina, path: &str) -> Result<bool> {
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM blobs WHERE path = $1")
        .bind(path)
        .fetch_optional(taina.inner.db.reader())
        .await?;
    Ok(row.is_some())
}

/// Gives an upload's reservation back and forgets it (only if not touched since `stale_before`,
/// when given). Says whether it did.
pub(crate) async fn release_upload(
    taina: &Taina,
    community: &CommunityId,
    upload: &UploadId,
    stale_before: Option<taina_core::Timestamp>,
) -> Result<bool> {
    let mut tx = taina.inner.db.begin().await?;
    blobs::lock_community(&mut tx, community).await?;
    let reserved: Option<(i64,)> = sqlx::query_as(
        "DELETE FROM uploads WHERE id = $1 AND touched_at <= $2 RETURNING reserved_bytes",
    )
    .bind(upload.as_str())
    .bind(stale_before.map_or(i64::MAX, |t| t.as_millis()))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((bytes,)) = reserved {
        blobs::adjust_used(&mut tx, community, -bytes).await?;
    }
    tx.commit().await?;
    Ok(reserved.is_some())
}

/// The error for an upload whose reservation was released while it was idle.
fn upload_expired() -> crate::Error {
    DomainError::conflict("the upload was idle for too long and was cancelled; start it again")
        .into()
}

impl Ybira<'_> {
    /// Uploads a file from any byte stream, never holding it whole in memory. Name collisions get a
    /// number (`name (2).ext`) unless `on_conflict` is [`OnConflict::Replace`].
    ///
    /// Fails with "too large" as soon as the per-file limit is passed, with "quota exceeded" as soon
    /// as the community's quota cannot hold what arrived, and with the stream's own error if it
    /// fails; none of these leave bytes or reservations behind.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn upload<S>(&self, actor: &Actor, upload: NewUpload, content: S) -> Result<Item>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let name = normalize_name(&upload.name)?;
        // Check the destination before reading a byte.
        {
            let mut conn = self.taina.inner.db.reader().acquire().await?;
            self.destination(&mut conn, actor, &upload.location).await?;
        }
        let (guard, staged) = self
            .stage(actor, &name, upload.declared_size, content)
            .await?;
        self.commit(
            guard,
            staged,
            actor,
            Target::New {
                location: upload.location,
                name,
                on_conflict: upload.on_conflict,
            },
        )
        .await
    }

    /// Replaces a file's content from a byte stream, keeping the previous content as a version.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn replace<S>(
        &self,
        actor: &Actor,
        file: &ItemId,
        declared_size: Option<u64>,
        content: S,
    ) -> Result<Item>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let name = {
            let mut conn = self.taina.inner.db.reader().acquire().await?;
            let loaded = self
                .load(&mut conn, actor, file, ItemAction::WriteContent, false)
                .await?;
            if loaded.item.kind != ItemKind::File {
                return Err(DomainError::invalid("file_id", "is a folder").into());
            }
            loaded.item.name
        };
        let (guard, staged) = self.stage(actor, &name, declared_size, content).await?;
        self.commit(guard, staged, actor, Target::Existing(file.clone()))
            .await
    }

    /// Steps 1 and 2: the uploads row and the staged, hashed bytes.
    async fn stage<S>(
        &self,
        actor: &Actor,
        name: &str,
        declared: Option<u64>,
        mut content: S,
    ) -> Result<(UploadGuard, Staged)>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let inner = &self.taina.inner;
        let limit = inner.config.max_upload_bytes;
        if let Some(size) = declared {
            check_file_size(size, limit)?;
        }
        let community = actor.community_id.clone();
        let upload = crate::random::new_id(UploadId::from_random);
        let temp = taina_ybira::layout::temp_path(&community, &upload);
        let mut reserved: u64 = declared.unwrap_or(0);
        {
            let now = self.now().as_millis();
            let mut tx = inner.db.begin().await?;
            blobs::reserve(&mut tx, &community, to_i64(reserved)).await?;
            sqlx::query(
                "INSERT INTO uploads (id, community_id, user_id, reserved_bytes, created_at, touched_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(upload.as_str())
            .bind(community.as_str())
            .bind(actor.user_id.as_str())
            .bind(to_i64(reserved))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        let guard = UploadGuard {
            taina: self.taina.clone(),
            community: community.clone(),
            upload: upload.clone(),
            temp: temp.clone(),
            moved_to: None,
            armed: true,
        };
        let result: Result<Staged> = async {
            let mut out = inner.blobs.stage(&temp).await?;
            let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
            let mut size: u64 = 0;
            let mut touched = self.now();
            while let Some(chunk) = content.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                check_file_size(size, limit)?;
                if declared.is_some_and(|d| size > d) {
                    return Err(DomainError::invalid(
                        "content",
                        "is longer than the declared size",
                    )
                    .into());
                }
                if let Some(top_up) = reservation_needed(size, reserved, limit, declared) {
                    reserved += self.top_up(&community, &upload, top_up).await?;
                    touched = self.now();
                } else if self.now().since(touched) >= TOUCH_INTERVAL {
                    self.touch(&upload).await?;
                    touched = self.now();
                }
                if head.len() < SNIFF_BYTES {
                    let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                out.write(&chunk).await?;
            }
            if let Some(d) = declared.filter(|d| *d != size) {
                return Err(DomainError::invalid(
                    "content",
                    format!("ended after {size} of the {d} bytes declared"),
                )
                .into());
            }
            let sha256 = out.finish().await?;
            Ok(Staged {
                sha256,
                size,
                mime_type: detect_mime(&head, name),
                extension: content_extension(&head),
            })
        }
        .await;
        match result {
            Ok(staged) => {
                #[cfg(feature = "testing")]
                if let Err(e) = inner.faults.check("ybira.upload.after_staging") {
                    guard.undo().await;
                    return Err(e);
                }
                Ok((guard, staged))
            }
            Err(e) => {
                guard.undo().await;
                Err(e)
            }
        }
    }

    /// Reserves more quota for a streaming upload: the preferred amount, else the least needed.
    async fn top_up(
        &self,
        community: &CommunityId,
        upload: &UploadId,
        top_up: taina_ybira::upload::TopUp,
    ) -> Result<u64> {
        let mut tx = self.taina.inner.db.begin().await?;
        let quota = blobs::lock_quota(&mut tx, community).await?;
        let amount = if quota.reserve(to_i64(top_up.preferred)).is_ok() {
            top_up.preferred
        } else {
            quota.reserve(to_i64(top_up.minimum))?;
            top_up.minimum
        };
        self.record_progress(&mut tx, upload, amount).await?;
        blobs::adjust_used(&mut tx, community, to_i64(amount)).await?;
        tx.commit().await?;
        Ok(amount)
    }

    async fn touch(&self, upload: &UploadId) -> Result<()> {
        let mut tx = self.taina.inner.db.begin().await?;
        self.record_progress(&mut tx, upload, 0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks an upload alive now, with `reserved` more bytes reserved; fails if upkeep already took
    /// it for crashed and released it.
    async fn record_progress(
        &self,
        conn: &mut sqlx::AnyConnection,
        upload: &UploadId,
        reserved: u64,
    ) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE uploads SET reserved_bytes = reserved_bytes + $1, touched_at = $2 WHERE id = $3",
        )
        .bind(to_i64(reserved))
        .bind(self.now().as_millis())
        .bind(upload.as_str())
        .execute(&mut *conn)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(upload_expired());
        }
        Ok(())
    }

    /// Steps 3 and 4, undoing everything if they fail.
    pub(crate) async fn commit(
        &self,
        mut guard: UploadGuard,
        staged: Staged,
        actor: &Actor,
        target: Target,
    ) -> Result<Item> {
        let result = self
            .place_and_record(&mut guard, &staged, actor, &target)
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
                let now = self.now();
                let name_ext = match target {
                    Target::New { name, .. } => split_extension(name).1,
                    Target::Existing(_) => None,
                };
                let ext = name_ext.or(staged.extension);
                let path = taina_ybira::layout::file_path(community, &file_id, now, ext);
                inner.blobs.promote(&guard.temp, &path).await?;
                guard.moved_to = Some(path);
                #[cfg(feature = "testing")]
                inner.faults.check("ybira.upload.after_move")?;
            }
            let mut tx = self.begin_in(community).await?;
            let blob = match &existing {
                Some(found) => {
                    if !blobs::add_reference(&mut tx, &found.id).await? {
                        continue;
                    }
                    if found.missing {
                        // Content whose bytes the integrity check found gone: this upload brings
                        // them back (a copy, so that the staged file stays ours until commit).
                        blobs::mark_found(&mut tx, &found.id).await?;
                        inner.blobs.copy(&guard.temp, &found.path).await?;
                    }
                    found.id.clone()
                }
                None => {
                    let Some(path) = guard.moved_to.clone() else {
                        continue;
                    };
                    let blob = crate::random::new_id(BlobId::from_random);
                    let inserted = blobs::insert(
                        &mut tx,
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
                            blobs::adjust_used(&mut tx, community, to_i64(staged.size)).await?;
                            blob
                        }
                        // The same content was committed concurrently: drop ours, reference theirs.
                        Err(Error::Database(e)) if crate::db::is_unique_violation(&e) => {
                            drop(tx);
                            if let Some(moved) = guard.moved_to.take() {
                                inner.blobs.promote(&moved, &guard.temp).await?;
                            }
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            // The reservation is spent: the blob's size was charged above (or nothing, for content
            // already stored).
            let reserved: Option<(i64,)> =
                sqlx::query_as("DELETE FROM uploads WHERE id = $1 RETURNING reserved_bytes")
                    .bind(guard.upload.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((reserved,)) = reserved else {
                return Err(upload_expired());
            };
            blobs::adjust_used(&mut tx, community, -reserved).await?;
            let (item_id, replaced) = match target {
                Target::New {
                    location,
                    name,
                    on_conflict,
                } => {
                    self.record_new(
                        &mut tx,
                        actor,
                        location,
                        name,
                        *on_conflict,
                        &file_id,
                        &blob,
                        staged,
                    )
                    .await?
                }
                Target::Existing(id) => {
                    self.load(&mut tx, actor, id, ItemAction::WriteContent, false)
                        .await?;
                    self.record_version(&mut tx, actor, id, &blob, staged)
                        .await?;
                    (id.clone(), true)
                }
            };
            super::enqueue_previews(&mut tx, &item_id, &staged.mime_type, self.now()).await?;
            let item = reload(&mut tx, &item_id).await?;
            #[cfg(feature = "testing")]
            inner.faults.check("ybira.upload.before_commit")?;
            tx.commit().await?;
            inner.job_notify.notify_waiters();
            // A duplicate's staged bytes are no longer needed.
            if existing.is_some() {
                if let Err(e) = inner.blobs.delete(&guard.temp).await {
                    tracing::warn!(error = %e, "could not remove a duplicate's staged bytes");
                }
                if let Some(moved) = guard.moved_to.take() {
                    inner.blobs.delete(&moved).await?;
                }
            }
            return Ok((item, replaced));
        }
        Err(DomainError::conflict("the upload collided with concurrent changes; try again").into())
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
                let id = crate::accounts::rows::parse_id(&id, ItemId::parse)?;
                self.load(tx, actor, &id, ItemAction::WriteContent, false)
                    .await?;
                self.record_version(tx, actor, &id, blob, staged).await?;
                return Ok((id, true));
            }
        }
        let name = free_name(tx, &dest.parent_key, name).await?;
        let content = super::tree::Content {
            blob,
            size_bytes: to_i64(staged.size),
            mime_type: Some(&staged.mime_type),
        };
        super::tree::insert_item(tx, file_id, actor, &dest, &name, Some(content), self.now())
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
             revision = revision + 1, updated_at = $4, previews_at = NULL, preview_error = NULL \
             WHERE id = $5",
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
            let blob = crate::accounts::rows::parse_id(&blob, BlobId::parse)?;
            blobs::release_reference(tx, &blob, self.now()).await?;
        }
        Ok(())
    }
}

/// What an upload's content becomes.
pub(crate) enum Target {
    /// A new file.
    New {
        location: Location,
        name: String,
        on_conflict: OnConflict,
    },
    /// The new content of an existing file.
    Existing(ItemId),
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
