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
//!
//! By step: the guard that undoes an unfinished upload (`guard.rs`), steps 1 and 2 (`stage.rs`),
//! steps 3 and 4 (`place.rs`); the versions a replacement keeps live in [`super::versions`].

use bytes::Bytes;
use futures::Stream;
use taina_core::{Actor, Error as DomainError, ItemId};
use taina_ybira::access::ItemAction;
use taina_ybira::listing::ItemKind;
use taina_ybira::name::normalize_name;
use tracing::instrument;

use super::{Item, Location, Ybira};
use crate::Result;

mod guard;
mod place;
mod stage;

pub(crate) use guard::{UploadGuard, release_upload};

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

/// An upload that goes into the photo library as it is stored: its content must be a photo or a
/// video (checked before anything is kept), and the commit enqueues the `adopt_photo` job
/// ([`crate::jobs::Job::AdoptPhoto`]) in its own transaction, so that the file gets its photo
/// even if the process dies before the caller adds it ([`crate::jaci::Jaci::adopt`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AsPhoto {
    /// The file's own time on the client, for photos without a date of their own.
    pub(crate) client_file_time: Option<taina_core::Timestamp>,
}

/// How long after its upload the `adopt_photo` safety net runs: the uploader adds the photo
/// itself well before (in the usual case the job then finds it there and does nothing).
pub(crate) const ADOPT_SAFETY_NET: std::time::Duration = std::time::Duration::from_secs(10);

/// Content staged and hashed, ready to commit.
pub(crate) struct Staged {
    pub(crate) sha256: String,
    pub(crate) size: u64,
    pub(crate) mime_type: String,
    /// The extension the content's type usually has, for a name without one.
    pub(crate) extension: Option<&'static str>,
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
        self.upload_as(actor, upload, content, None).await
    }

    /// Uploads a photo or video for the library ([`AsPhoto`]): anything else is refused before
    /// it is kept. The caller adds the photo ([`crate::jaci::Jaci::adopt`]).
    pub(crate) async fn upload_photo<S>(
        &self,
        actor: &Actor,
        upload: NewUpload,
        content: S,
        as_photo: AsPhoto,
    ) -> Result<Item>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        self.upload_as(actor, upload, content, Some(as_photo)).await
    }

    async fn upload_as<S>(
        &self,
        actor: &Actor,
        upload: NewUpload,
        content: S,
        as_photo: Option<AsPhoto>,
    ) -> Result<Item>
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
        if as_photo.is_some()
            && let Err(not_media) = taina_jaci::media::library_kind(&staged.mime_type)
        {
            guard.undo().await;
            return Err(not_media.into());
        }
        self.commit(
            guard,
            staged,
            actor,
            Target::New {
                location: upload.location,
                name,
                on_conflict: upload.on_conflict,
            },
            as_photo,
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
        self.commit(guard, staged, actor, Target::Existing(file.clone()), None)
            .await
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
