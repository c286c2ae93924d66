//! `taina serve` on a fresh machine: no configuration, a data directory, a URL printed, health served.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn serve_starts_with_zero_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_taina"))
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("TAINA_DATA_DIR")
        .env_remove("TAINA_DATABASE_URL")
        .env_remove("TAINA_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("Tainá is serving at http://127.0.0.1:"),
        "{line}"
    );
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let body = rt.block_on(async {
        reqwest::get(format!("{url}healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(body, "ok");
    // The default data directory was created with the SQLite database and blob storage inside.
    assert!(dir.path().join("taina-data/taina.db").exists());
    assert!(dir.path().join("taina-data/storage").is_dir());
}

#[test]
fn a_bad_listen_address_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_taina"))
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"));
}

/// Starts `taina serve` on `data_dir` and returns it with the URL it prints.
fn serve_on(data_dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taina"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TAINA_DATA_DIR", data_dir)
        .env("TAINA_LOG", "error")
        .env_remove("TAINA_DATABASE_URL")
        .env_remove("TAINA_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    (child, url)
}

async fn used_bytes(client: &reqwest::Client, url: &str, token: &str) -> i64 {
    let quota: serde_json::Value = client
        .get(format!("{url}api/v1/storage"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    quota["used_bytes"].as_i64().unwrap()
}

/// SIGKILL while an upload streams in, then `taina serve` again on the same data: the reservation
/// the killed upload held is released and its staged bytes removed before the server answers.
#[test]
fn a_kill_mid_upload_is_recovered_when_serve_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = rt.block_on(async {
        let mut config = taina::Config::with_data_dir(&data_dir);
        config.password_hashing_threads = Some(1);
        config.job_workers = 0;
        let taina = taina::Taina::open(config).await.unwrap();
        let signed = taina
            .accounts()
            .setup(taina::accounts::SetupRequest {
                community_name: "Vila".into(),
                community_slug: None,
                email: "admin@example.org".into(),
                password: taina::testing::PASSWORD.into(),
                display_name: "Admin".into(),
                user_agent: None,
            })
            .await
            .unwrap();
        taina.close().await;
        signed.token
    });
    let (mut child, url) = serve_on(&data_dir);
    let client = reqwest::Client::new();
    rt.block_on(async {
        // 2 MiB, then the client stalls: the server holds a reservation and a staging file.
        let first: Vec<std::io::Result<bytes::Bytes>> = (0..2)
            .map(|_| Ok(bytes::Bytes::from(vec![7u8; 1024 * 1024])))
            .collect();
        let stalled =
            futures::StreamExt::chain(futures::stream::iter(first), futures::stream::pending());
        let part = reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stalled))
            .file_name("big.bin");
        let form = reqwest::multipart::Form::new().part("file", part);
        let request = client
            .post(format!("{url}api/v1/files"))
            .bearer_auth(&token)
            .multipart(form)
            .send();
        let upload = tokio::spawn(request);
        let mut waited = 0;
        while used_bytes(&client, &url, &token).await == 0 {
            waited += 1;
            assert!(waited < 200, "the upload never reserved anything");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(
            upload.await.unwrap().is_err(),
            "the connection died with the server"
        );
    });
    let staged = |dir: &std::path::Path| -> usize {
        let communities = dir.join("storage").join("communities");
        std::fs::read_dir(communities)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|c| std::fs::read_dir(c.path().join("temp")).ok())
            .map(|entries| entries.count())
            .sum()
    };
    assert_eq!(staged(&data_dir), 1, "the kill left the staging file");
    let (mut child, url) = serve_on(&data_dir);
    let used = rt.block_on(used_bytes(&client, &url, &token));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(used, 0, "no file was stored, so nothing is used");
    assert_eq!(staged(&data_dir), 0);
}
