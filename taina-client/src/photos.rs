//! Photos (Jaci): the timeline, a photo and its neighbours, the map, thumbnails to a path, albums,
//! and the photo backup.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Method;
use taina_core::PhotoId;
use taina_core::wire::List;
use taina_jaci::album::Visibility;
use taina_jaci::library::{Album, MapPoint, Photo, PhotoDetail, TimelinePage};
use taina_jaci::thumbnail::Size;
use taina_jaci::timeline::PageGroup;

use crate::client::segment;
use crate::error::from_response;
use crate::files::reporter;
use crate::{Client, ClientError, ProgressListener};

/// Hashes the server is asked about at once (its limit).
const KNOWN_BATCH: usize = 500;

/// Whose photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PhotoScope {
    /// Mine.
    Mine,
    /// The community's shared library.
    Shared,
}

impl PhotoScope {
    fn as_str(self) -> &'static str {
        match self {
            PhotoScope::Mine => "mine",
            PhotoScope::Shared => "shared",
        }
    }
}

/// An album with the photos in it that I may see, in the album's order.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AlbumContents {
    /// The album.
    pub album: Album,
    /// Its photos.
    pub photos: Vec<Photo>,
}

/// What a photo backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BackupReport {
    /// Photos looked at.
    pub considered: u64,
    /// Photos the server had already.
    pub already_there: u64,
    /// Photos uploaded now.
    pub uploaded: u64,
    /// Photos that could not be backed up, with why (`path: reason`).
    pub failed: Vec<String>,
}

/// A timeline page as the API shows it (`items` rather than `photos`).
#[derive(serde::Deserialize)]
struct TimelineView {
    items: Vec<Photo>,
    groups: Vec<PageGroup>,
    next_cursor: Option<String>,
}

/// A photo as the API shows it: flattened, with its neighbours' ids.
#[derive(serde::Deserialize)]
struct PhotoView {
    #[serde(flatten)]
    photo: Photo,
    previous_id: Option<PhotoId>,
    next_id: Option<PhotoId>,
}

#[derive(serde::Deserialize)]
struct AlbumView {
    #[serde(flatten)]
    album: Album,
    photos: Vec<Photo>,
}

#[derive(serde::Deserialize)]
struct Known {
    known: Vec<String>,
}

impl Client {
    /// A page of the timeline, newest first, with date headings for a viewer `utc_offset_minutes`
    /// east of UTC; pass the page's `next_cursor` back for the next (older) one.
    pub async fn timeline(
        &self,
        scope: PhotoScope,
        cursor: Option<String>,
        limit: Option<u32>,
        utc_offset_minutes: Option<i16>,
    ) -> Result<TimelinePage, ClientError> {
        let mut request = self
            .request(Method::GET, "/photos")?
            .query(&[("scope", scope.as_str())]);
        if let Some(cursor) = cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        if let Some(limit) = limit {
            request = request.query(&[("limit", limit)]);
        }
        if let Some(offset) = utc_offset_minutes {
            request = request.query(&[("utc_offset", offset)]);
        }
        let view: TimelineView = self.json(request).await?;
        Ok(TimelinePage {
            photos: view.items,
            groups: view.groups,
            next_cursor: view.next_cursor,
        })
    }

    /// A photo, with its neighbours in its timeline (for swiping).
    pub async fn photo(&self, photo_id: String) -> Result<PhotoDetail, ClientError> {
        let view: PhotoView = self.get(&format!("/photos/{}", segment(&photo_id))).await?;
        Ok(PhotoDetail {
            photo: view.photo,
            previous: view.previous_id,
            next: view.next_id,
        })
    }

    /// Deletes a photo (its file goes to the trash).
    pub async fn delete_photo(&self, photo_id: String) -> Result<(), ClientError> {
        self.empty(self.request(Method::DELETE, &format!("/photos/{}", segment(&photo_id)))?)
            .await
    }

    /// Every photo with a location, for a map.
    pub async fn photo_map(&self, scope: PhotoScope) -> Result<Vec<MapPoint>, ClientError> {
        let list: List<MapPoint> = self
            .json(
                self.request(Method::GET, "/photos/map")?
                    .query(&[("scope", scope.as_str())]),
            )
            .await?;
        Ok(list.items)
    }

    /// Saves a photo's thumbnail (WebP) to `path`; answers its size. The server answers
    /// `not_found` until the thumbnail is made (`Photo::processed`).
    pub async fn download_thumbnail(
        &self,
        file_id: String,
        size: Size,
        path: String,
    ) -> Result<u64, ClientError> {
        let response = self
            .request(
                Method::GET,
                &format!("/files/{}/thumbnail/{}", segment(&file_id), size.name()),
            )?
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(from_response(response).await);
        }
        crate::download::save_to(response, &PathBuf::from(path)).await
    }

    /// The albums I may see.
    pub async fn albums(&self) -> Result<Vec<Album>, ClientError> {
        let list: List<Album> = self.get("/albums").await?;
        Ok(list.items)
    }

    /// Makes an album.
    pub async fn create_album(
        &self,
        name: String,
        description: String,
        visibility: Visibility,
    ) -> Result<Album, ClientError> {
        self.send(
            Method::POST,
            "/albums",
            serde_json::json!({ "name": name, "description": description, "visibility": visibility }),
        )
        .await
    }

    /// An album and the photos in it I may see.
    pub async fn album(&self, album_id: String) -> Result<AlbumContents, ClientError> {
        let view: AlbumView = self.get(&format!("/albums/{}", segment(&album_id))).await?;
        Ok(AlbumContents {
            album: view.album,
            photos: view.photos,
        })
    }

    /// Changes an album's name, description or visibility (what is `None` stays).
    pub async fn update_album(
        &self,
        album_id: String,
        name: Option<String>,
        description: Option<String>,
        visibility: Option<Visibility>,
    ) -> Result<Album, ClientError> {
        let mut change = serde_json::Map::new();
        if let Some(name) = name {
            change.insert("name".into(), name.into());
        }
        if let Some(description) = description {
            change.insert("description".into(), description.into());
        }
        if let Some(visibility) = visibility {
            change.insert("visibility".into(), visibility.as_str().into());
        }
        self.send(
            Method::PATCH,
            &format!("/albums/{}", segment(&album_id)),
            change.into(),
        )
        .await
    }

    /// Makes one of an album's photos its cover (`None`: back to its first photo).
    pub async fn set_album_cover(
        &self,
        album_id: String,
        photo_id: Option<String>,
    ) -> Result<Album, ClientError> {
        self.send(
            Method::PATCH,
            &format!("/albums/{}", segment(&album_id)),
            serde_json::json!({ "cover_photo_id": photo_id }),
        )
        .await
    }

    /// Deletes an album (its photos stay in the library).
    pub async fn delete_album(&self, album_id: String) -> Result<(), ClientError> {
        self.empty(self.request(Method::DELETE, &format!("/albums/{}", segment(&album_id)))?)
            .await
    }

    /// Adds photos at an album's end (those already in it stay where they are).
    pub async fn add_to_album(
        &self,
        album_id: String,
        photo_ids: Vec<String>,
    ) -> Result<Album, ClientError> {
        self.send(
            Method::POST,
            &format!("/albums/{}/photos", segment(&album_id)),
            serde_json::json!({ "photo_ids": photo_ids }),
        )
        .await
    }

    /// Takes a photo out of an album (it stays in the library).
    pub async fn remove_from_album(
        &self,
        album_id: String,
        photo_id: String,
    ) -> Result<Album, ClientError> {
        self.json(self.request(
            Method::DELETE,
            &format!(
                "/albums/{}/photos/{}",
                segment(&album_id),
                segment(&photo_id)
            ),
        )?)
        .await
    }

    /// Puts an album's photos in this order (every photo in it, once).
    pub async fn reorder_album(
        &self,
        album_id: String,
        photo_ids: Vec<String>,
    ) -> Result<Album, ClientError> {
        self.send(
            Method::PUT,
            &format!("/albums/{}/order", segment(&album_id)),
            serde_json::json!({ "photo_ids": photo_ids }),
        )
        .await
    }

    /// Backs up photos: hashes each, asks the server which it already has, uploads only the
    /// others (resumably). Safe to stop and run again: what arrived is not sent twice, and with a
    /// `state_dir` the photo that was going up when it stopped resumes where it was.
    pub async fn backup_photos(
        &self,
        paths: Vec<String>,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<BackupReport, ClientError> {
        let tell = reporter(listener);
        let total = paths.len() as u64;
        let mut report = BackupReport {
            considered: total,
            already_there: 0,
            uploaded: 0,
            failed: Vec::new(),
        };
        let mut hashed = Vec::with_capacity(paths.len());
        for path in paths {
            match crate::download::sha256_of(Path::new(&path)).await {
                Ok(hash) => hashed.push((path, hash)),
                Err(e) => report.failed.push(format!("{path}: {e}")),
            }
        }
        let mut known = HashSet::new();
        for batch in hashed.chunks(KNOWN_BATCH) {
            let hashes: Vec<&str> = batch.iter().map(|(_, h)| h.as_str()).collect();
            let answer: Known = self
                .send(
                    Method::POST,
                    "/photos/known",
                    serde_json::json!({ "hashes": hashes }),
                )
                .await?;
            known.extend(answer.known);
        }
        // Files that could not even be read count as done (and failed).
        let mut done = report.failed.len() as u64;
        tell(done, total);
        for (path, hash) in hashed {
            if known.contains(&hash) {
                report.already_there += 1;
            } else {
                match self
                    .upload_path(Path::new(&path), "root", true, false, &|_, _| {})
                    .await
                {
                    Ok(_) => {
                        report.uploaded += 1;
                        // The same picture twice in the list goes up once.
                        known.insert(hash);
                    }
                    // Nothing more would get through: say so rather than fail every photo.
                    Err(e) if e.stops_a_batch() => return Err(e),
                    Err(e) => report.failed.push(format!("{path}: {e}")),
                }
            }
            done += 1;
            tell(done, total);
        }
        Ok(report)
    }
}
