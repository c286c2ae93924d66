//! Resumable uploads (what the tus protocol carries): announced with their length, received in
//! pieces across requests and connections, each piece appended at the offset the server says it
//! has, and committed as a Ybira file (through the same steps as a streaming upload) when the last
//! byte arrives.
//!
//! The whole length is reserved against the quota when the upload is created, so one person may
//! have only so many unfinished at once, in number and in bytes
//! ([`taina_ybira::upload::check_resumable_open`], limits from the configuration). An upload
//! expires a fixed time after it was created, or sooner when no byte arrives for a while (an empty
//! piece does not count) ([`taina_ybira::upload::resumable_expired`]): it is then released, by
//! upkeep or as soon as someone asks for it, and answers "not found". Pieces of one upload are
//! taken one at a time (a second concurrent piece is told the upload is busy); a piece cut off by a
//! lost connection keeps what arrived, unless it carried a checksum, which it must then match
//! whole.
//!
//! An upload meant for the photo library is refused before it is stored when its content is not a
//! photo or video, so a replacement never changes (let alone removes) the file it would replace.

use std::collections::HashSet;
use std::sync::Mutex;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use taina_core::{Actor, CommunityId, Error as DomainError, ItemId, Timestamp, UploadId, UserId};
use taina_ybira::mime::{SNIFF_BYTES, content_extension, detect_mime};
use taina_ybira::name::normalize_name;
use taina_ybira::upload::{
    OpenUploads, check_file_size, check_resumable_open, resumable_expired, resumable_expiry_cutoffs,
};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tracing::instrument;

use super::upload::{Staged, Target, UploadGuard, release_upload, to_i64};
use super::{Item, Location, OnConflict, Ybira, blobs};
use crate::accounts::rows::parse_id;
use crate::jaci::Photo;
use crate::{Result, Taina};

/// A resumable upload to start.
#[derive(Debug, Clone)]
pub struct NewResumable {
    /// Where the file goes.
    pub location: Location,
    /// Its name.
    pub name: String,
    /// Its whole length in bytes.
    pub length: u64,
    /// Whether it joins the photo library when it is complete.
    pub as_photo: bool,
    /// The file's time on the device (a fallback for a photo's taken-at).
    pub client_file_time: Option<Timestamp>,
    /// What to do when the name is taken when it completes.
    pub on_conflict: OnConflict,
}

/// Where a resumable upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumableStatus {
    /// Its id.
    pub id: UploadId,
    /// Bytes received.
    pub offset: u64,
    /// Bytes announced.
    pub length: u64,
}

/// What appending a piece did.
#[derive(Debug, Clone)]
pub enum Appended {
    /// More is expected.
    Partial(ResumableStatus),
    /// The last byte arrived and the file is stored.
    Finished {
        /// The final status (offset = length).
        status: ResumableStatus,
        /// The stored file.
        item: Box<Item>,
        /// Its photo, for an upload meant for the photo library ([`NewResumable::as_photo`]).
        photo: Option<Box<Photo>>,
    },
}

/// Where the file goes, as kept with the upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredTarget {
    /// `root`, `community` or a folder id.
    parent: String,
    name: String,
    photo: bool,
    file_time: Option<i64>,
    /// Replace a file of the same name (keeping its content as a version) instead of numbering.
    #[serde(default)]
    replace: bool,
}

impl StoredTarget {
    fn location(&self) -> Result<Location> {
        Ok(match self.parent.as_str() {
            "root" => Location::MyFiles,
            "community" => Location::Shared,
            id => Location::Folder(parse_id(id, ItemId::parse)?),
        })
    }
}

/// Uploads with a piece being appended (one at a time each).
#[derive(Debug, Default)]
pub(crate) struct BusyUploads(Mutex<HashSet<UploadId>>);

/// Holds an upload busy until dropped.
struct Busy<'a> {
    set: &'a BusyUploads,
    id: UploadId,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.set
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

impl BusyUploads {
    fn take<'a>(&'a self, id: &UploadId) -> Result<Busy<'a>> {
        if !self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone())
        {
            return Err(DomainError::conflict(
                "another piece of this upload is being received; ask where it stands and retry",
            )
            .into());
        }
        Ok(Busy {
            set: self,
            id: id.clone(),
        })
    }
}

struct Row {
    offset: u64,
    length: u64,
    target: StoredTarget,
}

/// Releases the resumable uploads that have expired (all, or one person's): their reservations
/// given back and their staged bytes removed. Answers how many.
pub(crate) async fn release_expired(
    taina: &Taina,
    whose: Option<(&CommunityId, &UserId)>,
) -> Result<u64> {
    let inner = &taina.inner;
    let (opened_before, idle_before) =
        resumable_expiry_cutoffs(inner.clock.now(), &inner.config.resumable_limits());
    let sql = format!(
        "SELECT id, community_id FROM uploads WHERE upload_length IS NOT NULL \
         AND (created_at <= $1 OR touched_at <= $2){}",
        if whose.is_some() {
            " AND community_id = $3 AND user_id = $4"
        } else {
            ""
        }
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql)
        .bind(opened_before.as_millis())
        .bind(idle_before.as_millis());
    if let Some((community, user)) = whose {
        query = query.bind(community.as_str()).bind(user.as_str());
    }
    let expired = query.fetch_all(inner.db.reader()).await?;
    let mut released = 0;
    for (upload, community) in expired {
        let upload = parse_id(&upload, UploadId::parse)?;
        let community = parse_id(&community, CommunityId::parse)?;
        if release_if_expired(taina, &community, &upload).await? {
            released += 1;
        }
    }
    Ok(released)
}

/// Releases one resumable upload if it has expired now (checked again under the community's
/// lock: a piece that arrived meanwhile keeps it). Says whether it did.
async fn release_if_expired(
    taina: &Taina,
    community: &CommunityId,
    upload: &UploadId,
) -> Result<bool> {
    let inner = &taina.inner;
    let (opened_before, idle_before) =
        resumable_expiry_cutoffs(inner.clock.now(), &inner.config.resumable_limits());
    let mut tx = inner.db.begin().await?;
    blobs::lock_community(&mut tx, community).await?;
    let reserved: Option<(i64,)> = sqlx::query_as(
        "DELETE FROM uploads WHERE id = $1 AND upload_length IS NOT NULL \
         AND (created_at <= $2 OR touched_at <= $3) RETURNING reserved_bytes",
    )
    .bind(upload.as_str())
    .bind(opened_before.as_millis())
    .bind(idle_before.as_millis())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((bytes,)) = reserved {
        blobs::adjust_used(&mut tx, community, -bytes).await?;
    }
    tx.commit().await?;
    if reserved.is_none() {
        return Ok(false);
    }
    let staged = taina_ybira::layout::temp_path(community, upload);
    if let Err(e) = inner.blobs.delete(&staged).await {
        tracing::warn!(%upload, error = %e, "could not remove an expired upload's bytes");
    }
    Ok(true)
}

impl Ybira<'_> {
    /// Starts a resumable upload: checks the destination, the size and the actor's unfinished
    /// uploads (their number and bytes), and reserves the length. A creation that fails leaves
    /// nothing behind.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn create_resumable(
        &self,
        actor: &Actor,
        new: NewResumable,
    ) -> Result<ResumableStatus> {
        let inner = &self.taina.inner;
        let name = normalize_name(&new.name)?;
        check_file_size(new.length, inner.config.max_upload_bytes)?;
        {
            let mut conn = inner.db.reader().acquire().await?;
            self.destination(&mut conn, actor, &new.location).await?;
        }
        let parent = match &new.location {
            Location::MyFiles => "root".to_owned(),
            Location::Shared => "community".to_owned(),
            Location::Folder(id) => id.to_string(),
        };
        let target = serde_json::to_string(&StoredTarget {
            parent,
            name,
            photo: new.as_photo,
            file_time: new.client_file_time.map(Timestamp::as_millis),
            replace: new.on_conflict == OnConflict::Replace,
        })
        .map_err(|e| crate::Error::Corrupt(e.to_string()))?;
        // What expired no longer counts against the actor (nor holds the community's quota).
        release_expired(self.taina, Some((&actor.community_id, &actor.user_id))).await?;
        let id = crate::random::new_id(UploadId::from_random);
        let temp = taina_ybira::layout::temp_path(&actor.community_id, &id);
        let now = self.now().as_millis();
        let mut tx = inner.db.begin().await?;
        // The community's lock first: the actor's uploads are counted and the length reserved
        // with no concurrent creation in between.
        blobs::lock_community(&mut tx, &actor.community_id).await?;
        let (count, bytes): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(upload_length), 0) AS BIGINT) FROM uploads \
             WHERE community_id = $1 AND user_id = $2 AND upload_length IS NOT NULL",
        )
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let open = OpenUploads {
            count: u64::try_from(count).unwrap_or(0),
            bytes: u64::try_from(bytes).unwrap_or(0),
        };
        check_resumable_open(open, new.length, &inner.config.resumable_limits())?;
        blobs::reserve(&mut tx, &actor.community_id, to_i64(new.length)).await?;
        sqlx::query(
            "INSERT INTO uploads (id, community_id, user_id, reserved_bytes, created_at, touched_at, \
             upload_length, upload_offset, target) VALUES ($1, $2, $3, $4, $5, $5, $4, 0, $6)",
        )
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .bind(to_i64(new.length))
        .bind(now)
        .bind(target)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // The staging file only once the upload is recorded: a creation refused above leaves none,
        // and one that fails here gives its reservation back.
        let staged = async { inner.blobs.stage(&temp).await?.finish().await }.await;
        if let Err(e) = staged {
            if let Err(undo) = release_upload(self.taina, &actor.community_id, &id, None).await {
                tracing::warn!(upload = %id, error = %undo, "could not release a failed creation");
            }
            if let Err(undo) = inner.blobs.delete(&temp).await {
                tracing::warn!(upload = %id, error = %undo, "could not remove a failed creation");
            }
            return Err(e);
        }
        Ok(ResumableStatus {
            id,
            offset: 0,
            length: new.length,
        })
    }

    /// The actor's resumable upload (someone else's, and one that expired, is "not found"; an
    /// expired one is released on the way).
    async fn resumable_row(&self, actor: &Actor, id: &UploadId) -> Result<Row> {
        let row: Option<(i64, i64, String, i64, i64)> = sqlx::query_as(
            "SELECT upload_offset, upload_length, target, created_at, touched_at FROM uploads \
             WHERE id = $1 AND community_id = $2 AND user_id = $3 AND upload_length IS NOT NULL",
        )
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .fetch_optional(self.taina.inner.db.reader())
        .await?;
        let (offset, length, target, created_at, touched_at) =
            row.ok_or_else(|| DomainError::not_found("upload"))?;
        let expired = resumable_expired(
            Timestamp::from_millis(created_at),
            Timestamp::from_millis(touched_at),
            self.now(),
            &self.taina.inner.config.resumable_limits(),
        );
        if expired {
            release_if_expired(self.taina, &actor.community_id, id).await?;
            return Err(DomainError::not_found("upload").into());
        }
        Ok(Row {
            offset: u64::try_from(offset).unwrap_or(0),
            length: u64::try_from(length).unwrap_or(0),
            target: serde_json::from_str(&target)
                .map_err(|e| crate::Error::Corrupt(format!("upload {id}: {e}")))?,
        })
    }

    /// Where a resumable upload stands.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn resumable_status(&self, actor: &Actor, id: &UploadId) -> Result<ResumableStatus> {
        let row = self.resumable_row(actor, id).await?;
        Ok(ResumableStatus {
            id: id.clone(),
            offset: row.offset,
            length: row.length,
        })
    }

    /// Appends a piece at `offset` (which must be where the upload stands). With `sha256`, the
    /// piece must hash to it whole, or it is dropped. When the last byte arrives the file is stored.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn append<S>(
        &self,
        actor: &Actor,
        id: &UploadId,
        offset: u64,
        sha256: Option<[u8; 32]>,
        mut content: S,
    ) -> Result<Appended>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let inner = &self.taina.inner;
        let _busy = inner.busy_uploads.take(id)?;
        let row = self.resumable_row(actor, id).await?;
        if offset != row.offset {
            return Err(DomainError::conflict(format!(
                "the upload has {} bytes; send from there",
                row.offset
            ))
            .into());
        }
        let temp = taina_ybira::layout::temp_path(&actor.community_id, id);
        let path = inner.blobs.staging_file(&temp).await?;
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .await?;
        // Whatever a cut-off piece left past the recorded offset goes.
        file.set_len(row.offset).await?;
        file.seek(std::io::SeekFrom::End(0)).await?;
        let mut hasher = sha256.map(|_| Sha256::new());
        let mut received: u64 = 0;
        let outcome: Result<()> = async {
            while let Some(chunk) = content.next().await {
                let chunk = chunk?;
                received += chunk.len() as u64;
                if row.offset + received > row.length {
                    return Err(DomainError::invalid(
                        "content",
                        format!("is longer than the {} bytes announced", row.length),
                    )
                    .into());
                }
                if let Some(h) = hasher.as_mut() {
                    h.update(&chunk);
                }
                file.write_all(&chunk).await?;
            }
            Ok(())
        }
        .await;
        file.flush().await?;
        let mismatch = match (sha256, hasher) {
            (Some(expected), Some(h)) if outcome.is_ok() => h.finalize().as_slice() != expected,
            _ => false,
        };
        // Keep what arrived, unless it must be verified whole and was not, or broke the rules.
        let keep = match &outcome {
            Ok(()) => !mismatch,
            Err(crate::Error::Io(_)) => sha256.is_none(),
            Err(_) => false,
        };
        let new_offset = if keep {
            row.offset + received
        } else {
            row.offset
        };
        file.set_len(new_offset).await?;
        file.sync_all().await?;
        drop(file);
        // Only bytes kept count as activity: an empty (or refused) piece leaves the upload to
        // expire when it would have.
        let still_there = if new_offset > row.offset {
            let mut tx = inner.db.begin().await?;
            let updated =
                sqlx::query("UPDATE uploads SET upload_offset = $1, touched_at = $2 WHERE id = $3")
                    .bind(to_i64(new_offset))
                    .bind(self.now().as_millis())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
            tx.commit().await?;
            updated.rows_affected() == 1
        } else {
            let row: Option<(String,)> = sqlx::query_as("SELECT id FROM uploads WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(inner.db.reader())
                .await?;
            row.is_some()
        };
        if !still_there {
            return Err(DomainError::not_found("upload").into());
        }
        outcome?;
        if mismatch {
            return Err(DomainError::invalid(
                "upload_checksum",
                "the piece does not match its checksum; send it again",
            )
            .into());
        }
        let status = ResumableStatus {
            id: id.clone(),
            offset: new_offset,
            length: row.length,
        };
        if new_offset < row.length {
            return Ok(Appended::Partial(status));
        }
        let staged = hash_staged(path, &row.target.name).await?;
        let guard = UploadGuard::new(self.taina, &actor.community_id, id, temp);
        // Content the library does not take is refused before anything is stored or replaced.
        if row.target.photo
            && let Err(e) = taina_jaci::media::library_kind(&staged.mime_type)
        {
            guard.undo().await;
            return Err(e.into());
        }
        let item = self
            .commit(
                guard,
                staged,
                actor,
                Target::New {
                    location: row.target.location()?,
                    name: row.target.name.clone(),
                    on_conflict: if row.target.replace {
                        OnConflict::Replace
                    } else {
                        OnConflict::Rename
                    },
                },
            )
            .await?;
        let photo = if row.target.photo {
            let file_time = row.target.file_time.map(Timestamp::from_millis);
            let photo = self.taina.jaci().adopt(actor, &item, file_time).await?;
            Some(Box::new(photo))
        } else {
            None
        };
        Ok(Appended::Finished {
            status,
            item: Box::new(item),
            photo,
        })
    }

    /// Abandons a resumable upload: its bytes go and its reservation is given back.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn cancel_resumable(&self, actor: &Actor, id: &UploadId) -> Result<()> {
        let inner = &self.taina.inner;
        let _busy = inner.busy_uploads.take(id)?;
        let row = self.resumable_row(actor, id).await?;
        drop(row);
        UploadGuard::new(
            self.taina,
            &actor.community_id,
            id,
            taina_ybira::layout::temp_path(&actor.community_id, id),
        )
        .undo()
        .await;
        Ok(())
    }
}

/// Hashes and sniffs a complete staged file (read once, off the async threads' backs).
async fn hash_staged(path: std::path::PathBuf, name: &str) -> Result<Staged> {
    let mut file = tokio::fs::File::open(&path).await?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut size: u64 = 0;
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(n);
            head.extend_from_slice(&buffer[..take]);
        }
        size += n as u64;
        let block = buffer[..n].to_vec();
        hasher = tokio::task::spawn_blocking(move || {
            hasher.update(&block);
            hasher
        })
        .await
        .map_err(std::io::Error::other)?;
    }
    Ok(Staged {
        sha256: hex::encode(hasher.finalize()),
        size,
        mime_type: detect_mime(&head, name),
        extension: content_extension(&head),
    })
}
