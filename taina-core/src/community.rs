//! Communities: one Tainá tenant each.

use serde::{Deserialize, Serialize};

use crate::policy::{Action, Resource, authorize};
use crate::quota::Quota;
use crate::{Actor, CommunityId, Timestamp};

/// Settings an admin can change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CommunitySettings {
    /// Whether people may register without an invite (off by default).
    pub open_registration: bool,
}

/// A community with its storage accounting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Community {
    /// Its id.
    pub id: CommunityId,
    /// Its display name.
    pub name: String,
    /// Its unique, URL-friendly short name.
    pub slug: String,
    /// Settings an admin can change.
    pub settings: CommunitySettings,
    /// Bytes the community may store.
    pub storage_quota_bytes: i64,
    /// Bytes the community stores now (each deduplicated blob counted once). Shown to admins only:
    /// with deduplication, the figure would tell anyone who uploads a file whether someone in the
    /// community already has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_used_bytes: Option<i64>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Community {
    /// Its storage quota and use, when the use is known (see [`Community::as_seen_by`]).
    pub fn quota(&self) -> Option<Quota> {
        self.storage_used_bytes.map(|used_bytes| Quota {
            used_bytes,
            quota_bytes: self.storage_quota_bytes,
        })
    }

    /// The community as `actor` may see it: the storage in use only for those who may read the
    /// community's storage (admins).
    pub fn as_seen_by(mut self, actor: &Actor) -> Community {
        if authorize(actor, Action::Read, Resource::Storage(&self.id)).is_err() {
            self.storage_used_bytes = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Role, UserId};

    #[test]
    fn only_admins_see_the_storage_in_use() {
        let id = CommunityId::from_random([1; 21]);
        let community = Community {
            id: id.clone(),
            name: "Vila".into(),
            slug: "vila".into(),
            settings: CommunitySettings::default(),
            storage_quota_bytes: 1000,
            storage_used_bytes: Some(600),
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        let actor = |role| Actor {
            user_id: UserId::from_random([2; 21]),
            community_id: id.clone(),
            role,
            session_id: None,
        };
        let seen = community.clone().as_seen_by(&actor(Role::Admin));
        assert_eq!(seen.quota().map(|q| q.available()), Some(400));
        for role in [Role::Member, Role::Guest] {
            let seen = community.clone().as_seen_by(&actor(role));
            assert_eq!(seen.storage_used_bytes, None);
            assert_eq!(seen.quota(), None);
            let json = serde_json::to_value(&seen).unwrap();
            assert!(json.get("storage_used_bytes").is_none(), "{json}");
            assert_eq!(json["storage_quota_bytes"], 1000);
        }
    }
}
