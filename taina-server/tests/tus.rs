//! Resumable uploads over tus 1.0, on both databases: created, sent in pieces, interrupted and
//! resumed to the byte, checksums, photos, termination, and the protocol's errors.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use sha2::{Digest, Sha256};
use taina::backend_tests;
use taina::testing::TestInstance;
use taina_server::testing::TestServer;

fn tus(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.bearer_auth(token).header("Tus-Resumable", "1.0.0")
}

fn meta(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn header(response: &Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

async fn create(client: &Client, base: &str, token: &str, length: usize, metadata: &str) -> String {
    let created = tus(client.post(format!("{base}/api/v1/uploads")), token)
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    format!("{base}{}", header(&created, "location"))
}

async fn patch(client: &Client, url: &str, token: &str, offset: usize, bytes: Vec<u8>) -> Response {
    tus(client.patch(url), token)
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn offset(client: &Client, url: &str, token: &str) -> usize {
    let response = tus(client.head(url), token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    header(&response, "upload-offset").parse().unwrap()
}

async fn resumable_uploads(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let base = server.base.clone();
    let token = t.setup().await.token;
    let client = Client::new();
    let content: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 251) as u8).collect();

    let options = client
        .request(reqwest::Method::OPTIONS, format!("{base}/api/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&options, "tus-version"), "1.0.0");
    assert!(header(&options, "tus-extension").contains("checksum"));
    let no_version = client
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(&token)
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), StatusCode::PRECONDITION_FAILED);
    // Keys without values (tus allows them) say nothing: the defaults apply (found by
    // schemathesis: `Upload-Metadata: on_conflict` was refused).
    let bare = try_create(&client, &base, &token, 3, "on_conflict, photo, filename").await;
    assert_eq!(bare.status(), StatusCode::CREATED);
    let bad = try_create(
        &client,
        &base,
        &token,
        3,
        &meta(&[("on_conflict", "merge")]),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let url = create(
        &client,
        &base,
        &token,
        content.len(),
        &meta(&[("filename", "filme.bin")]),
    )
    .await;
    let first = patch(&client, &url, &token, 0, content[..100_000].to_vec()).await;
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&first, "upload-offset"), "100000");
    // The wrong offset is refused.
    let wrong = patch(
        &client,
        &url,
        &token,
        50_000,
        content[50_000..60_000].to_vec(),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::CONFLICT);
    // A piece cut off by a lost connection keeps what arrived; the client asks and resumes there.
    let piece = content[100_000..250_000].to_vec();
    let cut: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(piece[..60_000].to_vec())),
        Err(std::io::Error::other("network gone")),
    ];
    let interrupted = tus(client.patch(&url), &token)
        .header("Upload-Offset", "100000")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Content-Length", piece.len().to_string())
        .body(reqwest::Body::wrap_stream(futures::stream::iter(cut)))
        .send()
        .await;
    assert!(interrupted.is_err() || !interrupted.unwrap().status().is_success());
    // The server may still be finishing the cut piece: ask until it answers.
    let mut at = 0;
    for _ in 0..50 {
        let response = tus(client.head(&url), &token).send().await.unwrap();
        at = header(&response, "upload-offset").parse().unwrap();
        if at >= 100_000 {
            break;
        }
    }
    assert!((100_000..=160_000).contains(&at), "{at}");
    // A checksum that does not match: 460, nothing kept.
    let bad_sum = tus(client.patch(&url), &token)
        .header("Upload-Offset", at.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .header(
            "Upload-Checksum",
            format!("sha256 {}", STANDARD.encode(Sha256::digest(b"other"))),
        )
        .body(content[at..at + 1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(bad_sum.status().as_u16(), 460);
    assert_eq!(offset(&client, &url, &token).await, at);
    // The rest, with a checksum that matches.
    let rest = content[at..].to_vec();
    let last = tus(client.patch(&url), &token)
        .header("Upload-Offset", at.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .header(
            "Upload-Checksum",
            format!("sha256 {}", STANDARD.encode(Sha256::digest(&rest))),
        )
        .body(rest)
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&last, "upload-offset"), "400000");
    let file_id = header(&last, "taina-file-id");
    let stored = client
        .get(format!("{base}/api/v1/files/{file_id}/content"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.bytes().await.unwrap().to_vec(),
        content,
        "the file, to the byte"
    );
    let item: serde_json::Value = client
        .get(format!("{base}/api/v1/files/{file_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["name"], "filme.bin");
    // Finished uploads are gone.
    assert_eq!(
        tus(client.head(&url), &token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // A photo through tus joins the library.
    let jolla = std::fs::read(format!(
        "{}/../tests/fixtures/photos/jolla.jpg",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let url = create(
        &client,
        &base,
        &token,
        jolla.len(),
        &meta(&[("filename", "jolla.jpg"), ("photo", "true")]),
    )
    .await;
    let done = patch(&client, &url, &token, 0, jolla).await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let photo_id = header(&done, "taina-photo-id");
    let photo = client
        .get(format!("{base}/api/v1/photos/{photo_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), StatusCode::OK);

    // Termination gives the reservation back.
    let storage = |c: &Client| {
        let (c, base, token) = (c.clone(), base.clone(), token.clone());
        async move {
            let v: serde_json::Value = c
                .get(format!("{base}/api/v1/storage"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["used_bytes"].as_i64().unwrap()
        }
    };
    let before = storage(&client).await;
    let url = create(
        &client,
        &base,
        &token,
        5_000_000,
        &meta(&[("filename", "big.bin")]),
    )
    .await;
    assert_eq!(
        storage(&client).await,
        before + 5_000_000,
        "the length is reserved"
    );
    patch(&client, &url, &token, 0, vec![1u8; 1000]).await;
    let cancelled = tus(client.delete(&url), &token).send().await.unwrap();
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    assert_eq!(storage(&client).await, before);
    assert_eq!(
        tus(client.head(&url), &token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // Too long, wrong type, someone else's.
    let too_big = tus(client.post(format!("{base}/api/v1/uploads")), &token)
        .header("Upload-Length", (u64::MAX / 2).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let url = create(&client, &base, &token, 10, "").await;
    let wrong_type = tus(client.patch(&url), &token)
        .header("Upload-Offset", "0")
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let too_long = patch(&client, &url, &token, 0, vec![0u8; 11]).await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(offset(&client, &url, &token).await, 0);
    let (_, stranger) = t.other_community("Elsewhere", "x@elsewhere.org").await;
    assert_eq!(
        tus(client.head(&url), &stranger.token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// Asks to create an upload; answers the response (refused or not).
async fn try_create(
    client: &Client,
    base: &str,
    token: &str,
    length: usize,
    metadata: &str,
) -> Response {
    tus(client.post(format!("{base}/api/v1/uploads")), token)
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .unwrap()
}

async fn status_of(client: &Client, url: &str, token: &str) -> StatusCode {
    tus(client.head(url), token).send().await.unwrap().status()
}

async fn used_bytes(client: &Client, base: &str, token: &str) -> i64 {
    let v: serde_json::Value = client
        .get(format!("{base}/api/v1/storage"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["used_bytes"].as_i64().unwrap()
}

async fn get_json(client: &Client, url: String, token: &str) -> serde_json::Value {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/fixtures/photos/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Staged uploads of the community (`communities/{c}/temp/{upload}`, without their pieces).
async fn staged(t: &TestInstance, actor: &taina::core::Actor) -> usize {
    let objects = t
        .taina
        .blobs()
        .list(&format!("communities/{}/temp", actor.community_id))
        .await
        .unwrap();
    objects
        .iter()
        .filter(|o| {
            taina_ybira::layout::area_of(&o.path) == Some(taina_ybira::layout::Area::Staging)
        })
        .count()
}

/// Issue 16 #4: a person's unfinished uploads are capped in number and bytes, refused creations
/// leave no staging file, an empty piece keeps nothing alive, and uploads expire from their last
/// byte and from their creation (released as soon as they are asked for, or by upkeep).
async fn resumable_uploads_are_capped_and_expire(t: TestInstance) {
    let t = t
        .reconfigure(|c| {
            c.max_upload_bytes = 1_000_000;
            c.resumable_uploads_per_user = 3;
            c.resumable_upload_bytes_per_user = Some(1_500_000);
            c.resumable_upload_lifetime_hours = 2;
            c.resumable_upload_idle_minutes = 60;
        })
        .await;
    let server = TestServer::start(&t).await;
    let base = server.base.clone();
    let signed_in = t.setup().await;
    let actor = t.actor(&signed_in).await;
    let token = signed_in.token;
    let client = Client::new();
    let minutes = |n: u64| std::time::Duration::from_secs(n * 60);
    let before = used_bytes(&client, &base, &token).await;

    let a = create(
        &client,
        &base,
        &token,
        1000,
        &meta(&[("filename", "a.bin")]),
    )
    .await;
    let b = create(
        &client,
        &base,
        &token,
        1_000_000,
        &meta(&[("filename", "b.bin")]),
    )
    .await;
    // Together they would announce more than a person may have unfinished.
    let too_much = try_create(&client, &base, &token, 600_000, "").await;
    assert_eq!(too_much.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = too_much.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large", "{body}");
    let c = create(
        &client,
        &base,
        &token,
        1000,
        &meta(&[("filename", "c.bin")]),
    )
    .await;
    // As many as allowed are open.
    let too_many = try_create(&client, &base, &token, 1, "").await;
    assert_eq!(too_many.status(), StatusCode::CONFLICT);
    // A creation the quota refuses leaves no staging file either.
    t.taina
        .accounts()
        .update_community(
            &actor,
            taina::accounts::CommunityUpdate {
                storage_quota_bytes: Some(before + 1_002_000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    tus(client.delete(&c), &token).send().await.unwrap();
    let no_room = try_create(&client, &base, &token, 2000, "").await;
    assert_eq!(no_room.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = no_room.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded", "{body}");
    assert_eq!(
        staged(&t, &actor).await,
        2,
        "refused creations stage nothing"
    );
    let c = create(
        &client,
        &base,
        &token,
        1000,
        &meta(&[("filename", "c.bin")]),
    )
    .await;
    assert_eq!(staged(&t, &actor).await, 3);
    assert_eq!(used_bytes(&client, &base, &token).await, before + 1_002_000);

    // Half an hour on: an empty piece for `a` (it keeps nothing alive), bytes for `b`.
    t.advance(minutes(30));
    let empty = patch(&client, &a, &token, 0, Vec::new()).await;
    assert_eq!(empty.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&empty, "upload-offset"), "0");
    let piece = patch(&client, &b, &token, 0, vec![7u8; 100_000]).await;
    assert_eq!(piece.status(), StatusCode::NO_CONTENT);
    // An hour after its last byte (its creation), `a` is gone; `b` is not.
    t.advance(minutes(31));
    assert_eq!(status_of(&client, &a, &token).await, StatusCode::NOT_FOUND);
    let late = patch(&client, &a, &token, 0, vec![1u8; 10]).await;
    assert_eq!(late.status(), StatusCode::NOT_FOUND);
    assert_eq!(status_of(&client, &b, &token).await, StatusCode::OK);
    // Nobody asked for `c`: upkeep releases it.
    let report = t.taina.ybira().cleanup().await.unwrap();
    assert_eq!(report.stale_uploads, 1, "{report:?}");
    assert_eq!(status_of(&client, &c, &token).await, StatusCode::NOT_FOUND);
    assert_eq!(used_bytes(&client, &base, &token).await, before + 1_000_000);
    assert_eq!(staged(&t, &actor).await, 1);

    // `b` keeps receiving bytes, but two hours after its creation it is gone all the same.
    t.advance(minutes(25));
    let piece = patch(&client, &b, &token, 100_000, vec![7u8; 1000]).await;
    assert_eq!(piece.status(), StatusCode::NO_CONTENT);
    t.advance(minutes(35));
    let late = patch(&client, &b, &token, 101_000, vec![7u8; 1000]).await;
    assert_eq!(late.status(), StatusCode::NOT_FOUND);
    assert_eq!(status_of(&client, &b, &token).await, StatusCode::NOT_FOUND);
    assert_eq!(used_bytes(&client, &base, &token).await, before);
    assert_eq!(staged(&t, &actor).await, 0);

    // Room again.
    let again = create(&client, &base, &token, 10, "").await;
    assert_eq!(
        patch(&client, &again, &token, 0, vec![1u8; 10])
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

/// Issue 16 #13: a photo upload that would replace a file is refused before anything changes when
/// its content is not a photo; a photo replacing a photo keeps the file, its photo and its versions.
async fn photo_replacements_through_tus_keep_the_file(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let base = server.base.clone();
    let signed_in = t.setup().await;
    let actor = t.actor(&signed_in).await;
    let token = signed_in.token;
    let client = Client::new();
    let jolla = fixture("jolla.jpg");
    let url = create(
        &client,
        &base,
        &token,
        jolla.len(),
        &meta(&[("filename", "photo.jpg"), ("photo", "true")]),
    )
    .await;
    let done = patch(&client, &url, &token, 0, jolla.clone()).await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let file_id = header(&done, "taina-file-id");
    let photo_id = header(&done, "taina-photo-id");
    let used = used_bytes(&client, &base, &token).await;
    let replace = |name: &'static str| {
        meta(&[
            ("filename", name),
            ("photo", "true"),
            ("on_conflict", "replace"),
        ])
    };
    let content_of = |id: String| {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        async move {
            let response = client
                .get(format!("{base}/api/v1/files/{id}/content"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.bytes().await.unwrap().to_vec()
        }
    };

    // Text meant for the library, replacing the photo: refused, and nothing changed.
    let text = b"just some words, certainly not a photo".to_vec();
    let url = create(&client, &base, &token, text.len(), &replace("photo.jpg")).await;
    let refused = patch(&client, &url, &token, 0, text).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        content_of(file_id.clone()).await,
        jolla,
        "the file is as it was"
    );
    let versions = get_json(
        &client,
        format!("{base}/api/v1/files/{file_id}/versions"),
        &token,
    )
    .await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 0, "{versions}");
    get_json(&client, format!("{base}/api/v1/photos/{photo_id}"), &token).await;
    assert_eq!(
        status_of(&client, &url, &token).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(staged(&t, &actor).await, 0);
    assert_eq!(used_bytes(&client, &base, &token).await, used);

    // Another photo replacing it: the same file and photo, the old content its version.
    let canon = fixture("Canon_40D.jpg");
    let url = create(&client, &base, &token, canon.len(), &replace("photo.jpg")).await;
    let replaced = patch(&client, &url, &token, 0, canon.clone()).await;
    assert_eq!(replaced.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&replaced, "taina-file-id"), file_id);
    assert_eq!(header(&replaced, "taina-photo-id"), photo_id);
    assert_eq!(content_of(file_id.clone()).await, canon);
    let versions = get_json(
        &client,
        format!("{base}/api/v1/files/{file_id}/versions"),
        &token,
    )
    .await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 1, "{versions}");
    let photo = get_json(&client, format!("{base}/api/v1/photos/{photo_id}"), &token).await;
    assert_eq!(photo["camera"]["make"], "Canon", "{photo}");
    // And again with the first photo (a version of it is kept too): still no harm.
    let url = create(&client, &base, &token, jolla.len(), &replace("photo.jpg")).await;
    let back = patch(&client, &url, &token, 0, jolla.clone()).await;
    assert_eq!(back.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&back, "taina-photo-id"), photo_id);
    assert_eq!(content_of(file_id.clone()).await, jolla);
    let versions = get_json(
        &client,
        format!("{base}/api/v1/files/{file_id}/versions"),
        &token,
    )
    .await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 2, "{versions}");
}

backend_tests!(
    storage:
    resumable_uploads,
    resumable_uploads_are_capped_and_expire,
    photo_replacements_through_tus_keep_the_file
);
