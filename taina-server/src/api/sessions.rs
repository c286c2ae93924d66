//! What signs a person in, which only a session reaches (`Area::Credentials`): their password
//! and their sessions. App passwords and device sign-ins are in `app_passwords.rs`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use taina::accounts::SessionInfo;
use taina::core::SessionId;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Body, List, PathId, constraints};
use crate::auth::Auth;
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

/// What signs a person in: their password and sessions (only a session reaches these).
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(change_password))
        .routes(routes!(sessions))
        .routes(routes!(revoke_session))
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    #[schema(schema_with = constraints::password)]
    current_password: String,
    #[schema(schema_with = constraints::new_password)]
    new_password: String,
}

/// Changes my password; my other sessions end.
#[utoipa::path(post, path = "/me/password", tag = "accounts", request_body = PasswordBody,
    responses(
        (status = 204, description = "Changed"),
        (status = 429, description = "Busy; retry after `Retry-After` seconds", body = ErrorBody),
    ))]
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

/// My sessions (`current` marks this one).
#[utoipa::path(get, path = "/me/sessions", tag = "accounts",
    responses((status = 200, description = "My sessions", body = List<SessionInfo>)))]
async fn sessions(State(state): State<AppState>, Auth(actor): Auth) -> Result<Response, ApiError> {
    let sessions = state.taina.accounts().sessions(&actor).await?;
    Ok(axum::Json(List::all(sessions)).into_response())
}

/// Ends one of my sessions.
#[utoipa::path(delete, path = "/me/sessions/{id}", tag = "accounts",
    params(("id" = inline(taina::core::SessionId), Path, description = "The session's id")),
    responses((status = 204, description = "Ended")))]
async fn revoke_session(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<SessionId>,
) -> Result<StatusCode, ApiError> {
    state.taina.accounts().revoke_session(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
