//! Changing the tree: folders created (one, or a path of them), items renamed, moved (with
//! everything in them, checked over the whole subtree) and put in the trash, and what each
//! change announces.

use sqlx::AnyConnection;
use taina_core::{Actor, Error as DomainError, ItemId, UserId};
use taina_ybira::access::{ItemAction, ItemFacts, SubtreeChange, authorize_subtree};
use taina_ybira::listing::{ItemKind, sort_key};
use taina_ybira::name::{collision_key, normalize_name};
use tracing::instrument;

use super::{ItemChange, ensure_name_free, insert_item, name_conflict, reload, subtree_ids};
use crate::Result;
use crate::ybira::{Destination, Item, Loaded, Location, Ybira};

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
        self.announce(&actor.community_id, &item, crate::ybira::Change::Added);
        Ok(item)
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
            self.announce(
                &actor.community_id,
                &loaded.item,
                crate::ybira::Change::Deleted,
            );
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
        self.announce(
            &actor.community_id,
            &loaded.item,
            crate::ybira::Change::Deleted,
        );
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
                .map(|(owner,)| crate::ybira::rows_opt_user(owner.as_deref()))
                .collect::<Result<_>>()?
        } else {
            vec![loaded.item.owner_id.clone()]
        };
        let share = crate::ybira::best_share(conn, &loaded.item.id, &actor.user_id).await?;
        let root = ItemFacts {
            community_id: &actor.community_id,
            space: &loaded.item.space,
            owner_id: loaded.item.owner_id.as_ref(),
            share,
        };
        Ok(authorize_subtree(actor, change, root, &owners)?)
    }

    pub(crate) fn publish_updated(&self, community: &taina_core::CommunityId, item: &Item) {
        self.announce(community, item, crate::ybira::Change::Updated);
    }
}
