//! The v1 API over real HTTP, on both databases: accounts, auth (bearer, cookie and CSRF), errors,
//! folders, uploads and downloads.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use reqwest::header::{self, HeaderMap};
use reqwest::{Client, Response, StatusCode};
use serde_json::json;
use taina::backend_tests;
use taina::testing::TestInstance;
use taina_server::testing::{TestServer, error, json};

async fn setup(client: &Client, s: &TestServer) -> String {
    let response = client
        .post(s.api("/setup"))
        .json(&json!({
            "community_name": "Vila Tainá",
            "email": "admin@example.org",
            "password": "correct horse battery",
            "display_name": "Ana Admin",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json(response).await;
    assert_eq!(body["user"]["role"], "admin");
    body["token"].as_str().unwrap().to_owned()
}

async fn accounts_auth_and_errors(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let token = setup(&client, &s).await;
    // Setup happens once.
    let again = client
        .post(s.api("/setup"))
        .json(&json!({"community_name": "X", "email": "x@example.org", "password": "correct horse battery", "display_name": "X"}))
        .send()
        .await
        .unwrap();
    assert!(again.status().is_client_error());

    // No credentials, a bad token.
    error(
        client.get(s.api("/me")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    error(
        client
            .get(s.api("/me"))
            .bearer_auth("nonsense")
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let me = json(
        client
            .get(s.api("/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["email"], "admin@example.org");

    // Bad bodies: malformed JSON 400, wrong type 415, wrong shape and broken rules 422.
    let broken = client
        .post(s.api("/folders"))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    error(broken, StatusCode::BAD_REQUEST).await;
    let form = client
        .post(s.api("/folders"))
        .bearer_auth(&token)
        .body("name=x")
        .send()
        .await
        .unwrap();
    error(form, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let shape = client
        .post(s.api("/folders"))
        .bearer_auth(&token)
        .json(&json!({"nome": "x"}))
        .send()
        .await
        .unwrap();
    error(shape, StatusCode::UNPROCESSABLE_ENTITY).await;
    let rule = client
        .post(s.api("/folders"))
        .bearer_auth(&token)
        .json(&json!({"name": "a/b"}))
        .send()
        .await
        .unwrap();
    let e = error(rule, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["field"], "name");

    // Invites and registration.
    let invite = client
        .post(s.api("/community/invites"))
        .bearer_auth(&token)
        .json(&json!({"role": "member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invite.status(), StatusCode::CREATED);
    let invite = json(invite).await;
    assert!(invite["id"].is_string());
    assert!(
        invite["url"]
            .as_str()
            .unwrap()
            .contains(invite["token"].as_str().unwrap())
    );
    let registered = client
        .post(s.api("/auth/register"))
        .json(&json!({"invite": invite["token"], "email": "bia@example.org", "password": "another good password", "display_name": "Bia"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let bia = json(registered).await;
    let bia_token = bia["token"].as_str().unwrap().to_owned();
    // Members cannot administer.
    let denied = client
        .post(s.api("/community/invites"))
        .bearer_auth(&bia_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    error(denied, StatusCode::FORBIDDEN).await;
    let members = json(
        client
            .get(s.api("/community/members"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    assert!(members["next_cursor"].is_null());
    // The storage in use is for admins (issue 16 #16).
    let refused = client
        .get(s.api("/storage"))
        .bearer_auth(&bia_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error(refused, StatusCode::FORBIDDEN).await["code"],
        "forbidden"
    );
    let storage = json(
        client
            .get(s.api("/storage"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(storage["used_bytes"].is_number() && storage["quota_bytes"].is_number());

    // Login with the cookie: reads need no more; changes need the CSRF token echoed.
    let wrong = client
        .post(s.api("/auth/login"))
        .json(&json!({"email": "bia@example.org", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    error(wrong, StatusCode::UNAUTHORIZED).await;
    let login = client
        .post(s.api("/auth/login"))
        .json(&json!({"email": "bia@example.org", "password": "another good password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let cookies: Vec<String> = login
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("taina_session="))
        .unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("taina_csrf="))
        .unwrap();
    let pair = |c: &str| c.split(';').next().unwrap().to_owned();
    let csrf_value = pair(csrf).split_once('=').unwrap().1.to_owned();
    let cookie_header = format!("{}; {}", pair(session), pair(csrf));
    let mut with_cookie = HeaderMap::new();
    with_cookie.insert(header::COOKIE, cookie_header.parse().unwrap());
    let me = client
        .get(s.api("/me"))
        .headers(with_cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(json(me).await["email"], "bia@example.org");
    let forged = client
        .post(s.api("/folders"))
        .headers(with_cookie.clone())
        .json(&json!({"name": "Forged"}))
        .send()
        .await
        .unwrap();
    error(forged, StatusCode::FORBIDDEN).await;
    let genuine = client
        .post(s.api("/folders"))
        .headers(with_cookie.clone())
        .header("X-CSRF-Token", &csrf_value)
        .json(&json!({"name": "Genuine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(genuine.status(), StatusCode::CREATED);

    // Sessions: listed, and logging out ends this one.
    let sessions = json(
        client
            .get(s.api("/me/sessions"))
            .bearer_auth(&bia_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(sessions["items"].as_array().unwrap().len(), 2);
    let out = client
        .post(s.api("/auth/logout"))
        .bearer_auth(&bia_token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    error(
        client
            .get(s.api("/me"))
            .bearer_auth(&bia_token)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn upload(
    s: &TestServer,
    token: &str,
    folder: Option<&str>,
    name: &str,
    bytes: Vec<u8>,
) -> Response {
    let fields: Vec<(&str, &str)> = folder.map(|f| ("folder_id", f)).into_iter().collect();
    s.upload(token, "/files", name, bytes, &fields).await
}

async fn folders_uploads_and_downloads(t: TestInstance) {
    let t = t.reconfigure(|c| c.max_upload_bytes = 1024 * 1024).await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let token = setup(&client, &s).await;
    let folder = client
        .post(s.api("/folders"))
        .bearer_auth(&token)
        .json(&json!({"name": "Documentos"}))
        .send()
        .await
        .unwrap();
    assert_eq!(folder.status(), StatusCode::CREATED);
    let folder = json(folder).await;
    let folder_id = folder["id"].as_str().unwrap().to_owned();
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let uploaded = upload(&s, &token, Some(&folder_id), "dados.bin", content.clone()).await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let file = json(uploaded).await;
    let file_id = file["id"].as_str().unwrap().to_owned();
    assert_eq!(file["parent_id"], folder_id);
    assert_eq!(file["size_bytes"], 100_000);

    // The folder view: the folder, its breadcrumbs, its children.
    let view = json(
        client
            .get(s.api(&format!("/folders/{folder_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(view["id"], folder_id);
    assert_eq!(view["items"][0]["id"], file_id);
    assert_eq!(view["breadcrumbs"].as_array().unwrap().len(), 1);
    let root = json(
        client
            .get(s.api("/folders/root"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(root["items"][0]["id"], folder_id);

    // Whole, ranged, conditional.
    let url = s.api(&format!("/files/{file_id}/content"));
    let whole = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    let etag = whole.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert!(whole.headers().contains_key(header::LAST_MODIFIED));
    assert_eq!(whole.headers()["x-content-type-options"], "nosniff");
    assert!(
        whole.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(
        whole.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("dados.bin")
    );
    assert_eq!(whole.bytes().await.unwrap().to_vec(), content);
    let part = client
        .get(&url)
        .bearer_auth(&token)
        .header(header::RANGE, "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 10-19/100000");
    assert_eq!(
        part.bytes().await.unwrap().to_vec(),
        content[10..20].to_vec()
    );
    let tail = client
        .get(&url)
        .bearer_auth(&token)
        .header(header::RANGE, "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tail.bytes().await.unwrap().to_vec(),
        content[99_995..].to_vec()
    );
    let outside = client
        .get(&url)
        .bearer_auth(&token)
        .header(header::RANGE, "bytes=100000-")
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(outside.headers()[header::CONTENT_RANGE], "bytes */100000");
    let cached = client
        .get(&url)
        .bearer_auth(&token)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // Uploaded HTML never runs in our origin: it is sent as bytes to download.
    let page = upload(
        &s,
        &token,
        None,
        "página.html",
        b"<html><script>alert(1)</script></html>".to_vec(),
    )
    .await;
    let page_id = json(page).await["id"].as_str().unwrap().to_owned();
    let html = client
        .get(s.api(&format!("/files/{page_id}/content")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        html.headers()[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    let disposition = html.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''p%C3%A1gina.html"),
        "{disposition}"
    );

    // Too large: refused with 413 before the body is read. The server closes the connection as it
    // answers, so a client still writing may see the connection end instead of the answer; either
    // way nothing is stored and no quota is used.
    let used = |c: Client| {
        let (url, token) = (s.api("/storage"), token.clone());
        async move {
            let v = json(c.get(url).bearer_auth(token).send().await.unwrap()).await;
            v["used_bytes"].as_i64().unwrap()
        }
    };
    let before = used(client.clone()).await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![0u8; 2 * 1024 * 1024]).file_name("big.bin"),
    );
    match client
        .post(s.api("/files"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
    {
        Ok(big) => {
            error(big, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    assert_eq!(used(client.clone()).await, before);
    let root = json(
        client
            .get(s.api("/folders/root"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        root["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["name"] != "big.bin")
    );
    error(
        client
            .post(s.api("/files"))
            .bearer_auth(&token)
            .multipart(reqwest::multipart::Form::new().text("folder_id", "root"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // Another community sees nothing.
    let (_, stranger) = t.other_community("Elsewhere", "x@elsewhere.org").await;
    error(
        client
            .get(s.api(&format!("/files/{file_id}")))
            .bearer_auth(&stranger.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    error(
        client
            .get(&url)
            .bearer_auth(&stranger.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    error(
        client
            .get(s.api("/files/not-an-id/content"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // Shares: Bia sees what Ana shares with her, until it is unshared.
    let admin = t.taina.accounts().authenticate(&token).await.unwrap();
    let (bia, bia_session) = t
        .join(&admin, "bia@example.org", taina::core::Role::Member)
        .await;
    error(
        client
            .get(&url)
            .bearer_auth(&bia_session.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let shared = client
        .post(s.api("/shares"))
        .bearer_auth(&token)
        .json(&json!({"item_id": folder_id, "user_id": bia.user_id, "access": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(shared.status(), StatusCode::CREATED);
    let share_id = json(shared).await["id"].as_str().unwrap().to_owned();
    let with_me = json(
        client
            .get(s.api("/shares"))
            .bearer_auth(&bia_session.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(with_me["items"][0]["id"], folder_id);
    let of_item = json(
        client
            .get(s.api(&format!("/shares?item_id={folder_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(of_item["items"][0]["id"], share_id);
    let readable = client
        .get(&url)
        .bearer_auth(&bia_session.token)
        .send()
        .await
        .unwrap();
    assert_eq!(readable.status(), StatusCode::OK);
    let unshared = client
        .delete(s.api(&format!("/shares/{share_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(unshared.status(), StatusCode::NO_CONTENT);
    error(
        client
            .get(&url)
            .bearer_auth(&bia_session.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // Rename and move, copy, delete to the trash, restore, purge.
    let renamed = json(
        client
            .patch(s.api(&format!("/files/{file_id}")))
            .bearer_auth(&token)
            .json(&json!({"name": "novo.bin", "parent_id": "root"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(renamed["name"], "novo.bin");
    assert!(renamed["parent_id"].is_null());
    let copy = client
        .post(s.api(&format!("/files/{file_id}/copy")))
        .bearer_auth(&token)
        .json(&json!({"parent_id": folder_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(copy.status(), StatusCode::CREATED);
    let deleted = client
        .delete(s.api(&format!("/files/{file_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    error(
        client.get(&url).bearer_auth(&token).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let trash = json(
        client
            .get(s.api("/trash"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(trash["items"][0]["id"], file_id);
    let restored = client
        .post(s.api(&format!("/trash/{file_id}/restore")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), StatusCode::OK);
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    client
        .delete(s.api(&format!("/files/{file_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let purged = client
        .delete(s.api(&format!("/trash/{file_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(purged.status(), StatusCode::NO_CONTENT);
    let trash = json(
        client
            .get(s.api("/trash"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(trash["items"].as_array().unwrap().is_empty());
}

/// `GET /limits` is public and says the very rules the server holds requests to: a password one
/// character short of the minimum is refused and one at it accepted, a name one byte over the
/// most is refused, a file one byte over this instance's upload limit is refused.
async fn the_limits_are_the_rules_the_server_applies(t: TestInstance) {
    let t = t.reconfigure(|c| c.max_upload_bytes = 4096).await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let limits = json(client.get(s.api("/limits")).send().await.unwrap()).await;
    assert_eq!(limits["upload_max_bytes"], 4096);
    let min = usize::try_from(limits["password_min_chars"].as_u64().unwrap()).unwrap();
    let setup_with = |password: String| {
        client.post(s.api("/setup")).json(&json!({
            "community_name": "Vila", "email": "ana@example.org", "password": password,
            "display_name": "Ana",
        }))
    };
    let short = setup_with("p".repeat(min - 1)).send().await.unwrap();
    assert_eq!(
        error(short, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "password"
    );
    let created = setup_with("p".repeat(min)).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let token = json(created).await["token"].as_str().unwrap().to_owned();
    let name_max = usize::try_from(limits["file_name_max_bytes"].as_u64().unwrap()).unwrap();
    for (name, status) in [
        ("n".repeat(name_max), StatusCode::CREATED),
        ("m".repeat(name_max + 1), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let made = client
            .post(s.api("/folders"))
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), status, "a name of {} bytes", name.len());
    }
    let at_limit = upload(&s, &token, None, "a.bin", vec![1; 4096]).await;
    assert_eq!(at_limit.status(), StatusCode::CREATED);
    let over = upload(&s, &token, None, "b.bin", vec![1; 4097]).await;
    assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Page sizes: the most a folder page holds is accepted, one more is not.
    let most = limits["pages"]["folder"]["max"].as_u64().unwrap();
    for (limit, status) in [
        (most, StatusCode::OK),
        (most + 1, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let page = client
            .get(s.api(&format!("/folders/root?limit={limit}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), status, "limit={limit}");
    }
}

backend_tests!(
    accounts_auth_and_errors,
    folders_uploads_and_downloads,
    the_limits_are_the_rules_the_server_applies
);
