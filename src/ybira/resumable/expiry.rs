//! Expiry: resumable uploads past their time released (all, or one person's), each checked
//! again under the community's lock so that a piece arriving meanwhile keeps it.

use taina_core::{CommunityId, UploadId, UserId};
use taina_ybira::upload::resumable_expiry_cutoffs;

use crate::db::parse_id;
use crate::ybira::blobs;
use crate::{Result, Taina};

/// Releases the resumable uploads that have expired (all, or one person's): their reservations
/// given back and their staged bytes removed. Answers how many.
pub(crate) async fn release_expired(
    taina: &Taina,
    whose: Option<(&CommunityId, &UserId)>,
) -> Result<u64> {
    let inner = &taina.inner;
    let (opened_before, idle_before) =
        resumable_expiry_cutoffs(inner.clock.now(), &inner.config.resumable_limits());
    let sql = format!(
        "SELECT id, community_id FROM uploads WHERE upload_length IS NOT NULL \
         AND (created_at <= $1 OR touched_at <= $2){}",
        if whose.is_some() {
            " AND community_id = $3 AND user_id = $4"
        } else {
            ""
        }
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql)
        .bind(opened_before.as_millis())
        .bind(idle_before.as_millis());
    if let Some((community, user)) = whose {
        query = query.bind(community.as_str()).bind(user.as_str());
    }
    let expired = query.fetch_all(inner.db.reader()).await?;
    let mut released = 0;
    for (upload, community) in expired {
        let upload = parse_id(&upload, UploadId::parse)?;
        let community = parse_id(&community, CommunityId::parse)?;
        if release_if_expired(taina, &community, &upload).await? {
            released += 1;
        }
    }
    Ok(released)
}

/// Releases one resumable upload if it has expired now (checked again under the community's
/// lock: a piece that arrived meanwhile keeps it). Says whether it did.
pub(super) async fn release_if_expired(
    taina: &Taina,
    community: &CommunityId,
    upload: &UploadId,
) -> Result<bool> {
    let inner = &taina.inner;
    let (opened_before, idle_before) =
        resumable_expiry_cutoffs(inner.clock.now(), &inner.config.resumable_limits());
    let mut tx = inner.db.begin().await?;
    blobs::lock_community(&mut tx, community).await?;
    let reserved: Option<(i64,)> = sqlx::query_as(
        "DELETE FROM uploads WHERE id = $1 AND upload_length IS NOT NULL \
         AND (created_at <= $2 OR touched_at <= $3) RETURNING reserved_bytes",
    )
    .bind(upload.as_str())
    .bind(opened_before.as_millis())
    .bind(idle_before.as_millis())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((bytes,)) = reserved {
        blobs::adjust_used(&mut tx, community, -bytes).await?;
    }
    tx.commit().await?;
    if reserved.is_none() {
        return Ok(false);
    }
    let staged = taina_ybira::layout::temp_path(community, upload);
    if let Err(e) = inner.blobs.remove_staged(&staged).await {
        tracing::warn!(%upload, error = %e, "could not remove an expired upload's bytes");
    }
    Ok(true)
}
