//! The second attacker's read (issue 16's closing sentence), over HTTP: further instances of the
//! classes of hole found first, each closed with a regression test through a real server.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use taina::backend_tests;
use taina::testing::TestInstance;
use taina_server::testing::{TestServer, error, json};

/// The request id a client sends is echoed and put on every log line of its request: one that is
/// long or holds anything but plain characters is replaced by one of ours, so a client can neither
/// flood the log with a header of hundreds of KiB nor forge log lines; a plain one is kept, so a
/// proxy's ids still correlate.
async fn request_ids_from_clients_are_bounded(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let http = reqwest::Client::new();
    let echoed = |sent: String| {
        let http = http.clone();
        let url = server.at("/healthz");
        async move {
            let response = http
                .get(url)
                .header("x-request-id", sent)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            response
                .headers()
                .get("x-request-id")
                .expect("every answer names its request")
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    let plain = "3f2c9e1a-5b7d-4c8e-9f00-1234567890ab".to_owned();
    assert_eq!(echoed(plain.clone()).await, plain, "a proxy's id is kept");
    for unfit in [
        "a".repeat(8 * 1024),
        "x".repeat(65),
        "id with spaces".to_owned(),
        "id\"}, \"forged\": {\"".to_owned(),
    ] {
        let answered = echoed(unfit.clone()).await;
        assert!(answered != unfit, "a {}-byte id was echoed", unfit.len());
        assert!(
            (1..=64).contains(&answered.len())
                && answered
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)),
            "{answered:?}"
        );
    }
}

backend_tests!(
    request_ids_from_clients_are_bounded,
    a_refused_move_and_rename_changes_nothing,
);

/// Issue 23 §1: a PATCH that moves and renames at once, to a name taken in the new folder, is
/// refused as a whole: 409, and the file is still where it was under its old name (it used to be
/// moved, then refused the rename).
async fn a_refused_move_and_rename_changes_nothing(t: TestInstance) {
    use taina::ybira::{Location, NewUpload, OnConflict};
    let server = TestServer::start(&t).await;
    let http = reqwest::Client::new();
    let signed_in = t.setup().await;
    let admin = t.actor(&signed_in).await;
    let y = t.taina.ybira();
    let from = y
        .create_folder(&admin, &Location::MyFiles, "From")
        .await
        .unwrap();
    let to = y
        .create_folder(&admin, &Location::MyFiles, "To")
        .await
        .unwrap();
    let upload = |location: Location, name: &str| NewUpload {
        location,
        name: name.into(),
        declared_size: None,
        on_conflict: OnConflict::Rename,
    };
    let one = |b: &'static [u8]| futures::stream::iter(vec![Ok(bytes::Bytes::from_static(b))]);
    let file = y
        .upload(
            &admin,
            upload(Location::Folder(from.id.clone()), "a.txt"),
            one(b"a"),
        )
        .await
        .unwrap();
    y.upload(
        &admin,
        upload(Location::Folder(to.id.clone()), "taken.txt"),
        one(b"t"),
    )
    .await
    .unwrap();
    let url = server.api(&format!("/files/{}", file.id));
    let refused = http
        .patch(&url)
        .bearer_auth(&signed_in.token)
        .json(&serde_json::json!({ "parent_id": to.id.to_string(), "name": "Taken.txt" }))
        .send()
        .await
        .unwrap();
    let e = error(refused, reqwest::StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "conflict", "{e}");
    let now = json(
        http.get(&url)
            .bearer_auth(&signed_in.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(now["parent_id"], from.id.to_string(), "it did not move");
    assert_eq!(now["name"], "a.txt", "it was not renamed");
    // Both fine: both apply.
    let done = http
        .patch(&url)
        .bearer_auth(&signed_in.token)
        .json(&serde_json::json!({ "parent_id": to.id.to_string(), "name": "b.txt" }))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), reqwest::StatusCode::OK);
    let done = json(done).await;
    assert_eq!(done["parent_id"], to.id.to_string());
    assert_eq!(done["name"], "b.txt");
}
