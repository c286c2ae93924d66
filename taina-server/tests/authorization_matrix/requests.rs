//! One real request per cell of the HTTP table: for an operation and a caller, a request that is
//! valid for the operation (its path names the things the table's line says, its body and headers
//! are what the operation takes), made on a fresh target when the call would destroy it; and how
//! it is sent.

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Digest as _;
use taina::testing::PASSWORD;
use taina_server::testing::{fixture_photo, upload_form};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::table::Caller;
use super::world::{PHOTO, World};

/// The emoji the reaction calls use.
const EMOJI: &str = "👍";

/// What a request carries.
pub enum Payload {
    /// Nothing.
    Empty,
    /// A JSON object.
    Json(Value),
    /// A multipart upload: the text fields, then the file part.
    Form {
        name: String,
        bytes: Vec<u8>,
        fields: Vec<(&'static str, String)>,
    },
    /// Bytes of a content type.
    Raw {
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    /// Not an HTTP call: the WebSocket handshake.
    Socket,
}

/// One cell's request.
pub struct Call {
    pub method: Method,
    /// The path (with its query), from the server's root.
    pub path: String,
    /// The bearer token sent, if any.
    pub token: Option<String>,
    pub headers: Vec<(&'static str, String)>,
    pub payload: Payload,
}

impl Call {
    fn new(method: &str, path: String, token: Option<String>) -> Call {
        Call {
            method: method.parse().expect("a method"),
            path,
            token,
            headers: Vec::new(),
            payload: Payload::Empty,
        }
    }

    fn json(mut self, body: Value) -> Call {
        self.payload = Payload::Json(body);
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.headers.push((name, value.into()));
        self
    }

    /// tus requests say which version they speak.
    fn tus(self) -> Call {
        self.header("Tus-Resumable", "1.0.0")
    }
}

/// `/api/v1` and the rest of `path`.
fn api(path: impl AsRef<str>) -> String {
    format!("/api/v1{}", path.as_ref())
}

/// The request for `caller`'s cell of the operation `method path`; `None` when the test does not
/// know the operation (a new route needs its request here, as well as its line in the table).
pub async fn prepare(world: &World, method: &str, path: &str, caller: Caller) -> Option<Call> {
    let token = world.token(caller);
    let owner = world.owner();
    let call = |p: String| Call::new(method, p, token.clone());
    let Some(route) = path.strip_prefix("/api/v1") else {
        return match path {
            "/healthz" | "/readyz" | "/metrics" => Some(call(path.to_owned())),
            _ => None,
        };
    };
    let cell = match route {
        "/openapi.json" | "/setup" | "/limits" if method == "GET" => call(api(route)),
        "/setup" => call(api(route)).json(json!({
            "community_name": "Another village",
            "email": format!("{}@example.org", world.fresh_name("setup", "")),
            "password": PASSWORD,
            "display_name": "Setter",
        })),
        "/auth/register" => call(api(route)).json(json!({
            "invite": world.invite_token,
            "email": format!("{}@example.org", world.fresh_name("newcomer", "")),
            "password": PASSWORD,
            "display_name": "Newcomer",
        })),
        "/auth/login" => {
            let member = world.person(Caller::Member).expect("the member");
            call(api(route)).json(json!({
                "email": member.email,
                "password": PASSWORD,
                "community": member.slug,
            }))
        }
        // A session of its own, since the call ends it.
        "/auth/logout" => {
            let mut fresh = call(api(route));
            if let Some(person) = world.person(caller) {
                fresh.token = Some(world.sign_in(person).await.token);
            }
            fresh
        }
        "/me" | "/me/sessions" | "/community" | "/community/members" | "/community/invites"
        | "/storage" | "/folders/root" | "/folders/community" | "/trash" | "/photos"
        | "/photos/map" | "/albums" | "/conversations"
            if method == "GET" =>
        {
            call(api(route))
        }
        "/me" => call(api(route)).json(json!({})),
        // The same password again: the call's effect is only to end the caller's other sessions
        // (so it runs last).
        "/me/password" => call(api(route)).json(json!({
            "current_password": PASSWORD, "new_password": PASSWORD,
        })),
        "/me/sessions/{id}" => {
            let session = world.fresh_owner_session().await;
            call(api(format!("/me/sessions/{session}")))
        }
        "/me/app-passwords" if method == "GET" => call(api(route)),
        "/me/app-passwords" => call(api(route)).json(json!({"name": "a phone"})),
        "/me/app-passwords/{id}" => {
            let id = world.fresh_owner_app_password().await;
            call(api(format!("/me/app-passwords/{id}")))
        }
        "/login-flows/{token}" if method == "GET" => {
            let token = world.fresh_login_flow().await;
            call(api(format!("/login-flows/{token}")))
        }
        "/login-flows/{token}" => {
            let token = world.fresh_login_flow().await;
            call(api(format!("/login-flows/{token}"))).json(json!({"allow": true}))
        }
        "/community" => call(api(route)).json(json!({"name": world.community_name})),
        "/community/members/{id}" if method == "PATCH" => {
            call(api(format!("/community/members/{}", owner.actor.user_id)))
                .json(json!({"role": "member"}))
        }
        // A member who may go; the owner's cell is that member, removing themselves.
        "/community/members/{id}" => {
            let leaving = world.fresh_member().await;
            let mut removal = call(api(format!("/community/members/{}", leaving.actor.user_id)));
            if caller == Caller::Owner {
                removal.token = Some(leaving.token);
            }
            removal
        }
        "/community/invites" => call(api(route)).json(json!({})),
        "/community/invites/{id}" => {
            let invite = world.fresh_invite().await;
            call(api(format!("/community/invites/{invite}")))
        }
        "/folders/{id}" if method == "GET" => call(api(format!("/folders/{}", world.projects))),
        "/folders" => call(api(route)).json(json!({
            "name": world.fresh_name("folder", ""), "parent_id": world.projects,
        })),
        "/folders/{id}" if method == "PATCH" => call(api(format!("/folders/{}", world.projects)))
            .json(json!({"name": world.fresh_name("Projects", "")})),
        "/folders/{id}" => {
            let folder = world.fresh_folder().await;
            call(api(format!("/folders/{folder}")))
        }
        "/files" => {
            let mut upload = call(api(route));
            upload.payload = Payload::Form {
                name: world.fresh_name("upload", ".txt"),
                bytes: b"hello".to_vec(),
                fields: vec![("folder_id", world.projects.to_string())],
            };
            upload
        }
        "/files/{id}" if method == "GET" => call(api(format!("/files/{}", world.notes))),
        "/files/{id}" if method == "PATCH" => call(api(format!("/files/{}", world.notes)))
            .json(json!({"name": world.fresh_name("notes", ".txt")})),
        "/files/{id}" => {
            let file = world.fresh_file().await;
            call(api(format!("/files/{file}")))
        }
        "/files/{id}/content" => call(api(format!("/files/{}/content", world.notes))),
        "/files/{id}/thumbnail/{size}" => call(api(format!(
            "/files/{}/thumbnail/small",
            world.photo.file_id
        ))),
        "/files/{id}/copy" => call(api(format!("/files/{}/copy", world.notes)))
            .json(json!({"name": world.fresh_name("copy", ".txt")})),
        "/files/{id}/versions" => call(api(format!("/files/{}/versions", world.notes))),
        "/files/{id}/versions/{version}/restore" => {
            let (file, version) = world.fresh_version().await;
            call(api(format!("/files/{file}/versions/{version}/restore")))
        }
        "/trash/{id}/restore" => {
            let trashed = world.fresh_trashed().await;
            call(api(format!("/trash/{trashed}/restore")))
        }
        "/trash/{id}" => {
            let trashed = world.fresh_trashed().await;
            call(api(format!("/trash/{trashed}")))
        }
        "/shares" if method == "GET" => call(api(format!("/shares?item_id={}", world.projects))),
        "/shares" => call(api(route)).json(json!({
            "item_id": world.projects, "user_id": world.bystander.actor.user_id, "access": "read",
        })),
        "/shares/{id}" => {
            let share = world.fresh_share().await;
            call(api(format!("/shares/{share}")))
        }
        "/uploads" if method == "OPTIONS" => call(api(route)).tus(),
        "/uploads" => {
            let metadata = |key: &str, value: &str| {
                format!(
                    "{key} {}",
                    base64::engine::general_purpose::STANDARD.encode(value)
                )
            };
            let name = world.fresh_name("resumable", ".bin");
            call(api(route)).tus().header("Upload-Length", "10").header(
                "Upload-Metadata",
                format!(
                    "{},{}",
                    metadata("filename", &name),
                    metadata("folder_id", world.projects.as_ref())
                ),
            )
        }
        "/uploads/{id}" if method == "HEAD" => {
            call(api(format!("/uploads/{}", world.upload))).tus()
        }
        // An empty piece at the start: it changes nothing.
        "/uploads/{id}" if method == "PATCH" => {
            let mut append = call(api(format!("/uploads/{}", world.upload)))
                .tus()
                .header("Upload-Offset", "0");
            append.payload = Payload::Raw {
                content_type: "application/offset+octet-stream",
                bytes: Vec::new(),
            };
            append
        }
        "/uploads/{id}" => {
            let upload = world.fresh_upload().await;
            call(api(format!("/uploads/{upload}"))).tus()
        }
        "/photos" => {
            let mut upload = call(api(route));
            upload.payload = Payload::Form {
                name: world.fresh_name("photo", ".jpg"),
                bytes: fixture_photo(PHOTO),
                fields: vec![("folder_id", world.projects.to_string())],
            };
            upload
        }
        "/photos/known" => call(api(route)).json(json!({
            "hashes": [hex(&sha2::Sha256::digest(fixture_photo(PHOTO)))],
        })),
        "/photos/{id}" if method == "GET" => call(api(format!("/photos/{}", world.photo.id))),
        "/photos/{id}" => {
            let photo = world.fresh_photo().await;
            call(api(format!("/photos/{}", photo.id)))
        }
        "/albums" => call(api(route)).json(json!({"name": world.fresh_name("album", "")})),
        "/albums/{id}" if method == "GET" => call(api(format!("/albums/{}", world.album))),
        "/albums/{id}" if method == "PATCH" => call(api(format!("/albums/{}", world.album)))
            .json(json!({"description": world.fresh_name("description", "")})),
        "/albums/{id}" => {
            let album = world.fresh_album().await;
            call(api(format!("/albums/{album}")))
        }
        "/albums/{id}/photos" => call(api(format!("/albums/{}/photos", world.album)))
            .json(json!({"photo_ids": [world.shared_photo.id]})),
        "/albums/{id}/photos/{photo_id}" => {
            let album = world.fresh_album().await;
            call(api(format!(
                "/albums/{album}/photos/{}",
                world.shared_photo.id
            )))
        }
        "/albums/{id}/order" => call(api(format!("/albums/{}/order", world.album)))
            .json(json!({"photo_ids": [world.shared_photo.id]})),
        "/conversations" => call(api(route)).json(json!({
            "type": "group",
            "name": world.fresh_name("group", ""),
            "participant_ids": [owner.actor.user_id, world.participant().actor.user_id],
        })),
        "/conversations/direct/{user_id}" => call(api(format!(
            "/conversations/direct/{}",
            owner.actor.user_id
        ))),
        "/conversations/{id}" if method == "GET" => {
            call(api(format!("/conversations/{}", world.family)))
        }
        "/conversations/{id}" => call(api(format!("/conversations/{}", world.family)))
            .json(json!({"name": world.fresh_name("Family", "")})),
        "/conversations/{id}/messages" if method == "GET" => {
            call(api(format!("/conversations/{}/messages", world.family)))
        }
        "/conversations/{id}/messages" => {
            call(api(format!("/conversations/{}/messages", world.family)))
                .json(json!({"content": "hello"}))
        }
        "/conversations/{id}/participants" => {
            call(api(format!("/conversations/{}/participants", world.family)))
                .json(json!({"participant_ids": [world.participant().actor.user_id]}))
        }
        "/conversations/{id}/participants/{user_id}" => {
            let group = world.fresh_group().await;
            call(api(format!(
                "/conversations/{group}/participants/{}",
                world.participant().actor.user_id
            )))
        }
        "/conversations/{id}/read" => {
            call(api(format!("/conversations/{}/read", world.family))).json(json!({"seq": 1}))
        }
        "/messages/{id}" if method == "PATCH" => {
            call(api(format!("/messages/{}", world.message))).json(json!({"content": "edited"}))
        }
        "/messages/{id}" => {
            let message = world.fresh_message().await;
            call(api(format!("/messages/{message}")))
        }
        "/messages/{id}/reactions" => call(api(format!("/messages/{}/reactions", world.message)))
            .json(json!({"emoji": EMOJI})),
        "/messages/{id}/reactions/{emoji}" => {
            let message = world.fresh_reacted(EMOJI).await;
            let emoji = percent_encode(EMOJI);
            call(api(format!("/messages/{message}/reactions/{emoji}")))
        }
        "/messages/{id}/attachment" => {
            call(api(format!("/messages/{}/attachment", world.attaching)))
        }
        "/search/messages" => call(api("/search/messages?q=family")),
        "/ws" => {
            let mut socket = call(api(route));
            socket.payload = Payload::Socket;
            socket
        }
        _ => return None,
    };
    Some(cell)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn percent_encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Sends `call` and answers its status and (the start of) its body.
pub async fn send(world: &World, call: Call) -> (u16, String) {
    let url = world.server.at(&call.path);
    if let Payload::Socket = call.payload {
        return handshake(world, call.token.as_deref()).await;
    }
    let mut request = world.client.request(call.method.clone(), &url);
    if let Some(token) = &call.token {
        request = request.bearer_auth(token);
    }
    for (name, value) in &call.headers {
        request = request.header(*name, value);
    }
    request = match call.payload {
        Payload::Empty | Payload::Socket => request,
        Payload::Json(body) => request.json(&body),
        Payload::Form {
            name,
            bytes,
            fields,
        } => {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            request.multipart(upload_form(&name, bytes, &fields))
        }
        Payload::Raw {
            content_type,
            bytes,
        } => request.header("Content-Type", content_type).body(bytes),
    };
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{} {url}: {e}", call.method));
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    (status, body.chars().take(300).collect())
}

/// Opens the realtime socket with `token` (or none), and answers the handshake's status.
async fn handshake(world: &World, token: Option<&str>) -> (u16, String) {
    let Some(token) = token else {
        let request = world
            .server
            .ws_url()
            .into_client_request()
            .expect("a socket request");
        return match tokio_tungstenite::connect_async(request).await {
            Ok(_) => (101, String::new()),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                (response.status().as_u16(), String::new())
            }
            Err(e) => panic!("opening a socket: {e}"),
        };
    };
    match world.server.try_socket(token).await {
        Ok(_) => (101, String::new()),
        Err(status) => (status.as_u16(), String::new()),
    }
}
