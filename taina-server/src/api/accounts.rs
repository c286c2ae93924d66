//! Setup, sign-in and accounts; the community, its members and invites.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde::Deserialize;
use serde_json::json;
use taina::accounts::{
    CommunityUpdate, LoginRequest, NewInvite, ProfileUpdate, RegisterRequest, SetupRequest,
    SignedIn,
};
use taina::core::{InviteId, Role, SessionId, UserId};

use super::{Body, Client, List, path_id};
use crate::auth::{Auth, clear_cookies, session_cookies};
use crate::{ApiError, AppState};

pub(super) fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/setup", post(setup))
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me).patch(update_me))
        .route("/me/password", post(change_password))
        .route("/me/sessions", get(sessions))
        .route("/me/sessions/{id}", delete(revoke_session))
        .route("/community", get(community).patch(update_community))
        .route("/community/members", get(members))
        .route(
            "/community/members/{id}",
            patch(update_member).delete(remove_member),
        )
        .route("/community/invites", get(invites).post(create_invite))
        .route("/community/invites/{id}", delete(revoke_invite))
        .route("/storage", get(storage))
}

/// `{"token", "user"}` with the session cookies.
fn signed_in(state: &AppState, status: StatusCode, signed_in: SignedIn) -> Response {
    let mut response = (
        status,
        axum::Json(json!({ "token": signed_in.token, "user": signed_in.user })),
    )
        .into_response();
    for cookie in session_cookies(&signed_in, state.taina.now(), state.secure_cookies) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupBody {
    community_name: String,
    email: String,
    password: String,
    display_name: String,
}

async fn setup(
    State(state): State<AppState>,
    client: Client,
    Body(body): Body<SetupBody>,
) -> Result<Response, ApiError> {
    let done = state
        .taina
        .accounts()
        .setup(SetupRequest {
            community_name: body.community_name,
            community_slug: None,
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            user_agent: client.user_agent,
        })
        .await?;
    Ok(signed_in(&state, StatusCode::CREATED, done))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    invite: String,
    email: String,
    password: String,
    display_name: String,
}

async fn register(
    State(state): State<AppState>,
    client: Client,
    Body(body): Body<RegisterBody>,
) -> Result<Response, ApiError> {
    let done = state
        .taina
        .accounts()
        .register(RegisterRequest {
            invite: Some(body.invite),
            community: None,
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            user_agent: client.user_agent,
        })
        .await?;
    Ok(signed_in(&state, StatusCode::CREATED, done))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
    community: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    client: Client,
    Body(body): Body<LoginBody>,
) -> Result<Response, ApiError> {
    let done = state
        .taina
        .accounts()
        .login(LoginRequest {
            email: body.email,
            password: body.password,
            community: body.community,
            user_agent: client.user_agent,
            client_key: client.ip,
        })
        .await?;
    Ok(signed_in(&state, StatusCode::OK, done))
}

async fn logout(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    state.taina.accounts().logout(&actor).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for cookie in clear_cookies() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn me(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.accounts().me(&actor).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeBody {
    display_name: Option<String>,
}

async fn update_me(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<MeBody>,
) -> Result<Response, ApiError> {
    let user = state
        .taina
        .accounts()
        .update_profile(
            &actor,
            ProfileUpdate {
                display_name: body.display_name,
            },
        )
        .await?;
    Ok(axum::Json(user).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    state
        .taina
        .accounts()
        .change_password(&actor, &body.current_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sessions(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    let sessions = state.taina.accounts().sessions(&actor).await?;
    Ok(axum::Json(List::all(sessions)).into_response())
}

async fn revoke_session(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, SessionId::parse)?;
    state.taina.accounts().revoke_session(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn community(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.accounts().community(&actor).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommunityBody {
    name: Option<String>,
    storage_quota_bytes: Option<i64>,
}

async fn update_community(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<CommunityBody>,
) -> Result<Response, ApiError> {
    let community = state
        .taina
        .accounts()
        .update_community(
            &actor,
            CommunityUpdate {
                name: body.name,
                settings: None,
                storage_quota_bytes: body.storage_quota_bytes,
            },
        )
        .await?;
    Ok(axum::Json(community).into_response())
}

async fn members(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.accounts().members(&actor).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    role: Option<Role>,
    disabled: Option<bool>,
}

async fn update_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Body(body): Body<MemberBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, UserId::parse)?;
    let accounts = state.taina.accounts();
    if let Some(role) = body.role {
        accounts.set_role(&actor, &id, role).await?;
    }
    if let Some(disabled) = body.disabled {
        accounts.set_disabled(&actor, &id, disabled).await?;
    }
    Ok(axum::Json(accounts.member(&actor, &id).await?).into_response())
}

async fn remove_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, UserId::parse)?;
    state.taina.accounts().remove_member(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn invites(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.accounts().invites(&actor).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    #[serde(default = "member")]
    role: Role,
    #[serde(default = "week")]
    expires_in_hours: u64,
    #[serde(default = "one")]
    max_uses: i64,
}

fn member() -> Role {
    Role::Member
}
fn week() -> u64 {
    7 * 24
}
fn one() -> i64 {
    1
}

async fn create_invite(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    Body(body): Body<InviteBody>,
) -> Result<Response, ApiError> {
    let created = state
        .taina
        .accounts()
        .create_invite(
            &actor,
            NewInvite {
                role: body.role,
                expires_in: Duration::from_secs(body.expires_in_hours.min(24 * 365) * 3600),
                max_uses: body.max_uses,
            },
        )
        .await?;
    let base = match &state.taina.config().public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let mut invite = serde_json::to_value(&created.invite)
        .map_err(|e| ApiError::from(taina::Error::Corrupt(e.to_string())))?;
    invite["token"] = json!(created.token);
    invite["url"] = json!(format!("{base}/register?invite={}", created.token));
    Ok((StatusCode::CREATED, axum::Json(invite)).into_response())
}

async fn revoke_invite(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, InviteId::parse)?;
    state.taina.accounts().revoke_invite(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn storage(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.accounts().storage(&actor).await?).into_response())
}
