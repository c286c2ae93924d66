//! Appending a piece to a resumable upload at the offset it stands at (checked against its
//! checksum, if it carries one), and committing the upload as a file when its last byte arrives.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use taina_core::{Actor, Error as DomainError, Timestamp, UploadId};
use taina_ybira::meter::{PieceEnd, PieceMeter};
use taina_ybira::mime::{SNIFF_BYTES, content_extension, detect_mime};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tracing::instrument;

use super::{Appended, ResumableStatus};
use crate::Result;
use crate::ybira::upload::{AsPhoto, Staged, Target, UploadGuard, to_i64};
use crate::ybira::{OnConflict, Ybira};

impl Ybira<'_> {
    /// Appends a piece at `offset` (which must be where the upload stands). With `sha256`, the
    /// piece must hash to it whole, or it is dropped. When the last byte arrives the file is stored.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn append<S>(
        &self,
        actor: &Actor,
        id: &UploadId,
        offset: u64,
        sha256: Option<[u8; 32]>,
        mut content: S,
    ) -> Result<Appended>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let inner = &self.taina.inner;
        let _busy = inner.busy_uploads.take(id)?;
        let row = self.resumable_row(actor, id).await?;
        if offset != row.offset {
            return Err(DomainError::conflict(format!(
                "the upload has {} bytes; send from there",
                row.offset
            ))
            .into());
        }
        let temp = taina_ybira::layout::temp_path(&actor.community_id, id);
        let path = inner.blobs.staging_file(&temp).await?;
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .await?;
        // Whatever a cut-off piece left past the recorded offset goes.
        file.set_len(row.offset).await?;
        file.seek(std::io::SeekFrom::End(0)).await?;
        let mut hasher = sha256.map(|_| Sha256::new());
        let mut meter = PieceMeter::new(row.offset, row.length, sha256.is_some());
        let outcome: Result<()> = async {
            while let Some(chunk) = content.next().await {
                let chunk = chunk?;
                meter.on_chunk(chunk.len() as u64)?;
                if let Some(h) = hasher.as_mut() {
                    h.update(&chunk);
                }
                file.write_all(&chunk).await?;
            }
            Ok(())
        }
        .await;
        file.flush().await?;
        let mismatch = match (sha256, hasher) {
            (Some(expected), Some(h)) if outcome.is_ok() => h.finalize().as_slice() != expected,
            _ => false,
        };
        let settled = meter.settle(match &outcome {
            Ok(()) => PieceEnd::Whole {
                checksum_ok: !mismatch,
            },
            Err(crate::Error::Io(_)) => PieceEnd::Cut,
            Err(_) => PieceEnd::Refused,
        });
        let new_offset = settled.offset;
        file.set_len(new_offset).await?;
        file.sync_all().await?;
        drop(file);
        let still_there = if settled.progressed {
            let mut tx = inner.db.begin().await?;
            let updated =
                sqlx::query("UPDATE uploads SET upload_offset = $1, touched_at = $2 WHERE id = $3")
                    .bind(to_i64(new_offset))
                    .bind(self.now().as_millis())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
            tx.commit().await?;
            updated.rows_affected() == 1
        } else {
            let row: Option<(String,)> = sqlx::query_as("SELECT id FROM uploads WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(inner.db.reader())
                .await?;
            row.is_some()
        };
        if !still_there {
            return Err(DomainError::not_found("upload").into());
        }
        outcome?;
        if mismatch {
            return Err(DomainError::invalid(
                "upload_checksum",
                "the piece does not match its checksum; send it again",
            )
            .into());
        }
        let status = ResumableStatus {
            id: id.clone(),
            offset: new_offset,
            length: row.length,
        };
        if new_offset < row.length {
            return Ok(Appended::Partial(status));
        }
        let staged = hash_staged(path, &row.target.name).await?;
        let guard = UploadGuard::new(self.taina, &actor.community_id, id, temp);
        // Content the library does not take is refused before anything is stored or replaced.
        if row.target.photo
            && let Err(e) = taina_jaci::media::library_kind(&staged.mime_type)
        {
            guard.undo().await;
            return Err(e.into());
        }
        let file_time = row.target.file_time.map(Timestamp::from_millis);
        let as_photo = row.target.photo.then_some(AsPhoto {
            client_file_time: file_time,
        });
        let item = self
            .commit(
                guard,
                staged,
                actor,
                Target::New {
                    location: row.target.location()?,
                    name: row.target.name.clone(),
                    on_conflict: if row.target.replace {
                        OnConflict::Replace
                    } else {
                        OnConflict::Rename
                    },
                },
                as_photo,
            )
            .await?;
        let photo = if row.target.photo {
            let photo = self.taina.jaci().adopt(actor, &item, file_time).await?;
            Some(Box::new(photo))
        } else {
            None
        };
        Ok(Appended::Finished {
            status,
            item: Box::new(item),
            photo,
        })
    }
}

/// Hashes and sniffs a complete staged file (read once, off the async threads' backs).
async fn hash_staged(path: std::path::PathBuf, name: &str) -> Result<Staged> {
    let mut file = tokio::fs::File::open(&path).await?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut size: u64 = 0;
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(n);
            head.extend_from_slice(&buffer[..take]);
        }
        size += n as u64;
        let block = buffer[..n].to_vec();
        hasher = tokio::task::spawn_blocking(move || {
            hasher.update(&block);
            hasher
        })
        .await
        .map_err(std::io::Error::other)?;
    }
    Ok(Staged {
        sha256: hex::encode(hasher.finalize()),
        size,
        mime_type: detect_mime(&head, name),
        extension: content_extension(&head),
    })
}
