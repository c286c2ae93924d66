//! Looking up the tree: an item, a page of a folder's children, a child by name, and the
//! breadcrumbs from the highest folder the viewer may read.

use taina_core::{Actor, Error as DomainError, ItemId};
use taina_ybira::access::{ItemAction, ShareAccess, readable_from};
use taina_ybira::listing::{Cursor, ItemKind, page_size};
use taina_ybira::name::normalize_name;
use tracing::instrument;

use crate::Result;
use crate::ybira::rows::{ITEM_COLUMNS, ItemRow};
use crate::ybira::{Item, Location, Page, Ybira};

impl Ybira<'_> {
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
        let limit = page_size(limit)?;
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
                taina_ybira::access::authorize_root(actor, &space).map_err(crate::ybira::denied)?;
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
        let mut trail: Vec<Item> = crate::ybira::ancestors(&mut conn, id)
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
}
