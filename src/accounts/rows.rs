//! Rows as the database returns them, and their conversion into domain types.

use std::str::FromStr;

use taina_core::invite::Invite;
use taina_core::{
    Community, CommunityId, CommunitySettings, InviteId, Role, Timestamp, User, UserId,
};

use crate::db::parse_id;
use crate::{Error, Result};

/// The columns of `users` that make a [`User`] (never the password hash).
macro_rules! user_columns {
    () => {
        "id, community_id, email, display_name, role, confirmed_at, disabled_at, \
         last_sign_in_at, created_at, updated_at"
    };
}
pub(crate) use user_columns;

/// The columns of `communities` that make a [`Community`].
macro_rules! community_columns {
    () => {
        "id, name, slug, settings, storage_quota_bytes, storage_used_bytes, created_at, updated_at"
    };
}
pub(crate) use community_columns;

/// The columns of `invites` that make an [`Invite`].
macro_rules! invite_columns {
    () => {
        "id, community_id, role, created_by, expires_at, max_uses, uses, created_at"
    };
}
pub(crate) use invite_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    community_id: String,
    email: String,
    display_name: String,
    role: String,
    confirmed_at: Option<i64>,
    disabled_at: Option<i64>,
    last_sign_in_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = Error;
    fn try_from(r: UserRow) -> Result<User> {
        Ok(User {
            id: parse_id(&r.id, UserId::parse)?,
            community_id: parse_id(&r.community_id, CommunityId::parse)?,
            email: r.email,
            display_name: r.display_name,
            role: parse_role(&r.role)?,
            confirmed_at: r.confirmed_at.map(Timestamp::from_millis),
            disabled_at: r.disabled_at.map(Timestamp::from_millis),
            last_sign_in_at: r.last_sign_in_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CommunityRow {
    id: String,
    name: String,
    slug: String,
    settings: String,
    storage_quota_bytes: i64,
    storage_used_bytes: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<CommunityRow> for Community {
    type Error = Error;
    fn try_from(r: CommunityRow) -> Result<Community> {
        let settings: CommunitySettings = serde_json::from_str(&r.settings)
            .map_err(|e| Error::Corrupt(format!("community settings: {e}")))?;
        Ok(Community {
            id: parse_id(&r.id, CommunityId::parse)?,
            name: r.name,
            slug: r.slug,
            settings,
            storage_quota_bytes: r.storage_quota_bytes,
            storage_used_bytes: Some(r.storage_used_bytes),
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InviteRow {
    id: String,
    community_id: String,
    role: String,
    created_by: String,
    expires_at: i64,
    max_uses: i64,
    uses: i64,
    created_at: i64,
}

impl TryFrom<InviteRow> for Invite {
    type Error = Error;
    fn try_from(r: InviteRow) -> Result<Invite> {
        Ok(Invite {
            id: parse_id(&r.id, InviteId::parse)?,
            community_id: parse_id(&r.community_id, CommunityId::parse)?,
            role: parse_role(&r.role)?,
            created_by: parse_id(&r.created_by, UserId::parse)?,
            expires_at: Timestamp::from_millis(r.expires_at),
            max_uses: r.max_uses,
            uses: r.uses,
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

fn parse_role(s: &str) -> Result<Role> {
    Role::from_str(s).map_err(|_| Error::Corrupt(format!("stored role {s:?}")))
}
