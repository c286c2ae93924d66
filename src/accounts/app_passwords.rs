//! App passwords: made, listed and revoked by their owner, and turned into an [`Actor`] when a
//! client presents one (HTTP Basic, or as a bearer token). The rules — the format, names, what a
//! scope reaches, how often a use is written down — are `taina_core::app_password`'s.

pub use taina_core::app_password::AppPasswordInfo;
use taina_core::app_password::{self, Area, Scope};
use taina_core::validate::normalize_email;
use taina_core::{Actor, AppPasswordId, CommunityId, Role, Timestamp, UserId};
use tracing::instrument;

use super::{Accounts, community_of};
use crate::db::parse_id;
use crate::{Result, random};

/// What a new app password is for.
#[derive(Debug, Clone)]
pub struct NewAppPassword {
    /// Its name: the device or program it is for.
    pub name: String,
    /// What it may reach.
    pub scope: Scope,
}

/// A new app password: the password itself (shown once, never stored) and its entry.
#[derive(Debug, Clone)]
pub struct CreatedAppPassword {
    /// The password, as `xxxxx-xxxxx-xxxxx-xxxxx-xxxxx`.
    pub password: String,
    /// Its entry in its owner's list.
    pub info: AppPasswordInfo,
}

#[derive(sqlx::FromRow)]
struct InfoRow {
    id: String,
    name: String,
    scope: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl InfoRow {
    fn into_info(self) -> Result<AppPasswordInfo> {
        Ok(AppPasswordInfo {
            id: parse_id(&self.id, AppPasswordId::parse)?,
            name: self.name,
            scope: stored_scope(&self.scope)?,
            created_at: Timestamp::from_millis(self.created_at),
            last_used_at: self.last_used_at.map(Timestamp::from_millis),
        })
    }
}

#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: String,
    scope: String,
    last_used_at: Option<i64>,
    user_id: String,
    community_id: String,
    email: String,
    role: String,
    disabled_at: Option<i64>,
}

fn stored_scope(s: &str) -> Result<Scope> {
    Scope::parse(s).ok_or_else(|| crate::Error::Corrupt(format!("stored scope {s:?}")))
}

fn wrong_app_password() -> crate::Error {
    taina_core::Error::Unauthenticated {
        reason: "wrong user name or app password (make one in Settings, or with `taina app-password create`)",
    }
    .into()
}

impl Accounts<'_> {
    /// Makes an app password for the actor. The password is in the answer and nowhere else.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn create_app_password(
        &self,
        actor: &Actor,
        new: NewAppPassword,
    ) -> Result<CreatedAppPassword> {
        let name = app_password::check_name(&new.name)?;
        let password = random::app_password();
        let canonical = app_password::normalize(&password).ok_or_else(|| {
            crate::Error::Corrupt("a generated app password does not read back".into())
        })?;
        let id = random::new_id(AppPasswordId::from_random);
        let now = self.now();
        let mut tx = self.inner.db.begin().await?;
        let (held,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM app_passwords WHERE user_id = $1")
                .bind(actor.user_id.as_str())
                .fetch_one(&mut *tx)
                .await?;
        if usize::try_from(held).unwrap_or(usize::MAX) >= app_password::PER_PERSON_MAX {
            return Err(taina_core::Error::conflict(format!(
                "you have {} app passwords already; revoke one you no longer use",
                app_password::PER_PERSON_MAX
            ))
            .into());
        }
        sqlx::query(
            "INSERT INTO app_passwords (id, token_hash, user_id, community_id, name, scope, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(random::token_hash(&canonical))
        .bind(actor.user_id.as_str())
        .bind(actor.community_id.as_str())
        .bind(&name)
        .bind(new.scope.as_str())
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(app_password = %id, scope = new.scope.as_str(), "app password created");
        Ok(CreatedAppPassword {
            password,
            info: AppPasswordInfo {
                id,
                name,
                scope: new.scope,
                created_at: now,
                last_used_at: None,
            },
        })
    }

    /// The actor's app passwords, newest first.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn app_passwords(&self, actor: &Actor) -> Result<Vec<AppPasswordInfo>> {
        let rows: Vec<InfoRow> = sqlx::query_as(
            "SELECT id, name, scope, created_at, last_used_at FROM app_passwords \
             WHERE user_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(actor.user_id.as_str())
        .fetch_all(self.inner.db.reader())
        .await?;
        rows.into_iter().map(InfoRow::into_info).collect()
    }

    /// Revokes one of the actor's app passwords: it stops working at once.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn revoke_app_password(&self, actor: &Actor, id: &AppPasswordId) -> Result<()> {
        let mut tx = self.inner.db.begin().await?;
        let done = sqlx::query("DELETE FROM app_passwords WHERE id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(actor.user_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Err(taina_core::Error::not_found("app password").into());
        }
        tracing::info!(app_password = %id, "app password revoked");
        Ok(())
    }

    /// Authenticates a request for `area` with a bearer token: a session's token, or an app
    /// password whose scope reaches `area`.
    #[instrument(skip_all)]
    pub async fn authenticate_in(&self, token: &str, area: Area) -> Result<Actor> {
        match app_password::normalize(token) {
            Some(canonical) => self.app_password_actor(None, &canonical, area).await,
            None => self.authenticate(token).await,
        }
    }

    /// Authenticates HTTP Basic credentials for `area`: the account's email (or user id) and one
    /// of its app passwords, never the account password. Wrong names, wrong or revoked passwords
    /// and disabled accounts get the same answer.
    #[instrument(skip_all)]
    pub async fn authenticate_basic(
        &self,
        login: &str,
        password: &str,
        area: Area,
    ) -> Result<Actor> {
        let canonical = app_password::normalize(password).ok_or_else(wrong_app_password)?;
        self.app_password_actor(Some(login), &canonical, area).await
    }

    async fn app_password_actor(
        &self,
        login: Option<&str>,
        canonical: &str,
        area: Area,
    ) -> Result<Actor> {
        let row: Option<CredentialRow> = sqlx::query_as(
            "SELECT a.id, a.scope, a.last_used_at, u.id AS user_id, u.community_id, u.email, \
             u.role, u.disabled_at \
             FROM app_passwords a JOIN users u ON u.id = a.user_id WHERE a.token_hash = $1",
        )
        .bind(random::token_hash(canonical))
        .fetch_optional(self.inner.db.reader())
        .await?;
        let Some(row) = row else {
            return Err(wrong_app_password());
        };
        let login_matches = login.is_none_or(|login| {
            login == row.user_id || normalize_email(login).is_ok_and(|email| email == row.email)
        });
        if !login_matches || row.disabled_at.is_some() {
            return Err(wrong_app_password());
        }
        stored_scope(&row.scope)?.check(area)?;
        let now = self.now();
        if app_password::record_use(now, row.last_used_at.map(Timestamp::from_millis)) {
            let mut tx = self.inner.db.begin().await?;
            sqlx::query("UPDATE app_passwords SET last_used_at = $1 WHERE id = $2")
                .bind(now.as_millis())
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(Actor {
            user_id: parse_id(&row.user_id, UserId::parse)?,
            community_id: parse_id(&row.community_id, CommunityId::parse)?,
            role: row
                .role
                .parse::<Role>()
                .map_err(|_| crate::Error::Corrupt(format!("stored role {:?}", row.role)))?,
            session_id: None,
        })
    }
}
