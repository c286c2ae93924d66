//! Appending a piece to a resumable upload at the offset it stands at (checked against its
//! checksum, if it carries one), and committing the upload as a file when its last byte arrives.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use taina_core::{Actor, Error as DomainError, Timestamp, UploadId};
use taina_ybira::access::ItemAction;
use taina_ybira::listing::ItemKind;
use taina_ybira::meter::{PieceEnd, PieceMeter};
use taina_ybira::mime::{content_extension, detect_mime};
use taina_ybira::name::normalize_name;
use tracing::instrument;

use super::{Appended, ResumableStatus, Row, StoredTarget};
use crate::Result;
use crate::ybira::upload::{AsPhoto, Staged, Target, UploadGuard, to_i64};
use crate::ybira::{Item, Location, OnConflict, Ybira};

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
        let mut piece = inner.blobs.open_piece(&temp, row.offset).await?;
        let mut hasher = sha256.map(|_| Sha256::new());
        let mut meter = PieceMeter::new(row.offset, row.length, sha256.is_some());
        // Only the request's body breaking off is a cut (what arrived is kept); a failure to write
        // it down keeps nothing of the piece, or the file would hold bytes that never arrived.
        let mut write_failed = false;
        let outcome: Result<()> = async {
            while let Some(chunk) = content.next().await {
                let chunk = chunk?;
                meter.on_chunk(chunk.len() as u64)?;
                if let Some(h) = hasher.as_mut() {
                    h.update(&chunk);
                }
                if let Err(e) = piece.write(chunk).await {
                    write_failed = true;
                    return Err(e);
                }
            }
            Ok(())
        }
        .await;
        let mismatch = match (sha256, hasher) {
            (Some(expected), Some(h)) if outcome.is_ok() => h.finalize().as_slice() != expected,
            _ => false,
        };
        let settled = meter.settle(match &outcome {
            Ok(()) => PieceEnd::Whole {
                checksum_ok: !mismatch,
            },
            Err(crate::Error::Io(_)) if !write_failed => PieceEnd::Cut,
            Err(_) => PieceEnd::Refused,
        });
        let new_offset = settled.offset;
        let stored = piece
            .finish(settled.progressed, new_offset - row.offset)
            .await?;
        let still_there = if settled.progressed {
            self.record_piece(id, row.offset, new_offset, stored.as_deref())
                .await?
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
        let mut row = row;
        row.pieces.extend(stored);
        row.offset = new_offset;
        if new_offset < row.length || row.target.held {
            return Ok(Appended::Partial(status));
        }
        self.finish_upload(actor, row, status).await
    }

    /// Stores a complete upload started with [`Ybira::create_held_resumable`] as `name` in
    /// `location` (replacing a file of that name, whose content is kept as a version, when
    /// `on_conflict` says so), through the same steps as any upload's last byte.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn complete_held(
        &self,
        actor: &Actor,
        id: &UploadId,
        location: &Location,
        name: &str,
        on_conflict: OnConflict,
    ) -> Result<Item> {
        let _busy = self.taina.inner.busy_uploads.take(id)?;
        let mut row = self.resumable_row(actor, id).await?;
        if !row.target.held {
            return Err(DomainError::conflict("this upload names its own destination").into());
        }
        if row.offset != row.length {
            return Err(DomainError::conflict(format!(
                "the upload is not complete: {} of {} bytes arrived",
                row.offset, row.length
            ))
            .into());
        }
        let name = normalize_name(name)?;
        // Everything that could refuse the destination is checked before the pieces are sealed:
        // a refused destination leaves the upload whole, to be moved elsewhere.
        {
            let mut conn = self.taina.inner.db.reader().acquire().await?;
            self.destination(&mut conn, actor, location).await?;
            if let Some(existing) = self.child_named(actor, location, &name).await? {
                if existing.kind == ItemKind::Folder {
                    return Err(
                        DomainError::conflict(format!("\"{name}\" is a folder there")).into(),
                    );
                }
                if on_conflict == OnConflict::Replace {
                    self.load(
                        &mut conn,
                        actor,
                        &existing.id,
                        ItemAction::WriteContent,
                        false,
                    )
                    .await?;
                }
            }
        }
        row.target = StoredTarget::new(location, name, on_conflict);
        let status = ResumableStatus {
            id: id.clone(),
            offset: row.offset,
            length: row.length,
        };
        match self.finish_upload(actor, row, status).await? {
            Appended::Finished { item, .. } => Ok(*item),
            Appended::Partial(_) => Err(crate::Error::Corrupt(format!(
                "upload {id} complete but not stored"
            ))),
        }
    }

    /// Seals a complete upload's pieces and commits it to its target.
    async fn finish_upload(
        &self,
        actor: &Actor,
        row: Row,
        status: ResumableStatus,
    ) -> Result<Appended> {
        let id = &status.id;
        let temp = taina_ybira::layout::temp_path(&actor.community_id, id);
        let pieces = row.pieces;
        let staged = self.seal(id, &temp, &pieces, &row.target.name).await?;
        let guard = UploadGuard::new(self.taina, &actor.community_id, id, temp);
        if staged.size != row.length {
            // The staged bytes are not what the upload recorded (pieces lost with a store that
            // was moved meanwhile): nothing partial is ever stored as the whole.
            guard.undo().await;
            return Err(crate::Error::Corrupt(format!(
                "upload {id}: {} bytes staged where {} were received; start it again",
                staged.size, row.length
            )));
        }
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

impl Ybira<'_> {
    /// Records a piece: the upload's new offset and, on object storage, the piece's object, in one
    /// update that applies only if the upload still stands where the piece began (another
    /// instance may have taken the same offset meanwhile: its piece counts, and this one goes).
    /// Says whether the upload is still there.
    async fn record_piece(
        &self,
        id: &UploadId,
        from: u64,
        to: u64,
        piece: Option<&str>,
    ) -> Result<bool> {
        let inner = &self.taina.inner;
        let mut tx = inner.db.begin().await?;
        let updated = sqlx::query(
            "UPDATE uploads SET upload_offset = $1, touched_at = $2, \
             pieces = CASE WHEN $3 = '' THEN pieces ELSE COALESCE(pieces, '') || $3 END \
             WHERE id = $4 AND upload_offset = $5",
        )
        .bind(to_i64(to))
        .bind(self.now().as_millis())
        .bind(piece.map(|p| format!("{p}\n")).unwrap_or_default())
        .bind(id.as_str())
        .bind(to_i64(from))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if updated.rows_affected() == 1 {
            return Ok(true);
        }
        if let Some(piece) = piece {
            inner.blobs.delete(piece).await?;
        }
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM uploads WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(inner.db.reader())
            .await?;
        if row.is_some() {
            return Err(DomainError::conflict(
                "another piece of this upload arrived meanwhile; ask where it stands and resume",
            )
            .into());
        }
        Ok(false)
    }

    /// The whole staged content, hashed and sniffed: on object storage its pieces are joined into
    /// the staged object first, then the upload lists none (so that a retried commit does not join
    /// them again) and they are removed.
    async fn seal(
        &self,
        id: &UploadId,
        temp: &str,
        pieces: &[String],
        name: &str,
    ) -> Result<Staged> {
        let inner = &self.taina.inner;
        let sealed = inner.blobs.seal(temp, pieces).await?;
        if !pieces.is_empty() {
            let mut tx = inner.db.begin().await?;
            sqlx::query("UPDATE uploads SET pieces = NULL WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            for piece in pieces {
                if let Err(e) = inner.blobs.delete(piece).await {
                    tracing::warn!(piece, error = %e, "could not remove a joined piece");
                }
            }
        }
        Ok(Staged {
            sha256: sealed.sha256,
            size: sealed.size,
            mime_type: detect_mime(&sealed.head, name),
            extension: content_extension(&sealed.head),
        })
    }
}
