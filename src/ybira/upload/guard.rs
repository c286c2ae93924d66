//! The guard over an unfinished upload: dropped (a cancelled upload) or told to, it deletes the
//! staged and moved bytes and gives the reservation back; and releasing an upload's reservation.

use taina_core::{CommunityId, Error as DomainError, UploadId};

use crate::ybira::blobs;
use crate::{Result, Taina};

/// Undoes an unfinished upload: deletes staged and moved bytes and releases the reservation. Runs
/// when dropped (a cancelled upload), on a spawned task.
pub(crate) struct UploadGuard {
    pub(super) taina: Taina,
    pub(super) community: CommunityId,
    pub(super) upload: UploadId,
    pub(super) temp: String,
    pub(super) moved_to: Option<String>,
    pub(super) armed: bool,
}

impl UploadGuard {
    /// A guard over an upload already recorded, staged at `temp`.
    pub(crate) fn new(
        taina: &Taina,
        community: &CommunityId,
        upload: &UploadId,
        temp: String,
    ) -> Self {
        UploadGuard {
            taina: taina.clone(),
            community: community.clone(),
            upload: upload.clone(),
            temp,
            moved_to: None,
            armed: true,
        }
    }

    pub(crate) async fn undo(mut self) {
        self.armed = false;
        undo(
            &self.taina,
            &self.community,
            &self.upload,
            &self.temp,
            self.moved_to.as_deref(),
        )
        .await;
    }

    pub(super) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (taina, community, upload, temp, moved) = (
            self.taina.clone(),
            self.community.clone(),
            self.upload.clone(),
            self.temp.clone(),
            self.moved_to.take(),
        );
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                undo(&taina, &community, &upload, &temp, moved.as_deref()).await;
            });
        }
    }
}

async fn undo(
    taina: &Taina,
    community: &CommunityId,
    upload: &UploadId,
    temp: &str,
    moved: Option<&str>,
) {
    // A simulated kill (tests) leaves everything as a real one would, for start-up recovery.
    #[cfg(feature = "testing")]
    if taina.inner.faults.crashed() {
        return;
    }
    let blobs = &taina.inner.blobs;
    for path in std::iter::once(temp).chain(moved) {
        // A commit that landed just as the upload was cancelled owns its bytes: keep them.
        match blob_row_names(taina, path).await {
            Ok(false) => {}
            Ok(true) => continue,
            Err(e) => {
                tracing::warn!(path, error = %e, "could not check a failed upload's bytes");
                continue;
            }
        }
        let removed = if path == temp {
            blobs.remove_staged(path).await
        } else {
            blobs.delete(path).await
        };
        if let Err(e) = removed {
            tracing::warn!(path, error = %e, "could not remove the bytes of a failed upload");
        }
    }
    if let Err(e) = release_upload(taina, community, upload, None).await {
        tracing::warn!(%upload, error = %e, "could not release a failed upload's reservation");
    }
}

/// Whether a blob row names `path`.
async fn blob_row_names(taina: &Taina, path: &str) -> Result<bool> {
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM blobs WHERE path = $1")
        .bind(path)
        .fetch_optional(taina.inner.db.reader())
        .await?;
    Ok(row.is_some())
}

/// Gives an upload's reservation back and forgets it (only if not touched since `stale_before`,
/// when given). Says whether it did.
pub(crate) async fn release_upload(
    taina: &Taina,
    community: &CommunityId,
    upload: &UploadId,
    stale_before: Option<taina_core::Timestamp>,
) -> Result<bool> {
    let mut tx = taina.inner.db.begin().await?;
    blobs::lock_community(&mut tx, community).await?;
    let reserved: Option<(i64,)> = sqlx::query_as(
        "DELETE FROM uploads WHERE id = $1 AND touched_at <= $2 RETURNING reserved_bytes",
    )
    .bind(upload.as_str())
    .bind(stale_before.map_or(i64::MAX, |t| t.as_millis()))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((bytes,)) = reserved {
        blobs::adjust_used(&mut tx, community, -bytes).await?;
    }
    tx.commit().await?;
    Ok(reserved.is_some())
}

/// The error for an upload whose reservation was released while it was idle.
pub(super) fn upload_expired() -> crate::Error {
    DomainError::conflict("the upload was idle for too long and was cancelled; start it again")
        .into()
}
