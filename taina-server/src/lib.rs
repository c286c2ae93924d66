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
pub mod metrics;

use std::future::Future;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use taina::Taina;
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The instance.
    pub taina: Taina,
    /// Whether cookies are marked `Secure` (the server is reached over TLS).
    pub secure_cookies: bool,
    /// Prometheus metrics.
    pub metrics: std::sync::Arc<metrics::Metrics>,
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
        metrics: std::sync::Arc::default(),
    };
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::serve))
        .nest("/api/v1", api::routes(&state))
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .with_state(state);
    for (name, value) in SECURITY_HEADERS {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    app.layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
}

/// The header carrying each request's id (echoed in the response, on every log line).
static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A random request id, unless the client (or a proxy) sent one.
#[derive(Clone, Copy, Debug)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = taina::random::new_id(taina::core::JobId::from_random);
        HeaderValue::from_str(id.as_str()).ok().map(RequestId::new)
    }
}

/// Headers on every answer unless a handler set its own: no sniffing, no framing, no referrer
/// beyond our origin, and a policy that lets an API answer load nothing.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
];

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
