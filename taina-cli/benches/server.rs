//! Benchmark: the `taina` server as people use it, a real process on the embedded default.
//!
//! - 100 people in one group, each with a WebSocket open; 4 of them send 100 messages each over
//!   HTTP: send-to-receive latency (p50, p99) over every delivery, and messages per second;
//! - a 100 MB file downloaded through Tainá and, in the same run, through nginx serving the same
//!   bytes from disk (Debian's `nginx-light`, installed if missing when run as root);
//! - the server's resident memory idle and under the messaging load.
//!
//! Run: `cargo bench -p taina-cli --bench server`. Prints numbers; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark program: failing loudly is right.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PEOPLE: usize = 100;
const SENDERS: usize = 4;
const MESSAGES_EACH: usize = 100;
const FILE_BYTES: usize = 100 * 1024 * 1024;
const DOWNLOADS: usize = 5;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for(url: &str) {
    for _ in 0..200 {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never answered");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

async fn download_rate(client: &reqwest::Client, url: &str, token: Option<&str>) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..DOWNLOADS {
        let start = Instant::now();
        let mut request = client.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut body = request.send().await.unwrap().bytes_stream();
        let mut total = 0;
        while let Some(chunk) = body.next().await {
            total += chunk.unwrap().len();
        }
        assert_eq!(total, FILE_BYTES);
        best = best.min(start.elapsed().as_secs_f64());
    }
    FILE_BYTES as f64 / best / (1024.0 * 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Killed(
        Command::new(env!("CARGO_BIN_EXE_taina"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("TAINA_LOG", "warn")
            .env("TAINA_MAX_UPLOAD_BYTES", (2 * FILE_BYTES).to_string())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = server.0.id();
    wait_for(&format!("{base}/healthz")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_kib(pid);
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{base}/api/v1{path}");

    // People: the admin and 99 invited members.
    let admin = post(
        &client,
        api("/setup"),
        None,
        json!({"community_name": "Bench", "email": "admin@example.org", "password": "correct horse battery", "display_name": "Admin"}),
    )
    .await;
    let admin_token = admin["token"].as_str().unwrap().to_owned();
    let invite = post(
        &client,
        api("/community/invites"),
        Some(&admin_token),
        json!({"max_uses": PEOPLE}),
    )
    .await;
    let mut tokens = vec![admin_token.clone()];
    let mut ids = Vec::new();
    for n in 1..PEOPLE {
        let joined = post(
            &client,
            api("/auth/register"),
            None,
            json!({"invite": invite["token"], "email": format!("p{n}@example.org"), "password": "correct horse battery", "display_name": format!("P{n}")}),
        )
        .await;
        tokens.push(joined["token"].as_str().unwrap().to_owned());
        ids.push(joined["user"]["id"].clone());
    }
    let group = post(
        &client,
        api("/conversations"),
        Some(&admin_token),
        json!({"type": "group", "name": "Everyone", "participant_ids": ids}),
    )
    .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    // Sign-ups hash 100 passwords (Argon2id, 19 MiB each): what the allocator keeps of that shows
    // here, before any socket opens.
    let accounts_rss = rss_kib(pid);

    // Everyone's socket records when each message (by its client id) arrives.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    for token in &tokens {
        let mut request = format!("ws://127.0.0.1:{port}/api/v1/ws")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = ws.next().await {
                if let Frame::Text(text) = frame {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                    if v["type"] == "message.created"
                        && let Some(key) = v["data"]["client_key"].as_str()
                        && tx.send((key.to_owned(), Instant::now())).is_err()
                    {
                        return;
                    }
                }
            }
        });
    }
    drop(tx);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<String, Instant>::new()));
    let sending = Instant::now();
    let mut senders = Vec::new();
    for (s, token) in tokens.iter().take(SENDERS).enumerate() {
        let (client, token, url, started) = (
            client.clone(),
            token.clone(),
            api(&format!("/conversations/{group_id}/messages")),
            started.clone(),
        );
        senders.push(tokio::spawn(async move {
            for n in 0..MESSAGES_EACH {
                let key = format!("s{s}-{n}");
                started.lock().unwrap().insert(key.clone(), Instant::now());
                post(
                    &client,
                    url.clone(),
                    Some(&token),
                    json!({"content": format!("message {n}"), "client_id": key}),
                )
                .await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    let mut peak_rss = 0;
    let expected = SENDERS * MESSAGES_EACH * PEOPLE;
    let mut received = Vec::with_capacity(expected);
    while received.len() < expected {
        match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            Ok(Some(got)) => received.push(got),
            Ok(None) => break,
            Err(_) => {}
        }
        if received.len() % 5000 == 0 {
            peak_rss = peak_rss.max(rss_kib(pid));
        }
        if sending.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    for s in senders {
        s.await.unwrap();
    }
    let sent_in = sending.elapsed();
    peak_rss = peak_rss.max(rss_kib(pid));
    let mut latencies: Vec<Duration> = {
        let started = started.lock().unwrap();
        received
            .iter()
            .filter_map(|(key, at)| started.get(key).map(|s| *at - *s))
            .collect()
    };
    latencies.sort();
    println!(
        "server (SQLite, {PEOPLE} sockets, {SENDERS} senders × {MESSAGES_EACH} messages over HTTP):"
    );
    println!(
        "  send-to-receive over {} deliveries: p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "  {:.0} messages/s sent ({:.0} deliveries/s)",
        (SENDERS * MESSAGES_EACH) as f64 / sent_in.as_secs_f64(),
        received.len() as f64 / sent_in.as_secs_f64()
    );
    println!(
        "  resident memory: {:.1} MiB idle, {:.1} MiB after 100 sign-ups, {:.1} MiB under this load",
        idle_rss as f64 / 1024.0,
        accounts_rss as f64 / 1024.0,
        peak_rss as f64 / 1024.0
    );

    // A 100 MB download, through Tainá and through nginx.
    let bytes: Vec<u8> = (0..FILE_BYTES).map(|i| (i % 251) as u8).collect();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes.clone()).file_name("big.bin"),
    );
    let uploaded: Value = client
        .post(api("/files"))
        .bearer_auth(&admin_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let file_url = api(&format!(
        "/files/{}/content",
        uploaded["id"].as_str().unwrap()
    ));
    let taina_rate = download_rate(&client, &file_url, Some(&admin_token)).await;
    let web = dir.path().join("www");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("big.bin"), &bytes).unwrap();
    let nginx_port = free_port();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off; worker_processes 1; pid {pid};\nerror_log {log} warn;\nevents {{}}\nhttp {{ access_log off; sendfile on; \
             client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};\n\
             server {{ listen 127.0.0.1:{nginx_port}; root {root}; }} }}\n",
            pid = dir.path().join("nginx.pid").display(),
            log = dir.path().join("nginx.log").display(),
            tmp = dir.path().display(),
            root = web.display(),
        ),
    )
    .unwrap();
    let nginx = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .stderr(Stdio::null())
        .spawn();
    match nginx {
        Ok(child) => {
            let _nginx = Killed(child);
            wait_for(&format!("http://127.0.0.1:{nginx_port}/big.bin")).await;
            let nginx_rate = download_rate(
                &client,
                &format!("http://127.0.0.1:{nginx_port}/big.bin"),
                None,
            )
            .await;
            println!(
                "  100 MB download (best of {DOWNLOADS}): Tainá {taina_rate:.0} MiB/s, nginx {nginx_rate:.0} MiB/s, ratio {:.2}",
                taina_rate / nginx_rate
            );
        }
        Err(e) => println!("  100 MB download: Tainá {taina_rate:.0} MiB/s (nginx not found: {e})"),
    }
    drop(server);
}
