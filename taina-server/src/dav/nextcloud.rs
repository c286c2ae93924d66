//! What Nextcloud's desktop and mobile clients ask before they sync, so that they work against
//! Tainá: `/status.php`, the OCS capabilities and user, and Login Flow v2 (`login_flow.rs`). The
//! files themselves are the same WebDAV tree (`/remote.php/dav/files/{user id}/`), with
//! ownCloud's properties (`oc:fileid`, `oc:permissions`, `oc:size`, `oc:checksums`).

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::authenticate;
use crate::AppState;
use crate::client::Peer;

/// The Nextcloud server version Tainá answers as: the clients check it to pick what to speak
/// (chunked uploads v2, Login Flow v2); Tainá implements what they use of it.
const AS_VERSION: [u32; 3] = [28, 0, 0];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/status.php", get(status))
        .route("/ocs/v1.php/cloud/capabilities", get(capabilities))
        .route("/ocs/v2.php/cloud/capabilities", get(capabilities))
        .route("/ocs/v1.php/cloud/user", get(user))
        .route("/ocs/v2.php/cloud/user", get(user))
}

fn version_string() -> String {
    AS_VERSION.map(|n| n.to_string()).join(".")
}

async fn status() -> Response {
    axum::Json(json!({
        "installed": true,
        "maintenance": false,
        "needsDbUpgrade": false,
        "version": format!("{}.0", version_string()),
        "versionstring": version_string(),
        "edition": "",
        "productname": "Tainá",
        "extendedSupport": false,
    }))
    .into_response()
}

/// An OCS answer (`{"ocs": {"meta", "data"}}`).
fn ocs(data: Value) -> Response {
    axum::Json(json!({
        "ocs": {
            "meta": {"status": "ok", "statuscode": 100, "message": "OK"},
            "data": data,
        }
    }))
    .into_response()
}

async fn capabilities() -> Response {
    ocs(json!({
        "version": {
            "major": AS_VERSION[0], "minor": AS_VERSION[1], "micro": AS_VERSION[2],
            "string": version_string(), "edition": "", "extendedSupport": false,
        },
        "capabilities": {
            "core": {"pollinterval": 60, "webdav-root": "remote.php/webdav"},
            "dav": {"chunking": "1.0"},
            "files": {"bigfilechunking": true, "undelete": true, "versioning": true},
        },
    }))
}

async fn user(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|c| c.0.0.ip());
    let client = crate::client::resolve(peer, request.headers(), &state.reach);
    let (actor, _) = match authenticate(&state, &client, request.headers()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let accounts = state.taina.accounts();
    let me = match accounts.me(&actor).await {
        Ok(me) => me,
        Err(e) => return super::error_response(e.into()),
    };
    let quota = match state.taina.ybira().dav_quota(&actor).await {
        Ok(quota) => quota,
        Err(e) => return super::error_response(e.into()),
    };
    let total = quota.used + quota.available;
    let relative = if total == 0 {
        0.0
    } else {
        (quota.used as f64 / total as f64 * 10_000.0).round() / 100.0
    };
    ocs(json!({
        "id": me.id,
        "display-name": me.display_name,
        "displayname": me.display_name,
        "email": me.email,
        "enabled": me.disabled_at.is_none(),
        "quota": {
            "free": quota.available, "used": quota.used, "total": total,
            "relative": relative, "quota": total,
        },
    }))
}
