//! The OpenAPI 3.1 document, `/api/v1/openapi.json`, generated from the code: the paths come from
//! the `#[utoipa::path]` attributes of the handlers the router serves (collected by
//! `utoipa_axum`'s [`OpenApiRouter`](utoipa_axum::router::OpenApiRouter)), the schemas from the
//! types they take and answer (`utoipa::ToSchema`, derived in the library crates behind their
//! `openapi` feature).
//!
//! [`ApiDoc`] adds what is the same everywhere: the two ways to authenticate (a bearer token, the
//! session cookie), the error shape, and the errors every operation can answer, decided from what
//! the operation takes (a path parameter can name nothing: 404; a JSON body can be malformed: 400,
//! 415, 422; an authenticated call can lack a session: 401, or a CSRF token: 403; anything: 500).

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, Response, ResponseBuilder};

/// The error shape (defined once, in `taina_core::wire`, for the server and its clients).
pub use taina::core::wire::{ErrorBody, ErrorCode, ErrorDetail};

/// The document's fixed parts; the paths are merged in from the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Tainá API",
        version = "1",
        description = "Files (Ybira), photos (Jaci) and messages (Guará) of a Tainá community. \
            Lists are `{\"items\": [...], \"next_cursor\"}`; pass `next_cursor` back as `cursor`. \
            Times are RFC 3339. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`.",
        license(name = "AGPL-3.0-or-later")
    ),
    security(("bearer" = []), ("cookie" = [])),
    components(schemas(ErrorBody, ErrorDetail, ErrorCode)),
    tags(
        (name = "accounts", description = "Setup, sign-in, profile and sessions"),
        (name = "community", description = "The community, its members, invites and storage"),
        (name = "files", description = "Ybira: folders, files, versions, trash and shares"),
        (name = "uploads", description = "Resumable uploads (tus 1.0: core, creation, termination, checksum)"),
        (name = "photos", description = "Jaci: the timeline, photos, the map and albums"),
        (name = "messages", description = "Guará: conversations, messages, reactions, read state, search"),
        (name = "realtime", description = "The WebSocket"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The standard errors, by status: (status, description).
const STANDARD_ERRORS: [(&str, &str); 7] = [
    ("400", "Malformed request (bad JSON, bad multipart)"),
    ("401", "Not signed in, or the session has ended"),
    (
        "403",
        "Not allowed (role, disabled account, or a missing CSRF token with cookie auth)",
    ),
    ("404", "Nothing with that id that the caller may see"),
    ("415", "The body is not JSON"),
    (
        "422",
        "The body does not have the expected shape, or a field is invalid",
    ),
    ("500", "Internal error (details are in the server's log)"),
];

/// Adds the security schemes and each operation's standard errors.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `token` that setup, register and login answer"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The web session; unsafe requests must echo the `taina_csrf` cookie in `X-CSRF-Token`",
            ))),
        );
        for (status, description) in STANDARD_ERRORS {
            components
                .responses
                .insert(format!("E{status}"), RefOr::T(error_response(description)));
        }
        for item in doc.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
            ]
            .into_iter()
            .flatten()
            {
                add_standard_errors(operation);
            }
        }
    }
}

/// An error answer in the one error shape.
pub fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorBody",
                ))))
                .build(),
        )
        .build()
}

fn add_standard_errors(operation: &mut Operation) {
    let public = operation
        .security
        .as_ref()
        .is_some_and(|s| s.iter().all(|r| r == &Default::default()));
    let has_path_params = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Path);
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    let any_body = operation.request_body.is_some();
    for (status, _) in STANDARD_ERRORS {
        let applies = match status {
            "400" => any_body,
            "401" | "403" => !public,
            "404" => has_path_params,
            "415" | "422" => json_body,
            _ => true,
        };
        if applies {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| {
                    RefOr::Ref(utoipa::openapi::Ref::new(format!(
                        "#/components/responses/E{status}"
                    )))
                });
        }
    }
}

/// Finishes the document the router collected: security schemes and standard errors.
pub fn finish(mut doc: Document) -> Document {
    Conventions.modify(&mut doc);
    doc
}
