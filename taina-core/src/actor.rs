//! The authenticated principal on whose behalf a service call runs.

use serde::{Deserialize, Serialize};

use crate::{CommunityId, Role, SessionId, UserId};

/// Who is acting: a signed-in user of one community, with the role they held when authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The acting user.
    pub user_id: UserId,
    /// Their community.
    pub community_id: CommunityId,
    /// Their role.
    pub role: Role,
    /// The session they authenticated with, when there is one (local admin tools have none).
    pub session_id: Option<SessionId>,
}

impl Actor {
    /// Whether the actor is an admin of their community.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
