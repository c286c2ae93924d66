//! Albums: create, rename, describe, share with the community or keep private, set a cover, add,
//! remove and reorder photos. An album never shows a viewer a photo they may not see.
//!
//! By concept: the album row and what a viewer sees of it (here), visibility (`access.rs`), the
//! album itself (`manage.rs`), its photos (`contents.rs`).

use taina_core::{AlbumId, PhotoId, Timestamp, UserId};
use taina_jaci::album::Visibility;

use crate::db::parse_id;
use crate::{Error, Result};

pub use taina_jaci::library::Album;

mod access;
mod contents;
mod manage;

/// A new album.
#[derive(Debug, Clone)]
pub struct NewAlbum {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Private or shared.
    pub visibility: Visibility,
}

/// Changes to an album; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AlbumUpdate {
    /// A new name (the slug stays).
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// Private or shared.
    pub visibility: Option<Visibility>,
    /// A new cover (`Some(None)`: back to the first photo).
    pub cover_photo_id: Option<Option<PhotoId>>,
}

const ALBUM_COLUMNS: &str = "a.id, a.community_id, a.owner_id, a.name, a.slug, a.description, \
     a.visibility, a.cover_photo_id, a.created_at, a.updated_at FROM albums a";

/// What decides whether a viewer sees one photo of an album: (album, photo, file, space owner,
/// file owner), live files only, in the album's order.
const ALBUM_ENTRY_COLUMNS: &str = "ap.album_id, ap.photo_id, i.id, i.space_owner_id, i.owner_id \
     FROM album_photos ap JOIN photos p ON p.id = ap.photo_id JOIN items i ON i.id = p.file_id";

type EntryRow = (String, String, String, Option<String>, Option<String>);

#[derive(sqlx::FromRow)]
struct AlbumRow {
    id: String,
    community_id: String,
    owner_id: String,
    name: String,
    slug: String,
    description: String,
    visibility: String,
    cover_photo_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl AlbumRow {
    /// The album with its chosen cover (if any) and no photos counted yet: [`seen_by`] fills
    /// those in for a viewer.
    fn into_album(self) -> Result<(Album, taina_core::CommunityId)> {
        let visibility = Visibility::parse(&self.visibility)
            .ok_or_else(|| Error::Corrupt(format!("album {}: visibility", self.id)))?;
        let cover = self.cover_photo_id;
        Ok((
            Album {
                id: parse_id(&self.id, AlbumId::parse)?,
                name: self.name,
                slug: self.slug,
                description: self.description,
                visibility,
                owner_id: parse_id(&self.owner_id, UserId::parse)?,
                cover_photo_id: cover
                    .as_deref()
                    .map(|c| parse_id(c, PhotoId::parse))
                    .transpose()?,
                photo_count: 0,
                created_at: Timestamp::from_millis(self.created_at),
                updated_at: Timestamp::from_millis(self.updated_at),
            },
            parse_id(&self.community_id, taina_core::CommunityId::parse)?,
        ))
    }
}

/// The album as a viewer who sees `visible` of its photos (ids, in the album's order) sees it:
/// that many photos, and the chosen cover if it is among them, else the first of them. Photos
/// the viewer may not see (or in the trash) count for nothing and are never the cover.
fn seen_by(album: &mut Album, visible: &[String]) -> Result<()> {
    let chosen = album
        .cover_photo_id
        .take()
        .filter(|c| visible.iter().any(|v| v == c.as_str()));
    album.cover_photo_id = match chosen {
        Some(c) => Some(c),
        None => visible
            .first()
            .map(|c| parse_id(c, PhotoId::parse))
            .transpose()?,
    };
    album.photo_count = u64::try_from(visible.len()).unwrap_or(u64::MAX);
    Ok(())
}
