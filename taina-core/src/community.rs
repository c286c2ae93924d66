//! Communities: one Tainá tenant each.

use serde::{Deserialize, Serialize};

use crate::quota::Quota;
use crate::{CommunityId, Timestamp};

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
    /// Bytes the community stores now (each deduplicated blob counted once).
    pub storage_used_bytes: i64,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Community {
    /// Its storage quota and use.
    pub fn quota(&self) -> Quota {
        Quota {
            used_bytes: self.storage_used_bytes,
            quota_bytes: self.storage_quota_bytes,
        }
    }
}
