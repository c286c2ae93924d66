//! Untrusted images are decoded in a child process under limits (issue 16 #14), on both databases:
//! a file that crashes or exhausts its decoder fails its previews job once and for all, the server
//! keeps serving, and the photo says it has no preview; real photos keep getting thumbnails.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use taina::backend_tests;
use taina::testing::TestInstance;
use taina_server::testing::{TestServer, fixture_photo, json};

async fn upload(server: &TestServer, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    let response = server.upload(token, "/photos", name, bytes, &[]).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{name}");
    json(response).await
}

async fn get(client: &Client, url: String, token: &str) -> reqwest::Response {
    client.get(url).bearer_auth(token).send().await.unwrap()
}

/// A PNG that says it is 10,000 × 10,000 (within the pixel limit) and holds almost nothing:
/// decoding it needs 300 MB for the pixels.
fn png_claiming_100_megapixels() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&10_000u32.to_be_bytes());
    header.extend_from_slice(&10_000u32.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0x00, 0x00]);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The last error of the previews job of `file`, if it failed for good.
async fn failed_previews(t: &TestInstance, file: &str) -> Option<String> {
    t.taina
        .jobs()
        .failed()
        .await
        .unwrap()
        .into_iter()
        .find(|j| {
            matches!(&j.job, taina::jobs::Job::Previews { file_id } if file_id.as_str() == file)
        })
        .map(|j| j.last_error)
}

async fn a_file_past_the_decoders_memory_limit_fails_alone(t: TestInstance) {
    // The real decoder, with a limit that a 100-megapixel bomb exceeds and a photo does not.
    let t = t
        .reconfigure(|c| c.decoder_memory_bytes = 256 * 1024 * 1024)
        .await;
    let server = TestServer::start(&t).await;
    let admin = t.setup().await;
    let token = &admin.token;
    let client = Client::new();
    let bomb = upload(&server, token, "bomb.png", png_claiming_100_megapixels()).await;
    let heic = upload(
        &server,
        token,
        "photo.heic",
        fixture_photo("samplefilehub.heif"),
    )
    .await;
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 1));
    let why = failed_previews(&t, bomb["file_id"].as_str().unwrap())
        .await
        .unwrap();
    assert!(
        why.contains("signal 6"),
        "killed at its memory limit: {why}"
    );

    // The server still answers; the bomb says it has no preview; the photo got its thumbnails.
    let health = client.get(server.at("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let detail = json(
        get(
            &client,
            server.api(&format!("/photos/{}", bomb["id"].as_str().unwrap())),
            token,
        )
        .await,
    )
    .await;
    assert_eq!(detail["processed"], true, "{detail}");
    assert_eq!(detail["processing_error"], taina::jaci::DECODER_FAILED);
    let small = get(
        &client,
        server.api(&format!(
            "/files/{}/thumbnail/small",
            heic["file_id"].as_str().unwrap()
        )),
        token,
    )
    .await;
    assert_eq!(small.status(), StatusCode::OK);
    assert!(small.bytes().await.unwrap().starts_with(b"RIFF"));

    // Not retried, however long one waits.
    t.advance(Duration::from_secs(48 * 3600));
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 0));
    assert_eq!(t.taina.jobs().counts().await.unwrap().failed, 1);
}

async fn a_file_that_crashes_its_decoder_fails_once_and_for_all(t: TestInstance) {
    // A decoder that dies as libheif would on a crafted HEIC, noting each run.
    use std::os::unix::fs::PermissionsExt;
    let runs = t.dir.path().join("runs");
    let decoder = t.dir.path().join("crashing-decoder");
    std::fs::write(
        &decoder,
        format!("#!/bin/sh\necho run >> {}\nkill -SEGV $$\n", runs.display()),
    )
    .unwrap();
    std::fs::set_permissions(&decoder, std::fs::Permissions::from_mode(0o755)).unwrap();
    let t = t.reconfigure(|c| c.decoder = Some(decoder)).await;
    let server = TestServer::start(&t).await;
    let admin = t.setup().await;
    let token = &admin.token;
    let client = Client::new();
    let mut crafted = fixture_photo("samplefilehub.heif");
    crafted.truncate(crafted.len() / 2);
    let photo = upload(&server, token, "crafted.heic", crafted).await;
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 1));
    let why = failed_previews(&t, photo["file_id"].as_str().unwrap())
        .await
        .unwrap();
    assert!(why.contains("signal 11"), "{why}");
    let detail = json(
        get(
            &client,
            server.api(&format!("/photos/{}", photo["id"].as_str().unwrap())),
            token,
        )
        .await,
    )
    .await;
    assert_eq!(detail["processing_error"], taina::jaci::DECODER_FAILED);
    let timeline = get(&client, server.api("/photos"), token).await;
    assert_eq!(timeline.status(), StatusCode::OK);
    t.advance(Duration::from_secs(48 * 3600));
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 0));
    assert_eq!(
        std::fs::read_to_string(&runs).unwrap(),
        "run\n",
        "decoded once"
    );
}

backend_tests!(
    a_file_past_the_decoders_memory_limit_fails_alone,
    a_file_that_crashes_its_decoder_fails_once_and_for_all,
);
