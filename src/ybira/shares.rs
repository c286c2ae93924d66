//! Explicit shares: an owner opens a folder (and everything in it) or a file to chosen members.

use taina_core::{Actor, Error as DomainError, ItemId, ShareId, Timestamp, UserId};
use taina_ybira::access::{ItemAction, ShareAccess};
use tracing::instrument;

use super::rows::{ITEM_COLUMNS, ItemRow};
use super::{Item, Share, Ybira};
use crate::Result;
use crate::db::parse_id;

impl Ybira<'_> {
    /// Shares an item with a member of the community (or changes their access).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn share(
        &self,
        actor: &Actor,
        id: &ItemId,
        with: &UserId,
        access: ShareAccess,
    ) -> Result<Share> {
        if with == &actor.user_id {
            return Err(DomainError::invalid("user_id", "you cannot share with yourself").into());
        }
        let now = self.now();
        let mut tx = self.begin_in(&actor.community_id).await?;
        self.load(&mut tx, actor, id, ItemAction::Share, false)
            .await?;
        let member: Option<(String,)> =
            sqlx::query_as("SELECT id FROM users WHERE id = $1 AND community_id = $2")
                .bind(with.as_str())
                .bind(actor.community_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if member.is_none() {
            return Err(DomainError::not_found("member").into());
        }
        sqlx::query(
            "INSERT INTO shares (id, community_id, item_id, user_id, access, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (item_id, user_id) DO UPDATE SET access = excluded.access",
        )
        .bind(crate::random::new_id(ShareId::from_random).as_str())
        .bind(actor.community_id.as_str())
        .bind(id.as_str())
        .bind(with.as_str())
        .bind(access.as_str())
        .bind(actor.user_id.as_str())
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        let share = load_share(&mut tx, id, with).await?;
        tx.commit().await?;
        Ok(share)
    }

    /// Stops sharing an item with a member.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn unshare(&self, actor: &Actor, id: &ItemId, with: &UserId) -> Result<()> {
        let mut tx = self.begin_in(&actor.community_id).await?;
        self.load(&mut tx, actor, id, ItemAction::Share, false)
            .await?;
        let done = sqlx::query("DELETE FROM shares WHERE item_id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(with.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(DomainError::not_found("share").into());
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stops a share, named by its id.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn unshare_by_id(&self, actor: &Actor, share: &ShareId) -> Result<()> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT item_id, user_id FROM shares WHERE id = $1 AND community_id = $2",
        )
        .bind(share.as_str())
        .bind(actor.community_id.as_str())
        .fetch_optional(self.taina.inner.db.reader())
        .await?;
        let (item, user) = row.ok_or_else(|| DomainError::not_found("share"))?;
        self.unshare(
            actor,
            &parse_id(&item, ItemId::parse)?,
            &parse_id(&user, UserId::parse)?,
        )
        .await
    }

    /// Whom an item is shared with.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn shares(&self, actor: &Actor, id: &ItemId) -> Result<Vec<Share>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        self.load(&mut conn, actor, id, ItemAction::Share, false)
            .await?;
        let rows: Vec<ShareRow> = sqlx::query_as(
            "SELECT id, item_id, user_id, access, created_at FROM shares WHERE item_id = $1 \
             ORDER BY created_at, user_id",
        )
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(share_from_row).collect()
    }

    /// Items shared directly with the actor (not in the trash), by name.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn shared_with_me(&self, actor: &Actor) -> Result<Vec<Item>> {
        let rows: Vec<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} JOIN shares s ON s.item_id = i.id \
             WHERE s.user_id = $1 AND i.community_id = $2 AND i.deleted_at IS NULL \
             ORDER BY i.sort_key LIMIT 10000"
        ))
        .bind(actor.user_id.as_str())
        .bind(actor.community_id.as_str())
        .fetch_all(self.taina.inner.db.reader())
        .await?;
        rows.into_iter()
            .map(|r| Ok(r.into_loaded()?.item))
            .collect()
    }
}

async fn load_share(conn: &mut sqlx::AnyConnection, id: &ItemId, with: &UserId) -> Result<Share> {
    let row: ShareRow = sqlx::query_as(
        "SELECT id, item_id, user_id, access, created_at FROM shares WHERE item_id = $1 AND user_id = $2",
    )
    .bind(id.as_str())
    .bind(with.as_str())
    .fetch_one(&mut *conn)
    .await?;
    share_from_row(row)
}

type ShareRow = (String, String, String, String, i64);

fn share_from_row((id, item, user, access, created_at): ShareRow) -> Result<Share> {
    Ok(Share {
        id: parse_id(&id, ShareId::parse)?,
        item_id: parse_id(&item, ItemId::parse)?,
        user_id: parse_id(&user, UserId::parse)?,
        access: ShareAccess::parse(&access)
            .ok_or_else(|| crate::Error::Corrupt(format!("stored share access {access:?}")))?,
        created_at: Timestamp::from_millis(created_at),
    })
}
