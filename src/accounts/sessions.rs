//! Signing in and out, authenticating requests, listing and revoking sessions, changing passwords.

use taina_core::session::SessionCheck;
pub use taina_core::session::SessionInfo;
use taina_core::validate::{check_password, normalize_email};
use taina_core::{Actor, CommunityId, Role, SessionId, Timestamp, User};
use tracing::instrument;

use super::rows::{UserRow, user_columns};
use super::{Accounts, AttemptKeys, Ended, Whose, community_of};
use crate::db::parse_id;
use crate::{Result, random};

/// Longest user agent kept with a session.
const USER_AGENT_MAX_CHARS: usize = 256;

/// A sign-in attempt.
#[derive(Debug, Clone, Default)]
pub struct LoginRequest {
    /// The account's email (any letter case).
    pub email: String,
    /// The password.
    pub password: String,
    /// The community's slug; needed only when the instance holds several communities.
    pub community: Option<String>,
    /// The client's user agent, shown in the session list.
    pub user_agent: Option<String>,
    /// The client's IP address (or another stable key for it), for the per-network login throttle
    /// (an IPv4 address, an IPv6 /64).
    pub client_key: Option<String>,
}

/// A new session: the secret token (shown once, never stored) and who it belongs to.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The bearer token. Only its hash is stored.
    pub token: String,
    /// The session's public id.
    pub session_id: SessionId,
    /// When the session expires unless used.
    pub expires_at: Timestamp,
    /// The signed-in user.
    pub user: User,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_agent: Option<String>,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct AuthRow {
    session_id: String,
    last_seen_at: i64,
    expires_at: i64,
    user_id: String,
    community_id: String,
    role: String,
    disabled_at: Option<i64>,
}

fn wrong_credentials() -> crate::Error {
    taina_core::Error::Unauthenticated {
        reason: "wrong email or password",
    }
    .into()
}

fn bad_session() -> crate::Error {
    taina_core::Error::Unauthenticated {
        reason: "your session has expired or was revoked; sign in again",
    }
    .into()
}

impl Accounts<'_> {
    /// Signs in with email and password. Unknown emails, wrong passwords and disabled accounts give
    /// the same error in about the same time (the password is checked in every case); repeated
    /// failures per account, and sign-ins to unknown accounts per client network, are rate limited.
    #[instrument(skip_all, fields(community = req.community.as_deref()))]
    pub async fn login(&self, req: LoginRequest) -> Result<SignedIn> {
        let email = normalize_email(&req.email)?;
        let community_id = self
            .resolve_login_community(req.community.as_deref())
            .await?;

        let found: Option<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, password_hash, disabled_at FROM users WHERE community_id = $1 AND email = $2",
        )
        .bind(community_id.as_str())
        .bind(&email)
        .fetch_optional(self.inner.db.reader())
        .await?;
        let keys = AttemptKeys::new(
            format!("{community_id}:{email}"),
            req.client_key.as_deref(),
            found.is_some(),
        );
        let counted = self.admit_attempt(&keys).await?;
        let hash = found.as_ref().map(|(_, h, _)| h.as_str());
        let verified = match self.inner.hasher.verify(&req.password, hash).await {
            Ok(verified) => verified,
            Err(e) => {
                self.attempt_not_tried(counted).await;
                return Err(e);
            }
        };
        // A disabled account is answered as a wrong password, even with the right one: the
        // answer must not tell whether the password was right. The attempt stays counted.
        let signed_in_as = found.filter(|(_, _, disabled_at)| verified && disabled_at.is_none());
        let Some((user_id, _, _)) = signed_in_as else {
            tracing::info!(community = %community_id, "failed sign-in");
            return Err(wrong_credentials());
        };
        self.attempt_succeeded(&keys).await;

        let mut tx = self.inner.db.begin().await?;
        sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
            .bind(self.now().as_millis())
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        let user = load_user(&mut tx, &user_id).await?;
        let signed_in = self
            .create_session(&mut tx, user, req.user_agent.as_deref())
            .await?;
        tx.commit().await?;
        Ok(signed_in)
    }

    /// Finds the community a sign-in is for: the named one, or the only one.
    async fn resolve_login_community(&self, slug: Option<&str>) -> Result<CommunityId> {
        if slug.is_some_and(|s| taina_core::validate::check_slug(s).is_err()) {
            return Err(wrong_credentials());
        }
        let rows: Vec<(String,)> = match slug {
            Some(slug) => {
                sqlx::query_as("SELECT id FROM communities WHERE slug = $1")
                    .bind(slug)
                    .fetch_all(self.inner.db.reader())
                    .await?
            }
            None => {
                sqlx::query_as("SELECT id FROM communities ORDER BY created_at LIMIT 2")
                    .fetch_all(self.inner.db.reader())
                    .await?
            }
        };
        match rows.as_slice() {
            [(id,)] => parse_id(id, CommunityId::parse),
            [] if slug.is_some() => Err(wrong_credentials()),
            [] => Err(taina_core::Error::conflict("this instance has not been set up yet").into()),
            _ => Err(taina_core::Error::invalid(
                "community",
                "this server holds several communities; say which one",
            )
            .into()),
        }
    }

    /// Opens a session for `user` inside a write transaction.
    pub(crate) async fn create_session(
        &self,
        tx: &mut sqlx::AnyConnection,
        user: User,
        user_agent: Option<&str>,
    ) -> Result<SignedIn> {
        let now = self.now();
        let token = random::secret_token();
        let session_id = random::new_id(SessionId::from_random);
        let expires_at = self.inner.sessions.expiry_from(now);
        let user_agent =
            user_agent.map(|ua| ua.chars().take(USER_AGENT_MAX_CHARS).collect::<String>());
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, community_id, user_agent, created_at, \
             last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(session_id.as_str())
        .bind(random::token_hash(&token))
        .bind(user.id.as_str())
        .bind(user.community_id.as_str())
        .bind(user_agent)
        .bind(now.as_millis())
        .bind(expires_at.as_millis())
        .execute(&mut *tx)
        .await?;
        Ok(SignedIn {
            token,
            session_id,
            expires_at,
            user,
        })
    }

    /// Turns a bearer token into the [`Actor`] it authenticates, renewing the session when due.
    /// Expired and revoked sessions, and disabled accounts, are refused.
    #[instrument(skip_all)]
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        if token.is_empty() || token.len() > 128 {
            return Err(bad_session());
        }
        let row: Option<AuthRow> = sqlx::query_as(
            "SELECT s.id AS session_id, s.last_seen_at, s.expires_at, u.id AS user_id, \
             u.community_id, u.role, u.disabled_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(random::token_hash(token))
        .fetch_optional(self.inner.db.reader())
        .await?;
        let Some(row) = row else {
            return Err(bad_session());
        };
        if row.disabled_at.is_some() {
            return Err(bad_session());
        }
        let now = self.now();
        let check = self.inner.sessions.check(
            now,
            Timestamp::from_millis(row.last_seen_at),
            Timestamp::from_millis(row.expires_at),
        );
        match check {
            SessionCheck::Expired => {
                let mut tx = self.inner.db.begin().await?;
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(&row.session_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Err(bad_session());
            }
            SessionCheck::Renew { expires_at } => {
                let mut tx = self.inner.db.begin().await?;
                sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
                    .bind(now.as_millis())
                    .bind(expires_at.as_millis())
                    .bind(&row.session_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            SessionCheck::Valid => {}
        }
        Ok(Actor {
            user_id: parse_id(&row.user_id, taina_core::UserId::parse)?,
            community_id: parse_id(&row.community_id, CommunityId::parse)?,
            role: row
                .role
                .parse::<Role>()
                .map_err(|_| crate::Error::Corrupt(format!("stored role {:?}", row.role)))?,
            session_id: Some(parse_id(&row.session_id, SessionId::parse)?),
        })
    }

    /// Ends the actor's current session.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn logout(&self, actor: &Actor) -> Result<()> {
        if let Some(session_id) = &actor.session_id {
            let mut tx = self.inner.db.begin().await?;
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(session_id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.end_live(Whose::Session(session_id), Ended::SessionEnded);
        }
        Ok(())
    }

    /// The actor's live sessions, most recently used first.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn sessions(&self, actor: &Actor) -> Result<Vec<SessionInfo>> {
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT id, user_agent, created_at, last_seen_at, expires_at FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC, id",
        )
        .bind(actor.user_id.as_str())
        .bind(self.now().as_millis())
        .fetch_all(self.inner.db.reader())
        .await?;
        rows.into_iter()
            .map(|r| {
                let id = parse_id(&r.id, SessionId::parse)?;
                Ok(SessionInfo {
                    current: actor.session_id.as_ref() == Some(&id),
                    id,
                    user_agent: r.user_agent,
                    created_at: Timestamp::from_millis(r.created_at),
                    last_seen_at: Timestamp::from_millis(r.last_seen_at),
                    expires_at: Timestamp::from_millis(r.expires_at),
                })
            })
            .collect()
    }

    /// Revokes one of the actor's own sessions.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn revoke_session(&self, actor: &Actor, session_id: &SessionId) -> Result<()> {
        let mut tx = self.inner.db.begin().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(session_id.as_str())
            .bind(actor.user_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Err(taina_core::Error::not_found("session").into());
        }
        self.end_live(Whose::Session(session_id), Ended::SessionEnded);
        Ok(())
    }

    /// Changes the actor's password after checking the current one, and signs out their other
    /// sessions.
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        check_password(new)?;
        let keys = AttemptKeys::new(
            format!("{}:{}", actor.community_id, actor.user_id),
            None,
            true,
        );
        let counted = self.admit_attempt(&keys).await?;
        let verified: Result<bool> = async {
            let (hash,): (String,) =
                sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
                    .bind(actor.user_id.as_str())
                    .fetch_one(self.inner.db.reader())
                    .await?;
            self.inner.hasher.verify(current, Some(&hash)).await
        }
        .await;
        let verified = match verified {
            Ok(verified) => verified,
            Err(e) => {
                self.attempt_not_tried(counted).await;
                return Err(e);
            }
        };
        if !verified {
            return Err(taina_core::Error::Forbidden {
                reason: "the current password is not right",
            }
            .into());
        }
        self.attempt_succeeded(&keys).await;
        let new_hash = self.inner.hasher.hash(new).await?;
        let mut tx = self.inner.db.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(new_hash)
            .bind(self.now().as_millis())
            .bind(actor.user_id.as_str())
            .execute(&mut *tx)
            .await?;
        let keep = actor.session_id.as_ref().map(|s| s.as_str()).unwrap_or("");
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(actor.user_id.as_str())
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.end_live(
            Whose::UserExcept(&actor.user_id, actor.session_id.as_ref()),
            Ended::SessionEnded,
        );
        Ok(())
    }
}

/// Loads a user by id.
pub(crate) async fn load_user(conn: &mut sqlx::AnyConnection, id: &str) -> Result<User> {
    let row: Option<UserRow> = sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => User::try_from(row),
        None => Err(taina_core::Error::not_found("user").into()),
    }
}
