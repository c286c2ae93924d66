//! Device sign-in (Nextcloud's Login Flow v2): a desktop or phone client starts a flow and opens
//! its login link in a browser; the person, signed in to the web app, approves it; the client's
//! next poll receives a new app password (files only), made at that moment and shown to nobody
//! else. The person never types their account password into the client.

use taina_core::app_password::Scope;
use taina_core::{Actor, CommunityId, Error as DomainError, Role, Timestamp, UserId};
use tracing::instrument;

use super::{Accounts, NewAppPassword, community_of};
use crate::db::parse_id;
use crate::{Result, random};

pub use taina_core::app_password::DEVICE_SIGN_IN_LIFETIME as LOGIN_FLOW_LIFETIME;
use taina_core::app_password::{DEVICE_SIGN_INS_PENDING_MAX, NAME_MAX_CHARS};

/// A started flow: the link for the browser, and the token the client polls with.
#[derive(Debug, Clone)]
pub struct StartedLoginFlow {
    /// Goes in the login link the browser opens.
    pub login_token: String,
    /// The client polls with it.
    pub poll_token: String,
}

/// A flow waiting for approval, as the approving person sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingLoginFlow {
    /// The client that asks (its user agent).
    pub client_name: String,
    /// Until when it may be approved.
    pub expires_at: Timestamp,
}

/// What a client's poll receives once the flow was approved.
#[derive(Debug, Clone)]
pub struct ApprovedLogin {
    /// The account's email, the name to sign in with.
    pub login_name: String,
    /// The new app password.
    pub app_password: String,
}

impl Accounts<'_> {
    /// Starts a flow for a client (named by its user agent).
    #[instrument(skip_all)]
    pub async fn start_login_flow(&self, client_name: &str) -> Result<StartedLoginFlow> {
        let now = self.now();
        let name: String = client_name
            .chars()
            .filter(|c| !c.is_control())
            // The app password it gets is named after it.
            .take(NAME_MAX_CHARS)
            .collect();
        let name = if name.trim().is_empty() {
            "a device".to_owned()
        } else {
            name.trim().to_owned()
        };
        let flow = StartedLoginFlow {
            login_token: random::secret_token(),
            poll_token: random::secret_token(),
        };
        let mut tx = self.inner.db.begin().await?;
        sqlx::query("DELETE FROM login_flows WHERE expires_at <= $1")
            .bind(now.as_millis())
            .execute(&mut *tx)
            .await?;
        let (pending,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_flows")
            .fetch_one(&mut *tx)
            .await?;
        if usize::try_from(pending).unwrap_or(usize::MAX) >= DEVICE_SIGN_INS_PENDING_MAX {
            return Err(DomainError::RateLimited {
                retry_after: std::time::Duration::from_secs(60),
            }
            .into());
        }
        sqlx::query(
            "INSERT INTO login_flows (login_token_hash, poll_token_hash, client_name, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(random::token_hash(&flow.login_token))
        .bind(random::token_hash(&flow.poll_token))
        .bind(name)
        .bind(now.as_millis())
        .bind(now.plus(LOGIN_FLOW_LIFETIME).as_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(flow)
    }

    /// The flow a login link names, while it waits for approval.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn pending_login_flow(
        &self,
        actor: &Actor,
        login_token: &str,
    ) -> Result<PendingLoginFlow> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT client_name, expires_at FROM login_flows WHERE login_token_hash = $1 \
             AND approved_by IS NULL AND expires_at > $2",
        )
        .bind(random::token_hash(login_token))
        .bind(self.now().as_millis())
        .fetch_optional(self.inner.db.reader())
        .await?;
        let (client_name, expires_at) = row.ok_or_else(gone)?;
        Ok(PendingLoginFlow {
            client_name,
            expires_at: Timestamp::from_millis(expires_at),
        })
    }

    /// Approves a flow for the actor (or, with `allow` false, refuses it: the flow ends).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn answer_login_flow(
        &self,
        actor: &Actor,
        login_token: &str,
        allow: bool,
    ) -> Result<()> {
        let now = self.now();
        let hash = random::token_hash(login_token);
        let mut tx = self.inner.db.begin().await?;
        let done = if allow {
            sqlx::query(
                "UPDATE login_flows SET approved_by = $1, approved_at = $2 \
                 WHERE login_token_hash = $3 AND approved_by IS NULL AND expires_at > $2",
            )
            .bind(actor.user_id.as_str())
            .bind(now.as_millis())
            .bind(&hash)
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query(
                "DELETE FROM login_flows WHERE login_token_hash = $1 AND approved_by IS NULL",
            )
            .bind(&hash)
            .execute(&mut *tx)
            .await?
        };
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Err(gone());
        }
        tracing::info!(allow, "device sign-in answered");
        Ok(())
    }

    /// A client's poll: `None` while the flow waits (or when there is no such flow); once
    /// approved, a new app password for the approver, made now, and the flow ends.
    #[instrument(skip_all)]
    pub async fn poll_login_flow(&self, poll_token: &str) -> Result<Option<ApprovedLogin>> {
        let now = self.now();
        let hash = random::token_hash(poll_token);
        let row: Option<(String, String, String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT f.client_name, u.id, u.community_id, u.email, u.role, u.disabled_at \
             FROM login_flows f JOIN users u ON u.id = f.approved_by \
             WHERE f.poll_token_hash = $1 AND f.expires_at > $2",
        )
        .bind(&hash)
        .bind(now.as_millis())
        .fetch_optional(self.inner.db.reader())
        .await?;
        let Some((client_name, user_id, community_id, email, role, disabled_at)) = row else {
            return Ok(None);
        };
        if disabled_at.is_some() {
            return Ok(None);
        }
        let actor = Actor {
            user_id: parse_id(&user_id, UserId::parse)?,
            community_id: parse_id(&community_id, CommunityId::parse)?,
            role: role
                .parse::<Role>()
                .map_err(|_| crate::Error::Corrupt(format!("stored role {role:?}")))?,
            session_id: None,
        };
        // Made first, so that a refusal (too many app passwords) leaves the flow to poll again
        // once one is revoked; then the flow ends, and a poll that lost the race gives its back.
        let created = self
            .create_app_password(
                &actor,
                NewAppPassword {
                    name: client_name,
                    scope: Scope::Files,
                },
            )
            .await?;
        let mut tx = self.inner.db.begin().await?;
        let ended = sqlx::query("DELETE FROM login_flows WHERE poll_token_hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if ended.rows_affected() == 0 {
            self.revoke_app_password(&actor, &created.info.id).await?;
            return Ok(None);
        }
        Ok(Some(ApprovedLogin {
            login_name: email,
            app_password: created.password,
        }))
    }
}

fn gone() -> crate::Error {
    DomainError::not_found("device sign-in").into()
}
