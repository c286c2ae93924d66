//! WebDAV COPY: a file copied by reference to its content (no bytes copied), a folder with
//! everything in it (depth infinity) or alone (depth 0), dead properties included.

use taina_core::{Actor, Error as DomainError};
use taina_ybira::listing::ItemKind;
use tracing::instrument;

use crate::Result;
use crate::ybira::{Item, Location, Ybira};

/// Most files and folders one COPY makes (checked before anything is made).
pub const COPY_MAX_ITEMS: usize = 10_000;

impl Ybira<'_> {
    /// Copies `source` into `to` as `name` (a name already taken there gets a number, as any copy
    /// does; the caller frees the name first when it means to overwrite). A folder is copied with
    /// everything in it when `deep`, alone otherwise.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_copy(
        &self,
        actor: &Actor,
        source: &Item,
        to: &Location,
        name: &str,
        deep: bool,
    ) -> Result<Item> {
        if source.kind == ItemKind::Folder && deep {
            let count = self.count_subtree(actor, source).await?;
            if count > COPY_MAX_ITEMS {
                return Err(DomainError::Forbidden {
                    reason: "a folder of more than 10,000 files and folders is not copied in one go",
                }
                .into());
            }
        }
        self.copy_one(actor, source, to, name, deep).await
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
