//! [`TainaClient`]: one server, one signed-in person.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use taina_core::User;
use taina_guara::message::Message;
use taina_ybira::item::Item;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::ClientError;
use crate::error::from_response;

/// Hashes the server is asked about at once (its limit).
const KNOWN_BATCH: usize = 500;

/// Told how a long transfer goes (implemented by the app).
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// `done` of `total` (bytes, or files for a backup).
    fn on_progress(&self, done: u64, total: u64);
}

/// What a photo backup did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
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

/// A client of one Tainá server.
#[derive(uniffi::Object)]
pub struct TainaClient {
    http: reqwest::Client,
    base: String,
    token: Mutex<Option<String>>,
}

#[derive(serde::Deserialize)]
struct SignedIn {
    token: String,
    user: User,
}

#[derive(serde::Deserialize)]
struct Listing<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

#[derive(serde::Deserialize)]
struct Known {
    known: Vec<String>,
}

impl TainaClient {
    fn token_or_err(&self) -> Result<String, ClientError> {
        self.token().ok_or_else(|| ClientError::Invalid {
            message: "sign in first".into(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    async fn json<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = request.send().await?;
        if !response.status().is_success() {
            return Err(from_response(response).await);
        }
        Ok(response.json().await?)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let token = self.token_or_err()?;
        self.json(self.http.get(self.url(path)).bearer_auth(token))
            .await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<T, ClientError> {
        let token = self.token_or_err()?;
        self.json(
            self.http
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }
}

/// A file's SHA-256, read in pieces.
async fn sha256_of(path: &Path) -> Result<String, ClientError> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[uniffi::export(async_runtime = "tokio")]
impl TainaClient {
    /// A client of the server at `server_url` (e.g. `https://home.example.org`).
    #[uniffi::constructor]
    pub fn new(server_url: String) -> Result<Arc<TainaClient>, ClientError> {
        let base = server_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Invalid {
                message: "the server URL starts with https:// (or http://)".into(),
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("taina-ffi/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Invalid {
                message: e.to_string(),
            })?;
        Ok(Arc::new(TainaClient {
            http,
            base,
            token: Mutex::new(None),
        }))
    }

    /// The session token (for the app to keep, e.g. in the keychain), if signed in.
    pub fn token(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Uses a token the app kept from an earlier sign-in (or forgets it with `None`).
    pub fn set_token(&self, token: Option<String>) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = token;
    }

    /// Signs in; the token is kept for the calls that follow (and answered by [`Self::token`]).
    pub async fn login(
        &self,
        email: String,
        password: String,
        community: Option<String>,
    ) -> Result<User, ClientError> {
        let body =
            serde_json::json!({ "email": email, "password": password, "community": community });
        let signed_in: SignedIn = self
            .json(self.http.post(self.url("/auth/login")).json(&body))
            .await?;
        self.set_token(Some(signed_in.token));
        Ok(signed_in.user)
    }

    /// Signs out here (the session ends on the server too).
    pub async fn logout(&self) -> Result<(), ClientError> {
        let token = self.token_or_err()?;
        let response = self
            .http
            .post(self.url("/auth/logout"))
            .bearer_auth(token)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(from_response(response).await);
        }
        self.set_token(None);
        Ok(())
    }

    /// Who is signed in.
    pub async fn me(&self) -> Result<User, ClientError> {
        self.get("/me").await
    }

    /// What a folder holds: `root` (my files), `community`, or a folder's id; every page.
    pub async fn list_folder(&self, folder: String) -> Result<Vec<Item>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/folders/{folder}?limit=500&cursor={c}"),
                None => format!("/folders/{folder}?limit=500"),
            };
            let page: Listing<Item> = self.get(&path).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// Makes a folder in `parent` (`root`, `community` or a folder id).
    pub async fn create_folder(&self, parent: String, name: String) -> Result<Item, ClientError> {
        self.post(
            "/folders",
            serde_json::json!({ "name": name, "parent_id": parent }),
        )
        .await
    }

    /// Uploads the file at `path` into `folder`, resumably, telling `listener` how it goes.
    pub async fn upload_file(
        &self,
        path: String,
        folder: String,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<Item, ClientError> {
        let token = self.token_or_err()?;
        let report = |done: u64, total: u64| {
            if let Some(l) = &listener {
                l.on_progress(done, total);
            }
        };
        let done = crate::upload::upload(
            &self.http,
            &self.base,
            &token,
            &PathBuf::from(path),
            &folder,
            false,
            &report,
        )
        .await?;
        self.get(&format!("/files/{}", done.file_id)).await
    }

    /// Downloads a file to `path` (written whole or not at all); answers its size.
    pub async fn download_file(&self, file_id: String, path: String) -> Result<u64, ClientError> {
        let token = self.token_or_err()?;
        let response = self
            .http
            .get(self.url(&format!("/files/{file_id}/content")))
            .bearer_auth(token)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(from_response(response).await);
        }
        let target = PathBuf::from(path);
        let partial = target.with_extension("partial");
        let mut out = tokio::fs::File::create(&partial).await?;
        let mut body = response.bytes_stream();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            out.write_all(&chunk).await?;
        }
        out.sync_all().await?;
        drop(out);
        tokio::fs::rename(&partial, &target).await?;
        Ok(size)
    }

    /// The direct conversation with `user_id` (made if there is none yet); answers its id.
    pub async fn start_direct(&self, user_id: String) -> Result<String, ClientError> {
        #[derive(serde::Deserialize)]
        struct Created {
            id: String,
        }
        let created: Created = self
            .post(
                &format!("/conversations/direct/{user_id}"),
                serde_json::json!({}),
            )
            .await?;
        Ok(created.id)
    }

    /// Sends a message. Sending again with the same `client_id` (after a lost answer, say)
    /// answers the first message instead of sending a second.
    pub async fn send_message(
        &self,
        conversation_id: String,
        text: String,
        client_id: Option<String>,
    ) -> Result<Message, ClientError> {
        self.post(
            &format!("/conversations/{conversation_id}/messages"),
            serde_json::json!({ "content": text, "client_id": client_id }),
        )
        .await
    }

    /// Messages in `seq` order: the latest page, or every message after `after_seq` (to catch up
    /// after a `resync`).
    pub async fn history(
        &self,
        conversation_id: String,
        after_seq: Option<i64>,
    ) -> Result<Vec<Message>, ClientError> {
        let Some(mut after) = after_seq else {
            let page: Listing<Message> = self
                .get(&format!("/conversations/{conversation_id}/messages"))
                .await?;
            return Ok(page.items);
        };
        let mut all = Vec::new();
        loop {
            let page: Listing<Message> = self
                .get(&format!(
                    "/conversations/{conversation_id}/messages?after={after}&limit=200"
                ))
                .await?;
            let last = page.items.last().map(|m| m.seq);
            all.extend(page.items);
            match (page.next_cursor, last) {
                (Some(_), Some(seq)) => after = seq,
                _ => return Ok(all),
            }
        }
    }

    /// Follows the realtime events of my conversations, files and photos until the returned
    /// subscription is cancelled or dropped.
    pub async fn subscribe(
        &self,
        listener: Arc<dyn crate::EventListener>,
    ) -> Result<Arc<crate::Subscription>, ClientError> {
        let token = self.token_or_err()?;
        Ok(Arc::new(crate::realtime::start(
            &self.base, token, listener,
        )))
    }

    /// Backs up photos: hashes each, asks the server which it already has, uploads only the
    /// others (resumably). Safe to stop and run again: what arrived is not sent twice.
    pub async fn backup_photos(
        &self,
        paths: Vec<String>,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<BackupReport, ClientError> {
        let token = self.token_or_err()?;
        let total = paths.len() as u64;
        let mut report = BackupReport {
            considered: total,
            already_there: 0,
            uploaded: 0,
            failed: Vec::new(),
        };
        let mut hashed = Vec::with_capacity(paths.len());
        for path in paths {
            match sha256_of(Path::new(&path)).await {
                Ok(hash) => hashed.push((path, hash)),
                Err(e) => report.failed.push(format!("{path}: {e}")),
            }
        }
        let mut known = std::collections::HashSet::new();
        for batch in hashed.chunks(KNOWN_BATCH) {
            let hashes: Vec<&str> = batch.iter().map(|(_, h)| h.as_str()).collect();
            let answer: Known = self
                .post("/photos/known", serde_json::json!({ "hashes": hashes }))
                .await?;
            known.extend(answer.known);
        }
        // Files that could not even be read count as done (and failed).
        let mut done = report.failed.len() as u64;
        let tell = |done: u64| {
            if let Some(l) = &listener {
                l.on_progress(done, total);
            }
        };
        tell(done);
        for (path, hash) in hashed {
            if known.contains(&hash) {
                report.already_there += 1;
            } else {
                let outcome = crate::upload::upload(
                    &self.http,
                    &self.base,
                    &token,
                    Path::new(&path),
                    "root",
                    true,
                    &|_, _| {},
                )
                .await;
                match outcome {
                    Ok(_) => {
                        report.uploaded += 1;
                        // The same picture twice in the list goes up once.
                        known.insert(hash);
                    }
                    Err(e @ ClientError::Network { .. }) => return Err(e),
                    Err(e) => report.failed.push(format!("{path}: {e}")),
                }
            }
            done += 1;
            tell(done);
        }
        Ok(report)
    }
}
