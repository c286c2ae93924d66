//! The web app (PWA), served from inside the binary: the files under `taina-server/web/` are
//! compiled in, so the server needs no Node toolchain and no files beside it. Every page path of
//! the app answers the same shell (`index.html`); the app routes in the browser.
//!
//! The pages get their own Content-Security-Policy: scripts, styles and connections only from
//! this origin (the socket included), no inline script, no framing.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::AppState;

/// One file of the app.
struct Asset {
    path: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

/// Everything the app is made of.
const ASSETS: &[Asset] = &[
    Asset {
        path: "index.html",
        mime: "text/html; charset=utf-8",
        bytes: include_bytes!("../web/index.html"),
    },
    Asset {
        path: "app.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../web/app.js"),
    },
    Asset {
        path: "style.css",
        mime: "text/css; charset=utf-8",
        bytes: include_bytes!("../web/style.css"),
    },
    Asset {
        path: "sw.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../web/sw.js"),
    },
    Asset {
        path: "offline.html",
        mime: "text/html; charset=utf-8",
        bytes: include_bytes!("../web/offline.html"),
    },
    Asset {
        path: "manifest.webmanifest",
        mime: "application/manifest+json",
        bytes: include_bytes!("../web/manifest.webmanifest"),
    },
    Asset {
        path: "icon-192.png",
        mime: "image/png",
        bytes: include_bytes!("../web/icons/icon-192.png"),
    },
    Asset {
        path: "icon-512.png",
        mime: "image/png",
        bytes: include_bytes!("../web/icons/icon-512.png"),
    },
];

/// The pages' policy.
const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; \
     manifest-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The web app's routes: its pages and its files.
pub fn routes() -> Router<AppState> {
    let shell = || get(|headers: HeaderMap| async move { asset("index.html", &headers) });
    let mut router = Router::new();
    for page in [
        "/",
        "/setup",
        "/login",
        "/register",
        "/files",
        "/files/{rest}",
        "/photos",
        "/photos/albums",
        "/photos/albums/{rest}",
        "/messages",
        "/messages/{rest}",
        "/settings",
        "/connect/{rest}",
    ] {
        router = router.route(page, shell());
    }
    router
        .route(
            "/app/{file}",
            get(|Path(file): Path<String>, headers: HeaderMap| async move {
                asset(&file, &headers)
            }),
        )
        .route(
            "/icons/{file}",
            get(|Path(file): Path<String>, headers: HeaderMap| async move {
                asset(&file, &headers)
            }),
        )
        .route(
            "/sw.js",
            get(|headers: HeaderMap| async move { asset("sw.js", &headers) }),
        )
        .route(
            "/offline.html",
            get(|headers: HeaderMap| async move { asset("offline.html", &headers) }),
        )
        .route(
            "/manifest.webmanifest",
            get(|headers: HeaderMap| async move { asset("manifest.webmanifest", &headers) }),
        )
}

/// An asset, revalidated by its content hash (cheap 304s; a new binary's files are seen at once).
fn asset(name: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(asset.bytes)[..12]));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.bytes.into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(APP_CSP),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if name == "sw.js" {
        h.insert("service-worker-allowed", HeaderValue::from_static("/"));
    }
    response
}
