//! Moving a community's things in and out in bulk: importing a folder tree (a phone dump, an old
//! NAS) and exporting everything as plain files plus JSON — for a community moving elsewhere.
//!
//! Imports go through the same service calls as uploads, as the person who will own the files.
//! They are idempotent, so an interrupted import is resumed by running it again: a photo whose
//! content the person's library already holds is skipped, and so is a file whose folder already
//! has it with the same content (a changed file becomes a new version of the old one).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use taina_core::{Actor, Community, Timestamp, User};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::instrument;

use crate::guara::Position;
use crate::jaci::{NewPhoto, Scope};
use crate::progress::Progress;
use crate::ybira::{ItemKind, Location, NewUpload, OnConflict};
use crate::{Error, Result, Taina};

/// File extensions the photo library may take (the content decides in the end).
const MEDIA_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "gif", "heic", "heif", "tif", "tiff", "mp4", "mov", "m4v",
];

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Files looked at.
    pub seen: u64,
    /// Files stored now.
    pub imported: u64,
    /// Files already there (from an earlier run, or the same content twice).
    pub already_there: u64,
    /// Files not taken, with why (not a photo, a name not allowed, over the quota...).
    pub refused: Vec<Refused>,
}

/// A file an import did not take.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    /// Its path, relative to the imported folder.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportReport {
    /// Files written.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Conversations written.
    pub conversations: u64,
    /// Messages written.
    pub messages: u64,
    /// Photos described.
    pub photos: u64,
    /// Albums described.
    pub albums: u64,
}

/// Every regular file under `dir`, sorted, skipping hidden files and folders.
fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

fn relative(dir: &Path, file: &Path) -> String {
    file.strip_prefix(dir)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned()
}

/// A file's SHA-256 (hex), read through once.
async fn sha256_of(path: &Path) -> Result<String> {
    Ok(crate::backup::hash_file(path, &crate::progress::Silent)
        .await?
        .1)
}

/// A file's bytes as a stream of 1 MiB chunks.
async fn file_stream(
    path: &Path,
) -> Result<impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin + use<>> {
    let file = tokio::fs::File::open(path).await?;
    Ok(Box::pin(futures::stream::unfold(
        Some(file),
        |file| async move {
            let mut file = file?;
            let mut buf = vec![0u8; 1 << 20];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        },
    )))
}

fn modified(path: &Path) -> Option<Timestamp> {
    let time = std::fs::metadata(path).ok()?.modified().ok()?;
    let ms = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    Some(Timestamp::from_millis(i64::try_from(ms).ok()?))
}

/// Whether a failure stops the import (the instance is in trouble) or only refuses one file.
fn stops_the_import(e: &Error) -> bool {
    matches!(
        e.kind(),
        taina_core::ErrorKind::Internal
            | taina_core::ErrorKind::QuotaExceeded
            | taina_core::ErrorKind::StorageFull
    )
}

impl Taina {
    /// Imports the photos and videos under `dir` into `actor`'s library.
    #[instrument(skip_all, fields(community = %actor.community_id, dir = %dir.display()))]
    pub async fn import_photos(
        &self,
        actor: &Actor,
        dir: &Path,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        let files = walk(dir)?;
        let mut report = ImportReport::default();
        progress.start("photos", files.len() as u64, false);
        for file in files {
            report.seen += 1;
            progress.advance(1);
            let rel = relative(dir, &file);
            let extension = file
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if !MEDIA_EXTENSIONS.contains(&extension.as_str()) {
                report.refused.push(Refused {
                    path: rel,
                    reason: "not a photo or video".into(),
                });
                continue;
            }
            let hash = sha256_of(&file).await?;
            if !self
                .jaci()
                .known_content(actor, std::slice::from_ref(&hash))
                .await?
                .is_empty()
            {
                report.already_there += 1;
                continue;
            }
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "photo".into());
            let photo = NewPhoto {
                location: Location::MyFiles,
                name,
                declared_size: std::fs::metadata(&file).ok().map(|m| m.len()),
                client_file_time: modified(&file),
            };
            match self
                .jaci()
                .import(actor, photo, file_stream(&file).await?)
                .await
            {
                Ok(_) => report.imported += 1,
                Err(e) if stops_the_import(&e) => return Err(e),
                Err(e) => report.refused.push(Refused {
                    path: rel,
                    reason: e.public().to_string(),
                }),
            }
        }
        Ok(report)
    }

    /// Imports the tree under `dir` into `folder` (a `/`-separated path, made where missing) of
    /// `actor`'s files.
    #[instrument(skip_all, fields(community = %actor.community_id, dir = %dir.display()))]
    pub async fn import_files(
        &self,
        actor: &Actor,
        dir: &Path,
        folder: &str,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        let files = walk(dir)?;
        let total: u64 = files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        progress.start("files", total, true);
        let ybira = self.ybira();
        let mut report = ImportReport::default();
        for file in files {
            report.seen += 1;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let rel = relative(dir, &file);
            let parent = Path::new(&rel)
                .parent()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let outcome = async {
                let here = ybira
                    .ensure_folder_path(actor, Location::MyFiles, &format!("{folder}/{parent}"))
                    .await?;
                let on_conflict = match ybira.child_named(actor, &here, &name).await? {
                    Some(existing) if existing.kind == ItemKind::File => {
                        let hash = sha256_of(&file).await?;
                        if existing.etag.as_deref() == Some(format!("\"{hash}\"").as_str()) {
                            return Ok(false);
                        }
                        OnConflict::Replace
                    }
                    _ => OnConflict::Rename,
                };
                let upload = NewUpload {
                    location: here,
                    name: name.clone(),
                    declared_size: Some(size),
                    on_conflict,
                };
                ybira
                    .upload(actor, upload, file_stream(&file).await?)
                    .await?;
                Ok::<bool, Error>(true)
            }
            .await;
            progress.advance(size);
            match outcome {
                Ok(true) => report.imported += 1,
                Ok(false) => report.already_there += 1,
                Err(e) if stops_the_import(&e) => return Err(e),
                Err(e) => report.refused.push(Refused {
                    path: rel,
                    reason: e.public().to_string(),
                }),
            }
        }
        Ok(report)
    }

    /// Exports what `community` holds — or, with `person`, what that person owns and sees — into
    /// `dest` (which must be empty or absent): `files/` as a plain tree, and `community.json`,
    /// `photos.json`, `albums.json` and `messages/<conversation>.json`.
    #[instrument(skip_all, fields(community = %community.id, dest = %dest.display()))]
    pub async fn export(
        &self,
        community: &Community,
        person: Option<&Actor>,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<ExportReport> {
        if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
            return Err(taina_core::Error::conflict("the export folder is not empty").into());
        }
        std::fs::create_dir_all(dest)?;
        let operator = self.operator();
        let admin = operator.acting_admin(Some(&community.slug)).await?;
        let members: Vec<User> = self.accounts().members(&admin).await?;
        // Whose things go in: everyone's, or one person's.
        let people: Vec<Actor> = match person {
            Some(actor) => vec![actor.clone()],
            None => members
                .iter()
                .map(|u| Actor {
                    user_id: u.id.clone(),
                    community_id: u.community_id.clone(),
                    role: u.role,
                    session_id: None,
                })
                .collect(),
        };
        let mut report = ExportReport::default();
        progress.start("export", people.len() as u64 + 1, false);
        write_json(
            &dest.join("community.json"),
            &serde_json::json!({ "community": community, "members": members, "exported_at": self.now() }),
        )?;

        // Files: the shared space once, each person's own space under their email.
        let shared_reader = person.cloned().unwrap_or_else(|| admin.clone());
        self.export_tree(
            &shared_reader,
            Location::Shared,
            &dest.join("files/Community"),
            &mut report,
        )
        .await?;
        let mut photos = Vec::new();
        let mut albums = Vec::new();
        let mut conversations = std::collections::BTreeSet::new();
        for actor in &people {
            let email = members
                .iter()
                .find(|u| u.id == actor.user_id)
                .map_or_else(|| actor.user_id.to_string(), |u| u.email.clone());
            let own = match person {
                Some(_) => dest.join("files/My files"),
                None => dest.join("files/People").join(safe_segment(&email)),
            };
            self.export_tree(actor, Location::MyFiles, &own, &mut report)
                .await?;
            let mut cursor: Option<String> = None;
            loop {
                let page = self
                    .jaci()
                    .timeline(actor, Scope::Mine, cursor.as_deref(), Some(200), 0)
                    .await?;
                photos.extend(page.photos);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            for album in self.jaci().albums(actor).await? {
                if album.owner_id == actor.user_id || person.is_some() {
                    let in_it = self.jaci().album_photos(actor, &album.id).await?;
                    let ids: Vec<_> = in_it.into_iter().map(|p| p.id).collect();
                    albums.push(serde_json::json!({ "album": album, "photo_ids": ids }));
                }
            }
            for summary in self.guara().conversations(actor).await? {
                let id = summary.conversation.id.clone();
                if !conversations.insert(id.to_string()) {
                    continue;
                }
                let mut messages = Vec::new();
                let mut position = Position::After(0);
                loop {
                    let page = self
                        .guara()
                        .history(actor, &id, position, Some(200))
                        .await?;
                    let last = page.messages.last().map(|m| m.seq);
                    messages.extend(page.messages);
                    match (page.has_more, last) {
                        (true, Some(seq)) => position = Position::After(seq),
                        _ => break,
                    }
                }
                report.messages += messages.len() as u64;
                report.conversations += 1;
                write_json(
                    &dest.join("messages").join(format!("{id}.json")),
                    &serde_json::json!({ "conversation": summary.conversation, "messages": messages }),
                )?;
            }
            progress.advance(1);
        }
        report.photos = photos.len() as u64;
        report.albums = albums.len() as u64;
        write_json(&dest.join("photos.json"), &photos)?;
        write_json(&dest.join("albums.json"), &albums)?;
        progress.advance(1);
        Ok(report)
    }

    /// Writes the tree under `location`, as `actor` sees it, into `dir`.
    async fn export_tree(
        &self,
        actor: &Actor,
        location: Location,
        dir: &Path,
        report: &mut ExportReport,
    ) -> Result<()> {
        let ybira = self.ybira();
        let mut stack = vec![(location, dir.to_path_buf())];
        while let Some((here, path)) = stack.pop() {
            tokio::fs::create_dir_all(&path).await?;
            let mut cursor: Option<String> = None;
            loop {
                let page = match ybira.list(actor, &here, cursor.as_deref(), Some(500)).await {
                    Ok(page) => page,
                    // A guest has no space of their own, say.
                    Err(e) if e.kind() == taina_core::ErrorKind::Forbidden => break,
                    Err(e) => return Err(e),
                };
                for item in page.items {
                    // Names that differ only in what a file system cannot hold (`a:b`, `a_b`)
                    // get a number rather than overwrite each other.
                    let base = safe_segment(&item.name);
                    let mut target = path.join(&base);
                    let mut n = 2;
                    while target.exists() {
                        target = path.join(format!("{base} ({n})"));
                        n += 1;
                    }
                    match item.kind {
                        ItemKind::Folder => stack.push((Location::Folder(item.id), target)),
                        ItemKind::File => {
                            let mut download = ybira.download(actor, &item.id, None).await?;
                            let mut out = tokio::fs::File::create(&target).await?;
                            while let Some(chunk) = download.body.next().await {
                                let chunk = chunk?;
                                report.bytes += chunk.len() as u64;
                                out.write_all(&chunk).await?;
                            }
                            out.flush().await?;
                            report.files += 1;
                        }
                    }
                }
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(())
    }
}

/// A name as a safe single path segment on any file system.
fn safe_segment(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '\0' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".into(),
        _ => cleaned,
    }
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Corrupt(format!("cannot write {}: {e}", path.display())))?;
    std::fs::write(path, text)?;
    Ok(())
}
