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
pub mod client;
pub mod dav;
mod download;
mod error;
pub mod metrics;
pub mod openapi;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
mod web;

use std::future::Future;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderName, HeaderValue, header};
use taina::Taina;
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The instance.
    pub taina: Taina,
    /// Whether cookies are always marked `Secure` (the server or its public URL is HTTPS); they
    /// are also when a trusted proxy says the client came over HTTPS.
    pub secure_cookies: bool,
    /// How clients reach the server (TLS, trusted proxies).
    pub reach: client::Reach,
    /// Prometheus metrics.
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// The OpenAPI document, as served.
    pub openapi: std::sync::Arc<String>,
}

impl FromRef<AppState> for Taina {
    fn from_ref(state: &AppState) -> Taina {
        state.taina.clone()
    }
}

/// The application's routes over `taina`.
pub fn router(taina: Taina) -> Router {
    let config = taina.config();
    let secure_cookies = config.tls()
        || config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
    let reach = client::Reach {
        trusted_proxies: config.trusted_networks(),
        tls: config.tls(),
    };
    let (routes, doc) = described_routes();
    let doc = openapi::with_config(doc, config);
    let state = AppState {
        taina,
        secure_cookies,
        reach,
        metrics: std::sync::Arc::default(),
        openapi: std::sync::Arc::new(served_document(&doc)),
    };
    let mut app = routes
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
    if secure_cookies {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
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
        .layer(axum::middleware::map_request(drop_unfit_request_id))
}

/// The longest request id a client (or its proxy) may choose; a longer one is replaced by ours.
pub const MAX_REQUEST_ID_CHARS: usize = 64;

/// Whether a request id sent by a client is kept: 1 to [`MAX_REQUEST_ID_CHARS`] letters, digits,
/// `-`, `_`, `.` or `:` (UUIDs and the ids proxies make). It is echoed and written on every log
/// line of its request, so anything else (a header of hundreds of KiB, quotes or spaces that
/// could forge log fields) is dropped before [`SetRequestIdLayer`] makes one of ours.
fn fit_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=MAX_REQUEST_ID_CHARS).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

async fn drop_unfit_request_id(
    mut request: axum::http::Request<axum::body::Body>,
) -> axum::http::Request<axum::body::Body> {
    let headers = request.headers_mut();
    if headers.get_all(&REQUEST_ID).iter().count() > 1
        || headers.get(&REQUEST_ID).is_some_and(|v| !fit_request_id(v))
    {
        headers.remove(&REQUEST_ID);
    }
    request
}

/// Every route with its description: the router and the OpenAPI document of what it serves.
fn described_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics::serve))
        .routes(routes!(openapi_json))
        .nest(openapi::API_PREFIX, api::routes())
        .split_for_parts();
    // The web app's pages and files are not part of the API (nor of its document).
    // WebDAV (`/dav/`) speaks its own methods and XML, outside the JSON API and its document.
    (
        router.merge(web::routes()).merge(dav::routes()),
        openapi::finish(doc),
    )
}

/// The document as `/api/v1/openapi.json` serves it: with the rules between fields
/// ([`openapi::refine`]).
fn served_document(doc: &utoipa::openapi::OpenApi) -> String {
    let mut value = serde_json::to_value(doc).unwrap_or_default();
    openapi::refine(&mut value);
    value.to_string()
}

/// The OpenAPI document of every route this server answers.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    described_routes().1
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
/// beyond our origin, and a policy that lets an API answer load nothing. The one place they are
/// set (downloads and thumbnails set only their own content policy and caching).
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
];

/// `Strict-Transport-Security` when the server or its public URL is HTTPS: browsers then use HTTPS
/// only, for a year. Not `includeSubDomains`: other hosts under the family's domain may not speak
/// HTTPS, and this server cannot know.
const HSTS: &str = "max-age=31536000";

/// Serves `taina` on `listener` until `shutdown` resolves, then finishes in-flight requests (for
/// `shutdown_grace_secs` at most).
/// Upgraded sockets outlive it: the instance's owner ends them with [`Taina::end_feeds`] when the
/// instance stops (each closes with 1012, "service restart": reconnect).
/// With `tls_cert` and `tls_key` configured it speaks HTTPS (rustls), otherwise plain HTTP.
pub async fn serve(
    listener: TcpListener,
    taina: Taina,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(taina.clone()).into_make_service_with_connect_info::<client::Peer>();
    let config = taina.config();
    for warning in client::startup_warnings(config, listener.local_addr()?) {
        tracing::warn!("{warning}");
    }
    // Once asked to stop, requests in flight get `shutdown_grace_secs` to finish.
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        let _ = stopping.send(());
    };
    let grace = std::time::Duration::from_secs(config.shutdown_grace_secs);
    let deadline = async move {
        if stopped.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let serving = async {
        match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => {
                let tls = tls::load_config(cert, key).map_err(std::io::Error::other)?;
                axum::serve(tls::TlsListener::new(listener, tls)?, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            _ => {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
        }
    };
    tokio::select! {
        served = serving => served,
        () = deadline => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "requests still in flight when the shutdown grace ran out; stopping anyway"
            );
            Ok(())
        }
    }
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database and blob storage answer.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "The database and storage answer", body = String, content_type = "text/plain"),
        (status = 500, description = "The database or storage does not answer", body = openapi::ErrorBody),
    ))]
async fn readyz(State(taina): State<Taina>) -> Result<&'static str, ApiError> {
    taina.ready().await?;
    Ok("ready")
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        state.openapi.as_str().to_owned(),
    )
        .into_response()
}
