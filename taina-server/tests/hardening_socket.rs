//! The realtime socket as an attacker would try it, on both databases: a socket lives no longer
//! than its session (sign-out, revocation, password change, disabled, removed; a role change
//! makes it reconnect), guests hear nothing of the shared space or of other members, a removed
//! participant hears nothing sent after the removal, frames are bounded in size, rate and
//! number of sockets, and a stopping server closes sockets telling clients to reconnect.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use taina::backend_tests;
use taina::core::Role;
use taina::core::socket;
use taina::testing::{PASSWORD, TestInstance};
use taina_server::testing::{Socket, TestServer, frames_within, next_of};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Reads until the server closes the socket and answers the close code (within three seconds).
/// Text frames seen on the way are handed to `seen`.
async fn close_code(ws: &mut Socket, mut seen: impl FnMut(&Value)) -> u16 {
    tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match ws.next().await {
                Some(Ok(Frame::Close(Some(close)))) => return u16::from(close.code),
                Some(Ok(Frame::Close(None))) | None => return 0,
                Some(Ok(Frame::Text(text))) => seen(&serde_json::from_str(text.as_str()).unwrap()),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("socket error instead of a close: {e}"),
            }
        }
    })
    .await
    .expect("the server did not close the socket")
}

/// Whether the socket stays open (answers a ping) — it was not closed.
async fn still_open(ws: &mut Socket) {
    ws.send(Frame::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    next_of(ws, "pong").await;
}

async fn sockets_end_with_their_session(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let http = Client::new();
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (_, bia) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let bia_laptop = server.sign_in("bia@example.org").await;

    // Signing out closes that session's socket, and only that one.
    let mut phone = server.socket(&bia.token).await;
    let mut laptop = server.socket(&bia_laptop).await;
    let out = http
        .post(server.api("/auth/logout"))
        .bearer_auth(&bia.token)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success());
    assert_eq!(
        close_code(&mut phone, |_| {}).await,
        socket::CLOSE_SESSION_ENDED
    );
    still_open(&mut laptop).await;
    // And the token no longer opens one.
    assert_eq!(
        server.try_socket(&bia.token).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );

    // Ending a session from another device closes its socket.
    let bia_tablet = server.sign_in("bia@example.org").await;
    let mut tablet = server.socket(&bia_tablet).await;
    let sessions: Value = http
        .get(server.api("/me/sessions"))
        .bearer_auth(&bia_laptop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tablet_session = sessions["items"]
        .as_array()
        .or(sessions.as_array())
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = http
        .delete(server.api(&format!("/me/sessions/{tablet_session}")))
        .bearer_auth(&bia_laptop)
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    assert_eq!(
        close_code(&mut tablet, |_| {}).await,
        socket::CLOSE_SESSION_ENDED
    );
    still_open(&mut laptop).await;

    // A password change ends the other sessions' sockets and keeps the current one.
    let bia_desktop = server.sign_in("bia@example.org").await;
    let mut desktop = server.socket(&bia_desktop).await;
    let changed = http
        .post(server.api("/me/password"))
        .bearer_auth(&bia_laptop)
        .json(&json!({"current_password": PASSWORD, "new_password": "another long passphrase"}))
        .send()
        .await
        .unwrap();
    assert!(changed.status().is_success(), "{}", changed.status());
    assert_eq!(
        close_code(&mut desktop, |_| {}).await,
        socket::CLOSE_SESSION_ENDED
    );
    still_open(&mut laptop).await;
}

async fn admins_end_the_sockets_of_those_they_disable_remove_or_demote(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let http = Client::new();
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (bia, bia_session) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let (cau, cau_session) = t.join(&admin_actor, "cau@example.org", Role::Member).await;
    let (dani, dani_session) = t.join(&admin_actor, "dani@example.org", Role::Member).await;
    let member = |id: &taina::core::UserId| server.api(&format!("/community/members/{id}"));

    // Disabled: closed as a session that ended.
    let mut ws = server.socket(&bia_session.token).await;
    let disabled = http
        .patch(member(&bia.user_id))
        .bearer_auth(&admin.token)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::OK);
    assert_eq!(
        close_code(&mut ws, |_| {}).await,
        socket::CLOSE_SESSION_ENDED
    );

    // Removed: the same, and they hear nothing of the community afterwards.
    let mut ws = server.socket(&cau_session.token).await;
    let removed = http
        .delete(member(&cau.user_id))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert!(removed.status().is_success());
    let mut heard = Vec::new();
    let code = close_code(&mut ws, |v| heard.push(v.clone())).await;
    assert_eq!(code, socket::CLOSE_SESSION_ENDED);
    assert!(
        heard.iter().all(|v| v["type"] != "member.removed"),
        "{heard:?}"
    );

    // Demoted to guest: closed so that the client reconnects with its new role.
    let mut ws = server.socket(&dani_session.token).await;
    let demoted = http
        .patch(member(&dani.user_id))
        .bearer_auth(&admin.token)
        .json(&json!({"role": "guest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.status(), StatusCode::OK);
    assert_eq!(
        close_code(&mut ws, |_| {}).await,
        socket::CLOSE_ACCESS_CHANGED
    );
    // The same session reconnects, now as a guest: the shared space is silent to it.
    let mut ws = server.socket(&dani_session.token).await;
    let folder = http
        .post(server.api("/folders"))
        .bearer_auth(&admin.token)
        .json(&json!({"name": "Fotos da festa", "parent_id": "community"}))
        .send()
        .await
        .unwrap();
    assert_eq!(folder.status(), StatusCode::CREATED);
    let frames = frames_within(&mut ws, Duration::from_millis(500)).await;
    assert!(
        frames.iter().all(|f| f["type"] != "folder.created"),
        "{frames:?}"
    );
}

async fn guests_hear_nothing_of_the_shared_space_or_of_members(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let http = Client::new();
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (_, ana) = t.join(&admin_actor, "ana@example.org", Role::Member).await;
    let (_, gil) = t.join(&admin_actor, "gil@example.org", Role::Guest).await;
    let mut ana_ws = server.socket(&ana.token).await;
    let mut gil_ws = server.socket(&gil.token).await;

    let folder = http
        .post(server.api("/folders"))
        .bearer_auth(&admin.token)
        .json(&json!({"name": "Atas", "parent_id": "community"}))
        .send()
        .await
        .unwrap();
    assert_eq!(folder.status(), StatusCode::CREATED);
    t.join(&admin_actor, "joana@example.org", Role::Member)
        .await;

    let created = next_of(&mut ana_ws, "folder.created").await;
    assert_eq!(created["data"]["name"], "Atas");
    next_of(&mut ana_ws, "member.joined").await;
    let heard = frames_within(&mut gil_ws, Duration::from_millis(500)).await;
    assert!(
        heard.iter().all(|f| {
            let kind = f["type"].as_str().unwrap_or_default();
            !kind.starts_with("folder.") && !kind.starts_with("member.")
        }),
        "a guest heard {heard:?}"
    );
}

async fn a_removed_participant_hears_nothing_said_after(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let http = Client::new();
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (bia, bia_session) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let (cau, _) = t.join(&admin_actor, "cau@example.org", Role::Member).await;
    let group: Value = http
        .post(server.api("/conversations"))
        .bearer_auth(&admin.token)
        .json(&json!({"type": "group", "name": "Família", "participant_ids": [bia.user_id, cau.user_id]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = group["id"].as_str().unwrap().to_owned();
    let mut ws = server.socket(&bia_session.token).await;
    let send = |text: &'static str| {
        http.post(server.api(&format!("/conversations/{id}/messages")))
            .bearer_auth(&admin.token)
            .json(&json!({"content": text}))
            .send()
    };
    assert_eq!(send("antes").await.unwrap().status(), StatusCode::CREATED);
    next_of(&mut ws, "message.created").await;

    let removed = http
        .delete(server.api(&format!("/conversations/{id}/participants/{}", bia.user_id)))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert!(removed.status().is_success());
    for _ in 0..5 {
        assert_eq!(
            send("depois, só entre nós").await.unwrap().status(),
            StatusCode::CREATED
        );
    }
    let heard = frames_within(&mut ws, Duration::from_millis(500)).await;
    assert!(
        heard
            .iter()
            .all(|f| f["data"]["text"] != "depois, só entre nós"),
        "{heard:?}"
    );
    assert!(
        heard
            .iter()
            .any(|f| f["type"] == "conversation.updated" && f["data"]["change"] == "left"),
        "{heard:?}"
    );
}

async fn client_frames_are_bounded_in_size_rate_and_number(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let admin = t.setup().await;

    // A frame over the limit is refused before it is read.
    let mut ws = server.socket(&admin.token).await;
    let big = format!(
        r#"{{"type":"ping","pad":"{}"}}"#,
        "x".repeat(socket::MAX_CLIENT_FRAME_BYTES)
    );
    let _ = ws.send(Frame::Text(big.into())).await;
    assert_eq!(close_code(&mut ws, |_| {}).await, socket::CLOSE_TOO_BIG);

    // A flood of frames is refused, then the socket is closed. (The test clock stands still,
    // so the budget does not refill.)
    let mut ws = server.socket(&admin.token).await;
    let flood = socket::FRAME_BURST + socket::FRAMES_OVER_BUDGET_TO_CLOSE + 5;
    for _ in 0..flood {
        if ws
            .send(Frame::Text(r#"{"type":"ping"}"#.into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut pongs = 0;
    let mut refusals = 0;
    let code = close_code(&mut ws, |v| match v["type"].as_str() {
        Some("pong") => pongs += 1,
        Some("error") => refusals += 1,
        _ => {}
    })
    .await;
    assert_eq!(code, socket::CLOSE_TOO_MANY_FRAMES);
    assert_eq!(pongs, socket::FRAME_BURST);
    assert_eq!(refusals, socket::FRAMES_OVER_BUDGET_TO_CLOSE - 1);

    // At most so many sockets per person.
    let mut open = Vec::new();
    for _ in 0..socket::MAX_SOCKETS_PER_PERSON {
        open.push(server.socket(&admin.token).await);
    }
    assert_eq!(
        server.try_socket(&admin.token).await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    // A socket that goes makes room.
    drop(open.pop());
    let mut again = None;
    for _ in 0..50 {
        match server.try_socket(&admin.token).await {
            Ok(ws) => {
                again = Some(ws);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(again.is_some(), "a closed socket never made room");
}

async fn a_cookie_socket_needs_our_scheme_and_host(t: TestInstance) {
    let server = TestServer::start(&t).await;
    t.setup().await;
    let response = server.login("admin@example.org", PASSWORD).await;
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let cookie = cookies.join("; ");
    let open = |origin: String| {
        let mut request = server.ws_url().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    let host = server.base.trim_start_matches("http://").to_owned();
    assert!(open(format!("http://{host}")).await.is_ok());
    for other in [
        format!("https://{host}"),
        "http://evil.example".to_owned(),
        host.clone(),
    ] {
        match open(other.clone()).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                assert_eq!(r.status().as_u16(), 403, "{other}");
            }
            other_result => panic!("{other}: {:?}", other_result.map(|_| ())),
        }
    }
}

/// A server shutting down closes every socket with 1012 ("service restart") after what was
/// already said, so clients reconnect instead of waiting on a dead connection.
async fn stopping_the_server_closes_sockets_telling_clients_to_reconnect(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (bia_actor, bia) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let mut ws = server.socket(&bia.token).await;
    still_open(&mut ws).await;
    t.taina
        .ybira()
        .create_folder(&bia_actor, &taina::ybira::Location::MyFiles, "Antes")
        .await
        .unwrap();
    drop(server);
    let mut heard = Vec::new();
    let code = close_code(&mut ws, |frame| heard.push(frame["type"].clone())).await;
    assert_eq!(code, socket::CLOSE_RESTARTING);
    assert_eq!(heard, [json!("folder.created")], "what was said first");
}

backend_tests!(
    stopping_the_server_closes_sockets_telling_clients_to_reconnect,
    a_cookie_socket_needs_our_scheme_and_host,
    sockets_end_with_their_session,
    admins_end_the_sockets_of_those_they_disable_remove_or_demote,
    guests_hear_nothing_of_the_shared_space_or_of_members,
    a_removed_participant_hears_nothing_said_after,
    client_frames_are_bounded_in_size_rate_and_number,
);
