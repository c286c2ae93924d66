//! The ledger: what the server acknowledged to a client (a 2xx answer received whole), plus what an
//! operation cut off by a kill turned out to have done once the client looked after the restart.
//! The final checks compare the server with it exactly.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::server::VERSIONS_KEPT;

/// A file's content: its SHA-256 (lower-case hex) and size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Content {
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Content {
    /// The content of `bytes`.
    pub fn of(bytes: &[u8]) -> Content {
        Content {
            sha256: hex(&Sha256::digest(bytes)),
            size: bytes.len() as u64,
        }
    }

    /// The `etag` the server shows for it.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.sha256)
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a file is: the root of its owner's space, or a folder (by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// "My files".
    Root,
    /// A folder.
    Folder(String),
}

impl Place {
    /// As the API names it in `folder_id` / `parent_id`.
    pub fn api_id(&self) -> &str {
        match self {
            Place::Root => "root",
            Place::Folder(id) => id,
        }
    }

    /// The folder listing's path under `/api/v1/`.
    pub fn listing_path(&self) -> String {
        match self {
            Place::Root => "folders/root".to_owned(),
            Place::Folder(id) => format!("folders/{id}"),
        }
    }

    /// From an item's `parent_id`.
    pub fn of_parent(parent: Option<&str>) -> Place {
        match parent {
            None => Place::Root,
            Some(id) => Place::Folder(id.to_owned()),
        }
    }
}

/// A file as the ledger knows it.
#[derive(Debug, Clone)]
pub struct FileModel {
    /// Its name.
    pub name: String,
    /// Its folder.
    pub place: Place,
    /// Its content.
    pub content: Content,
    /// Its earlier contents, oldest first (at most [`VERSIONS_KEPT`]).
    pub versions: Vec<Content>,
    /// In the trash.
    pub trashed: bool,
    /// Its photo, when it was added to the library.
    pub photo: Option<String>,
    /// Stored by a photo upload cut off before it added the photo, with this content: the
    /// server's `adopt_photo` job adds it later, so it must be in the library once the job queue
    /// has drained — unless the file's content was replaced meanwhile (the job adds the photo of
    /// what the file holds when it runs, if that is a photo at all).
    pub photo_pending: Option<Content>,
    /// Acknowledged (`false`: made by an operation whose answer was lost, found after the restart).
    pub acknowledged: bool,
}

impl FileModel {
    /// A new file.
    pub fn new(name: String, place: Place, content: Content, acknowledged: bool) -> FileModel {
        FileModel {
            name,
            place,
            content,
            versions: Vec::new(),
            trashed: false,
            photo: None,
            photo_pending: None,
            acknowledged,
        }
    }

    /// New content: the old one becomes the newest version; the oldest beyond the limit go.
    pub fn replace(&mut self, content: Content) {
        let old = std::mem::replace(&mut self.content, content);
        self.versions.push(old);
        while self.versions.len() > VERSIONS_KEPT {
            self.versions.remove(0);
        }
    }
}

/// A message the server acknowledged.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// Its conversation.
    pub conversation: String,
    /// Its id.
    pub id: String,
    /// The `seq` the server answered.
    pub seq: i64,
    /// The client key it was sent with.
    pub client_key: String,
    /// Its text.
    pub text: String,
    /// The content of the attached file when it was sent.
    pub attachment: Option<Content>,
}

/// How one kind of operation went.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpStats {
    /// Tried.
    pub tried: u64,
    /// Acknowledged.
    pub acknowledged: u64,
    /// Refused by the server (4xx).
    pub refused: u64,
    /// Cut off, and found done after the restart.
    pub cut_done: u64,
    /// Cut off, and found not done after the restart.
    pub cut_not_done: u64,
}

/// One client's ledger.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Files not purged, by id.
    pub files: BTreeMap<String, FileModel>,
    /// Files purged.
    pub purged: BTreeSet<String>,
    /// The photos in the client's album, in order (live or in the trash).
    pub album: Vec<String>,
    /// Messages acknowledged.
    pub messages: Vec<SentMessage>,
    /// Resumable uploads whose creation was cut off: the server may hold them (and their
    /// reservation), and nobody can resume them.
    pub unknown_tus_creates: u64,
    /// Per kind of operation.
    pub stats: BTreeMap<&'static str, OpStats>,
}

impl Ledger {
    /// The stats of `kind`.
    pub fn stat(&mut self, kind: &'static str) -> &mut OpStats {
        self.stats.entry(kind).or_default()
    }

    /// Every content this ledger keeps alive on the server: files (live and in the trash), their
    /// versions, and attachments.
    pub fn live_contents(&self) -> BTreeSet<Content> {
        let mut all = BTreeSet::new();
        for file in self.files.values() {
            all.insert(file.content.clone());
            all.extend(file.versions.iter().cloned());
        }
        all.extend(self.messages.iter().filter_map(|m| m.attachment.clone()));
        all
    }

    /// Live (not trashed) files.
    pub fn live(&self) -> impl Iterator<Item = (&String, &FileModel)> {
        self.files.iter().filter(|(_, f)| !f.trashed)
    }
}
