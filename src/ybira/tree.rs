//! The folder tree: create, look up, list, breadcrumbs, rename, move and delete (to the trash).

use std::collections::HashSet;

use sqlx::AnyConnection;
use taina_core::{Actor, Error as DomainError, ItemId, UserId};
use taina_ybira::access::{
    ItemAction, ItemFacts, ShareAccess, SubtreeChange, authorize_subtree, readable_from,
};
use taina_ybira::listing::{Cursor, ItemKind, page_size, sort_key};
use taina_ybira::name::{collision_key, first_free_name, normalize_name, split_extension};
use tracing::instrument;

use super::rows::{ITEM_COLUMNS, ItemRow};
use super::{Destination, Item, Loaded, Location, Page, Ybira};
use crate::Result;

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

impl Ybira<'_> {
    /// Creates a folder. A name already taken there (ignoring case) is a conflict.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn create_folder(
        &self,
        actor: &Actor,
        location: &Location,
        name: &str,
    ) -> Result<Item> {
        let name = normalize_name(name)?;
        let now = self.now();
        let mut tx = self.begin_in(&actor.community_id).await?;
        let dest: Destination = self.destination(&mut tx, actor, location).await?;
        ensure_name_free(&mut tx, &dest.parent_key, &name, None).await?;
        let id = crate::random::new_id(ItemId::from_random);
        insert_item(&mut tx, &id, actor, &dest, &name, None, now).await?;
        let item = reload(&mut tx, &id).await?;
        tx.commit().await?;
        self.announce(&actor.community_id, &item, super::Change::Added);
        Ok(item)
    }

    /// A file or folder the actor may see.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn item(&self, actor: &Actor, id: &ItemId) -> Result<Item> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        Ok(self
            .load(&mut conn, actor, id, ItemAction::Read, false)
            .await?
            .item)
    }

    /// One page of a folder's (or space root's) children: folders first, then files, by name
    /// ignoring case. Pass the previous page's `next_cursor` to continue.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn list(
        &self,
        actor: &Actor,
        location: &Location,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page> {
        let cursor = cursor.map(Cursor::decode).transpose()?;
        let limit = page_size(limit);
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let parent_key = self.readable_parent_key(&mut conn, actor, location).await?;
        let fetch = i64::from(limit) + 1;
        let rows: Vec<ItemRow> = match &cursor {
            None => {
                sqlx::query_as(&format!(
                    "SELECT {ITEM_COLUMNS} WHERE i.parent_key = $1 AND i.deleted_at IS NULL \
                 ORDER BY i.sort_key LIMIT $2"
                ))
                .bind(&parent_key)
                .bind(fetch)
                .fetch_all(&mut *conn)
                .await?
            }
            Some(c) => {
                sqlx::query_as(&format!(
                    "SELECT {ITEM_COLUMNS} WHERE i.parent_key = $1 AND i.deleted_at IS NULL \
                 AND i.sort_key > $2 ORDER BY i.sort_key LIMIT $3"
                ))
                .bind(&parent_key)
                .bind(&c.sort_key)
                .bind(fetch)
                .fetch_all(&mut *conn)
                .await?
            }
        };
        let more = rows.len() > limit as usize;
        let mut items = Vec::with_capacity(rows.len().min(limit as usize));
        let mut last_key = None;
        for row in rows.into_iter().take(limit as usize) {
            last_key = Some(row.sort_key.clone());
            items.push(row.into_loaded()?.item);
        }
        let next_cursor = match (more, last_key) {
            (true, Some(sort_key)) => Some(Cursor { sort_key }.encode()),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    /// The live child of a folder (or space root) with this name, ignoring case, if the actor may
    /// see the folder.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn child_named(
        &self,
        actor: &Actor,
        location: &Location,
        name: &str,
    ) -> Result<Option<Item>> {
        let name = normalize_name(name)?;
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let parent_key = self.readable_parent_key(&mut conn, actor, location).await?;
        let row: Option<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} WHERE i.parent_key = $1 AND i.name_key = $2 \
             AND i.deleted_at IS NULL"
        ))
        .bind(&parent_key)
        .bind(taina_ybira::name::collision_key(&name))
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| r.into_loaded().map(|l| l.item)).transpose()
    }

    /// The folder `path` (`/`-separated names) under `base`, made where missing.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn ensure_folder_path(
        &self,
        actor: &Actor,
        base: Location,
        path: &str,
    ) -> Result<Location> {
        let mut here = base;
        for name in path.split('/').map(str::trim).filter(|n| !n.is_empty()) {
            let folder = match self.child_named(actor, &here, name).await? {
                Some(item) if item.kind == ItemKind::Folder => item,
                Some(_) => {
                    return Err(
                        DomainError::conflict("a file already has that folder's name").into(),
                    );
                }
                None => match self.create_folder(actor, &here, name).await {
                    Ok(folder) => folder,
                    // Made meanwhile by someone else: use theirs.
                    Err(e) if e.kind() == taina_core::ErrorKind::Conflict => self
                        .child_named(actor, &here, name)
                        .await?
                        .ok_or_else(|| DomainError::conflict("the folder vanished"))?,
                    Err(e) => return Err(e),
                },
            };
            here = Location::Folder(folder.id);
        }
        Ok(here)
    }

    /// The parent key of a location the actor may read.
    async fn readable_parent_key(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &Actor,
        location: &Location,
    ) -> Result<String> {
        Ok(match location {
            Location::Folder(id) => {
                let folder = self.load(conn, actor, id, ItemAction::Read, false).await?;
                if folder.item.kind != ItemKind::Folder {
                    return Err(DomainError::invalid("folder_id", "is not a folder").into());
                }
                id.as_str().to_owned()
            }
            Location::MyFiles | Location::Shared => {
                let space = match location {
                    Location::MyFiles => taina_ybira::access::Space::Private(actor.user_id.clone()),
                    _ => taina_ybira::access::Space::Shared,
                };
                // Reading a root needs what adding to it needs, bar write shares.
                taina_ybira::access::authorize_root(actor, &space).map_err(super::denied)?;
                taina_ybira::listing::parent_key(&actor.community_id, &space, None)
            }
        })
    }

    /// The folders from the root of its space down to the item, the item included; for an item
    /// reached through a share, from the highest folder the actor may read (the names above it
    /// are not theirs to see: [`taina_ybira::access::readable_from`]).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn breadcrumbs(&self, actor: &Actor, id: &ItemId) -> Result<Vec<Item>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let item = self
            .load(&mut conn, actor, id, ItemAction::Read, false)
            .await?
            .item;
        let mut trail: Vec<Item> = super::ancestors(&mut conn, id)
            .await?
            .into_iter()
            .map(|l| l.item)
            .collect();
        let shares: Vec<(String, String)> = sqlx::query_as(
            "WITH RECURSIVE chain(id, depth) AS ( \
                 SELECT parent_id, 1 FROM items WHERE id = $1 AND parent_id IS NOT NULL \
                 UNION ALL \
                 SELECT i.parent_id, c.depth + 1 FROM items i JOIN chain c ON i.id = c.id \
                 WHERE i.parent_id IS NOT NULL AND c.depth < 10000) \
             SELECT s.item_id, s.access FROM shares s JOIN chain c ON s.item_id = c.id \
             WHERE s.user_id = $2",
        )
        .bind(id.as_str())
        .bind(actor.user_id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let direct: Vec<Option<ShareAccess>> = trail
            .iter()
            .map(|folder| {
                shares
                    .iter()
                    .filter(|(item, _)| item == folder.id.as_str())
                    .filter_map(|(_, access)| ShareAccess::parse(access))
                    .max()
            })
            .collect();
        let from = readable_from(actor, &actor.community_id, &item.space, &direct);
        trail.drain(..from);
        trail.push(item);
        Ok(trail)
    }

    /// Renames a file or folder. A name already taken there (ignoring case) is a conflict.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn rename(&self, actor: &Actor, id: &ItemId, name: &str) -> Result<Item> {
        let change = ItemChange {
            name: Some(name.to_owned()),
            parent: None,
        };
        self.update_item(actor, id, &change).await
    }

    /// Moves a file or folder (with everything in it) to another folder or space root of the same
    /// community. A folder never goes into itself or one of its subfolders; a name already taken at
    /// the destination is a conflict. Into another space, it goes only if the actor may move every
    /// item in it, and carries nobody else's items into a private space
    /// ([`taina_ybira::access::authorize_subtree`]): otherwise it is forbidden and nothing moves.
    /// A move to another space is announced as a deletion in the old space (to those who saw it
    /// there) before the update in the new one.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn move_item(&self, actor: &Actor, id: &ItemId, to: &Location) -> Result<Item> {
        let change = ItemChange {
            name: None,
            parent: Some(to.clone()),
        };
        self.update_item(actor, id, &change).await
    }

    /// Renames and/or moves a file or folder at once, by the rules of [`Ybira::rename`] and
    /// [`Ybira::move_item`]: everything is checked first (the name, the destination, the subtree,
    /// the new name free in the new folder) and both apply in one transaction, so a refused change
    /// changes nothing. One `file.updated` or `folder.updated` is announced after it commits
    /// (after a `file.deleted` or `folder.deleted` with the old space when it changes space, for
    /// those who lose sight of it there). An empty change answers the item as the actor may read it.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn update_item(
        &self,
        actor: &Actor,
        id: &ItemId,
        change: &ItemChange,
    ) -> Result<Item> {
        if change.name.is_none() && change.parent.is_none() {
            return self.item(actor, id).await;
        }
        let new_name = change.name.as_deref().map(normalize_name).transpose()?;
        let mut tx = self.begin_in(&actor.community_id).await?;
        let loaded = self
            .load(&mut tx, actor, id, ItemAction::Modify, false)
            .await?;
        let dest = match &change.parent {
            Some(to) => {
                let dest = self.destination(&mut tx, actor, to).await?;
                if let Some(parent) = &dest.parent {
                    let above = &dest.chain[..dest.chain.len() - 1];
                    taina_ybira::tree::check_move(id, parent, above)?;
                }
                self.ensure_subtree(&mut tx, actor, &loaded, SubtreeChange::MoveTo(&dest.space))
                    .await?;
                Some(dest)
            }
            None => None,
        };
        let name = new_name.unwrap_or_else(|| loaded.item.name.clone());
        let parent_key = dest.as_ref().map_or(&loaded.parent_key, |d| &d.parent_key);
        ensure_name_free(&mut tx, parent_key, &name, Some(id)).await?;
        let parent_id = match &dest {
            Some(d) => d.parent.as_ref().map(|p| p.as_str().to_owned()),
            None => loaded
                .item
                .parent_id
                .as_ref()
                .map(|p| p.as_str().to_owned()),
        };
        sqlx::query(
            "UPDATE items SET name = $1, name_key = $2, sort_key = $3, parent_id = $4, \
             parent_key = $5, revision = revision + 1, updated_at = $6 WHERE id = $7",
        )
        .bind(&name)
        .bind(collision_key(&name))
        .bind(sort_key(loaded.item.kind, &name))
        .bind(parent_id)
        .bind(parent_key)
        .bind(self.now().as_millis())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(name_conflict)?;
        if let Some(dest) = dest.as_ref().filter(|d| d.space != loaded.item.space) {
            sqlx::query(&format!(
                "UPDATE items SET space_owner_id = $2 WHERE id IN ({})",
                subtree_ids(false)
            ))
            .bind(id.as_str())
            .bind(dest.space.owner().map(|u| u.as_str().to_owned()))
            .execute(&mut *tx)
            .await?;
        }
        let item = reload(&mut tx, id).await?;
        tx.commit().await?;
        if item.space != loaded.item.space {
            // Those who followed it in its old space lose sight of it: to them it is gone (told
            // with the old space, so the audience is the old one), then it appears in the new one.
            self.announce(&actor.community_id, &loaded.item, super::Change::Deleted);
        }
        self.publish_updated(&actor.community_id, &item);
        Ok(item)
    }

    /// Puts a file or folder (with everything in it) in the trash. Nothing is freed until the trash
    /// is purged. A folder holding items the actor may not delete (other people's) is refused as a
    /// whole ([`taina_ybira::access::authorize_subtree`]).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn delete(&self, actor: &Actor, id: &ItemId) -> Result<()> {
        let mut tx = self.begin_in(&actor.community_id).await?;
        let loaded = self
            .load(&mut tx, actor, id, ItemAction::Modify, false)
            .await?;
        self.ensure_subtree(&mut tx, actor, &loaded, SubtreeChange::Trash)
            .await?;
        sqlx::query(&format!(
            "UPDATE items SET deleted_at = $2, trash_id = $1 \
             WHERE deleted_at IS NULL AND id IN ({})",
            subtree_ids(true)
        ))
        .bind(id.as_str())
        .bind(self.now().as_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.announce(&actor.community_id, &loaded.item, super::Change::Deleted);
        Ok(())
    }

    /// Checks that `actor`, who may modify `loaded`, may also apply `change` to everything under
    /// it (the live subtree for the trash, all of it for a purge or a move), by the owners found
    /// there ([`authorize_subtree`]).
    pub(crate) async fn ensure_subtree(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        loaded: &Loaded,
        change: SubtreeChange<'_>,
    ) -> Result<()> {
        if change == SubtreeChange::MoveTo(&loaded.item.space) {
            return Ok(());
        }
        let owners: Vec<Option<UserId>> = if loaded.item.kind == ItemKind::Folder {
            let rows: Vec<(Option<String>,)> = sqlx::query_as(&format!(
                "SELECT DISTINCT owner_id FROM items WHERE id IN ({})",
                subtree_ids(change == SubtreeChange::Trash)
            ))
            .bind(loaded.item.id.as_str())
            .fetch_all(&mut *conn)
            .await?;
            rows.into_iter()
                .map(|(owner,)| super::rows_opt_user(owner.as_deref()))
                .collect::<Result<_>>()?
        } else {
            vec![loaded.item.owner_id.clone()]
        };
        let share = super::best_share(conn, &loaded.item.id, &actor.user_id).await?;
        let root = ItemFacts {
            community_id: &actor.community_id,
            space: &loaded.item.space,
            owner_id: loaded.item.owner_id.as_ref(),
            share,
        };
        Ok(authorize_subtree(actor, change, root, &owners)?)
    }

    pub(crate) fn publish_updated(&self, community: &taina_core::CommunityId, item: &Item) {
        self.announce(community, item, super::Change::Updated);
    }
}
