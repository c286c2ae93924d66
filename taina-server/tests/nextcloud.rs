//! Issue 19: the Nextcloud desktop client (`nextcloudcmd`) syncs with Tainá both ways — local
//! changes go up (a large file in chunks), server changes come down, a file changed on both sides
//! leaves a conflict copy and loses nothing, deletes go to the trash — on SQLite, PostgreSQL and
//! object storage; and the Nextcloud endpoints and chunked uploads answer as its clients expect.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::Path;

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use taina::accounts::NewAppPassword;
use taina::backend_tests;
use taina::core::Actor;
use taina::core::app_password::Scope;
use taina::testing::TestInstance;
use taina::ybira::{Item, Location, NewUpload, OnConflict};
use taina_server::testing::{TestServer, json};

async fn app_password(t: &TestInstance, actor: &Actor) -> String {
    t.taina
        .accounts()
        .create_app_password(
            actor,
            NewAppPassword {
                name: "desktop".into(),
                scope: Scope::Files,
            },
        )
        .await
        .unwrap()
        .password
}

async fn sync(server: &TestServer, local: &Path, home: &Path, password: &str) -> String {
    let out = tokio::process::Command::new("nextcloudcmd")
        .args([
            "--non-interactive",
            "-u",
            "admin@example.org",
            "-p",
            password,
            "--path",
            "/My files/Sync",
            local.to_str().unwrap(),
            &server.base,
        ])
        .env("HOME", home)
        .output()
        .await
        .expect("nextcloudcmd runs (scripts/test.sh installs it: apt-get install nextcloud-desktop-cmd)");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "nextcloudcmd failed:\n{log}");
    log
}

async fn content(t: &TestInstance, actor: &Actor, item: &Item) -> Vec<u8> {
    use futures::StreamExt;
    let mut download = t
        .taina
        .ybira()
        .download(actor, &item.id, None)
        .await
        .unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = download.body.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    bytes
}

async fn server_file(t: &TestInstance, actor: &Actor, folder: &Item, path: &str) -> Option<Item> {
    let ybira = t.taina.ybira();
    let mut location = Location::Folder(folder.id.clone());
    let names: Vec<&str> = path.split('/').collect();
    for (i, name) in names.iter().enumerate() {
        let item = ybira.child_named(actor, &location, name).await.unwrap()?;
        if i + 1 == names.len() {
            return Some(item);
        }
        location = Location::Folder(item.id);
    }
    None
}

async fn put(t: &TestInstance, actor: &Actor, folder: &Item, name: &str, bytes: &[u8]) {
    let upload = NewUpload {
        location: Location::Folder(folder.id.clone()),
        name: name.into(),
        declared_size: None,
        on_conflict: OnConflict::Replace,
    };
    let body = futures::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::copy_from_slice(bytes))]);
    t.taina.ybira().upload(actor, upload, body).await.unwrap();
}

async fn the_desktop_client_syncs_both_ways(t: TestInstance) {
    let admin = t.actor(&t.setup().await).await;
    let password = app_password(&t, &admin).await;
    let folder = t
        .taina
        .ybira()
        .create_folder(&admin, &Location::MyFiles, "Sync")
        .await
        .unwrap();
    let server = TestServer::start(&t).await;
    let dir = tempfile::tempdir().unwrap();
    let (local, home) = (dir.path().join("local"), dir.path().join("home"));
    std::fs::create_dir_all(local.join("sub")).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    // Larger than the client's 10 MB chunks: it goes up as a chunked upload.
    let big: Vec<u8> = (0..12_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    for (name, bytes) in [
        ("a.txt", b"primeiro".to_vec()),
        ("sub/b.txt", b"dentro".to_vec()),
        ("both.txt", b"original".to_vec()),
        ("gone.txt", b"logo some".to_vec()),
        ("grande.bin", big.clone()),
    ] {
        std::fs::write(local.join(name), bytes).unwrap();
    }

    // Up: everything local reaches the server, byte for byte (the large file in chunks).
    let log = sync(&server, &local, &home, &password).await;
    assert!(
        log.contains("PropagateUploadFileNG"),
        "grande.bin went up in chunks"
    );
    assert!(
        !log.contains("Server does not support X-OC-MTime"),
        "file times are kept"
    );
    // The files keep the times they have on the computer, chunked or not.
    for name in ["a.txt", "grande.bin"] {
        let local_time = std::fs::metadata(local.join(name))
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let item = server_file(&t, &admin, &folder, name).await.unwrap();
        assert_eq!(
            item.client_modified_at.map(|t| t.as_millis() / 1000),
            Some(i64::try_from(local_time).unwrap()),
            "{name}"
        );
    }
    for name in ["a.txt", "sub/b.txt", "both.txt", "gone.txt", "grande.bin"] {
        let item = server_file(&t, &admin, &folder, name)
            .await
            .unwrap_or_else(|| panic!("{name} reached the server"));
        assert_eq!(
            content(&t, &admin, &item).await,
            std::fs::read(local.join(name)).unwrap(),
            "{name}"
        );
    }

    // Changes on both sides, and one file changed on both.
    put(&t, &admin, &folder, "do-servidor.txt", b"veio de cima").await;
    put(&t, &admin, &folder, "both.txt", b"server version").await;
    std::fs::write(local.join("both.txt"), b"local version, longer").unwrap();
    std::fs::write(local.join("novo-local.txt"), b"subiu").unwrap();
    std::fs::remove_file(local.join("gone.txt")).unwrap();
    sync(&server, &local, &home, &password).await;

    // Down: what the server got meanwhile is here.
    assert_eq!(
        std::fs::read(local.join("do-servidor.txt")).unwrap(),
        b"veio de cima"
    );
    // Up: the new local file is there; the deleted one is in the trash, where it can be restored.
    let novo = server_file(&t, &admin, &folder, "novo-local.txt")
        .await
        .unwrap();
    assert_eq!(content(&t, &admin, &novo).await, b"subiu");
    assert!(server_file(&t, &admin, &folder, "gone.txt").await.is_none());
    let trash = t.taina.ybira().trash(&admin).await.unwrap();
    assert!(trash.iter().any(|i| i.name == "gone.txt"), "{trash:?}");
    // Both changed: the server's version is kept under the name, the local one in a conflict
    // copy beside it; nothing is lost.
    let both = server_file(&t, &admin, &folder, "both.txt").await.unwrap();
    assert_eq!(content(&t, &admin, &both).await, b"server version");
    assert_eq!(
        std::fs::read(local.join("both.txt")).unwrap(),
        b"server version"
    );
    let conflict = std::fs::read_dir(&local)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with("both") && n.contains("conflict"))
        .expect("a conflict copy");
    assert_eq!(
        std::fs::read(local.join(&conflict)).unwrap(),
        b"local version, longer"
    );

    // Once settled (a third run may send the conflict copy up), a run finds nothing to do and
    // changes nothing on the server, nor locally.
    let ybira = t.taina.ybira();
    sync(&server, &local, &home, &password).await;
    let before = ybira.dav_shown(&admin, &folder).await.unwrap().etag;
    let local_before = read_dir_names(&local);
    sync(&server, &local, &home, &password).await;
    let after = ybira.dav_shown(&admin, &folder).await.unwrap().etag;
    assert_eq!(after, before, "an idle sync changed the server");
    assert_eq!(
        read_dir_names(&local),
        local_before,
        "an idle sync changed the folder"
    );
}

/// The names in a folder (the client's own database left out), sorted.
fn read_dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with(".sync_"))
        .collect();
    names.sort();
    names
}

/// A chunked upload by hand, as the clients send it: resumed from where it stands, stored where
/// `.file` is moved, refused past the quota, cancelled.
async fn chunked_uploads_resume_and_finish(t: TestInstance) {
    let admin = t.actor(&t.setup().await).await;
    let password = app_password(&t, &admin).await;
    let server = TestServer::start(&t).await;
    let user = admin.user_id.to_string();
    let request = |method: &str, path: &str| {
        server
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                server.at(path),
            )
            .basic_auth("admin@example.org", Some(&password))
    };
    let upload = format!("/remote.php/dav/uploads/{user}/777");
    let chunk: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();

    let made = request("MKCOL", &upload)
        .header("OC-Total-Length", "600000")
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let again = request("MKCOL", &upload)
        .header("OC-Total-Length", "600000")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let first = request("PUT", &format!("{upload}/0000000000000000"))
        .header("OC-Chunk-Offset", "0")
        .body(chunk.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    // A chunk from the wrong place is refused; where the upload stands is told by PROPFIND.
    let wrong = request("PUT", &format!("{upload}/0000000000000002"))
        .header("OC-Chunk-Offset", "400000")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::CONFLICT);
    let listed = request("PROPFIND", &upload)
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::MULTI_STATUS);
    assert!(
        listed
            .text()
            .await
            .unwrap()
            .contains("<D:getcontentlength>300000</D:getcontentlength>")
    );
    let second = request("PUT", &format!("{upload}/0000000000000001"))
        .header("OC-Chunk-Offset", "300000")
        .body(chunk.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    // Complete, it is not stored until it is moved into place.
    assert!(
        t.taina
            .ybira()
            .child_named(&admin, &Location::MyFiles, "juntos.bin")
            .await
            .unwrap()
            .is_none()
    );
    // A destination that cannot take it is refused before anything is sealed: the upload stays.
    t.taina
        .ybira()
        .create_folder(&admin, &Location::MyFiles, "pasta")
        .await
        .unwrap();
    let onto_folder = request("MOVE", &format!("{upload}/.file"))
        .header(
            "Destination",
            format!("/remote.php/dav/files/{user}/My%20files/pasta"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(onto_folder.status(), StatusCode::FORBIDDEN);
    let still = request("PROPFIND", &upload)
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::MULTI_STATUS);
    let moved = request("MOVE", &format!("{upload}/.file"))
        .header(
            "Destination",
            format!("/remote.php/dav/files/{user}/My%20files/juntos.bin"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::CREATED);
    assert!(moved.headers().contains_key("oc-fileid"));
    let item = t
        .taina
        .ybira()
        .child_named(&admin, &Location::MyFiles, "juntos.bin")
        .await
        .unwrap()
        .unwrap();
    let whole: Vec<u8> = [chunk.clone(), chunk.clone()].concat();
    assert_eq!(
        item.etag.as_deref().unwrap(),
        moved.headers()["oc-etag"].to_str().unwrap()
    );
    let got = request(
        "GET",
        &format!("/remote.php/dav/files/{user}/My%20files/juntos.bin"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), whole.as_slice());
    // The upload is gone once stored.
    let gone = request("PROPFIND", &upload).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Past the quota it is refused at once (the whole length is reserved), with 507.
    let community = t.taina.operator().community(None).await.unwrap();
    t.taina
        .operator()
        .set_quota(None, community.storage_used_bytes.unwrap() + 1000)
        .await
        .unwrap();
    let too_big = request("MKCOL", &format!("/remote.php/dav/uploads/{user}/778"))
        .header("OC-Total-Length", "5000")
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::INSUFFICIENT_STORAGE);

    // A cancelled upload releases what it reserved.
    let small = format!("/remote.php/dav/uploads/{user}/779");
    assert_eq!(
        request("MKCOL", &small)
            .header("OC-Total-Length", "900")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        request("DELETE", &small).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        request("PROPFIND", &small).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // Someone else's uploads folder is not theirs to reach.
    let other = request("MKCOL", "/remote.php/dav/uploads/someone-else/1")
        .header("OC-Total-Length", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

async fn the_server_describes_itself_as_clients_expect(t: TestInstance) {
    let admin = t.actor(&t.setup().await).await;
    let password = app_password(&t, &admin).await;
    let server = TestServer::start(&t).await;
    let status = json(
        server
            .client
            .get(server.at("/status.php"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status["installed"], true);
    assert_eq!(status["productname"], "Tainá");
    let capabilities = json(
        server
            .client
            .get(server.at("/ocs/v1.php/cloud/capabilities?format=json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        capabilities["ocs"]["data"]["capabilities"]["dav"]["chunking"],
        "1.0"
    );
    let user = server
        .client
        .get(server.at("/ocs/v2.php/cloud/user?format=json"))
        .basic_auth("admin@example.org", Some(&password))
        .send()
        .await
        .unwrap();
    let user = json(user).await;
    assert_eq!(user["ocs"]["data"]["id"], admin.user_id.to_string());
    assert_eq!(user["ocs"]["data"]["email"], "admin@example.org");
    let anonymous = server
        .client
        .get(server.at("/ocs/v2.php/cloud/user?format=json"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

mod desktop {
    use super::*;
    backend_tests!(storage: the_desktop_client_syncs_both_ways);
}

backend_tests!(
    chunked_uploads_resume_and_finish,
    the_server_describes_itself_as_clients_expect
);
