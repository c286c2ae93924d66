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
const STANDARD_ERRORS: [(&str, &str); 8] = [
    (
        "400",
        "Malformed request (bad JSON, bad multipart, a query parameter that does not parse)",
    ),
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
    (
        "507",
        "The server's disk is full (`storage_full`): nothing was stored; the operator must make room",
    ),
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
                constrain_parameters(operation);
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
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    for (status, _) in STANDARD_ERRORS {
        let applies = match status {
            "400" => any_body || has_query,
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

/// Parameters whose constraints come from the rules' constants ([`crate::api::constraints`]),
/// by name (a tuple in `#[utoipa::path]` can name only a type).
fn constrain_parameters(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in == ParameterIn::Path && parameter.name == "emoji" {
            parameter.schema = Some(crate::api::constraints::emoji());
        }
        if parameter.parameter_in == ParameterIn::Header {
            header_as_sent(parameter);
        }
        // `schema_with` hides the field's type from utoipa, which then cannot see it is required.
        if parameter.parameter_in == ParameterIn::Query && parameter.name == "q" {
            parameter.required = utoipa::openapi::Required::True;
        }
    }
}

/// A header's schema as it travels: text, present or not. utoipa writes an `Option` as
/// nullable (`oneOf: [null, T]` or `type: [T, null]`), and a number as an integer, which a header
/// never is on the wire: a count of bytes is written as its decimal digits.
fn header_as_sent(parameter: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    let Some(schema) = parameter.schema.as_mut() else {
        return;
    };
    if let RefOr::T(Schema::OneOf(one_of)) = schema
        && let Some(inner) = one_of
            .items
            .iter()
            .find(|s| !matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null)))
            .cloned()
    {
        *schema = inner;
    }
    if let RefOr::T(Schema::Object(object)) = schema {
        if let SchemaType::Array(types) = &object.schema_type {
            let kept: Vec<Type> = types
                .iter()
                .filter(|t| **t != Type::Null)
                .cloned()
                .collect();
            object.schema_type = SchemaType::from_iter(kept);
        }
        if object.schema_type == SchemaType::Type(Type::Integer) {
            *object = ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[0-9]{1,19}$"))
                .description(Some("A number of bytes, in decimal digits"))
                .build();
        }
    }
}

/// Finishes the document the router collected: security schemes and standard errors.
pub fn finish(mut doc: Document) -> Document {
    Conventions.modify(&mut doc);
    // A tus piece is the body (possibly empty), with its content type.
    if let Some(body) = doc
        .paths
        .paths
        .get_mut("/api/v1/uploads/{id}")
        .and_then(|item| item.patch.as_mut())
        .and_then(|op| op.request_body.as_mut())
    {
        body.required = Some(utoipa::openapi::Required::True);
    }
    any_of_lists(&mut doc);
    doc
}

/// `SharesView` is a list of shares or a list of items; an empty list is both, so the document
/// says `anyOf` (utoipa writes `oneOf` for an untagged enum, which an empty list would break).
fn any_of_lists(doc: &mut Document) {
    use utoipa::openapi::schema::{AnyOf, Schema};
    if let Some(schema) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("SharesView"))
        && let RefOr::T(Schema::OneOf(one_of)) = schema
    {
        let mut any_of = AnyOf::new();
        any_of.items = std::mem::take(&mut one_of.items);
        any_of.description = one_of.description.take();
        *schema = RefOr::T(Schema::AnyOf(any_of));
    }
}

/// States the limits this server's configuration sets: the largest upload (`Upload-Length` of a
/// resumable upload) and the largest quota an admin may give (`storage_quota_bytes`).
pub fn with_config(mut doc: Document, config: &taina::Config) -> Document {
    use utoipa::openapi::schema::Schema;
    let set_maximum = |schema: &mut RefOr<Schema>, maximum: f64| {
        if let RefOr::T(Schema::Object(object)) = schema {
            object.maximum = Some(maximum.into());
            object.minimum = Some(0.0.into());
        }
    };
    if let Some(operation) = doc
        .paths
        .paths
        .get_mut("/api/v1/uploads")
        .and_then(|item| item.post.as_mut())
    {
        for parameter in operation.parameters.iter_mut().flatten() {
            if parameter.name == "Upload-Length" {
                parameter.description = Some(format!(
                    "The whole file's size in bytes, at most {} on this server \
                     (`Upload-Defer-Length` is not supported)",
                    config.max_upload_bytes
                ));
            }
        }
    }
    if let Some(RefOr::T(Schema::Object(body))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("CommunityBody"))
        && let Some(quota) = body.properties.get_mut("storage_quota_bytes")
    {
        set_maximum(quota, config.max_community_quota_bytes as f64);
    }
    doc
}

/// Rules between fields, which utoipa's derive cannot write: added to the served JSON.
/// - a new conversation: a direct one names exactly one other person, a group at least one;
/// - a message: some text that is not blank, unless a file is attached.
pub fn refine(doc: &mut serde_json::Value) {
    use serde_json::json;
    add_links(doc);
    let schemas = &mut doc["components"]["schemas"];
    if let Some(conversation) = schemas.get_mut("NewConversation") {
        // Each variant restates the whole `participant_ids` schema (items included) with its
        // count: generators that take a variant on its own need to know what an item is.
        let participants = conversation["properties"]["participant_ids"].clone();
        let counted = |min: u64, max: Option<u64>| {
            let mut schema = participants.clone();
            schema["minItems"] = json!(min);
            if let Some(max) = max {
                schema["maxItems"] = json!(max);
            }
            schema
        };
        conversation["oneOf"] = json!([
            {
                "description": "A direct conversation: me and exactly one other person",
                "properties": {
                    "type": {"const": "direct"},
                    "participant_ids": counted(1, Some(1))
                },
                "required": ["type", "participant_ids"]
            },
            {
                "description": "A group, with its name: me and at least one other person",
                "properties": {
                    "type": {"const": "group"},
                    "name": {"type": "string"},
                    "participant_ids": counted(1, None)
                },
                "required": ["type", "name", "participant_ids"]
            }
        ]);
    }
    if let Some(message) = schemas.get_mut("SendBody") {
        let blank_free = crate::api::constraints::non_blank_text_pattern();
        message["anyOf"] = json!([
            {
                "description": "With an attachment (the text may be empty)",
                "properties": {"file_id": {"type": "string"}},
                "required": ["file_id"]
            },
            {
                "description": "Some text that is not blank",
                "properties": {"content": {"type": "string", "minLength": 1, "pattern": blank_free}},
                "required": ["content"]
            }
        ]);
    }
}

/// Where an id a response holds is used next: (the source operation, the JSON pointer in its
/// answer, the path the id fills, that path's parameter). Each becomes an OpenAPI `link` from the
/// source's success answer to every operation under the path, so a client (and schemathesis's
/// stateful phase) can create a folder and then use its id.
const LINKS: [(&str, &str, &str, &str, &str); 13] = [
    ("post", "/folders", "/id", "/folders/{id}", "id"),
    ("post", "/files", "/id", "/files/{id}", "id"),
    ("post", "/files/{id}/copy", "/id", "/files/{id}", "id"),
    ("post", "/photos", "/id", "/photos/{id}", "id"),
    ("post", "/photos", "/file_id", "/files/{id}", "id"),
    ("post", "/albums", "/id", "/albums/{id}", "id"),
    ("post", "/conversations", "/id", "/conversations/{id}", "id"),
    (
        "post",
        "/conversations/direct/{user_id}",
        "/id",
        "/conversations/{id}",
        "id",
    ),
    (
        "post",
        "/conversations/{id}/messages",
        "/id",
        "/messages/{id}",
        "id",
    ),
    ("post", "/shares", "/id", "/shares/{id}", "id"),
    (
        "post",
        "/community/invites",
        "/id",
        "/community/invites/{id}",
        "id",
    ),
    ("get", "/trash", "/items/0/id", "/trash/{id}", "id"),
    (
        "get",
        "/files/{id}/versions",
        "/items/0/id",
        "/files/{id}/versions/{version}",
        "version",
    ),
];

/// Where the API is served (the router nests it here; the document's paths start with it).
pub(crate) const API_PREFIX: &str = "/api/v1";

/// Adds [`LINKS`] to the document (a JSON value: utoipa's model has no links on responses).
fn add_links(doc: &mut serde_json::Value) {
    use serde_json::{Map, Value, json};
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return;
    };
    // Every operation: (its path without the prefix, its operationId).
    let mut operations = Vec::new();
    for (path, item) in paths {
        let short = path.strip_prefix(API_PREFIX).unwrap_or(path);
        for operation in item.as_object().into_iter().flatten().map(|(_, op)| op) {
            if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                operations.push((short.to_owned(), id.to_owned()));
            }
        }
    }
    for (source_method, source_path, pointer, target, parameter) in LINKS {
        let mut links = Map::new();
        for (path, operation_id) in operations
            .iter()
            .filter(|(path, ..)| path == target || path.starts_with(&format!("{target}/")))
        {
            let mut parameters = Map::new();
            parameters.insert(
                parameter.to_owned(),
                json!(format!("$response.body#{pointer}")),
            );
            // The source's own `id` names the same thing in a path below it (a file's versions).
            if parameter != "id" && path.contains("{id}") {
                parameters.insert("id".to_owned(), json!("$request.path.id"));
            }
            links.insert(
                operation_id.clone(),
                json!({ "operationId": operation_id, "parameters": parameters }),
            );
        }
        let full = format!("{API_PREFIX}{source_path}");
        let Some(responses) = doc
            .pointer_mut(&format!(
                "/paths/{}/{source_method}/responses",
                escape(&full)
            ))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let Some(status) = ["201", "200"]
            .into_iter()
            .find(|status| responses.contains_key(*status))
        else {
            continue;
        };
        let Some(success) = responses.get_mut(status).and_then(Value::as_object_mut) else {
            continue;
        };
        let existing = success
            .entry("links")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(existing) = existing.as_object_mut() {
            for (name, link) in links {
                // Two sources of one target from one answer (a photo's id and its file's id)
                // keep both: the second is named after its pointer too.
                let name = if existing.contains_key(&name) {
                    format!("{name}_by{}", pointer.replace('/', "_"))
                } else {
                    name
                };
                existing.insert(name, link);
            }
        }
    }
}

/// A JSON pointer segment for `segment` (RFC 6901: `~` is `~0`, `/` is `~1`).
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod link_tests {
    use super::*;

    /// Every source of [`LINKS`] exists, answers with links, and each link names a real
    /// operation: a renamed route cannot silently drop the stateful phase's way through.
    #[test]
    fn every_link_connects_real_operations() {
        let mut doc = serde_json::to_value(crate::openapi_document()).unwrap_or_default();
        refine(&mut doc);
        let ids: Vec<String> = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(_, item)| item.as_object().into_iter().flatten())
            .filter_map(|(_, op)| op["operationId"].as_str().map(str::to_owned))
            .collect();
        for (method, path, ..) in LINKS {
            let responses = &doc["paths"][format!("{API_PREFIX}{path}")][method]["responses"];
            let success = if responses["201"].is_object() {
                &responses["201"]
            } else {
                &responses["200"]
            };
            let links = success["links"].as_object();
            assert!(
                links.is_some_and(|l| !l.is_empty()),
                "{method} {path} has no links"
            );
            for link in links.into_iter().flatten().map(|(_, l)| l) {
                let target = link["operationId"].as_str().unwrap_or_default();
                assert!(
                    ids.iter().any(|id| id == target),
                    "{target} is no operation"
                );
            }
        }
        let folder = &doc["paths"]["/api/v1/folders"]["post"]["responses"]["201"]["links"];
        assert!(
            folder.as_object().is_some_and(|l| l
                .values()
                .any(|l| l["parameters"]["id"] == "$response.body#/id")),
            "creating a folder links to the operations that take its id: {folder}"
        );
    }
}
