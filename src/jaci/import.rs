//! Importing into the library: a file stored through Ybira, its metadata read (images whole up to
//! a limit, videos by their `moov` box through ranged reads), its photo row added or brought up to
//! date; and which content the actor's library already holds.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use taina_core::{
    Actor, CommunityId, DomainEvent, Error as DomainError, ItemId, PhotoId, Role, Timestamp, UserId,
};
use taina_jaci::media::{MediaKind, library_kind, thumbnails_supported};
use taina_jaci::metadata::{PhotoMetadata, extract, resolve_taken_at};
use taina_jaci::video::{MAX_TOP_LEVEL_BOXES, MoovSearch, metadata_from_moov, moov_search_step};
use tracing::instrument;

use super::rows::{nullable_double, source_name};
use super::{Jaci, NewPhoto, Photo, load_photo};
use crate::db::parse_id;
use crate::ybira::{AsPhoto, Item, NewUpload, OnConflict};
use crate::{Error, Result};

/// The most hashes [`Jaci::known_content`] takes at once.
pub const KNOWN_BATCH: usize = 500;

/// The most bytes of a file read for its metadata (HEIF and TIFF may keep EXIF anywhere).
const METADATA_READ_LIMIT: u64 = 64 * 1024 * 1024;

impl Jaci<'_> {
    /// Imports a photo or video: stores the file through Ybira, reads its metadata, adds it to the
    /// timeline at once; thumbnails follow from a background job. Files that are not photos or
    /// videos are refused (and not kept).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn import<S>(&self, actor: &Actor, photo: NewPhoto, content: S) -> Result<Photo>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let item = self
            .taina
            .ybira()
            .upload_photo(
                actor,
                NewUpload {
                    location: photo.location,
                    name: photo.name,
                    declared_size: photo.declared_size,
                    on_conflict: OnConflict::Rename,
                },
                content,
                AsPhoto {
                    client_file_time: photo.client_file_time,
                },
            )
            .await?;
        #[cfg(feature = "testing")]
        self.taina.inner.faults.check("jaci.import.before_adopt")?;
        self.adopt(actor, &item, photo.client_file_time).await
    }

    /// The `adopt_photo` job ([`crate::jobs::Job::AdoptPhoto`]), the safety net under
    /// [`Jaci::import`] and photo uploads through tus, enqueued in the transaction that stored the
    /// file and due a little later. A file that has its photo (the usual case), or is gone, or
    /// whose owner left, needs nothing; otherwise the process died between storing the file and
    /// adding its photo, and the photo is added now, as the file's owner would have.
    pub(crate) async fn adopt_left_over(
        &self,
        file: &ItemId,
        client_file_time: Option<Timestamp>,
    ) -> Result<()> {
        let row: Option<(Option<String>, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT i.owner_id, i.community_id, u.role, \
             (SELECT COUNT(*) FROM photos p WHERE p.file_id = i.id) \
             FROM items i LEFT JOIN users u ON u.id = i.owner_id \
             WHERE i.id = $1 AND i.deleted_at IS NULL",
        )
        .bind(file.as_str())
        .fetch_optional(self.taina.inner.db.reader())
        .await?;
        let Some((Some(owner), community, Some(role), 0)) = row else {
            return Ok(());
        };
        let owner = Actor {
            user_id: parse_id(&owner, UserId::parse)?,
            community_id: parse_id(&community, CommunityId::parse)?,
            role: role
                .parse::<Role>()
                .map_err(|_| Error::Corrupt(format!("stored role {role:?}")))?,
            session_id: None,
        };
        let adopted = match self.taina.ybira().item(&owner, file).await {
            Ok(item) => self
                .adopt(&owner, &item, client_file_time)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        match adopted {
            Ok(()) => {
                tracing::info!(file = %file, "added a photo its upload left out");
                Ok(())
            }
            // Moved out of the owner's reach, or not a photo after all: nothing to add.
            Err(Error::Domain(why)) => {
                tracing::info!(file = %file, %why, "a left-over photo was not added");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Adds a file just stored through Ybira (by a resumable upload, say) to the library: reads its
    /// metadata and adds the photo; a file already in the library (whose content was just
    /// replaced) keeps its photo, with what the new content says. A file that is not a photo or
    /// video is refused and left as it is: callers check the type before they store anything
    /// ([`taina_jaci::media::library_kind`]).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn adopt(
        &self,
        actor: &Actor,
        item: &Item,
        client_file_time: Option<Timestamp>,
    ) -> Result<Photo> {
        let mime = item.mime_type.clone().unwrap_or_default();
        let kind = library_kind(&mime)?;
        let metadata = match kind {
            MediaKind::Image => {
                let bytes = self.read_range(actor, item, 0, METADATA_READ_LIMIT).await?;
                tokio::task::spawn_blocking(move || extract(&bytes))
                    .await
                    .map_err(|e| Error::Io(std::io::Error::other(e)))?
            }
            MediaKind::Video => self.video_metadata(actor, item).await?,
        };
        self.add(actor, item, kind, metadata, client_file_time)
            .await
    }

    /// A video's metadata, from its `moov` box wherever it is in the file (phones often write it
    /// after the media data), found box by box.
    async fn video_metadata(&self, actor: &Actor, item: &Item) -> Result<PhotoMetadata> {
        let mut offset = 0;
        for _ in 0..MAX_TOP_LEVEL_BOXES {
            let header = self.read_range(actor, item, offset, 16).await?;
            match moov_search_step(offset, &header, item.size_bytes) {
                MoovSearch::Found(body) => {
                    let moov = self
                        .read_range(actor, item, body.start, body.end - body.start)
                        .await?;
                    return Ok(metadata_from_moov(&moov));
                }
                MoovSearch::Next(next) => offset = next,
                MoovSearch::Stop => break,
            }
        }
        Ok(PhotoMetadata::default())
    }

    /// Reads up to `limit` bytes of a file from `offset` (nothing past its end).
    async fn read_range(
        &self,
        actor: &Actor,
        item: &Item,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<u8>> {
        if offset >= item.size_bytes {
            return Ok(Vec::new());
        }
        let limit = limit.min(item.size_bytes - offset).max(1);
        let range = taina_ybira::range::ByteRange {
            offset,
            length: Some(limit),
        };
        let download = self
            .taina
            .ybira()
            .download(actor, &item.id, Some(range))
            .await?;
        let mut body = download.body;
        let mut bytes = Vec::with_capacity(usize::try_from(limit).unwrap_or(0));
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        Ok(bytes)
    }

    /// Adds the photo row for a stored file, or brings the file's existing one up to date.
    async fn add(
        &self,
        actor: &Actor,
        item: &Item,
        kind: MediaKind,
        metadata: PhotoMetadata,
        client_file_time: Option<Timestamp>,
    ) -> Result<Photo> {
        let now = self.now();
        let taken = resolve_taken_at(metadata.exif_taken_at, client_file_time, item.created_at);
        let mime = item.mime_type.clone().unwrap_or_default();
        let unsupported = (!thumbnails_supported(&mime))
            .then(|| format!("thumbnails for {mime} are not made yet"));
        let id = crate::random::new_id(PhotoId::from_random);
        let mut tx = self.taina.ybira().begin_in(&actor.community_id).await?;
        // The previews job may have run already: take over its outcome.
        let (previews_at, preview_error): (Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT previews_at, preview_error FROM items WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(item.id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| DomainError::not_found("file"))?;
        let processed_at = previews_at.or(unsupported.as_ref().map(|_| now.as_millis()));
        let processing_error = preview_error.or(unsupported);
        let camera = metadata.camera.clone().unwrap_or_default();
        let exposure = metadata.exposure.unwrap_or_default();
        // One statement for both cases: new content for a photo (a replacement) keeps the same
        // photo (its id and albums), with what the new bytes say; its previews follow from the
        // job the replacement enqueued.
        let (stored,): (String,) = sqlx::query_as(
            "INSERT INTO photos (id, file_id, community_id, media_kind, taken_at, taken_offset_minutes, \
             taken_at_source, width, height, orientation, camera_make, camera_model, lens, latitude, \
             longitude, altitude, iso, f_number, exposure_time, focal_length, processed_at, \
             processing_error, created_at, updated_at, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, CAST($14 AS DOUBLE PRECISION), \
             CAST($15 AS DOUBLE PRECISION), CAST($16 AS DOUBLE PRECISION), $17, \
             CAST($18 AS DOUBLE PRECISION), CAST($19 AS DOUBLE PRECISION), \
             CAST($20 AS DOUBLE PRECISION), $21, $22, $23, $23, $24) \
             ON CONFLICT (file_id) DO UPDATE SET media_kind = excluded.media_kind, \
             taken_at = excluded.taken_at, taken_offset_minutes = excluded.taken_offset_minutes, \
             taken_at_source = excluded.taken_at_source, width = excluded.width, \
             height = excluded.height, orientation = excluded.orientation, \
             camera_make = excluded.camera_make, camera_model = excluded.camera_model, \
             lens = excluded.lens, latitude = excluded.latitude, longitude = excluded.longitude, \
             altitude = excluded.altitude, iso = excluded.iso, f_number = excluded.f_number, \
             exposure_time = excluded.exposure_time, focal_length = excluded.focal_length, \
             processed_at = excluded.processed_at, processing_error = excluded.processing_error, \
             updated_at = excluded.updated_at, duration_ms = excluded.duration_ms \
             RETURNING id",
        )
        .bind(id.as_str())
        .bind(item.id.as_str())
        .bind(actor.community_id.as_str())
        .bind(kind.as_str())
        .bind(taken.instant.as_millis())
        .bind(taken.offset_minutes.map(i64::from))
        .bind(source_name(taken.source))
        .bind(metadata.width.map(i64::from))
        .bind(metadata.height.map(i64::from))
        .bind(i64::from(metadata.orientation.value()))
        .bind(camera.make)
        .bind(camera.model)
        .bind(camera.lens)
        .bind(nullable_double(metadata.location.map(|l| l.latitude)))
        .bind(nullable_double(metadata.location.map(|l| l.longitude)))
        .bind(nullable_double(metadata.location.and_then(|l| l.altitude)))
        .bind(exposure.iso.map(i64::from))
        .bind(nullable_double(exposure.f_number))
        .bind(nullable_double(exposure.exposure_time))
        .bind(nullable_double(exposure.focal_length))
        .bind(processed_at)
        .bind(processing_error)
        .bind(now.as_millis())
        .bind(metadata.duration_ms.and_then(|d| i64::try_from(d).ok()))
        .fetch_one(&mut *tx)
        .await?;
        // The photo is there: the upload's safety net has nothing left to do (unless it is
        // running right now, when it finds the photo and stops).
        sqlx::query(
            "DELETE FROM jobs WHERE unique_key = $1 AND finished_at IS NULL \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(crate::jobs::adopt_photo_key(&item.id))
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        if stored != id.as_str() {
            let photo = load_photo(&mut tx, &parse_id(&stored, PhotoId::parse)?).await?;
            tx.commit().await?;
            return Ok(photo);
        }
        let photo = load_photo(&mut tx, &id).await?;
        tx.commit().await?;
        self.publish(
            &actor.community_id,
            DomainEvent::PhotoAdded {
                photo_id: id,
                file: crate::ybira::item_event(item),
            },
        );
        Ok(photo)
    }

    /// Which of these SHA-256 hashes (hex) the actor's own library already holds, so that a
    /// backup or an import sends only what is new. At most [`KNOWN_BATCH`] hashes a call.
    #[instrument(skip_all, fields(community = %actor.community_id, asked = hashes.len()))]
    pub async fn known_content(&self, actor: &Actor, hashes: &[String]) -> Result<Vec<String>> {
        if hashes.len() > KNOWN_BATCH {
            return Err(taina_core::Error::invalid(
                "hashes",
                format!("at most {KNOWN_BATCH} a call"),
            )
            .into());
        }
        if !hashes
            .iter()
            .all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(
                taina_core::Error::invalid("hashes", "each is 64 hexadecimal digits").into(),
            );
        }
        let hashes: Vec<String> = hashes.iter().map(|h| h.to_ascii_lowercase()).collect();
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..hashes.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT DISTINCT b.sha256 FROM photos p JOIN items i ON i.id = p.file_id \
             JOIN blobs b ON b.id = i.blob_id WHERE i.community_id = $1 AND i.space_owner_id = $2 \
             AND i.deleted_at IS NULL AND b.sha256 IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String,)>(&sql)
            .bind(actor.community_id.as_str())
            .bind(actor.user_id.as_str());
        for hash in &hashes {
            query = query.bind(hash);
        }
        let rows = query.fetch_all(self.taina.inner.db.reader()).await?;
        Ok(rows.into_iter().map(|(h,)| h).collect())
    }
}
