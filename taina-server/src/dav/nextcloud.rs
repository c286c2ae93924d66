//! What Nextcloud's desktop and mobile clients ask before they sync, so that they work against
//! Tainá: `/status.php`, the OCS capabilities and user, and Login Flow v2 (`login_flow.rs`). The
//! files themselves are the same WebDAV tree (`/remote.php/dav/files/{user id}/`), with
//! ownCloud's properties (`oc:fileid`, `oc:permissions`, `oc:size`, `oc:checksums`).

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::authenticate;
use crate::AppState;
use crate::client::Client;

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
        .route("/index.php/login/v2", post(start_login_flow))
        .route("/index.php/login/v2/poll", post(poll_login_flow))
}

/// Login Flow v2: the client asks to sign in; it opens `login` in a browser, where the person
/// approves it, and polls `poll` for its app password.
async fn start_login_flow(State(state): State<AppState>, client: Client) -> Response {
    let base = client.public_base(state.taina.config());
    let name = client.user_agent.as_deref().unwrap_or("a device");
    match state.taina.accounts().start_login_flow(name).await {
        Ok(flow) => axum::Json(json!({
            "poll": {"token": flow.poll_token, "endpoint": format!("{base}/index.php/login/v2/poll")},
            "login": format!("{base}/connect/{}", flow.login_token),
        }))
        .into_response(),
        Err(e) => super::error_response(e.into()),
    }
}

/// The poll's form: `token=...`.
#[derive(serde::Deserialize)]
struct PollForm {
    token: String,
}

async fn poll_login_flow(
    State(state): State<AppState>,
    client: Client,
    form: Result<axum::Form<PollForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return super::plain(StatusCode::BAD_REQUEST, "send the poll token as token=...");
    };
    let base = client.public_base(state.taina.config());
    match state.taina.accounts().poll_login_flow(&form.token).await {
        Ok(Some(login)) => axum::Json(json!({
            "server": base,
            "loginName": login.login_name,
            "appPassword": login.app_password,
        }))
        .into_response(),
        // Not approved yet (or no such flow): the client polls again.
        Ok(None) => super::status(StatusCode::NOT_FOUND),
        Err(e) => super::error_response(e.into()),
    }
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

async fn user(State(state): State<AppState>, client: Client, headers: HeaderMap) -> Response {
    let (actor, _) = match authenticate(&state, &client, &headers).await {
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
