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
//!
//! By concept: the uploads and where they stand (here: created, looked up, cancelled), pieces
//! appended and the upload committed (`append.rs`), expiry (`expiry.rs`), one piece at a time
//! (`busy.rs`).

use serde::{Deserialize, Serialize};

use taina_core::{Actor, Error as DomainError, ItemId, Timestamp, UploadId};
use taina_ybira::name::normalize_name;
use taina_ybira::upload::{OpenUploads, check_file_size, check_resumable_open, resumable_expired};
use tracing::instrument;

use super::upload::{UploadGuard, release_upload, to_i64};
use super::{Item, Location, OnConflict, Ybira, blobs};
use crate::Result;
use crate::db::parse_id;
use crate::jaci::Photo;
use expiry::release_if_expired;

mod append;
mod busy;
mod expiry;

pub(crate) use busy::BusyUploads;
pub(crate) use expiry::release_expired;

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
    /// Its destination is named when it is complete ([`Ybira::complete_held`]), not before: the
    /// last byte does not commit it.
    #[serde(default)]
    held: bool,
}

impl StoredTarget {
    /// A plain file's target: `name` in `location`.
    fn new(location: &Location, name: String, on_conflict: OnConflict) -> Self {
        StoredTarget {
            parent: match location {
                Location::MyFiles => "root".to_owned(),
                Location::Shared => "community".to_owned(),
                Location::Folder(id) => id.to_string(),
            },
            name,
            photo: false,
            file_time: None,
            replace: on_conflict == OnConflict::Replace,
            held: false,
        }
    }

    fn location(&self) -> Result<Location> {
        Ok(match self.parent.as_str() {
            "root" => Location::MyFiles,
            "community" => Location::Shared,
            id => Location::Folder(parse_id(id, ItemId::parse)?),
        })
    }
}

struct Row {
    offset: u64,
    length: u64,
    target: StoredTarget,
    /// On object storage, the pieces received so far, in order ([`crate::storage::PieceWriter`]).
    pieces: Vec<String>,
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
        self.create_upload(actor, new, false).await
    }

    /// Starts a resumable upload whose destination is named only when it is complete (Nextcloud's
    /// chunked uploads: the chunks come first, the file's place with the last request), with the
    /// same checks and reservation as [`Ybira::create_resumable`]; its last byte does not store
    /// it: [`Ybira::complete_held`] does.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn create_held_resumable(
        &self,
        actor: &Actor,
        length: u64,
    ) -> Result<ResumableStatus> {
        let new = NewResumable {
            location: Location::MyFiles,
            name: "upload".to_owned(),
            length,
            as_photo: false,
            client_file_time: None,
            on_conflict: OnConflict::Replace,
        };
        self.create_upload(actor, new, true).await
    }

    async fn create_upload(
        &self,
        actor: &Actor,
        new: NewResumable,
        held: bool,
    ) -> Result<ResumableStatus> {
        let inner = &self.taina.inner;
        let name = normalize_name(&new.name)?;
        check_file_size(new.length, inner.config.max_upload_bytes)?;
        {
            let mut conn = inner.db.reader().acquire().await?;
            self.destination(&mut conn, actor, &new.location).await?;
        }
        let target = serde_json::to_string(&StoredTarget {
            photo: new.as_photo,
            file_time: new.client_file_time.map(Timestamp::as_millis),
            held,
            ..StoredTarget::new(&new.location, name, new.on_conflict)
        })
        .map_err(|e| crate::Error::Encode(e.to_string()))?;
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
        let row: Option<(i64, i64, String, i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT upload_offset, upload_length, target, created_at, touched_at, pieces FROM uploads \
             WHERE id = $1 AND community_id = $2 AND user_id = $3 AND upload_length IS NOT NULL",
        )
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .bind(actor.user_id.as_str())
        .fetch_optional(self.taina.inner.db.reader())
        .await?;
        let (offset, length, target, created_at, touched_at, pieces) =
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
            pieces: pieces
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect(),
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
