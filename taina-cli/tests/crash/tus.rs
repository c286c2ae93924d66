//! Resumable (tus) uploads of a client: created, sent in pieces (some with a checksum), resumed
//! with HEAD and PATCH after a cut-off piece, and sometimes kept aside half sent until the next
//! server runs.

use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use super::Client;
use crate::http::Reply;
use crate::model::{Content, FileModel, Place};

/// Unfinished resumable uploads a client keeps aside for after the next restart, at most.
const PARKED_AT_MOST: usize = 2;

/// A resumable upload under way.
#[derive(Debug)]
pub(super) struct Tus {
    /// Its id (the last segment of its `Location`).
    id: String,
    /// The file's name.
    name: String,
    /// Its folder.
    place: Place,
    /// Whether it goes to the photo library.
    photo: bool,
    /// The whole content.
    bytes: Vec<u8>,
    /// The offset the server acknowledged.
    offset: u64,
    /// The server that acknowledged it, when it was parked.
    parked_at: u64,
}

impl Client {
    /// A resumable upload: created, sent in pieces (some with a checksum); sometimes kept aside
    /// half sent, to be resumed after the next restart.
    pub(super) async fn tus(&mut self, photo: bool) {
        let kind = if photo { "tus photo" } else { "tus" };
        let place = self.random_place();
        let (name, bytes) = if photo {
            self.photo_fixture()
        } else {
            let name = self.next_name("bin");
            (name, self.new_bytes())
        };
        self.ledger.stat(kind).tried += 1;
        let mut metadata = format!(
            "filename {},folder_id {}",
            base64(name.as_bytes()),
            base64(place.api_id().as_bytes())
        );
        if photo {
            metadata.push_str(&format!(",photo {}", base64(b"true")));
        }
        let length = bytes.len();
        let sent = self
            .api
            .send("tus create", |http, url| {
                http.post(format!("{url}api/v1/uploads"))
                    .header("Tus-Resumable", "1.0.0")
                    .header("Upload-Length", length.to_string())
                    .header("Upload-Metadata", &metadata)
            })
            .await;
        let id = match &sent.reply {
            Reply::Done { .. } => match sent.reply.header("location") {
                Some(location) => location.rsplit('/').next().unwrap_or_default().to_owned(),
                None => return self.fail("tus create answered no Location".to_owned()),
            },
            // Too many unfinished uploads of mine (those whose creation was cut off count).
            Reply::Refused { status, .. } if *status == StatusCode::CONFLICT => {
                self.ledger.stat(kind).refused += 1;
                return;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                return self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                self.api.settle(&sent, kind).await;
                self.ledger.unknown_tus_creates += 1;
                self.ledger.stat(kind).cut_not_done += 1;
                return;
            }
        };
        let park_at = (bytes.len() > 64 * 1024 && self.rng.chance(35))
            .then(|| self.rng.between(1, bytes.len() as u64 - 1));
        let upload = Tus {
            id,
            name,
            place,
            photo,
            bytes,
            offset: 0,
            parked_at: 0,
        };
        self.tus_continue(kind, upload, park_at).await;
    }

    /// Where a resumable upload stands: `None` when the server no longer has it.
    async fn tus_offset(&self, id: &str) -> Result<Option<u64>, String> {
        loop {
            let sent = self
                .api
                .send("tus HEAD", |http, url| {
                    http.head(format!("{url}api/v1/uploads/{id}"))
                        .header("Tus-Resumable", "1.0.0")
                })
                .await;
            match &sent.reply {
                Reply::Done { .. } => {
                    return sent
                        .reply
                        .header("upload-offset")
                        .and_then(|o| o.parse().ok())
                        .map(Some)
                        .ok_or_else(|| format!("HEAD uploads/{id}: no Upload-Offset"));
                }
                Reply::Refused { status, .. } if *status == StatusCode::NOT_FOUND => {
                    return Ok(None);
                }
                Reply::Refused { status, body } => {
                    return Err(format!("HEAD uploads/{id}: {status} {body}"));
                }
                Reply::Unknown { reason, .. } => {
                    if !self.api.settle(&sent, "tus HEAD").await {
                        return Err(format!("HEAD uploads/{id}: {reason}"));
                    }
                }
            }
        }
    }

    /// Sends the rest of an upload from its acknowledged offset (an empty piece when every byte is
    /// there but the file is not yet stored), parking it at `park_at`.
    async fn tus_continue(&mut self, kind: &'static str, mut upload: Tus, park_at: Option<u64>) {
        let length = upload.bytes.len() as u64;
        loop {
            if let Some(park) = park_at
                && upload.offset >= park
                && upload.offset < length
                && self.parked.len() < PARKED_AT_MOST
                && !self.api.shared().stopping()
            {
                upload.parked_at = self.api.shared().server().1;
                self.parked.push(upload);
                return;
            }
            let remaining = length - upload.offset;
            let piece_len = self.rng.between(16 * 1024, 256 * 1024).min(remaining);
            let start = usize::try_from(upload.offset).unwrap_or(0);
            let end = start + usize::try_from(piece_len).unwrap_or(0);
            let piece = upload.bytes[start..end].to_vec();
            let checksum = self
                .rng
                .chance(50)
                .then(|| format!("sha256 {}", base64(&Sha256::digest(&piece))));
            let offset = upload.offset;
            let id = upload.id.clone();
            let sent = self
                .api
                .send("tus PATCH", |http, url| {
                    let mut request = http
                        .patch(format!("{url}api/v1/uploads/{id}"))
                        .header("Tus-Resumable", "1.0.0")
                        .header("Upload-Offset", offset.to_string())
                        .header("Content-Type", "application/offset+octet-stream");
                    if let Some(checksum) = &checksum {
                        request = request.header("Upload-Checksum", checksum);
                    }
                    request.body(piece.clone())
                })
                .await;
            match &sent.reply {
                Reply::Done { .. } => {
                    let now: Option<u64> = sent
                        .reply
                        .header("upload-offset")
                        .and_then(|o| o.parse().ok());
                    if now != Some(offset + piece_len) {
                        return self.fail(format!(
                            "{kind} {id}: a piece of {piece_len} at {offset} answered offset {now:?}"
                        ));
                    }
                    if let Some(file_id) = sent.reply.header("taina-file-id") {
                        let photo_id = sent.reply.header("taina-photo-id");
                        if upload.photo && photo_id.is_none() {
                            self.fail(format!("{kind} {id}: stored as {file_id} without a photo"));
                        }
                        let content = Content::of(&upload.bytes);
                        let mut file = FileModel::new(upload.name, upload.place, content, true);
                        file.photo = photo_id;
                        self.ledger.files.insert(file_id, file);
                        self.ledger.stat(kind).acknowledged += 1;
                        return;
                    }
                    if offset + piece_len >= length {
                        return self.fail(format!(
                            "{kind} {id}: every byte acknowledged, but no file answered"
                        ));
                    }
                    upload.offset = offset + piece_len;
                }
                Reply::Refused { status, .. } if *status == StatusCode::NOT_FOUND => {
                    return self.tus_gone(kind, upload, piece_len).await;
                }
                Reply::Refused { status, body } => {
                    let (status, body) = (*status, body.clone());
                    return self.refused(kind, status, &body);
                }
                Reply::Unknown { .. } => {
                    if !self.api.settle(&sent, kind).await {
                        return;
                    }
                    match self.tus_offset(&id).await {
                        Ok(Some(now)) if now >= offset && now <= offset + piece_len => {
                            upload.offset = now;
                        }
                        Ok(Some(now)) => {
                            return self.fail(format!(
                                "{kind} {id}: after a piece of {piece_len} at {offset} was cut \
                                 off, the server stands at {now}"
                            ));
                        }
                        Ok(None) => return self.tus_gone(kind, upload, piece_len).await,
                        Err(e) => return self.fail(format!("{kind}: {e}")),
                    }
                }
            }
        }
    }

    /// The server no longer has an upload. Fine only if the piece cut off was its last: then it was
    /// stored (its file is there, whole) or its commit was cut off (nothing is there).
    async fn tus_gone(&mut self, kind: &'static str, upload: Tus, in_flight: u64) {
        let length = upload.bytes.len() as u64;
        if upload.offset + in_flight < length {
            return self.fail(format!(
                "{kind} {}: gone, though only {} of {length} bytes were sent and {} acknowledged",
                upload.id,
                upload.offset + in_flight,
                upload.offset
            ));
        }
        let content = Content::of(&upload.bytes);
        self.resolve_new_file(kind, upload.place, upload.name, content, upload.photo)
            .await;
    }

    /// Resumes the uploads kept aside once a newer server runs (all of them when `all`): HEAD
    /// must answer the offset acknowledged before the kill.
    pub(super) async fn resume_parked(&mut self, all: bool) {
        let generation = self.api.shared().server().1;
        let parked = std::mem::take(&mut self.parked);
        for upload in parked {
            if !all && upload.parked_at >= generation {
                self.parked.push(upload);
                continue;
            }
            let kind = "tus resumed";
            self.ledger.stat(kind).tried += 1;
            match self.tus_offset(&upload.id).await {
                Ok(Some(offset)) => {
                    if offset != upload.offset {
                        self.fail(format!(
                            "tus {}: acknowledged at {} before the restart, the server stands at \
                             {offset} after it",
                            upload.id, upload.offset
                        ));
                    }
                    let mut upload = upload;
                    upload.offset = offset;
                    self.tus_continue(kind, upload, None).await;
                }
                Ok(None) => self.fail(format!(
                    "tus {}: acknowledged at {} of {} bytes, gone after the restart",
                    upload.id,
                    upload.offset,
                    upload.bytes.len()
                )),
                Err(e) => self.fail(format!("tus resume: {e}")),
            }
        }
    }
}

/// Standard base64 with padding (tus metadata and checksums).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
