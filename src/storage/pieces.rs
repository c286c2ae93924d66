//! The staged bytes of a resumable upload, grown piece by piece.
//!
//! On local storage the staging file grows in place: each piece is appended at the offset the
//! upload stands at (whatever a cut-off piece left past it is cut first). Object storage cannot
//! append, so each piece is an object of its own ([`taina_ybira::layout::piece_path`], whose nonce
//! keeps two instances that race on one offset apart); the caller records the piece's name with
//! the upload's new offset in one conditional update, so that only the winner's piece counts, and
//! [`BlobStore::seal`] joins the recorded pieces into the staged object when the last byte arrived.

use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use taina_ybira::mime::SNIFF_BYTES;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::object_writer::ObjectWriter;
use super::{BlobStore, Kind};
use crate::Result;

/// One piece being written.
#[derive(Debug)]
pub struct PieceWriter {
    sink: PieceSink,
    /// Where the upload stood when the piece began.
    offset: u64,
}

#[derive(Debug)]
enum PieceSink {
    File(tokio::fs::File),
    Object { writer: ObjectWriter, path: String },
}

/// A resumable upload's staged content, whole: its SHA-256 (lower-case hex), its size, and its
/// first bytes (to tell its type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The first [`SNIFF_BYTES`] bytes (fewer if the content is shorter).
    pub head: Vec<u8>,
}

impl BlobStore {
    /// Opens the next piece of the resumable upload staged at `staged`, which stands at `offset`.
    pub async fn open_piece(&self, staged: &str, offset: u64) -> Result<PieceWriter> {
        let sink = match &self.kind {
            Kind::Local { root } => {
                let path = root.join(object_store::path::Path::from(staged).as_ref());
                let mut file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .await?;
                // Whatever a cut-off piece left past the recorded offset goes.
                file.set_len(offset).await?;
                file.seek(std::io::SeekFrom::End(0)).await?;
                PieceSink::File(file)
            }
            Kind::S3 { .. } => {
                let nonce = crate::random::new_id(taina_core::UploadId::from_random);
                let path = taina_ybira::layout::piece_path(staged, offset, nonce.as_str());
                PieceSink::Object {
                    writer: self.writer(&path),
                    path,
                }
            }
        };
        Ok(PieceWriter { sink, offset })
    }

    /// Joins a resumable upload's recorded `pieces` (in order) into its staged object and hashes
    /// it; with no pieces (local storage, or sealed before), hashes the staged object as it is.
    /// The caller removes the pieces once it recorded that they are joined.
    pub async fn seal(&self, staged: &str, pieces: &[String]) -> Result<Sealed> {
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        if pieces.is_empty() {
            let size = self.size(staged).await?.ok_or_else(|| {
                crate::Error::Corrupt(format!("the staged upload {staged} is gone"))
            })?;
            let mut body = self.read_range(staged, 0..size).await?;
            let mut hasher = Hasher::default();
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                keep_head(&mut head, &chunk);
                hasher.update(chunk).await?;
            }
            return Ok(Sealed {
                sha256: hasher.finish().await?,
                size,
                head,
            });
        }
        let mut out = self.stage(staged).await?;
        for piece in pieces {
            let size = self.size(piece).await?.ok_or_else(|| {
                crate::Error::Corrupt(format!("a piece of the staged upload {staged} is gone"))
            })?;
            let mut body = self.read_range(piece, 0..size).await?;
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                keep_head(&mut head, &chunk);
                out.write(&chunk).await?;
            }
        }
        let size = out.written();
        let sha256 = out.finish().await?;
        Ok(Sealed { sha256, size, head })
    }

    /// Removes what a resumable upload staged: its staged object and any pieces.
    pub async fn remove_staged(&self, staged: &str) -> Result<()> {
        self.delete(staged).await?;
        if !self.is_local() {
            self.delete_prefix(&format!("{staged}{}", taina_ybira::layout::PIECES_SUFFIX))
                .await?;
        }
        Ok(())
    }
}

impl PieceWriter {
    /// Adds a chunk to the piece.
    pub async fn write(&mut self, chunk: Bytes) -> Result<()> {
        match &mut self.sink {
            PieceSink::File(file) => file.write_all(&chunk).await?,
            PieceSink::Object { writer, .. } => writer.put(chunk).await?,
        }
        Ok(())
    }

    /// Ends the piece. Kept, its `written` bytes stay: made durable (the file synced) or stored
    /// (the piece's object, whose path is returned for the caller to record). Not kept, none of it
    /// remains.
    pub async fn finish(self, keep: bool, written: u64) -> Result<Option<String>> {
        match self.sink {
            PieceSink::File(file) => {
                file.set_len(self.offset + if keep { written } else { 0 })
                    .await?;
                file.sync_all().await?;
                Ok(None)
            }
            PieceSink::Object { mut writer, path } => {
                if keep && written > 0 {
                    writer.finish().await?;
                    Ok(Some(path))
                } else {
                    writer.abort().await;
                    Ok(None)
                }
            }
        }
    }
}

/// Keeps the first [`SNIFF_BYTES`] bytes of a stream.
fn keep_head(head: &mut Vec<u8>, chunk: &[u8]) {
    if head.len() < SNIFF_BYTES {
        let take = (SNIFF_BYTES - head.len()).min(chunk.len());
        head.extend_from_slice(&chunk[..take]);
    }
}

/// SHA-256 on the blocking pool, a block at a time, so that reading goes on while it hashes.
#[derive(Default)]
struct Hasher {
    hasher: Option<Sha256>,
    running: Option<tokio::task::JoinHandle<Sha256>>,
}

impl Hasher {
    async fn take(&mut self) -> Result<Sha256> {
        Ok(match self.running.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => self.hasher.take().unwrap_or_default(),
        })
    }

    async fn update(&mut self, chunk: Bytes) -> Result<()> {
        let mut hasher = self.take().await?;
        self.running = Some(tokio::task::spawn_blocking(move || {
            hasher.update(&chunk);
            hasher
        }));
        Ok(())
    }

    async fn finish(mut self) -> Result<String> {
        Ok(hex::encode(self.take().await?.finalize()))
    }
}
