//! Health checks over real HTTP, on both databases.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use taina::backend_tests;
use taina::testing::TestInstance;
use taina_server::testing::TestServer;

async fn health_and_readiness(t: TestInstance) {
    let server = TestServer::start(&t).await;
    let url = &server.base;
    let client = reqwest::Client::new();
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let ready = client.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    // Metrics: requests counted by route template, for a client on this host.
    client
        .get(format!("{url}/api/v1/files/nope"))
        .send()
        .await
        .unwrap();
    let metrics = client.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            "taina_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"/api/v1/files/{id}\",status=\"401\""),
        "{text}"
    );
    assert!(
        text.contains("taina_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("\ntaina_jobs_pending "), "{text}");
    assert!(text.contains("taina_websockets_open 0"), "{text}");

    // With the database gone, the server is alive but not ready, and says so without internals.
    t.taina.close().await;
    let ready = client.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 500);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(body["error"]["message"], "internal error");
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

backend_tests!(health_and_readiness);
