//! How clients reach the server, on both databases: HTTPS served by the server itself (rustls),
//! and reverse proxies whose `X-Forwarded-*` headers count only when the configuration trusts
//! them.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::json;
use taina::accounts::CLIENT_FAILURES_ALLOWED;
use taina::backend_tests;
use taina::testing::{PASSWORD, TestInstance};
use taina_server::testing::{TestServer, error, json};

async fn login(
    client: &Client,
    s: &TestServer,
    email: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client
        .post(s.api("/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn https_is_served_with_rustls(t: TestInstance) {
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
    let s = TestServer::start_with_scheme(&t, "https").await;
    let client = Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(issued.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();

    // A client that connects and never says hello holds up nobody.
    let addr = s.base.trim_start_matches("https://").to_owned();
    let _silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let response =
        tokio::time::timeout(Duration::from_secs(5), client.get(s.at("/healthz")).send())
            .await
            .expect("answered while a silent client is connected")
            .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");

    // Cookies are Secure under TLS.
    let response = login(&client, &s, "admin@example.org", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set = cookies(&response);
    assert!(
        !set.is_empty() && set.iter().all(|c| c.contains("; Secure")),
        "{set:?}"
    );

    // Plain HTTP to the TLS port gets nothing useful.
    let plain = Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // A certificate and key that do not fit are a clear error, not a half-started server.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(&key, other.signing_key.serialize_pem()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = taina_server::serve(listener, t.taina.clone(), async {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("do not fit"), "{err}");
}

async fn a_trusted_proxy_is_believed(t: TestInstance) {
    let t = t
        .reconfigure(|c| c.trusted_proxies = vec!["127.0.0.1".into()])
        .await;
    let admin = t.setup().await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let through_proxy = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "home.example"),
    ];

    // The client came over HTTPS: its cookies are Secure, its invite links point where it came.
    let response = login(&client, &s, "admin@example.org", &through_proxy).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(cookies(&response).iter().all(|c| c.contains("; Secure")));
    let mut request = client
        .post(s.api("/community/invites"))
        .bearer_auth(&admin.token)
        .json(&json!({}));
    for (name, value) in through_proxy {
        request = request.header(name, value);
    }
    let invite = json(request.send().await.unwrap()).await;
    assert!(
        invite["url"]
            .as_str()
            .unwrap()
            .starts_with("https://home.example/register?invite="),
        "{invite}"
    );

    // The throttle counts each forwarded client on its own.
    for i in 0..CLIENT_FAILURES_ALLOWED {
        let response = login(
            &client,
            &s,
            &format!("nobody{i}@example.org"),
            &[("X-Forwarded-For", "198.51.100.1")],
        )
        .await;
        error(response, StatusCode::UNAUTHORIZED).await;
    }
    let response = login(
        &client,
        &s,
        "nobody@example.org",
        &[("X-Forwarded-For", "198.51.100.1")],
    )
    .await;
    error(response, StatusCode::TOO_MANY_REQUESTS).await;
    let response = login(
        &client,
        &s,
        "nobody@example.org",
        &[("X-Forwarded-For", "198.51.100.2")],
    )
    .await;
    error(response, StatusCode::UNAUTHORIZED).await;

    // Someone relayed by the proxy is not this machine: metrics want an admin.
    let response = client
        .get(s.at("/metrics"))
        .header("X-Forwarded-For", "198.51.100.3")
        .send()
        .await
        .unwrap();
    error(response, StatusCode::UNAUTHORIZED).await;
    let response = client
        .get(s.at("/metrics"))
        .header("X-Forwarded-For", "198.51.100.3")
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn forwarding_headers_from_strangers_count_for_nothing(t: TestInstance) {
    let admin = t.setup().await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let forged = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "evil.example"),
    ];
    let response = login(&client, &s, "admin@example.org", &forged).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(cookies(&response).iter().all(|c| !c.contains("Secure")));
    let mut request = client
        .post(s.api("/community/invites"))
        .bearer_auth(&admin.token)
        .json(&json!({}));
    for (name, value) in forged {
        request = request.header(name, value);
    }
    let invite = json(request.send().await.unwrap()).await;
    let expected = format!("{}/register?invite=", s.base);
    assert!(
        invite["url"].as_str().unwrap().starts_with(&expected),
        "{invite}"
    );

    // Changing X-Forwarded-For does not escape the throttle.
    for i in 0..CLIENT_FAILURES_ALLOWED {
        let forwarded = format!("203.0.113.{i}");
        let response = login(
            &client,
            &s,
            &format!("nobody{i}@example.org"),
            &[("X-Forwarded-For", forwarded.as_str())],
        )
        .await;
        error(response, StatusCode::UNAUTHORIZED).await;
    }
    let response = login(
        &client,
        &s,
        "nobody@example.org",
        &[("X-Forwarded-For", "203.0.113.200")],
    )
    .await;
    error(response, StatusCode::TOO_MANY_REQUESTS).await;

    // Metrics are free for this machine, but not for whoever a local proxy relays.
    let response = client.get(s.at("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = client
        .get(s.at("/metrics"))
        .header("X-Forwarded-For", "198.51.100.3")
        .send()
        .await
        .unwrap();
    error(response, StatusCode::UNAUTHORIZED).await;
}

backend_tests!(
    https_is_served_with_rustls,
    a_trusted_proxy_is_believed,
    forwarding_headers_from_strangers_count_for_nothing
);
