//! Jaci, the photos service: a photo is a Ybira file plus a `photos` row of what its bytes say.
//! Importing stores the file through Ybira, reads its metadata (`taina_jaci::metadata`) and adds the
//! row; the file's previews (thumbnails) come from Ybira's durable `previews` job
//! ([`crate::ybira::previews`]), which then has Jaci mark the photo processed and announce
//! `photo.processed`. Who may see a photo is its file's business: every read goes through Ybira's
//! access check.
//!
//! By concept: importing and the library's own content (`import.rs`), the photo row in SQL
//! (`rows.rs`), a photo and the timeline (`timeline.rs`), the map (`map.rs`), reading and
//! regenerating previews and recording a photo's processing (`previews.rs`), albums (`albums/`).

use taina_core::{CommunityId, DomainEvent, Timestamp};
pub use taina_jaci::album::Visibility;
pub use taina_jaci::library::{MapPoint, Photo, PhotoDetail, TimelinePage};
pub use taina_jaci::thumbnail::Size;

use crate::Taina;
use crate::ybira::Location;

mod albums;
mod import;
mod map;
mod previews;
mod rows;
mod timeline;

pub use crate::ybira::previews::DECODER_FAILED;
pub use albums::{Album, AlbumUpdate, NewAlbum};
pub use import::KNOWN_BATCH;
use rows::{PHOTO_COLUMNS, PhotoRow, load_photo};

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

impl Jaci<'_> {
    fn now(&self) -> Timestamp {
        self.taina.inner.clock.now()
    }

    fn publish(&self, community: &CommunityId, event: DomainEvent) {
        self.taina.inner.publish_event(community, event);
    }
}
