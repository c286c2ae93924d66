//! Fixtures for the tests of the pure crates (feature `testing`, and this crate's own tests): the
//! same people in every test, told apart by a seed.

use crate::{Actor, CommunityId, Role, UserId};

/// The community a test's people belong to unless it names another.
pub fn community() -> CommunityId {
    CommunityId::from_random([1; 21])
}

/// A person with `role` in `community`; the same `seed` is the same person.
pub fn actor_in(role: Role, community: &CommunityId, seed: u8) -> Actor {
    Actor {
        user_id: UserId::from_random([seed; 21]),
        community_id: community.clone(),
        role,
        session_id: None,
    }
}

/// A person with `role` in [`community`]; the same `seed` is the same person.
pub fn actor(role: Role, seed: u8) -> Actor {
    actor_in(role, &community(), seed)
}
