//! Making a client, sign-in and the token, me, sessions.

use std::sync::Arc;

use taina_client::{Client, ClientError, ClientOptions};
use taina_core::User;
use taina_core::session::SessionInfo;

use crate::TainaClient;

#[uniffi::export(async_runtime = "tokio")]
impl TainaClient {
    /// A client of the server at `server_url` (e.g. `https://home.example.org`).
    #[uniffi::constructor]
    pub fn new(server_url: String) -> Result<Arc<TainaClient>, ClientError> {
        Ok(Arc::new(TainaClient(Client::new(server_url)?)))
    }

    /// A client of the server at `server_url`, set up with `options`.
    #[uniffi::constructor]
    pub fn with_options(
        server_url: String,
        options: ClientOptions,
    ) -> Result<Arc<TainaClient>, ClientError> {
        Ok(Arc::new(TainaClient(Client::with_options(
            server_url, options,
        )?)))
    }

    /// The session token (for the app to keep, e.g. in the keychain), if signed in.
    pub fn token(&self) -> Option<String> {
        self.0.token()
    }

    /// Uses a token the app kept from an earlier sign-in (or forgets it with `None`).
    pub fn set_token(&self, token: Option<String>) {
        self.0.set_token(token)
    }

    /// Signs in; the token is kept for the calls that follow (and answered by [`Self::token`]).
    #[uniffi::method(default(community = None))]
    pub async fn login(
        &self,
        email: String,
        password: String,
        community: Option<String>,
    ) -> Result<User, ClientError> {
        self.0.login(email, password, community).await
    }

    /// Signs out here (the session ends on the server too).
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.0.logout().await
    }

    /// Who is signed in.
    pub async fn me(&self) -> Result<User, ClientError> {
        self.0.me().await
    }

    /// My sessions (this one is marked `current`), newest first.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, ClientError> {
        self.0.sessions().await
    }

    /// Ends one of my sessions (signing that device out).
    pub async fn end_session(&self, session_id: String) -> Result<(), ClientError> {
        self.0.end_session(session_id).await
    }
}
