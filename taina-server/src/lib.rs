//! # taina-server
//!
//! Tainá's HTTP front end. Thin by design: every handler parses the request, calls the `taina`
//! library and maps the result; no SQL and no business rule live here.
//!
//! [`router`] builds the axum application for a [`Taina`] handle; [`serve`] runs it on a listener
//! the caller bound (tests bind port 0) until the shutdown future resolves. The full v1 API, the
//! WebSocket and the web app come with their own issues; this crate serves health checks now.
#![forbid(unsafe_code)]

mod error;

use std::future::Future;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use taina::Taina;
use tokio::net::TcpListener;

pub use error::ApiError;

/// The application's routes over `taina`.
pub fn router(taina: Taina) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(taina)
}

/// Serves `taina` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    taina: Taina,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(taina))
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
