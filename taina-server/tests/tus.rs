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

async fn start(t: &TestInstance) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let taina = t.taina.clone();
    tokio::spawn(async move {
        taina_server::serve(listener, taina, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (url, stop)
}

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
    let (base, _stop) = start(&t).await;
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

backend_tests!(resumable_uploads);
