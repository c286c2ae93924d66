//! Ybira, the files service: folders and files in private and shared spaces, streaming uploads with
//! deduplication and exact quotas, downloads with ranges, versions, copies, the trash, shares and the
//! integrity check. Jaci (photos) and Guará (attachments) store their bytes through it.
//!
//! Every call takes the authenticated [`Actor`], loads what it acts on inside the same transaction
//! that changes it, and asks the pure policy ([`taina_ybira::access::authorize_item`]) first. The
//! rules (names, layout, moves, cursors, types, ranges, reservations, versions, integrity) live in
//! `taina-ybira`; this module does the I/O.

mod blobs;
mod content;
pub mod dav;
mod integrity;
pub(crate) mod previews;
pub mod recovery;
pub(crate) mod resumable;
mod rows;
mod shares;
mod trash;
mod tree;
mod upload;
mod versions;

use sqlx::AnyConnection;
use taina_core::{
    Actor, BlobId, Denied, DomainEvent, Error as DomainError, ItemEvent, ItemId, Timestamp, UserId,
};
pub use taina_ybira::access::ShareAccess;
use taina_ybira::access::{ItemAction, ItemFacts, Space, authorize_item, authorize_trashed};
pub use taina_ybira::item::{Item, Page, Share, Version};

pub use taina_ybira::integrity::IntegrityReport;
pub use taina_ybira::listing::ItemKind;
pub use taina_ybira::range;
pub use taina_ybira::range::ByteRange;
pub use taina_ybira::tus;

pub(crate) use blobs::lock_community;
pub use content::Download;
pub use integrity::IntegrityOptions;
pub use recovery::RecoveryReport;
pub use resumable::{Appended, NewResumable, ResumableStatus};
pub(crate) use trash::remove_private_space;
pub use tree::ItemChange;
pub(crate) use upload::AsPhoto;
pub use upload::{NewUpload, OnConflict};

use crate::{Result, Taina};
use rows::ItemRow;

/// Where an item goes, or which folder to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The root of the actor's own private space ("My files").
    MyFiles,
    /// The root of the community's shared space.
    Shared,
    /// Inside a folder.
    Folder(ItemId),
}

/// The files service. Get it from [`Taina::ybira`].
#[derive(Clone, Copy)]
pub struct Ybira<'a> {
    pub(crate) taina: &'a Taina,
}

/// An item loaded for a call, with the facts the shell needs besides what people see.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) item: Item,
    pub(crate) parent_key: String,
    pub(crate) blob_id: Option<BlobId>,
    pub(crate) trash_id: Option<ItemId>,
}

/// Loads an item of `community` (live, or in the trash when `in_trash`) without asking who wants
/// it: for callers that decide access by their own rule.
pub(crate) async fn load_unchecked(
    conn: &mut AnyConnection,
    community: &taina_core::CommunityId,
    id: &ItemId,
    in_trash: bool,
) -> Result<Loaded> {
    let row: Option<ItemRow> = sqlx::query_as(&format!(
        "SELECT {} WHERE i.id = $1 AND i.community_id = $2",
        rows::ITEM_COLUMNS
    ))
    .bind(id.as_str())
    .bind(community.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) if row.deleted_at.is_some() == in_trash => row.into_loaded(),
        _ => Err(DomainError::not_found("file or folder").into()),
    }
}

/// A resolved destination: its space, parent folder, and the key names collide under.
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    pub(crate) space: Space,
    pub(crate) parent: Option<ItemId>,
    pub(crate) parent_key: String,
    /// The parent folder and its ancestors, root first (empty at a space root).
    pub(crate) chain: Vec<ItemId>,
}

/// What a denied item call reports: "not found" for what the actor may not see.
pub(crate) fn denied(d: Denied) -> crate::Error {
    match d {
        Denied::OtherCommunity => DomainError::not_found("file or folder").into(),
        Denied::Role => DomainError::Forbidden {
            reason: "you may not do this with this file or folder",
        }
        .into(),
    }
}

impl<'a> Ybira<'a> {
    fn now(&self) -> Timestamp {
        self.taina.inner.clock.now()
    }

    /// Starts a write transaction holding the community's lock ([`blobs::lock_community`]).
    pub(crate) async fn begin_in(
        &self,
        community: &taina_core::CommunityId,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.taina.inner.db.begin().await?;
        blobs::lock_community(&mut tx, community).await?;
        Ok(tx)
    }

    fn publish(&self, actor_community: &taina_core::CommunityId, event: DomainEvent) {
        self.taina.inner.publish_event(actor_community, event);
    }

    /// Loads an item the actor may `action`, within `conn`. Items in the trash count as missing
    /// unless `in_trash` is set, and then only items in the trash are found.
    pub(crate) async fn load(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: &ItemId,
        action: ItemAction,
        in_trash: bool,
    ) -> Result<Loaded> {
        let loaded = load_unchecked(conn, &actor.community_id, id, in_trash).await?;
        let share = best_share(conn, id, &actor.user_id).await?;
        let facts = ItemFacts {
            community_id: &actor.community_id,
            space: &loaded.item.space,
            owner_id: loaded.item.owner_id.as_ref(),
            share,
        };
        let decided = if in_trash {
            authorize_trashed(actor, action, facts)
        } else {
            authorize_item(actor, action, facts)
        };
        decided.map_err(denied)?;
        Ok(loaded)
    }

    /// Resolves where a new item goes, checking the actor may add there.
    pub(crate) async fn destination(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        location: &Location,
    ) -> Result<Destination> {
        let community = &actor.community_id;
        let root = |space: Space| {
            taina_ybira::access::authorize_root(actor, &space).map_err(denied)?;
            Ok::<_, crate::Error>(Destination {
                parent_key: taina_ybira::listing::parent_key(community, &space, None),
                space,
                parent: None,
                chain: Vec::new(),
            })
        };
        match location {
            Location::MyFiles => root(Space::Private(actor.user_id.clone())),
            Location::Shared => root(Space::Shared),
            Location::Folder(id) => {
                let folder = self
                    .load(conn, actor, id, ItemAction::AddChild, false)
                    .await?;
                if folder.item.kind != ItemKind::Folder {
                    return Err(DomainError::invalid("parent_id", "is not a folder").into());
                }
                let mut chain: Vec<ItemId> = ancestors(conn, id)
                    .await?
                    .into_iter()
                    .map(|row| row.item.id)
                    .collect();
                chain.push(id.clone());
                Ok(Destination {
                    parent_key: taina_ybira::listing::parent_key(
                        community,
                        &folder.item.space,
                        Some(id),
                    ),
                    space: folder.item.space,
                    parent: Some(id.clone()),
                    chain,
                })
            }
        }
    }
}

/// The strongest share `user` holds on `id` or any folder above it.
pub(crate) async fn best_share(
    conn: &mut AnyConnection,
    id: &ItemId,
    user: &UserId,
) -> Result<Option<ShareAccess>> {
    let (access,): (Option<String>,) = sqlx::query_as(
        "WITH RECURSIVE chain(id, depth) AS ( \
             SELECT id, 0 FROM items WHERE id = $1 \
             UNION ALL \
             SELECT i.parent_id, c.depth + 1 FROM items i JOIN chain c ON i.id = c.id \
             WHERE i.parent_id IS NOT NULL AND c.depth < 10000) \
         SELECT MAX(s.access) FROM shares s JOIN chain c ON s.item_id = c.id WHERE s.user_id = $2",
    )
    .bind(id.as_str())
    .bind(user.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(access.as_deref().and_then(ShareAccess::parse))
}

/// The folders above `id`, root first, in one query.
pub(crate) async fn ancestors(conn: &mut AnyConnection, id: &ItemId) -> Result<Vec<Loaded>> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "WITH RECURSIVE chain(id, depth) AS ( \
             SELECT parent_id, 1 FROM items WHERE id = $1 AND parent_id IS NOT NULL \
             UNION ALL \
             SELECT i.parent_id, c.depth + 1 FROM items i JOIN chain c ON i.id = c.id \
             WHERE i.parent_id IS NOT NULL AND c.depth < 10000) \
         SELECT {} JOIN chain ch ON ch.id = i.id ORDER BY ch.depth DESC",
        rows::ITEM_COLUMNS
    ))
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(ItemRow::into_loaded).collect()
}

/// Enqueues the making of a file's previews, if its type has them.
pub(crate) async fn enqueue_previews(
    conn: &mut AnyConnection,
    file: &ItemId,
    mime_type: &str,
    now: Timestamp,
) -> Result<()> {
    if taina_jaci::media::preview_source(mime_type).is_none() {
        return Ok(());
    }
    let job = crate::jobs::Job::Previews {
        file_id: file.clone(),
    };
    crate::jobs::enqueue(conn, crate::jobs::NewJob::now(job, now), now).await
}

/// Parses an optional stored user id.
pub(crate) fn rows_opt_user(s: Option<&str>) -> Result<Option<UserId>> {
    rows::opt_id(s, UserId::parse)
}

pub(crate) use tree::reload as tree_reload;

/// What happened to an item, for [`Ybira::announce`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// New: a folder created, a file uploaded or copied.
    Added,
    /// Renamed, moved, or new content.
    Updated,
    /// To the trash, or purged from it.
    Deleted,
    /// Back from the trash.
    Restored,
}

impl Ybira<'_> {
    /// Publishes the event for a change to an item (`file.*` or `folder.*`).
    pub(crate) fn announce(
        &self,
        community: &taina_core::CommunityId,
        item: &Item,
        change: Change,
    ) {
        let e = item_event(item);
        let event = match (item.kind, change) {
            (ItemKind::File, Change::Added) => DomainEvent::FileUploaded(e),
            (ItemKind::File, Change::Updated) => DomainEvent::FileUpdated(e),
            (ItemKind::File, Change::Deleted) => DomainEvent::FileDeleted(e),
            (ItemKind::File, Change::Restored) => DomainEvent::FileRestored(e),
            (ItemKind::Folder, Change::Added) => DomainEvent::FolderCreated(e),
            (ItemKind::Folder, Change::Updated) => DomainEvent::FolderUpdated(e),
            (ItemKind::Folder, Change::Deleted) => DomainEvent::FolderDeleted(e),
            (ItemKind::Folder, Change::Restored) => DomainEvent::FolderRestored(e),
        };
        self.publish(community, event);
    }
}

/// The event payload for an item.
pub(crate) fn item_event(item: &Item) -> ItemEvent {
    ItemEvent {
        item_id: item.id.clone(),
        name: item.name.clone(),
        parent_id: item.parent_id.clone(),
        space_owner_id: item.space.owner().cloned(),
    }
}
