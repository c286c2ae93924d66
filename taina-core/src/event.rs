//! Domain events: what services announce after a change is committed, for front ends to push.

use serde::{Deserialize, Serialize};

use crate::{CommunityId, Role, Timestamp, UserId};

/// Something that happened, with its community for routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The community it happened in.
    pub community_id: CommunityId,
    /// When it was committed.
    pub at: Timestamp,
    /// What happened.
    #[serde(flatten)]
    pub event: DomainEvent,
}

/// What happened. Serialised as `{"type": "<name>", "data": {...}}`; later services add variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum DomainEvent {
    /// The community's name or settings changed.
    #[serde(rename = "community.updated")]
    CommunityUpdated,
    /// Someone joined.
    #[serde(rename = "member.joined")]
    MemberJoined {
        /// The new member.
        user_id: UserId,
        /// Their role.
        role: Role,
    },
    /// A member's role, profile or access changed.
    #[serde(rename = "member.updated")]
    MemberUpdated {
        /// The member.
        user_id: UserId,
    },
    /// A member was removed.
    #[serde(rename = "member.removed")]
    MemberRemoved {
        /// The former member.
        user_id: UserId,
    },
}

impl DomainEvent {
    /// The event's name as sent to clients, e.g. `member.joined`.
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::CommunityUpdated => "community.updated",
            DomainEvent::MemberJoined { .. } => "member.joined",
            DomainEvent::MemberUpdated { .. } => "member.updated",
            DomainEvent::MemberRemoved { .. } => "member.removed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_type_and_data() {
        let e = DomainEvent::MemberRemoved {
            user_id: UserId::from_random([0; 21]),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], e.name());
        assert_eq!(v["data"]["user_id"], "uuuuuuuuuuuuuuuuuuuuu");
    }
}
