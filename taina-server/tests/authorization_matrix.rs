//! Skeleton (work in progress).
#![allow(clippy::unwrap_used)]
use taina::backend_tests;
use taina::testing::TestInstance;
use taina_server::testing::{TestServer, json};

async fn dump(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let doc = json(s.client.get(s.api("/openapi.json")).send().await.unwrap()).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            println!("OP {} {} security={}", method.to_uppercase(), path, op["security"]);
        }
    }
}
backend_tests!(dump);
