//! # taina-server
//!
//! Tainá's HTTP front end. Thin by design: every handler parses the request, calls the `taina`
//! library and maps the result; no SQL and no business rule live here.
//!
//! [`router`] builds the axum application for a [`Taina`] handle; [`serve`] runs it on a listener
//! the caller bound (tests bind port 0) until the shutdown future resolves. The JSON API lives under
//! `/api/v1` ([`api`]); authentication is a bearer token or the session cookie ([`auth`]).
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
mod download;
mod error;

use std::future::Future;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::get;
use taina::Taina;
use tokio::net::TcpListener;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The instance.
    pub taina: Taina,
    /// Whether cookies are marked `Secure` (the server is reached over TLS).
    pub secure_cookies: bool,
}

impl FromRef<AppState> for Taina {
    fn from_ref(state: &AppState) -> Taina {
        state.taina.clone()
    }
}

/// The application's routes over `taina`.
pub fn router(taina: Taina) -> Router {
    let secure_cookies = taina
        .config()
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let state = AppState {
        taina,
        secure_cookies,
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest("/api/v1", api::routes(&state))
        .with_state(state)
}

/// Serves `taina` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    taina: Taina,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(taina).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database and blob storage answer.
async fn readyz(State(taina): State<Taina>) -> Result<&'static str, ApiError> {
    taina.ready().await?;
    Ok("ready")
}
