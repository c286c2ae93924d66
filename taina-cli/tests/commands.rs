//! The `taina` command as an admin runs it, on both databases: the real binary, on the same data
//! directory and database as an instance open in this process (as a running server would be).
//! Every command, its bad input, and its exit code.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};
use taina::backend_tests;
use taina::testing::{PASSWORD, TestInstance};
use taina::ybira::{Location, NewUpload, OnConflict};

/// The `taina` binary on the instance's data directory and database.
fn taina(t: &TestInstance) -> Command {
    on(&t.config.data_dir, t.config.database_url.as_deref())
}

fn on(data_dir: &Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taina"));
    cmd.env_remove("TAINA_CONFIG")
        .env("TAINA_DATA_DIR", data_dir)
        .env("TAINA_PASSWORD_HASHING_THREADS", "1")
        .env("TAINA_LOG", "error");
    match database_url {
        Some(url) => cmd.env("TAINA_DATABASE_URL", url),
        None => cmd.env_remove("TAINA_DATABASE_URL"),
    };
    cmd
}

/// The `taina` binary with a configuration file (and nothing from this process's environment).
fn with_config_file(file: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taina"));
    cmd.env_remove("TAINA_CONFIG")
        .env_remove("TAINA_DATA_DIR")
        .env_remove("TAINA_DATABASE_URL")
        .env("TAINA_LOG", "error")
        .arg("--config")
        .arg(file);
    cmd
}

/// A migrate command's two JSON answers: what it copied, then what it did with the configuration.
fn copied_and_done(cmd: &mut Command) -> (Value, Value) {
    let (code, out, err) = run(cmd.arg("--json"));
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let mut values = serde_json::Deserializer::from_str(&out).into_iter::<Value>();
    (
        values.next().unwrap().unwrap(),
        values.next().unwrap().unwrap(),
    )
}

/// `taina fsck --deep` finds nothing wrong with the instance.
async fn assert_deep_clean(taina: &taina::Taina) {
    let report = taina
        .ybira()
        .check_integrity(taina::ybira::IntegrityOptions {
            deep: true,
            repair: false,
        })
        .await
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
}

/// Runs and answers (exit code, stdout, stderr).
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_of(cmd: &mut Command) -> Value {
    let (code, out, err) = run(cmd.arg("--json"));
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn sha256(path: &Path) -> String {
    hex(&std::fs::read(path).unwrap())
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn upload(t: &TestInstance, actor: &taina::core::Actor, name: &str, bytes: Vec<u8>) {
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(bytes))]);
    t.taina
        .ybira()
        .upload(
            actor,
            NewUpload {
                location: Location::MyFiles,
                name: name.into(),
                declared_size: None,
                on_conflict: OnConflict::Rename,
            },
            stream,
        )
        .await
        .unwrap();
}

async fn admin_commands(t: TestInstance) {
    // Nothing set up yet: a clear error, not a crash.
    let (code, _, err) = run(taina(&t).args(["admin", "community", "show"]));
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("no community yet"), "{err}");

    // Passwords come from stdin (or a prompt), never from the command line.
    let (code, _, err) = run(taina(&t)
        .args(["admin", "community", "create", "--name", "Vila Tainá"])
        .args(["--admin-email", "ana@example.org", "--admin-name", "Ana"]));
    assert_eq!(code, 6, "no password given: {err}");
    let (code, out, err) = run(taina(&t)
        .args(["admin", "community", "create", "--name", "Vila Tainá"])
        .args(["--admin-email", "ana@example.org", "--admin-name", "Ana"])
        .write_stdin(format!("{PASSWORD}\n")));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Created community Vila Tainá (vila-taina)"),
        "{out}"
    );
    let shown = json_of(taina(&t).args(["admin", "community", "show"]));
    assert_eq!(shown["slug"], "vila-taina");

    // Quotas in human units; nonsense refused.
    let set = json_of(taina(&t).args(["admin", "community", "set-quota", "50GB"]));
    assert_eq!(set["storage_quota_bytes"], 50_000_000_000i64);
    let (code, _, err) = run(taina(&t).args(["admin", "community", "set-quota", "lots"]));
    assert_eq!(code, 6);
    assert!(err.contains("hint:"), "{err}");

    // Members.
    let (code, _, err) = run(taina(&t)
        .args(["admin", "user", "add", "bia@example.org", "--name", "Bia"])
        .write_stdin("another good password\n"));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(taina(&t)
        .args([
            "admin",
            "user",
            "add",
            "BIA@example.org",
            "--name",
            "Bia again",
        ])
        .write_stdin("another good password\n"));
    assert_eq!(code, 5, "a taken email is a conflict: {err}");
    let (code, _, err) = run(taina(&t)
        .args(["admin", "user", "add", "cai@example.org", "--name", "Cai"])
        .write_stdin("short\n"));
    assert_eq!(code, 6, "a weak password is refused: {err}");
    let users = json_of(taina(&t).args(["admin", "user", "list"]));
    let emails: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 2, "{users}");
    assert!(emails.contains(&"bia@example.org"));
    let (code, table, _) = run(taina(&t).args(["admin", "user", "list"]));
    assert_eq!(code, 0);
    assert!(
        table.contains("email") && table.contains("bia@example.org"),
        "{table}"
    );

    let changed =
        json_of(taina(&t).args(["admin", "user", "set-role", "bia@example.org", "admin"]));
    assert_eq!(changed["role"], "admin");
    let (code, _, _) =
        run(taina(&t).args(["admin", "user", "set-role", "nobody@example.org", "guest"]));
    assert_eq!(code, 4);
    let (code, _, _) =
        run(taina(&t).args(["admin", "user", "set-role", "bia@example.org", "king"]));
    assert_eq!(code, 2, "clap refuses an unknown role");
    let disabled = json_of(taina(&t).args(["admin", "user", "disable", "bia@example.org"]));
    assert!(disabled["disabled_at"].is_string(), "{disabled}");
    json_of(taina(&t).args(["admin", "user", "enable", "bia@example.org"]));

    // A reset password works for signing in, and the old one no longer does.
    let (code, _, err) = run(taina(&t)
        .args(["admin", "user", "reset-password", "bia@example.org"])
        .write_stdin("a brand new password\n"));
    assert_eq!(code, 0, "{err}");
    let login = |password: &str| taina::accounts::LoginRequest {
        email: "bia@example.org".into(),
        password: password.into(),
        ..Default::default()
    };
    assert!(
        t.taina
            .accounts()
            .login(login("a brand new password"))
            .await
            .is_ok()
    );
    assert!(
        t.taina
            .accounts()
            .login(login("another good password"))
            .await
            .is_err()
    );

    // Removal needs a confirmation; without a terminal, --yes.
    let (code, _, _) = run(taina(&t).args(["admin", "user", "remove", "bia@example.org"]));
    assert_eq!(code, 6);
    assert_eq!(
        json_of(taina(&t).args(["admin", "user", "list"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );
    json_of(taina(&t).args(["admin", "user", "remove", "bia@example.org", "--yes"]));
    assert_eq!(
        json_of(taina(&t).args(["admin", "user", "list"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The last admin stays an admin.
    let (code, _, err) =
        run(taina(&t).args(["admin", "user", "set-role", "ana@example.org", "member"]));
    assert_eq!(code, 5, "{err}");

    // Invites: the link, the list, revoking.
    let (code, out, _) = run(taina(&t).args([
        "admin", "invite", "create", "--role", "guest", "--uses", "3",
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("/register?invite="), "{out}");
    let invites = json_of(taina(&t).args(["admin", "invite", "list"]));
    let invite = &invites.as_array().unwrap()[0];
    assert_eq!(invite["role"], "guest");
    assert_eq!(invite["max_uses"], 3);
    let id = invite["id"].as_str().unwrap().to_owned();
    json_of(taina(&t).args(["admin", "invite", "revoke", &id]));
    assert!(
        json_of(taina(&t).args(["admin", "invite", "list"]))
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (code, _, _) = run(taina(&t).args(["admin", "invite", "revoke", &id]));
    assert_eq!(code, 4);
    let (code, _, _) = run(taina(&t).args(["admin", "invite", "revoke", "not-an-id"]));
    assert_eq!(code, 4);

    // A second community: now commands must name one.
    let (code, _, _) = run(taina(&t)
        .args([
            "admin",
            "community",
            "create",
            "--name",
            "Outra",
            "--admin-email",
            "o@example.org",
        ])
        .args(["--admin-name", "O"])
        .write_stdin(format!("{PASSWORD}\n")));
    assert_eq!(code, 0);
    let (code, _, err) = run(taina(&t).args(["admin", "user", "list"]));
    assert_eq!(code, 6);
    assert!(err.contains("--community"), "{err}");
    let outra = json_of(taina(&t).args(["--community", "outra", "admin", "user", "list"]));
    assert_eq!(outra[0]["email"], "o@example.org");
    let all = json_of(taina(&t).args(["admin", "community", "list"]));
    assert_eq!(all.as_array().unwrap().len(), 2);
}

async fn fsck_reports_and_repairs(t: TestInstance) {
    let admin = t.setup().await;
    let actor = t.actor(&admin).await;
    upload(&t, &actor, "a.txt", b"alpha".to_vec()).await;
    let (code, out, err) = run(taina(&t).arg("fsck"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("clean"), "{out}");
    let deep = json_of(taina(&t).args(["fsck", "--deep"]));
    assert_eq!(deep["deep"], true);

    // An old file no blob refers to: reported (exit 3), repaired, then clean.
    let orphan = t.config.data_dir.join("storage/communities/stray.bin");
    std::fs::write(&orphan, b"nobody's").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let (code, out, _) = run(taina(&t).args(["fsck", "--json"]));
    assert_eq!(code, 3, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["orphans"].as_array().unwrap().len(), 1, "{report}");
    let (code, out, _) = run(taina(&t).args(["fsck", "--repair"]));
    assert_eq!(code, 3, "problems were found (and repaired): {out}");
    assert!(out.contains("repaired"), "{out}");
    let (code, out, _) = run(taina(&t).arg("fsck"));
    assert_eq!(code, 0, "{out}");
    // The dashboard finds the last report.
    assert!(
        t.config
            .data_dir
            .join("last-integrity-report.json")
            .exists()
    );
}

/// A backup taken while uploads go on restores into a fresh instance that is clean and holds
/// exactly the backed-up bytes.
async fn backup_while_uploading_then_restore(t: TestInstance) {
    let admin = t.setup().await;
    let actor = t.actor(&admin).await;
    for i in 0..20 {
        upload(
            &t,
            &actor,
            &format!("before-{i}.bin"),
            vec![i as u8; 50_000 + i * 1000],
        )
        .await;
    }
    let dest = t.dir.path().join("backup");

    // Uploads run while the backup is taken.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let uploader = {
        let (taina, actor, stop) = (t.taina.clone(), actor.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 200 {
                let body = format!("during {n}").repeat(1000).into_bytes();
                let stream =
                    futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
                taina
                    .ybira()
                    .upload(
                        &actor,
                        NewUpload {
                            location: Location::MyFiles,
                            name: format!("during-{n}.txt"),
                            declared_size: None,
                            on_conflict: OnConflict::Rename,
                        },
                        stream,
                    )
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    let mut backup = taina(&t);
    backup.args(["backup"]).arg(&dest);
    let (code, out, err) = tokio::task::spawn_blocking(move || run(backup.arg("--json")))
        .await
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let uploaded = uploader.await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(uploaded > 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert!(report["files"].as_u64().unwrap() >= 20, "{report}");

    // Every file in the manifest has its checksum, equal to the original's.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    for entry in manifest["files"].as_array().unwrap() {
        let path = entry["path"].as_str().unwrap();
        let copy = sha256(&dest.join("storage").join(path));
        assert_eq!(copy, entry["sha256"].as_str().unwrap(), "{path}");
        assert_eq!(
            copy,
            sha256(&t.config.data_dir.join("storage").join(path)),
            "{path}"
        );
    }

    // A second backup copies only what is new.
    let paths = |m: &Value| -> std::collections::BTreeSet<String> {
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = paths(&manifest);
    upload(&t, &actor, "after.bin", b"after the first backup".to_vec()).await;
    let again = json_of(taina(&t).arg("backup").arg(&dest));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    let second = paths(&manifest);
    let new = second.difference(&first).count() as u64;
    assert!(new >= 1, "after.bin at least");
    assert_eq!(again["copied"].as_u64(), Some(new), "{again}");
    assert_eq!(
        again["reused"].as_u64(),
        Some(second.intersection(&first).count() as u64),
        "{again}"
    );

    // Restore into an empty instance; it is clean and every byte is as backed up.
    let target = t.dir.path().join("restored");
    let target_url = match t.config.database_url {
        Some(_) => Some(taina::testing::fresh_postgres_database().await),
        None => None,
    };
    let mut restore = on(&target, target_url.as_deref());
    restore.arg("restore").arg(&dest);
    let (code, out, err) = tokio::task::spawn_blocking(move || run(&mut restore))
        .await
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("integrity: clean"), "{out}");
    let (code, out, _) = run(on(&target, target_url.as_deref()).arg("fsck"));
    assert_eq!(code, 0, "{out}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    for entry in manifest["files"].as_array().unwrap() {
        let path = entry["path"].as_str().unwrap();
        assert_eq!(
            sha256(&target.join("storage").join(path)),
            entry["sha256"].as_str().unwrap(),
            "{path}"
        );
    }
    let users = json_of(on(&target, target_url.as_deref()).args(["admin", "user", "list"]));
    assert_eq!(users[0]["email"], "admin@example.org");

    // A backup never goes into the data directory itself.
    let (code, _, err) = run(taina(&t)
        .arg("backup")
        .arg(t.config.data_dir.join("backups")));
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("outside the data directory"), "{err}");

    // A manifest naming a path outside storage is refused, and nothing is written.
    let crafted = t.dir.path().join("crafted");
    std::fs::create_dir_all(&crafted).unwrap();
    let mut evil = manifest.clone();
    evil["files"][0]["path"] = Value::from("communities/../../../../tmp/taina-evil");
    std::fs::write(crafted.join("manifest.json"), evil.to_string()).unwrap();
    let nowhere = t.dir.path().join("nowhere");
    let (code, _, err) = run(on(&nowhere, None).arg("restore").arg(&crafted));
    assert!(code == 6 && err.contains("outside storage"), "{code} {err}");
    assert!(!nowhere.exists() || std::fs::read_dir(&nowhere).unwrap().next().is_none());

    // Restoring over something is refused; a damaged backup is refused before anything is written.
    let (code, _, err) = run(on(&target, target_url.as_deref()).arg("restore").arg(&dest));
    assert_eq!(code, 5, "{err}");
    let first = manifest["files"][0]["path"].as_str().unwrap();
    let damaged = dest.join("storage").join(first);
    let mut bytes = std::fs::read(&damaged).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&damaged, bytes).unwrap();
    let elsewhere = t.dir.path().join("elsewhere");
    let elsewhere_url = match t.config.database_url {
        Some(_) => Some(taina::testing::fresh_postgres_database().await),
        None => None,
    };
    let (code, _, err) = run(on(&elsewhere, elsewhere_url.as_deref())
        .arg("restore")
        .arg(&dest));
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("does not match its checksum"), "{err}");
    assert!(!elsewhere.join("taina.db").exists());
    assert!(!elsewhere.join("storage").exists());
}

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/photos"
    ))
}

async fn imports_twice_store_nothing_new(t: TestInstance) {
    t.setup().await;
    let used = |t: &TestInstance| {
        let t = t.taina.clone();
        async move {
            t.operator()
                .community(None)
                .await
                .unwrap()
                .storage_used_bytes
                .unwrap()
        }
    };
    let photos = json_of(
        taina(&t)
            .args(["import", "photos"])
            .arg(fixtures())
            .args(["--user", "admin@example.org"]),
    );
    assert!(photos["imported"].as_u64().unwrap() >= 5, "{photos}");
    let after_first = used(&t).await;
    let again = json_of(
        taina(&t)
            .args(["import", "photos"])
            .arg(fixtures())
            .args(["--user", "admin@example.org"]),
    );
    assert_eq!(again["imported"], 0, "{again}");
    assert_eq!(again["already_there"], photos["imported"], "{again}");
    assert_eq!(used(&t).await, after_first);

    // A tree of files into a folder, twice; a changed file becomes a new version.
    let tree = t.dir.path().join("nas");
    std::fs::create_dir_all(tree.join("docs/old")).unwrap();
    std::fs::write(tree.join("docs/a.txt"), b"a").unwrap();
    std::fs::write(tree.join("docs/old/b.txt"), b"b").unwrap();
    std::fs::write(tree.join(".hidden"), b"skip me").unwrap();
    let files = json_of(taina(&t).args(["import", "files"]).arg(&tree).args([
        "--user",
        "admin@example.org",
        "--folder",
        "/Old NAS",
    ]));
    assert_eq!(files["imported"], 2, "{files}");
    let before = used(&t).await;
    let again = json_of(taina(&t).args(["import", "files"]).arg(&tree).args([
        "--user",
        "admin@example.org",
        "--folder",
        "/Old NAS",
    ]));
    assert_eq!(
        (again["imported"].as_u64(), again["already_there"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    assert_eq!(used(&t).await, before);
    std::fs::write(tree.join("docs/a.txt"), b"a, changed").unwrap();
    let changed = json_of(taina(&t).args(["import", "files"]).arg(&tree).args([
        "--user",
        "admin@example.org",
        "--folder",
        "/Old NAS",
    ]));
    assert_eq!(changed["imported"], 1, "{changed}");

    let (code, _, _) = run(taina(&t).args([
        "import",
        "photos",
        "/no/such/dir",
        "--user",
        "admin@example.org",
    ]));
    assert_eq!(code, 4);
    let (code, _, _) = run(taina(&t)
        .args(["import", "photos"])
        .arg(fixtures())
        .args(["--user", "nobody@example.org"]));
    assert_eq!(code, 4);
}

async fn thumbnails_export_completions_and_man(t: TestInstance) {
    let admin = t.setup().await;
    let actor = t.actor(&admin).await;
    upload(&t, &actor, "notes.txt", b"my notes".to_vec()).await;
    json_of(
        taina(&t)
            .args(["import", "photos"])
            .arg(fixtures())
            .args(["--user", "admin@example.org"]),
    );
    let regenerated = json_of(taina(&t).args(["thumbnails", "regenerate", "--all"]));
    assert!(
        regenerated["queued"].as_u64().unwrap() >= 5,
        "{regenerated}"
    );
    assert_eq!(
        t.taina.jobs().pending().await.unwrap(),
        0,
        "the command did the work itself"
    );
    let (code, _, _) = run(taina(&t).args(["thumbnails", "regenerate", "nope"]));
    assert_eq!(code, 4);
    let (code, _, _) = run(taina(&t).args(["thumbnails", "regenerate"]));
    assert_eq!(code, 2, "--all or an id is required");

    // Export: the files as they are, and the JSON.
    let (mia, _) = t
        .join(&actor, "mia@example.org", taina::core::Role::Member)
        .await;
    let conversation = t
        .taina
        .guara()
        .create_group(&actor, "Família", std::slice::from_ref(&mia.user_id))
        .await
        .unwrap();
    t.taina
        .guara()
        .send(
            &actor,
            &conversation.id,
            taina::guara::NewMessage {
                text: "see you at dinner".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let dest = t.dir.path().join("export");
    let report = json_of(taina(&t).arg("export").arg(&dest));
    assert!(report["files"].as_u64().unwrap() >= 6, "{report}");
    assert_eq!(report["conversations"], 1);
    let notes = dest.join("files/People/admin@example.org/notes.txt");
    assert_eq!(std::fs::read(&notes).unwrap(), b"my notes");
    let messages =
        std::fs::read_to_string(dest.join(format!("messages/{}.json", conversation.id))).unwrap();
    assert!(messages.contains("see you at dinner"), "{messages}");
    let photos: Value =
        serde_json::from_slice(&std::fs::read(dest.join("photos.json")).unwrap()).unwrap();
    assert!(photos.as_array().unwrap().len() >= 5);
    let (code, _, err) = run(taina(&t).arg("export").arg(&dest));
    assert_eq!(code, 5, "an export never writes over another: {err}");
    let mine = t.dir.path().join("mine");
    let report = json_of(
        taina(&t)
            .arg("export")
            .arg(&mine)
            .args(["--user", "admin@example.org"]),
    );
    assert!(report["files"].as_u64().unwrap() >= 6, "{report}");
    assert!(mine.join("files/My files/notes.txt").exists());

    let (code, out, _) = run(taina(&t).args(["completions", "bash"]));
    assert_eq!(code, 0);
    assert!(out.contains("taina") && out.contains("fsck"), "completions");
    let (code, out, _) = run(taina(&t).arg("man"));
    assert_eq!(code, 0);
    assert!(out.contains(".TH") && out.contains("backup"), "man page");
}

/// Issue 18: `taina storage migrate` moves a populated community's blobs to object storage and
/// back, verified; while another process has the data open it copies without switching, and run
/// again it copies nothing twice and switches the configuration file (keeping its comments).
async fn storage_migrates_to_s3_and_back(t: TestInstance) {
    let admin = t.actor(&t.setup().await).await;
    let mut contents = Vec::new();
    for n in 0..6u8 {
        let bytes: Vec<u8> = (0..(40_000 + usize::from(n) * 9_000))
            .map(|i| (i as u8).wrapping_mul(n + 3))
            .collect();
        upload(&t, &admin, &format!("f{n}.bin"), bytes.clone()).await;
        contents.push((format!("f{n}.bin"), bytes));
    }
    let photo = std::fs::read(fixtures().join("jolla.jpg")).unwrap();
    upload(&t, &admin, "jolla.jpg", photo.clone()).await;
    contents.push(("jolla.jpg".into(), photo));
    t.taina.jobs().run_due().await.unwrap();
    let objects = t.taina.blobs().list("communities").await.unwrap().len();
    assert!(objects >= 10, "files and thumbnails: {objects}");

    // The configuration file an operator keeps (credentials of the S3 server included).
    let mut s3 = taina::Config::with_data_dir(&t.config.data_dir);
    taina::testing::use_test_bucket(&mut s3);
    let file = t.dir.path().join("taina.toml");
    let mut text = format!(
        "# Our community's server.\ndata_dir = {:?}\nstorage_access_key_id = {:?}\n\
         storage_secret_access_key = {:?}\n",
        t.config.data_dir.display().to_string(),
        s3.storage_access_key_id.clone().unwrap(),
        s3.storage_secret_access_key.clone().unwrap(),
    );
    if let Some(url) = &t.config.database_url {
        text.push_str(&format!("database_url = {url:?}\n"));
    }
    std::fs::write(&file, text).unwrap();
    let migrate = |to: &str| {
        let mut cmd = with_config_file(&file);
        cmd.args(["storage", "migrate", "--to", to])
            .args(["--endpoint", s3.storage_endpoint.as_deref().unwrap()])
            .args(["--region", "us-east-1"]);
        cmd
    };
    let to_s3 = s3.storage_url.clone().unwrap();

    // The instance of this test is still open (as a running server would be): copied, not switched.
    let (copied, done) = copied_and_done(&mut migrate(&to_s3));
    assert_eq!(copied["objects"], objects);
    assert_eq!(copied["copied"], objects);
    assert_eq!(done["switched"], false);
    let config = t.config.clone();
    t.taina.close().await;
    drop(t.taina);

    // Alone now: nothing copied twice, and the file switched.
    let (copied, done) = copied_and_done(&mut migrate(&to_s3));
    assert_eq!(
        (&copied["copied"], &copied["already_there"]),
        (&0.into(), &objects.into())
    );
    assert_eq!(done["switched"], true);
    let kept = std::fs::read_to_string(&file).unwrap();
    assert!(kept.starts_with("# Our community's server."), "{kept}");
    assert!(kept.contains(&format!("storage_url = {to_s3:?}")), "{kept}");
    let check = |config: taina::Config| {
        let contents = contents.clone();
        async move {
            let taina = taina::Taina::open(config).await.unwrap();
            assert_deep_clean(&taina).await;
            assert_eq!(
                taina.blobs().list("communities").await.unwrap().len(),
                objects
            );
            let admin = taina.operator().acting_admin(None).await.unwrap();
            let listed = taina
                .ybira()
                .list(&admin, &Location::MyFiles, None, Some(100))
                .await
                .unwrap();
            for (name, bytes) in contents {
                let item = listed.items.iter().find(|i| i.name == name).unwrap();
                let mut body = taina
                    .ybira()
                    .download(&admin, &item.id, None)
                    .await
                    .unwrap()
                    .body;
                let mut got = Vec::new();
                while let Some(chunk) = futures::StreamExt::next(&mut body).await {
                    got.extend_from_slice(&chunk.unwrap());
                }
                assert!(got == bytes, "{name} is whole");
            }
            let url = taina.blobs().url().to_owned();
            taina.close().await;
            url
        }
    };
    let mut on_s3 = taina::Config::load(Some(&file)).unwrap();
    on_s3.job_workers = 0;
    assert_eq!(check(on_s3).await, to_s3);

    // And back to a folder, which needs no endpoint (the S3 settings go from the file).
    let back = format!(
        "file://{}",
        config.data_dir.parent().unwrap().join("blobs").display()
    );
    let (code, out, err) = run(&mut migrate(&back));
    assert_eq!(code, 0, "{out}{err}");
    let kept = std::fs::read_to_string(&file).unwrap();
    assert!(!kept.contains("storage_endpoint"), "{kept}");
    let mut local = taina::Config::load(Some(&file)).unwrap();
    local.job_workers = 0;
    assert_eq!(check(local).await, back);
    // The same store again is refused.
    let (code, _, err) = run(&mut migrate(&back));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("already in"), "{err}");
}

/// Issue 19: `taina app-password` makes (shown once), lists and revokes a member's app passwords;
/// what it makes signs in over WebDAV's Basic credentials, limited as asked.
async fn app_password_commands(t: TestInstance) {
    t.setup().await;
    let made = json_of(taina(&t).args([
        "app-password",
        "create",
        "admin@example.org",
        "--name",
        "NAS da família",
        "--files-only",
    ]));
    let password = made["password"].as_str().unwrap().to_owned();
    assert_eq!(made["app_password"]["scope"], "files");
    let accounts = t.taina.accounts();
    let actor = accounts
        .authenticate_basic(
            "admin@example.org",
            &password,
            taina::core::app_password::Area::Files,
        )
        .await
        .unwrap();
    assert_eq!(actor.role, taina::core::Role::Admin);
    assert!(
        accounts
            .authenticate_basic(
                "admin@example.org",
                &password,
                taina::core::app_password::Area::Messages
            )
            .await
            .is_err()
    );

    let listed = json_of(taina(&t).args(["app-password", "list", "admin@example.org"]));
    assert_eq!(listed[0]["name"], "NAS da família");
    assert!(!listed.to_string().contains(&password));
    let (code, table, _) = run(taina(&t).args(["app-password", "list", "admin@example.org"]));
    assert_eq!(code, 0);
    assert!(
        table.contains("NAS da família") && table.contains("files"),
        "{table}"
    );

    // Bad input: an unknown member, an empty name, a malformed id; each with its exit code.
    let (code, _, err) = run(taina(&t).args(["app-password", "list", "nobody@example.org"]));
    assert_ne!(code, 0, "{err}");
    let (code, _, err) =
        run(taina(&t).args(["app-password", "create", "admin@example.org", "--name", " "]));
    assert_eq!(code, 6, "{err}");
    let (code, _, err) =
        run(taina(&t).args(["app-password", "revoke", "admin@example.org", "not-an-id"]));
    assert_eq!(code, 6, "{err}");

    let id = listed[0]["id"].as_str().unwrap();
    json_of(taina(&t).args(["app-password", "revoke", "admin@example.org", id]));
    assert!(
        accounts
            .authenticate_basic(
                "admin@example.org",
                &password,
                taina::core::app_password::Area::Files
            )
            .await
            .is_err()
    );
}

backend_tests!(
    app_password_commands,
    admin_commands,
    storage_migrates_to_s3_and_back,
    fsck_reports_and_repairs,
    backup_while_uploading_then_restore,
    imports_twice_store_nothing_new,
    thumbnails_export_completions_and_man
);

/// Issue 18: `taina db migrate` moves a SQLite community to PostgreSQL: refused while a server has
/// the data open and into a database that is not empty; then every table copied and verified, the
/// configuration switched, and the community works there (sign-in, folders, files, history,
/// search, new messages after the copied ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_migrates_from_sqlite_to_postgres() {
    use taina::guara::NewMessage;
    let w = TestInstance::new(taina::Backend::Sqlite)
        .await
        .world()
        .await;
    let y = w.t.taina.ybira();
    let top = y
        .create_folder(&w.ana, &Location::MyFiles, "Viagens")
        .await
        .unwrap();
    let inner = y
        .create_folder(&w.ana, &Location::Folder(top.id.clone()), "2026")
        .await
        .unwrap();
    let deepest = y
        .create_folder(&w.ana, &Location::Folder(inner.id.clone()), "Praia")
        .await
        .unwrap();
    for n in 0..5u8 {
        upload(
            &w.t,
            &w.ana,
            &format!("nota {n}.txt"),
            vec![b'a' + n; 1000 + usize::from(n)],
        )
        .await;
    }
    let photo = std::fs::read(fixtures().join("jolla.jpg")).unwrap();
    upload(&w.t, &w.ana, "jolla.jpg", photo).await;
    w.t.taina.jobs().run_due().await.unwrap();
    let g = w.t.taina.guara();
    let group = g
        .create_group(&w.ana, "Família", std::slice::from_ref(&w.bia.user_id))
        .await
        .unwrap();
    let say = |text: &str| NewMessage {
        text: text.into(),
        ..NewMessage::default()
    };
    let mut last = None;
    for text in ["bom dia", "ação de graças amanhã", "levo a sobremesa"] {
        last = Some(g.send(&w.ana, &group.id, say(text)).await.unwrap());
    }
    let last = last.unwrap();
    g.react(&w.bia, &last.id, "❤️").await.unwrap();
    g.mark_read(&w.bia, &group.id, last.seq).await.unwrap();

    let file = w.t.dir.path().join("taina.toml");
    std::fs::write(
        &file,
        format!(
            "# The server at home.\ndata_dir = {:?}\n",
            w.t.config.data_dir.display().to_string()
        ),
    )
    .unwrap();
    let migrate = |to: &str| {
        let mut cmd = with_config_file(&file);
        cmd.args(["db", "migrate", "--to", to]);
        cmd
    };
    let target = taina::testing::fresh_postgres_database().await;
    // The instance of this test is open, as a running server would be: refused.
    let (code, _, err) = run(&mut migrate(&target));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("stop it first"), "{err}");
    w.t.taina.close().await;
    drop(w.t.taina);
    // A database that holds something is refused.
    let busy = taina::testing::fresh_postgres_database().await;
    let pool = sqlx::PgPool::connect(&busy).await.unwrap();
    sqlx::query("CREATE TABLE public.notes (id TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (code, _, err) = run(&mut migrate(&busy));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("not empty"), "{err}");

    // A target already migrated but holding no rows (a copy that failed rolled back) is taken.
    let mut migrated_only = taina::Config::with_data_dir(w.t.dir.path().join("other"));
    migrated_only.database_url = Some(target.clone());
    taina::db::Db::open(&migrated_only, w.t.dir.path())
        .await
        .unwrap()
        .close()
        .await;
    let (copied, done) = copied_and_done(&mut migrate(&target));
    assert_eq!(done["switched"], true);
    let rows = |table: &str| {
        copied["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table)
            .unwrap_or_else(|| panic!("{table} in {copied}"))["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rows("users"), 4);
    assert!(rows("items") >= 9, "{copied}");
    assert_eq!(rows("reactions"), 1);
    assert!(rows("messages") >= 3);
    let kept = std::fs::read_to_string(&file).unwrap();
    assert!(kept.starts_with("# The server at home."), "{kept}");

    let mut config = taina::Config::load(Some(&file)).unwrap();
    config.job_workers = 0;
    let moved = taina::Taina::open(config).await.unwrap();
    assert_eq!(moved.backend(), taina::Backend::Postgres);
    let signed_in = moved
        .accounts()
        .login(taina::accounts::LoginRequest {
            email: "ana@example.org".into(),
            password: PASSWORD.into(),
            community: None,
            user_agent: None,
            client_key: None,
        })
        .await
        .unwrap();
    let ana = moved
        .accounts()
        .authenticate(&signed_in.token)
        .await
        .unwrap();
    assert_deep_clean(&moved).await;
    let inside = moved
        .ybira()
        .list(&ana, &Location::Folder(inner.id.clone()), None, Some(10))
        .await
        .unwrap();
    assert_eq!(inside.items.len(), 1);
    assert_eq!(inside.items[0].id, deepest.id);
    let history = moved
        .guara()
        .history(&ana, &group.id, taina::guara::Position::Latest, Some(50))
        .await
        .unwrap();
    assert!(
        history
            .messages
            .iter()
            .any(|m| m.id == last.id && m.reactions.len() == 1)
    );
    let found = moved.guara().search(&ana, "sobremesa").await.unwrap();
    assert_eq!(
        found.len(),
        1,
        "the search index is PostgreSQL's own: {found:?}"
    );
    let next = moved
        .guara()
        .send(&ana, &group.id, say("cheguei"))
        .await
        .unwrap();
    assert_eq!(next.seq, last.seq + 1);
    moved.close().await;
}

/// Issue 16 #14: the installed `taina` is its own image decoder (the server runs it as a child
/// process under limits): a photo on its input, the previews on its output; and it runs
/// `pdftoppm` with the limits set.
#[test]
fn taina_is_its_own_limited_decoder() {
    let heic = std::fs::read(fixtures().join("samplefilehub.heif")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_taina"))
        .args([taina::decoder::CHILD_ARG, "previews", "1073741824"])
        .write_stdin(heic)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.starts_with(b"TPV1\x00"),
        "an answer with previews"
    );
    assert!(out.stdout.len() > 10_000);
    let out = Command::new(env!("CARGO_BIN_EXE_taina"))
        .args([taina::decoder::CHILD_ARG, "exec", "268435456", "0"])
        .args(["sh", "-c", "ulimit -v; ulimit -c; ulimit -f"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "262144\n0\n0\n");
    let (code, _, _) = run(
        Command::new(env!("CARGO_BIN_EXE_taina")).args([taina::decoder::CHILD_ARG, "nonsense"])
    );
    assert_eq!(code, 64);
}
