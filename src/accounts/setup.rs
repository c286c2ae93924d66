//! First-run setup and the creation of communities.

use taina_core::validate::{
    check_password, check_slug, normalize_community_name, normalize_display_name, normalize_email,
    slugify,
};
use taina_core::{Community, CommunityId, CommunitySettings, DomainEvent, Role, User, UserId};
use tracing::instrument;

use super::rows::{CommunityRow, community_columns};
use super::{Accounts, SignedIn};
use crate::db::is_unique_violation;
use crate::{Result, random};

/// What first-run setup needs: the community and its first admin.
#[derive(Debug, Clone)]
pub struct SetupRequest {
    /// The community's name.
    pub community_name: String,
    /// Its slug; derived from the name when absent.
    pub community_slug: Option<String>,
    /// The first admin's email.
    pub email: String,
    /// The first admin's password.
    pub password: String,
    /// The first admin's display name.
    pub display_name: String,
    /// The client's user agent, shown in the session list.
    pub user_agent: Option<String>,
}

/// A community created by a local operator (the `taina` command), with its first admin.
#[derive(Debug, Clone)]
pub struct NewCommunity {
    /// The community's name.
    pub name: String,
    /// Its slug; derived from the name when absent.
    pub slug: Option<String>,
    /// The first admin's email.
    pub admin_email: String,
    /// The first admin's password.
    pub admin_password: String,
    /// The first admin's display name.
    pub admin_display_name: String,
}

/// Validated fields of a new community and its admin.
struct CheckedCommunity {
    name: String,
    slug: String,
    email: String,
    display_name: String,
}

fn check_new_community(
    name: &str,
    slug: Option<&str>,
    email: &str,
    password: &str,
    display_name: &str,
) -> Result<CheckedCommunity> {
    let name = normalize_community_name(name)?;
    let slug = match slug {
        Some(s) => {
            check_slug(s)?;
            s.to_owned()
        }
        // A name with too few letters or digits for a slug ("0", "日本") gets a plain one.
        None => slugify(&name).unwrap_or_else(|| "community".to_owned()),
    };
    let email = normalize_email(email)?;
    check_password(password)?;
    let display_name = normalize_display_name(display_name)?;
    Ok(CheckedCommunity {
        name,
        slug,
        email,
        display_name,
    })
}

impl Accounts<'_> {
    /// Whether the instance still awaits first-run setup (it holds no community).
    #[instrument(skip_all)]
    pub async fn needs_setup(&self) -> Result<bool> {
        let done: Option<(i64,)> = sqlx::query_as("SELECT id FROM instance_setup WHERE id = 1")
            .fetch_optional(self.inner.db.reader())
            .await?;
        Ok(done.is_none())
    }

    /// First-run setup: creates the community and its first admin, and signs the admin in. Refused
    /// with a conflict once the instance has been set up.
    #[instrument(skip_all)]
    pub async fn setup(&self, req: SetupRequest) -> Result<SignedIn> {
        let checked = check_new_community(
            &req.community_name,
            req.community_slug.as_deref(),
            &req.email,
            &req.password,
            &req.display_name,
        )?;
        if !self.needs_setup().await? {
            return Err(already_set_up());
        }
        let hash = self.inner.hasher.hash(&req.password).await?;
        let mut tx = self.inner.db.begin().await?;
        let (community, admin) = self.insert_community(&mut tx, checked, &hash).await?;
        if !self.mark_set_up(&mut tx).await? {
            return Err(already_set_up());
        }
        let signed_in = self
            .create_session(&mut tx, admin, req.user_agent.as_deref())
            .await?;
        tx.commit().await?;
        tracing::info!(community = %community.id, "instance set up");
        self.publish(
            &community.id,
            DomainEvent::MemberJoined {
                user_id: signed_in.user.id.clone(),
                role: Role::Admin,
            },
        );
        Ok(signed_in)
    }

    /// Creates a further community with its first admin (local operators only: the `taina`
    /// command and tests; there is no HTTP route for this). Marks the instance as set up.
    #[instrument(skip_all)]
    pub async fn create_community(&self, req: NewCommunity) -> Result<(Community, User)> {
        let checked = check_new_community(
            &req.name,
            req.slug.as_deref(),
            &req.admin_email,
            &req.admin_password,
            &req.admin_display_name,
        )?;
        let hash = self.inner.hasher.hash(&req.admin_password).await?;
        let mut tx = self.inner.db.begin().await?;
        let created = self.insert_community(&mut tx, checked, &hash).await?;
        self.mark_set_up(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(community = %created.0.id, "community created");
        Ok(created)
    }

    /// Records that the instance is set up; `false` if it already was (a concurrent setup won).
    async fn mark_set_up(&self, tx: &mut sqlx::AnyConnection) -> Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO instance_setup (id, completed_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(self.now().as_millis())
        .execute(&mut *tx)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    async fn insert_community(
        &self,
        tx: &mut sqlx::AnyConnection,
        c: CheckedCommunity,
        password_hash: &str,
    ) -> Result<(Community, User)> {
        let now = self.now();
        let community_id = random::new_id(CommunityId::from_random);
        let settings = serde_json::to_string(&CommunitySettings::default())
            .map_err(|e| crate::Error::Encode(e.to_string()))?;
        let row: CommunityRow = sqlx::query_as(concat!(
            "INSERT INTO communities (id, name, slug, settings, storage_quota_bytes, \
             storage_used_bytes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6) \
             RETURNING ",
            community_columns!()
        ))
        .bind(community_id.as_str())
        .bind(&c.name)
        .bind(&c.slug)
        .bind(settings)
        .bind(self.inner.config.default_storage_quota_bytes)
        .bind(now.as_millis())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                taina_core::Error::conflict("a community with this slug already exists").into()
            } else {
                crate::Error::from(e)
            }
        })?;
        let community = Community::try_from(row)?;
        let admin = self
            .insert_user(
                tx,
                &community.id,
                &c.email,
                &c.display_name,
                password_hash,
                Role::Admin,
            )
            .await?;
        Ok((community, admin))
    }

    /// Inserts a confirmed user; a duplicate email (in any letter case) is a conflict.
    pub(crate) async fn insert_user(
        &self,
        tx: &mut sqlx::AnyConnection,
        community_id: &CommunityId,
        email: &str,
        display_name: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<User> {
        let now = self.now();
        let id = random::new_id(UserId::from_random);
        let row: super::rows::UserRow = sqlx::query_as(concat!(
            "INSERT INTO users (id, community_id, email, display_name, password_hash, role, \
             confirmed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) \
             RETURNING ",
            super::rows::user_columns!()
        ))
        .bind(id.as_str())
        .bind(community_id.as_str())
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now.as_millis())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                taina_core::Error::conflict("this email is already registered in the community")
                    .into()
            } else {
                crate::Error::from(e)
            }
        })?;
        User::try_from(row)
    }
}

fn already_set_up() -> crate::Error {
    taina_core::Error::conflict("this instance has already been set up").into()
}
