//! Who may do what with files and folders: one pure decision the shell asks before every call.
//!
//! Every member has a private space ("My files"); the community has one shared space. Members and
//! admins read and add to the shared space; guests do not. Explicit shares open a folder (and
//! everything under it) or a file to chosen members, read-only or read-write. Owners and admins may
//! rename, move or delete anything in the shared space; members only their own items. A private
//! space is its owner's alone, apart from what they share. Admins get no look into private spaces.
//! A change that reaches a whole folder (the trash, a purge, a move to another space) needs the
//! right over every item in it, so nobody deletes or carries off other people's files inside
//! "their" folder ([`authorize_subtree`]); breadcrumbs stop at the highest folder the viewer may
//! read ([`readable_from`]).
//!
//! An item the actor cannot read is reported as "not found", never "forbidden", so that nothing
//! leaks about what exists.

use serde::{Deserialize, Serialize};
use taina_core::{Actor, CommunityId, Denied, Role, UserId};

/// Which space an item lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "owner_id", rename_all = "snake_case")]
pub enum Space {
    /// The community's shared space.
    Shared,
    /// A member's private space ("My files").
    Private(UserId),
}

impl Space {
    /// The private space's owner, or `None` for the shared space.
    pub fn owner(&self) -> Option<&UserId> {
        match self {
            Space::Shared => None,
            Space::Private(owner) => Some(owner),
        }
    }

    /// The space from its stored owner column (`None`: shared).
    pub fn from_owner(owner: Option<UserId>) -> Space {
        owner.map_or(Space::Shared, Space::Private)
    }
}

/// What an explicit share grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ShareAccess {
    /// See and download.
    Read,
    /// Also add, replace and (for what one added oneself) rename, move and delete.
    Write,
}

impl ShareAccess {
    /// The stored form: `read` or `write`.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareAccess::Read => "read",
            ShareAccess::Write => "write",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<ShareAccess> {
        match s {
            "read" => Some(ShareAccess::Read),
            "write" => Some(ShareAccess::Write),
            _ => None,
        }
    }
}

/// What the actor wants to do with an item (or, for [`ItemAction::AddChild`], a folder or space root).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemAction {
    /// List, download, see versions.
    Read,
    /// Create a folder or upload a file inside it.
    AddChild,
    /// Replace a file's content or restore one of its versions.
    WriteContent,
    /// Rename, move, delete, restore from the trash, purge.
    Modify,
    /// Share it with other members, or stop sharing it.
    Share,
}

/// The facts about an item the decision needs.
#[derive(Debug, Clone, Copy)]
pub struct ItemFacts<'a> {
    /// The item's community.
    pub community_id: &'a CommunityId,
    /// The item's space.
    pub space: &'a Space,
    /// Who created it (`None` once they have left the community).
    pub owner_id: Option<&'a UserId>,
    /// The strongest share the actor holds on the item or any folder above it.
    pub share: Option<ShareAccess>,
}

/// Decides whether `actor` may perform `action` on an item (or inside a folder).
///
/// ```
/// use taina_core::{Actor, CommunityId, Role, UserId};
/// use taina_ybira::access::{authorize_item, ItemAction, ItemFacts, Space};
/// let community = CommunityId::from_random([1; 21]);
/// let ana = Actor { user_id: UserId::from_random([2; 21]), community_id: community.clone(),
///                   role: Role::Member, session_id: None };
/// let bia = UserId::from_random([3; 21]);
/// let hers = Space::Private(bia.clone());
/// let facts = ItemFacts { community_id: &community, space: &hers, owner_id: Some(&bia), share: None };
/// assert!(authorize_item(&ana, ItemAction::Read, facts).is_err());
/// ```
pub fn authorize_item(
    actor: &Actor,
    action: ItemAction,
    item: ItemFacts<'_>,
) -> Result<(), Denied> {
    if item.community_id != &actor.community_id {
        return Err(Denied::OtherCommunity);
    }
    let me = &actor.user_id;
    let is_admin = actor.role == Role::Admin;
    let mine = item.owner_id == Some(me);
    let writer = item.share == Some(ShareAccess::Write);
    let can_read = match item.space {
        Space::Shared => actor.role != Role::Guest || item.share.is_some(),
        Space::Private(owner) => owner == me || item.share.is_some(),
    };
    if !can_read {
        // Invisible: reported as not found.
        return Err(Denied::OtherCommunity);
    }
    let allowed = match (action, item.space) {
        (ItemAction::Read, _) => true,
        (ItemAction::AddChild, Space::Shared) => actor.role != Role::Guest || writer,
        (ItemAction::WriteContent, Space::Shared) => mine || is_admin || writer,
        (ItemAction::Modify | ItemAction::Share, Space::Shared) => mine || is_admin,
        (ItemAction::AddChild | ItemAction::WriteContent, Space::Private(owner)) => {
            owner == me || writer
        }
        (ItemAction::Modify, Space::Private(owner)) => owner == me || (writer && mine),
        (ItemAction::Share, Space::Private(owner)) => owner == me,
    };
    if allowed { Ok(()) } else { Err(Denied::Role) }
}

/// Decides `action` on an item in the trash. The trash shows an item only to who may restore it
/// ([`ItemAction::Modify`]: its space's owner, its own owner, admins in the shared space), and a
/// trashed item cannot be read even through a share, so to anyone else it does not exist: every
/// refusal is "not found", never "forbidden" (which would tell a share holder that a file they
/// once saw sits in someone's trash rather than being gone).
///
/// ```
/// use taina_core::{Actor, CommunityId, Denied, Role, UserId};
/// use taina_ybira::access::{authorize_trashed, ItemAction, ItemFacts, ShareAccess, Space};
/// let community = CommunityId::from_random([1; 21]);
/// let reader = Actor { user_id: UserId::from_random([2; 21]), community_id: community.clone(),
///                      role: Role::Member, session_id: None };
/// let owner = UserId::from_random([3; 21]);
/// let hers = Space::Private(owner.clone());
/// let facts = ItemFacts { community_id: &community, space: &hers, owner_id: Some(&owner),
///                         share: Some(ShareAccess::Read) };
/// assert_eq!(authorize_trashed(&reader, ItemAction::Modify, facts), Err(Denied::OtherCommunity));
/// ```
pub fn authorize_trashed(
    actor: &Actor,
    action: ItemAction,
    item: ItemFacts<'_>,
) -> Result<(), Denied> {
    authorize_item(actor, action, item).map_err(|_| Denied::OtherCommunity)
}

/// Which trashed items a person's trash lists (each then checked with [`authorize_item`]): what
/// was deleted from their own space and what they own wherever it was, and for those who look
/// after the shared space (admins) everything deleted from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrashScope {
    /// Whether everything deleted from the shared space is listed too.
    pub shared_space: bool,
}

/// The scope of `actor`'s trash.
pub fn trash_scope(actor: &Actor) -> TrashScope {
    TrashScope {
        shared_space: actor.role == Role::Admin,
    }
}

/// Whether `actor` may add items at the root of `space` (their own "My files", or the shared space).
pub fn authorize_root(actor: &Actor, space: &Space) -> Result<(), Denied> {
    match space {
        Space::Shared if actor.role != Role::Guest => Ok(()),
        Space::Shared => Err(Denied::Role),
        Space::Private(owner) if owner == &actor.user_id => Ok(()),
        Space::Private(_) => Err(Denied::OtherCommunity),
    }
}

/// A change that reaches everything under an item, not only the item itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtreeChange<'a> {
    /// Moving it into `to` (a change of space when `to` is not the item's own space).
    MoveTo(&'a Space),
    /// Putting it in the trash.
    Trash,
    /// Deleting it (from the trash) for good.
    Purge,
}

/// Why a folder holding other people's items may not be moved, trashed or purged.
const OTHERS_MOVE: &str = "this folder holds files or folders of other people that you may not \
     move to another space; ask them (or, in the community's files, an admin) to move theirs first";
const OTHERS_INTO_PRIVATE: &str = "files or folders of other people cannot go into a private \
     space, and this holds some; ask them to move theirs first";
const OTHERS_TRASH: &str = "this folder holds files or folders of other people that you may not \
     delete; ask them (or, in the community's files, an admin) to move or delete theirs first";
const OTHERS_PURGE: &str = "this folder holds files or folders of other people that you may not \
     delete for good; ask them (or, in the community's files, an admin) to do it";

/// Decides whether `actor`, who may [`ItemAction::Modify`] the item `root`, may apply `change` to
/// it and to everything under it, whose owners are `owners` (the root's own owner may be among
/// them; `None` is someone who left the community).
///
/// The rule: what changes for everyone in a subtree needs the right over every item in it. Going
/// to the trash, being purged, or moving to another space (the shared space into a private one,
/// or back) needs [`ItemAction::Modify`] on each item, so the items of others block it with a
/// reason naming them, and nothing of theirs is deleted or carried off under them: a member who
/// made a shared folder cannot delete or take the photos others put in it; a write-share holder
/// cannot take the space owner's files by moving the folder they made. Besides, nobody's items
/// go into someone else's private space, not even by an admin, since they could no longer see
/// them. A move inside the same space leaves every item in that space, still its owner's to
/// change, and is not restricted here.
///
/// Every item under `root` lives in the root's space and inherits the share the actor holds on
/// the root; a share lower down cannot grant more here, since changing an item in someone else's
/// private space already needs a write share on the root.
///
/// ```
/// use taina_core::{Actor, CommunityId, Role, UserId};
/// use taina_ybira::access::{authorize_subtree, ItemFacts, Space, SubtreeChange};
/// let community = CommunityId::from_random([1; 21]);
/// let ana = Actor { user_id: UserId::from_random([2; 21]), community_id: community.clone(),
///                   role: Role::Member, session_id: None };
/// let bia = UserId::from_random([3; 21]);
/// let folder = ItemFacts { community_id: &community, space: &Space::Shared,
///                          owner_id: Some(&ana.user_id), share: None };
/// let owners = [Some(ana.user_id.clone()), Some(bia)];
/// assert!(authorize_subtree(&ana, SubtreeChange::Trash, folder, &owners).is_err());
/// ```
pub fn authorize_subtree(
    actor: &Actor,
    change: SubtreeChange<'_>,
    root: ItemFacts<'_>,
    owners: &[Option<UserId>],
) -> Result<(), taina_core::Error> {
    if change == SubtreeChange::MoveTo(root.space) {
        return Ok(());
    }
    let reason = match change {
        SubtreeChange::MoveTo(_) => OTHERS_MOVE,
        SubtreeChange::Trash => OTHERS_TRASH,
        SubtreeChange::Purge => OTHERS_PURGE,
    };
    for owner in owners {
        let facts = ItemFacts {
            owner_id: owner.as_ref(),
            ..root
        };
        match authorize_item(actor, ItemAction::Modify, facts) {
            Ok(()) => {}
            Err(Denied::OtherCommunity) => {
                return Err(taina_core::Error::not_found("file or folder"));
            }
            Err(Denied::Role) => return Err(taina_core::Error::Forbidden { reason }),
        }
        let into_private = matches!(change, SubtreeChange::MoveTo(Space::Private(_)));
        if into_private && owner.as_ref() != Some(&actor.user_id) {
            return Err(taina_core::Error::Forbidden {
                reason: OTHERS_INTO_PRIVATE,
            });
        }
    }
    Ok(())
}

/// What became of the folder an item was in when it went to the trash, as its restore finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreParent {
    /// The item was at the root of its space.
    Root,
    /// The folder is still there: the item goes back into it.
    Live,
    /// The folder is in the trash itself.
    Trashed,
    /// The folder is gone for good.
    Gone,
}

/// Why a restore is refused while the folder it was in is in the trash.
const RESTORE_FOLDER_FIRST: &str = "the folder this was in is in the trash and you may not add \
     to the root of its space: restore the folder first";
/// Why a restore is refused once the folder it was in is gone.
const RESTORE_FOLDER_GONE: &str = "the folder this was in is gone and you may not add to the \
     root of its space: ask the space's owner to restore it";

/// Decides whether `actor`, who may [`ItemAction::Modify`] a trashed item of `space`, may bring it
/// back, given what became of the folder it was in.
///
/// Back into its live folder, or to the root it came from, it always may. With its folder in the
/// trash or gone, it falls back to the root of its space, and only for someone who may add there
/// ([`authorize_root`]): a write-share holder whose share holds through a trashed folder must not
/// drop their file at the root of the owner's private space (or a guest at the root of the shared
/// space). Otherwise it is a conflict: restore the folder first.
///
/// ```
/// use taina_core::{Actor, CommunityId, Role, UserId};
/// use taina_ybira::access::{authorize_restore, RestoreParent, Space};
/// let community = CommunityId::from_random([1; 21]);
/// let gil = Actor { user_id: UserId::from_random([2; 21]), community_id: community.clone(),
///                   role: Role::Guest, session_id: None };
/// let anas = Space::Private(UserId::from_random([3; 21]));
/// assert!(authorize_restore(&gil, &anas, RestoreParent::Live).is_ok());
/// assert!(authorize_restore(&gil, &anas, RestoreParent::Trashed).is_err());
/// ```
pub fn authorize_restore(
    actor: &Actor,
    space: &Space,
    parent: RestoreParent,
) -> Result<(), taina_core::Error> {
    let reason = match parent {
        RestoreParent::Root | RestoreParent::Live => return Ok(()),
        RestoreParent::Trashed => RESTORE_FOLDER_FIRST,
        RestoreParent::Gone => RESTORE_FOLDER_GONE,
    };
    authorize_root(actor, space).map_err(|_| taina_core::Error::conflict(reason))
}

/// Where the part of a breadcrumb trail that `actor` may read begins: `trail` is the folders
/// above an item the actor may read, from the root of `space` down, each with the share the actor
/// holds on that very folder (`None` if none). Shares reach down, so what the actor may read is
/// a tail of the trail; the answer is its first index (`trail.len()` when they may read none of
/// it), and the folders before it, whose names the actor has no right to, are left out.
///
/// ```
/// use taina_core::{Actor, CommunityId, Role, UserId};
/// use taina_ybira::access::{readable_from, ShareAccess, Space};
/// let community = CommunityId::from_random([1; 21]);
/// let gil = Actor { user_id: UserId::from_random([2; 21]), community_id: community.clone(),
///                   role: Role::Guest, session_id: None };
/// let ana = Space::Private(UserId::from_random([3; 21]));
/// // Ana's "Family" / "Trip" / "Day 1": only "Trip" is shared with Gil.
/// let trail = [None, Some(ShareAccess::Read), None];
/// assert_eq!(readable_from(&gil, &community, &ana, &trail), 1);
/// ```
pub fn readable_from(
    actor: &Actor,
    community: &CommunityId,
    space: &Space,
    trail: &[Option<ShareAccess>],
) -> usize {
    let mut share = None;
    for (at, direct) in trail.iter().enumerate() {
        share = share.max(*direct);
        let facts = ItemFacts {
            community_id: community,
            space,
            owner_id: None,
            share,
        };
        if authorize_item(actor, ItemAction::Read, facts).is_ok() {
            return at;
        }
    }
    trail.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use taina_core::testing::actor;

    fn role() -> impl Strategy<Value = Role> {
        prop_oneof![Just(Role::Admin), Just(Role::Member), Just(Role::Guest)]
    }

    fn share() -> impl Strategy<Value = Option<ShareAccess>> {
        prop_oneof![
            Just(None),
            Just(Some(ShareAccess::Read)),
            Just(Some(ShareAccess::Write))
        ]
    }

    const ACTIONS: [ItemAction; 5] = [
        ItemAction::Read,
        ItemAction::AddChild,
        ItemAction::WriteContent,
        ItemAction::Modify,
        ItemAction::Share,
    ];

    #[test]
    fn a_restore_falls_back_to_the_root_only_for_who_may_add_there() {
        let owner = actor(Role::Member, 2);
        let writer = actor(Role::Member, 3);
        let guest = actor(Role::Guest, 4);
        let admin = actor(Role::Admin, 5);
        let private = Space::Private(owner.user_id.clone());
        for parent in [RestoreParent::Root, RestoreParent::Live] {
            assert!(authorize_restore(&writer, &private, parent).is_ok());
            assert!(authorize_restore(&guest, &Space::Shared, parent).is_ok());
        }
        for parent in [RestoreParent::Trashed, RestoreParent::Gone] {
            assert!(authorize_restore(&owner, &private, parent).is_ok());
            assert!(authorize_restore(&writer, &Space::Shared, parent).is_ok());
            assert!(authorize_restore(&admin, &Space::Shared, parent).is_ok());
            for (who, space) in [(&writer, &private), (&guest, &Space::Shared)] {
                let e = authorize_restore(who, space, parent).unwrap_err();
                assert_eq!(e.kind(), taina_core::ErrorKind::Conflict, "{e}");
            }
        }
        let e = authorize_restore(&writer, &private, RestoreParent::Trashed).unwrap_err();
        assert!(e.to_string().contains("restore the folder first"), "{e}");
    }

    #[test]
    fn the_shared_space_is_for_members_and_admins() {
        let c = CommunityId::from_random([1; 21]);
        let member = actor(Role::Member, 2);
        let other = UserId::from_random([3; 21]);
        let guest = actor(Role::Guest, 4);
        let admin = actor(Role::Admin, 5);
        let theirs = ItemFacts {
            community_id: &c,
            space: &Space::Shared,
            owner_id: Some(&other),
            share: None,
        };
        assert!(authorize_item(&member, ItemAction::Read, theirs).is_ok());
        assert!(authorize_item(&member, ItemAction::AddChild, theirs).is_ok());
        assert_eq!(
            authorize_item(&member, ItemAction::Modify, theirs),
            Err(Denied::Role)
        );
        assert!(authorize_item(&admin, ItemAction::Modify, theirs).is_ok());
        assert_eq!(
            authorize_item(&guest, ItemAction::Read, theirs),
            Err(Denied::OtherCommunity)
        );
        let shared_with_guest = ItemFacts {
            share: Some(ShareAccess::Read),
            ..theirs
        };
        assert!(authorize_item(&guest, ItemAction::Read, shared_with_guest).is_ok());
        assert_eq!(
            authorize_item(&guest, ItemAction::AddChild, shared_with_guest),
            Err(Denied::Role)
        );
        assert!(authorize_root(&member, &Space::Shared).is_ok());
        assert_eq!(authorize_root(&guest, &Space::Shared), Err(Denied::Role));
    }

    #[test]
    fn private_spaces_are_private_even_from_admins() {
        let c = CommunityId::from_random([1; 21]);
        let owner = actor(Role::Member, 2);
        let admin = actor(Role::Admin, 5);
        let space = Space::Private(owner.user_id.clone());
        let item = ItemFacts {
            community_id: &c,
            space: &space,
            owner_id: Some(&owner.user_id),
            share: None,
        };
        for action in ACTIONS {
            assert!(authorize_item(&owner, action, item).is_ok());
            assert_eq!(
                authorize_item(&admin, action, item),
                Err(Denied::OtherCommunity)
            );
        }
        assert_eq!(authorize_root(&admin, &space), Err(Denied::OtherCommunity));
        let writer = actor(Role::Guest, 6);
        let shared = ItemFacts {
            share: Some(ShareAccess::Write),
            ..item
        };
        assert!(authorize_item(&writer, ItemAction::AddChild, shared).is_ok());
        assert!(authorize_item(&writer, ItemAction::WriteContent, shared).is_ok());
        assert_eq!(
            authorize_item(&writer, ItemAction::Modify, shared),
            Err(Denied::Role)
        );
        assert_eq!(
            authorize_item(&writer, ItemAction::Share, shared),
            Err(Denied::Role)
        );
        let added_by_writer = ItemFacts {
            owner_id: Some(&writer.user_id),
            ..shared
        };
        assert!(authorize_item(&writer, ItemAction::Modify, added_by_writer).is_ok());
    }

    #[test]
    fn a_folder_of_mine_holding_others_items_stays_where_it_is() {
        let c = CommunityId::from_random([1; 21]);
        let ana = actor(Role::Member, 2);
        let bia = actor(Role::Member, 3);
        let admin = actor(Role::Admin, 5);
        let writer = actor(Role::Guest, 6);
        let shared = Space::Shared;
        let anas_folder = ItemFacts {
            community_id: &c,
            space: &shared,
            owner_id: Some(&ana.user_id),
            share: None,
        };
        let mixed = [Some(ana.user_id.clone()), Some(bia.user_id.clone())];
        let hers = Space::Private(ana.user_id.clone());
        let forbidden = |r: Result<(), taina_core::Error>| {
            matches!(r, Err(taina_core::Error::Forbidden { .. }))
        };
        for change in [
            SubtreeChange::Trash,
            SubtreeChange::Purge,
            SubtreeChange::MoveTo(&hers),
        ] {
            assert!(forbidden(authorize_subtree(
                &ana,
                change,
                anas_folder,
                &mixed
            )));
        }
        // Within its space, or with only her own things in it, it goes.
        assert!(
            authorize_subtree(&ana, SubtreeChange::MoveTo(&shared), anas_folder, &mixed).is_ok()
        );
        let own = [Some(ana.user_id.clone())];
        for change in [
            SubtreeChange::Trash,
            SubtreeChange::Purge,
            SubtreeChange::MoveTo(&hers),
        ] {
            assert!(authorize_subtree(&ana, change, anas_folder, &own).is_ok());
        }
        // Someone who left (no owner) blocks a member, not an admin.
        assert!(forbidden(authorize_subtree(
            &ana,
            SubtreeChange::Trash,
            anas_folder,
            &[None]
        )));
        assert!(authorize_subtree(&admin, SubtreeChange::Trash, anas_folder, &mixed).is_ok());
        // An admin may delete anything shared, but not carry it into their own space.
        let admins = Space::Private(admin.user_id.clone());
        assert!(forbidden(authorize_subtree(
            &admin,
            SubtreeChange::MoveTo(&admins),
            anas_folder,
            &mixed
        )));
        // In Ana's private space, a write-share holder's folder holding Ana's files stays.
        let in_hers = ItemFacts {
            community_id: &c,
            space: &hers,
            owner_id: Some(&writer.user_id),
            share: Some(ShareAccess::Write),
        };
        let with_anas = [Some(writer.user_id.clone()), Some(ana.user_id.clone())];
        let gils = Space::Private(writer.user_id.clone());
        for change in [
            SubtreeChange::Trash,
            SubtreeChange::Purge,
            SubtreeChange::MoveTo(&gils),
        ] {
            assert!(forbidden(authorize_subtree(
                &writer, change, in_hers, &with_anas
            )));
        }
        // Ana, whose space it is, may do anything with it, even share it into the community.
        let anas_view = ItemFacts {
            share: None,
            ..in_hers
        };
        for change in [
            SubtreeChange::Trash,
            SubtreeChange::Purge,
            SubtreeChange::MoveTo(&shared),
        ] {
            assert!(authorize_subtree(&ana, change, anas_view, &with_anas).is_ok());
        }
    }

    #[test]
    fn breadcrumbs_start_where_reading_does() {
        let c = CommunityId::from_random([1; 21]);
        let ana = actor(Role::Member, 2);
        let gil = actor(Role::Guest, 4);
        let hers = Space::Private(ana.user_id.clone());
        let trail = [None, None, Some(ShareAccess::Write), None];
        assert_eq!(readable_from(&ana, &c, &hers, &trail), 0);
        assert_eq!(readable_from(&gil, &c, &hers, &trail), 2);
        assert_eq!(readable_from(&gil, &c, &hers, &[None, None]), 2);
        assert_eq!(readable_from(&ana, &c, &Space::Shared, &[None, None]), 0);
        assert_eq!(readable_from(&gil, &c, &Space::Shared, &[None, None]), 2);
        assert_eq!(readable_from(&gil, &c, &hers, &[]), 0);
    }

    proptest! {
        /// Another community's items are invisible to everyone, whatever the role or share.
        #[test]
        fn other_communities_see_nothing(r in role(), s in share(), owned in any::<bool>(), private in any::<bool>()) {
            let a = actor(r, 2);
            let theirs = CommunityId::from_random([9; 21]);
            let space = if private { Space::Private(a.user_id.clone()) } else { Space::Shared };
            let owner = owned.then_some(&a.user_id);
            let facts = ItemFacts { community_id: &theirs, space: &space, owner_id: owner, share: s };
            for action in ACTIONS {
                prop_assert_eq!(authorize_item(&a, action, facts), Err(Denied::OtherCommunity));
            }
        }

        /// Whatever one may do, one may also read; and a stronger share never takes a right away.
        #[test]
        fn rights_are_monotone(r in role(), s in share(), owned in any::<bool>(), private in any::<bool>()) {
            let a = actor(r, 2);
            let other = UserId::from_random([3; 21]);
            let space = if private { Space::Private(other.clone()) } else { Space::Shared };
            let owner = if owned { Some(&a.user_id) } else { Some(&other) };
            let facts = ItemFacts { community_id: &a.community_id, space: &space, owner_id: owner, share: s };
            let stronger = ItemFacts { share: Some(ShareAccess::Write), ..facts };
            for action in ACTIONS {
                if authorize_item(&a, action, facts).is_ok() {
                    prop_assert!(authorize_item(&a, ItemAction::Read, facts).is_ok());
                    prop_assert!(authorize_item(&a, action, stronger).is_ok());
                }
            }
        }
    }
}
