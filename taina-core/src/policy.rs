//! The authorization policy: one pure function every service asks before acting.
//!
//! `authorize(actor, action, resource)` answers `Ok(())` or why not. Access across communities is
//! always denied, and denied as "not found" so that nothing leaks about another community.

use crate::{Actor, CommunityId, Error, Role, UserId};

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See it.
    Read,
    /// Create one.
    Create,
    /// Change it.
    Update,
    /// Remove it.
    Delete,
    /// Change someone's role or access (admin work).
    Manage,
}

/// What the actor wants to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// A community's profile and settings.
    Community(&'a CommunityId),
    /// The list of a community's members.
    Members(&'a CommunityId),
    /// One member's account.
    Member {
        /// Their community.
        community_id: &'a CommunityId,
        /// The member.
        user_id: &'a UserId,
    },
    /// A community's invitations.
    Invites(&'a CommunityId),
    /// A community's storage use and quota (admins only: with deduplication, the use tells whether
    /// a file exists anywhere in the community).
    Storage(&'a CommunityId),
}

impl Resource<'_> {
    fn community_id(&self) -> &CommunityId {
        match self {
            Resource::Community(c)
            | Resource::Members(c)
            | Resource::Invites(c)
            | Resource::Storage(c) => c,
            Resource::Member { community_id, .. } => community_id,
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The resource belongs to another community (reported as "not found").
    #[error("not found")]
    OtherCommunity,
    /// The actor's role does not allow it.
    #[error("your role does not allow this")]
    Role,
}

impl From<Denied> for Error {
    fn from(d: Denied) -> Self {
        match d {
            Denied::OtherCommunity => Error::not_found("resource"),
            Denied::Role => Error::Forbidden {
                reason: "your role does not allow this",
            },
        }
    }
}

/// Decides whether `actor` may perform `action` on `resource`.
///
/// ```
/// use taina_core::{authorize, Action, Actor, CommunityId, Resource, Role, UserId};
/// let community = CommunityId::from_random([1; 21]);
/// let member = Actor { user_id: UserId::from_random([2; 21]), community_id: community.clone(),
///                      role: Role::Member, session_id: None };
/// assert!(authorize(&member, Action::Read, Resource::Community(&community)).is_ok());
/// assert!(authorize(&member, Action::Update, Resource::Community(&community)).is_err());
/// ```
pub fn authorize(actor: &Actor, action: Action, resource: Resource<'_>) -> Result<(), Denied> {
    if resource.community_id() != &actor.community_id {
        return Err(Denied::OtherCommunity);
    }
    let role = actor.role;
    let allowed = match (resource, action) {
        (Resource::Community(_), Action::Read) => true,
        (Resource::Members(_), Action::Read) => role != Role::Guest,
        (Resource::Member { user_id, .. }, Action::Read | Action::Update) => {
            user_id == &actor.user_id || role == Role::Admin
        }
        _ => role == Role::Admin,
    };
    if allowed { Ok(()) } else { Err(Denied::Role) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::actor_in as actor;

    #[test]
    fn other_communities_are_invisible_even_to_admins() {
        let ours = CommunityId::from_random([1; 21]);
        let theirs = CommunityId::from_random([9; 21]);
        let admin = actor(Role::Admin, &ours, 3);
        for action in [
            Action::Read,
            Action::Create,
            Action::Update,
            Action::Delete,
            Action::Manage,
        ] {
            for resource in [
                Resource::Community(&theirs),
                Resource::Members(&theirs),
                Resource::Invites(&theirs),
                Resource::Storage(&theirs),
            ] {
                assert_eq!(
                    authorize(&admin, action, resource),
                    Err(Denied::OtherCommunity)
                );
            }
        }
    }

    #[test]
    fn only_admins_manage() {
        let c = CommunityId::from_random([1; 21]);
        let admin = actor(Role::Admin, &c, 1);
        let member = actor(Role::Member, &c, 2);
        let guest = actor(Role::Guest, &c, 3);
        let target = UserId::from_random([4; 21]);
        let res = Resource::Member {
            community_id: &c,
            user_id: &target,
        };
        assert!(authorize(&admin, Action::Manage, res).is_ok());
        assert_eq!(authorize(&member, Action::Manage, res), Err(Denied::Role));
        assert_eq!(authorize(&guest, Action::Manage, res), Err(Denied::Role));
        assert!(authorize(&admin, Action::Create, Resource::Invites(&c)).is_ok());
        assert_eq!(
            authorize(&member, Action::Create, Resource::Invites(&c)),
            Err(Denied::Role)
        );
        assert_eq!(
            authorize(&member, Action::Update, Resource::Community(&c)),
            Err(Denied::Role)
        );
    }

    #[test]
    fn people_edit_themselves_and_guests_see_little() {
        let c = CommunityId::from_random([1; 21]);
        let guest = actor(Role::Guest, &c, 3);
        let me = Resource::Member {
            community_id: &c,
            user_id: &guest.user_id,
        };
        assert!(authorize(&guest, Action::Update, me).is_ok());
        assert!(authorize(&guest, Action::Read, Resource::Community(&c)).is_ok());
        assert_eq!(
            authorize(&guest, Action::Read, Resource::Members(&c)),
            Err(Denied::Role)
        );
        assert_eq!(
            authorize(&guest, Action::Read, Resource::Storage(&c)),
            Err(Denied::Role)
        );
        // Nor members: the storage in use would tell them what others have (deduplication).
        let member = actor(Role::Member, &c, 4);
        assert_eq!(
            authorize(&member, Action::Read, Resource::Storage(&c)),
            Err(Denied::Role)
        );
        let admin = actor(Role::Admin, &c, 5);
        assert!(authorize(&admin, Action::Read, Resource::Storage(&c)).is_ok());
        let other = UserId::from_random([5; 21]);
        let them = Resource::Member {
            community_id: &c,
            user_id: &other,
        };
        assert_eq!(authorize(&guest, Action::Update, them), Err(Denied::Role));
    }
}
