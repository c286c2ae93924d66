//! Files and folders as people see them: the models the API answers and clients read back.

use serde::{Deserialize, Serialize};
use taina_core::{ItemId, ShareId, Timestamp, UserId, VersionId};

use crate::access::{ShareAccess, Space};
use crate::listing::ItemKind;

/// A file or folder, as a person sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    /// Its id.
    pub id: ItemId,
    /// File or folder.
    pub kind: ItemKind,
    /// Its name.
    pub name: String,
    /// The folder it is in (`None`: the root of its space).
    pub parent_id: Option<ItemId>,
    /// The space it is in.
    pub space: Space,
    /// Who added it (`None` once they have left the community).
    pub owner_id: Option<UserId>,
    /// Its size in bytes (0 for folders).
    pub size_bytes: u64,
    /// Its content type (files only).
    pub mime_type: Option<String>,
    /// Counts changes of name, place or content; starts at 1.
    pub revision: u64,
    /// The content's entity tag: its SHA-256 in quotes (files only).
    pub etag: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its content's time on the device it came from, when the uploading client said (sync
    /// clients keep file times with it); cleared when the content changes otherwise.
    #[serde(default)]
    pub client_modified_at: Option<Timestamp>,
    /// When it went to the trash (items in the trash only).
    pub deleted_at: Option<Timestamp>,
    /// Whether its thumbnails are ready (images and PDFs).
    pub has_previews: bool,
    /// Why it has no thumbnails, when making them failed or is not possible here.
    pub preview_error: Option<String>,
}

/// One page of a folder's children: folders first, then files, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page {
    /// The items.
    pub items: Vec<Item>,
    /// Pass this back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// An earlier content of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Version {
    /// Its id.
    pub id: VersionId,
    /// Its size.
    pub size_bytes: u64,
    /// Its content type.
    pub mime_type: String,
    /// Its entity tag (SHA-256 in quotes).
    pub etag: String,
    /// Who uploaded that content.
    pub author_id: Option<UserId>,
    /// When that content was uploaded.
    pub created_at: Timestamp,
    /// When newer content replaced it.
    pub replaced_at: Timestamp,
}

/// An explicit share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Share {
    /// Its id.
    pub id: ShareId,
    /// The shared item.
    pub item_id: ItemId,
    /// Who it is shared with.
    pub user_id: UserId,
    /// Read or read-write.
    pub access: ShareAccess,
    /// When it was shared.
    pub created_at: Timestamp,
}
