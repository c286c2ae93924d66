//! The folder tree: create, look up, list, breadcrumbs, rename, move and delete (to the trash).
//!
//! By concept: the helpers other modules share and [`ItemChange`] (here), looking up and listing
//! (`read.rs`), creating, renaming, moving and deleting (`change.rs`).

use std::collections::HashSet;

use sqlx::AnyConnection;
use taina_core::{Actor, Error as DomainError, ItemId};
use taina_ybira::listing::{ItemKind, sort_key};
use taina_ybira::name::{collision_key, first_free_name, split_extension};

use super::rows::{ITEM_COLUMNS, ItemRow};
use super::{Destination, Item, Location};
use crate::Result;

mod change;
mod read;

/// The SQL that picks an item and everything under it (through items not in the trash only when
/// `live_only`), as a sub-select of ids.
pub(crate) fn subtree_ids(live_only: bool) -> &'static str {
    if live_only {
        "WITH RECURSIVE sub(id, depth) AS ( \
             SELECT id, 0 FROM items WHERE id = $1 \
             UNION ALL \
             SELECT i.id, s.depth + 1 FROM items i JOIN sub s ON i.parent_id = s.id \
             WHERE i.deleted_at IS NULL AND s.depth < 10000) \
         SELECT id FROM sub"
    } else {
        "WITH RECURSIVE sub(id, depth) AS ( \
             SELECT id, 0 FROM items WHERE id = $1 \
             UNION ALL \
             SELECT i.id, s.depth + 1 FROM items i JOIN sub s ON i.parent_id = s.id \
             WHERE s.depth < 10000) \
         SELECT id FROM sub"
    }
}

/// Fails with a conflict if a live item other than `except` holds `name` (ignoring case) there.
pub(crate) async fn ensure_name_free(
    conn: &mut AnyConnection,
    parent_key: &str,
    name: &str,
    except: Option<&ItemId>,
) -> Result<()> {
    let taken: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM items WHERE parent_key = $1 AND name_key = $2 AND deleted_at IS NULL",
    )
    .bind(parent_key)
    .bind(collision_key(name))
    .fetch_optional(&mut *conn)
    .await?;
    match taken {
        Some((id,)) if Some(id.as_str()) != except.map(ItemId::as_str) => {
            Err(DomainError::conflict(format!("\"{name}\" already exists in this folder")).into())
        }
        _ => Ok(()),
    }
}

/// `name`, or `name (2).ext`, `name (3).ext`, ... whichever is free under `parent_key`.
pub(crate) async fn free_name(
    conn: &mut AnyConnection,
    parent_key: &str,
    name: &str,
) -> Result<String> {
    // Candidates share the name's first characters up to its extension; take them from the whole
    // name's key (lower-casing can depend on what follows, as with a final sigma).
    let stem_chars = split_extension(name).0.chars().count().min(32);
    let prefix: String = collision_key(name).chars().take(stem_chars).collect();
    let keys: Vec<(String,)> = sqlx::query_as(
        "SELECT name_key FROM items WHERE parent_key = $1 AND deleted_at IS NULL \
         AND substr(name_key, 1, CAST($2 AS INTEGER)) = $3",
    )
    .bind(parent_key)
    .bind(i64::try_from(prefix.chars().count()).unwrap_or(0))
    .bind(&prefix)
    .fetch_all(&mut *conn)
    .await?;
    let taken: HashSet<String> = keys.into_iter().map(|(k,)| k).collect();
    Ok(first_free_name(name, |n| taken.contains(&collision_key(n))))
}

/// Loads an item by id without access checks (the caller has checked).
pub(crate) async fn reload(conn: &mut AnyConnection, id: &ItemId) -> Result<Item> {
    let row: ItemRow = sqlx::query_as(&format!("SELECT {ITEM_COLUMNS} WHERE i.id = $1"))
        .bind(id.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.into_loaded()?.item)
}

/// The content of a new file (folders have none).
pub(crate) struct Content<'a> {
    pub(crate) blob: &'a taina_core::BlobId,
    pub(crate) size_bytes: i64,
    pub(crate) mime_type: Option<&'a str>,
}

/// Inserts a folder (no content) or a file at `dest` named `name` (already checked and free),
/// owned by `actor`.
pub(crate) async fn insert_item(
    conn: &mut AnyConnection,
    id: &ItemId,
    actor: &Actor,
    dest: &Destination,
    name: &str,
    content: Option<Content<'_>>,
    now: taina_core::Timestamp,
) -> Result<()> {
    let kind = if content.is_some() {
        ItemKind::File
    } else {
        ItemKind::Folder
    };
    sqlx::query(
        "INSERT INTO items (id, community_id, kind, space_owner_id, parent_id, parent_key, owner_id, \
         name, name_key, sort_key, blob_id, size_bytes, mime_type, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(id.as_str())
    .bind(actor.community_id.as_str())
    .bind(kind.as_str())
    .bind(dest.space.owner().map(|u| u.as_str().to_owned()))
    .bind(dest.parent.as_ref().map(|p| p.as_str().to_owned()))
    .bind(&dest.parent_key)
    .bind(actor.user_id.as_str())
    .bind(name)
    .bind(collision_key(name))
    .bind(sort_key(kind, name))
    .bind(content.as_ref().map(|c| c.blob.as_str().to_owned()))
    .bind(content.as_ref().map_or(0, |c| c.size_bytes))
    .bind(content.as_ref().and_then(|c| c.mime_type.map(str::to_owned)))
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await
    .map_err(name_conflict)?;
    Ok(())
}

/// Maps a unique-name violation (a concurrent change took the name) to a conflict.
pub(crate) fn name_conflict(e: sqlx::Error) -> crate::Error {
    if crate::db::is_unique_violation(&e) {
        DomainError::conflict("an item with that name already exists in this folder").into()
    } else {
        e.into()
    }
}

/// A rename and/or a move of a file or folder, for [`Ybira::update_item`]: what is `None` stays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemChange {
    /// The new name (checked like any name; ignoring case, it must be free where the item ends up).
    pub name: Option<String>,
    /// Where the item moves, with everything in it.
    pub parent: Option<Location>,
}
