#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! Issue 18: several stateless instances behind a load balancer. Two real `taina serve` on one
//! PostgreSQL database and one S3 bucket (a real S3 protocol server), behind nginx: what is sent,
//! stored, typed and uploaded through one is there through the other, each background job runs
//! once, and when one is killed mid-load the other keeps serving and nothing acknowledged is lost.

#[path = "instances/cluster.rs"]
mod cluster;
#[path = "instances/socket.rs"]
mod socket;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use taina::Config;
use taina::testing::{PASSWORD, fresh_postgres_database, use_test_bucket};

use cluster::{Instance, Nginx};
use socket::Socket;

/// What the load's clients were told was done.
#[derive(Default)]
struct Load {
    messages: Vec<Value>,
    files: Vec<(Value, usize)>,
    retried: usize,
}

fn api(base: &str, path: &str) -> String {
    format!("{base}api/v1/{path}")
}

async fn json_of(response: reqwest::Response, what: &str) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// `len` bytes that differ from one position to the next.
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    json_of(
        http.post(api(base, "files"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap(),
        "upload",
    )
    .await
}

async fn download(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    file_id: &str,
    range: Option<&str>,
) -> (StatusCode, Vec<u8>) {
    let mut request = http
        .get(api(base, &format!("files/{file_id}/content")))
        .bearer_auth(token);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

fn tus(request: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
    request.bearer_auth(token).header("Tus-Resumable", "1.0.0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_serve_one_community() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.database_url = Some(fresh_postgres_database().await);
    use_test_bucket(&mut config);
    let a = Instance::start(&config, &dir.path().join("a"), "a");
    let mut b = Instance::start(&config, &dir.path().join("b"), "b");
    let nginx = Nginx::start(&dir.path().join("nginx"), &[a.address(), b.address()]);
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let lb = nginx.url.as_str();

    // Set up through the load balancer (each request may land on either instance).
    let admin = json_of(
        http.post(api(lb, "setup"))
            .json(
                &json!({"community_name": "Vila", "email": "ana@example.org",
                "password": PASSWORD, "display_name": "Ana"}),
            )
            .send()
            .await
            .unwrap(),
        "setup",
    )
    .await;
    let ana = admin["token"].as_str().unwrap().to_owned();
    let invite = json_of(
        http.post(api(lb, "community/invites"))
            .bearer_auth(&ana)
            .json(&json!({"role": "member", "max_uses": 1}))
            .send()
            .await
            .unwrap(),
        "invite",
    )
    .await;
    let joined = json_of(
        http.post(api(lb, "auth/register"))
            .json(
                &json!({"invite": invite["token"], "email": "bia@example.org",
                "password": PASSWORD, "display_name": "Bia"}),
            )
            .send()
            .await
            .unwrap(),
        "register",
    )
    .await;
    let bia = joined["token"].as_str().unwrap().to_owned();
    let bia_id = joined["user"]["id"].as_str().unwrap().to_owned();
    let group = json_of(
        http.post(api(&a.url, "conversations"))
            .bearer_auth(&ana)
            .json(&json!({"type": "group", "name": "Vizinhos", "participant_ids": [bia_id]}))
            .send()
            .await
            .unwrap(),
        "group",
    )
    .await;
    let group_id = group["id"].as_str().unwrap().to_owned();

    // Ana on A, then Bia on B: Ana hears Bia come online, though B counted the connection.
    let ana_on_a = Socket::open(&a.url, &ana).await;
    let bia_on_b = Socket::open(&b.url, &bia).await;
    ana_on_a
        .wait_for("Bia online", |f| {
            f["type"] == "presence"
                && f["data"]["user_id"] == bia_id
                && f["data"]["status"] == "online"
        })
        .await;

    // A message sent through A reaches Bia's socket on B; typing on A too.
    let sent = json_of(
        http.post(api(&a.url, &format!("conversations/{group_id}/messages")))
            .bearer_auth(&ana)
            .json(&json!({"content": "olá de A", "client_id": "k-1"}))
            .send()
            .await
            .unwrap(),
        "send",
    )
    .await;
    bia_on_b
        .wait_for("the message", |f| {
            f["type"] == "message.created" && f["data"]["id"] == sent["id"]
        })
        .await;
    ana_on_a.typing(&group_id).await;
    bia_on_b
        .wait_for("Ana typing", |f| {
            f["type"] == "typing" && f["data"]["active"] == true
        })
        .await;

    // A file uploaded through A downloads, whole and in part, through B.
    let bytes = content(3_000_000, 1);
    let file = upload(&http, &a.url, &ana, "relatório.bin", bytes.clone()).await;
    let file_id = file["id"].as_str().unwrap();
    let (status, whole) = download(&http, &b.url, &ana, file_id, None).await;
    assert_eq!((status, whole.len()), (StatusCode::OK, bytes.len()));
    assert!(
        whole == bytes,
        "the download through B is the upload through A"
    );
    let (status, part) =
        download(&http, &b.url, &ana, file_id, Some("bytes=1000000-1000999")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(part == bytes[1_000_000..1_001_000]);

    // A tus upload begun on A is finished on B.
    let tus_bytes = content(700_000, 2);
    let name = base64::engine::general_purpose::STANDARD.encode("filme.bin");
    let created = tus(http.post(api(&a.url, "uploads")), &bia)
        .header("Upload-Length", tus_bytes.len().to_string())
        .header("Upload-Metadata", format!("filename {name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let patch = |base: &str, offset: usize, piece: Vec<u8>| {
        tus(
            http.patch(format!("{}{}", base.trim_end_matches('/'), location)),
            &bia,
        )
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(piece)
        .send()
    };
    let first = patch(&a.url, 0, tus_bytes[..300_000].to_vec())
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    let head = tus(
        http.head(format!("{}{location}", b.url.trim_end_matches('/'))),
        &bia,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        head.headers()["upload-offset"],
        "300000",
        "B knows where A left it"
    );
    let last = patch(&b.url, 300_000, tus_bytes[300_000..].to_vec())
        .await
        .unwrap();
    assert_eq!(last.status(), StatusCode::NO_CONTENT);
    let tus_file = last.headers()["taina-file-id"].to_str().unwrap().to_owned();
    let (status, got) = download(&http, lb, &bia, &tus_file, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == tus_bytes, "the upload joined on B is what was sent");

    // A photo through A gets its thumbnails once, whichever instance's worker takes the job.
    let photo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/photos/jolla.jpg"
    ))
    .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(photo).file_name("jolla.jpg"),
    );
    let photo = json_of(
        http.post(api(&a.url, "photos"))
            .bearer_auth(&ana)
            .multipart(form)
            .send()
            .await
            .unwrap(),
        "photo",
    )
    .await;
    let photo_file = photo["file_id"].as_str().unwrap().to_owned();
    let mut made = false;
    for _ in 0..300 {
        let thumb = http
            .get(api(&b.url, &format!("files/{photo_file}/thumbnail/small")))
            .bearer_auth(&ana)
            .send()
            .await
            .unwrap();
        if thumb.status() == StatusCode::OK {
            made = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(made, "the photo's thumbnails were made");
    let db = sqlx::PgPool::connect(config.database_url.as_deref().unwrap())
        .await
        .unwrap();
    let previews: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT attempts, finished_at FROM jobs WHERE kind = 'previews' AND payload LIKE $1",
    )
    .bind(format!("%{photo_file}%"))
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(previews.len(), 1, "one previews job for the photo");
    assert_eq!(previews[0].0, 1, "run once, by one instance");
    assert!(previews[0].1.is_some());

    // Load through nginx (four clients at once) while B is killed with requests in flight: every
    // acknowledged message and file is there after; a client whose request was cut retries it
    // (a message with the same client id, so that it is said once). Bia, whose socket was on B,
    // reconnects (to A) and hears what is said next.
    let acknowledged = Arc::new(Mutex::new(Load::default()));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (http, ana, group_id, lb) = (http.clone(), ana.clone(), group_id.clone(), lb.to_owned());
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                for i in 0..12 {
                    let n = client * 100 + i;
                    for _attempt in 0..5 {
                        let sent = http
                            .post(api(&lb, &format!("conversations/{group_id}/messages")))
                            .bearer_auth(&ana)
                            .json(&json!({"content": format!("mensagem {n}"), "client_id": format!("load-{n}")}))
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status() == StatusCode::CREATED => {
                                let id = r.json::<Value>().await.unwrap()["id"].clone();
                                acknowledged.lock().unwrap().messages.push(id);
                                break;
                            }
                            _ => acknowledged.lock().unwrap().retried += 1,
                        }
                    }
                    for _attempt in 0..5 {
                        let form = reqwest::multipart::Form::new().part(
                            "file",
                            reqwest::multipart::Part::bytes(content(200_000 + n, 3))
                                .file_name(format!("f{n}.bin")),
                        );
                        let stored = http
                            .post(api(&lb, "files"))
                            .bearer_auth(&ana)
                            .multipart(form)
                            .send()
                            .await;
                        match stored {
                            Ok(r) if r.status() == StatusCode::CREATED => {
                                let id = r.json::<Value>().await.unwrap()["id"].clone();
                                acknowledged.lock().unwrap().files.push((id, n));
                                break;
                            }
                            _ => acknowledged.lock().unwrap().retried += 1,
                        }
                    }
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().files.len() < 12 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    b.kill();
    for client in clients {
        client.await.unwrap();
    }
    let load = std::mem::take(&mut *acknowledged.lock().unwrap());
    eprintln!(
        "instances: {} messages and {} files acknowledged, {} requests retried around the kill",
        load.messages.len(),
        load.files.len(),
        load.retried
    );
    assert_eq!(
        (load.messages.len(), load.files.len()),
        (48, 48),
        "the survivor served every client to the end"
    );
    bia_on_b.wait_closed().await;
    let history = json_of(
        http.get(api(
            lb,
            &format!("conversations/{group_id}/messages?limit=100"),
        ))
        .bearer_auth(&bia)
        .send()
        .await
        .unwrap(),
        "history",
    )
    .await;
    let seen: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    let mut said: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .filter(|t| t.starts_with("mensagem "))
        .collect();
    said.sort_unstable();
    let before = said.len();
    said.dedup();
    assert_eq!(
        (before, said.len()),
        (48, 48),
        "each message said once, retries or not"
    );
    for id in &load.messages {
        assert!(
            seen.contains(&id),
            "acknowledged message {id} is in the history"
        );
    }
    for (id, n) in &load.files {
        let (status, got) = download(&http, lb, &ana, id.as_str().unwrap(), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            got == content(200_000 + n, 3),
            "acknowledged file {n} is whole"
        );
    }
    let bia_again = Socket::open(lb, &bia).await;
    let after = http
        .post(api(lb, &format!("conversations/{group_id}/messages")))
        .bearer_auth(&ana)
        .json(&json!({"content": "depois da queda"}))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::CREATED);
    bia_again
        .wait_for("a message after the kill", |f| {
            f["type"] == "message.created" && f["data"]["text"] == "depois da queda"
        })
        .await;
    drop(a);
}
