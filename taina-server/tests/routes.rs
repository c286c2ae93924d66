//! The success paths of the API's operations that other tests leave out, over real HTTP and a real
//! WebSocket, on both databases, each read back through the API:
//! - accounts: profile changes, password changes (other sessions end), revoking a session,
//!   login throttling with `Retry-After`;
//! - the community: its settings and quota (enforced on uploads), members' roles, disabling,
//!   enabling and removal (the last admin stays), invites listed and revoked;
//! - files: folders in the shared space renamed and moved, versions listed and restored;
//! - messages: groups renamed (announced on the socket), participants added and removed, messages
//!   edited, deleted and reacted to, direct conversations started once, attachments downloaded
//!   like files;
//! - photos: the map, albums listed, renamed and emptied of a photo;
//! - the socket: a client that falls behind is told to resync, and the history has no gap.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::{Client, RequestBuilder, Response, StatusCode, header};
use serde_json::{Value, json};
use taina::accounts::ACCOUNT_FAILURES_ALLOWED;
use taina::backend_tests;
use taina::core::Role;
use taina::testing::{PASSWORD, TestInstance};
use taina_server::testing::{Socket, TestServer, fixture_photo, next_within};
use tokio_tungstenite::tungstenite::Message as Frame;

/// A server and a client to call it.
struct Api {
    server: TestServer,
    client: Client,
}

impl Api {
    async fn start(t: &TestInstance) -> Api {
        Api {
            server: TestServer::start(t).await,
            client: Client::new(),
        }
    }

    fn get(&self, token: &str, path: &str) -> RequestBuilder {
        self.client.get(self.server.api(path)).bearer_auth(token)
    }

    fn post(&self, token: &str, path: &str, body: Value) -> RequestBuilder {
        self.client
            .post(self.server.api(path))
            .bearer_auth(token)
            .json(&body)
    }

    fn patch(&self, token: &str, path: &str, body: Value) -> RequestBuilder {
        self.client
            .patch(self.server.api(path))
            .bearer_auth(token)
            .json(&body)
    }

    fn delete(&self, token: &str, path: &str) -> RequestBuilder {
        self.client.delete(self.server.api(path)).bearer_auth(token)
    }

    /// `GET path`, expecting 200, as JSON.
    async fn read(&self, token: &str, path: &str) -> Value {
        expect(self.get(token, path).send().await.unwrap(), StatusCode::OK).await
    }

    async fn login(&self, email: &str, password: &str) -> Response {
        self.server.login(email, password).await
    }

    /// A multipart upload to `path` (`/files` or `/photos`).
    async fn upload(
        &self,
        token: &str,
        path: &str,
        folder: Option<&str>,
        name: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let fields: Vec<(&str, &str)> = folder.map(|f| ("folder_id", f)).into_iter().collect();
        self.server.upload(token, path, name, bytes, &fields).await
    }

    async fn post_multipart(
        &self,
        token: &str,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> Response {
        self.server.post_form(token, path, form).await
    }
}

/// Asserts the status (showing the body when it differs) and answers the JSON body (`null` when
/// there is none).
async fn expect(response: Response, status: StatusCode) -> Value {
    let url = response.url().to_string();
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{url}: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

/// Asserts the API's error shape with `status` and `code`, and answers the error.
async fn refused(response: Response, status: StatusCode, code: &str) -> Value {
    let e = taina_server::testing::error(response, status).await;
    assert_eq!(e["code"], code, "{e}");
    e
}

/// The ids in a list's `items`.
fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// A socket for `token`; `recv_buffer` shrinks the client's TCP receive buffer (a slow reader).
async fn socket(api: &Api, token: &str, recv_buffer: Option<u32>) -> Socket {
    let mut ws = api.server.socket_with_buffer(token, recv_buffer).await;
    // The pong comes from the loop that also forwards events: once it arrives, the socket follows
    // the person's conversations.
    ws.send(Frame::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    next_within(&mut ws, "pong", Duration::from_secs(5)).await;
    ws
}

// Accounts.

async fn my_profile_changes(t: TestInstance) {
    let api = Api::start(&t).await;
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (_, mia) = t.join(&admin_actor, "mia@example.org", Role::Member).await;

    let changed = expect(
        api.patch(
            &admin.token,
            "/me",
            json!({"display_name": "  Ana Maria  "}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["display_name"], "Ana Maria");
    let me = api.read(&admin.token, "/me").await;
    assert_eq!(me["display_name"], "Ana Maria");
    assert_eq!(me["email"], "admin@example.org", "the rest stays");
    // Others see the new name too.
    let members = api.read(&mia.token, "/community/members").await;
    let ana = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == admin_actor.user_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(ana["display_name"], "Ana Maria");
    // Leaving the name out changes nothing.
    let same = expect(
        api.patch(&admin.token, "/me", json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(same["display_name"], "Ana Maria");
}

async fn a_new_password_signs_out_my_other_sessions(t: TestInstance) {
    let api = Api::start(&t).await;
    let here = t.setup().await;
    let elsewhere = expect(
        api.login("admin@example.org", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    let elsewhere = elsewhere["token"].as_str().unwrap().to_owned();
    let new_password = "a whole new passphrase";

    // The current password is checked first.
    let e = refused(
        api.post(
            &here.token,
            "/me/password",
            json!({"current_password": "not my password", "new_password": new_password}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(e["message"], "the current password is not right");
    assert_eq!(
        api.get(&elsewhere, "/me").send().await.unwrap().status(),
        StatusCode::OK,
        "a refused change signs no one out"
    );

    expect(
        api.post(
            &here.token,
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    // The other session is over; this one goes on.
    refused(
        api.get(&elsewhere, "/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_eq!(
        api.read(&here.token, "/me").await["email"],
        "admin@example.org"
    );
    let sessions = api.read(&here.token, "/me/sessions").await;
    assert_eq!(ids(&sessions), vec![here.session_id.to_string()]);
    // The old password is refused, the new one signs in.
    refused(
        api.login("admin@example.org", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let again = expect(
        api.login("admin@example.org", new_password).await,
        StatusCode::OK,
    )
    .await;
    let again = again["token"].as_str().unwrap();
    assert_eq!(api.read(again, "/me").await["email"], "admin@example.org");
}

async fn a_revoked_session_is_signed_out(t: TestInstance) {
    let api = Api::start(&t).await;
    let here = t.setup().await;
    let other = expect(
        api.login("admin@example.org", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    let other = other["token"].as_str().unwrap().to_owned();
    let sessions = api.read(&here.token, "/me/sessions").await;
    let items = sessions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let current: Vec<&Value> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], here.session_id.as_str());
    let theirs = id(items.iter().find(|s| s["current"] == false).unwrap());

    expect(
        api.delete(&here.token, &format!("/me/sessions/{theirs}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    refused(
        api.get(&other, "/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let sessions = api.read(&here.token, "/me/sessions").await;
    assert_eq!(ids(&sessions), vec![here.session_id.to_string()]);
    // Revoking it again: it is gone.
    refused(
        api.delete(&here.token, &format!("/me/sessions/{theirs}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn repeated_failed_logins_are_throttled_with_retry_after(t: TestInstance) {
    let api = Api::start(&t).await;
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    t.join(&admin_actor, "mia@example.org", Role::Member).await;
    for _ in 0..ACCOUNT_FAILURES_ALLOWED {
        refused(
            api.login("admin@example.org", "wrong password!").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
    }
    // Now even the right password waits.
    let throttled = api.login("admin@example.org", PASSWORD).await;
    let retry_after: u64 = throttled
        .headers()
        .get(header::RETRY_AFTER)
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    refused(throttled, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert!(
        (1..=taina::accounts::THROTTLE_WINDOW.as_secs()).contains(&retry_after),
        "{retry_after}"
    );
    // Another account is not held back.
    expect(api.login("mia@example.org", PASSWORD).await, StatusCode::OK).await;
    // Still refused just before the time it named, welcome once it has passed.
    t.advance(Duration::from_secs(retry_after.saturating_sub(2)));
    refused(
        api.login("admin@example.org", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    t.advance(Duration::from_secs(3));
    expect(
        api.login("admin@example.org", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
}

// The community.

async fn the_community_settings_and_quota(t: TestInstance) {
    let api = Api::start(&t).await;
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (_, mia) = t.join(&admin_actor, "mia@example.org", Role::Member).await;

    let community = api.read(&mia.token, "/community").await;
    assert_eq!(community["name"], "Vila Tainá");
    assert!(community["storage_quota_bytes"].as_i64().unwrap() > 1000);

    let changed = expect(
        api.patch(
            &admin.token,
            "/community",
            json!({"name": "Vila Nova", "storage_quota_bytes": 1000}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["name"], "Vila Nova");
    assert_eq!(changed["storage_quota_bytes"], 1000);
    let community = api.read(&mia.token, "/community").await;
    assert_eq!(community["name"], "Vila Nova");
    assert_eq!(community["storage_quota_bytes"], 1000);
    // The storage in use is for admins (issue 16 #16).
    let storage = api.read(&admin.token, "/storage").await;
    assert_eq!(storage["quota_bytes"], 1000);
    assert_eq!(storage["used_bytes"], 0);

    // Members may not change it.
    refused(
        api.patch(
            &mia.token,
            "/community",
            json!({"name": "Vila da Mia", "storage_quota_bytes": 1_000_000}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let community = api.read(&admin.token, "/community").await;
    assert_eq!(community["name"], "Vila Nova");
    assert_eq!(community["storage_quota_bytes"], 1000);

    // What fits is taken; what does not is refused, and uses nothing.
    let fits = expect(
        api.upload(&mia.token, "/files", None, "fits.bin", vec![7; 600])
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(api.read(&admin.token, "/storage").await["used_bytes"], 600);
    refused(
        api.upload(&mia.token, "/files", None, "too-much.bin", vec![8; 600])
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
    )
    .await;
    assert_eq!(api.read(&admin.token, "/storage").await["used_bytes"], 600);
    let root = api.read(&mia.token, "/folders/root").await;
    assert_eq!(ids(&root), vec![id(&fits)]);
}

async fn admins_change_disable_enable_and_remove_members(t: TestInstance) {
    let api = Api::start(&t).await;
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (mia_actor, mia) = t.join(&admin_actor, "mia@example.org", Role::Member).await;
    let mia_id = mia_actor.user_id.to_string();
    let member_url = format!("/community/members/{mia_id}");
    let member = |list: &Value| -> Option<Value> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == mia_id.as_str())
            .cloned()
    };
    assert_eq!(
        api.get(&mia.token, "/community/members")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "a member sees the members"
    );

    // A guest, at once: the role shows, and what guests may not do is refused.
    let changed = expect(
        api.patch(&admin.token, &member_url, json!({"role": "guest"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["role"], "guest");
    let listed = member(&api.read(&admin.token, "/community/members").await).unwrap();
    assert_eq!(listed["role"], "guest");
    assert_eq!(api.read(&mia.token, "/me").await["role"], "guest");
    refused(
        api.get(&mia.token, "/community/members")
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // Disabled: signed out everywhere, and cannot sign in.
    let disabled = expect(
        api.patch(&admin.token, &member_url, json!({"disabled": true}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(disabled["disabled_at"].is_string(), "{disabled}");
    refused(
        api.get(&mia.token, "/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // Answered as a wrong password would be (issue 16 #27).
    refused(
        api.login("mia@example.org", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let listed = member(&api.read(&admin.token, "/community/members").await).unwrap();
    assert!(listed["disabled_at"].is_string());

    // Enabled again: signs in again (the old session stays ended).
    let enabled = expect(
        api.patch(&admin.token, &member_url, json!({"disabled": false}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(enabled["disabled_at"].is_null(), "{enabled}");
    let back = expect(api.login("mia@example.org", PASSWORD).await, StatusCode::OK).await;
    let back = back["token"].as_str().unwrap().to_owned();
    assert_eq!(api.read(&back, "/me").await["role"], "guest");
    refused(
        api.get(&mia.token, "/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // The only admin cannot be demoted.
    refused(
        api.patch(
            &admin.token,
            &format!("/community/members/{}", admin_actor.user_id),
            json!({"role": "member"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(api.read(&admin.token, "/me").await["role"], "admin");

    // Removed: gone from the members, signed out, and cannot sign in.
    expect(
        api.delete(&admin.token, &member_url).send().await.unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    let members = api.read(&admin.token, "/community/members").await;
    assert!(member(&members).is_none(), "{members}");
    assert_eq!(ids(&members), vec![admin_actor.user_id.to_string()]);
    refused(
        api.get(&back, "/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    refused(
        api.login("mia@example.org", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

async fn a_revoked_invite_registers_no_one(t: TestInstance) {
    let api = Api::start(&t).await;
    let admin = t.setup().await;
    let revoked = expect(
        api.post(
            &admin.token,
            "/community/invites",
            json!({"role": "member"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let kept = expect(
        api.post(&admin.token, "/community/invites", json!({"role": "guest"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let invites = api.read(&admin.token, "/community/invites").await;
    let mut listed = ids(&invites);
    listed.sort();
    let mut both = vec![id(&revoked), id(&kept)];
    both.sort();
    assert_eq!(listed, both);
    let shown = invites["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == revoked["id"])
        .unwrap()
        .clone();
    assert_eq!(shown["role"], "member");
    assert_eq!(shown["uses"], 0);
    assert!(
        shown.get("token").is_none(),
        "the secret is shown only once"
    );

    expect(
        api.delete(
            &admin.token,
            &format!("/community/invites/{}", id(&revoked)),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    let invites = api.read(&admin.token, "/community/invites").await;
    assert_eq!(ids(&invites), vec![id(&kept)]);
    let register = |invite: &Value, email: &str| {
        api.client
            .post(api.server.api("/auth/register"))
            .json(&json!({
                "invite": invite["token"],
                "email": email,
                "password": PASSWORD,
                "display_name": "Rui",
            }))
            .send()
    };
    let e = refused(
        register(&revoked, "rui@example.org").await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(e["message"], "this invite is not valid");
    refused(
        api.login("rui@example.org", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // The invite left alone still works.
    let joined = expect(
        register(&kept, "rui@example.org").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(joined["user"]["role"], "guest");
}

// Files.

async fn shared_folders_are_renamed_and_moved(t: TestInstance) {
    let api = Api::start(&t).await;
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (_, mia) = t.join(&admin_actor, "mia@example.org", Role::Member).await;
    let create = |name: &str, parent: &str| {
        api.post(
            &admin.token,
            "/folders",
            json!({"name": name, "parent_id": parent}),
        )
        .send()
    };
    let projects = expect(
        create("Projetos", "community").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let archive = expect(
        create("Arquivo", "community").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(projects["space"], archive["space"]);
    assert!(projects["parent_id"].is_null());

    // The shared space's root lists both, for every member; my own root does not.
    let shared = api.read(&mia.token, "/folders/community").await;
    assert_eq!(shared["id"], "community");
    assert!(shared["folder"].is_null());
    assert_eq!(shared["breadcrumbs"], json!([]));
    assert_eq!(ids(&shared), vec![id(&archive), id(&projects)], "by name");
    let mine = api.read(&admin.token, "/folders/root").await;
    assert!(ids(&mine).is_empty(), "{mine}");

    // Renamed and moved in one change.
    let projects_url = format!("/folders/{}", id(&projects));
    let changed = expect(
        api.patch(
            &admin.token,
            &projects_url,
            json!({"name": "Projetos 2025", "parent_id": id(&archive)}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["name"], "Projetos 2025");
    assert_eq!(changed["parent_id"], archive["id"]);
    let view = api.read(&mia.token, &projects_url).await;
    assert_eq!(view["name"], "Projetos 2025");
    assert_eq!(view["folder"]["parent_id"], archive["id"]);
    let trail: Vec<&Value> = view["breadcrumbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["name"])
        .collect();
    assert_eq!(trail, vec!["Arquivo", "Projetos 2025"]);
    let shared = api.read(&mia.token, "/folders/community").await;
    assert_eq!(ids(&shared), vec![id(&archive)]);
    let inside = api
        .read(&mia.token, &format!("/folders/{}", id(&archive)))
        .await;
    assert_eq!(ids(&inside), vec![id(&projects)]);

    // And back to the root under its new name only.
    let back = expect(
        api.patch(
            &admin.token,
            &projects_url,
            json!({"parent_id": "community"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(back["parent_id"].is_null());
    assert_eq!(back["name"], "Projetos 2025");
    let shared = api.read(&mia.token, "/folders/community").await;
    assert_eq!(ids(&shared), vec![id(&archive), id(&projects)]);
}

async fn earlier_versions_are_listed_and_restored(t: TestInstance) {
    let api = Api::start(&t).await;
    let admin = t.setup().await;
    let actor = t.actor(&admin).await;
    let first = b"first draft".to_vec();
    let second = b"second draft, rather longer".to_vec();
    let file = expect(
        api.upload(&admin.token, "/files", None, "notas.txt", first.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let file_id = id(&file);
    let versions_url = format!("/files/{file_id}/versions");
    let content_url = format!("/files/{file_id}/content");
    assert!(ids(&api.read(&admin.token, &versions_url).await).is_empty());

    // Uploading the same name again with `on_conflict=replace` gives the file new content and
    // keeps the old as a version; without it, the upload gets a numbered name.
    let form = reqwest::multipart::Form::new()
        .text("on_conflict", "replace")
        .part(
            "file",
            reqwest::multipart::Part::bytes(second.clone()).file_name("notas.txt"),
        );
    let response = api.post_multipart(&admin.token, "/files", form).await;
    let replaced = expect(response, StatusCode::CREATED).await;
    let replaced_id = id(&replaced);
    let renamed = expect(
        api.upload(&admin.token, "/files", None, "notas.txt", b"third".to_vec())
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(renamed["name"], "notas (2).txt");
    let form = reqwest::multipart::Form::new()
        .text("on_conflict", "overwrite-please")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("notas.txt"),
        );
    let refused = api.post_multipart(&admin.token, "/files", form).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(replaced_id, file_id);
    let current = api.get(&admin.token, &content_url).send().await.unwrap();
    assert_eq!(current.status(), StatusCode::OK);
    assert_eq!(current.bytes().await.unwrap().to_vec(), second);

    let versions = api.read(&admin.token, &versions_url).await;
    let items = versions["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{versions}");
    assert_eq!(items[0]["etag"], file["etag"]);
    assert_eq!(items[0]["size_bytes"], first.len());
    assert_eq!(items[0]["author_id"], actor.user_id.as_str());
    let version_id = id(&items[0]);

    let restored = expect(
        api.post(
            &admin.token,
            &format!("/files/{file_id}/versions/{version_id}/restore"),
            json!({}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(restored["id"], file_id.as_str());
    assert_eq!(restored["etag"], file["etag"]);
    assert_eq!(restored["size_bytes"], first.len());
    let current = api.get(&admin.token, &content_url).send().await.unwrap();
    assert_eq!(
        current.headers()[header::ETAG],
        file["etag"].as_str().unwrap()
    );
    assert_eq!(current.bytes().await.unwrap().to_vec(), first);
    assert_eq!(
        api.read(&admin.token, &format!("/files/{file_id}")).await["size_bytes"],
        first.len()
    );
    // The content it replaced is now a version itself.
    let versions = api.read(&admin.token, &versions_url).await;
    let etags: Vec<&Value> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["etag"])
        .collect();
    let replaced_etag = replaced["etag"].clone();
    assert!(etags.contains(&&replaced_etag), "{versions}");
}

// Messages.

/// Ana (admin), Bia and Gil (members), signed in.
async fn three(t: &TestInstance) -> [(String, String); 3] {
    let ana = t.setup().await;
    let ana_actor = t.actor(&ana).await;
    let (bia_actor, bia) = t.join(&ana_actor, "bia@example.org", Role::Member).await;
    let (gil_actor, gil) = t.join(&ana_actor, "gil@example.org", Role::Member).await;
    [
        (ana_actor.user_id.to_string(), ana.token),
        (bia_actor.user_id.to_string(), bia.token),
        (gil_actor.user_id.to_string(), gil.token),
    ]
}

/// The ids of the conversations in someone's list.
async fn my_conversations(api: &Api, token: &str) -> Vec<String> {
    let list = api.read(token, "/conversations").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| id(&s["conversation"]))
        .collect()
}

fn participant_ids(conversation: &Value) -> Vec<String> {
    let mut ids: Vec<String> = conversation["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn a_group_is_renamed_and_its_participants_change(t: TestInstance) {
    let api = Api::start(&t).await;
    let [(ana_id, ana), (bia_id, bia), (gil_id, gil)] = three(&t).await;
    let group = expect(
        api.post(
            &ana,
            "/conversations",
            json!({"type": "group", "name": "Família", "participant_ids": [bia_id]}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let group_id = id(&group);
    let group_url = format!("/conversations/{group_id}");
    let history_url = format!("{group_url}/messages");
    expect(
        api.post(&ana, &history_url, json!({"content": "Oi, família"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let mut bia_ws = socket(&api, &bia, None).await;

    // Renamed: the answer, the conversation as read back, and Bia's socket all say so.
    let renamed = expect(
        api.patch(&ana, &group_url, json!({"name": "Família Silva"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Família Silva");
    assert_eq!(api.read(&bia, &group_url).await["name"], "Família Silva");
    let event = next_within(&mut bia_ws, "conversation.updated", Duration::from_secs(5)).await;
    assert_eq!(event["data"]["conversation_id"], group_id.as_str());
    assert_eq!(event["data"]["change"], "renamed");
    let listed = api.read(&bia, "/conversations").await;
    assert_eq!(listed["items"][0]["conversation"]["name"], "Família Silva");

    // Gil, added, reads the history (what was said before he came included).
    refused(
        api.get(&gil, &history_url).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let added = expect(
        api.post(
            &ana,
            &format!("{group_url}/participants"),
            json!({"participant_ids": [gil_id]}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        participant_ids(&added),
        sorted(vec![ana_id.clone(), bia_id.clone(), gil_id.clone()])
    );
    let history = api.read(&gil, &history_url).await;
    let texts: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["text"])
        .collect();
    assert!(texts.contains(&&json!("Oi, família")), "{history}");
    assert!(my_conversations(&api, &gil).await.contains(&group_id));
    let event = next_within(&mut bia_ws, "conversation.updated", Duration::from_secs(5)).await;
    assert_eq!(event["data"]["change"], "participants");

    // Removed, he reads nothing more.
    expect(
        api.delete(&ana, &format!("{group_url}/participants/{gil_id}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    refused(
        api.get(&gil, &history_url).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(my_conversations(&api, &gil).await.is_empty());
    assert_eq!(
        participant_ids(&api.read(&ana, &group_url).await),
        sorted(vec![ana_id, bia_id])
    );
}

async fn messages_are_edited_deleted_and_reacted_to(t: TestInstance) {
    let api = Api::start(&t).await;
    let [(_, ana), (bia_id, bia), _] = three(&t).await;
    let dm = expect(
        api.post(&ana, &format!("/conversations/direct/{bia_id}"), json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let history_url = format!("/conversations/{}/messages", id(&dm));
    let send = |text: &str| {
        api.post(&ana, &history_url, json!({"content": text}))
            .send()
    };
    let meeting = expect(send("Reunião amanhã").await.unwrap(), StatusCode::CREATED).await;
    let other = expect(send("Leva o bolo").await.unwrap(), StatusCode::CREATED).await;
    assert!(meeting["edited_at"].is_null());
    let message_url = format!("/messages/{}", id(&meeting));
    let in_history = |history: &Value, message: &Value| -> Value {
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == message["id"])
            .unwrap()
            .clone()
    };
    let mut bia_ws = socket(&api, &bia, None).await;

    // Edited.
    let edited = expect(
        api.patch(
            &ana,
            &message_url,
            json!({"content": "Reunião depois de amanhã"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["text"], "Reunião depois de amanhã");
    assert!(edited["edited_at"].is_string());
    let seen = in_history(&api.read(&bia, &history_url).await, &meeting);
    assert_eq!(seen["text"], "Reunião depois de amanhã");
    assert!(seen["edited_at"].is_string(), "{seen}");
    assert_eq!(seen["seq"], meeting["seq"], "it keeps its place");
    let event = next_within(&mut bia_ws, "message.updated", Duration::from_secs(5)).await;
    assert_eq!(event["data"]["text"], "Reunião depois de amanhã");

    // A reaction, then taken back (the emoji percent-encoded in the path).
    let reacted = expect(
        api.post(
            &bia,
            &format!("{message_url}/reactions"),
            json!({"emoji": "🎉"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        reacted["reactions"],
        json!([{"emoji": "🎉", "user_ids": [bia_id]}])
    );
    let seen = in_history(&api.read(&ana, &history_url).await, &meeting);
    assert_eq!(seen["reactions"], reacted["reactions"]);
    let unreacted = expect(
        api.delete(&bia, &format!("{message_url}/reactions/%F0%9F%8E%89"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(unreacted["reactions"], json!([]));
    let seen = in_history(&api.read(&ana, &history_url).await, &meeting);
    assert_eq!(seen["reactions"], json!([]));
    let event = next_within(&mut bia_ws, "reaction.removed", Duration::from_secs(5)).await;
    assert_eq!(event["data"]["emoji"], "🎉");

    // Deleted: a tombstone keeps its place; the text is gone, from search too.
    expect(
        api.delete(&ana, &message_url).send().await.unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    let history = api.read(&bia, &history_url).await;
    assert_eq!(ids(&history), vec![id(&meeting), id(&other)]);
    let tombstone = in_history(&history, &meeting);
    assert!(tombstone["deleted_at"].is_string(), "{tombstone}");
    assert_eq!(tombstone["text"], "");
    assert!(in_history(&history, &other)["deleted_at"].is_null());
    let found = api.read(&bia, "/search/messages?q=reuni").await;
    assert!(found["items"].as_array().unwrap().is_empty(), "{found}");
    let event = next_within(&mut bia_ws, "message.deleted", Duration::from_secs(5)).await;
    assert_eq!(event["data"]["message_id"], meeting["id"]);
}

async fn a_direct_conversation_is_started_once(t: TestInstance) {
    let api = Api::start(&t).await;
    let [_, (bia_id, bia), (gil_id, gil)] = three(&t).await;
    assert!(my_conversations(&api, &gil).await.is_empty());
    // The route answers 200 whether it starts the conversation or finds it.
    let started = expect(
        api.post(&bia, &format!("/conversations/direct/{gil_id}"), json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(started["kind"], "direct");
    assert!(started["name"].is_null());
    assert_eq!(
        participant_ids(&started),
        sorted(vec![bia_id.clone(), gil_id.clone()])
    );
    assert_eq!(my_conversations(&api, &gil).await, vec![id(&started)]);
    let again = expect(
        api.post(&bia, &format!("/conversations/direct/{gil_id}"), json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["id"], started["id"]);
    let from_gil = expect(
        api.post(&gil, &format!("/conversations/direct/{bia_id}"), json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(from_gil["id"], started["id"]);
    assert_eq!(my_conversations(&api, &bia).await, vec![id(&started)]);
}

async fn an_attachment_downloads_like_a_file(t: TestInstance) {
    let api = Api::start(&t).await;
    let [(_, ana), (bia_id, bia), (_, gil)] = three(&t).await;
    let content: Vec<u8> = (0..5000u32).map(|i| (i * 13 % 251) as u8).collect();
    let file = expect(
        api.upload(&ana, "/files", None, "planilha.bin", content.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    // Ana's file is private: Bia reaches it only through the message.
    refused(
        api.get(&bia, &format!("/files/{}/content", id(&file)))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let dm = expect(
        api.post(&ana, &format!("/conversations/direct/{bia_id}"), json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let sent = expect(
        api.post(
            &ana,
            &format!("/conversations/{}/messages", id(&dm)),
            json!({"content": "", "file_id": id(&file), "message_type": "file"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(sent["attachment"]["file_id"], file["id"]);
    assert_eq!(sent["attachment"]["name"], "planilha.bin");
    assert_eq!(sent["attachment"]["size_bytes"], 5000);
    assert_eq!(sent["attachment"]["kind"], "file");
    let url = format!("/messages/{}/attachment", id(&sent));
    let etag = file["etag"].as_str().unwrap();

    let whole = api.get(&bia, &url).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    let headers = whole.headers();
    assert_eq!(headers[header::ETAG], etag);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers[header::ACCEPT_RANGES], "bytes");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("planilha.bin"), "{disposition}");
    assert_eq!(whole.bytes().await.unwrap().to_vec(), content);

    let part = api
        .get(&bia, &url)
        .header(header::RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 100-199/5000");
    assert_eq!(
        part.bytes().await.unwrap().to_vec(),
        content[100..200].to_vec()
    );

    let cached = api
        .get(&bia, &url)
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(cached.headers()[header::ETAG], etag);
    assert!(cached.bytes().await.unwrap().is_empty());
    // Someone outside the conversation gets nothing.
    refused(
        api.get(&gil, &url).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

// Photos.

async fn the_map_and_albums(t: TestInstance) {
    let api = Api::start(&t).await;
    let admin = t.setup().await;
    let token = &admin.token;
    let located = expect(
        api.upload(
            token,
            "/photos",
            None,
            "DSCN0010.jpg",
            fixture_photo("DSCN0010.jpg"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let unlocated = expect(
        api.upload(
            token,
            "/photos",
            None,
            "jolla.jpg",
            fixture_photo("jolla.jpg"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // The map: the photo with a location, where it was taken; not the other.
    let map = api.read(token, "/photos/map").await;
    assert_eq!(ids(&map), vec![id(&located)], "{map}");
    let point = &map["items"][0];
    assert!((point["latitude"].as_f64().unwrap() - 43.467_448_3).abs() < 1e-5);
    assert!((point["longitude"].as_f64().unwrap() - 11.885_126_7).abs() < 1e-5);
    assert_eq!(point["taken_at"], located["taken_at"]);

    // Albums: listed, renamed, and a photo taken out (it stays in the library).
    let album = expect(
        api.post(token, "/albums", json!({"name": "Toscana"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let album_url = format!("/albums/{}", id(&album));
    let albums = api.read(token, "/albums").await;
    assert_eq!(ids(&albums), vec![id(&album)]);
    assert_eq!(albums["items"][0]["name"], "Toscana");
    expect(
        api.post(
            token,
            &format!("{album_url}/photos"),
            json!({"photo_ids": [id(&located), id(&unlocated)]}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    let renamed = expect(
        api.patch(token, &album_url, json!({"name": "Toscana 2008"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Toscana 2008");
    assert_eq!(api.read(token, &album_url).await["name"], "Toscana 2008");
    assert_eq!(
        api.read(token, "/albums").await["items"][0]["name"],
        "Toscana 2008"
    );

    let changed = expect(
        api.delete(token, &format!("{album_url}/photos/{}", id(&unlocated)))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["photo_count"], 1);
    let read = api.read(token, &album_url).await;
    let in_album: Vec<String> = read["photos"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(in_album, vec![id(&located)]);
    assert_eq!(read["photo_count"], 1);
    let still = api
        .read(token, &format!("/photos/{}", id(&unlocated)))
        .await;
    assert_eq!(still["id"], unlocated["id"]);
    assert_eq!(ids(&api.read(token, "/photos").await).len(), 2);
}

// The socket.

async fn a_client_that_falls_behind_resyncs_without_a_gap(t: TestInstance) {
    const SENT: i64 = 200;
    let t = t.reconfigure(|c| c.realtime_queue = 2).await;
    let api = Api::start(&t).await;
    let [(_, ana), (bia_id, bia), _] = three(&t).await;
    let dm = expect(
        api.post(&ana, &format!("/conversations/direct/{bia_id}"), json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let history_url = format!("/conversations/{}/messages", id(&dm));
    // Bia's client stops reading while Ana sends far more than Bia's queue holds: about 8 MB of
    // frames (10,000 characters of four bytes each), twice what the kernel's send buffer may grow
    // to (4 MB by default), so the server soon cannot write to her socket and her queue overflows.
    let mut slow = socket(&api, &bia, Some(4096)).await;
    let filler = "🌊".repeat(9_990);
    for n in 1..=SENT {
        expect(
            api.post(
                &ana,
                &history_url,
                json!({"content": format!("{n} {filler}")}),
            )
            .send()
            .await
            .unwrap(),
            StatusCode::CREATED,
        )
        .await;
    }

    // Reading again: what got through before it fell behind, then the resync — or, if the
    // server could not write to it for `taina_core::socket::SEND_TIMEOUT`, the end of a socket
    // that could not keep up (the client reconnects and catches up the same way).
    let (delivered, dropped) = tokio::time::timeout(Duration::from_secs(30), async {
        let mut delivered = 0;
        loop {
            match slow.next().await {
                Some(Ok(Frame::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap();
                    match v["type"].as_str().unwrap() {
                        "resync" => return (delivered, false),
                        "message.created" => delivered += 1,
                        _ => {}
                    }
                }
                Some(Ok(Frame::Close(_))) | Some(Err(_)) | None => return (delivered, true),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("a resync frame, or the end of the socket");
    if dropped {
        slow = socket(&api, &bia, None).await;
    }
    assert!(delivered < SENT, "{delivered} of {SENT} were delivered");

    // Catching up through the history, after the last message held, leaves no gap.
    let mut seqs = Vec::new();
    let mut after = 0;
    loop {
        let page = api
            .read(&bia, &format!("{history_url}?after={after}&limit=100"))
            .await;
        for message in page["items"].as_array().unwrap() {
            let seq = message["seq"].as_i64().unwrap();
            assert!(
                message["text"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{seq} ")),
                "message {seq} holds what was sent as it"
            );
            seqs.push(seq);
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => after = cursor.parse().unwrap(),
            None => break,
        }
    }
    assert_eq!(seqs, (1..=SENT).collect::<Vec<_>>());

    // And the socket carries what comes next.
    let next = expect(
        api.post(&ana, &history_url, json!({"content": "de volta"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let created = next_within(&mut slow, "message.created", Duration::from_secs(10)).await;
            if created["data"]["id"] == next["id"] {
                assert_eq!(created["data"]["text"], "de volta");
                return;
            }
        }
    })
    .await
    .expect("the next message on the socket");
}

backend_tests!(
    my_profile_changes,
    a_new_password_signs_out_my_other_sessions,
    a_revoked_session_is_signed_out,
    repeated_failed_logins_are_throttled_with_retry_after,
    the_community_settings_and_quota,
    admins_change_disable_enable_and_remove_members,
    a_revoked_invite_registers_no_one,
    shared_folders_are_renamed_and_moved,
    earlier_versions_are_listed_and_restored,
    a_group_is_renamed_and_its_participants_change,
    messages_are_edited_deleted_and_reacted_to,
    a_direct_conversation_is_started_once,
    an_attachment_downloads_like_a_file,
    the_map_and_albums,
    a_client_that_falls_behind_resyncs_without_a_gap,
);
