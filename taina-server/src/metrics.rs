//! Prometheus metrics at `/metrics`: requests by route and status, latency histograms by route,
//! uploads stored, open WebSockets and the job queue's depth. Routes are the matched templates
//! (`/api/v1/files/{id}`), never raw paths, so the number of series stays bounded.
//!
//! Served to loopback clients (a Prometheus on the same host) and to admins' tokens.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use taina::core::Error as DomainError;

use crate::client::Client;
use crate::{ApiError, AppState};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Files stored by uploads (multipart and tus).
    pub uploads: Counter,
    /// WebSockets open now.
    pub websockets: Gauge,
    jobs: Gauge,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("taina");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let uploads = Counter::default();
        let websockets = Gauge::default();
        let jobs = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register("uploads", "Files stored by uploads", uploads.clone());
        registry.register("websockets_open", "WebSockets open now", websockets.clone());
        registry.register(
            "jobs_pending",
            "Background jobs waiting or running",
            jobs.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            uploads,
            websockets,
            jobs,
        }
    }
}

/// Counts and times every request under its route template.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let route_labels = RouteLabels {
        method: method.clone(),
        route: route.clone(),
    };
    metrics
        .latency
        .get_or_create(&route_labels)
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// `GET /metrics`, in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    description = "Prometheus metrics. Clients on this machine (not relayed by a proxy) need no token; others must be admins.",
    responses((status = 200, description = "Metrics in the OpenMetrics text format", body = String,
        content_type = "application/openmetrics-text")))]
pub async fn serve(
    State(state): State<AppState>,
    client: Client,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if !client.is_local() {
        let (token, _) = crate::auth::token(&headers).ok_or(DomainError::Unauthenticated {
            reason: "sign in as an admin",
        })?;
        let actor = state.taina.accounts().authenticate(token).await?;
        if !actor.is_admin() {
            return Err(DomainError::Forbidden {
                reason: "metrics are for admins",
            }
            .into());
        }
    }
    let metrics = &state.metrics;
    metrics
        .jobs
        .set(i64::try_from(state.taina.jobs().pending().await?).unwrap_or(i64::MAX));
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &metrics.registry).map_err(|e| {
        ApiError::request(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    })?;
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}
