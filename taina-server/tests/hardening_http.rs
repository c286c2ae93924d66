//! The HTTP surface under attack, on both databases (issue 16): bounded upload forms, metric
//! labels, who reads `/metrics`, downloads that never run, `__Host-` cookies and HSTS over HTTPS,
//! thumbnails that follow their file's content, and TLS handshakes that silent clients cannot hold.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use reqwest::{Client, Response, StatusCode, header};
use serde_json::{Value, json};
use taina::backend_tests;
use taina::core::Role;
use taina::testing::TestInstance;
use taina_server::testing::{TestServer, error, fixture_photo, json};

const BOUNDARY: &str = "hardening-boundary-7Q2x";
const TWO_GB: u64 = 2 * 1024 * 1024 * 1024;

/// The resident memory of this process (the server runs in it), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib * 1024
}

/// A chunked body: `prefix`, then `junk_bytes` of `x`, made as they are sent (never held).
fn lazy_body(prefix: String, junk_bytes: u64) -> reqwest::Body {
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let junk = futures::stream::unfold(0u64, move |sent| {
        let chunk = chunk.clone();
        async move {
            (sent < junk_bytes).then(|| {
                let n = chunk.len().min(usize::try_from(junk_bytes - sent).unwrap());
                (Ok::<_, std::io::Error>(chunk.slice(..n)), sent + n as u64)
            })
        }
    });
    let head = futures::stream::once(async move { Ok(Bytes::from(prefix)) });
    reqwest::Body::wrap_stream(head.chain(junk))
}

fn part_head(name: &str, file_name: Option<&str>) -> String {
    let file = file_name.map_or(String::new(), |f| format!("; filename=\"{f}\""));
    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n")
}

/// Posts a hand-framed multipart body (chunked: no Content-Length).
async fn post_form(
    client: &Client,
    url: &str,
    token: &str,
    body: reqwest::Body,
) -> reqwest::Result<Response> {
    client
        .post(url)
        .bearer_auth(token)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
}

/// A refused upload: answered with one of `statuses` in the API's error shape, or (the server
/// closes the connection as it answers a body still on its way) a connection that ended.
async fn refused(outcome: reqwest::Result<Response>, statuses: &[StatusCode]) {
    match outcome {
        Ok(response) => {
            let status = response.status();
            assert!(statuses.contains(&status), "{status}");
            assert_eq!(response.headers()[header::CONNECTION], "close");
            // The body came with the head, unless the connection was cut first.
            if let Ok(body) = response.json::<Value>().await {
                assert!(body["error"]["code"].is_string(), "{body}");
            }
        }
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
}

async fn multipart_uploads_stay_within_bounds(t: TestInstance) {
    let t = t.reconfigure(|c| c.max_upload_bytes = 1024 * 1024).await;
    let admin = t.setup().await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let token = &admin.token;
    let before = rss();
    let started = Instant::now();
    for url in [s.api("/files"), s.api("/photos")] {
        // A part the form does not know: refused unread.
        let body = lazy_body(part_head("extra", None), TWO_GB);
        refused(
            post_form(&client, &url, token, body).await,
            &[StatusCode::BAD_REQUEST],
        )
        .await;
        // A text part that never ends: refused past its few KiB.
        let body = lazy_body(part_head("folder_id", None), TWO_GB);
        refused(
            post_form(&client, &url, token, body).await,
            &[StatusCode::PAYLOAD_TOO_LARGE],
        )
        .await;
        // No boundary ever: refused once the form's overhead is read.
        let body = lazy_body(String::new(), TWO_GB);
        refused(
            post_form(&client, &url, token, body).await,
            &[StatusCode::PAYLOAD_TOO_LARGE, StatusCode::BAD_REQUEST],
        )
        .await;
        // Part headers that never end.
        let body = lazy_body(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; x=\""),
            TWO_GB,
        );
        refused(
            post_form(&client, &url, token, body).await,
            &[StatusCode::PAYLOAD_TOO_LARGE, StatusCode::BAD_REQUEST],
        )
        .await;
        // A file far past the limit, chunked: refused at the limit (the library may refuse
        // junk as a photo first).
        let body = lazy_body(part_head("file", Some("huge.bin")), TWO_GB);
        let statuses: &[StatusCode] = if url.ends_with("/photos") {
            &[
                StatusCode::PAYLOAD_TOO_LARGE,
                StatusCode::UNPROCESSABLE_ENTITY,
            ]
        } else {
            &[StatusCode::PAYLOAD_TOO_LARGE]
        };
        refused(post_form(&client, &url, token, body).await, statuses).await;
        let grown = rss().saturating_sub(before);
        assert!(
            grown < 200 * 1024 * 1024,
            "{url}: the process grew by {} MiB",
            grown / 1024 / 1024
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );

    // A good form streams through, chunked, even with its text parts near the form's overhead and
    // the file starting in the piece of the body that crosses it.
    let mut head = String::new();
    for _ in 0..15 {
        head.push_str(&part_head("folder_id", None));
        head.push_str(&" ".repeat(4000));
        head.push_str("root\r\n");
    }
    head.push_str(&part_head("file", Some("good.txt")));
    let content = "y".repeat(300 * 1024);
    let body = format!("{head}{content}\r\n--{BOUNDARY}--\r\n");
    let chunks: Vec<reqwest::Result<Bytes>> = body
        .into_bytes()
        .chunks(100 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let response = post_form(
        &client,
        &s.api("/files"),
        token,
        reqwest::Body::wrap_stream(futures::stream::iter(chunks)),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let item = json(response).await;
    assert_eq!(item["name"], "good.txt");
    assert_eq!(item["size_bytes"], 300 * 1024);

    // Nothing refused was kept, and the server still answers.
    let root = json(
        client
            .get(s.api("/folders/root"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let names: Vec<&str> = root["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["good.txt"]);
}

async fn metric_labels_are_a_fixed_set(t: TestInstance) {
    t.setup().await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    for (i, method) in ["FOO", "PROPFIND", "get", "BREW"].iter().enumerate() {
        for path in ["/healthz", "/api/v1/files/nope"] {
            let method = reqwest::Method::from_bytes(format!("{method}{i}").as_bytes()).unwrap();
            client.request(method, s.at(path)).send().await.unwrap();
        }
    }
    let text = client
        .get(s.at("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let methods: std::collections::BTreeSet<&str> = text
        .split("method=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let fixed = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
    ];
    assert!(methods.iter().all(|m| fixed.contains(m)), "{methods:?}");
    assert!(methods.contains("other"), "{text}");
    assert!(
        text.contains("method=\"other\",route=\"/healthz\""),
        "{text}"
    );
}

async fn metrics_want_a_token_unless_opened(t: TestInstance) {
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (_, member) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    const SCRAPE: &str = "scrape-token-0123456789abcdef";
    let t = t
        .reconfigure(|c| {
            c.metrics_token = Some(SCRAPE.into());
            c.metrics_open_to_loopback = false;
        })
        .await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let metrics = |bearer: Option<&str>| {
        let mut request = client.get(s.at("/metrics"));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    // Closed to this machine by configuration.
    error(metrics(None).await.unwrap(), StatusCode::UNAUTHORIZED).await;
    error(
        metrics(Some("scrape-token-0123456789abcdeX"))
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let scraped = metrics(Some(SCRAPE)).await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(
        scraped
            .text()
            .await
            .unwrap()
            .contains("taina_http_requests")
    );
    assert_eq!(
        metrics(Some(&admin.token)).await.unwrap().status(),
        StatusCode::OK
    );
    error(
        metrics(Some(&member.token)).await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    // The token counts through a proxy too.
    let proxied = client
        .get(s.at("/metrics"))
        .header("X-Forwarded-For", "198.51.100.3")
        .bearer_auth(SCRAPE)
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), StatusCode::OK);

    // Open to this machine (the default), but not to a proxy here that names the public host
    // without forwarding headers.
    drop(s);
    let t = t
        .reconfigure(|c| {
            c.metrics_token = None;
            c.metrics_open_to_loopback = true;
        })
        .await;
    let s = TestServer::start(&t).await;
    assert_eq!(
        client.get(s.at("/metrics")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let relayed = client
        .get(s.at("/metrics"))
        .header(header::HOST, "home.example.org")
        .send()
        .await
        .unwrap();
    error(relayed, StatusCode::UNAUTHORIZED).await;
}

async fn upload(s: &TestServer, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    upload_with(s, token, name, bytes, "rename").await
}

async fn upload_with(
    s: &TestServer,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    on_conflict: &str,
) -> Value {
    let response = s
        .upload(
            token,
            "/files",
            name,
            bytes,
            &[("on_conflict", on_conflict)],
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    json(response).await
}

async fn downloads_never_carry_an_active_type(t: TestInstance) {
    let admin = t.setup().await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let token = &admin.token;
    let content = |id: &Value, download: bool| {
        let url = format!(
            "/files/{}/content{}",
            id.as_str().unwrap(),
            if download { "?download=true" } else { "" }
        );
        client.get(s.api(&url)).bearer_auth(token).send()
    };
    let active = [
        (
            "module.mjs",
            "export default function () { fetch('/api/v1/me'); }",
        ),
        ("script.js", "document.cookie"),
        ("page.html", "<html><script>alert(1)</script></html>"),
        (
            "page.xhtml",
            "<html xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></html>",
        ),
        (
            "drawing.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        ),
        ("data.xml", "<?xml version=\"1.0\"?><x/>"),
        ("data.json", "{\"a\": 1}"),
    ];
    for (name, body) in active {
        let item = upload(&s, token, name, body.as_bytes().to_vec()).await;
        let response = content(&item["id"], false).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/octet-stream",
            "{name} (stored as {})",
            item["mime_type"]
        );
        let disposition = response.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap();
        assert!(
            disposition.starts_with("attachment;"),
            "{name}: {disposition}"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
    // What is safe to show keeps its type and shows inline, unless asked to download.
    let photo = upload(&s, token, "foto.jpg", fixture_photo("jolla.jpg")).await;
    let shown = content(&photo["id"], false).await.unwrap();
    assert_eq!(shown.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert!(
        shown.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    let saved = content(&photo["id"], true).await.unwrap();
    assert_eq!(
        saved.headers()[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    let notes = upload(&s, token, "notes.txt", b"hello".to_vec()).await;
    let shown = content(&notes["id"], false).await.unwrap();
    assert_eq!(shown.headers()[header::CONTENT_TYPE], "text/plain");
}

/// A self-signed certificate for 127.0.0.1, its PEM files, and a client that trusts it.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let issued =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, issued.cert.pem()).unwrap();
    std::fs::write(&key, issued.signing_key.serialize_pem()).unwrap();
    (cert, key, issued.cert.pem())
}

fn tls_client(pem: &str, local: Option<IpAddr>) -> Client {
    Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .local_address(local)
        .build()
        .unwrap()
}

fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn https_cookies_are_host_only_and_hsts_is_sent(t: TestInstance) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = certificate(dir.path());
    let t = t
        .reconfigure(|c| {
            c.tls_cert = Some(cert.clone());
            c.tls_key = Some(key.clone());
        })
        .await;
    let admin = t.setup().await;
    let s = TestServer::start_with_scheme(&t, "https").await;
    let client = tls_client(&pem, None);

    let login = client
        .post(s.api("/auth/login"))
        .json(&json!({"email": "admin@example.org", "password": taina::testing::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(
        login.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
    let set = set_cookies(&login);
    let find = |name: &str| {
        set.iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {set:?}"))
            .clone()
    };
    let (session, csrf) = (find("__Host-taina_session"), find("__Host-taina_csrf"));
    for cookie in [&session, &csrf] {
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(cookie.contains("; Path=/"), "{cookie}");
        assert!(!cookie.to_lowercase().contains("domain="), "{cookie}");
    }
    assert!(set.iter().all(|c| c.starts_with("__Host-")), "{set:?}");
    let value = |c: &str| {
        c.split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    };
    let (session_value, csrf_value) = (value(&session), value(&csrf));
    let cookie = format!("__Host-taina_session={session_value}; __Host-taina_csrf={csrf_value}");

    // The __Host- cookies work: reads, and changes with the CSRF token echoed.
    let me = client
        .get(s.api("/me"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(json(me).await["email"], "admin@example.org");
    let forged = client
        .post(s.api("/folders"))
        .header(header::COOKIE, &cookie)
        .json(&json!({"name": "Forged"}))
        .send()
        .await
        .unwrap();
    error(forged, StatusCode::FORBIDDEN).await;
    let genuine = client
        .post(s.api("/folders"))
        .header(header::COOKIE, &cookie)
        .header("X-CSRF-Token", &csrf_value)
        .json(&json!({"name": "Genuine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(genuine.status(), StatusCode::CREATED);

    // Over HTTPS a plain-named cookie (one a sibling subdomain or an HTTP page could plant)
    // counts for nothing, nor does a planted plain CSRF value.
    let planted = client
        .get(s.api("/me"))
        .header(header::COOKIE, format!("taina_session={}", admin.token))
        .send()
        .await
        .unwrap();
    error(planted, StatusCode::UNAUTHORIZED).await;
    let planted_csrf = client
        .post(s.api("/folders"))
        .header(
            header::COOKIE,
            format!("__Host-taina_session={session_value}; taina_csrf=planted"),
        )
        .header("X-CSRF-Token", "planted")
        .json(&json!({"name": "Planted"}))
        .send()
        .await
        .unwrap();
    error(planted_csrf, StatusCode::FORBIDDEN).await;

    // Signing out clears the __Host- cookies the way a browser accepts (with Secure).
    let out = client
        .post(s.api("/auth/logout"))
        .header(header::COOKIE, &cookie)
        .header("X-CSRF-Token", &csrf_value)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let cleared = set_cookies(&out);
    for name in ["__Host-taina_session", "__Host-taina_csrf"] {
        assert!(
            cleared.iter().any(|c| c.starts_with(&format!("{name}=;"))
                && c.contains("Max-Age=0")
                && c.contains("; Secure")),
            "{cleared:?}"
        );
    }

    // Plain HTTP: no HSTS, unless the public URL is HTTPS (a proxy in front speaks it).
    drop(s);
    let t = t
        .reconfigure(|c| {
            c.tls_cert = None;
            c.tls_key = None;
        })
        .await;
    let s = TestServer::start(&t).await;
    let plain = Client::new().get(s.at("/healthz")).send().await.unwrap();
    assert!(
        !plain
            .headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
    drop(s);
    let t = t
        .reconfigure(|c| c.public_url = Some("https://home.example.org".into()))
        .await;
    let s = TestServer::start(&t).await;
    let proxied = Client::new().get(s.at("/healthz")).send().await.unwrap();
    assert_eq!(
        proxied.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
}

async fn thumbnail(
    client: &Client,
    s: &TestServer,
    token: &str,
    id: &str,
    etag: Option<&str>,
) -> Response {
    let mut request = client
        .get(s.api(&format!("/files/{id}/thumbnail/small")))
        .bearer_auth(token);
    if let Some(etag) = etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    request.send().await.unwrap()
}

async fn thumbnails_follow_their_files_content(t: TestInstance) {
    let admin = t.setup().await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let token = &admin.token;
    let first = upload(&s, token, "foto.jpg", fixture_photo("jolla.jpg")).await;
    let id = first["id"].as_str().unwrap().to_owned();
    t.taina.jobs().run_due().await.unwrap();

    let original = thumbnail(&client, &s, token, &id, None).await;
    assert_eq!(original.status(), StatusCode::OK);
    let cache = original.headers()[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!cache.contains("immutable"), "{cache}");
    assert!(cache.contains("no-cache"), "{cache}");
    let etag = original.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    let original_bytes = original.bytes().await.unwrap();
    assert!(original_bytes.starts_with(b"RIFF"));
    let again = thumbnail(&client, &s, token, &id, Some(&etag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // New content at the same name: same file, same URL, a new thumbnail.
    let replaced = upload_with(
        &s,
        token,
        "foto.jpg",
        fixture_photo("Canon_40D.jpg"),
        "replace",
    )
    .await;
    assert_eq!(replaced["id"], first["id"]);
    // Until the new thumbnails are made, the old content's are not shown for the new content.
    assert_eq!(replaced["has_previews"], false);
    let pending = thumbnail(&client, &s, token, &id, None).await;
    assert_eq!(pending.status(), StatusCode::NOT_FOUND);
    t.taina.jobs().run_due().await.unwrap();
    let fresh = thumbnail(&client, &s, token, &id, Some(&etag)).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let fresh_etag = fresh.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_ne!(fresh_etag, etag);
    assert_ne!(fresh.bytes().await.unwrap(), original_bytes);

    // Back to the first content: the first thumbnail again.
    let versions = json(
        client
            .get(s.api(&format!("/files/{id}/versions")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let version = versions["items"][0]["id"].as_str().unwrap().to_owned();
    let restored = client
        .post(s.api(&format!("/files/{id}/versions/{version}/restore")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), StatusCode::OK);
    t.taina.jobs().run_due().await.unwrap();
    let back = thumbnail(&client, &s, token, &id, Some(&fresh_etag)).await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(back.headers()[header::ETAG].to_str().unwrap(), etag);

    // Content with no previews at all (text): the picture of what it was is never served again.
    let text = upload_with(
        &s,
        token,
        "foto.jpg",
        b"not a photo any more".to_vec(),
        "replace",
    )
    .await;
    assert_eq!(text["id"], first["id"]);
    t.taina.jobs().run_due().await.unwrap();
    let gone = thumbnail(&client, &s, token, &id, None).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let thumbnails = t
        .taina
        .data_dir()
        .join("storage/communities")
        .join(admin.user.community_id.as_str())
        .join("thumbnails")
        .join(&id);
    let left = std::fs::read_dir(&thumbnails).map_or(0, |d| d.count());
    assert_eq!(left, 0, "the old thumbnails stay on disk");
}

/// A TCP connection from `from` that never says a word.
async fn silent(from: IpAddr, to: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// How long until the server drops `stream` (reads nothing more), at most `within`.
async fn dropped_after(mut stream: tokio::net::TcpStream, within: Duration) -> Option<Duration> {
    use tokio::io::AsyncReadExt;
    let started = Instant::now();
    let mut buf = [0u8; 64];
    match tokio::time::timeout(within, stream.read(&mut buf)).await {
        Ok(Ok(0) | Err(_)) => Some(started.elapsed()),
        Ok(Ok(_)) => panic!("a silent client was sent something"),
        Err(_) => None,
    }
}

async fn silent_tls_clients_hold_up_no_one(t: TestInstance) {
    use taina_server::tls::{HandshakeLimits, TlsListener, load_config};
    t.setup().await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = certificate(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = HandshakeLimits {
        timeout: Duration::from_millis(1500),
        total: 4,
        per_peer: 2,
    };
    let tls =
        TlsListener::with_limits(listener, load_config(&cert, &key).unwrap(), limits).unwrap();
    let app = taina_server::router(t.taina.clone())
        .into_make_service_with_connect_info::<taina_server::client::Peer>();
    let server = tokio::spawn(async move { axum::serve(tls, app).await });

    // One place opens more silent connections than it may: past its share, they are closed at
    // once; the ones it may hold are dropped when their handshake time is up.
    let attacker: IpAddr = "127.0.0.3".parse().unwrap();
    let opened = Instant::now();
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(silent(attacker, addr).await);
    }
    let mut waits = Vec::new();
    for stream in held {
        waits.push(tokio::spawn(dropped_after(stream, Duration::from_secs(6))));
    }

    // Meanwhile someone else connects and is served at once.
    let client = tls_client(&pem, Some("127.0.0.2".parse().unwrap()));
    let answered = tokio::time::timeout(
        Duration::from_secs(1),
        client.get(format!("https://{addr}/healthz")).send(),
    )
    .await
    .expect("served while silent connections are open")
    .unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
    assert!(opened.elapsed() < limits.timeout, "{:?}", opened.elapsed());

    let mut dropped = Vec::new();
    for wait in waits {
        dropped.push(
            wait.await
                .unwrap()
                .expect("a silent connection was dropped"),
        );
    }
    dropped.sort();
    // Four closed at once, two at the end of their handshake time.
    assert!(dropped[3] < Duration::from_millis(1000), "{dropped:?}");
    assert!(dropped[4] >= Duration::from_millis(1000), "{dropped:?}");
    assert!(dropped[5] < Duration::from_secs(5), "{dropped:?}");
    server.abort();
}

backend_tests!(
    multipart_uploads_stay_within_bounds,
    metric_labels_are_a_fixed_set,
    metrics_want_a_token_unless_opened,
    downloads_never_carry_an_active_type,
    https_cookies_are_host_only_and_hsts_is_sent,
    thumbnails_follow_their_files_content,
    silent_tls_clients_hold_up_no_one,
);
