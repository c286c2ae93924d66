//! The API as a contract, driven by the OpenAPI document the server itself serves, on both
//! databases:
//! - the document lists every route of issue 6's contract, and every route it lists is served;
//! - every authenticated route refuses a caller without a session (401) and a cookie caller
//!   without the CSRF token (403);
//! - another community's ids name nothing (404), and nothing of theirs changes;
//! - bad input (malformed JSON, a wrong content type, a wrong shape, a malformed id) is refused in
//!   the error shape.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use taina::backend_tests;
use taina::core::Role;
use taina::testing::TestInstance;
use taina_server::testing::{TestServer, error, fixture_photo, json};

/// An operation of the document.
#[derive(Debug, Clone)]
struct Op {
    method: Method,
    /// The template, e.g. `/api/v1/files/{id}`.
    path: String,
    public: bool,
    json_body: bool,
}

impl Op {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path's parameters, in order.
    fn params(&self) -> Vec<String> {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_owned)
            .collect()
    }

    /// The path with each parameter replaced.
    fn fill(&self, value: impl Fn(&str) -> String) -> String {
        self.path
            .split('/')
            .map(
                |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(param) => value(param),
                    None => seg.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/")
    }
}

async fn document(client: &Client, s: &TestServer) -> Value {
    let response = client.get(s.api("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    json(response).await
}

fn operations(doc: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                .contains(&method.as_str())
            {
                continue;
            }
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            let json_body = op["requestBody"]["content"]["application/json"].is_object();
            ops.push(Op {
                method,
                path: path.clone(),
                public,
                json_body,
            });
        }
    }
    ops
}

/// What issue 6 names as the API (under `/api/v1`), plus operations and the document itself.
const CONTRACT: &[&str] = &[
    "POST /setup",
    "POST /auth/register",
    "POST /auth/login",
    "POST /auth/logout",
    "GET /me",
    "PATCH /me",
    "POST /me/password",
    "GET /me/sessions",
    "DELETE /me/sessions/{id}",
    "GET /community",
    "PATCH /community",
    "GET /community/members",
    "PATCH /community/members/{id}",
    "DELETE /community/members/{id}",
    "GET /community/invites",
    "POST /community/invites",
    "DELETE /community/invites/{id}",
    "GET /storage",
    "GET /folders/root",
    "GET /folders/community",
    "GET /folders/{id}",
    "POST /folders",
    "PATCH /folders/{id}",
    "DELETE /folders/{id}",
    "POST /files",
    "GET /files/{id}",
    "GET /files/{id}/content",
    "GET /files/{id}/thumbnail/{size}",
    "PATCH /files/{id}",
    "DELETE /files/{id}",
    "POST /files/{id}/copy",
    "GET /files/{id}/versions",
    "POST /files/{id}/versions/{version}/restore",
    "GET /trash",
    "POST /trash/{id}/restore",
    "DELETE /trash/{id}",
    "GET /shares",
    "POST /shares",
    "DELETE /shares/{id}",
    "OPTIONS /uploads",
    "POST /uploads",
    "HEAD /uploads/{id}",
    "PATCH /uploads/{id}",
    "DELETE /uploads/{id}",
    "GET /photos",
    "POST /photos",
    "GET /photos/{id}",
    "DELETE /photos/{id}",
    "GET /photos/map",
    "POST /photos/known",
    "GET /albums",
    "POST /albums",
    "GET /albums/{id}",
    "PATCH /albums/{id}",
    "DELETE /albums/{id}",
    "POST /albums/{id}/photos",
    "DELETE /albums/{id}/photos/{photo_id}",
    "PUT /albums/{id}/order",
    "GET /conversations",
    "POST /conversations",
    "POST /conversations/direct/{user_id}",
    "GET /conversations/{id}",
    "PATCH /conversations/{id}",
    "POST /conversations/{id}/participants",
    "DELETE /conversations/{id}/participants/{user_id}",
    "GET /conversations/{id}/messages",
    "POST /conversations/{id}/messages",
    "PATCH /messages/{id}",
    "DELETE /messages/{id}",
    "POST /messages/{id}/reactions",
    "DELETE /messages/{id}/reactions/{emoji}",
    "GET /messages/{id}/attachment",
    "POST /conversations/{id}/read",
    "GET /search/messages",
    "GET /ws",
    "GET /openapi.json",
];

/// A well-formed id that names nothing.
const NOBODY: &str = "AAAAAAAAAAAAAAAAAAAAA";

/// A request for `op` at `url`, with what every route needs to get past its framing (tus
/// routes want their headers) so that the answer shows the route's own decision.
fn request(client: &Client, op: &Op, url: &str) -> RequestBuilder {
    let mut request = client
        .request(op.method.clone(), url)
        .header("Tus-Resumable", "1.0.0");
    if op.path.starts_with("/api/v1/uploads/") && op.method == Method::PATCH {
        request = request
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", "0")
            .body(Vec::<u8>::new());
    }
    request
}

async fn the_document_describes_what_the_router_serves(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let doc = document(&client, &s).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = operations(&doc);
    let names: BTreeSet<String> = ops.iter().map(Op::name).collect();

    // Everything the contract names is described.
    for contract in CONTRACT {
        let (method, path) = contract.split_once(' ').unwrap();
        let name = format!("{method} /api/v1{path}");
        assert!(names.contains(&name), "the document lacks {name}");
    }
    for name in ["GET /healthz", "GET /readyz", "GET /metrics"] {
        assert!(names.contains(name), "the document lacks {name}");
    }

    // Each description is whole: its path parameters, a success answer, and refs that resolve.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        let pointer = target.strip_prefix('#').unwrap();
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {target}");
    }

    // The error codes are listed, as the closed set clients match on.
    let codes: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("the error codes are an enum")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for code in [
        "not_found",
        "unauthenticated",
        "forbidden",
        "invalid",
        "quota_exceeded",
        "bad_request",
        "checksum_mismatch",
    ] {
        assert!(codes.contains(code), "the document lacks the code {code}");
    }
    assert!(!codes.contains("unknown"), "`unknown` is never sent");
    assert_eq!(
        doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    for op in &ops {
        let described = &doc["paths"][&op.path][op.method.as_str().to_lowercase()];
        let declared: BTreeSet<String> = described["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            declared,
            op.params().into_iter().collect(),
            "{}: path parameters",
            op.name()
        );
        let statuses: Vec<&String> = described["responses"].as_object().unwrap().keys().collect();
        assert!(
            statuses
                .iter()
                .any(|s| s.starts_with('2') || s.as_str() == "101"),
            "{}: no success answer in {statuses:?}",
            op.name()
        );
        assert!(
            described["summary"].is_string() || described["description"].is_string(),
            "{}: undocumented",
            op.name()
        );
        if !op.public {
            assert!(
                statuses.iter().any(|s| s.as_str() == "401"),
                "{}: 401 not described",
                op.name()
            );
        }
    }

    // Every described route is served: the router answers it (a route the router lacks gets
    // axum's bodiless 404 or 405; our handlers answer in the error shape).
    for op in &ops {
        let url = s.at(&op.fill(|p| match p {
            "size" => "small".into(),
            "emoji" => "x".into(),
            _ => NOBODY.into(),
        }));
        let response = request(&client, op, &url).send().await.unwrap();
        let status = response.status();
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} is not served",
            op.name()
        );
        if status == StatusCode::NOT_FOUND && op.method != Method::HEAD {
            let body = response.text().await.unwrap();
            assert!(
                body.contains("\"error\""),
                "{} is not served (404 {body:?})",
                op.name()
            );
        }
    }

    // And the router serves nothing the document does not describe: the routes of the API and
    // of the server's root are all registered through `OpenApiRouter` with their descriptions.
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    for file in [
        "lib.rs",
        "api/mod.rs",
        "api/accounts.rs",
        "api/files.rs",
        "api/messages.rs",
        "api/photos.rs",
        "api/tus.rs",
        "api/ws.rs",
    ] {
        let code = std::fs::read_to_string(format!("{src}/{file}"))
            .unwrap()
            .replace("OpenApiRouter::new()", "");
        for bypass in [
            ".route(",
            ".route_service(",
            ".nest_service(",
            "Router::new()",
        ] {
            assert!(
                !code.contains(bypass),
                "{file} registers a route with {bypass} outside the OpenAPI router"
            );
        }
    }
}

async fn every_route_refuses_a_caller_without_a_session(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let signed_in = t.setup().await;
    let ops = operations(&document(&client, &s).await);
    assert!(ops.iter().filter(|op| !op.public).count() > 60);
    for op in ops.iter().filter(|op| !op.public) {
        if op.path == "/metrics" {
            continue; // Free for this machine itself; see `metrics_are_for_admins_elsewhere`.
        }
        let url = s.at(&op.fill(|p| match p {
            "size" => "small".into(),
            "emoji" => "x".into(),
            _ => NOBODY.into(),
        }));
        for auth in [None, Some("Bearer not-a-real-token")] {
            let mut req = request(&client, op, &url);
            if let Some(auth) = auth {
                req = req.header("Authorization", auth);
            }
            let response = req.send().await.unwrap();
            if op.method == Method::HEAD {
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{}", op.name());
            } else {
                let e = error(response, StatusCode::UNAUTHORIZED).await;
                assert_eq!(e["code"], "unauthenticated", "{}", op.name());
            }
        }
        // A cookie session changes nothing without the CSRF token.
        if ![Method::GET, Method::HEAD, Method::OPTIONS].contains(&op.method) {
            let response = request(&client, op, &url)
                .header("Cookie", format!("taina_session={}", signed_in.token))
                .send()
                .await
                .unwrap();
            let e = error(response, StatusCode::FORBIDDEN).await;
            assert!(
                e["message"].as_str().unwrap().contains("CSRF"),
                "{}",
                op.name()
            );
        }
    }
}

/// What community A has, by the path parameter that names it.
struct Holdings {
    ids: BTreeMap<&'static str, String>,
}

impl Holdings {
    /// A's id for the parameter `param` of `path`.
    fn id_for(&self, path: &str, param: &str) -> String {
        let key = match param {
            "user_id" => "member",
            "photo_id" => "photo",
            "version" => "version",
            "size" => return "small".into(),
            "emoji" => return "👍".into(),
            _ => {
                let first = path
                    .trim_start_matches("/api/v1/")
                    .split('/')
                    .next()
                    .unwrap();
                match (first, path) {
                    (_, p) if p.starts_with("/api/v1/me/sessions") => "session",
                    (_, p) if p.starts_with("/api/v1/me/app-passwords") => "app_password",
                    ("login-flows", _) => "login_flow",
                    (_, p) if p.starts_with("/api/v1/community/members") => "member",
                    (_, p) if p.starts_with("/api/v1/community/invites") => "invite",
                    ("folders", _) => "folder",
                    ("files", _) => "file",
                    ("trash", _) => "trashed",
                    ("shares", _) => "share",
                    ("uploads", _) => "upload",
                    ("photos", _) => "photo",
                    ("albums", _) => "album",
                    ("conversations", _) => "conversation",
                    ("messages", _) => "message",
                    _ => panic!("no holding for {param} of {path}"),
                }
            }
        };
        self.ids
            .get(key)
            .unwrap_or_else(|| panic!("no {key} held"))
            .clone()
    }
}

/// A body that gets past the shape check for `op`, so that the answer is the route's decision.
fn plausible_body(op: &Op, a: &Holdings) -> Value {
    let member = a.ids["member"].clone();
    let photo = a.ids["photo"].clone();
    match (op.method.as_str(), op.path.trim_start_matches("/api/v1")) {
        ("PATCH", "/conversations/{id}") => json!({"name": "Renamed"}),
        ("POST", "/conversations/{id}/participants") => json!({"participant_ids": [member]}),
        ("POST", "/conversations/{id}/messages") => json!({"content": "hello"}),
        ("POST", "/conversations/{id}/read") => json!({"seq": 1}),
        ("PATCH", "/messages/{id}") => json!({"content": "edited"}),
        ("POST", "/messages/{id}/reactions") => json!({"emoji": "👍"}),
        ("POST", "/albums/{id}/photos") | ("PUT", "/albums/{id}/order") => {
            json!({"photo_ids": [photo]})
        }
        ("PATCH", "/community/members/{id}") => json!({"role": "member"}),
        _ => json!({}),
    }
}

async fn post(client: &Client, s: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let response = client
        .post(s.api(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    json(response).await
}

async fn upload(s: &TestServer, token: &str, path: &str, name: &str, bytes: Vec<u8>) -> Value {
    let response = s.upload(token, path, name, bytes, &[]).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    json(response).await
}

/// Community A, with one of everything, made over HTTP.
async fn community_a(t: &TestInstance, client: &Client, s: &TestServer) -> (String, Holdings) {
    let admin = t.setup().await;
    let token = admin.token.clone();
    let admin_actor = t.actor(&admin).await;
    let (member, _) = t.join(&admin_actor, "mia@example.org", Role::Member).await;
    let mut ids = BTreeMap::new();
    ids.insert("member", member.user_id.to_string());
    let folder = post(client, s, &token, "/folders", json!({"name": "Docs"})).await;
    ids.insert("folder", folder["id"].as_str().unwrap().to_owned());
    let file = upload(s, &token, "/files", "notes.txt", b"private notes".to_vec()).await;
    ids.insert("file", file["id"].as_str().unwrap().to_owned());
    let trashed = post(client, s, &token, "/folders", json!({"name": "Old"})).await;
    let trashed_id = trashed["id"].as_str().unwrap().to_owned();
    let response = client
        .delete(s.api(&format!("/folders/{trashed_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    ids.insert("trashed", trashed_id);
    let share = post(
        client,
        s,
        &token,
        "/shares",
        json!({"item_id": ids["folder"], "user_id": ids["member"], "access": "read"}),
    )
    .await;
    ids.insert("share", share["id"].as_str().unwrap().to_owned());
    let photo = upload(
        s,
        &token,
        "/photos",
        "jolla.jpg",
        fixture_photo("jolla.jpg"),
    )
    .await;
    ids.insert("photo", photo["id"].as_str().unwrap().to_owned());
    ids.insert("photo_file", photo["file_id"].as_str().unwrap().to_owned());
    let album = post(client, s, &token, "/albums", json!({"name": "Summer"})).await;
    ids.insert("album", album["id"].as_str().unwrap().to_owned());
    let conversation = post(
        client,
        s,
        &token,
        "/conversations",
        json!({"type": "group", "name": "Family", "participant_ids": [ids["member"]]}),
    )
    .await;
    let conversation_id = conversation["id"].as_str().unwrap().to_owned();
    let message = post(
        client,
        s,
        &token,
        &format!("/conversations/{conversation_id}/messages"),
        json!({"content": "only for us", "client_id": "c1"}),
    )
    .await;
    ids.insert("conversation", conversation_id);
    ids.insert("message", message["id"].as_str().unwrap().to_owned());
    let invite = post(client, s, &token, "/community/invites", json!({})).await;
    ids.insert("invite", invite["id"].as_str().unwrap().to_owned());
    ids.insert("session", admin.session_id.to_string());
    let app_password = post(
        client,
        s,
        &token,
        "/me/app-passwords",
        json!({"name": "phone"}),
    )
    .await;
    ids.insert(
        "app_password",
        app_password["app_password"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let flow = t
        .taina
        .accounts()
        .start_login_flow("a device")
        .await
        .unwrap();
    ids.insert("login_flow", flow.login_token);
    let response = client
        .post(s.api("/uploads"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    ids.insert("upload", location.rsplit('/').next().unwrap().to_owned());
    ids.insert("version", NOBODY.to_owned());
    (token, Holdings { ids })
}

async fn another_community_sees_nothing(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let (a_token, a) = community_a(&t, &client, &s).await;
    let (_, b) = t.other_community("Outra Vila", "beto@example.org").await;
    let ops = operations(&document(&client, &s).await);
    let mut tried = 0;
    // A device sign-in belongs to no community until someone holding its link answers it: the
    // link's secret is what lets one in (as in Nextcloud's Login Flow v2), not an id of A's.
    let community_bound = |op: &&Op| !op.path.starts_with("/api/v1/login-flows/");
    for op in ops
        .iter()
        .filter(|op| !op.public && !op.params().is_empty())
        .filter(community_bound)
    {
        let url = s.at(&op.fill(|p| a.id_for(&op.path, p)));
        let mut req = request(&client, op, &url).bearer_auth(&b.token);
        if op.json_body {
            req = req.json(&plausible_body(op, &a));
        }
        let response = req.send().await.unwrap();
        if op.method == Method::HEAD {
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{}", op.name());
        } else {
            let e = error(response, StatusCode::NOT_FOUND).await;
            assert_eq!(e["code"], "not_found", "{}", op.name());
        }
        tried += 1;
    }
    assert!(tried > 30, "only {tried} routes take an id");

    // A's things are all still there, unchanged.
    for (path, field, expected) in [
        (format!("/folders/{}", a.ids["folder"]), "name", "Docs"),
        (format!("/files/{}", a.ids["file"]), "name", "notes.txt"),
        (format!("/albums/{}", a.ids["album"]), "name", "Summer"),
        (
            format!("/conversations/{}", a.ids["conversation"]),
            "name",
            "Family",
        ),
    ] {
        let response = client
            .get(s.api(&path))
            .bearer_auth(&a_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(json(response).await[field], expected, "{path}");
    }
    let response = client
        .get(s.api(&format!(
            "/conversations/{}/messages",
            a.ids["conversation"]
        )))
        .bearer_auth(&a_token)
        .send()
        .await
        .unwrap();
    let history = json(response).await;
    assert!(history.to_string().contains("only for us"), "{history}");
    let response = client
        .get(s.api("/trash"))
        .bearer_auth(&a_token)
        .send()
        .await
        .unwrap();
    assert!(json(response).await.to_string().contains(&a.ids["trashed"]));
    let response = client
        .get(s.api("/me"))
        .bearer_auth(&a_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "A's session still works");

    // Clients read the answers back into the very model types (the pure crates' own).
    let get = |path: String| {
        let (client, url, token) = (client.clone(), s.api(&path), a_token.clone());
        async move { json(client.get(url).bearer_auth(token).send().await.unwrap()).await }
    };
    let file: taina::ybira::Item =
        serde_json::from_value(get(format!("/files/{}", a.ids["file"])).await).unwrap();
    assert_eq!(file.name, "notes.txt");
    let photo: taina::jaci::Photo =
        serde_json::from_value(get(format!("/photos/{}", a.ids["photo"])).await).unwrap();
    assert_eq!(photo.name, "jolla.jpg");
    let summaries: Vec<taina::guara::ConversationSummary> =
        serde_json::from_value(get("/conversations".into()).await["items"].clone()).unwrap();
    assert_eq!(summaries[0].conversation.name.as_deref(), Some("Family"));
    let messages: Vec<taina::guara::Message> = serde_json::from_value(
        get(format!("/conversations/{}/messages", a.ids["conversation"])).await["items"].clone(),
    )
    .unwrap();
    assert!(messages.iter().any(|m| m.text == "only for us"));
    let album: taina::jaci::Album =
        serde_json::from_value(get(format!("/albums/{}", a.ids["album"])).await).unwrap();
    assert_eq!(album.name, "Summer");
    let sessions: Vec<taina::core::session::SessionInfo> =
        serde_json::from_value(get("/me/sessions".into()).await["items"].clone()).unwrap();
    assert!(sessions.iter().any(|s| s.current));
}

async fn bad_input_is_refused_in_the_error_shape(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let (token, a) = community_a(&t, &client, &s).await;
    let ops = operations(&document(&client, &s).await);
    let mut bodies = 0;
    for op in ops.iter().filter(|op| op.json_body) {
        let url = s.at(&op.fill(|p| a.id_for(&op.path, p)));
        let send = |body: &'static str, content_type: &'static str| {
            let mut req = request(&client, op, &url)
                .header("Content-Type", content_type)
                .body(body);
            if !op.public {
                req = req.bearer_auth(&token);
            }
            req.send()
        };
        let e = error(
            send("{not json", "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["code"], "bad_request", "{}", op.name());
        let e = error(
            send("{}", "text/plain").await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
        assert_eq!(e["code"], "unsupported_media_type", "{}", op.name());
        let e = error(
            send("\"a string\"", "application/json").await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["code"], "invalid", "{}", op.name());
        bodies += 1;
    }
    assert!(bodies > 20, "only {bodies} routes take JSON");

    // A malformed id names nothing.
    for op in ops
        .iter()
        .filter(|op| !op.public && !op.params().is_empty())
    {
        let url = s.at(&op.fill(|p| match p {
            "size" => "small".into(),
            "emoji" => "👍".into(),
            _ => "not-an-id".into(),
        }));
        let mut req = request(&client, op, &url).bearer_auth(&token);
        if op.json_body {
            req = req.json(&plausible_body(op, &a));
        }
        let response = req.send().await.unwrap();
        if op.method == Method::HEAD {
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{}", op.name());
        } else {
            error(response, StatusCode::NOT_FOUND).await;
        }
    }
    // And a thumbnail size that does not exist is not found either.
    let response = client
        .get(s.api(&format!("/files/{}/thumbnail/huge", a.ids["photo_file"])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    error(response, StatusCode::NOT_FOUND).await;
}

backend_tests!(
    the_document_describes_what_the_router_serves,
    every_route_refuses_a_caller_without_a_session,
    another_community_sees_nothing,
    bad_input_is_refused_in_the_error_shape
);
