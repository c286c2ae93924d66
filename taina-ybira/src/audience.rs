//! Who is told of a community event as it happens: the same rules as reading, so that a live
//! feed never says more than the API would show.
//!
//! An event about a file or folder goes to those who may read it without a share (its space's
//! owner for a private space; members and admins for the shared space, never guests): what is
//! shared with someone is fetched, not pushed. Events about members go to those who may list
//! members (and to the member themselves); the community's own changes go to everyone in it.
//! Nothing crosses communities.

use taina_core::{Action, Actor, DomainEvent, Event, Resource, authorize};

use crate::access::{ItemAction, ItemFacts, Space, authorize_item};

/// Whether `actor` may be told of `event`.
pub fn may_hear(actor: &Actor, event: &Event) -> bool {
    let community = &event.community_id;
    if community != &actor.community_id {
        return false;
    }
    if let Some(item) = event.event.item() {
        let space = Space::from_owner(item.space_owner_id.clone());
        let facts = ItemFacts {
            community_id: community,
            space: &space,
            owner_id: None,
            share: None,
        };
        return authorize_item(actor, ItemAction::Read, facts).is_ok();
    }
    match &event.event {
        DomainEvent::CommunityUpdated => {
            authorize(actor, Action::Read, Resource::Community(community)).is_ok()
        }
        DomainEvent::MemberJoined { user_id, .. }
        | DomainEvent::MemberUpdated { user_id }
        | DomainEvent::MemberRemoved { user_id } => {
            user_id == &actor.user_id
                || authorize(actor, Action::Read, Resource::Members(community)).is_ok()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taina_core::testing::actor_in as actor;
    use taina_core::{CommunityId, ItemEvent, ItemId, Role, Timestamp, UserId};

    fn event(community: &CommunityId, event: DomainEvent) -> Event {
        Event {
            community_id: community.clone(),
            at: Timestamp::from_millis(0),
            event,
        }
    }

    fn item(owner: Option<&UserId>) -> ItemEvent {
        ItemEvent {
            item_id: ItemId::from_random([7; 21]),
            name: "x".into(),
            parent_id: None,
            space_owner_id: owner.cloned(),
        }
    }

    #[test]
    fn private_items_are_told_to_their_owner_only() {
        let c = CommunityId::from_random([1; 21]);
        let (ana, bia) = (actor(Role::Member, &c, 2), actor(Role::Admin, &c, 3));
        let e = event(&c, DomainEvent::FileUploaded(item(Some(&ana.user_id))));
        assert!(may_hear(&ana, &e));
        assert!(
            !may_hear(&bia, &e),
            "admins get no look into private spaces"
        );
    }

    #[test]
    fn guests_hear_nothing_of_the_shared_space_or_of_other_members() {
        let c = CommunityId::from_random([1; 21]);
        let (gil, ana) = (actor(Role::Guest, &c, 4), actor(Role::Member, &c, 2));
        let shared = event(&c, DomainEvent::FolderCreated(item(None)));
        assert!(may_hear(&ana, &shared));
        assert!(!may_hear(&gil, &shared));
        let joined = event(
            &c,
            DomainEvent::MemberJoined {
                user_id: ana.user_id.clone(),
                role: Role::Member,
            },
        );
        assert!(may_hear(&ana, &joined));
        assert!(!may_hear(&gil, &joined));
        let about_gil = event(
            &c,
            DomainEvent::MemberUpdated {
                user_id: gil.user_id.clone(),
            },
        );
        assert!(may_hear(&gil, &about_gil));
        assert!(may_hear(&gil, &event(&c, DomainEvent::CommunityUpdated)));
    }

    #[test]
    fn nothing_crosses_communities() {
        let (ours, theirs) = (
            CommunityId::from_random([1; 21]),
            CommunityId::from_random([9; 21]),
        );
        let admin = actor(Role::Admin, &ours, 3);
        for e in [
            DomainEvent::CommunityUpdated,
            DomainEvent::FolderCreated(item(None)),
            DomainEvent::MemberRemoved {
                user_id: admin.user_id.clone(),
            },
        ] {
            assert!(!may_hear(&admin, &event(&theirs, e)));
        }
    }
}
