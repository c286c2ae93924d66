//! Guará over HTTP and the WebSocket, on both databases: a message sent by one person over HTTP
//! arrives on the other's socket; typing arrives and expires; history, reads, reactions, search
//! and the errors.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use futures::SinkExt;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use taina::backend_tests;
use taina::core::Role;
use taina::testing::TestInstance;
use taina_server::testing::{TestServer, next_of};
use tokio_tungstenite::tungstenite::Message as Frame;

async fn messages_travel_over_http_and_the_socket(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let api = |path: &str| server.api(path);
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (bia, bia_session) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let (_, gil_session) = t.join(&admin_actor, "gil@example.org", Role::Member).await;
    let client = Client::new();
    let (ana, bia_token, gil) = (&admin.token, &bia_session.token, &gil_session.token);

    // A socket needs credentials.
    let refused = tokio_tungstenite::connect_async(server.ws_url()).await;
    assert!(refused.is_err());

    let created = client
        .post(api("/conversations"))
        .bearer_auth(ana)
        .json(&json!({"type": "direct", "participant_ids": [bia.user_id]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let conversation: Value = created.json().await.unwrap();
    let id = conversation["id"].as_str().unwrap().to_owned();
    let again: Value = client
        .post(api(&format!("/conversations/direct/{}", bia.user_id)))
        .bearer_auth(ana)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], id.as_str());

    let mut bia_ws = server.socket(bia_token).await;
    let mut ana_ws = server.socket(ana).await;
    // Bia sees Ana come online.
    let presence = next_of(&mut bia_ws, "presence").await;
    assert_eq!(presence["data"]["status"], "online");

    // Sent over HTTP, received on the socket.
    let sent = client
        .post(api(&format!("/conversations/{id}/messages")))
        .bearer_auth(ana)
        .json(&json!({"content": "Oi, Bia!", "message_type": "text", "client_id": "c-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);
    let sent: Value = sent.json().await.unwrap();
    let got = next_of(&mut bia_ws, "message.created").await;
    assert_eq!(got["data"]["id"], sent["id"]);
    assert_eq!(got["data"]["text"], "Oi, Bia!");
    // The same client id again: the same message.
    let retried: Value = client
        .post(api(&format!("/conversations/{id}/messages")))
        .bearer_auth(ana)
        .json(&json!({"content": "Oi, Bia!", "client_id": "c-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(retried["id"], sent["id"]);

    // Typing from Ana's socket reaches Bia's, and expires five seconds after the last refresh.
    ana_ws
        .send(Frame::Text(
            json!({"type": "typing", "conversation_id": id, "typing": true})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let typing = next_of(&mut bia_ws, "typing").await;
    assert_eq!(typing["data"]["active"], true);
    t.advance(Duration::from_secs(6));
    assert_eq!(t.taina.guara().expire_typing(), 1);
    let stopped = next_of(&mut bia_ws, "typing").await;
    assert_eq!(stopped["data"]["active"], false);
    ana_ws
        .send(Frame::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    next_of(&mut ana_ws, "pong").await;
    ana_ws
        .send(Frame::Text(r#"{"type":"dance"}"#.into()))
        .await
        .unwrap();
    next_of(&mut ana_ws, "error").await;

    // History pages back with a cursor; reading; reactions; search.
    for n in 0..5 {
        client
            .post(api(&format!("/conversations/{id}/messages")))
            .bearer_auth(bia_token)
            .json(&json!({"content": format!("resposta {n}")}))
            .send()
            .await
            .unwrap();
    }
    let page: Value = client
        .get(api(&format!("/conversations/{id}/messages?limit=4")))
        .bearer_auth(ana)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 4);
    let cursor = page["next_cursor"].as_str().unwrap();
    let older: Value = client
        .get(api(&format!(
            "/conversations/{id}/messages?limit=4&cursor={cursor}"
        )))
        .bearer_auth(ana)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(older["items"].as_array().unwrap().len(), 2);
    assert!(older["next_cursor"].is_null());
    let list: Value = client
        .get(api("/conversations"))
        .bearer_auth(ana)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["unread_count"], 5);
    let read: Value = client
        .post(api(&format!("/conversations/{id}/read")))
        .bearer_auth(ana)
        .json(&json!({"seq": 6}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["last_read_seq"], 6);
    let reacted = client
        .post(api(&format!(
            "/messages/{}/reactions",
            sent["id"].as_str().unwrap()
        )))
        .bearer_auth(bia_token)
        .json(&json!({"emoji": "❤️"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reacted.status(), StatusCode::CREATED);
    let twice = client
        .post(api(&format!(
            "/messages/{}/reactions",
            sent["id"].as_str().unwrap()
        )))
        .bearer_auth(bia_token)
        .json(&json!({"emoji": "❤️"}))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    let found: Value = client
        .get(api("/search/messages?q=respos"))
        .bearer_auth(ana)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 5);

    // Outsiders and bad input.
    let outsider = client
        .get(api(&format!("/conversations/{id}/messages")))
        .bearer_auth(gil)
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);
    let bad = client
        .post(api(&format!("/conversations/{id}/messages")))
        .bearer_auth(ana)
        .json(&json!({"content": "x", "message_type": "hologram"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let empty = client
        .post(api(&format!("/conversations/{id}/messages")))
        .bearer_auth(ana)
        .json(&json!({"content": "   "}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let myself = client
        .post(api(&format!(
            "/conversations/direct/{}",
            admin_actor.user_id
        )))
        .bearer_auth(ana)
        .send()
        .await
        .unwrap();
    assert_eq!(myself.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Every message a person is sent says what they may do with it — over HTTP and on their socket —
/// so no client decides it: the author may edit and delete, a group admin may delete anyone's,
/// another member neither.
async fn each_reader_is_told_what_they_may_do_with_a_message(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (bia, bia_session) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let (gil, gil_session) = t.join(&admin_actor, "gil@example.org", Role::Member).await;
    let client = Client::new();
    // Ana makes the group: she is its admin; Bia and Gil are members.
    let group: Value = client
        .post(server.api("/conversations"))
        .bearer_auth(&admin.token)
        .json(&json!({"type": "group", "name": "Vizinhos",
            "participant_ids": [bia.user_id, gil.user_id]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = group["id"].as_str().unwrap().to_owned();
    let mut sockets = Vec::new();
    for token in [&admin.token, &gil_session.token] {
        sockets.push(server.socket(token).await);
    }
    let sent = client
        .post(server.api(&format!("/conversations/{id}/messages")))
        .bearer_auth(&bia_session.token)
        .json(&json!({"content": "Alguém tem uma escada?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);
    let sent: Value = sent.json().await.unwrap();
    let rights = |edit: bool, delete: bool| json!({"can_edit": edit, "can_delete": delete});
    assert_eq!(sent["viewer"], rights(true, true), "the author");
    // Live, each socket hears it as its person reads it.
    let expected = [rights(false, true), rights(false, false)];
    for (socket, expected) in sockets.iter_mut().zip(&expected) {
        let heard = next_of(socket, "message.created").await;
        assert_eq!(&heard["data"]["viewer"], expected);
    }
    // And the history says the same to each.
    for (token, expected) in [
        (&admin.token, rights(false, true)),
        (&gil_session.token, rights(false, false)),
        (&bia_session.token, rights(true, true)),
    ] {
        let page: Value = client
            .get(server.api(&format!("/conversations/{id}/messages")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let message = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == sent["id"])
            .unwrap();
        assert_eq!(message["viewer"], expected);
    }
    // What the rights say holds: Gil's delete is refused, Ana's is done.
    let delete = |token: &String| {
        client
            .delete(server.api(&format!("/messages/{}", sent["id"].as_str().unwrap())))
            .bearer_auth(token.clone())
            .send()
    };
    assert_eq!(
        delete(&gil_session.token).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&admin.token).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
}

backend_tests!(
    messages_travel_over_http_and_the_socket,
    each_reader_is_told_what_they_may_do_with_a_message
);
