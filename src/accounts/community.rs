//! The community's profile, settings and storage quota.

use taina_core::quota::{Quota, check_admin_quota_bytes, check_quota_bytes};
use taina_core::validate::normalize_community_name;
use taina_core::{Action, Actor, Community, CommunitySettings, DomainEvent, Resource, authorize};
use tracing::instrument;

use super::rows::{CommunityRow, community_columns};
use super::{Accounts, community_of};
use crate::Result;

/// Changes an admin makes to the community.
#[derive(Debug, Clone, Default)]
pub struct CommunityUpdate {
    /// A new name.
    pub name: Option<String>,
    /// New settings.
    pub settings: Option<CommunitySettings>,
    /// A new storage quota in bytes.
    pub storage_quota_bytes: Option<i64>,
}

impl Accounts<'_> {
    /// The actor's community, as they may see it (the storage in use only for admins).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn community(&self, actor: &Actor) -> Result<Community> {
        authorize(
            actor,
            Action::Read,
            Resource::Community(&actor.community_id),
        )?;
        Ok(self.load_community(actor).await?.as_seen_by(actor))
    }

    async fn load_community(&self, actor: &Actor) -> Result<Community> {
        let row: Option<CommunityRow> = sqlx::query_as(concat!(
            "SELECT ",
            community_columns!(),
            " FROM communities WHERE id = $1"
        ))
        .bind(actor.community_id.as_str())
        .fetch_optional(self.inner.db.reader())
        .await?;
        match row {
            Some(row) => Community::try_from(row),
            None => Err(taina_core::Error::not_found("community").into()),
        }
    }

    /// Changes the community's name, settings or quota (admins only; the quota at most the server's
    /// `max_community_quota_bytes`, or the larger quota the community already has).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn update_community(
        &self,
        actor: &Actor,
        update: CommunityUpdate,
    ) -> Result<Community> {
        let ceiling = Some(self.inner.config.max_community_quota_bytes);
        self.change_community(actor, update, ceiling).await
    }

    /// Sets the community's quota for the local operator, who is not bound by
    /// `max_community_quota_bytes` (`actor` is an admin the operator acts through).
    pub(crate) async fn set_quota_as_operator(
        &self,
        actor: &Actor,
        quota_bytes: i64,
    ) -> Result<Community> {
        let update = CommunityUpdate {
            storage_quota_bytes: Some(quota_bytes),
            ..CommunityUpdate::default()
        };
        self.change_community(actor, update, None).await
    }

    /// Applies an admin's change, with the quota at most `ceiling` (when there is one).
    async fn change_community(
        &self,
        actor: &Actor,
        update: CommunityUpdate,
        ceiling: Option<i64>,
    ) -> Result<Community> {
        authorize(
            actor,
            Action::Update,
            Resource::Community(&actor.community_id),
        )?;
        let name = update
            .name
            .as_deref()
            .map(normalize_community_name)
            .transpose()?;
        if let Some(q) = update.storage_quota_bytes {
            check_quota_bytes(q)?;
        }
        let settings = update
            .settings
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| crate::Error::Encode(e.to_string()))?;
        let mut tx = self.inner.db.begin().await?;
        if let Some(q) = update.storage_quota_bytes {
            // Read under the row lock this statement takes (PostgreSQL; SQLite has one writer), so
            // the quota compared against is the one being replaced.
            let (current,): (i64,) = sqlx::query_as(
                "UPDATE communities SET updated_at = updated_at WHERE id = $1 \
                 RETURNING storage_quota_bytes",
            )
            .bind(actor.community_id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| taina_core::Error::not_found("community"))?;
            check_admin_quota_bytes(q, current, ceiling)?;
        }
        sqlx::query(
            "UPDATE communities SET name = COALESCE($1, name), settings = COALESCE($2, settings), \
             storage_quota_bytes = COALESCE($3, storage_quota_bytes), updated_at = $4 WHERE id = $5",
        )
        .bind(name)
        .bind(settings)
        .bind(update.storage_quota_bytes)
        .bind(self.now().as_millis())
        .bind(actor.community_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.publish(&actor.community_id, DomainEvent::CommunityUpdated);
        Ok(self.load_community(actor).await?.as_seen_by(actor))
    }

    /// The community's storage use against its quota (admins only: with deduplication, the use
    /// would tell anyone who uploads whether a file exists anywhere in the community).
    #[instrument(skip_all, fields(community = community_of(actor)))]
    pub async fn storage(&self, actor: &Actor) -> Result<Quota> {
        authorize(actor, Action::Read, Resource::Storage(&actor.community_id))?;
        self.load_community(actor)
            .await?
            .quota()
            .ok_or_else(|| crate::Error::Corrupt("a community without its storage use".into()))
    }
}
