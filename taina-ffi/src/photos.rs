//! Photos (Jaci): the timeline, a photo and its neighbours, the map, thumbnails to a path, albums,
//! and the photo backup.

use std::sync::Arc;
use taina_client::AlbumContents;
use taina_client::BackupReport;
use taina_client::ClientError;
use taina_client::PhotoScope;
use taina_jaci::album::Visibility;
use taina_jaci::library::{Album, MapPoint, PhotoDetail, TimelinePage};
use taina_jaci::thumbnail::Size;

use crate::{ProgressListener, TainaClient, progress};

#[uniffi::export(async_runtime = "tokio")]
impl TainaClient {
    /// A page of the timeline, newest first, with date headings for a viewer `utc_offset_minutes`
    /// east of UTC; pass the page's `next_cursor` back for the next (older) one.
    #[uniffi::method(default(cursor = None, limit = None, utc_offset_minutes = None))]
    pub async fn timeline(
        &self,
        scope: PhotoScope,
        cursor: Option<String>,
        limit: Option<u32>,
        utc_offset_minutes: Option<i16>,
    ) -> Result<TimelinePage, ClientError> {
        self.0
            .timeline(scope, cursor, limit, utc_offset_minutes)
            .await
    }

    /// A photo, with its neighbours in its timeline (for swiping).
    pub async fn photo(&self, photo_id: String) -> Result<PhotoDetail, ClientError> {
        self.0.photo(photo_id).await
    }

    /// Deletes a photo (its file goes to the trash).
    pub async fn delete_photo(&self, photo_id: String) -> Result<(), ClientError> {
        self.0.delete_photo(photo_id).await
    }

    /// Every photo with a location, for a map.
    pub async fn photo_map(&self, scope: PhotoScope) -> Result<Vec<MapPoint>, ClientError> {
        self.0.photo_map(scope).await
    }

    /// Saves a photo's thumbnail (WebP) to `path`; answers its size. The server answers
    /// `not_found` until the thumbnail is made (`Photo::processed`).
    pub async fn download_thumbnail(
        &self,
        file_id: String,
        size: Size,
        path: String,
    ) -> Result<u64, ClientError> {
        self.0.download_thumbnail(file_id, size, path).await
    }

    /// The albums I may see.
    pub async fn albums(&self) -> Result<Vec<Album>, ClientError> {
        self.0.albums().await
    }

    /// Makes an album.
    pub async fn create_album(
        &self,
        name: String,
        description: String,
        visibility: Visibility,
    ) -> Result<Album, ClientError> {
        self.0.create_album(name, description, visibility).await
    }

    /// An album and the photos in it I may see.
    pub async fn album(&self, album_id: String) -> Result<AlbumContents, ClientError> {
        self.0.album(album_id).await
    }

    /// Changes an album's name, description or visibility (what is `None` stays).
    pub async fn update_album(
        &self,
        album_id: String,
        name: Option<String>,
        description: Option<String>,
        visibility: Option<Visibility>,
    ) -> Result<Album, ClientError> {
        self.0
            .update_album(album_id, name, description, visibility)
            .await
    }

    /// Makes one of an album's photos its cover (`None`: back to its first photo).
    pub async fn set_album_cover(
        &self,
        album_id: String,
        photo_id: Option<String>,
    ) -> Result<Album, ClientError> {
        self.0.set_album_cover(album_id, photo_id).await
    }

    /// Deletes an album (its photos stay in the library).
    pub async fn delete_album(&self, album_id: String) -> Result<(), ClientError> {
        self.0.delete_album(album_id).await
    }

    /// Adds photos at an album's end (those already in it stay where they are).
    pub async fn add_to_album(
        &self,
        album_id: String,
        photo_ids: Vec<String>,
    ) -> Result<Album, ClientError> {
        self.0.add_to_album(album_id, photo_ids).await
    }

    /// Takes a photo out of an album (it stays in the library).
    pub async fn remove_from_album(
        &self,
        album_id: String,
        photo_id: String,
    ) -> Result<Album, ClientError> {
        self.0.remove_from_album(album_id, photo_id).await
    }

    /// Puts an album's photos in this order (every photo in it, once).
    pub async fn reorder_album(
        &self,
        album_id: String,
        photo_ids: Vec<String>,
    ) -> Result<Album, ClientError> {
        self.0.reorder_album(album_id, photo_ids).await
    }

    /// Backs up photos: hashes each, asks the server which it already has, uploads only the
    /// others (resumably). Safe to stop and run again: what arrived is not sent twice, and with a
    /// `state_dir` the photo that was going up when it stopped resumes where it was.
    #[uniffi::method(default(listener = None))]
    pub async fn backup_photos(
        &self,
        paths: Vec<String>,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<BackupReport, ClientError> {
        self.0.backup_photos(paths, listener.map(progress)).await
    }
}
