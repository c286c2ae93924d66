//! [`Client`]: one server, one signed-in person — how it is made, how it calls the API, and
//! the account calls (sign-in, me, sessions). The other calls live by area in `files`, `photos`
//! and `messages`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde::de::DeserializeOwned;
use taina_core::User;
use taina_core::session::SessionInfo;
use taina_core::wire::List;

use crate::ClientError;
use crate::error::from_response;

/// How a client is set up; everything is optional.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ClientOptions {
    /// A folder the SDK may keep its own state in: the uploads under way, so that one cut off by
    /// the app being closed resumes where it stopped. Without it, such an upload starts again.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub state_dir: Option<String>,
    /// A certificate (PEM) to trust besides the public authorities: for a community server with
    /// a certificate of its own.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub extra_root_certificate_pem: Option<String>,
}

/// A client of one Tainá server.
pub struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) tls: Arc<crate::tls::TlsConfig>,
    token: Mutex<Option<String>>,
}

/// `value` made safe as one segment of a URL's path (ids come from the app).
pub(crate) fn segment(value: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, KEEP).to_string()
}

#[derive(serde::Deserialize)]
struct SignedIn {
    token: String,
    user: User,
}

impl Client {
    /// The session token, or a clear error before signing in.
    pub(crate) fn token_or_err(&self) -> Result<String, ClientError> {
        self.token().ok_or_else(|| ClientError::Invalid {
            message: "sign in first".into(),
        })
    }

    /// The API's URL for `path` (which starts with `/`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A signed-in request.
    pub(crate) fn request(
        &self,
        method: Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        let token = self.token_or_err()?;
        Ok(self.http.request(method, self.url(path)).bearer_auth(token))
    }

    /// Sends `request` in a span naming the call; a non-success answer is the server's error,
    /// logged once here with the call it answered.
    async fn answer(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        use tracing::Instrument;
        let request = request.build()?;
        let span = tracing::debug_span!(
            "taina_api",
            method = %request.method(),
            path = request.url().path(),
        );
        async {
            let response = self.http.execute(request).await.inspect_err(|e| {
                tracing::debug!(error = %e, "the server could not be reached");
            })?;
            if response.status().is_success() {
                return Ok(response);
            }
            let error = from_response(response).await;
            tracing::debug!(%error, "the server refused");
            Err(error)
        }
        .instrument(span)
        .await
    }

    /// Sends `request`; a success's JSON body, or the server's error.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        Ok(self.answer(request).await?.json().await?)
    }

    /// Sends `request`, whose success has no body worth reading.
    pub(crate) async fn empty(&self, request: reqwest::RequestBuilder) -> Result<(), ClientError> {
        self.answer(request).await.map(drop)
    }

    /// `GET path`, answered as JSON.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.json(self.request(Method::GET, path)?).await
    }

    /// `method path` with a JSON body, answered as JSON.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: serde_json::Value,
    ) -> Result<T, ClientError> {
        self.json(self.request(method, path)?.json(&body)).await
    }

    /// Every page of a list the API pages with `cursor`, asking for `page_size` items a page
    /// (the list's most, from the pure crate that decides it).
    pub(crate) async fn all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        page_size: u32,
    ) -> Result<Vec<T>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut request = self
                .request(Method::GET, path)?
                .query(&[("limit", page_size)]);
            if let Some(c) = &cursor {
                request = request.query(&[("cursor", c)]);
            }
            let page: List<T> = self.json(request).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }
}

impl Client {
    /// A client of the server at `server_url` (e.g. `https://home.example.org`).
    pub fn new(server_url: String) -> Result<Arc<Client>, ClientError> {
        Self::with_options(server_url, ClientOptions::default())
    }

    /// A client of the server at `server_url`, set up with `options`.
    pub fn with_options(
        server_url: String,
        options: ClientOptions,
    ) -> Result<Arc<Client>, ClientError> {
        let base = server_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Invalid {
                message: "the server URL starts with https:// (or http://)".into(),
            });
        }
        let tls = crate::tls::TlsConfig::new(options.extra_root_certificate_pem.as_deref())?;
        let mut http = reqwest::Client::builder()
            .user_agent(concat!("taina-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(15));
        if let Some(pem) = &options.extra_root_certificate_pem {
            let certificates =
                reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                    ClientError::Invalid {
                        message: format!("the certificate does not read as PEM: {e}"),
                    }
                })?;
            for certificate in certificates {
                http = http.add_root_certificate(certificate);
            }
        }
        let http = http.build().map_err(|e| ClientError::Invalid {
            message: e.to_string(),
        })?;
        Ok(Arc::new(Client {
            http,
            base,
            state_dir: options.state_dir.map(PathBuf::from),
            tls: Arc::new(tls),
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
        self.empty(self.request(Method::POST, "/auth/logout")?)
            .await?;
        self.set_token(None);
        Ok(())
    }

    /// Who is signed in.
    pub async fn me(&self) -> Result<User, ClientError> {
        self.get("/me").await
    }

    /// My sessions (this one is marked `current`), newest first.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, ClientError> {
        let list: List<SessionInfo> = self.get("/me/sessions").await?;
        Ok(list.items)
    }

    /// Ends one of my sessions (signing that device out).
    pub async fn end_session(&self, session_id: String) -> Result<(), ClientError> {
        self.empty(self.request(
            Method::DELETE,
            &format!("/me/sessions/{}", segment(&session_id)),
        )?)
        .await
    }
}
