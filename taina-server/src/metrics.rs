//! Prometheus metrics at `/metrics`: requests by route and status, latency histograms by route,
//! uploads stored, open WebSockets and the job queue's depth. Routes are the matched templates
//! (`/api/v1/files/{id}`), never raw paths, and methods one of a fixed set ([`method_label`]), so
//! the number of series stays bounded whatever clients send.
//!
//! Served to whoever sends the configured `metrics_token` as a bearer token, to this machine
//! (a Prometheus on the same host; unless `metrics_open_to_loopback` is off) and to admins'
//! sessions.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use taina::core::Error as DomainError;
use taina::core::wire::ErrorCode;

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

/// The label of a request's method: the standard methods by name, anything else `other`, so that
/// made-up methods create no series.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request under its route template.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method()).to_owned();
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
    description = "Prometheus metrics. Send the configured `metrics_token` as a bearer token, or an admin's session; clients on this machine (not relayed by a proxy) need neither unless `metrics_open_to_loopback` is off.",
    responses((status = 200, description = "Metrics in the OpenMetrics text format", body = String,
        content_type = "application/openmetrics-text")))]
pub async fn serve(
    State(state): State<AppState>,
    client: Client,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let config = state.taina.config();
    let token = crate::auth::request_token(&headers, crate::auth::secure(&state, &client));
    let scraper = match (config.metrics_token.as_deref(), token) {
        (Some(expected), Some((sent, false))) => same_secret(expected, sent),
        _ => false,
    };
    let local = config.metrics_open_to_loopback && client.is_local();
    if !scraper && !local {
        let (token, _) = token.ok_or(DomainError::Unauthenticated {
            reason: "send the metrics token, or sign in as an admin",
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
        ApiError::request(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            e.to_string(),
        )
    })?;
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}

/// Whether two secrets are equal, in time that does not depend on where they differ (their
/// SHA-256 digests are compared whole).
fn same_secret(expected: &str, sent: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(expected.trim()), Sha256::digest(sent.trim()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_a_fixed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        for made_up in ["PROPFIND", "FOO", "X1234567"] {
            assert_eq!(
                method_label(&Method::from_bytes(made_up.as_bytes()).unwrap()),
                "other"
            );
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("0123456789abcdef", "0123456789abcdef"));
        assert!(!same_secret("0123456789abcdef", "0123456789abcdeF"));
        assert!(!same_secret("0123456789abcdef", ""));
    }
}
