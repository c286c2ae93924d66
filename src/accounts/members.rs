//! Members: one's own profile, and admin work on others (roles, disabling, removal).

use taina_core::invite::Creator;
use taina_core::membership::{MemberChange, ensure_admin_remains};
use taina_core::validate::{check_password, normalize_display_name, normalize_email};
use taina_core::{Action, Actor, DomainEvent, Resource, Role, User, UserId, authorize};
use tracing::instrument;

use super::invites::revoke_invites_of;
use super::rows::{UserRow, user_columns};
use super::sessions::load_user;
use super::{Accounts, Ended, Whose, community_of};
use crate::Result;

/// An account an admin creates directly, without an invite.
#[derive(Debug, Clone)]
pub struct NewMember {
    /// Their email (their sign-in name).
    pub email: String,
    /// The name others see.
    pub display_name: String,
    /// Their first password.
    pub password: String,
    /// Their role.
    pub role: Role,
}

/// Changes a person may make to their own profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    /// A new display name.
    pub display_name: Option<String>,
}

impl Accounts<'_> {
    /// The actor's own account.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn me(&self, actor: &Actor) -> Result<User> {
        self.member(actor, &actor.user_id).await
    }

    /// Changes the actor's own profile.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn update_profile(&self, actor: &Actor, update: ProfileUpdate) -> Result<User> {
        let resource = Resource::Member {
            community_id: &actor.community_id,
            user_id: &actor.user_id,
        };
        authorize(actor, Action::Update, resource)?;
        let display_name = update
            .display_name
            .as_deref()
            .map(normalize_display_name)
            .transpose()?;
        let mut tx = self.inner.db.begin().await?;
        let mut changed = false;
        if let Some(name) = display_name {
            // Only a real change is written and announced.
            let done = sqlx::query(
                "UPDATE users SET display_name = $1, updated_at = $2 \
                 WHERE id = $3 AND display_name <> $1",
            )
            .bind(name)
            .bind(self.now().as_millis())
            .bind(actor.user_id.as_str())
            .execute(&mut *tx)
            .await?;
            changed = done.rows_affected() > 0;
        }
        let user = load_user(&mut tx, actor.user_id.as_str()).await?;
        tx.commit().await?;
        if changed {
            self.publish(
                &actor.community_id,
                DomainEvent::MemberUpdated {
                    user_id: user.id.clone(),
                },
            );
        }
        Ok(user)
    }

    /// The community's members, by display name.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn members(&self, actor: &Actor) -> Result<Vec<User>> {
        authorize(actor, Action::Read, Resource::Members(&actor.community_id))?;
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE community_id = $1 ORDER BY display_name, id"
        ))
        .bind(actor.community_id.as_str())
        .fetch_all(self.inner.db.reader())
        .await?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// One member of the actor's community.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn member(&self, actor: &Actor, user_id: &UserId) -> Result<User> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(user_id.as_str())
        .fetch_optional(self.inner.db.reader())
        .await?;
        let user = match row {
            Some(row) => User::try_from(row)?,
            None => return Err(taina_core::Error::not_found("user").into()),
        };
        let resource = Resource::Member {
            community_id: &user.community_id,
            user_id: &user.id,
        };
        if authorize(actor, Action::Read, resource).is_err()
            && authorize(actor, Action::Read, Resource::Members(&user.community_id)).is_err()
        {
            return Err(taina_core::Error::not_found("user").into());
        }
        Ok(user)
    }

    /// Creates an account in the actor's community without an invite (admins only).
    #[instrument(skip_all, fields(community = community_of(actor), role = %new.role))]
    pub async fn add_member(&self, actor: &Actor, new: NewMember) -> Result<User> {
        authorize(
            actor,
            Action::Create,
            Resource::Members(&actor.community_id),
        )?;
        let email = normalize_email(&new.email)?;
        let display_name = normalize_display_name(&new.display_name)?;
        check_password(&new.password)?;
        let hash = self.inner.hasher.hash(&new.password).await?;
        let mut tx = self.inner.db.begin().await?;
        let user = self
            .insert_user(
                &mut tx,
                &actor.community_id,
                &email,
                &display_name,
                &hash,
                new.role,
            )
            .await?;
        tx.commit().await?;
        self.publish(
            &actor.community_id,
            DomainEvent::MemberJoined {
                user_id: user.id.clone(),
                role: user.role,
            },
        );
        Ok(user)
    }

    /// Sets a member's password (admins only: for someone who lost theirs) and signs them out
    /// everywhere.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn reset_password(
        &self,
        actor: &Actor,
        user_id: &UserId,
        password: &str,
    ) -> Result<()> {
        {
            let mut conn = self.inner.db.reader().acquire().await?;
            authorize_member(&mut conn, actor, user_id, Action::Manage).await?;
        }
        check_password(password)?;
        let hash = self.inner.hasher.hash(password).await?;
        let mut tx = self.inner.db.begin().await?;
        authorize_member(&mut tx, actor, user_id, Action::Manage).await?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(self.now().as_millis())
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.end_live(Whose::User(user_id), Ended::SessionEnded);
        Ok(())
    }

    /// The member of the actor's community with this email (admins only).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn member_by_email(&self, actor: &Actor, email: &str) -> Result<User> {
        authorize(actor, Action::Read, Resource::Members(&actor.community_id))?;
        let email = normalize_email(email)?;
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE community_id = $1 AND email = $2"
        ))
        .bind(actor.community_id.as_str())
        .bind(&email)
        .fetch_optional(self.inner.db.reader())
        .await?;
        match row {
            Some(row) => User::try_from(row),
            None => Err(taina_core::Error::not_found("user").into()),
        }
    }

    /// Gives a member a new role (admins only; the last admin cannot be demoted). A demoted admin's
    /// invites are revoked.
    #[instrument(skip_all, fields(community = community_of(actor), role = %role))]
    pub async fn set_role(&self, actor: &Actor, user_id: &UserId, role: Role) -> Result<User> {
        self.change_member(actor, user_id, MemberChange::SetRole(role))
            .await
    }

    /// Disables or re-enables a member (admins only). Disabling signs them out everywhere and
    /// revokes their invites (re-enabling does not bring those back).
    #[instrument(skip_all, fields(community = community_of(actor), disabled))]
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        user_id: &UserId,
        disabled: bool,
    ) -> Result<User> {
        let change = if disabled {
            MemberChange::Disable
        } else {
            MemberChange::Enable
        };
        self.change_member(actor, user_id, change).await
    }

    /// Removes a member from the community (admins only; never the last admin).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn remove_member(&self, actor: &Actor, user_id: &UserId) -> Result<()> {
        self.change_member(actor, user_id, MemberChange::Remove)
            .await?;
        Ok(())
    }

    /// Applies an admin's change to a member under the community's row lock, so that concurrent
    /// changes cannot together remove the last admin.
    async fn change_member(
        &self,
        actor: &Actor,
        user_id: &UserId,
        change: MemberChange,
    ) -> Result<User> {
        {
            // Decided before any lock is taken, so that refusals cost no write.
            let mut conn = self.inner.db.reader().acquire().await?;
            authorize_member(&mut conn, actor, user_id, Action::Manage).await?;
        }
        let now = self.now().as_millis();
        let mut tx = self.inner.db.begin().await?;
        // Serialise admin changes per community (a row lock on PostgreSQL; SQLite has one writer).
        sqlx::query("UPDATE communities SET updated_at = updated_at WHERE id = $1")
            .bind(actor.community_id.as_str())
            .execute(&mut *tx)
            .await?;
        let target = authorize_member(&mut tx, actor, user_id, Action::Manage).await?;
        let (other_admins,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM users WHERE community_id = $1 AND role = 'admin' \
             AND disabled_at IS NULL AND id <> $2",
        )
        .bind(actor.community_id.as_str())
        .bind(user_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        ensure_admin_remains(
            change,
            target.role,
            !target.is_disabled(),
            u64::try_from(other_admins).unwrap_or(0),
        )?;
        match change {
            MemberChange::SetRole(role) => {
                sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
                    .bind(role.as_str())
                    .bind(now)
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            MemberChange::Disable => {
                sqlx::query(
                    "UPDATE users SET disabled_at = COALESCE(disabled_at, $1), updated_at = $1 \
                     WHERE id = $2",
                )
                .bind(now)
                .bind(user_id.as_str())
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            MemberChange::Enable => {
                sqlx::query("UPDATE users SET disabled_at = NULL, updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            MemberChange::Remove => {
                // Their private files go with them; what they added to the shared space stays.
                crate::ybira::remove_private_space(&mut tx, user_id, self.now()).await?;
                // Their invites go too (the foreign key would take them; say so).
                revoke_invites_of(&mut tx, user_id, None).await?;
                sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.end_live(Whose::User(user_id), Ended::SessionEnded);
                self.publish(
                    &actor.community_id,
                    DomainEvent::MemberRemoved {
                        user_id: user_id.clone(),
                    },
                );
                return Ok(target);
            }
        }
        let user = load_user(&mut tx, user_id.as_str()).await?;
        // A demoted or disabled admin's invites stop working with the change.
        let creator = Creator {
            community_id: user.community_id.clone(),
            role: user.role,
            disabled: user.is_disabled(),
        };
        revoke_invites_of(&mut tx, user_id, Some(&creator)).await?;
        tx.commit().await?;
        match change {
            MemberChange::Disable => self.end_live(Whose::User(user_id), Ended::SessionEnded),
            MemberChange::SetRole(role) if role != target.role => {
                self.end_live(Whose::User(user_id), Ended::AccessChanged);
            }
            _ => {}
        }
        self.publish(
            &actor.community_id,
            DomainEvent::MemberUpdated {
                user_id: user_id.clone(),
            },
        );
        Ok(user)
    }
}

/// The member `user_id`, once `actor` may do `action` to them. The target's community is
/// compared first ([`authorize`] with the target's own community), so someone of another
/// community hears "not found" — never "forbidden" — and an id that names nobody is not found.
async fn authorize_member(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    user_id: &UserId,
    action: Action,
) -> Result<User> {
    let target = load_user(conn, user_id.as_str()).await?;
    let resource = Resource::Member {
        community_id: &target.community_id,
        user_id,
    };
    authorize(actor, action, resource).map_err(|denied| match denied {
        taina_core::Denied::OtherCommunity => taina_core::Error::not_found("user").into(),
        role => crate::Error::from(role),
    })?;
    Ok(target)
}
