//! Writing an upload's bytes to staging while hashing them: to a file on local storage, to a
//! (multipart, when large) upload on object storage.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::object_writer::ObjectWriter;
use crate::Result;

/// Bytes gathered before each write, so that small chunks make few system calls or requests.
pub(super) const STAGING_BUFFER: usize = 1024 * 1024;

/// Where staged bytes go.
pub(super) enum Sink {
    /// A local file, written on the blocking pool.
    File(Option<std::fs::File>),
    /// An object store upload: one request when small, multipart when large.
    Object(Option<ObjectWriter>),
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::File(_) => f.write_str("Sink::File"),
            Sink::Object(_) => f.write_str("Sink::Object"),
        }
    }
}

/// Staged bytes that hash (SHA-256) as they are written. Chunks are gathered into 1 MiB blocks;
/// each block is hashed on the blocking pool while it is written (a file write on the blocking
/// pool too; an [`ObjectWriter`], which sends parts of a multipart upload), so that
/// receiving, hashing and writing overlap. [`StagingWriter::finish`] writes the rest, makes the
/// bytes durable (a file synced to disk; an upload completed) and returns the content's SHA-256.
///
/// Dropped unfinished, an object store upload is aborted (its parts are removed, see
/// [`ObjectWriter`]); a local file is left for the caller, who removes the staging path.
#[derive(Debug)]
pub struct StagingWriter {
    sink: Sink,
    /// The hasher, when no hashing is in flight.
    hasher: Option<Sha256>,
    /// The block being filled.
    block: Vec<u8>,
    /// The file write in flight; it hands the file back.
    writing: Option<tokio::task::JoinHandle<std::io::Result<std::fs::File>>>,
    /// The hashing in flight; it hands the hasher back.
    hashing: Option<tokio::task::JoinHandle<Sha256>>,
    /// Bytes written so far.
    written: u64,
}

impl StagingWriter {
    pub(super) fn new(sink: Sink) -> StagingWriter {
        StagingWriter {
            sink,
            hasher: Some(Sha256::new()),
            block: Vec::with_capacity(STAGING_BUFFER),
            writing: None,
            hashing: None,
            written: 0,
        }
    }

    /// Adds a chunk, handing a block over when one is full.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.block.extend_from_slice(chunk);
        self.written += chunk.len() as u64;
        if self.block.len() >= STAGING_BUFFER {
            self.hand_over_block().await?;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Waits for the previous block, then starts hashing and writing the filled one.
    async fn hand_over_block(&mut self) -> Result<()> {
        let mut hasher = self.settle_hash().await?;
        let block = Bytes::from(std::mem::replace(
            &mut self.block,
            Vec::with_capacity(STAGING_BUFFER),
        ));
        let to_hash = block.clone();
        self.hashing = Some(tokio::task::spawn_blocking(move || {
            hasher.update(&to_hash);
            hasher
        }));
        match &mut self.sink {
            Sink::File(slot) => {
                let mut file = match self.writing.take() {
                    Some(task) => task.await.map_err(std::io::Error::other)??,
                    None => slot.take().ok_or_else(closed)?,
                };
                self.writing = Some(tokio::task::spawn_blocking(move || {
                    use std::io::Write;
                    file.write_all(&block)?;
                    Ok(file)
                }));
            }
            Sink::Object(writer) => writer.as_mut().ok_or_else(closed)?.put(block).await?,
        }
        Ok(())
    }

    async fn settle_hash(&mut self) -> Result<Sha256> {
        match self.hashing.take() {
            Some(task) => Ok(task.await.map_err(std::io::Error::other)?),
            None => self.hasher.take().ok_or_else(closed),
        }
    }

    /// Writes what is left, makes it durable, and returns the content's SHA-256 (lower-case hex).
    pub async fn finish(mut self) -> Result<String> {
        if !self.block.is_empty() {
            self.hand_over_block().await?;
        }
        let hasher = self.settle_hash().await?;
        match &mut self.sink {
            Sink::File(slot) => {
                let file = match self.writing.take() {
                    Some(task) => task.await.map_err(std::io::Error::other)??,
                    None => slot.take().ok_or_else(closed)?,
                };
                tokio::task::spawn_blocking(move || file.sync_all())
                    .await
                    .map_err(std::io::Error::other)??;
            }
            Sink::Object(slot) => slot.take().ok_or_else(closed)?.finish().await?,
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

fn closed() -> crate::Error {
    std::io::Error::other("the staging writer is closed").into()
}
