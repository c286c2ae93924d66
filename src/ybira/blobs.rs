//! Stored content and the community's storage use, inside the caller's transaction.
//!
//! The community's `storage_used_bytes` is, at every commit, the sum of its blobs' sizes plus the
//! reservations of its uploads in flight. Each blob is charged once, however many files and versions
//! refer to it; it is freed when its last reference goes, its bytes removed by a durable job.

use sqlx::AnyConnection;
use taina_core::quota::Quota;
use taina_core::{BlobId, CommunityId, Timestamp};

use crate::jobs::{Job, NewJob, enqueue};
use crate::{Error, Result};

/// Takes the community's row lock: on PostgreSQL every Ybira change in a community takes it first,
/// so that changes to one community's tree, blobs and quota apply one at a time, always locking in
/// the same order (community, then rows). SQLite has a single writer anyway.
pub(crate) async fn lock_community(
    conn: &mut AnyConnection,
    community: &CommunityId,
) -> Result<()> {
    sqlx::query("UPDATE communities SET updated_at = updated_at WHERE id = $1")
        .bind(community.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes the community's row lock and reads its quota.
pub(crate) async fn lock_quota(conn: &mut AnyConnection, community: &CommunityId) -> Result<Quota> {
    lock_community(conn, community).await?;
    let (used_bytes, quota_bytes): (i64, i64) = sqlx::query_as(
        "SELECT storage_used_bytes, storage_quota_bytes FROM communities WHERE id = $1",
    )
    .bind(community.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Quota {
        used_bytes,
        quota_bytes,
    })
}

/// Reserves `bytes` of the community's quota, or fails with quota exceeded.
pub(crate) async fn reserve(
    conn: &mut AnyConnection,
    community: &CommunityId,
    bytes: i64,
) -> Result<()> {
    let after = lock_quota(conn, community).await?.reserve(bytes)?;
    set_used(conn, community, after).await
}

/// Changes the community's use by `delta` bytes (releases and charges already decided).
pub(crate) async fn adjust_used(
    conn: &mut AnyConnection,
    community: &CommunityId,
    delta: i64,
) -> Result<()> {
    if delta != 0 {
        sqlx::query(
            "UPDATE communities SET storage_used_bytes = storage_used_bytes + $1 WHERE id = $2",
        )
        .bind(delta)
        .bind(community.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn set_used(conn: &mut AnyConnection, community: &CommunityId, used: i64) -> Result<()> {
    sqlx::query("UPDATE communities SET storage_used_bytes = $1 WHERE id = $2")
        .bind(used)
        .bind(community.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A blob already holding some content.
pub(crate) struct Existing {
    pub(crate) id: BlobId,
    pub(crate) path: String,
    /// The integrity check found its bytes gone; an upload of the same content brings them back.
    pub(crate) missing: bool,
}

/// The blob already holding this content in the community, if any.
pub(crate) async fn find_by_hash(
    conn: &mut AnyConnection,
    community: &CommunityId,
    sha256: &str,
) -> Result<Option<Existing>> {
    let row: Option<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, path, missing_at FROM blobs WHERE community_id = $1 AND sha256 = $2 \
         AND ref_count > 0",
    )
    .bind(community.as_str())
    .bind(sha256)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(id, path, missing_at)| {
        Ok(Existing {
            id: crate::db::parse_id(&id, BlobId::parse)?,
            path,
            missing: missing_at.is_some(),
        })
    })
    .transpose()
}

/// Marks a missing blob's bytes as back in place.
pub(crate) async fn mark_found(conn: &mut AnyConnection, blob: &BlobId) -> Result<()> {
    sqlx::query("UPDATE blobs SET missing_at = NULL WHERE id = $1")
        .bind(blob.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Adds a reference to a blob; `false` when it is gone (its last reference was purged meanwhile).
pub(crate) async fn add_reference(conn: &mut AnyConnection, blob: &BlobId) -> Result<bool> {
    let done =
        sqlx::query("UPDATE blobs SET ref_count = ref_count + 1 WHERE id = $1 AND ref_count > 0")
            .bind(blob.as_str())
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// A blob to record.
pub(crate) struct NewBlob<'a> {
    pub(crate) id: &'a BlobId,
    pub(crate) community: &'a CommunityId,
    pub(crate) sha256: &'a str,
    pub(crate) size_bytes: i64,
    pub(crate) mime_type: &'a str,
    pub(crate) path: &'a str,
}

/// Records a new blob with one reference. Fails with a unique violation when the same content was
/// stored concurrently (the caller retries as a duplicate).
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    blob: NewBlob<'_>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO blobs (id, community_id, sha256, size_bytes, mime_type, path, ref_count, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
    )
    .bind(blob.id.as_str())
    .bind(blob.community.as_str())
    .bind(blob.sha256)
    .bind(blob.size_bytes)
    .bind(blob.mime_type)
    .bind(blob.path)
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Drops one reference to a blob. The last one deletes its row, frees its size from the quota and
/// enqueues the removal of its bytes.
pub(crate) async fn release_reference(
    conn: &mut AnyConnection,
    blob: &BlobId,
    now: Timestamp,
) -> Result<()> {
    let (community, refs, size, path): (String, i64, i64, String) = sqlx::query_as(
        "UPDATE blobs SET ref_count = ref_count - 1 WHERE id = $1 \
         RETURNING community_id, ref_count, size_bytes, path",
    )
    .bind(blob.as_str())
    .fetch_one(&mut *conn)
    .await?;
    if refs > 0 {
        return Ok(());
    }
    if refs < 0 {
        return Err(Error::Corrupt(format!(
            "blob {blob} has a negative reference count"
        )));
    }
    sqlx::query("DELETE FROM blobs WHERE id = $1")
        .bind(blob.as_str())
        .execute(&mut *conn)
        .await?;
    let community = crate::db::parse_id(&community, CommunityId::parse)?;
    adjust_used(conn, &community, -size).await?;
    enqueue(conn, NewJob::now(Job::DeleteBlob { path }, now), now).await
}
