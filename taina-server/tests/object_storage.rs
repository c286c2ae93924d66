#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! Issue 18: large downloads to save go straight from the bucket (a presigned URL), with the
//! file's name, when the operator asks for it; everything else is streamed by Tainá as before, and
//! nobody gets a URL for a file they may not read.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, LOCATION};
use taina::Backend;
use taina::testing::{S3_ENDPOINT_VAR, TestInstance, use_test_bucket};
use taina_server::testing::{TestServer, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_downloads_to_save_come_from_the_bucket() {
    let t = TestInstance::with_config(Backend::Postgres, |config| {
        use_test_bucket(config);
        config.storage_presigned_downloads_from_bytes = Some(100_000);
    })
    .await;
    let server = TestServer::start(&t).await;
    let signed_in = t.setup().await;
    let admin = signed_in.token.clone();
    let (_, bia) = t
        .join(
            &t.actor(&signed_in).await,
            "bia@example.org",
            taina::core::Role::Member,
        )
        .await;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let uploaded = server
        .upload(&admin, "/files", "relatório final.bin", big.clone(), &[])
        .await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let big_id = json(uploaded).await["id"].as_str().unwrap().to_owned();
    let small = server
        .upload(&admin, "/files", "nota.txt", b"pouco".to_vec(), &[])
        .await;
    let small_id = json(small).await["id"].as_str().unwrap().to_owned();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |id: &str, query: &str| {
        no_redirects
            .get(server.api(&format!("/files/{id}/content{query}")))
            .bearer_auth(&admin)
    };

    // To save, large: a redirect to the bucket, not kept by any cache.
    let redirected = get(&big_id, "?download=true").send().await.unwrap();
    assert_eq!(redirected.status(), StatusCode::FOUND);
    assert_eq!(redirected.headers()[CACHE_CONTROL], "no-store");
    let location = redirected.headers()[LOCATION].to_str().unwrap().to_owned();
    let endpoint = std::env::var(S3_ENDPOINT_VAR).unwrap();
    assert!(
        location.starts_with(&format!("{endpoint}/taina-tests/")),
        "{location}"
    );
    for part in [
        "X-Amz-Signature=",
        "X-Amz-Expires=300",
        "response-content-disposition=",
    ] {
        assert!(location.contains(part), "{part} in {location}");
    }
    // The URL asks the store to answer with the file's name and a type no browser runs (moto
    // ignores these two parameters; AWS, MinIO, Garage, R2 and Ceph honour them).
    let url = reqwest::Url::parse(&location).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        param("response-content-disposition"),
        "attachment; filename=\"relat_rio final.bin\"; filename*=UTF-8''relat%C3%B3rio%20final.bin"
    );
    assert_eq!(param("response-content-type"), "application/octet-stream");
    // It needs no session: the bytes come from the store.
    let from_store = reqwest::get(&location).await.unwrap();
    assert_eq!(from_store.status(), StatusCode::OK);
    assert_eq!(from_store.bytes().await.unwrap(), big);

    // Shown in the browser, a range, or small: streamed by Tainá as before.
    let shown = get(&big_id, "").send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.bytes().await.unwrap(), big);
    let part = get(&big_id, "?download=true")
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), big[10..20]);
    let small = get(&small_id, "?download=true").send().await.unwrap();
    assert_eq!(small.status(), StatusCode::OK);
    assert_eq!(small.bytes().await.unwrap(), b"pouco".as_slice());

    // Someone who may not read the file gets "not found", never a URL.
    let refused = no_redirects
        .get(server.api(&format!("/files/{big_id}/content?download=true")))
        .bearer_auth(&bia.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert!(refused.headers().get(LOCATION).is_none());
}
