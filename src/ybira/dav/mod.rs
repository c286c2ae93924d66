//! WebDAV's view of Ybira: paths resolved to files and folders through the same calls (and so the
//! same authorization) as the API, dead properties stored with their item (`props.rs`), and
//! folder copies (`copy.rs`). The protocol's rules and formats are `taina_ybira::dav`'s.

mod chunked;
mod copy;
mod litter;
mod locks;
mod props;
mod shown;

pub use chunked::TRANSFER_ID_MAX_CHARS;
pub use copy::COPY_MAX_ITEMS;
pub use litter::Litter;
pub use locks::{LockRequest, Locked};
pub use props::{DeadProp, PatchOutcome, not_patchable};
pub use shown::Shown;

use taina_core::Actor;
use taina_ybira::dav::path::{DavPath, Root};
use taina_ybira::dav::props::{QuotaShown, quota_shown};
use taina_ybira::listing::ItemKind;
use tracing::instrument;

use crate::Result;
use crate::ybira::{Item, Location, Ybira};

/// What a WebDAV path names, for the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
// One per request, short-lived: the other variants' wasted bytes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Resolved {
    /// The top of the tree (it lists the roots).
    Top,
    /// The root of a space ("My files", "Community").
    SpaceRoot(Root, Location),
    /// "Shared with me": what others shared with the actor.
    SharedRoot,
    /// A file or folder.
    Item(Item),
    /// Nothing, in a folder that exists (where it can be made).
    Missing {
        /// The folder it would go in (`None`: "Shared with me" or the top, where nothing can be
        /// made).
        parent: Option<Location>,
        /// Its name.
        name: String,
    },
    /// Nothing, and its parent folder is missing too (a PUT or MKCOL there is a conflict).
    ParentMissing,
}

impl Resolved {
    /// Whether it is a collection (the top, a root or a folder).
    pub fn is_collection(&self) -> bool {
        match self {
            Resolved::Top | Resolved::SpaceRoot(..) | Resolved::SharedRoot => true,
            Resolved::Item(item) => item.kind == ItemKind::Folder,
            Resolved::Missing { .. } | Resolved::ParentMissing => false,
        }
    }

    /// Whether something is there.
    pub fn exists(&self) -> bool {
        !matches!(self, Resolved::Missing { .. } | Resolved::ParentMissing)
    }

    /// The location of the collection it names, where members are listed and added.
    pub fn as_location(&self) -> Option<Location> {
        match self {
            Resolved::SpaceRoot(_, location) => Some(location.clone()),
            Resolved::Item(item) if item.kind == ItemKind::Folder => {
                Some(Location::Folder(item.id.clone()))
            }
            _ => None,
        }
    }
}

/// A member of a collection, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
// Roots appear at most three times, at the top of the tree; every other member is an item.
#[allow(clippy::large_enum_variant)]
pub enum Member {
    /// A root of the tree.
    Root(Root),
    /// A file or folder, under the name it is listed by, with its dead properties.
    Item {
        /// The name it is listed by (its own, or numbered in "Shared with me").
        name: String,
        /// The file or folder.
        item: Item,
        /// Its dead properties.
        dead: Vec<DeadProp>,
        /// The locks in force over it (its own, and deep ones above it).
        locks: Vec<taina_ybira::dav::locks::HeldLock>,
        /// What else is shown of it (a folder's entity tag and size, the actor's permissions).
        shown: Shown,
    },
}

impl Ybira<'_> {
    /// What `path` names for the actor. Names are matched ignoring case, as Ybira keeps them; a
    /// folder the actor may not read is "not found", like one that does not exist.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn resolve_dav(&self, actor: &Actor, path: &DavPath) -> Result<Resolved> {
        let Some(root) = path.root else {
            return Ok(Resolved::Top);
        };
        let mut names = path.names.iter();
        let mut location = match root {
            Root::MyFiles => Location::MyFiles,
            Root::Community => Location::Shared,
            Root::SharedWithMe => {
                let Some(first) = names.next() else {
                    return Ok(Resolved::SharedRoot);
                };
                let found = self
                    .shared_members(actor)
                    .await?
                    .into_iter()
                    .find(|(name, _)| same_name(name, first));
                match found {
                    None if path.names.len() == 1 => {
                        return Ok(Resolved::Missing {
                            parent: None,
                            name: first.clone(),
                        });
                    }
                    None => return Ok(Resolved::ParentMissing),
                    Some((_, item)) if path.names.len() == 1 => return Ok(Resolved::Item(item)),
                    Some((_, item)) if item.kind == ItemKind::Folder => Location::Folder(item.id),
                    Some(_) => return Ok(Resolved::ParentMissing),
                }
            }
        };
        if path.names.is_empty() {
            return Ok(Resolved::SpaceRoot(root, location));
        }
        let remaining: Vec<&String> = names.collect();
        for (i, name) in remaining.iter().enumerate() {
            let last = i + 1 == remaining.len();
            let child = match self.child_named(actor, &location, name).await {
                Ok(child) => child,
                // A name Ybira could never hold names nothing.
                Err(crate::Error::Domain(taina_core::Error::Invalid { .. })) => None,
                Err(e) => return Err(e),
            };
            match child {
                Some(item) if last => return Ok(Resolved::Item(item)),
                Some(item) if item.kind == ItemKind::Folder => {
                    location = Location::Folder(item.id);
                }
                Some(_) => return Ok(Resolved::ParentMissing),
                None if last => {
                    return Ok(Resolved::Missing {
                        parent: Some(location),
                        name: (*name).clone(),
                    });
                }
                None => return Ok(Resolved::ParentMissing),
            }
        }
        Ok(Resolved::ParentMissing)
    }

    /// The members of a collection, in listing order. A collection of more than
    /// [`taina_ybira::dav::LISTING_MAX`] members is refused (too large to list in one answer),
    /// never cut short: a sync client would take the missing ones for deleted.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_members(&self, actor: &Actor, of: &Resolved) -> Result<Vec<Member>> {
        let max = taina_ybira::dav::LISTING_MAX;
        let named: Vec<(String, Item)> = match of {
            Resolved::Top => return Ok(Root::ALL.into_iter().map(Member::Root).collect()),
            Resolved::SharedRoot => self.shared_members(actor).await?,
            other => {
                let Some(location) = other.as_location() else {
                    return Ok(Vec::new());
                };
                let mut named = Vec::new();
                let mut cursor = None;
                loop {
                    let page = self
                        .list(actor, &location, cursor.as_deref(), Some(1000))
                        .await?;
                    named.extend(page.items.into_iter().map(|item| (item.name.clone(), item)));
                    cursor = page.next_cursor;
                    if cursor.is_none() || named.len() > max {
                        break;
                    }
                }
                named
            }
        };
        if named.len() > max {
            return Err(taina_core::Error::TooLarge {
                what: "a folder to list over WebDAV (its number of members)",
                limit_bytes: max as u64,
            }
            .into());
        }
        let ids: Vec<taina_core::ItemId> = named.iter().map(|(_, item)| item.id.clone()).collect();
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let mut dead = props::dead_props_of(&mut conn, &ids).await?;
        let inherited = match of {
            Resolved::Item(folder) => locks::locks_over(&mut conn, &folder.id, false, self.now())
                .await?
                .into_iter()
                .filter(|l| l.deep)
                .collect(),
            _ => Vec::new(),
        };
        let mut own = locks::locks_on(&mut conn, &ids, self.now()).await?;
        // Members inherit the shares held over their folder (in "Shared with me", each is shared
        // itself).
        let folder_share = match of {
            Resolved::Item(folder) => {
                crate::ybira::best_share(&mut conn, &folder.id, &actor.user_id).await?
            }
            _ => None,
        };
        let mut members = Vec::with_capacity(named.len());
        for (name, item) in named {
            let share = if matches!(of, Resolved::SharedRoot) {
                crate::ybira::best_share(&mut conn, &item.id, &actor.user_id).await?
            } else {
                folder_share
            };
            let mut locks = inherited.clone();
            locks.extend(own.remove(&item.id).unwrap_or_default());
            members.push(Member::Item {
                shown: shown::shown(&mut conn, actor, &item, share).await?,
                dead: dead.remove(&item.id).unwrap_or_default(),
                locks,
                name,
                item,
            });
        }
        Ok(members)
    }

    /// What others shared with the actor, each under a name of its own in "Shared with me": two
    /// shared items of the same name are told apart by a number, in a stable order.
    async fn shared_members(&self, actor: &Actor) -> Result<Vec<(String, Item)>> {
        let items = self.shared_with_me(actor).await?;
        let mut taken: Vec<String> = Vec::with_capacity(items.len());
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let name = taina_ybira::name::first_free_name(&item.name, |candidate| {
                taken.iter().any(|t| same_name(t, candidate))
            });
            taken.push(name.clone());
            out.push((name, item));
        }
        Ok(out)
    }

    /// The community's quota as the actor may see it ([`quota_shown`]).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_quota(&self, actor: &Actor) -> Result<QuotaShown> {
        let (quota, used): (i64, i64) = sqlx::query_as(
            "SELECT storage_quota_bytes, storage_used_bytes FROM communities WHERE id = $1",
        )
        .bind(actor.community_id.as_str())
        .fetch_one(self.taina.inner.db.reader())
        .await?;
        Ok(quota_shown(
            u64::try_from(quota).unwrap_or(0),
            u64::try_from(used).unwrap_or(0),
            actor.is_admin(),
        ))
    }
}

/// Deletes what lapsed in WebDAV's tables: locks past their timeout and desktop litter older than
/// [`taina_ybira::dav::litter::LITTER_LIFETIME_MS`] (the periodic sweep calls it).
pub(crate) async fn sweep_lapsed(
    conn: &mut sqlx::AnyConnection,
    now: taina_core::Timestamp,
) -> Result<u64> {
    let locks = sqlx::query("DELETE FROM dav_locks WHERE expires_at <= $1")
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let litter = sqlx::query("DELETE FROM dav_litter WHERE updated_at <= $1")
        .bind(now.as_millis() - taina_ybira::dav::litter::LITTER_LIFETIME_MS)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(locks + litter)
}

/// Whether two names are the same name to Ybira (ignoring case as its collision key does).
pub fn same_name(a: &str, b: &str) -> bool {
    taina_ybira::name::collision_key(a) == taina_ybira::name::collision_key(b)
}
