//! Ybira rows as the database returns them, and their conversion into [`Item`]s.

use taina_core::{BlobId, ItemId, Timestamp, UserId, VersionId};
use taina_ybira::access::Space;
use taina_ybira::listing::ItemKind;

use super::{Item, Loaded, Version};
use crate::db::parse_id;
use crate::{Error, Result};

/// The select list (and `FROM`) that makes an [`ItemRow`]; callers add `WHERE`, `JOIN`, `ORDER`.
pub(crate) const ITEM_COLUMNS: &str = "i.id, i.kind, i.space_owner_id, i.parent_id, i.owner_id, \
     i.name, i.size_bytes, i.mime_type, i.revision, i.created_at, i.updated_at, i.deleted_at, \
     i.blob_id, b.sha256, i.trash_id, i.parent_key, i.sort_key, i.previews_at, i.preview_error, \
     i.client_modified_at \
     FROM items i LEFT JOIN blobs b ON b.id = i.blob_id";

#[derive(sqlx::FromRow)]
pub(crate) struct ItemRow {
    id: String,
    kind: String,
    space_owner_id: Option<String>,
    parent_id: Option<String>,
    owner_id: Option<String>,
    name: String,
    size_bytes: i64,
    mime_type: Option<String>,
    revision: i64,
    created_at: i64,
    updated_at: i64,
    pub(crate) deleted_at: Option<i64>,
    blob_id: Option<String>,
    sha256: Option<String>,
    trash_id: Option<String>,
    parent_key: String,
    pub(crate) sort_key: String,
    previews_at: Option<i64>,
    preview_error: Option<String>,
    client_modified_at: Option<i64>,
}

impl ItemRow {
    pub(crate) fn into_loaded(self) -> Result<Loaded> {
        let kind = ItemKind::parse(&self.kind)
            .ok_or_else(|| Error::Corrupt(format!("stored item kind {:?}", self.kind)))?;
        let item = Item {
            id: parse_id(&self.id, ItemId::parse)?,
            kind,
            name: self.name,
            parent_id: opt_id(self.parent_id.as_deref(), ItemId::parse)?,
            space: Space::from_owner(opt_id(self.space_owner_id.as_deref(), UserId::parse)?),
            owner_id: opt_id(self.owner_id.as_deref(), UserId::parse)?,
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            mime_type: self.mime_type,
            revision: u64::try_from(self.revision).unwrap_or(0),
            etag: self.sha256.as_deref().map(etag),
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
            client_modified_at: self.client_modified_at.map(Timestamp::from_millis),
            deleted_at: self.deleted_at.map(Timestamp::from_millis),
            has_previews: self.previews_at.is_some() && self.preview_error.is_none(),
            preview_error: self.preview_error,
        };
        Ok(Loaded {
            item,
            parent_key: self.parent_key,
            blob_id: opt_id(self.blob_id.as_deref(), BlobId::parse)?,
            trash_id: opt_id(self.trash_id.as_deref(), ItemId::parse)?,
        })
    }
}

/// The columns that make a [`VersionRow`].
pub(crate) const VERSION_COLUMNS: &str = "v.id, v.size_bytes, v.mime_type, b.sha256, v.author_id, \
     v.created_at, v.replaced_at FROM file_versions v JOIN blobs b ON b.id = v.blob_id";

#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    id: String,
    size_bytes: i64,
    mime_type: String,
    sha256: String,
    author_id: Option<String>,
    created_at: i64,
    replaced_at: i64,
}

impl VersionRow {
    pub(crate) fn into_version(self) -> Result<Version> {
        Ok(Version {
            id: parse_id(&self.id, VersionId::parse)?,
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            mime_type: self.mime_type,
            etag: etag(&self.sha256),
            author_id: opt_id(self.author_id.as_deref(), UserId::parse)?,
            created_at: Timestamp::from_millis(self.created_at),
            replaced_at: Timestamp::from_millis(self.replaced_at),
        })
    }
}

/// A content hash as an HTTP entity tag.
pub(crate) fn etag(sha256: &str) -> String {
    format!("\"{sha256}\"")
}

pub(crate) fn opt_id<T>(
    s: Option<&str>,
    parse: fn(&str) -> Result<T, taina_core::id::IdError>,
) -> Result<Option<T>> {
    s.map(|s| parse_id(s, parse)).transpose()
}
