//! Files and folders (Ybira): listing, folders, rename, move, trash, versions, shares, and
//! uploads and downloads from and to paths on the device.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use taina_core::wire::List;
use taina_ybira::access::ShareAccess;
use taina_ybira::item::{Item, Share, Version};

use crate::client::segment;
use crate::error::from_response;
use crate::{Client, ClientError, ProgressListener};

/// `listener`'s `on_progress`, or nothing.
pub(crate) fn reporter(
    listener: Option<Arc<dyn ProgressListener>>,
) -> impl Fn(u64, u64) + Send + Sync {
    move |done, total| {
        if let Some(l) = &listener {
            l.on_progress(done, total);
        }
    }
}

impl Client {
    /// Uploads `path` into `folder`, resumably (see `upload`); answers the stored file's id.
    pub(crate) async fn upload_path(
        &self,
        path: &std::path::Path,
        folder: &str,
        photo: bool,
        replace: bool,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<String, ClientError> {
        let token = self.token_or_err()?;
        crate::upload::Upload {
            http: &self.http,
            base: &self.base,
            token: &token,
            path,
            folder,
            photo,
            replace,
            state_dir: self.state_dir.as_deref(),
        }
        .run(progress)
        .await
    }
}

impl Client {
    /// What a folder holds: `root` (my files), `community`, or a folder's id; every page.
    pub async fn list_folder(&self, folder: String) -> Result<Vec<Item>, ClientError> {
        self.all_pages(
            &format!("/folders/{}", segment(&folder)),
            taina_ybira::listing::MAX_PAGE_SIZE,
        )
        .await
    }

    /// A file or folder.
    pub async fn item(&self, item_id: String) -> Result<Item, ClientError> {
        self.get(&format!("/files/{}", segment(&item_id))).await
    }

    /// Makes a folder in `parent` (`root`, `community` or a folder id).
    pub async fn create_folder(&self, parent: String, name: String) -> Result<Item, ClientError> {
        self.send(
            Method::POST,
            "/folders",
            serde_json::json!({ "name": name, "parent_id": parent }),
        )
        .await
    }

    /// Renames a file or folder.
    pub async fn rename_item(&self, item_id: String, name: String) -> Result<Item, ClientError> {
        self.send(
            Method::PATCH,
            &format!("/files/{}", segment(&item_id)),
            serde_json::json!({ "name": name }),
        )
        .await
    }

    /// Moves a file or folder into `parent` (`root`, `community` or a folder id).
    pub async fn move_item(&self, item_id: String, parent: String) -> Result<Item, ClientError> {
        self.send(
            Method::PATCH,
            &format!("/files/{}", segment(&item_id)),
            serde_json::json!({ "parent_id": parent }),
        )
        .await
    }

    /// Puts a file or folder (with all it holds) in the trash.
    pub async fn trash_item(&self, item_id: String) -> Result<(), ClientError> {
        self.empty(self.request(Method::DELETE, &format!("/files/{}", segment(&item_id)))?)
            .await
    }

    /// What is in my trash.
    pub async fn trash(&self) -> Result<Vec<Item>, ClientError> {
        let list: List<Item> = self.get("/trash").await?;
        Ok(list.items)
    }

    /// Takes a file or folder out of the trash, back where it was.
    pub async fn restore_item(&self, item_id: String) -> Result<Item, ClientError> {
        self.send(
            Method::POST,
            &format!("/trash/{}/restore", segment(&item_id)),
            serde_json::json!({}),
        )
        .await
    }

    /// Deletes a file or folder in the trash for good.
    pub async fn purge_item(&self, item_id: String) -> Result<(), ClientError> {
        self.empty(self.request(Method::DELETE, &format!("/trash/{}", segment(&item_id)))?)
            .await
    }

    /// A file's earlier contents, newest first.
    pub async fn versions(&self, file_id: String) -> Result<Vec<Version>, ClientError> {
        let list: List<Version> = self
            .get(&format!("/files/{}/versions", segment(&file_id)))
            .await?;
        Ok(list.items)
    }

    /// Makes an earlier content the file's current one again.
    pub async fn restore_version(
        &self,
        file_id: String,
        version_id: String,
    ) -> Result<Item, ClientError> {
        self.send(
            Method::POST,
            &format!(
                "/files/{}/versions/{}/restore",
                segment(&file_id),
                segment(&version_id)
            ),
            serde_json::json!({}),
        )
        .await
    }

    /// Shares a file or folder with a member (or changes their access).
    pub async fn share_item(
        &self,
        item_id: String,
        user_id: String,
        access: ShareAccess,
    ) -> Result<Share, ClientError> {
        self.send(
            Method::POST,
            "/shares",
            serde_json::json!({ "item_id": item_id, "user_id": user_id, "access": access }),
        )
        .await
    }

    /// Whom a file or folder is shared with.
    pub async fn shares_of(&self, item_id: String) -> Result<Vec<Share>, ClientError> {
        let list: List<Share> = self
            .json(
                self.request(Method::GET, "/shares")?
                    .query(&[("item_id", item_id)]),
            )
            .await?;
        Ok(list.items)
    }

    /// What others shared with me.
    pub async fn shared_with_me(&self) -> Result<Vec<Item>, ClientError> {
        let list: List<Item> = self.get("/shares").await?;
        Ok(list.items)
    }

    /// Ends a share.
    pub async fn unshare(&self, share_id: String) -> Result<(), ClientError> {
        self.empty(self.request(Method::DELETE, &format!("/shares/{}", segment(&share_id)))?)
            .await
    }

    /// Uploads the file at `path` into `folder`, resumably, telling `listener` how it goes. When
    /// the name is taken, the upload is renamed (`name (2).ext`), or with `replace` becomes the
    /// new version of that file. With a `state_dir` (see `ClientOptions`), an upload cut off even
    /// by the app closing resumes where it stopped when called again with the same file.
    pub async fn upload_file(
        &self,
        path: String,
        folder: String,
        listener: Option<Arc<dyn ProgressListener>>,
        replace: bool,
    ) -> Result<Item, ClientError> {
        let file_id = self
            .upload_path(
                &PathBuf::from(path),
                &folder,
                false,
                replace,
                &reporter(listener),
            )
            .await?;
        self.item(file_id).await
    }

    /// Downloads a file to `path`, whole or not at all, checked against its SHA-256; a download
    /// cut off resumes from what arrived when called again. Answers its size.
    pub async fn download_file(
        &self,
        file_id: String,
        path: String,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<u64, ClientError> {
        let item = self.item(file_id.clone()).await?;
        let content = format!("/files/{}/content", segment(&file_id));
        crate::download::whole(
            || self.request(Method::GET, &content),
            &PathBuf::from(path),
            item.etag.as_deref(),
            &reporter(listener),
        )
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
        if length == 0 {
            return Err(ClientError::Invalid {
                message: "a range holds at least one byte".into(),
            });
        }
        let last = offset.saturating_add(length - 1);
        let response = self
            .request(
                Method::GET,
                &format!("/files/{}/content", segment(&file_id)),
            )?
            .header("Range", format!("bytes={offset}-{last}"))
            .send()
            .await?;
        if response.status().is_success() && response.status() != StatusCode::PARTIAL_CONTENT {
            return Err(ClientError::Network {
                message: format!(
                    "the server answered {} instead of the range",
                    response.status()
                ),
            });
        }
        if response.status() != StatusCode::PARTIAL_CONTENT {
            return Err(from_response(response).await);
        }
        crate::download::save_to(response, &PathBuf::from(path)).await
    }
}
