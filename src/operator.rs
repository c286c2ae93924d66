//! The local operator: whoever runs the `taina` command on the server, with the data directory and
//! configuration in hand. They may do anything in any community without a session, so this is
//! never reachable over the network: only the command line uses it.
//!
//! Communities are named by slug, or left unnamed when the instance holds just one. The operator
//! acts through the same service calls as an admin of that community (with an admin's [`Actor`]
//! taken from the community's admins), so every rule — the last admin, invites, quotas — holds the
//! same from the command line as from the web, but one: the ceiling on the quota an admin may give
//! their own community (`max_community_quota_bytes`) is the operator's, and does not bind them.

use std::time::Duration;

use taina_core::{Actor, Community, Role, User};
use tracing::instrument;

use crate::accounts::rows::{CommunityRow, community_columns};
use crate::accounts::{CreatedInvite, NewInvite, NewMember};
use crate::{Result, Taina};

/// A community with its head count, for listings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommunityOverview {
    /// The community.
    #[serde(flatten)]
    pub community: Community,
    /// Its members.
    pub members: u64,
    /// Its active admins.
    pub admins: u64,
}

/// Something that happened in a community, for the dashboard's activity tail. Messages are
/// named, never shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Activity {
    /// When.
    pub at: taina_core::Timestamp,
    /// The community's slug.
    pub community: String,
    /// What happened, in words.
    pub what: String,
}

/// The local operator's calls. Get it from [`Taina::operator`].
#[derive(Clone, Copy)]
pub struct Operator<'a> {
    pub(crate) taina: &'a Taina,
}

impl Operator<'_> {
    /// Every community, by name.
    #[instrument(skip_all)]
    pub async fn communities(&self) -> Result<Vec<CommunityOverview>> {
        let rows: Vec<CommunityRow> = sqlx::query_as(concat!(
            "SELECT ",
            community_columns!(),
            " FROM communities ORDER BY name, id"
        ))
        .fetch_all(self.taina.db().reader())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let community = Community::try_from(row)?;
            let (members, admins): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN role = 'admin' AND disabled_at IS NULL \
                 THEN 1 ELSE 0 END), 0) FROM users WHERE community_id = $1",
            )
            .bind(community.id.as_str())
            .fetch_one(self.taina.db().reader())
            .await?;
            out.push(CommunityOverview {
                community,
                members: u64::try_from(members).unwrap_or(0),
                admins: u64::try_from(admins).unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// The latest things that happened across communities, newest first: members joining, files
    /// added, photos added, messages sent.
    #[instrument(skip_all)]
    pub async fn recent_activity(&self, limit: u32) -> Result<Vec<Activity>> {
        let limit = i64::from(limit.clamp(1, 200));
        let reader = self.taina.db().reader();
        let mut all: Vec<Activity> = Vec::new();
        let joined: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT u.created_at, c.slug, u.display_name FROM users u \
             JOIN communities c ON c.id = u.community_id ORDER BY u.created_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(reader)
        .await?;
        all.extend(joined.into_iter().map(|(at, community, name)| Activity {
            at: taina_core::Timestamp::from_millis(at),
            community,
            what: format!("{name} joined"),
        }));
        let items: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT i.created_at, c.slug, i.kind, i.name, u.display_name FROM items i \
             JOIN communities c ON c.id = i.community_id LEFT JOIN users u ON u.id = i.owner_id \
             WHERE i.deleted_at IS NULL ORDER BY i.created_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(reader)
        .await?;
        all.extend(
            items
                .into_iter()
                .map(|(at, community, kind, name, who)| Activity {
                    at: taina_core::Timestamp::from_millis(at),
                    community,
                    what: format!(
                        "{} added {} {name}",
                        who.as_deref().unwrap_or("someone"),
                        if kind == "folder" { "folder" } else { "file" }
                    ),
                }),
        );
        let messages: Vec<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT m.created_at, c.slug, u.display_name, v.name FROM messages m \
             JOIN conversations v ON v.id = m.conversation_id \
             JOIN communities c ON c.id = v.community_id LEFT JOIN users u ON u.id = m.sender_id \
             ORDER BY m.created_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(reader)
        .await?;
        all.extend(
            messages
                .into_iter()
                .map(|(at, community, who, conversation)| Activity {
                    at: taina_core::Timestamp::from_millis(at),
                    community,
                    what: format!(
                        "{} wrote in {}",
                        who.as_deref().unwrap_or("someone"),
                        conversation.as_deref().unwrap_or("a direct conversation")
                    ),
                }),
        );
        all.sort_by_key(|a| std::cmp::Reverse(a.at));
        all.truncate(usize::try_from(limit).unwrap_or(200));
        Ok(all)
    }

    /// The community with `slug`, or the only one when `slug` is `None`.
    #[instrument(skip_all)]
    pub async fn community(&self, slug: Option<&str>) -> Result<Community> {
        let rows: Vec<CommunityRow> = match slug {
            Some(slug) => {
                sqlx::query_as(concat!(
                    "SELECT ",
                    community_columns!(),
                    " FROM communities WHERE slug = $1"
                ))
                .bind(slug)
                .fetch_all(self.taina.db().reader())
                .await?
            }
            None => {
                sqlx::query_as(concat!(
                    "SELECT ",
                    community_columns!(),
                    " FROM communities ORDER BY created_at LIMIT 2"
                ))
                .fetch_all(self.taina.db().reader())
                .await?
            }
        };
        match (rows.len(), slug) {
            (1, _) => Ok(Community::try_from(rows.into_iter().next().ok_or_else(
                || crate::Error::Corrupt("a community vanished".into()),
            )?)?),
            (0, Some(_)) => Err(taina_core::Error::not_found("community").into()),
            (0, None) => Err(taina_core::Error::invalid(
                "community",
                "this instance has no community yet: set it up first",
            )
            .into()),
            _ => Err(taina_core::Error::invalid(
                "community",
                "this instance holds several communities: name one (--community SLUG)",
            )
            .into()),
        }
    }

    /// An admin's actor in the community, for calls the operator makes on its behalf: an active
    /// admin if there is one, else any admin (the last admin can be disabled, never removed).
    #[instrument(skip_all)]
    pub async fn acting_admin(&self, slug: Option<&str>) -> Result<Actor> {
        let community = self.community(slug).await?;
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM users WHERE community_id = $1 AND role = 'admin' \
             ORDER BY CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END, created_at, id LIMIT 1",
        )
        .bind(community.id.as_str())
        .fetch_optional(self.taina.db().reader())
        .await?;
        let (user_id,) =
            row.ok_or_else(|| crate::Error::Corrupt("a community without an admin".into()))?;
        Ok(Actor {
            user_id: taina_core::UserId::parse(&user_id)
                .map_err(|e| crate::Error::Corrupt(e.to_string()))?,
            community_id: community.id,
            role: Role::Admin,
            session_id: None,
        })
    }

    /// The actor of the member with `email`, for work done as that person (imports, exports).
    #[instrument(skip_all)]
    pub async fn act_as(&self, slug: Option<&str>, email: &str) -> Result<Actor> {
        let user = self.user(slug, email).await?;
        Ok(Actor {
            user_id: user.id,
            community_id: user.community_id,
            role: user.role,
            session_id: None,
        })
    }

    /// Sets the community's storage quota, above `max_community_quota_bytes` too (that ceiling is
    /// for the community's own admins).
    #[instrument(skip_all, fields(bytes))]
    pub async fn set_quota(&self, slug: Option<&str>, bytes: i64) -> Result<Community> {
        let admin = self.acting_admin(slug).await?;
        self.taina
            .accounts()
            .set_quota_as_operator(&admin, bytes)
            .await
    }

    /// The community's members, by display name.
    pub async fn users(&self, slug: Option<&str>) -> Result<Vec<User>> {
        let admin = self.acting_admin(slug).await?;
        self.taina.accounts().members(&admin).await
    }

    /// The member with `email`.
    pub async fn user(&self, slug: Option<&str>, email: &str) -> Result<User> {
        let admin = self.acting_admin(slug).await?;
        self.taina.accounts().member_by_email(&admin, email).await
    }

    /// Creates an account without an invite.
    pub async fn add_user(&self, slug: Option<&str>, new: NewMember) -> Result<User> {
        let admin = self.acting_admin(slug).await?;
        self.taina.accounts().add_member(&admin, new).await
    }

    /// Gives the member with `email` a new role (the last active admin keeps theirs).
    pub async fn set_role(&self, slug: Option<&str>, email: &str, role: Role) -> Result<User> {
        let admin = self.acting_admin(slug).await?;
        let user = self.taina.accounts().member_by_email(&admin, email).await?;
        self.taina.accounts().set_role(&admin, &user.id, role).await
    }

    /// Disables (signing them out everywhere) or enables the member with `email`.
    pub async fn set_disabled(
        &self,
        slug: Option<&str>,
        email: &str,
        disabled: bool,
    ) -> Result<User> {
        let admin = self.acting_admin(slug).await?;
        let user = self.taina.accounts().member_by_email(&admin, email).await?;
        self.taina
            .accounts()
            .set_disabled(&admin, &user.id, disabled)
            .await
    }

    /// Sets the password of the member with `email` and signs them out everywhere.
    pub async fn reset_password(
        &self,
        slug: Option<&str>,
        email: &str,
        password: &str,
    ) -> Result<()> {
        let admin = self.acting_admin(slug).await?;
        let user = self.taina.accounts().member_by_email(&admin, email).await?;
        self.taina
            .accounts()
            .reset_password(&admin, &user.id, password)
            .await
    }

    /// Removes the member with `email` and their private files.
    pub async fn remove_user(&self, slug: Option<&str>, email: &str) -> Result<()> {
        let admin = self.acting_admin(slug).await?;
        let user = self.taina.accounts().member_by_email(&admin, email).await?;
        self.taina.accounts().remove_member(&admin, &user.id).await
    }

    /// Creates an invite (recorded as made by the community's first admin).
    pub async fn create_invite(
        &self,
        slug: Option<&str>,
        role: Role,
        expires_in: Duration,
        max_uses: i64,
    ) -> Result<CreatedInvite> {
        let admin = self.acting_admin(slug).await?;
        self.taina
            .accounts()
            .create_invite(
                &admin,
                NewInvite {
                    role,
                    expires_in,
                    max_uses,
                },
            )
            .await
    }

    /// The community's invites, newest first.
    pub async fn invites(&self, slug: Option<&str>) -> Result<Vec<taina_core::invite::Invite>> {
        let admin = self.acting_admin(slug).await?;
        self.taina.accounts().invites(&admin).await
    }

    /// Revokes an invite.
    pub async fn revoke_invite(&self, slug: Option<&str>, id: &taina_core::InviteId) -> Result<()> {
        let admin = self.acting_admin(slug).await?;
        self.taina.accounts().revoke_invite(&admin, id).await
    }
}
