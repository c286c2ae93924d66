//! The SDK's messaging and realtime against a live server, on both databases: groups, edits,
//! deletion, reactions, read positions, history pages and search; a subscription that loses its
//! network, reconnects and delivers what it missed exactly once, in order; and `wss://` to a
//! server with its own certificate.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod support;

use std::sync::Arc;

use std::time::Duration;

use support::{Events, Flaky, Heard, connected, next, next_within, signed_in};
use taina::backend_tests;
use taina::core::Role;
use taina::testing::{PASSWORD, TestInstance};
use taina_client::{Client, ClientError, ClientOptions};
use taina_server::testing::TestServer;

async fn a_group_conversation(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let admin = t
        .taina
        .operator()
        .act_as(None, "admin@example.org")
        .await
        .unwrap();
    let (bia_actor, _) = t.join(&admin, "bia@example.org", Role::Member).await;
    let (caio_actor, _) = t.join(&admin, "caio@example.org", Role::Member).await;
    let ana = signed_in(&server.base, "admin@example.org").await;
    let bia = signed_in(&server.base, "bia@example.org").await;

    let group = ana
        .create_group("Vizinhos".into(), vec![bia_actor.user_id.to_string()])
        .await
        .unwrap();
    assert_eq!(group.participants.len(), 2);
    let id = group.id.to_string();
    let renamed = ana
        .rename_group(id.clone(), "Vizinhança".into())
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Vizinhança"));
    let bigger = ana
        .add_participants(id.clone(), vec![caio_actor.user_id.to_string()])
        .await
        .unwrap();
    assert_eq!(bigger.participants.len(), 3);

    let mut sent = Vec::new();
    for i in 1..=5 {
        sent.push(
            ana.send_message(id.clone(), format!("mensagem {i}"), None, None, None)
                .await
                .unwrap(),
        );
    }
    // Unread counts and the read position, which never moves back.
    let summary = |list: Vec<taina_guara::model::ConversationSummary>| {
        list.into_iter()
            .find(|s| s.conversation.id == group.id)
            .unwrap()
    };
    // Everything in it is unread for Bia: the five messages and the notes of what changed.
    let everything = bia.history(id.clone(), Some(0)).await.unwrap();
    assert_eq!(everything.iter().filter(|m| m.system.is_none()).count(), 5);
    assert_eq!(
        summary(bia.conversations().await.unwrap()).unread_count,
        everything.len() as i64
    );
    assert_eq!(
        bia.mark_read(id.clone(), sent[2].seq).await.unwrap(),
        sent[2].seq
    );
    assert_eq!(summary(bia.conversations().await.unwrap()).unread_count, 2);
    assert_eq!(
        bia.mark_read(id.clone(), sent[0].seq).await.unwrap(),
        sent[2].seq
    );

    // An answer (which moves my read position to it).
    let reply = bia
        .send_message(
            id.clone(),
            "respondendo".into(),
            None,
            None,
            Some(sent[0].id.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(reply.reply_to, Some(sent[0].id.clone()));

    // History pages, scrolling back.
    let latest = bia.history_page(id.clone(), None, Some(3)).await.unwrap();
    assert_eq!(latest.messages.len(), 3);
    assert!(latest.has_more);
    assert_eq!(latest.messages.last().unwrap().id, reply.id);
    let older = bia
        .history_page(id.clone(), Some(latest.messages[0].seq), Some(50))
        .await
        .unwrap();
    let texts: Vec<_> = older
        .messages
        .iter()
        .filter(|m| m.system.is_none())
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, ["mensagem 1", "mensagem 2", "mensagem 3"]);
    assert!(!older.has_more);
    assert!(
        older
            .messages
            .iter()
            .all(|m| m.seq < latest.messages[0].seq)
    );

    // Edits, reactions and deletion.
    let edited = ana
        .edit_message(sent[1].id.to_string(), "mensagem dois".into())
        .await
        .unwrap();
    assert_eq!(edited.text, "mensagem dois");
    assert!(edited.edited_at.is_some());
    match bia
        .edit_message(sent[1].id.to_string(), "não é minha".into())
        .await
    {
        Err(ClientError::Api { status: 403, .. }) => {}
        other => panic!("only the author edits: {other:?}"),
    }
    let liked = bia
        .react(sent[1].id.to_string(), "❤️".into())
        .await
        .unwrap();
    assert!(liked.reactions.iter().any(|r| r.emoji == "❤️"), "{liked:?}");
    match bia.react(sent[1].id.to_string(), "❤️".into()).await {
        Err(ClientError::Api { status: 409, .. }) => {}
        other => panic!("once per emoji: {other:?}"),
    }
    let unliked = bia
        .unreact(sent[1].id.to_string(), "❤️".into())
        .await
        .unwrap();
    assert!(unliked.reactions.is_empty());
    ana.delete_message(sent[4].id.to_string()).await.unwrap();
    let after = bia.history(id.clone(), Some(sent[3].seq)).await.unwrap();
    assert!(after[0].deleted_at.is_some(), "{after:?}");

    // Search, and leaving.
    let hits = bia.search_messages("dois".into()).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].message.id, sent[1].id);
    bia.remove_participant(id.clone(), bia_actor.user_id.to_string())
        .await
        .unwrap();
    match bia.conversation(id.clone()).await {
        Err(ClientError::Api { status: 404, .. }) => {}
        other => panic!("gone once left: {other:?}"),
    }
}

async fn the_subscription_catches_up_after_losing_the_network(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let admin = t
        .taina
        .operator()
        .act_as(None, "admin@example.org")
        .await
        .unwrap();
    let (bia_actor, _) = t.join(&admin, "bia@example.org", Role::Member).await;
    let ana = signed_in(&server.base, "admin@example.org").await;
    let direct = ana
        .start_direct(bia_actor.user_id.to_string())
        .await
        .unwrap();
    ana.send_message(direct.clone(), "antes".into(), None, None, None)
        .await
        .unwrap();

    // Bia's phone reaches the server through a network that can drop.
    let network = Flaky::to(&server.base).await;
    let bia = Client::new(network.url.clone()).unwrap();
    bia.login("bia@example.org".into(), PASSWORD.into(), None)
        .await
        .unwrap();
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let subscription = bia.clone().subscribe(Arc::new(Events(tx))).await.unwrap();
    connected(&mut heard).await;
    ana.send_message(direct.clone(), "ao vivo".into(), None, None, None)
        .await
        .unwrap();
    let live = next(&mut heard, "the live message", |h| match h {
        Heard::Event(e) if e.kind == "message.created" => Some(e),
        _ => None,
    })
    .await;
    assert_eq!(live.message.as_ref().unwrap().text, "ao vivo");
    assert!(!live.caught_up);

    // The network drops; meanwhile Ana writes, in the direct conversation and in a new group.
    network.cut();
    next(&mut heard, "the loss", |h| {
        matches!(h, Heard::Connected(false)).then_some(())
    })
    .await;
    let mut missed = Vec::new();
    for i in 1..=3 {
        missed.push(
            ana.send_message(direct.clone(), format!("perdida {i}"), None, None, None)
                .await
                .unwrap()
                .id,
        );
    }
    let group = ana
        .create_group("Rua".into(), vec![bia_actor.user_id.to_string()])
        .await
        .unwrap();
    missed.push(
        ana.send_message(group.id.to_string(), "no grupo".into(), None, None, None)
            .await
            .unwrap()
            .id,
    );

    // Back: the missed messages first, in order, then `resync`, and live ones after.
    network.restore();
    let mut delivered = Vec::new();
    loop {
        match next(&mut heard, "the catch-up", Some).await {
            Heard::Event(e) if e.kind == "resync" => break,
            Heard::Event(e) if e.kind == "message.created" => {
                assert!(e.caught_up, "{e:?}");
                delivered.push(e.message.unwrap());
            }
            _ => {}
        }
    }
    let ids: Vec<_> = delivered.iter().map(|m| m.id.clone()).collect();
    let direct_part: Vec<_> = delivered
        .iter()
        .filter(|m| m.conversation_id.to_string() == direct)
        .map(|m| m.seq)
        .collect();
    assert!(
        direct_part.windows(2).all(|w| w[0] < w[1]),
        "in order: {direct_part:?}"
    );
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    // The group's note that it was made counts as missed too.
    let mut want = missed.clone();
    for m in ana.history(group.id.to_string(), Some(0)).await.unwrap() {
        if !want.contains(&m.id) {
            want.push(m.id);
        }
    }
    want.sort();
    assert_eq!(
        sorted_ids, want,
        "every missed message, once, and nothing else"
    );

    ana.send_message(direct.clone(), "de volta".into(), None, None, None)
        .await
        .unwrap();
    let after = next(&mut heard, "the next live message", |h| match h {
        Heard::Event(e) if e.kind == "message.created" => Some(e),
        _ => None,
    })
    .await;
    assert_eq!(
        after.message.unwrap().text,
        "de volta",
        "nothing delivered twice"
    );
    drop(subscription);
}

async fn wss_to_a_server_with_its_own_certificate(t: TestInstance) {
    let dir = tempfile::tempdir().unwrap();
    let issued =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, issued.cert.pem()).unwrap();
    std::fs::write(&key, issued.signing_key.serialize_pem()).unwrap();
    let t = t
        .reconfigure(|c| {
            c.tls_cert = Some(cert.clone());
            c.tls_key = Some(key.clone());
        })
        .await;
    t.setup().await;
    let server = TestServer::start_with_scheme(&t, "https").await;
    let admin = t
        .taina
        .operator()
        .act_as(None, "admin@example.org")
        .await
        .unwrap();
    let (bia_actor, _) = t.join(&admin, "bia@example.org", Role::Member).await;

    // Not trusted unless the app says so.
    let stranger = Client::new(server.base.clone()).unwrap();
    assert!(matches!(
        stranger
            .login("bia@example.org".into(), PASSWORD.into(), None)
            .await,
        Err(ClientError::Network { .. })
    ));
    assert!(matches!(
        Client::with_options(
            server.base.clone(),
            ClientOptions {
                state_dir: None,
                extra_root_certificate_pem: Some("not a certificate".into()),
            }
        ),
        Err(ClientError::Invalid { .. })
    ));

    let options = ClientOptions {
        state_dir: None,
        extra_root_certificate_pem: Some(issued.cert.pem()),
    };
    let bia = Client::with_options(server.base.clone(), options.clone()).unwrap();
    bia.login("bia@example.org".into(), PASSWORD.into(), None)
        .await
        .unwrap();
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let _subscription = bia.clone().subscribe(Arc::new(Events(tx))).await.unwrap();
    connected(&mut heard).await;
    let ana = Client::with_options(server.base.clone(), options).unwrap();
    ana.login("admin@example.org".into(), PASSWORD.into(), None)
        .await
        .unwrap();
    let direct = ana
        .start_direct(bia_actor.user_id.to_string())
        .await
        .unwrap();
    ana.send_message(direct, "por TLS".into(), None, None, None)
        .await
        .unwrap();
    let got = next(&mut heard, "the message over wss", |h| match h {
        Heard::Event(e) if e.kind == "message.created" => Some(e),
        _ => None,
    })
    .await;
    assert_eq!(got.message.unwrap().text, "por TLS");
}

async fn the_subscription_stops_when_the_session_ends(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let network = Flaky::to(&server.base).await;
    let phone = Client::new(network.url.clone()).unwrap();
    phone
        .login("admin@example.org".into(), PASSWORD.into(), None)
        .await
        .unwrap();
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let _subscription = phone.clone().subscribe(Arc::new(Events(tx))).await.unwrap();
    connected(&mut heard).await;
    let phones = phone
        .sessions()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.current)
        .unwrap();

    // While the phone is away, its session is ended from the laptop.
    network.cut();
    let laptop = signed_in(&server.base, "admin@example.org").await;
    laptop.end_session(phones.id.to_string()).await.unwrap();
    network.restore();
    // (The subscription retries with back-off: up to 30 s after the network is back.)
    next_within(
        Duration::from_secs(40),
        &mut heard,
        "the end of the session",
        |h| match h {
            Heard::Event(e) if e.kind == "unauthenticated" => Some(()),
            _ => None,
        },
    )
    .await;
    // And then it stops trying.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        !std::iter::from_fn(|| heard.try_recv().ok()).any(|h| matches!(h, Heard::Connected(true))),
        "no reconnection after the session ended"
    );
}

async fn a_connected_subscription_hears_at_once_that_its_session_ended(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let phone = signed_in(&server.base, "admin@example.org").await;
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let _subscription = phone.clone().subscribe(Arc::new(Events(tx))).await.unwrap();
    connected(&mut heard).await;
    let phones = phone
        .sessions()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.current)
        .unwrap();
    let laptop = signed_in(&server.base, "admin@example.org").await;
    laptop.end_session(phones.id.to_string()).await.unwrap();
    // The server closes the socket with the session (no waiting for a reconnect).
    next_within(
        Duration::from_secs(3),
        &mut heard,
        "the end of the session",
        |h| match h {
            Heard::Event(e) if e.kind == "unauthenticated" => Some(()),
            _ => None,
        },
    )
    .await;
}

backend_tests!(
    the_subscription_stops_when_the_session_ends,
    a_connected_subscription_hears_at_once_that_its_session_ended,
    a_group_conversation,
    the_subscription_catches_up_after_losing_the_network,
    wss_to_a_server_with_its_own_certificate,
);
