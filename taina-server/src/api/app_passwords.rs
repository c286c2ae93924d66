//! My app passwords: one per device, for WebDAV, desktop sync and scripts. Made here (the
//! password is in the answer and nowhere else), listed with their last use, revoked one by one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taina::accounts::{AppPasswordInfo, NewAppPassword, PendingLoginFlow};
use taina::core::AppPasswordId;
use taina::core::app_password::Scope;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Body, List, PathId, constraints};
use crate::auth::Auth;
use crate::{ApiError, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(app_passwords, create_app_password))
        .routes(routes!(revoke_app_password))
        .routes(routes!(login_flow, answer_login_flow))
}

/// A new app password's name and reach.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAppPasswordBody {
    /// The device or program it is for, e.g. "Ana's laptop".
    #[schema(schema_with = constraints::app_password_name)]
    name: String,
    /// What it may reach: `everything` (the default) or `files` (the files API, uploads and
    /// WebDAV only).
    #[serde(default = "everything")]
    scope: Scope,
}

fn everything() -> Scope {
    Scope::Everything
}

/// A new app password: shown this once.
#[derive(Serialize, ToSchema)]
struct CreatedAppPasswordView {
    /// The password (`xxxxx-xxxxx-xxxxx-xxxxx-xxxxx`; dashes, spaces and case are ignored when it
    /// is typed back). Use it with your email as HTTP Basic credentials, or as a bearer token.
    password: String,
    /// Its entry in my list.
    app_password: AppPasswordInfo,
}

/// My app passwords, newest first (never the passwords themselves).
#[utoipa::path(get, path = "/me/app-passwords", tag = "accounts",
    responses((status = 200, description = "My app passwords", body = List<AppPasswordInfo>)))]
async fn app_passwords(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Response, ApiError> {
    let list = state.taina.accounts().app_passwords(&actor).await?;
    Ok(axum::Json(List::all(list)).into_response())
}

/// Makes an app password for a device; the answer is the only place the password is shown.
#[utoipa::path(post, path = "/me/app-passwords", tag = "accounts", request_body = NewAppPasswordBody,
    responses(
        (status = 201, description = "Made", body = CreatedAppPasswordView),
        (status = 409, description = "Too many app passwords already", body = crate::openapi::ErrorBody),
    ))]
async fn create_app_password(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Body(body): Body<NewAppPasswordBody>,
) -> Result<Response, ApiError> {
    let created = state
        .taina
        .accounts()
        .create_app_password(
            &actor,
            NewAppPassword {
                name: body.name,
                scope: body.scope,
            },
        )
        .await?;
    let view = CreatedAppPasswordView {
        password: created.password,
        app_password: created.info,
    };
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(view),
    )
        .into_response())
}

/// Revokes one of my app passwords: the device using it is signed out at once.
#[utoipa::path(delete, path = "/me/app-passwords/{id}", tag = "accounts",
    params(("id" = inline(AppPasswordId), Path, description = "The app password's id")),
    responses((status = 204, description = "Revoked")))]
async fn revoke_app_password(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<AppPasswordId>,
) -> Result<StatusCode, ApiError> {
    state
        .taina
        .accounts()
        .revoke_app_password(&actor, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A device sign-in's secret, from its login link: read before the body, and anything that
/// cannot be one (not 43 URL-safe characters) is "not found", as an id that cannot exist is.
struct LoginToken(String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for LoginToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let not_found = || ApiError::from(taina::core::Error::not_found("device sign-in"));
        let axum::extract::Path(token) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found())?;
        let ok = token.len() == taina::random::SECRET_TOKEN_CHARS
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(LoginToken(token))
        } else {
            Err(not_found())
        }
    }
}

/// A device waiting for me to let it in (opened from the link the device showed).
#[utoipa::path(get, path = "/login-flows/{token}", tag = "accounts",
    params(("token" = String, Path, description = "The secret in the device's login link")),
    responses((status = 200, description = "The waiting device", body = PendingLoginFlow)))]
async fn login_flow(
    State(state): State<AppState>,
    Auth(actor): Auth,
    LoginToken(token): LoginToken,
) -> Result<Response, ApiError> {
    let flow = state
        .taina
        .accounts()
        .pending_login_flow(&actor, &token)
        .await?;
    Ok(axum::Json(flow).into_response())
}

/// Lets the device in (it receives an app password limited to files), or turns it away.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginFlowAnswer {
    /// `true` to let the device in.
    allow: bool,
}

/// Answers a device's sign-in.
#[utoipa::path(post, path = "/login-flows/{token}", tag = "accounts", request_body = LoginFlowAnswer,
    params(("token" = String, Path, description = "The secret in the device's login link")),
    responses((status = 204, description = "Answered")))]
async fn answer_login_flow(
    State(state): State<AppState>,
    Auth(actor): Auth,
    LoginToken(token): LoginToken,
    Body(body): Body<LoginFlowAnswer>,
) -> Result<StatusCode, ApiError> {
    state
        .taina
        .accounts()
        .answer_login_flow(&actor, &token, body.allow)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
