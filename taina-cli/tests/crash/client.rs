//! A client of the server under fire: one person doing a seeded mix of operations, one at a time,
//! keeping the ledger of what the server acknowledged. An operation whose answer a kill cut off is
//! looked up once the next server runs: it must have happened whole or not at all, and the ledger
//! takes whichever it was.

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::http::{Api, Reply};
use super::model::{Content, FileModel, Ledger, Place, SentMessage};
use super::rng::Rng;

#[path = "tus.rs"]
mod tus;

pub use tus::base64;

/// A photo from `tests/fixtures/photos`, uploaded so that thumbnails get made.
#[derive(Debug)]
pub struct Fixture {
    /// Its file name.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The operations, and how often each is picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Upload,
    Photo,
    Tus,
    TusPhoto,
    Replace,
    Copy,
    Move,
    Trash,
    Purge,
    AlbumAdd,
    AlbumRemove,
    Send,
}

const OPS: [(Op, u64); 12] = [
    (Op::Upload, 15),
    (Op::Photo, 6),
    (Op::Tus, 9),
    (Op::TusPhoto, 3),
    (Op::Replace, 10),
    (Op::Copy, 8),
    (Op::Move, 8),
    (Op::Trash, 8),
    (Op::Purge, 5),
    (Op::AlbumAdd, 6),
    (Op::AlbumRemove, 2),
    (Op::Send, 15),
];

/// One person, their folders, album and conversations, and their ledger.
pub struct Client {
    /// Which client (0 is the community's admin).
    pub index: usize,
    /// Their session.
    pub api: Api,
    /// Their user id.
    pub user_id: String,
    /// Their two folders (in "My files").
    pub folders: Vec<String>,
    /// Their album.
    pub album_id: String,
    /// The conversations they are in.
    pub conversations: Vec<String>,
    /// What the server acknowledged.
    pub ledger: Ledger,
    rng: Rng,
    counter: u64,
    parked: Vec<tus::Tus>,
    photos: Arc<Vec<Fixture>>,
    /// Recent contents, uploaded again now and then (deduplication).
    recent: Vec<Vec<u8>>,
}

impl Client {
    /// A client, once its person exists.
    pub fn new(
        index: usize,
        api: Api,
        user_id: String,
        rng: Rng,
        photos: Arc<Vec<Fixture>>,
    ) -> Client {
        Client {
            index,
            api,
            user_id,
            folders: Vec::new(),
            album_id: String::new(),
            conversations: Vec::new(),
            ledger: Ledger::default(),
            rng,
            counter: 0,
            parked: Vec::new(),
            photos,
            recent: Vec::new(),
        }
    }

    fn fail(&self, what: String) {
        self.api.shared().fail(format!("{}: {what}", self.api.who));
    }

    /// Does operations until the killer is done, then finishes the resumable uploads kept aside.
    pub async fn run(mut self) -> Client {
        while !self.api.shared().stopping() {
            self.resume_parked(false).await;
            let weights: Vec<u64> = OPS.iter().map(|(_, w)| *w).collect();
            let op = OPS[self.rng.weighted(&weights)].0;
            self.perform(op).await;
            self.api
                .shared()
                .ops_done
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        if !self
            .api
            .shared()
            .aborted
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            self.resume_parked(true).await;
        }
        self
    }

    async fn perform(&mut self, op: Op) {
        match op {
            Op::Upload => self.upload(false).await,
            Op::Photo => self.upload(true).await,
            Op::Tus => self.tus(false).await,
            Op::TusPhoto => self.tus(true).await,
            Op::Replace => self.replace().await,
            Op::Copy => self.copy().await,
            Op::Move => self.move_file().await,
            Op::Trash => self.trash().await,
            Op::Purge => self.purge().await,
            Op::AlbumAdd => self.album_add().await,
            Op::AlbumRemove => self.album_remove().await,
            Op::Send => self.send_message().await,
        }
    }

    fn next_name(&mut self, ext: &str) -> String {
        self.counter += 1;
        format!("c{}-{:04}.{ext}", self.index, self.counter)
    }

    fn random_place(&mut self) -> Place {
        match self.rng.below(3) {
            0 => Place::Root,
            n => Place::Folder(self.folders[usize::try_from(n - 1).unwrap_or(0)].clone()),
        }
    }

    /// Random bytes, a few KiB to about 1 MiB; now and then a content already sent.
    fn new_bytes(&mut self) -> Vec<u8> {
        if !self.recent.is_empty() && self.rng.chance(10) {
            return self.recent[self.rng.index(self.recent.len())].clone();
        }
        let size = match self.rng.below(10) {
            0..=5 => self.rng.between(1024, 64 * 1024),
            6..=8 => self.rng.between(64 * 1024, 512 * 1024),
            _ => self.rng.between(512 * 1024, 1024 * 1024),
        };
        let bytes = self.rng.bytes(usize::try_from(size).unwrap_or(1024));
        if self.recent.len() >= 4 {
            self.recent.remove(0);
        }
        self.recent.push(bytes.clone());
        bytes
    }

    fn photo_fixture(&mut self) -> (String, Vec<u8>) {
        let photos = self.photos.clone();
        let photo = &photos[self.rng.index(photos.len())];
        (self.next_name("jpg"), photo.bytes.clone())
    }

    /// A file of the ledger that `keep` accepts, at random.
    fn pick(&mut self, keep: impl Fn(&FileModel) -> bool) -> Option<String> {
        let ids: Vec<&String> = self
            .ledger
            .files
            .iter()
            .filter(|(_, f)| keep(f))
            .map(|(id, _)| id)
            .collect();
        if ids.is_empty() {
            return None;
        }
        Some(ids[self.rng.index(ids.len())].clone())
    }

    /// A refusal nothing in this run should cause.
    fn refused(&mut self, kind: &'static str, status: StatusCode, body: &str) {
        self.ledger.stat(kind).refused += 1;
        self.fail(format!("{kind} refused: {status} {body}"));
    }

    pub async fn files_in(&self, place: &Place) -> Result<Vec<Value>, String> {
        Ok(self
            .api
            .read_all(&place.listing_path(), 1000)
            .await?
            .into_iter()
            .filter(|i| i["kind"] == "file")
            .collect())
    }

    /// The photo made for `file_id`, from my timeline.
    pub async fn photo_of(&self, file_id: &str) -> Result<Option<String>, String> {
        let photos = self.api.read_all("photos", 500).await?;
        Ok(photos
            .iter()
            .find(|p| p["file_id"] == file_id)
            .and_then(|p| p["id"].as_str())
            .map(str::to_owned))
    }

    /// After a cut-off operation that would have made the file `name` in `place` with `content`:
    /// it is there whole (and, for a photo, in the library) or not at all.
    async fn resolve_new_file(
        &mut self,
        kind: &'static str,
        place: Place,
        name: String,
        content: Content,
        photo: bool,
    ) {
        let listing = match self.files_in(&place).await {
            Ok(listing) => listing,
            Err(e) => return self.fail(format!("{kind}: cannot list {place:?}: {e}")),
        };
        let Some(item) = listing.iter().find(|i| i["name"] == name.as_str()) else {
            self.ledger.stat(kind).cut_not_done += 1;
            return;
        };
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        if item["etag"] != content.etag().as_str() || item["size_bytes"] != content.size {
            self.fail(format!(
                "{kind} cut off: {name} ({id}) is there but not whole: etag {} size {}, sent {} \
                 of {} bytes",
                item["etag"], item["size_bytes"], content.sha256, content.size
            ));
        }
        let mut file = FileModel::new(name.clone(), place, content, false);
        if photo {
            match self.photo_of(&id).await {
                Ok(Some(photo_id)) => file.photo = Some(photo_id),
                // Stored, and its photo not added yet: the upload enqueued the job that adds
                // it with the file, and the final checks find it once the queue has drained.
                Ok(None) => file.photo_pending = Some(file.content.clone()),
                Err(e) => self.fail(format!("{kind}: {e}")),
            }
        }
        self.ledger.files.insert(id, file);
        self.ledger.stat(kind).cut_done += 1;
    }

    /// A multipart upload to `/files`, or to `/photos` (a fixture photo).
    async fn upload(&mut self, photo: bool) {
        let kind = if photo { "photo upload" } else { "upload" };
        let place = self.random_place();
        let (name, bytes) = if photo {
            self.photo_fixture()
        } else {
            let name = self.next_name("bin");
            (name, self.new_bytes())
        };
        let content = Content::of(&bytes);
        self.ledger.stat(kind).tried += 1;
        let endpoint = if photo { "photos" } else { "files" };
        let sent = self
            .api
            .send(kind, |http, url| {
                let part = Part::bytes(bytes.clone()).file_name(name.clone());
                let form = Form::new()
                    .text("folder_id", place.api_id().to_owned())
                    .part("file", part);
                http.post(format!("{url}api/v1/{endpoint}")).multipart(form)
            })
            .await;
        match &sent.reply {
            Reply::Done { .. } => {
                let body = sent.reply.json().unwrap_or_default();
                let (file_id, photo_id) = if photo {
                    (body["file_id"].as_str(), body["id"].as_str())
                } else {
                    if body["etag"] != content.etag().as_str() {
                        self.fail(format!("{kind} of {name} answered etag {}", body["etag"]));
                    }
                    (body["id"].as_str(), None)
                };
                let Some(file_id) = file_id else {
                    return self.fail(format!("{kind} answered no id: {body}"));
                };
                let mut file = FileModel::new(name, place, content, true);
                file.photo = photo_id.map(str::to_owned);
                self.ledger.files.insert(file_id.to_owned(), file);
                self.ledger.stat(kind).acknowledged += 1;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                if self.api.settle(&sent, kind).await {
                    self.resolve_new_file(kind, place, name, content, photo)
                        .await;
                }
            }
        }
    }

    /// New content for a file (not a photo) through a multipart upload with `on_conflict=replace`.
    async fn replace(&mut self) {
        let kind = "replace";
        let Some(id) = self.pick(|f| !f.trashed && f.photo.is_none()) else {
            return self.upload(false).await;
        };
        let before = self.ledger.files[&id].clone();
        let bytes = loop {
            let bytes = self.new_bytes();
            if Content::of(&bytes) != before.content {
                break bytes;
            }
        };
        let content = Content::of(&bytes);
        self.ledger.stat(kind).tried += 1;
        let sent = self
            .api
            .send(kind, |http, url| {
                let part = Part::bytes(bytes.clone()).file_name(before.name.clone());
                let form = Form::new()
                    .text("folder_id", before.place.api_id().to_owned())
                    .text("on_conflict", "replace")
                    .part("file", part);
                http.post(format!("{url}api/v1/files")).multipart(form)
            })
            .await;
        match &sent.reply {
            Reply::Done { .. } => {
                let body = sent.reply.json().unwrap_or_default();
                if body["id"] != id.as_str() || body["etag"] != content.etag().as_str() {
                    self.fail(format!(
                        "replace of {} ({id}) answered {} with etag {}",
                        before.name, body["id"], body["etag"]
                    ));
                }
                if let Some(file) = self.ledger.files.get_mut(&id) {
                    file.replace(content);
                }
                self.ledger.stat(kind).acknowledged += 1;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                if !self.api.settle(&sent, kind).await {
                    return;
                }
                let item = match self.api.read(&format!("files/{id}")).await {
                    Ok(Some(item)) => item,
                    other => {
                        return self.fail(format!(
                            "replace cut off: {} ({id}) cannot be read: {other:?}",
                            before.name
                        ));
                    }
                };
                if item["etag"] == content.etag().as_str() && item["size_bytes"] == content.size {
                    if let Some(file) = self.ledger.files.get_mut(&id) {
                        file.replace(content);
                    }
                    self.ledger.stat(kind).cut_done += 1;
                } else if item["etag"] == before.content.etag().as_str() {
                    self.ledger.stat(kind).cut_not_done += 1;
                } else {
                    self.fail(format!(
                        "replace cut off: {} ({id}) has etag {} size {}: neither the old {} nor \
                         the new {}",
                        before.name,
                        item["etag"],
                        item["size_bytes"],
                        before.content.sha256,
                        content.sha256
                    ));
                }
                self.check_versions(&id, "replace cut off").await;
            }
        }
    }

    /// The file's versions on the server are the ledger's.
    pub async fn check_versions(&self, id: &str, when: &str) {
        let Some(file) = self.ledger.files.get(id) else {
            return;
        };
        let versions = match self.api.read(&format!("files/{id}/versions")).await {
            Ok(Some(list)) => list["items"].as_array().cloned().unwrap_or_default(),
            other => return self.fail(format!("{when}: versions of {id}: {other:?}")),
        };
        let mut on_server: Vec<String> = versions
            .iter()
            .map(|v| v["etag"].as_str().unwrap_or_default().to_owned())
            .collect();
        let mut expected: Vec<String> = file.versions.iter().map(Content::etag).collect();
        on_server.sort();
        expected.sort();
        if on_server != expected {
            self.fail(format!(
                "{when}: {} ({id}) has versions {on_server:?}, the ledger {expected:?}",
                file.name
            ));
        }
    }

    /// A copy of a live file, somewhere, under a new name.
    async fn copy(&mut self) {
        let kind = "copy";
        let Some(id) = self.pick(|f| !f.trashed) else {
            return self.upload(false).await;
        };
        let source = self.ledger.files[&id].clone();
        let place = self.random_place();
        let ext = source.name.rsplit('.').next().unwrap_or("bin").to_owned();
        let name = self.next_name(&ext);
        self.ledger.stat(kind).tried += 1;
        let body = json!({"parent_id": place.api_id(), "name": name});
        let sent = self
            .api
            .send(kind, |http, url| {
                http.post(format!("{url}api/v1/files/{id}/copy"))
                    .json(&body)
            })
            .await;
        match &sent.reply {
            Reply::Done { .. } => {
                let item = sent.reply.json().unwrap_or_default();
                if item["etag"] != source.content.etag().as_str() || item["name"] != name.as_str() {
                    self.fail(format!("copy of {id} answered {item}"));
                }
                let copy_id = item["id"].as_str().unwrap_or_default().to_owned();
                self.ledger.files.insert(
                    copy_id,
                    FileModel::new(name, place, source.content.clone(), true),
                );
                self.ledger.stat(kind).acknowledged += 1;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                if self.api.settle(&sent, kind).await {
                    self.resolve_new_file(kind, place, name, source.content, false)
                        .await;
                }
            }
        }
    }

    /// A live file moved to another of my folders.
    async fn move_file(&mut self) {
        let kind = "move";
        let Some(id) = self.pick(|f| !f.trashed) else {
            return self.upload(false).await;
        };
        let from = self.ledger.files[&id].place.clone();
        let to = loop {
            let place = self.random_place();
            if place != from {
                break place;
            }
        };
        self.ledger.stat(kind).tried += 1;
        let body = json!({"parent_id": to.api_id()});
        let sent = self
            .api
            .send(kind, |http, url| {
                http.patch(format!("{url}api/v1/files/{id}")).json(&body)
            })
            .await;
        match &sent.reply {
            Reply::Done { .. } => {
                let item = sent.reply.json().unwrap_or_default();
                if Place::of_parent(item["parent_id"].as_str()) != to {
                    self.fail(format!("move of {id} to {to:?} answered {item}"));
                }
                if let Some(file) = self.ledger.files.get_mut(&id) {
                    file.place = to;
                }
                self.ledger.stat(kind).acknowledged += 1;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                if !self.api.settle(&sent, kind).await {
                    return;
                }
                match self.api.read(&format!("files/{id}")).await {
                    Ok(Some(item)) => {
                        let now = Place::of_parent(item["parent_id"].as_str());
                        if now == to {
                            if let Some(file) = self.ledger.files.get_mut(&id) {
                                file.place = to;
                            }
                            self.ledger.stat(kind).cut_done += 1;
                        } else if now == from {
                            self.ledger.stat(kind).cut_not_done += 1;
                        } else {
                            self.fail(format!(
                                "move cut off: {id} is in {now:?}, neither {from:?} nor {to:?}"
                            ));
                        }
                    }
                    other => self.fail(format!("move cut off: {id} cannot be read: {other:?}")),
                }
            }
        }
    }

    /// Whether `id` is in my trash.
    pub async fn in_trash(&self, id: &str) -> Result<bool, String> {
        let trash = self.api.read_some("trash").await?;
        Ok(trash["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["id"] == id)))
    }

    /// A live file to the trash (a photo sometimes through `DELETE /photos/{id}`).
    async fn trash(&mut self) {
        let kind = "trash";
        let Some(id) = self.pick(|f| !f.trashed) else {
            return self.upload(false).await;
        };
        let photo = self.ledger.files[&id].photo.clone();
        let path = match photo {
            Some(photo) if self.rng.chance(50) => format!("photos/{photo}"),
            _ => format!("files/{id}"),
        };
        self.ledger.stat(kind).tried += 1;
        let sent = self
            .api
            .send(kind, |http, url| http.delete(format!("{url}api/v1/{path}")))
            .await;
        match &sent.reply {
            Reply::Done { .. } => {
                if let Some(file) = self.ledger.files.get_mut(&id) {
                    file.trashed = true;
                }
                self.ledger.stat(kind).acknowledged += 1;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                if !self.api.settle(&sent, kind).await {
                    return;
                }
                match self.api.read(&format!("files/{id}")).await {
                    Ok(Some(_)) => self.ledger.stat(kind).cut_not_done += 1,
                    Ok(None) => match self.in_trash(&id).await {
                        Ok(true) => {
                            if let Some(file) = self.ledger.files.get_mut(&id) {
                                file.trashed = true;
                            }
                            self.ledger.stat(kind).cut_done += 1;
                        }
                        Ok(false) => self.fail(format!(
                            "trash cut off: {id} is neither live nor in the trash"
                        )),
                        Err(e) => self.fail(format!("trash cut off: {e}")),
                    },
                    Err(e) => self.fail(format!("trash cut off: {e}")),
                }
            }
        }
    }

    /// A purged file leaves the ledger, and its photo my album.
    fn forget(&mut self, id: &str) {
        if let Some(file) = self.ledger.files.remove(id)
            && let Some(photo) = file.photo
        {
            self.ledger.album.retain(|p| *p != photo);
        }
        self.ledger.purged.insert(id.to_owned());
    }

    /// A file in the trash deleted for good.
    async fn purge(&mut self) {
        let kind = "purge";
        let Some(id) = self.pick(|f| f.trashed) else {
            return self.trash().await;
        };
        self.ledger.stat(kind).tried += 1;
        let sent = self
            .api
            .send(kind, |http, url| {
                http.delete(format!("{url}api/v1/trash/{id}"))
            })
            .await;
        match &sent.reply {
            Reply::Done { .. } => {
                self.forget(&id);
                self.ledger.stat(kind).acknowledged += 1;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                if !self.api.settle(&sent, kind).await {
                    return;
                }
                match self.in_trash(&id).await {
                    Ok(true) => self.ledger.stat(kind).cut_not_done += 1,
                    Ok(false) => match self.api.read(&format!("files/{id}")).await {
                        Ok(None) => {
                            self.forget(&id);
                            self.ledger.stat(kind).cut_done += 1;
                        }
                        other => self.fail(format!(
                            "purge cut off: {id} left the trash but is readable: {other:?}"
                        )),
                    },
                    Err(e) => self.fail(format!("purge cut off: {e}")),
                }
            }
        }
    }

    /// The photos my album shows.
    pub async fn album_photos(&self) -> Result<Vec<String>, String> {
        let album = self
            .api
            .read_some(&format!("albums/{}", self.album_id))
            .await?;
        Ok(album["photos"]
            .as_array()
            .map(|photos| {
                photos
                    .iter()
                    .filter_map(|p| p["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn live_photos(&self) -> Vec<String> {
        self.ledger
            .live()
            .filter_map(|(_, f)| f.photo.clone())
            .collect()
    }

    /// A live photo added to my album.
    async fn album_add(&mut self) {
        let kind = "album add";
        let candidates: Vec<String> = self
            .live_photos()
            .into_iter()
            .filter(|p| !self.ledger.album.contains(p))
            .collect();
        if candidates.is_empty() {
            return self.upload(true).await;
        }
        let photo = candidates[self.rng.index(candidates.len())].clone();
        self.ledger.stat(kind).tried += 1;
        let album = self.album_id.clone();
        let body = json!({"photo_ids": [photo]});
        let sent = self
            .api
            .send(kind, |http, url| {
                http.post(format!("{url}api/v1/albums/{album}/photos"))
                    .json(&body)
            })
            .await;
        match &sent.reply {
            Reply::Done { .. } => {
                self.ledger.album.push(photo);
                self.ledger.stat(kind).acknowledged += 1;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                if !self.api.settle(&sent, kind).await {
                    return;
                }
                match self.album_photos().await {
                    Ok(shown) if shown.contains(&photo) => {
                        self.ledger.album.push(photo);
                        self.ledger.stat(kind).cut_done += 1;
                    }
                    Ok(_) => self.ledger.stat(kind).cut_not_done += 1,
                    Err(e) => self.fail(format!("album add cut off: {e}")),
                }
            }
        }
    }

    /// A live photo taken out of my album.
    async fn album_remove(&mut self) {
        let kind = "album remove";
        let live = self.live_photos();
        let candidates: Vec<String> = self
            .ledger
            .album
            .iter()
            .filter(|p| live.contains(p))
            .cloned()
            .collect();
        if candidates.is_empty() {
            return self.album_add().await;
        }
        let photo = candidates[self.rng.index(candidates.len())].clone();
        self.ledger.stat(kind).tried += 1;
        let album = self.album_id.clone();
        let sent = self
            .api
            .send(kind, |http, url| {
                http.delete(format!("{url}api/v1/albums/{album}/photos/{photo}"))
            })
            .await;
        match &sent.reply {
            Reply::Done { .. } => {
                self.ledger.album.retain(|p| *p != photo);
                self.ledger.stat(kind).acknowledged += 1;
            }
            Reply::Refused { status, body } => {
                let (status, body) = (*status, body.clone());
                self.refused(kind, status, &body);
            }
            Reply::Unknown { .. } => {
                if !self.api.settle(&sent, kind).await {
                    return;
                }
                match self.album_photos().await {
                    Ok(shown) if shown.contains(&photo) => {
                        self.ledger.stat(kind).cut_not_done += 1;
                    }
                    Ok(_) => {
                        self.ledger.album.retain(|p| *p != photo);
                        self.ledger.stat(kind).cut_done += 1;
                    }
                    Err(e) => self.fail(format!("album remove cut off: {e}")),
                }
            }
        }
    }

    /// A message to one of my conversations, sometimes with a live file attached; sent again with
    /// the same client key until the server acknowledges it.
    async fn send_message(&mut self) {
        let kind = "message";
        let conversation = self.conversations[self.rng.index(self.conversations.len())].clone();
        self.counter += 1;
        let client_key = format!("c{}-k{}", self.index, self.counter);
        let text = format!("message {} from client {}", self.counter, self.index);
        let attachment = if self.rng.chance(20) {
            self.pick(|f| !f.trashed)
                .map(|id| (id.clone(), self.ledger.files[&id].content.clone()))
        } else {
            None
        };
        let mut body = json!({"content": text, "client_id": client_key});
        if let Some((file, _)) = &attachment {
            body["file_id"] = json!(file);
        }
        self.ledger.stat(kind).tried += 1;
        let mut cut = false;
        loop {
            let sent = self
                .api
                .send(kind, |http, url| {
                    http.post(format!("{url}api/v1/conversations/{conversation}/messages"))
                        .json(&body)
                })
                .await;
            match &sent.reply {
                Reply::Done { .. } => {
                    let message = sent.reply.json().unwrap_or_default();
                    if message["client_key"] != client_key.as_str()
                        || message["text"] != text.as_str()
                    {
                        self.fail(format!("send {client_key} answered {message}"));
                    }
                    self.ledger.messages.push(SentMessage {
                        conversation,
                        id: message["id"].as_str().unwrap_or_default().to_owned(),
                        seq: message["seq"].as_i64().unwrap_or(-1),
                        client_key,
                        text,
                        attachment: attachment.map(|(_, content)| content),
                    });
                    let stat = self.ledger.stat(kind);
                    stat.acknowledged += 1;
                    if cut {
                        stat.cut_done += 1;
                    }
                    return;
                }
                Reply::Refused { status, body } => {
                    let (status, body) = (*status, body.clone());
                    return self.refused(kind, status, &body);
                }
                Reply::Unknown { .. } => {
                    cut = true;
                    if !self.api.settle(&sent, kind).await {
                        return;
                    }
                }
            }
        }
    }
}
