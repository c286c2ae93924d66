//! The error paths and rules a person meets over WebDAV (issue 19), in plain HTTP requests, on
//! both databases.

use taina::testing::World;

use super::*;

/// The world (an admin, Ana, Bia, a guest), its server, and app passwords for Ana (files only) and
/// the admin (everything).
async fn scene(t: TestInstance) -> (World, TestServer, String, String) {
    let w = t.world().await;
    let server = TestServer::start(&w.t).await;
    let ana = app_password(&w.t, &w.ana, Scope::Files).await;
    let admin = app_password(&w.t, &w.admin, Scope::Everything).await;
    (w, server, ana, admin)
}

/// Credentials: no challenge answered, the account password and revoked app passwords refused,
/// Basic over plain HTTP from elsewhere not even asked for, and what each scope reaches.
async fn credentials_and_scopes(t: TestInstance) {
    let (w, server, ana_password, _) = scene(t).await;
    let ana = ("ana@example.org", ana_password.as_str());

    // No credentials: 401 with a Basic challenge. OPTIONS tells the classes without them.
    let bare = server
        .client
        .request(Method::from_bytes(b"PROPFIND").unwrap(), server.at("/dav/"))
        .header("Depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    assert!(
        bare.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
    let options = server
        .client
        .request(Method::OPTIONS, server.at("/dav/"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.headers()["dav"], "1, 2, 3");

    // The account password never works here; nor does a revoked app password.
    let wrong = dav(
        &server,
        "PROPFIND",
        "",
        ("ana@example.org", taina::testing::PASSWORD),
    )
    .header("Depth", "0")
    .send()
    .await
    .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let listed = w.t.taina.accounts().app_passwords(&w.ana).await.unwrap();
    let revoked_password = app_password(&w.t, &w.ana, Scope::Files).await;
    let newest = w.t.taina.accounts().app_passwords(&w.ana).await.unwrap();
    let new_id = newest
        .iter()
        .find(|a| !listed.iter().any(|l| l.id == a.id))
        .unwrap()
        .id
        .clone();
    w.t.taina
        .accounts()
        .revoke_app_password(&w.ana, &new_id)
        .await
        .unwrap();
    let revoked = dav(
        &server,
        "PROPFIND",
        "",
        ("ana@example.org", &revoked_password),
    )
    .header("Depth", "0")
    .send()
    .await
    .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);

    // Basic over plain HTTP from elsewhere than this machine is refused, and not even asked for
    // (a challenge would make a client send the password in the clear).
    let remote = dav(&server, "PROPFIND", "", ana)
        .header("Host", "home.example.org")
        .header("Depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), StatusCode::FORBIDDEN);
    let unasked = server
        .client
        .request(Method::from_bytes(b"PROPFIND").unwrap(), server.at("/dav/"))
        .header("Host", "home.example.org")
        .header("Depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(unasked.status(), StatusCode::FORBIDDEN);
    assert!(!unasked.headers().contains_key(WWW_AUTHENTICATE));

    // A files-only app password reaches files, not messages, nor the account's app passwords.
    let bearer = |path: &str| {
        server
            .client
            .get(server.api(path))
            .bearer_auth(&ana_password)
    };
    assert_eq!(
        bearer("/folders/root").send().await.unwrap().status(),
        StatusCode::OK
    );
    for path in ["/conversations", "/me/app-passwords", "/me"] {
        assert_eq!(
            bearer(path).send().await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }

    // Nor the photo library through a resumable upload (files and photos at once).
    use base64::Engine;
    let meta = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}",
                    base64::engine::general_purpose::STANDARD.encode(v)
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let tus = |metadata: String| {
        server
            .client
            .post(server.api("/uploads"))
            .bearer_auth(&ana_password)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", "10")
            .header("Upload-Metadata", metadata)
            .send()
    };
    let photo = tus(meta(&[("filename", "a.jpg"), ("photo", "true")]))
        .await
        .unwrap();
    assert_eq!(photo.status(), StatusCode::FORBIDDEN);
    let file = tus(meta(&[("filename", "a.txt")])).await.unwrap();
    assert_eq!(file.status(), StatusCode::CREATED);
}

/// What is not Ana's to reach (another person's private folder), and what is not read: infinite
/// depth, entity bombs, names Ybira refuses.
async fn what_nobody_may_reach_or_send(t: TestInstance) {
    let (w, server, ana_password, _) = scene(t).await;
    let ana = ("ana@example.org", ana_password.as_str());

    // Another person's private folder is nowhere in Ana's tree.
    w.t.taina
        .ybira()
        .create_folder(&w.bia, &Location::MyFiles, "Diário")
        .await
        .unwrap();
    let hers = dav(&server, "PROPFIND", "My%20files/Di%C3%A1rio/", ana)
        .header("Depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(hers.status(), StatusCode::NOT_FOUND);
    let mine = dav(&server, "PROPFIND", "My%20files/", ana)
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), StatusCode::MULTI_STATUS);
    assert!(!mine.text().await.unwrap().contains("Di%C3%A1rio"));

    // Depth infinity is refused as the RFC allows; an entity bomb is refused unread.
    let infinite = dav(&server, "PROPFIND", "", ana)
        .header("Depth", "infinity")
        .send()
        .await
        .unwrap();
    assert_eq!(infinite.status(), StatusCode::FORBIDDEN);
    assert!(
        infinite
            .text()
            .await
            .unwrap()
            .contains("propfind-finite-depth")
    );
    let bomb = dav(&server, "PROPFIND", "", ana)
        .header("Depth", "0")
        .body(r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><propfind xmlns="DAV:"><prop><x>&b;</x></prop></propfind>"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bomb.status(), StatusCode::BAD_REQUEST);

    // A name Ybira refuses is answered with why, in the API's error shape.
    let bad_name = dav(&server, "PUT", "My%20files/a%01b.txt", ana)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_name.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(bad_name).await;
    assert_eq!(body["error"]["code"], "invalid", "{body}");
}

/// Conditional PUTs, client file times, a MOVE across spaces, and locks held by someone else.
async fn writes_moves_and_locks(t: TestInstance) {
    let (w, server, ana_password, admin_password) = scene(t).await;
    let ana = ("ana@example.org", ana_password.as_str());
    let admin = ("admin@example.org", admin_password.as_str());

    // Conditional PUTs.
    let created = dav(&server, "PUT", "My%20files/carta.txt", ana)
        .body("querida")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(created.headers()["oc-etag"].to_str().unwrap(), etag);
    assert!(created.headers().contains_key("oc-fileid"));
    let exists = dav(&server, "PUT", "My%20files/carta.txt", ana)
        .header("If-None-Match", "*")
        .body("outra")
        .send()
        .await
        .unwrap();
    assert_eq!(exists.status(), StatusCode::PRECONDITION_FAILED);
    let stale = dav(&server, "PUT", "My%20files/carta.txt", ana)
        .header("If", "([\"0000\"])")
        .body("outra")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let replaced = dav(&server, "PUT", "My%20files/carta.txt", ana)
        .header("If-Match", &etag)
        .body("querida, de novo")
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::NO_CONTENT);
    let versions =
        w.t.taina
            .ybira()
            .child_named(&w.ana, &Location::MyFiles, "carta.txt")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        w.t.taina
            .ybira()
            .versions(&w.ana, &versions.id)
            .await
            .unwrap()
            .len(),
        1,
        "the old content is kept as a version"
    );

    // A client's file time (X-OC-Mtime) is kept and shown, until the content changes otherwise.
    let timed = dav(&server, "PUT", "My%20files/datada.txt", ana)
        .header("X-OC-Mtime", "1700000000")
        .body("com hora")
        .send()
        .await
        .unwrap();
    assert_eq!(timed.status(), StatusCode::CREATED);
    assert_eq!(timed.headers()["x-oc-mtime"], "accepted");
    let modified = |body: String| {
        body.split("<D:getlastmodified>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap_or_default()
            .to_owned()
    };
    let propfind_time = || async {
        modified(
            dav(&server, "PROPFIND", "My%20files/datada.txt", ana)
                .header("Depth", "0")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
    };
    assert_eq!(propfind_time().await, "Tue, 14 Nov 2023 22:13:20 GMT");
    let datada =
        w.t.taina
            .ybira()
            .child_named(&w.ana, &Location::MyFiles, "datada.txt")
            .await
            .unwrap()
            .unwrap();
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from_static(
        b"nova",
    ))]);
    w.t.taina
        .ybira()
        .replace(&w.ana, &datada.id, None, stream)
        .await
        .unwrap();
    assert_ne!(propfind_time().await, "Tue, 14 Nov 2023 22:13:20 GMT");

    // A MOVE across spaces: from Ana's files into the community's.
    let moved = dav(&server, "MOVE", "My%20files/carta.txt", ana)
        .header("Destination", server.at("/dav/Community/carta.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::CREATED);
    let in_community =
        w.t.taina
            .ybira()
            .child_named(&w.ana, &Location::Shared, "carta.txt")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(in_community.id, versions.id);

    // Locks held by someone else: 423 until they are released, and the complex If lists litmus
    // cannot send whole (see JUSTIFIED) work with whole tags.
    let lock = dav(&server, "LOCK", "Community/carta.txt", admin)
        .header("Timeout", "Second-600")
        .body(r#"<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>admin</D:owner></D:lockinfo>"#)
        .send()
        .await
        .unwrap();
    assert_eq!(lock.status(), StatusCode::OK);
    let token = lock.headers()["lock-token"].to_str().unwrap().to_owned();
    assert!(
        lock.text()
            .await
            .unwrap()
            .contains("<D:timeout>Second-600</D:timeout>")
    );
    let blocked = dav(&server, "PUT", "Community/carta.txt", ana)
        .body("mudada")
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::LOCKED);
    let blocked_delete = dav(&server, "DELETE", "Community/carta.txt", ana)
        .send()
        .await
        .unwrap();
    assert_eq!(blocked_delete.status(), StatusCode::LOCKED);
    let current =
        w.t.taina
            .ybira()
            .child_named(&w.admin, &Location::Shared, "carta.txt")
            .await
            .unwrap()
            .unwrap()
            .etag
            .unwrap();
    let url = server.at("/dav/Community/carta.txt");
    let complex = dav(&server, "PUT", "Community/carta.txt", admin)
        .header(
            "If",
            format!("<{url}> ({token} [{current}]) (Not <DAV:no-lock> [{current}])"),
        )
        .body("pelo dono do lock")
        .send()
        .await
        .unwrap();
    assert_eq!(complex.status(), StatusCode::NO_CONTENT);
    let bogus = dav(&server, "PUT", "Community/carta.txt", admin)
        .header(
            "If",
            format!("({token} [\"bogus\"]) (Not <DAV:no-lock> [\"bogus\"])"),
        )
        .body("nunca")
        .send()
        .await
        .unwrap();
    assert_eq!(bogus.status(), StatusCode::PRECONDITION_FAILED);
    let unlocked = dav(&server, "UNLOCK", "Community/carta.txt", admin)
        .header("Lock-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(unlocked.status(), StatusCode::NO_CONTENT);
    let free = dav(&server, "PUT", "Community/carta.txt", admin)
        .body("livre")
        .send()
        .await
        .unwrap();
    assert_eq!(free.status(), StatusCode::NO_CONTENT);
}

/// DELETE to the trash, Windows' file times, desktop litter kept aside, and the quota (507).
async fn trash_litter_and_quota(t: TestInstance) {
    let (w, server, ana_password, _) = scene(t).await;
    let ana = ("ana@example.org", ana_password.as_str());

    // DELETE goes to the trash, as one entry that restores the folder whole.
    for (method, path) in [
        ("MKCOL", "My%20files/Velho"),
        ("PUT", "My%20files/Velho/a.txt"),
    ] {
        let made = dav(&server, method, path, ana).body(if method == "PUT" { "a" } else { "" });
        assert_eq!(made.send().await.unwrap().status(), StatusCode::CREATED);
    }
    let deleted = dav(&server, "DELETE", "My%20files/Velho", ana)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let trash = w.t.taina.ybira().trash(&w.ana).await.unwrap();
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0].name, "Velho");
    w.t.taina
        .ybira()
        .restore(&w.ana, &trash[0].id)
        .await
        .unwrap();
    // Windows sets its file times after every upload: what it sets is kept and shown.
    let set_time = dav(&server, "PROPPATCH", "My%20files/Velho/a.txt", ana)
        .body(r#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32LastModifiedTime>Wed, 02 Dec 2026 10:00:00 GMT</Z:Win32LastModifiedTime></D:prop></D:set></D:propertyupdate>"#)
        .send()
        .await
        .unwrap();
    assert_eq!(set_time.status(), StatusCode::MULTI_STATUS);
    assert!(set_time.text().await.unwrap().contains("200 OK"));
    let shown = dav(&server, "PROPFIND", "My%20files/Velho/a.txt", ana)
        .header("Depth", "0")
        .body(r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:prop><Z:Win32LastModifiedTime/></D:prop></D:propfind>"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("Wed, 02 Dec 2026 10:00:00 GMT"), "{shown}");
    let back = dav(&server, "GET", "My%20files/Velho/a.txt", ana)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(back.text().await.unwrap(), "a");

    // Desktop litter (macOS's `._` companions, `.DS_Store`) is kept aside for its writer, as the
    // client expects, and never becomes a file: not listed, not in the library, not counted.
    let used_before_litter = storage_used(&w.t).await;
    let bia_password = app_password(&w.t, &w.bia, Scope::Files).await;
    let bia = ("bia@example.org", bia_password.as_str());
    let companion = b"\x00\x05\x16\x07 AppleDouble".to_vec();
    for (method, expected) in [
        ("PUT", StatusCode::CREATED),
        ("PUT", StatusCode::NO_CONTENT),
    ] {
        let put = dav(&server, method, "My%20files/._Velho", ana)
            .body(companion.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), expected);
    }
    let read = dav(&server, "GET", "My%20files/._Velho", ana)
        .send()
        .await
        .unwrap();
    assert_eq!(read.bytes().await.unwrap().as_ref(), companion.as_slice());
    let alone = dav(&server, "PROPFIND", "My%20files/._Velho", ana)
        .header("Depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(alone.status(), StatusCode::MULTI_STATUS);
    let listing = dav(&server, "PROPFIND", "My%20files/", ana)
        .header("Depth", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listing.contains("._Velho"), "{listing}");
    assert!(
        w.t.taina
            .ybira()
            .child_named(&w.ana, &Location::MyFiles, "._Velho")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(storage_used(&w.t).await, used_before_litter);
    let not_hers = dav(&server, "GET", "My%20files/._Velho", bia)
        .send()
        .await
        .unwrap();
    assert_eq!(not_hers.status(), StatusCode::NOT_FOUND);
    let locked_litter = dav(&server, "LOCK", "My%20files/._Velho", ana)
        .body(r#"<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"#)
        .send()
        .await
        .unwrap();
    assert_eq!(locked_litter.status(), StatusCode::OK);
    assert!(locked_litter.headers().contains_key("lock-token"));
    let renamed = dav(&server, "MOVE", "My%20files/._Velho", ana)
        .header("Destination", server.at("/dav/My%20files/._Antigo"))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::CREATED);
    let into_a_file = dav(&server, "MOVE", "My%20files/._Antigo", ana)
        .header("Destination", server.at("/dav/My%20files/Antigo"))
        .send()
        .await
        .unwrap();
    assert_eq!(into_a_file.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        dav(&server, "DELETE", "My%20files/._Antigo", ana)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        dav(&server, "GET", "My%20files/._Antigo", ana)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // Quota exceeded: 507, and nothing is kept.
    let before = storage_used(&w.t).await;
    w.t.taina
        .operator()
        .set_quota(None, before + 1000)
        .await
        .unwrap();
    let full = dav(&server, "PUT", "My%20files/grande.bin", ana)
        .body(vec![9u8; 5000])
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(full.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(storage_used(&w.t).await, before);
    let gone = dav(&server, "GET", "My%20files/grande.bin", ana)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

backend_tests!(
    credentials_and_scopes,
    what_nobody_may_reach_or_send,
    writes_moves_and_locks,
    trash_litter_and_quota,
);
