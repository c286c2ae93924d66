//! WebDAV COPY and MOVE: a file copied by reference to its content (no bytes copied), a folder
//! with everything in it (depth infinity) or alone (depth 0), dead properties included; with
//! `Overwrite`, what stood at the destination goes to the trash only once the new one stands
//! whole (and comes back if the change fails), so a refused or broken request loses nothing.

use taina_core::{Actor, Error as DomainError, ItemId};
use taina_ybira::listing::ItemKind;
use tracing::instrument;

use crate::Result;
use crate::ybira::{Item, Location, Ybira};

/// Most files and folders one COPY makes (checked before anything is made).
pub const COPY_MAX_ITEMS: usize = 10_000;

impl Ybira<'_> {
    /// Copies `source` into `to` as `name`. A folder is copied with everything in it when `deep`,
    /// alone otherwise. With `replace` (what stands at that name), the copy is made under a
    /// temporary name first; only when it stands whole does `replace` go to the trash and the copy
    /// take its name. A copy that fails leaves nothing behind and `replace` where it was.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_copy(
        &self,
        actor: &Actor,
        source: &Item,
        to: &Location,
        name: &str,
        deep: bool,
        replace: Option<&Item>,
    ) -> Result<Item> {
        if source.kind == ItemKind::Folder && deep {
            let count = self.count_subtree(actor, source).await?;
            if count > COPY_MAX_ITEMS {
                return Err(DomainError::invalid(
                    "Depth",
                    format!(
                        "a folder of more than {COPY_MAX_ITEMS} files and folders is not copied in one go"
                    ),
                )
                .into());
            }
        }
        let Some(replace) = replace else {
            return self.copy_one(actor, source, to, name, deep).await;
        };
        let temporary = format!(".taina-copy-{}", crate::random::new_id(ItemId::from_random));
        let copy = match self.copy_one(actor, source, to, &temporary, deep).await {
            Ok(copy) => copy,
            Err(e) => {
                self.discard(actor, to, &temporary).await;
                return Err(e);
            }
        };
        if let Err(e) = self.dav_delete(actor, &replace.id).await {
            self.discard(actor, to, &temporary).await;
            return Err(e);
        }
        match self.rename(actor, &copy.id, name).await {
            Ok(item) => Ok(item),
            Err(e) => {
                self.put_back(actor, replace).await;
                self.discard(actor, to, &temporary).await;
                Err(e)
            }
        }
    }

    /// Moves (and renames) `source` to `name` in `to`. With `replace` (what stands at that name,
    /// another item), that goes to the trash first and comes back if the move is refused. Locks
    /// on what moved, and on what it replaced, are dropped (they belong to the old URLs).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_move(
        &self,
        actor: &Actor,
        source: &Item,
        to: &Location,
        name: &str,
        replace: Option<&Item>,
    ) -> Result<Item> {
        if let Some(replace) = replace {
            self.dav_delete(actor, &replace.id).await?;
        }
        let change = crate::ybira::ItemChange {
            name: Some(name.to_owned()),
            parent: Some(to.clone()),
        };
        match self.update_item(actor, &source.id, &change).await {
            Ok(item) => {
                self.dav_drop_locks(actor, &source.id).await?;
                Ok(item)
            }
            Err(e) => {
                if let Some(replace) = replace {
                    self.put_back(actor, replace).await;
                }
                Err(e)
            }
        }
    }

    /// Deletes an item to the trash and drops the locks on it and in it.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_delete(&self, actor: &Actor, id: &ItemId) -> Result<()> {
        self.delete(actor, id).await?;
        self.dav_drop_locks(actor, id).await
    }

    /// Brings back from the trash what a failed overwrite put there.
    async fn put_back(&self, actor: &Actor, item: &Item) {
        if let Err(e) = self.restore(actor, &item.id).await {
            tracing::error!(item = %item.id, error = %e, "an overwritten item could not be put back; it is in the trash");
        }
    }

    /// Removes for good what a failed copy left under its temporary name.
    async fn discard(&self, actor: &Actor, to: &Location, temporary: &str) {
        let Ok(Some(partial)) = self.child_named(actor, to, temporary).await else {
            return;
        };
        let gone = match self.delete(actor, &partial.id).await {
            Ok(()) => self.purge(actor, &partial.id).await,
            Err(e) => Err(e),
        };
        if let Err(e) = gone {
            tracing::error!(item = %partial.id, error = %e, "a failed copy's remains could not be removed");
        }
    }

    async fn copy_one(
        &self,
        actor: &Actor,
        source: &Item,
        to: &Location,
        name: &str,
        deep: bool,
    ) -> Result<Item> {
        let copy = match source.kind {
            ItemKind::File => self.copy(actor, &source.id, to, Some(name)).await?,
            ItemKind::Folder => self.create_folder(actor, to, name).await?,
        };
        {
            let mut tx = self.begin_in(&actor.community_id).await?;
            self.copy_dead_props(&mut tx, &source.id, &copy.id).await?;
            tx.commit().await?;
        }
        if source.kind == ItemKind::Folder && deep {
            let inside = Location::Folder(copy.id.clone());
            for child in self.all_children(actor, &source.id).await? {
                Box::pin(self.copy_one(actor, &child, &inside, &child.name.clone(), true)).await?;
            }
        }
        Ok(copy)
    }

    async fn all_children(&self, actor: &Actor, folder: &taina_core::ItemId) -> Result<Vec<Item>> {
        let location = Location::Folder(folder.clone());
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .list(actor, &location, cursor.as_deref(), Some(1000))
                .await?;
            items.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(items);
            }
        }
    }

    /// How many items a folder holds, itself included, counting no further than just past
    /// [`COPY_MAX_ITEMS`].
    async fn count_subtree(&self, actor: &Actor, folder: &Item) -> Result<usize> {
        let mut count = 1;
        let mut pending = vec![folder.id.clone()];
        while let Some(id) = pending.pop() {
            for child in self.all_children(actor, &id).await? {
                count += 1;
                if count > COPY_MAX_ITEMS {
                    return Ok(count);
                }
                if child.kind == ItemKind::Folder {
                    pending.push(child.id);
                }
            }
        }
        Ok(count)
    }
}
