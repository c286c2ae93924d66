//! Nextcloud's chunked uploads (v2): the client makes an upload folder of its own naming
//! (`MKCOL .../uploads/{user}/{transfer}` with the total length), sends chunks named by their
//! byte offset, then moves `.file` to where the file goes. Each is a resumable upload — the same
//! machinery tus uses: quota reserved up front, pieces kept across requests and instances,
//! expiry — whose destination is named at the end ([`Ybira::create_held_resumable`]).

use bytes::Bytes;
use futures::Stream;
use taina_core::{Actor, Error as DomainError, UploadId};
use tracing::instrument;

use crate::Result;
use crate::db::parse_id;
use crate::ybira::{Item, Location, OnConflict, ResumableStatus, Ybira};

/// Longest transfer id a client may give.
pub const TRANSFER_ID_MAX_CHARS: usize = 64;

/// A client's transfer id: 1 to [`TRANSFER_ID_MAX_CHARS`] letters, digits, `-`, `_` or `.`.
fn check_transfer(transfer: &str) -> Result<()> {
    let ok = !transfer.is_empty()
        && transfer.len() <= TRANSFER_ID_MAX_CHARS
        && transfer
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && transfer != "."
        && transfer != "..";
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid("transfer", "not a transfer id this server takes").into())
    }
}

impl Ybira<'_> {
    /// Starts a chunked upload of `length` bytes under the client's `transfer` id.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_start_chunked(
        &self,
        actor: &Actor,
        transfer: &str,
        length: u64,
    ) -> Result<()> {
        check_transfer(transfer)?;
        if self.dav_chunked(actor, transfer).await?.is_some() {
            return Err(DomainError::conflict("this upload exists already").into());
        }
        let status = self.create_held_resumable(actor, length).await?;
        let mut tx = self.taina.inner.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO dav_chunked_uploads (user_id, transfer_id, upload_id) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, transfer_id) DO NOTHING",
        )
        .bind(actor.user_id.as_str())
        .bind(transfer)
        .bind(status.id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if inserted.rows_affected() == 0 {
            // Another request made it meanwhile: this one's reservation goes.
            self.cancel_resumable(actor, &status.id).await?;
            return Err(DomainError::conflict("this upload exists already").into());
        }
        Ok(())
    }

    /// Where the actor's chunked upload `transfer` stands (`None`: there is none, or it expired).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_chunked(
        &self,
        actor: &Actor,
        transfer: &str,
    ) -> Result<Option<ResumableStatus>> {
        let Some(id) = self.chunked_upload_id(actor, transfer).await? else {
            return Ok(None);
        };
        match self.resumable_status(actor, &id).await {
            Ok(status) => Ok(Some(status)),
            Err(e) if e.kind() == taina_core::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Appends the chunk that begins at `offset` (it must be where the upload stands).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_chunk<S>(
        &self,
        actor: &Actor,
        transfer: &str,
        offset: u64,
        content: S,
    ) -> Result<ResumableStatus>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
    {
        let id = self.require_chunked(actor, transfer).await?;
        match self.append(actor, &id, offset, None, content).await? {
            crate::ybira::Appended::Partial(status)
            | crate::ybira::Appended::Finished { status, .. } => Ok(status),
        }
    }

    /// Stores a complete chunked upload as `name` in `location`, replacing a file of that name
    /// (its content kept as a version).
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_finish_chunked(
        &self,
        actor: &Actor,
        transfer: &str,
        location: &Location,
        name: &str,
    ) -> Result<Item> {
        let id = self.require_chunked(actor, transfer).await?;
        self.complete_held(actor, &id, location, name, OnConflict::Replace)
            .await
    }

    /// Cancels a chunked upload: its bytes and reservation go.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn dav_cancel_chunked(&self, actor: &Actor, transfer: &str) -> Result<()> {
        let id = self.require_chunked(actor, transfer).await?;
        self.cancel_resumable(actor, &id).await
    }

    async fn require_chunked(&self, actor: &Actor, transfer: &str) -> Result<UploadId> {
        self.chunked_upload_id(actor, transfer)
            .await?
            .ok_or_else(|| DomainError::not_found("upload").into())
    }

    async fn chunked_upload_id(&self, actor: &Actor, transfer: &str) -> Result<Option<UploadId>> {
        if check_transfer(transfer).is_err() {
            return Ok(None);
        }
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT upload_id FROM dav_chunked_uploads WHERE user_id = $1 AND transfer_id = $2",
        )
        .bind(actor.user_id.as_str())
        .bind(transfer)
        .fetch_optional(self.taina.inner.db.reader())
        .await?;
        row.map(|(id,)| parse_id(&id, UploadId::parse)).transpose()
    }
}
