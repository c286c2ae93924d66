//! Jaci, the photos service: a photo is a Ybira file plus a `photos` row of what its bytes say.
//! Importing stores the file through Ybira, reads its metadata (`taina_jaci::metadata`) and adds the
//! row; the file's previews (thumbnails) come from the durable `previews` job that Ybira enqueued
//! with the file, which then marks the photo processed and announces `photo.processed`. Who may see a
//! photo is its file's business: every read goes through Ybira's access check.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sqlx::AnyConnection;
use taina_core::{
    Action, Actor, CommunityId, DomainEvent, Error as DomainError, Event, ItemId, PhotoId,
    Resource, Timestamp, authorize,
};
pub use taina_jaci::library::{MapPoint, Photo, PhotoDetail, TimelinePage};
use taina_jaci::media::{
    MediaKind, PreviewSource, library_kind, preview_source, thumbnails_supported,
};
use taina_jaci::metadata::{
    Camera, Exposure, Location as GeoLocation, PhotoMetadata, TakenAt, TakenAtSource, extract,
    resolve_taken_at,
};
pub use taina_jaci::thumbnail::Size;
use taina_jaci::timeline::{Cursor, check_utc_offset, group_page, page_size};
use taina_jaci::video::{MAX_TOP_LEVEL_BOXES, MoovSearch, metadata_from_moov, moov_search_step};
use taina_ybira::access::{ItemAction, Space};
use tracing::instrument;

use crate::accounts::rows::parse_id;
use crate::decoder::{Failed, Limited};
use crate::ybira::{Item, Location, NewUpload, OnConflict};
use crate::{Error, Result, Taina};

mod albums;
pub use albums::{Album, AlbumUpdate, NewAlbum};

/// The file name of a HEIF/HEIC photo's JPEG rendition, beside its thumbnails.
const JPEG_RENDITION: &str = "display.jpg";
pub use taina_jaci::album::Visibility;

/// A nullable DOUBLE PRECISION parameter, sent as text and cast in SQL. sqlx 0.8.6's `Any` driver
/// binds a NULL `f64` as a PostgreSQL `float4`, so a statement first prepared with a NULL there
/// (a photo without GPS) then refuses the 8-byte `float8` of the next photo that has one
/// ("incorrect binary data format"). Text has one type whether NULL or not; `f64`'s `Display`
/// round-trips exactly.
fn nullable_double(value: Option<f64>) -> Option<String> {
    value.filter(|v| v.is_finite()).map(|v| v.to_string())
}

/// The most hashes [`Jaci::known_content`] takes at once.
pub const KNOWN_BATCH: usize = 500;

/// The most bytes of a file read for its metadata (HEIF and TIFF may keep EXIF anywhere).
const METADATA_READ_LIMIT: u64 = 64 * 1024 * 1024;

/// What to import.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    /// Where the file goes (default: My files).
    pub location: Location,
    /// The file's name.
    pub name: String,
    /// The size the client announced, if any.
    pub declared_size: Option<u64>,
    /// The file's modification time as the client knows it (a fallback for taken-at).
    pub client_file_time: Option<Timestamp>,
}

/// Whose photos a timeline shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The actor's own (their private space).
    Mine,
    /// The community's shared space.
    Shared,
}

/// The photos service. Get it from [`Taina::jaci`].
#[derive(Clone, Copy)]
pub struct Jaci<'a> {
    pub(crate) taina: &'a Taina,
}

const PHOTO_COLUMNS: &str = "p.id, p.file_id, p.media_kind, p.taken_at, p.taken_offset_minutes, \
     p.taken_at_source, p.width, p.height, p.orientation, p.camera_make, p.camera_model, p.lens, \
     p.latitude, p.longitude, p.altitude, p.iso, p.f_number, p.exposure_time, p.focal_length, \
     p.duration_ms, p.processed_at, p.processing_error, p.created_at, i.name, i.mime_type, i.space_owner_id, \
     i.owner_id FROM photos p JOIN items i ON i.id = p.file_id";

#[derive(sqlx::FromRow)]
struct PhotoRow {
    id: String,
    file_id: String,
    media_kind: String,
    taken_at: i64,
    taken_offset_minutes: Option<i64>,
    taken_at_source: String,
    width: Option<i64>,
    height: Option<i64>,
    orientation: i64,
    camera_make: Option<String>,
    camera_model: Option<String>,
    lens: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    altitude: Option<f64>,
    iso: Option<i64>,
    f_number: Option<f64>,
    exposure_time: Option<f64>,
    focal_length: Option<f64>,
    duration_ms: Option<i64>,
    processed_at: Option<i64>,
    processing_error: Option<String>,
    created_at: i64,
    name: String,
    mime_type: Option<String>,
    space_owner_id: Option<String>,
    owner_id: Option<String>,
}

impl PhotoRow {
    fn into_photo(self) -> Result<Photo> {
        let corrupt = |what: &str| Error::Corrupt(format!("photo {}: {what}", self.id));
        let source: TakenAtSource =
            serde_json::from_value(serde_json::Value::String(self.taken_at_source.clone()))
                .map_err(|_| corrupt("taken_at_source"))?;
        let taken = TakenAt {
            instant: Timestamp::from_millis(self.taken_at),
            offset_minutes: self
                .taken_offset_minutes
                .and_then(|m| i16::try_from(m).ok()),
            source,
        };
        let camera = Camera {
            make: self.camera_make,
            model: self.camera_model,
            lens: self.lens,
        };
        let exposure = Exposure {
            iso: self.iso.and_then(|n| u32::try_from(n).ok()),
            f_number: self.f_number,
            exposure_time: self.exposure_time,
            focal_length: self.focal_length,
        };
        Ok(Photo {
            id: parse_id(&self.id, PhotoId::parse)?,
            file_id: parse_id(&self.file_id, ItemId::parse)?,
            kind: MediaKind::parse(&self.media_kind).ok_or_else(|| corrupt("media_kind"))?,
            name: self.name,
            mime_type: self.mime_type,
            taken_at: taken.to_rfc3339(),
            taken_at_source: source,
            width: self.width.and_then(|n| u32::try_from(n).ok()),
            height: self.height.and_then(|n| u32::try_from(n).ok()),
            orientation: u8::try_from(self.orientation).unwrap_or(1),
            camera: (camera != Camera::default()).then_some(camera),
            location: match (self.latitude, self.longitude) {
                (Some(latitude), Some(longitude)) => Some(GeoLocation {
                    latitude,
                    longitude,
                    altitude: self.altitude,
                }),
                _ => None,
            },
            exposure: (exposure != Exposure::default()).then_some(exposure),
            duration_ms: self.duration_ms.and_then(|n| u64::try_from(n).ok()),
            processed: self.processed_at.is_some(),
            processing_error: self.processing_error,
            space: Space::from_owner(crate::ybira::rows_opt_user(self.space_owner_id.as_deref())?),
            owner_id: crate::ybira::rows_opt_user(self.owner_id.as_deref())?,
            created_at: Timestamp::from_millis(self.created_at),
        })
    }
}

impl Jaci<'_> {
    fn now(&self) -> Timestamp {
        self.taina.inner.clock.now()
    }

    fn publish(&self, community: &CommunityId, event: DomainEvent) {
        self.taina.inner.events.publish(Event {
            community_id: community.clone(),
            at: self.now(),
            event,
        });
    }

    /// Imports a photo or video: stores the file through Ybira, reads its metadata, adds it to the
    /// timeline at once; thumbnails follow from a background job. Files that are not photos or
    /// videos are refused (and not kept).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn import<S>(&self, actor: &Actor, photo: NewPhoto, content: S) -> Result<Photo>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let ybira = self.taina.ybira();
        let item = ybira
            .upload(
                actor,
                NewUpload {
                    location: photo.location,
                    name: photo.name,
                    declared_size: photo.declared_size,
                    on_conflict: OnConflict::Rename,
                },
                content,
            )
            .await?;
        match self.adopt(actor, &item, photo.client_file_time).await {
            // Not a photo or video: the file this import just made goes again.
            Err(Error::Domain(refused @ DomainError::Invalid { .. })) => {
                ybira.delete(actor, &item.id).await?;
                ybira.purge(actor, &item.id).await?;
                Err(refused.into())
            }
            adopted => adopted,
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

    /// A photo the actor may see, with its neighbours in its timeline. The neighbours come from
    /// the timeline the photo is in (its space's) only if the actor may see that timeline, by the
    /// rule [`Jaci::timeline`] applies: a photo reached through a share has none, so that nothing
    /// is learnt of the photos around it.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn photo(&self, actor: &Actor, id: &PhotoId) -> Result<PhotoDetail> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let photo = load_photo(&mut conn, id)
            .await
            .map_err(|_| DomainError::not_found("photo"))?;
        self.taina
            .ybira()
            .load(&mut conn, actor, &photo.file_id, ItemAction::Read, false)
            .await
            .map_err(|_| Error::from(DomainError::not_found("photo")))?;
        if taina_ybira::access::authorize_root(actor, &photo.space).is_err() {
            return Ok(PhotoDetail {
                photo,
                previous: None,
                next: None,
            });
        }
        let (scope, owner) = match &photo.space {
            Space::Shared => ("i.space_owner_id IS NULL AND $4 = $4", String::new()),
            Space::Private(owner) => ("i.space_owner_id = $4", owner.as_str().to_owned()),
        };
        let (taken_at,): (i64,) = sqlx::query_as("SELECT taken_at FROM photos WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(&mut *conn)
            .await?;
        let neighbour = |newer: bool| {
            let (cmp, order) = if newer { (">", "ASC") } else { ("<", "DESC") };
            format!(
                "SELECT p.id FROM photos p JOIN items i ON i.id = p.file_id \
                 WHERE p.community_id = $1 AND i.deleted_at IS NULL AND {scope} \
                 AND (p.taken_at, p.id) {cmp} ($2, $3) ORDER BY p.taken_at {order}, p.id {order} LIMIT 1"
            )
        };
        let mut found = [None, None];
        for (slot, newer) in [(0, true), (1, false)] {
            let row: Option<(String,)> = sqlx::query_as(&neighbour(newer))
                .bind(actor.community_id.as_str())
                .bind(taken_at)
                .bind(id.as_str())
                .bind(&owner)
                .fetch_optional(&mut *conn)
                .await?;
            found[slot] = row.map(|(id,)| parse_id(&id, PhotoId::parse)).transpose()?;
        }
        let [previous, next] = found;
        Ok(PhotoDetail {
            photo,
            previous,
            next,
        })
    }

    /// A page of the timeline (newest first), of the actor's own photos or the community's shared
    /// ones, with date headings for a viewer `utc_offset_minutes` east of UTC. Pass the previous
    /// page's `next_cursor` to go on.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn timeline(
        &self,
        actor: &Actor,
        scope: Scope,
        cursor: Option<&str>,
        limit: Option<u32>,
        utc_offset_minutes: i16,
    ) -> Result<TimelinePage> {
        let cursor = cursor.map(Cursor::decode).transpose()?;
        let utc_offset_minutes = check_utc_offset(utc_offset_minutes)?;
        let limit = page_size(limit);
        let space = match scope {
            Scope::Mine => Space::Private(actor.user_id.clone()),
            Scope::Shared => Space::Shared,
        };
        taina_ybira::access::authorize_root(actor, &space).map_err(crate::ybira::denied)?;
        let filter = match scope {
            Scope::Mine => "i.space_owner_id = $2",
            Scope::Shared => "i.space_owner_id IS NULL AND $2 = $2",
        };
        let after = if cursor.is_some() {
            "AND (p.taken_at, p.id) < ($4, $5)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {PHOTO_COLUMNS} WHERE p.community_id = $1 AND i.deleted_at IS NULL AND {filter} \
             {after} ORDER BY p.taken_at DESC, p.id DESC LIMIT $3"
        );
        let mut query = sqlx::query_as::<_, PhotoRow>(&sql)
            .bind(actor.community_id.as_str())
            .bind(actor.user_id.as_str())
            .bind(i64::from(limit) + 1);
        if let Some(c) = &cursor {
            query = query.bind(c.taken_at).bind(c.id.as_str());
        }
        let rows = query.fetch_all(self.taina.inner.db.reader()).await?;
        let more = rows.len() > limit as usize;
        let mut photos = Vec::with_capacity(rows.len());
        let mut taken_at = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows.into_iter().take(limit as usize) {
            last = Some((row.taken_at, row.id.clone()));
            taken_at.push(Timestamp::from_millis(row.taken_at));
            photos.push(row.into_photo()?);
        }
        let groups = group_page(taken_at, self.now(), utc_offset_minutes);
        let next_cursor = match (more, last) {
            (true, Some((taken_at, id))) => Some(
                Cursor {
                    taken_at,
                    id: parse_id(&id, PhotoId::parse)?,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(TimelinePage {
            photos,
            groups,
            next_cursor,
        })
    }

    /// Deletes a photo: its file goes to Ybira's trash (restoring it brings the photo back; purging
    /// it removes the photo).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn delete(&self, actor: &Actor, id: &PhotoId) -> Result<()> {
        let detail = self.photo(actor, id).await?;
        self.taina
            .ybira()
            .delete(actor, &detail.photo.file_id)
            .await
    }

    /// Photos with GPS coordinates, for the map.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn map(&self, actor: &Actor, scope: Scope) -> Result<Vec<MapPoint>> {
        let mut points = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .timeline(actor, scope, cursor.as_deref(), Some(500), 0)
                .await?;
            points.extend(page.photos.into_iter().filter_map(|p| {
                p.location.map(|l| MapPoint {
                    id: p.id,
                    latitude: l.latitude,
                    longitude: l.longitude,
                    taken_at: p.taken_at,
                })
            }));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(points),
            }
        }
    }

    /// A thumbnail of a file the actor may see (WebP bytes), once made.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn thumbnail(&self, actor: &Actor, file: &ItemId, size: Size) -> Result<Vec<u8>> {
        self.read_preview(actor, file, &format!("{}.webp", size.name()), "thumbnail")
            .await
    }

    /// The full-size JPEG rendition of a HEIF/HEIC photo the actor may see, once made (browsers
    /// that cannot show HEIC show this; the original stays as it was uploaded).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn jpeg_rendition(&self, actor: &Actor, file: &ItemId) -> Result<Vec<u8>> {
        self.read_preview(actor, file, JPEG_RENDITION, "JPEG rendition")
            .await
    }

    /// Reads one of a file's previews after checking that the actor may read the file.
    async fn read_preview(
        &self,
        actor: &Actor,
        file: &ItemId,
        name: &str,
        what: &'static str,
    ) -> Result<Vec<u8>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let loaded = self
            .taina
            .ybira()
            .load(&mut conn, actor, file, ItemAction::Read, false)
            .await?;
        drop(conn);
        // Previews of content the file no longer has (replaced, a version restored) are never
        // served: the file says it has previews only once they were made from what it holds.
        if !loaded.item.has_previews {
            return Err(DomainError::not_found(what).into());
        }
        let path = taina_ybira::layout::thumbnail_path(&actor.community_id, file, name);
        match self.taina.inner.blobs.get(&path).await {
            Ok(bytes) => Ok(bytes),
            Err(Error::Storage(object_store::Error::NotFound { .. })) => {
                Err(DomainError::not_found(what).into())
            }
            Err(e) => Err(e),
        }
    }

    /// Which of these SHA-256 hashes (hex) the actor's own library already holds, so that a
    /// backup or an import sends only what is new. At most [`KNOWN_BATCH`] hashes a call.
    #[instrument(skip_all, fields(community = %actor.community_id, asked = hashes.len()))]
    pub async fn known_content(&self, actor: &Actor, hashes: &[String]) -> Result<Vec<String>> {
        if hashes.len() > KNOWN_BATCH {
            return Err(taina_core::Error::TooLarge {
                what: "hash list",
                limit_bytes: KNOWN_BATCH as u64,
            }
            .into());
        }
        let hashes: Vec<String> = hashes
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect();
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

    /// Makes a photo's thumbnails again (after a pipeline change, say).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn regenerate(&self, actor: &Actor, id: &PhotoId) -> Result<()> {
        let detail = self.photo(actor, id).await?;
        self.taina
            .jobs()
            .enqueue(crate::jobs::NewJob::now(
                crate::jobs::Job::Previews {
                    file_id: detail.photo.file_id,
                },
                self.now(),
            ))
            .await
    }

    /// Makes the previews of every live file in the actor's community again — photos, images and
    /// PDFs — as background jobs (admins only). Answers how many files were queued.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn regenerate_all(&self, actor: &Actor) -> Result<u64> {
        authorize(
            actor,
            Action::Manage,
            Resource::Community(&actor.community_id),
        )?;
        let inner = &self.taina.inner;
        let files: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, mime_type FROM items \
             WHERE community_id = $1 AND kind = 'file' AND deleted_at IS NULL ORDER BY id",
        )
        .bind(actor.community_id.as_str())
        .fetch_all(inner.db.reader())
        .await?;
        let now = self.now();
        let mut queued = 0;
        let mut tx = inner.db.begin().await?;
        for (id, mime) in files {
            if preview_source(mime.as_deref().unwrap_or_default()).is_none() {
                continue;
            }
            let job = crate::jobs::Job::Previews {
                file_id: parse_id(&id, ItemId::parse)?,
            };
            crate::jobs::enqueue(&mut tx, crate::jobs::NewJob::now(job, now), now).await?;
            queued += 1;
        }
        tx.commit().await?;
        inner.job_notify.notify_waiters();
        Ok(queued)
    }

    /// The `previews` job: makes a file's thumbnails in a decoder child process
    /// ([`crate::decoder`]), records the outcome on the file (and its photo, if it is one) and
    /// announces it. Content that cannot be decoded is an outcome, not a failure; content that
    /// crashes or exhausts its decoder is an outcome too ([`DECODER_FAILED`]), and the job fails
    /// for good with how ([`Ran::Failed`](crate::jobs::Ran::Failed)), not to be run again.
    pub(crate) async fn make_previews(&self, file: &ItemId) -> Result<crate::jobs::Ran> {
        let inner = &self.taina.inner;
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT i.community_id, b.path, i.mime_type FROM items i JOIN blobs b ON b.id = i.blob_id \
             WHERE i.id = $1",
        )
        .bind(file.as_str())
        .fetch_optional(inner.db.reader())
        .await?;
        // Purged meanwhile: nothing to do.
        let Some((community, path, mime)) = row else {
            return Ok(crate::jobs::Ran::Done);
        };
        let community = parse_id(&community, CommunityId::parse)?;
        let Some(source) = preview_source(mime.as_deref().unwrap_or_default()) else {
            return Ok(crate::jobs::Ran::Done);
        };
        let made = match source {
            PreviewSource::Image => {
                let image = inner.blobs.get(&path).await?;
                crate::decoder::previews(&inner.config, &image).await
            }
            PreviewSource::Pdf => match self.render_first_page(file, &path).await {
                Ok(Ok(page)) => crate::decoder::previews(&inner.config, &page).await,
                Ok(Err(why)) => Ok(Err(why)),
                Err(failed) => Err(failed),
            },
        };
        let mut crashed = None;
        let made = match made {
            Ok(made) => made,
            // The server's own problem (no decoder program): retried, and logged where it happened.
            Err(Failed::Unavailable) => {
                return Err(Error::Io(std::io::Error::other(
                    "the image decoder could not be started (see the server's log)",
                )));
            }
            Err(Failed::Crashed(how)) => {
                tracing::warn!(file = %file, how, "a file crashed its decoder");
                crashed = Some(how);
                Err(DECODER_FAILED.to_owned())
            }
        };
        let error = match made {
            Ok(made) => {
                let path = |name: &str| taina_ybira::layout::thumbnail_path(&community, file, name);
                for r in made.thumbnails {
                    let name = format!("{}.webp", r.size.name());
                    inner.blobs.put(&path(&name), r.webp).await?;
                }
                if let Some(jpeg) = made.jpeg {
                    inner.blobs.put(&path(JPEG_RENDITION), jpeg).await?;
                }
                None
            }
            Err(why) => {
                tracing::info!(file = %file, why, "no previews");
                Some(why)
            }
        };
        let now = self.now().as_millis();
        let mut tx = self.taina.ybira().begin_in(&community).await?;
        sqlx::query("UPDATE items SET previews_at = $1, preview_error = $2 WHERE id = $3")
            .bind(now)
            .bind(error.clone())
            .bind(file.as_str())
            .execute(&mut *tx)
            .await?;
        let photo: Option<(String,)> = sqlx::query_as(
            "UPDATE photos SET processed_at = $1, processing_error = $2, updated_at = $1 \
             WHERE file_id = $3 RETURNING id",
        )
        .bind(now)
        .bind(error)
        .bind(file.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let item = crate::ybira::tree_reload(&mut tx, file).await?;
        tx.commit().await?;
        if let Some((photo,)) = photo {
            self.publish(
                &community,
                DomainEvent::PhotoProcessed {
                    photo_id: parse_id(&photo, PhotoId::parse)?,
                    file: crate::ybira::item_event(&item),
                },
            );
        }
        Ok(match crashed {
            None => crate::jobs::Ran::Done,
            Some(how) => crate::jobs::Ran::Failed(how),
        })
    }
}

impl Jaci<'_> {
    /// Renders a PDF's first page to PNG with `pdftoppm`, run under the decoder's limits
    /// ([`crate::decoder::run_limited`]); the reason, fit to show, when it cannot (the details,
    /// with the server's paths, go to the log only).
    async fn render_first_page(
        &self,
        file: &ItemId,
        path: &str,
    ) -> std::result::Result<std::result::Result<Vec<u8>, String>, Failed> {
        let inner = &self.taina.inner;
        let input = inner.blobs.root().join(path);
        let work = inner
            .data_dir
            .join("tmp")
            .join(crate::random::new_id(taina_core::JobId::from_random).as_str());
        if let Err(e) = tokio::fs::create_dir_all(&work).await {
            tracing::error!(dir = %work.display(), error = %e, "cannot make a work directory");
            return Err(Failed::Unavailable);
        }
        let prefix = work.join("page");
        let args: [&std::ffi::OsStr; 10] = [
            "-f".as_ref(),
            "1".as_ref(),
            "-l".as_ref(),
            "1".as_ref(),
            "-singlefile".as_ref(),
            "-png".as_ref(),
            "-scale-to".as_ref(),
            "1600".as_ref(),
            input.as_os_str(),
            prefix.as_os_str(),
        ];
        let ran = crate::decoder::run_limited(&inner.config, &inner.config.pdftoppm, &args).await;
        let result = match ran {
            Err(failed) => Err(failed),
            Ok(Limited::Missing) => Ok(Err(PDF_PREVIEWS_UNAVAILABLE.to_owned())),
            Ok(Limited::Exited(0, _)) => {
                match tokio::fs::read(prefix.with_extension("png")).await {
                    Ok(page) => Ok(Ok(page)),
                    Err(e) => {
                        tracing::warn!(file = %file, error = %e, "pdftoppm wrote no page");
                        Ok(Err(PDF_NOT_RENDERED.to_owned()))
                    }
                }
            }
            Ok(Limited::Exited(code, stderr)) => {
                tracing::info!(file = %file, code, stderr, "pdftoppm could not render the first page");
                Ok(Err(PDF_NOT_RENDERED.to_owned()))
            }
        };
        let _ = tokio::fs::remove_dir_all(&work).await;
        result
    }
}

/// What a file whose content crashed or exhausted its decoder says, in place of previews.
pub const DECODER_FAILED: &str =
    "the file could not be decoded safely (its decoder failed on it), so it has no preview";
/// What a PDF says when this server cannot render PDFs.
const PDF_PREVIEWS_UNAVAILABLE: &str =
    "PDF previews are not available on this server (they need poppler-utils' pdftoppm)";
/// What a PDF whose first page could not be rendered says.
const PDF_NOT_RENDERED: &str = "the PDF's first page could not be rendered";

fn source_name(source: TakenAtSource) -> String {
    match serde_json::to_value(source) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "upload_time".to_owned(),
    }
}

async fn load_photo(conn: &mut AnyConnection, id: &PhotoId) -> Result<Photo> {
    let row: PhotoRow = sqlx::query_as(&format!("SELECT {PHOTO_COLUMNS} WHERE p.id = $1"))
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| DomainError::not_found("photo"))?;
    row.into_photo()
}
