//! The photo library as people see it: photos, timeline pages, the map and albums — the models the
//! API answers and clients read back.

use serde::{Deserialize, Serialize};
use taina_core::{AlbumId, ItemId, PhotoId, Timestamp, UserId};

use crate::album::Visibility;
use crate::media::MediaKind;
use crate::metadata::{Camera, Exposure, Location as GeoLocation, TakenAtSource};
use crate::timeline::PageGroup;
use taina_ybira::access::Space;

/// A photo (or video) in the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Photo {
    /// Its id.
    pub id: PhotoId,
    /// Its Ybira file.
    pub file_id: ItemId,
    /// Image or video.
    pub kind: MediaKind,
    /// The file's name.
    pub name: String,
    /// Its content type.
    pub mime_type: Option<String>,
    /// When it was taken, RFC 3339 in the local time of the place (`-00:00`: offset unknown).
    pub taken_at: String,
    /// Where `taken_at` came from.
    pub taken_at_source: TakenAtSource,
    /// Width as displayed.
    pub width: Option<u32>,
    /// Height as displayed.
    pub height: Option<u32>,
    /// EXIF orientation.
    pub orientation: u8,
    /// The camera.
    pub camera: Option<Camera>,
    /// Where it was taken.
    pub location: Option<GeoLocation>,
    /// How it was exposed.
    pub exposure: Option<Exposure>,
    /// A video's length in milliseconds (`None` for photos).
    pub duration_ms: Option<u64>,
    /// Whether its thumbnails are ready.
    pub processed: bool,
    /// Why it has no thumbnails, if it has none.
    pub processing_error: Option<String>,
    /// The space its file is in.
    pub space: Space,
    /// Who added it.
    pub owner_id: Option<taina_core::UserId>,
    /// When it was added.
    pub created_at: Timestamp,
}

/// A page of the timeline, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TimelinePage {
    /// The photos.
    pub photos: Vec<Photo>,
    /// Date headings over the photos (Today, Yesterday, this week, months, years) for the viewer's
    /// time zone, as runs of consecutive photos.
    pub groups: Vec<PageGroup>,
    /// Pass back for the next (older) page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// A photo with its neighbours in the timeline it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PhotoDetail {
    /// The photo.
    pub photo: Photo,
    /// The newer neighbour.
    pub previous: Option<PhotoId>,
    /// The older neighbour.
    pub next: Option<PhotoId>,
}

/// A photo on the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct MapPoint {
    /// The photo.
    pub id: PhotoId,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// When it was taken (RFC 3339).
    pub taken_at: String,
}

/// An album.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Album {
    /// Its id.
    pub id: AlbumId,
    /// Its name.
    pub name: String,
    /// Its slug, unique in the community.
    pub slug: String,
    /// Its description.
    pub description: String,
    /// Private or shared with the community.
    pub visibility: Visibility,
    /// Who made it.
    pub owner_id: UserId,
    /// The cover: the one chosen, or else the first photo, of those the viewer may see.
    pub cover_photo_id: Option<PhotoId>,
    /// Photos in it that the viewer may see (those in the trash, or that they may not see, do not
    /// count).
    pub photo_count: u64,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}
