//! Invitations and registration.

use std::time::Duration;

use taina_core::invite::{Creator, Invite, check_creator, check_terms, check_usable};
use taina_core::validate::{check_password, normalize_display_name, normalize_email};
use taina_core::{
    Action, Actor, CommunityId, DomainEvent, InviteId, Resource, Role, UserId, authorize,
};
use tracing::instrument;

use super::rows::{CommunityRow, InviteRow, community_columns, invite_columns};
use super::{Accounts, SignedIn, community_of};
use crate::db::parse_id;
use crate::{Result, random};

/// What an admin chooses for a new invite.
#[derive(Debug, Clone)]
pub struct NewInvite {
    /// The role people who join with it get.
    pub role: Role,
    /// How long it stays valid (at most 90 days).
    pub expires_in: Duration,
    /// How many people may join with it (1 for a personal invite).
    pub max_uses: i64,
}

impl Default for NewInvite {
    fn default() -> Self {
        Self {
            role: Role::Member,
            expires_in: Duration::from_secs(7 * 24 * 3600),
            max_uses: 1,
        }
    }
}

/// A created invite with its secret token (shown only now; only its hash is stored).
#[derive(Debug, Clone)]
pub struct CreatedInvite {
    /// The invite.
    pub invite: Invite,
    /// The token to put in the invite link.
    pub token: String,
}

/// Someone joining: with an invite token, or by community slug when it allows open registration.
#[derive(Debug, Clone, Default)]
pub struct RegisterRequest {
    /// The invite token.
    pub invite: Option<String>,
    /// The community's slug, for open registration without an invite.
    pub community: Option<String>,
    /// Their email.
    pub email: String,
    /// Their password.
    pub password: String,
    /// Their display name.
    pub display_name: String,
    /// The client's user agent, shown in the session list.
    pub user_agent: Option<String>,
}

fn invalid_invite() -> crate::Error {
    taina_core::Error::Forbidden {
        reason: "this invite is not valid",
    }
    .into()
}

/// The invite's creator as they stand now (`None`: removed).
async fn invite_creator<'e, E>(db: E, invite: &Invite) -> Result<Option<Creator>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT community_id, role, disabled_at FROM users WHERE id = $1")
            .bind(invite.created_by.as_str())
            .fetch_optional(db)
            .await?;
    row.map(|(community_id, role, disabled_at)| {
        Ok(Creator {
            community_id: parse_id(&community_id, CommunityId::parse)?,
            role: role
                .parse::<Role>()
                .map_err(|_| crate::Error::Corrupt(format!("stored role {role:?}")))?,
            disabled: disabled_at.is_some(),
        })
    })
    .transpose()
}

/// Deletes the invites `user_id` made that no longer stand now that they are `creator` (`None`:
/// being removed), inside the transaction that changes them. Answers how many went.
pub(super) async fn revoke_invites_of(
    tx: &mut sqlx::AnyConnection,
    user_id: &UserId,
    creator: Option<&Creator>,
) -> Result<u64> {
    let rows: Vec<InviteRow> = sqlx::query_as(concat!(
        "SELECT ",
        invite_columns!(),
        " FROM invites WHERE created_by = $1"
    ))
    .bind(user_id.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let mut revoked = 0;
    for row in rows {
        let invite = Invite::try_from(row)?;
        if check_creator(&invite, creator).is_err() {
            sqlx::query("DELETE FROM invites WHERE id = $1")
                .bind(invite.id.as_str())
                .execute(&mut *tx)
                .await?;
            revoked += 1;
        }
    }
    Ok(revoked)
}

impl Accounts<'_> {
    /// Creates an invite (admins only).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn create_invite(&self, actor: &Actor, new: NewInvite) -> Result<CreatedInvite> {
        authorize(
            actor,
            Action::Create,
            Resource::Invites(&actor.community_id),
        )?;
        check_terms(new.expires_in, new.max_uses)?;
        let now = self.now();
        let token = random::secret_token();
        let id = random::new_id(InviteId::from_random);
        let mut tx = self.inner.db.begin().await?;
        let row: InviteRow = sqlx::query_as(concat!(
            "INSERT INTO invites (id, community_id, token_hash, role, created_by, expires_at, \
             max_uses, uses, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) RETURNING ",
            invite_columns!()
        ))
        .bind(id.as_str())
        .bind(actor.community_id.as_str())
        .bind(random::token_hash(&token))
        .bind(new.role.as_str())
        .bind(actor.user_id.as_str())
        .bind(now.plus(new.expires_in).as_millis())
        .bind(new.max_uses)
        .bind(now.as_millis())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CreatedInvite {
            invite: Invite::try_from(row)?,
            token,
        })
    }

    /// The community's invites, newest first (admins only).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn invites(&self, actor: &Actor) -> Result<Vec<Invite>> {
        authorize(actor, Action::Read, Resource::Invites(&actor.community_id))?;
        let rows: Vec<InviteRow> = sqlx::query_as(concat!(
            "SELECT ",
            invite_columns!(),
            " FROM invites WHERE community_id = $1 ORDER BY created_at DESC, id"
        ))
        .bind(actor.community_id.as_str())
        .fetch_all(self.inner.db.reader())
        .await?;
        rows.into_iter().map(Invite::try_from).collect()
    }

    /// Revokes an invite (admins only).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn revoke_invite(&self, actor: &Actor, id: &InviteId) -> Result<()> {
        // The invite's community is compared first: someone of another community (or an id that
        // names no invite) hears "not found", never "forbidden".
        let community: Option<(String,)> =
            sqlx::query_as("SELECT community_id FROM invites WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(self.inner.db.reader())
                .await?;
        let community = match community {
            Some((c,)) => parse_id(&c, CommunityId::parse)?,
            None => return Err(taina_core::Error::not_found("invite").into()),
        };
        authorize(actor, Action::Delete, Resource::Invites(&community)).map_err(|denied| {
            match denied {
                taina_core::Denied::OtherCommunity => taina_core::Error::not_found("invite").into(),
                role => crate::Error::from(role),
            }
        })?;
        let mut tx = self.inner.db.begin().await?;
        let done = sqlx::query("DELETE FROM invites WHERE id = $1 AND community_id = $2")
            .bind(id.as_str())
            .bind(actor.community_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Err(taina_core::Error::not_found("invite").into());
        }
        Ok(())
    }

    /// Registers a new member with an invite (or, where the community allows it, openly) and signs
    /// them in. An invite is used up atomically: two people racing for its last use cannot both join.
    /// It works only while its creator may still grant it (an enabled admin of the community).
    #[instrument(skip_all)]
    pub async fn register(&self, req: RegisterRequest) -> Result<SignedIn> {
        let email = normalize_email(&req.email)?;
        check_password(&req.password)?;
        let display_name = normalize_display_name(&req.display_name)?;
        let now = self.now();

        // Where and as what they join.
        let (community_id, role, invite) = match (&req.invite, &req.community) {
            (Some(token), _) => {
                if token.is_empty() || token.len() > 128 {
                    return Err(invalid_invite());
                }
                let row: Option<InviteRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    invite_columns!(),
                    " FROM invites WHERE token_hash = $1"
                ))
                .bind(random::token_hash(token))
                .fetch_optional(self.inner.db.reader())
                .await?;
                let invite = Invite::try_from(row.ok_or_else(invalid_invite)?)?;
                invite.check_usable(now)?;
                // Checked again inside the transaction; here it spares a password hash.
                let creator = invite_creator(self.inner.db.reader(), &invite).await?;
                check_creator(&invite, creator.as_ref())?;
                (invite.community_id.clone(), invite.role, Some(invite))
            }
            (None, Some(slug)) => {
                let row: Option<CommunityRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    community_columns!(),
                    " FROM communities WHERE slug = $1"
                ))
                .bind(slug)
                .fetch_optional(self.inner.db.reader())
                .await?;
                let community = row.map(taina_core::Community::try_from).transpose()?;
                match community {
                    Some(c) if c.settings.open_registration => (c.id, Role::Member, None),
                    _ => {
                        return Err(taina_core::Error::invalid(
                            "invite",
                            "this community is open only with an invite",
                        )
                        .into());
                    }
                }
            }
            (None, None) => {
                return Err(taina_core::Error::invalid("invite", "an invite is required").into());
            }
        };

        let hash = self.inner.hasher.hash(&req.password).await?;
        let mut tx = self.inner.db.begin().await?;
        if let Some(invite) = &invite {
            let invite_id = &invite.id;
            let used = sqlx::query(
                "UPDATE invites SET uses = uses + 1 WHERE id = $1 AND uses < max_uses AND expires_at > $2",
            )
            .bind(invite_id.as_str())
            .bind(self.now().as_millis())
            .execute(&mut *tx)
            .await?;
            if used.rows_affected() == 0 {
                let (expires_at, uses, max_uses): (i64, i64, i64) =
                    sqlx::query_as("SELECT expires_at, uses, max_uses FROM invites WHERE id = $1")
                        .bind(invite_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(invalid_invite)?;
                check_usable(
                    taina_core::Timestamp::from_millis(expires_at),
                    uses,
                    max_uses,
                    self.now(),
                )?;
                return Err(invalid_invite());
            }
            // Whoever made it must still be able to: a demoted, disabled or removed admin's
            // invites stop working (their change also deletes them, in its own transaction, and
            // the invite row's lock orders the two).
            let creator = invite_creator(&mut *tx, invite).await?;
            check_creator(invite, creator.as_ref())?;
        }
        let community_id: CommunityId = parse_id(community_id.as_str(), CommunityId::parse)?;
        let user = self
            .insert_user(&mut tx, &community_id, &email, &display_name, &hash, role)
            .await?;
        let signed_in = self
            .create_session(&mut tx, user, req.user_agent.as_deref())
            .await?;
        tx.commit().await?;
        self.publish(
            &community_id,
            DomainEvent::MemberJoined {
                user_id: signed_in.user.id.clone(),
                role,
            },
        );
        Ok(signed_in)
    }
}
