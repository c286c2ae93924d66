//! Files and folders (Ybira): listing, folders, rename, move, trash, versions, shares, and
//! uploads and downloads from and to paths on the device.

use std::sync::Arc;
use taina_client::ClientError;
use taina_ybira::access::ShareAccess;
use taina_ybira::item::{Item, Share, Version};

use crate::{ProgressListener, TainaClient, progress};

#[uniffi::export(async_runtime = "tokio")]
impl TainaClient {
    /// What a folder holds: `root` (my files), `community`, or a folder's id; every page.
    pub async fn list_folder(&self, folder: String) -> Result<Vec<Item>, ClientError> {
        self.0.list_folder(folder).await
    }

    /// A file or folder.
    pub async fn item(&self, item_id: String) -> Result<Item, ClientError> {
        self.0.item(item_id).await
    }

    /// Makes a folder in `parent` (`root`, `community` or a folder id).
    pub async fn create_folder(&self, parent: String, name: String) -> Result<Item, ClientError> {
        self.0.create_folder(parent, name).await
    }

    /// Renames a file or folder.
    pub async fn rename_item(&self, item_id: String, name: String) -> Result<Item, ClientError> {
        self.0.rename_item(item_id, name).await
    }

    /// Moves a file or folder into `parent` (`root`, `community` or a folder id).
    pub async fn move_item(&self, item_id: String, parent: String) -> Result<Item, ClientError> {
        self.0.move_item(item_id, parent).await
    }

    /// Puts a file or folder (with all it holds) in the trash.
    pub async fn trash_item(&self, item_id: String) -> Result<(), ClientError> {
        self.0.trash_item(item_id).await
    }

    /// What is in my trash.
    pub async fn trash(&self) -> Result<Vec<Item>, ClientError> {
        self.0.trash().await
    }

    /// Takes a file or folder out of the trash, back where it was.
    pub async fn restore_item(&self, item_id: String) -> Result<Item, ClientError> {
        self.0.restore_item(item_id).await
    }

    /// Deletes a file or folder in the trash for good.
    pub async fn purge_item(&self, item_id: String) -> Result<(), ClientError> {
        self.0.purge_item(item_id).await
    }

    /// A file's earlier contents, newest first.
    pub async fn versions(&self, file_id: String) -> Result<Vec<Version>, ClientError> {
        self.0.versions(file_id).await
    }

    /// Makes an earlier content the file's current one again.
    pub async fn restore_version(
        &self,
        file_id: String,
        version_id: String,
    ) -> Result<Item, ClientError> {
        self.0.restore_version(file_id, version_id).await
    }

    /// Shares a file or folder with a member (or changes their access).
    pub async fn share_item(
        &self,
        item_id: String,
        user_id: String,
        access: ShareAccess,
    ) -> Result<Share, ClientError> {
        self.0.share_item(item_id, user_id, access).await
    }

    /// Whom a file or folder is shared with.
    pub async fn shares_of(&self, item_id: String) -> Result<Vec<Share>, ClientError> {
        self.0.shares_of(item_id).await
    }

    /// What others shared with me.
    pub async fn shared_with_me(&self) -> Result<Vec<Item>, ClientError> {
        self.0.shared_with_me().await
    }

    /// Ends a share.
    pub async fn unshare(&self, share_id: String) -> Result<(), ClientError> {
        self.0.unshare(share_id).await
    }

    /// Uploads the file at `path` into `folder`, resumably, telling `listener` how it goes. When
    /// the name is taken, the upload is renamed (`name (2).ext`), or with `replace` becomes the
    /// new version of that file. With a `state_dir` (see `ClientOptions`), an upload cut off even
    /// by the app closing resumes where it stopped when called again with the same file.
    #[uniffi::method(default(listener = None, replace = false))]
    pub async fn upload_file(
        &self,
        path: String,
        folder: String,
        listener: Option<Arc<dyn ProgressListener>>,
        replace: bool,
    ) -> Result<Item, ClientError> {
        self.0
            .upload_file(path, folder, listener.map(progress), replace)
            .await
    }

    /// Downloads a file to `path`, whole or not at all, checked against its SHA-256; a download
    /// cut off resumes from what arrived when called again. Answers its size.
    #[uniffi::method(default(listener = None))]
    pub async fn download_file(
        &self,
        file_id: String,
        path: String,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<u64, ClientError> {
        self.0
            .download_file(file_id, path, listener.map(progress))
            .await
    }

    /// Downloads `length` bytes of a file from `offset` to `path` (a part of a large video, say);
    /// answers how many arrived (fewer at the file's end).
    pub async fn download_range(
        &self,
        file_id: String,
        offset: u64,
        length: u64,
        path: String,
    ) -> Result<u64, ClientError> {
        self.0.download_range(file_id, offset, length, path).await
    }
}
