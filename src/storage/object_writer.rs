//! Streaming one object into an object store with bounded memory: a single request when it is
//! small, a multipart upload when it is large, always aborted when it is not completed.
//!
//! Written here rather than with `object_store::buffered::BufWriter`: that writer cannot abort an
//! upload whose completion failed (it panics when asked), and neither it nor `WriteMultipart`
//! aborts when dropped, so a cut-off upload would leave its parts in the bucket.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path as BlobPath;
use object_store::{MultipartUpload, ObjectStore, PutPayload, PutPayloadMut, UploadPart};
use tokio::task::JoinSet;

use crate::Result;

/// The size of each part of a multipart upload (S3's smallest part is 5 MiB, all but the last),
/// and below which an object goes up in one request.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// How many parts of one upload may be in flight at once. With [`PART_BYTES`], an upload holds at
/// most about 24 MiB: the parts in flight and the one being filled.
pub const PARTS_IN_FLIGHT: usize = 2;

/// One object being written. [`ObjectWriter::finish`] makes it appear whole; dropped (or
/// [`ObjectWriter::abort`]ed) before that, nothing of it remains in the store.
#[derive(Debug)]
pub struct ObjectWriter {
    store: Arc<dyn ObjectStore>,
    path: BlobPath,
    /// The part being filled.
    buffer: PutPayloadMut,
    /// The multipart upload, once more than a part arrived.
    upload: Option<Box<dyn MultipartUpload>>,
    /// Parts being sent.
    in_flight: JoinSet<object_store::Result<()>>,
}

impl ObjectWriter {
    pub(super) fn new(store: Arc<dyn ObjectStore>, path: BlobPath) -> ObjectWriter {
        ObjectWriter {
            store,
            path,
            buffer: PutPayloadMut::new(),
            upload: None,
            in_flight: JoinSet::new(),
        }
    }

    /// Adds bytes; sends a part when one is full (waiting while [`PARTS_IN_FLIGHT`] are on their
    /// way).
    pub async fn put(&mut self, bytes: Bytes) -> Result<()> {
        self.buffer.push(bytes);
        if self.buffer.content_length() >= PART_BYTES {
            let part = std::mem::take(&mut self.buffer).freeze();
            self.send_part(part).await?;
        }
        Ok(())
    }

    async fn send_part(&mut self, part: PutPayload) -> Result<()> {
        while self.in_flight.len() >= PARTS_IN_FLIGHT {
            self.wait_one().await?;
        }
        let upload = match &mut self.upload {
            Some(upload) => upload,
            None => self
                .upload
                .insert(self.store.put_multipart(&self.path).await?),
        };
        let sending: UploadPart = upload.put_part(part);
        self.in_flight.spawn(sending);
        Ok(())
    }

    async fn wait_one(&mut self) -> Result<()> {
        if let Some(done) = self.in_flight.join_next().await {
            done.map_err(std::io::Error::other)??;
        }
        Ok(())
    }

    /// Sends what is left and makes the object appear whole. On failure nothing of it remains.
    pub async fn finish(mut self) -> Result<()> {
        let result = self.try_finish().await;
        if result.is_err() {
            self.abort().await;
        }
        result
    }

    async fn try_finish(&mut self) -> Result<()> {
        let rest = std::mem::take(&mut self.buffer).freeze();
        if self.upload.is_none() {
            self.store.put(&self.path, rest).await?;
            return Ok(());
        }
        if rest.content_length() > 0 {
            self.send_part(rest).await?;
        }
        while !self.in_flight.is_empty() {
            self.wait_one().await?;
        }
        if let Some(upload) = &mut self.upload {
            upload.complete().await?;
            self.upload = None;
        }
        Ok(())
    }

    /// Gives the object up: parts already sent are removed from the store.
    pub async fn abort(&mut self) {
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
        if let Some(mut upload) = self.upload.take()
            && let Err(e) = upload.abort().await
        {
            tracing::warn!(path = %self.path, error = %e, "could not abort a multipart upload");
        }
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        let Some(mut upload) = self.upload.take() else {
            return;
        };
        self.in_flight.abort_all();
        let path = self.path.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = upload.abort().await {
                    tracing::warn!(%path, error = %e, "could not abort a multipart upload");
                }
            });
        }
    }
}
