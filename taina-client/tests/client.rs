//! The SDK against a live server, on both databases: sign-in and the token, me, folders, an upload
//! from a path with progress, a download to a path, the photo backup run twice (nothing goes up
//! the second time), and a message arriving through the realtime subscription.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod support;

use std::sync::Arc;

use support::{Events, Heard, Recorded, fixture};
use taina::backend_tests;
use taina::testing::{PASSWORD, TestInstance};
use taina_client::{Client, ClientError, ErrorCode};
use taina_server::testing::TestServer;

async fn the_sdk_against_a_live_server(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let url = server.base.clone();
    assert!(matches!(
        Client::new("ftp://nowhere".into()),
        Err(ClientError::Invalid { .. })
    ));
    let client = Client::new(url.clone()).unwrap();

    // Before signing in: a clear error, not a panic; a wrong password: the server's words.
    assert!(matches!(
        client.me().await,
        Err(ClientError::Invalid { .. })
    ));
    match client
        .login("admin@example.org".into(), "wrong password".into(), None)
        .await
    {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code), (401, ErrorCode::Unauthenticated));
        }
        other => panic!("{other:?}"),
    }
    let me = client
        .login("admin@example.org".into(), PASSWORD.into(), None)
        .await
        .unwrap();
    assert_eq!(me.email, "admin@example.org");
    let token = client.token().unwrap();

    // The app keeps the token and hands it to a new client later.
    let again = Client::new(url.clone()).unwrap();
    again.set_token(Some(token));
    assert_eq!(again.me().await.unwrap().id, me.id);

    // Folders and a resumable upload with progress, then the download, byte for byte.
    let folder = client
        .create_folder("root".into(), "Celular".into())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("video.bin");
    let bytes: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&source, &bytes).unwrap();
    let progress = Arc::new(Recorded::default());
    let item = client
        .upload_file(
            source.display().to_string(),
            folder.id.to_string(),
            Some(progress.clone()),
            false,
        )
        .await
        .unwrap();
    assert_eq!(item.size_bytes, bytes.len() as u64);
    let seen = progress.0.lock().unwrap().clone();
    assert!(seen.len() >= 3, "progress in pieces: {seen:?}");
    assert_eq!(seen.last(), Some(&(bytes.len() as u64, bytes.len() as u64)));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "never backwards");
    let listed = client.list_folder(folder.id.to_string()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "video.bin");
    let copy = dir.path().join("copy.bin");
    let size = client
        .download_file(item.id.to_string(), copy.display().to_string(), None)
        .await
        .unwrap();
    assert_eq!(size, bytes.len() as u64);
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    match client
        .download_file(
            "AAAAAAAAAAAAAAAAAAAAA".into(),
            copy.display().to_string(),
            None,
        )
        .await
    {
        Err(ClientError::Api { status: 404, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        bytes,
        "a failed download leaves the file as it was"
    );

    // Photo backup: the first run uploads what is new, the second nothing.
    let mut photos: Vec<String> = ["Canon_40D.jpg", "Nikon_D70.jpg", "jolla.jpg"]
        .iter()
        .map(|n| fixture(n))
        .collect();
    photos.push(fixture("jolla.jpg")); // the same picture twice
    photos.push(dir.path().join("missing.jpg").display().to_string());
    let files = Arc::new(Recorded::default());
    let first = client
        .backup_photos(photos.clone(), Some(files.clone()))
        .await
        .unwrap();
    assert_eq!(first.uploaded, 3, "{first:?}");
    assert_eq!(first.already_there, 1, "{first:?}");
    assert_eq!(first.failed.len(), 1, "{first:?}");
    assert_eq!(files.0.lock().unwrap().last(), Some(&(5, 5)));
    let timeline = t
        .taina
        .jaci()
        .timeline(
            &t.taina
                .operator()
                .act_as(None, "admin@example.org")
                .await
                .unwrap(),
            taina::jaci::Scope::Mine,
            None,
            None,
            0,
        )
        .await
        .unwrap();
    assert_eq!(timeline.photos.len(), 3);
    let second = client.backup_photos(photos, None).await.unwrap();
    assert_eq!(
        (second.uploaded, second.already_there),
        (0, 4),
        "{second:?}"
    );

    // Messages: Bia follows her events; Ana's message arrives through the subscription.
    let admin_actor = t
        .taina
        .operator()
        .act_as(None, "admin@example.org")
        .await
        .unwrap();
    let (bia_actor, _) = t
        .join(&admin_actor, "bia@example.org", taina::core::Role::Member)
        .await;
    let bia = Client::new(url.clone()).unwrap();
    bia.login("bia@example.org".into(), PASSWORD.into(), None)
        .await
        .unwrap();
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let subscription = bia.clone().subscribe(Arc::new(Events(tx))).await.unwrap();
    // Connected before Ana writes.
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await {
            Ok(Some(Heard::Connected(true))) => break,
            Ok(Some(_)) => {}
            other => panic!("never connected: {other:?}"),
        }
    }
    let conversation = client
        .start_direct(bia_actor.user_id.to_string())
        .await
        .unwrap();
    let sent = client
        .send_message(
            conversation.clone(),
            "Oi Bia!".into(),
            Some("k-1".into()),
            None,
            None,
        )
        .await
        .unwrap();
    let resent = client
        .send_message(
            conversation.clone(),
            "Oi Bia!".into(),
            Some("k-1".into()),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(resent.id, sent.id, "the same client id sends once");
    let got = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await {
            Ok(Some(Heard::Event(e))) if e.kind == "message.created" => break e,
            Ok(Some(_)) => {}
            other => panic!("the message never came: {other:?}"),
        }
    };
    assert_eq!(got.conversation_id.as_deref(), Some(conversation.as_str()));
    assert_eq!(got.message.unwrap().text, "Oi Bia!");
    let history = bia.history(conversation.clone(), Some(0)).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        bia.history(conversation.clone(), None).await.unwrap().len(),
        1
    );
    // Dropping the subscription ends it.
    drop(subscription);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    while events.try_recv().is_ok() {}
    client
        .send_message(conversation.clone(), "ainda aí?".into(), None, None, None)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !std::iter::from_fn(|| events.try_recv().ok()).any(|h| matches!(h, Heard::Event(_))),
        "no events after the subscription is gone"
    );

    client.logout().await.unwrap();
    assert!(client.token().is_none());
    match again.me().await {
        Err(ClientError::Api { status: 401, .. }) => {}
        other => panic!("the token ended with the logout: {other:?}"),
    }
}

backend_tests!(the_sdk_against_a_live_server);
