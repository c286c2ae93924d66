//! Who may do what with files and folders: one pure decision the shell asks before every call.
//!
//! Every member has a private space ("My files"); the community has one shared space. Members and
//! admins read and add to the shared space; guests do not. Explicit shares open a folder (and
//! everything under it) or a file to chosen members, read-only or read-write. Owners and admins may
//! rename, move or delete anything in the shared space; members only their own items. A private
//! space is its owner's alone, apart from what they share. Admins get no look into private spaces.
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

/// Whether `actor` may add items at the root of `space` (their own "My files", or the shared space).
pub fn authorize_root(actor: &Actor, space: &Space) -> Result<(), Denied> {
    match space {
        Space::Shared if actor.role != Role::Guest => Ok(()),
        Space::Shared => Err(Denied::Role),
        Space::Private(owner) if owner == &actor.user_id => Ok(()),
        Space::Private(_) => Err(Denied::OtherCommunity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn actor(role: Role, seed: u8) -> Actor {
        Actor {
            user_id: UserId::from_random([seed; 21]),
            community_id: CommunityId::from_random([1; 21]),
            role,
            session_id: None,
        }
    }

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
