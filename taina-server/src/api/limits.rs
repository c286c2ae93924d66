//! `GET /api/v1/limits`: the rules clients shape their forms, uploads and pages by, from the
//! library (no client copies them as literals).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use taina::limits::Limits;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(limits))
}

/// The lengths, sizes, page sizes and timings this server holds clients to. Public: the sign-up
/// and sign-in forms need them before anyone is signed in.
#[utoipa::path(get, path = "/limits", tag = "operations", security(()),
    responses((status = 200, description = "The limits", body = Limits)))]
async fn limits(State(state): State<AppState>) -> Response {
    axum::Json(state.taina.limits()).into_response()
}
