//! Setup, sign-in and accounts; the community, its members and invites.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taina::accounts::{
    CommunityUpdate, LoginRequest, NewInvite, ProfileUpdate, RegisterRequest, SetupRequest,
    SignedIn,
};
use taina::core::invite::Invite;
use taina::core::quota::Quota;
use taina::core::{Community, InviteId, Role, User, UserId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::constraints;
use super::{Body, Client, List, PathId};
use crate::auth::{Auth, clear_cookies, session_cookies};
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(setup_status, setup))
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me, update_me))
        .routes(routes!(community, update_community))
        .routes(routes!(members))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(invites, create_invite))
        .routes(routes!(revoke_invite))
        .routes(routes!(storage))
}

/// What setup, register and login answer (the session cookies come with it).
#[derive(Serialize, ToSchema)]
struct SignedInView {
    /// The session token, for `Authorization: Bearer`.
    token: String,
    /// Who signed in.
    user: User,
}

/// `{"token", "user"}` with the session cookies.
fn signed_in(
    state: &AppState,
    client: &Client,
    status: StatusCode,
    signed_in: SignedIn,
) -> Response {
    let mut response = (
        status,
        axum::Json(SignedInView {
            token: signed_in.token.clone(),
            user: signed_in.user.clone(),
        }),
    )
        .into_response();
    let secure = crate::auth::secure(state, client);
    for cookie in session_cookies(&signed_in, state.taina.now(), secure) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The first community and its first admin.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SetupBody {
    #[schema(schema_with = constraints::community_name)]
    community_name: String,
    #[schema(schema_with = constraints::email)]
    email: String,
    #[schema(schema_with = constraints::new_password)]
    password: String,
    #[schema(schema_with = constraints::display_name)]
    display_name: String,
}

/// Whether the instance still awaits first-run setup (the web app shows setup or sign-in).
#[derive(Serialize, ToSchema)]
struct SetupStatus {
    /// `true` until the first community exists.
    needs_setup: bool,
}

/// Whether first-run setup is still to be done.
#[utoipa::path(get, path = "/setup", tag = "accounts", security(()),
    responses((status = 200, description = "Whether setup is needed", body = SetupStatus)))]
async fn setup_status(State(state): State<AppState>) -> Result<Response, ApiError> {
    let needs_setup = state.taina.accounts().needs_setup().await?;
    Ok(axum::Json(SetupStatus { needs_setup }).into_response())
}

/// First run only: creates the community and its first admin, and signs them in.
#[utoipa::path(post, path = "/setup", tag = "accounts", security(()), request_body = SetupBody,
    responses(
        (status = 201, description = "Set up and signed in", body = SignedInView),
        (status = 409, description = "Already set up", body = ErrorBody),
        (status = 429, description = "Too many sign-ins are being checked; retry after `Retry-After` seconds", body = ErrorBody),
    ))]
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
            user_agent: client.user_agent.clone(),
        })
        .await?;
    Ok(signed_in(&state, &client, StatusCode::CREATED, done))
}

/// A new account from an invite.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    /// The `token` that creating the invite answered.
    #[schema(pattern = "^[A-Za-z0-9_-]{43}$")]
    invite: String,
    #[schema(schema_with = constraints::email)]
    email: String,
    #[schema(schema_with = constraints::new_password)]
    password: String,
    #[schema(schema_with = constraints::display_name)]
    display_name: String,
}

/// Creates an account with an invite and signs it in.
#[utoipa::path(post, path = "/auth/register", tag = "accounts", security(()), request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered and signed in", body = SignedInView),
        (status = 403, description = "The invite is not valid (unknown, expired or used up)", body = ErrorBody),
        (status = 409, description = "The email is taken", body = ErrorBody),
        (status = 429, description = "Busy; retry after `Retry-After` seconds", body = ErrorBody),
    ))]
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
            user_agent: client.user_agent.clone(),
        })
        .await?;
    Ok(signed_in(&state, &client, StatusCode::CREATED, done))
}

/// A sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    #[schema(schema_with = constraints::email)]
    email: String,
    #[schema(schema_with = constraints::password)]
    password: String,
    /// The community's slug, when the instance holds several.
    #[schema(schema_with = constraints::slug_or_null)]
    community: Option<String>,
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/auth/login", tag = "accounts", security(()), request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = SignedInView),
        (status = 401, description = "Wrong email or password (or no community by that slug)", body = ErrorBody),
        (status = 429, description = "Too many attempts; retry after `Retry-After` seconds", body = ErrorBody),
    ))]
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
            user_agent: client.user_agent.clone(),
            client_key: client.ip.clone(),
        })
        .await?;
    Ok(signed_in(&state, &client, StatusCode::OK, done))
}

/// Ends this session (and clears the cookies).
#[utoipa::path(post, path = "/auth/logout", tag = "accounts",
    responses((status = 204, description = "Signed out")))]
async fn logout(
    State(state): State<AppState>,
    Auth(actor): Auth,
    client: Client,
) -> Result<Response, ApiError> {
    state.taina.accounts().logout(&actor).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for cookie in clear_cookies(crate::auth::secure(&state, &client)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Who I am.
#[utoipa::path(get, path = "/me", tag = "accounts",
    responses((status = 200, description = "Me", body = User)))]
async fn me(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.accounts().me(&actor).await?).into_response())
}

/// Changes to my profile.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MeBody {
    #[schema(schema_with = constraints::display_name_or_null)]
    display_name: Option<String>,
}

/// Changes my profile.
#[utoipa::path(patch, path = "/me", tag = "accounts", request_body = MeBody,
    responses((status = 200, description = "My profile, changed", body = User)))]
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

/// My community (`storage_used_bytes` only for admins).
#[utoipa::path(get, path = "/community", tag = "community",
    responses((status = 200, description = "The community", body = Community)))]
async fn community(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.accounts().community(&actor).await?).into_response())
}

/// Changes to the community (admins).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CommunityBody {
    #[schema(schema_with = constraints::community_name_or_null)]
    name: Option<String>,
    /// The community's storage quota in bytes.
    #[schema(schema_with = constraints::quota_bytes_or_null)]
    storage_quota_bytes: Option<i64>,
}

/// Renames the community or sets its quota (admins; at most the server's
/// `max_community_quota_bytes`, or the larger quota the operator gave).
#[utoipa::path(patch, path = "/community", tag = "community", request_body = CommunityBody,
    responses((status = 200, description = "The community, changed", body = Community)))]
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

/// The community's members.
#[utoipa::path(get, path = "/community/members", tag = "community",
    responses((status = 200, description = "The members", body = List<User>)))]
async fn members(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.accounts().members(&actor).await?)).into_response())
}

/// Changes to a member (admins).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    role: Option<Role>,
    disabled: Option<bool>,
}

/// Changes a member's role, or disables or enables them (admins). The last active admin stays.
#[utoipa::path(patch, path = "/community/members/{id}", tag = "community", request_body = MemberBody,
    params(("id" = inline(taina::core::UserId), Path, description = "The member's user id")),
    responses(
        (status = 200, description = "The member, changed", body = User),
        (status = 409, description = "The community would have no active admin", body = ErrorBody),
    ))]
async fn update_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<UserId>,
    Body(body): Body<MemberBody>,
) -> Result<Response, ApiError> {
    let accounts = state.taina.accounts();
    if let Some(role) = body.role {
        accounts.set_role(&actor, &id, role).await?;
    }
    if let Some(disabled) = body.disabled {
        accounts.set_disabled(&actor, &id, disabled).await?;
    }
    Ok(axum::Json(accounts.member(&actor, &id).await?).into_response())
}

/// Removes a member and their private files (admins).
#[utoipa::path(delete, path = "/community/members/{id}", tag = "community",
    params(("id" = inline(taina::core::UserId), Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "The community would have no active admin", body = ErrorBody),
    ))]
async fn remove_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<UserId>,
) -> Result<StatusCode, ApiError> {
    state.taina.accounts().remove_member(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The community's invites (admins).
#[utoipa::path(get, path = "/community/invites", tag = "community",
    responses((status = 200, description = "The invites", body = List<Invite>)))]
async fn invites(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(List::all(state.taina.accounts().invites(&actor).await?)).into_response())
}

/// A new invite (admins).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    /// The role it gives (default `member`).
    #[serde(default = "member")]
    role: Role,
    /// How long it is valid, in hours (default a week; at most 90 days).
    #[serde(default = "week")]
    #[schema(schema_with = constraints::invite_hours)]
    expires_in_hours: u64,
    /// How many accounts it may create (default 1; at most 500).
    #[serde(default = "one")]
    #[schema(schema_with = constraints::invite_uses)]
    max_uses: i64,
}

/// A new invite with its token (shown only now) and a ready link.
#[derive(Serialize, ToSchema)]
struct CreatedInvite {
    #[serde(flatten)]
    invite: Invite,
    /// The secret to pass as `invite` when registering; only its hash is stored.
    token: String,
    /// A link to the web app's registration page with the token.
    url: String,
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

/// Creates an invite; its token and link are shown only in this answer (admins).
#[utoipa::path(post, path = "/community/invites", tag = "community", request_body = InviteBody,
    responses((status = 201, description = "The invite", body = CreatedInvite)))]
async fn create_invite(
    State(state): State<AppState>,
    Auth(actor): Auth,
    client: Client,
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
    let base = client.public_base(state.taina.config());
    let url = format!("{base}/register?invite={}", created.token);
    let invite = CreatedInvite {
        invite: created.invite,
        token: created.token,
        url,
    };
    Ok((StatusCode::CREATED, axum::Json(invite)).into_response())
}

/// Revokes an invite (admins).
#[utoipa::path(delete, path = "/community/invites/{id}", tag = "community",
    params(("id" = inline(taina::core::InviteId), Path, description = "The invite's id")),
    responses((status = 204, description = "Revoked")))]
async fn revoke_invite(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<InviteId>,
) -> Result<StatusCode, ApiError> {
    state.taina.accounts().revoke_invite(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The community's storage use against its quota (admins).
#[utoipa::path(get, path = "/storage", tag = "community",
    responses((status = 200, description = "`used_bytes` and `quota_bytes`", body = Quota)))]
async fn storage(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    Ok(axum::Json(state.taina.accounts().storage(&actor).await?).into_response())
}
