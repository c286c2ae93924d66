//! People: an account inside one community.

use serde::{Deserialize, Serialize};

use crate::{CommunityId, Role, Timestamp, UserId};

/// A person's account. The password hash never leaves the shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The community it belongs to.
    pub community_id: CommunityId,
    /// The normalised (trimmed, lower-case) email, unique within the community.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// Its role.
    pub role: Role,
    /// When the email was confirmed (invites and setup confirm it).
    pub confirmed_at: Option<Timestamp>,
    /// When an admin disabled the account; a disabled account cannot sign in.
    pub disabled_at: Option<Timestamp>,
    /// The last successful sign-in.
    pub last_sign_in_at: Option<Timestamp>,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the account last changed.
    pub updated_at: Timestamp,
}

impl User {
    /// Whether the account is disabled.
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}
