//! Steps 1 and 2 of an upload: the `uploads` row with its reservation, then the bytes streamed to
//! the staging file while hashed and sniffed. What each chunk needs (the per-file limit and the
//! declared size checked, the reservation topped up under the community row lock, the upload kept
//! alive) is decided by the pure `taina_ybira::meter::StreamMeter`; this module does it.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use taina_core::{Actor, CommunityId, UploadId};
use taina_ybira::meter::{OnChunk, StreamMeter};
use taina_ybira::mime::{SNIFF_BYTES, content_extension, detect_mime};

use super::guard::upload_expired;
use super::{Staged, UploadGuard, to_i64};
use crate::Result;
use crate::ybira::{Ybira, blobs};

impl Ybira<'_> {
    /// Steps 1 and 2: the uploads row and the staged, hashed bytes.
    pub(super) async fn stage<S>(
        &self,
        actor: &Actor,
        name: &str,
        declared: Option<u64>,
        mut content: S,
    ) -> Result<(UploadGuard, Staged)>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let inner = &self.taina.inner;
        let mut meter = StreamMeter::open(inner.config.max_upload_bytes, declared, self.now())?;
        let community = actor.community_id.clone();
        let upload = crate::random::new_id(UploadId::from_random);
        let temp = taina_ybira::layout::temp_path(&community, &upload);
        let reserved = meter.reservation();
        {
            let now = self.now().as_millis();
            let mut tx = inner.db.begin().await?;
            blobs::reserve(&mut tx, &community, to_i64(reserved)).await?;
            sqlx::query(
                "INSERT INTO uploads (id, community_id, user_id, reserved_bytes, created_at, touched_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(upload.as_str())
            .bind(community.as_str())
            .bind(actor.user_id.as_str())
            .bind(to_i64(reserved))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        let guard = UploadGuard {
            taina: self.taina.clone(),
            community: community.clone(),
            upload: upload.clone(),
            temp: temp.clone(),
            moved_to: None,
            armed: true,
        };
        let result: Result<Staged> = async {
            let mut out = inner.blobs.stage(&temp).await?;
            let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
            while let Some(chunk) = content.next().await {
                let chunk = chunk?;
                match meter.on_chunk(chunk.len() as u64, self.now()) {
                    OnChunk::Write => {}
                    OnChunk::TopUp(top_up) => {
                        let amount = self.top_up(&community, &upload, top_up).await?;
                        meter.reserved(amount, self.now());
                    }
                    OnChunk::Touch => {
                        self.touch(&upload).await?;
                        meter.touched(self.now());
                    }
                    OnChunk::Reject(refusal) => return Err(refusal.into()),
                }
                if head.len() < SNIFF_BYTES {
                    let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                out.write(&chunk).await?;
            }
            let size = meter.finish()?;
            let sha256 = out.finish().await?;
            Ok(Staged {
                sha256,
                size,
                mime_type: detect_mime(&head, name),
                extension: content_extension(&head),
            })
        }
        .await;
        match result {
            Ok(staged) => {
                #[cfg(feature = "testing")]
                if let Err(e) = inner.faults.check("ybira.upload.after_staging") {
                    guard.undo().await;
                    return Err(e);
                }
                Ok((guard, staged))
            }
            Err(e) => {
                guard.undo().await;
                Err(e)
            }
        }
    }

    /// Reserves more quota for a streaming upload: the preferred amount, else the least needed.
    async fn top_up(
        &self,
        community: &CommunityId,
        upload: &UploadId,
        top_up: taina_ybira::upload::TopUp,
    ) -> Result<u64> {
        let mut tx = self.taina.inner.db.begin().await?;
        let quota = blobs::lock_quota(&mut tx, community).await?;
        let amount = if quota.reserve(to_i64(top_up.preferred)).is_ok() {
            top_up.preferred
        } else {
            quota.reserve(to_i64(top_up.minimum))?;
            top_up.minimum
        };
        self.record_progress(&mut tx, upload, amount).await?;
        blobs::adjust_used(&mut tx, community, to_i64(amount)).await?;
        tx.commit().await?;
        Ok(amount)
    }

    async fn touch(&self, upload: &UploadId) -> Result<()> {
        let mut tx = self.taina.inner.db.begin().await?;
        self.record_progress(&mut tx, upload, 0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks an upload alive now, with `reserved` more bytes reserved; fails if upkeep already took
    /// it for crashed and released it.
    async fn record_progress(
        &self,
        conn: &mut sqlx::AnyConnection,
        upload: &UploadId,
        reserved: u64,
    ) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE uploads SET reserved_bytes = reserved_bytes + $1, touched_at = $2 WHERE id = $3",
        )
        .bind(to_i64(reserved))
        .bind(self.now().as_millis())
        .bind(upload.as_str())
        .execute(&mut *conn)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(upload_expired());
        }
        Ok(())
    }
}
