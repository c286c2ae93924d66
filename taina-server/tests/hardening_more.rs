//! The second attacker's read (issue 16's closing sentence), over HTTP: further instances of the
//! classes of hole found first, each closed with a regression test through a real server.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod support;

use support::Server;
use taina::backend_tests;
use taina::testing::TestInstance;

/// The request id a client sends is echoed and put on every log line of its request: one that is
/// long or holds anything but plain characters is replaced by one of ours, so a client can neither
/// flood the log with a header of hundreds of KiB nor forge log lines; a plain one is kept, so a
/// proxy's ids still correlate.
async fn request_ids_from_clients_are_bounded(t: TestInstance) {
    let server = Server::start(&t).await;
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

backend_tests!(request_ids_from_clients_are_bounded);
