//! A file's content: downloads (whole or a byte range), versions, and copies.

use std::ops::Range;

use bytes::Bytes;
use futures::stream::BoxStream;
use taina_core::{Actor, BlobId, Error as DomainError, ItemId, VersionId};
use taina_ybira::access::ItemAction;
use taina_ybira::listing::ItemKind;
use taina_ybira::name::normalize_name;
use taina_ybira::range::{ByteRange, resolve_range};
use tracing::instrument;

use super::rows::{VERSION_COLUMNS, VersionRow};
use super::tree::{free_name, reload};
use super::{Item, Loaded, Location, Version, Ybira, blobs};
use crate::Result;
use crate::db::parse_id;

/// A download: what is being sent, and the bytes.
pub struct Download {
    /// The file.
    pub item: Item,
    /// The bytes sent, as `start..end` of the file.
    pub range: Range<u64>,
    /// The whole file's size.
    pub total_size: u64,
    /// Its content type.
    pub mime_type: String,
    /// Its entity tag (the content's SHA-256 in quotes).
    pub etag: String,
    /// The bytes of `range`, streamed from storage.
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("item", &self.item.id)
            .field("range", &self.range)
            .field("total_size", &self.total_size)
            .field("mime_type", &self.mime_type)
            .field("etag", &self.etag)
            .finish_non_exhaustive()
    }
}

impl Ybira<'_> {
    async fn load_file(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &Actor,
        id: &ItemId,
        action: ItemAction,
    ) -> Result<Loaded> {
        let loaded = self.load(conn, actor, id, action, false).await?;
        if loaded.item.kind != ItemKind::File {
            return Err(DomainError::invalid("file_id", "is a folder").into());
        }
        Ok(loaded)
    }

    /// Streams a file, or the part of it `range` asks for.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn download(
        &self,
        actor: &Actor,
        id: &ItemId,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let loaded = self
            .load_file(&mut conn, actor, id, ItemAction::Read)
            .await?;
        drop(conn);
        self.stream(loaded, range).await
    }

    /// For a download to save: a short-lived URL that reads the file's content straight from object
    /// storage, when the configuration asks for it (`storage_presigned_downloads_from_bytes`) and
    /// the file is that large; `None` otherwise (stream it with [`Ybira::download`]). The front end
    /// says how the answer must be sent (`disposition`, `content_type`): the store sends them.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn presigned_download(
        &self,
        actor: &Actor,
        id: &ItemId,
        disposition: &str,
        content_type: &str,
    ) -> Result<Option<String>> {
        let inner = &self.taina.inner;
        let Some(from_bytes) = inner.config.storage_presigned_downloads_from_bytes else {
            return Ok(None);
        };
        let mut conn = inner.db.reader().acquire().await?;
        let loaded = self
            .load_file(&mut conn, actor, id, ItemAction::Read)
            .await?;
        drop(conn);
        if loaded.item.size_bytes < from_bytes {
            return Ok(None);
        }
        let (path, marked_missing) = self.content_path(&loaded).await?;
        if marked_missing {
            return Err(DomainError::not_found("file content").into());
        }
        inner
            .blobs
            .presigned_download(
                &path,
                self.now(),
                std::time::Duration::from_secs(crate::config::PRESIGNED_URL_SECS),
                disposition,
                content_type,
            )
            .await
    }

    /// Takes a reference to the content of a file the actor may read, for a message to keep as it
    /// is now (Guará's attachments), inside the caller's transaction, which holds the community's
    /// lock: the content then stays stored, and charged once, until [`Ybira::unpin_content`]. A
    /// rolled-back transaction takes the reference back with it.
    pub(crate) async fn pin_content(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &Actor,
        id: &ItemId,
    ) -> Result<(Item, BlobId)> {
        let loaded = self.load_file(conn, actor, id, ItemAction::Read).await?;
        let blob = loaded
            .blob_id
            .ok_or_else(|| crate::Error::Corrupt(format!("file {id} has no content")))?;
        if !blobs::add_reference(conn, &blob).await? {
            return Err(crate::Error::Corrupt(format!(
                "file {id} refers to a freed blob"
            )));
        }
        Ok((loaded.item, blob))
    }

    /// Drops a reference [`Ybira::pin_content`] took (the caller holds the community's lock): the
    /// last one frees the content.
    pub(crate) async fn unpin_content(
        &self,
        conn: &mut sqlx::AnyConnection,
        blob: &BlobId,
    ) -> Result<()> {
        blobs::release_reference(conn, blob, self.now()).await
    }

    /// Streams pinned content of `community` as `item` (what the caller granted by its own rule:
    /// Guará lets a conversation's participants download what was sent in it). The `item` tells
    /// the name, type and size to send it with; its content is the blob's, whatever the file
    /// holds now.
    pub(crate) async fn stream_pinned(
        &self,
        community: &taina_core::CommunityId,
        mut item: Item,
        blob: &BlobId,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        let row: Option<(String, Option<i64>, String, i64)> = sqlx::query_as(
            "SELECT path, missing_at, sha256, size_bytes FROM blobs \
             WHERE id = $1 AND community_id = $2",
        )
        .bind(blob.as_str())
        .bind(community.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        drop(conn);
        let Some((path, missing_at, sha256, size)) = row else {
            return Err(DomainError::not_found("attachment content").into());
        };
        item.etag = Some(super::rows::etag(&sha256));
        item.size_bytes = u64::try_from(size).unwrap_or(0);
        self.stream_blob(item, &path, missing_at.is_some(), range)
            .await
    }

    /// Streams a loaded file's content (or part of it).
    async fn stream(&self, loaded: Loaded, range: Option<ByteRange>) -> Result<Download> {
        let (path, marked_missing) = self.content_path(&loaded).await?;
        self.stream_blob(loaded.item, &path, marked_missing, range)
            .await
    }

    /// Where a loaded file's content is stored, and whether the integrity check marked it missing.
    async fn content_path(&self, loaded: &Loaded) -> Result<(String, bool)> {
        let id = &loaded.item.id;
        let blob = loaded
            .blob_id
            .as_ref()
            .ok_or_else(|| crate::Error::Corrupt(format!("file {id} has no content")))?;
        let (path, missing_at): (String, Option<i64>) =
            sqlx::query_as("SELECT path, missing_at FROM blobs WHERE id = $1")
                .bind(blob.as_str())
                .fetch_one(self.taina.inner.db.reader())
                .await?;
        Ok((path, missing_at.is_some()))
    }

    /// Streams the bytes at `path` (or part of them) as `item`.
    async fn stream_blob(
        &self,
        item: Item,
        path: &str,
        marked_missing: bool,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        if marked_missing {
            return Err(DomainError::not_found("file content").into());
        }
        let total_size = item.size_bytes;
        let range = resolve_range(range, total_size)?;
        let body = match self.taina.inner.blobs.read_range(path, range.clone()).await {
            Ok(body) => body,
            Err(crate::Error::Storage(object_store::Error::NotFound { .. })) => {
                tracing::error!(file = %item.id, path, "a file's content is missing from storage");
                return Err(DomainError::not_found("file content").into());
            }
            Err(e) => return Err(e),
        };
        Ok(Download {
            mime_type: item
                .mime_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            etag: item.etag.clone().unwrap_or_default(),
            item,
            range,
            total_size,
            body,
        })
    }

    /// A file's earlier contents, newest first.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn versions(&self, actor: &Actor, id: &ItemId) -> Result<Vec<Version>> {
        let mut conn = self.taina.inner.db.reader().acquire().await?;
        self.load_file(&mut conn, actor, id, ItemAction::Read)
            .await?;
        let rows: Vec<VersionRow> = sqlx::query_as(&format!(
            "SELECT {VERSION_COLUMNS} WHERE v.file_id = $1 ORDER BY v.replaced_at DESC, v.id DESC"
        ))
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(VersionRow::into_version).collect()
    }

    /// Makes an earlier content current again; the content it replaces becomes a version.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn restore_version(
        &self,
        actor: &Actor,
        id: &ItemId,
        version: &VersionId,
    ) -> Result<Item> {
        let mut tx = self.begin_in(&actor.community_id).await?;
        self.load_file(&mut tx, actor, id, ItemAction::WriteContent)
            .await?;
        let row: Option<(String, i64, String)> = sqlx::query_as(
            "DELETE FROM file_versions WHERE id = $1 AND file_id = $2 \
             RETURNING blob_id, size_bytes, mime_type",
        )
        .bind(version.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((blob, size, mime_type)) = row else {
            return Err(DomainError::not_found("version").into());
        };
        // The version's reference to its blob passes to the file.
        let blob = parse_id(&blob, BlobId::parse)?;
        self.swap_content(&mut tx, actor, id, &blob, size, &mime_type)
            .await?;
        super::enqueue_previews(&mut tx, id, &mime_type, self.now()).await?;
        let item = reload(&mut tx, id).await?;
        tx.commit().await?;
        self.publish_updated(&actor.community_id, &item);
        Ok(item)
    }

    /// Copies a file to `to` without copying bytes (the copy refers to the same content). The copy
    /// keeps the name, or takes `name`; a taken name gets a number.
    #[instrument(skip_all, fields(community = %actor.community_id))]
    pub async fn copy(
        &self,
        actor: &Actor,
        id: &ItemId,
        to: &Location,
        name: Option<&str>,
    ) -> Result<Item> {
        let name = name.map(normalize_name).transpose()?;
        let mut tx = self.begin_in(&actor.community_id).await?;
        let source = self.load_file(&mut tx, actor, id, ItemAction::Read).await?;
        let dest = self.destination(&mut tx, actor, to).await?;
        let blob = source
            .blob_id
            .ok_or_else(|| crate::Error::Corrupt(format!("file {id} has no content")))?;
        if !blobs::add_reference(&mut tx, &blob).await? {
            return Err(crate::Error::Corrupt(format!(
                "file {id} refers to a freed blob"
            )));
        }
        let name = free_name(
            &mut tx,
            &dest.parent_key,
            name.as_deref().unwrap_or(&source.item.name),
        )
        .await?;
        let copy = crate::random::new_id(ItemId::from_random);
        let content = super::tree::Content {
            blob: &blob,
            size_bytes: i64::try_from(source.item.size_bytes).unwrap_or(i64::MAX),
            mime_type: source.item.mime_type.as_deref(),
        };
        super::tree::insert_item(
            &mut tx,
            &copy,
            actor,
            &dest,
            &name,
            Some(content),
            self.now(),
        )
        .await?;
        if let Some(mime) = &source.item.mime_type {
            super::enqueue_previews(&mut tx, &copy, mime, self.now()).await?;
        }
        let item = reload(&mut tx, &copy).await?;
        tx.commit().await?;
        self.taina.inner.job_notify.notify_waiters();
        self.announce(&actor.community_id, &item, super::Change::Added);
        Ok(item)
    }
}
