//! Ybira, the files service, on SQLite and on PostgreSQL: real files on disk, real databases.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use taina::accounts::CommunityUpdate;
use taina::backend_tests;
use taina::core::{Actor, DomainEvent, ErrorKind};
use taina::testing::{TestInstance, World, queued_events};
use taina::ybira::{ByteRange, IntegrityOptions, Item, ItemKind, Location, NewUpload, OnConflict};
use taina_ybira::access::{ShareAccess, Space};

/// Content as a stream of 7 KiB chunks.
fn body(bytes: &[u8]) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin + 'static {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(7 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

/// `n` bytes that differ with `seed`.
fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn upload(location: Location, name: &str) -> NewUpload {
    NewUpload {
        location,
        name: name.into(),
        declared_size: None,
        on_conflict: OnConflict::Rename,
    }
}

async fn put(
    t: &TestInstance,
    actor: &Actor,
    location: Location,
    name: &str,
    bytes: &[u8],
) -> Item {
    t.taina
        .ybira()
        .upload(actor, upload(location, name), body(bytes))
        .await
        .unwrap()
}

async fn fetch(
    t: &TestInstance,
    actor: &Actor,
    item: &Item,
    range: Option<ByteRange>,
) -> taina::Result<Vec<u8>> {
    let download = t.taina.ybira().download(actor, &item.id, range).await?;
    let mut out = Vec::new();
    let mut body = download.body;
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

async fn used(t: &TestInstance, admin: &Actor) -> i64 {
    t.taina.accounts().storage(admin).await.unwrap().used_bytes
}

/// The entity tag of some content.
fn etag(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("\"{}\"", hex::encode(sha2::Sha256::digest(bytes)))
}

fn kind<T: std::fmt::Debug>(r: taina::Result<T>) -> ErrorKind {
    r.expect_err("expected an error").kind()
}

/// Every blob under `prefix` in the instance's store, in order.
async fn blobs_under(t: &TestInstance, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = t
        .taina
        .blobs()
        .list(prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.path)
        .collect();
    out.sort();
    out
}

/// Stored blobs and staged uploads of every community.
async fn stored_files(t: &TestInstance) -> Vec<String> {
    blobs_under(t, "communities").await
}

async fn names(t: &TestInstance, actor: &Actor, location: Location) -> Vec<String> {
    let page = t
        .taina
        .ybira()
        .list(actor, &location, None, Some(1000))
        .await
        .unwrap();
    page.items.into_iter().map(|i| i.name).collect()
}

async fn set_quota(t: &TestInstance, admin: &Actor, bytes: i64) {
    t.taina
        .accounts()
        .update_community(
            admin,
            CommunityUpdate {
                storage_quota_bytes: Some(bytes),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

async fn uploads_in_flight(t: &TestInstance) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM uploads")
        .fetch_one(t.taina.db().reader())
        .await
        .unwrap();
    n
}

async fn folders_list_in_order_with_cursors_and_breadcrumbs(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let docs = y
        .create_folder(&w.ana, &Location::MyFiles, "Docs")
        .await
        .unwrap();
    assert_eq!(docs.kind, ItemKind::Folder);
    assert_eq!(docs.space, Space::Private(w.ana.user_id.clone()));
    let inner = y
        .create_folder(&w.ana, &Location::Folder(docs.id.clone()), "2026")
        .await
        .unwrap();
    let deep = y
        .create_folder(&w.ana, &Location::Folder(inner.id.clone()), "Férias")
        .await
        .unwrap();
    for name in ["banana.txt", "Apple.txt", "cherry.txt"] {
        put(&w.t, &w.ana, Location::Folder(docs.id.clone()), name, b"x").await;
    }
    y.create_folder(&w.ana, &Location::Folder(docs.id.clone()), "zeta")
        .await
        .unwrap();
    assert_eq!(
        names(&w.t, &w.ana, Location::Folder(docs.id.clone())).await,
        ["2026", "zeta", "Apple.txt", "banana.txt", "cherry.txt"]
    );
    // Two at a time, following the cursor, gives the same order with nothing repeated.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = y
            .list(
                &w.ana,
                &Location::Folder(docs.id.clone()),
                cursor.as_deref(),
                Some(2),
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|i| i.name));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["2026", "zeta", "Apple.txt", "banana.txt", "cherry.txt"]
    );
    assert_eq!(
        kind(
            y.list(&w.ana, &Location::MyFiles, Some("garbage!"), None)
                .await
        ),
        ErrorKind::Invalid
    );

    let crumbs = y.breadcrumbs(&w.ana, &deep.id).await.unwrap();
    let crumb_names: Vec<_> = crumbs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(crumb_names, ["Docs", "2026", "Férias"]);

    // Names collide ignoring case; bad names are refused with the field named.
    assert_eq!(
        kind(y.create_folder(&w.ana, &Location::MyFiles, "DOCS").await),
        ErrorKind::Conflict
    );
    for bad in [
        "../etc",
        "a/b",
        "nul\0here",
        ".",
        "..",
        "",
        "   ",
        &"😀".repeat(65),
    ] {
        assert_eq!(
            kind(y.create_folder(&w.ana, &Location::MyFiles, bad).await),
            ErrorKind::Invalid,
            "{bad:?}"
        );
    }
    let emoji = "😀".repeat(50); // 200 bytes
    assert_eq!(
        y.create_folder(&w.ana, &Location::MyFiles, &emoji)
            .await
            .unwrap()
            .name,
        emoji
    );
    // Renames follow the same rules.
    assert_eq!(
        kind(y.rename(&w.ana, &inner.id, "../x").await),
        ErrorKind::Invalid
    );
    y.create_folder(&w.ana, &Location::Folder(docs.id.clone()), "taken")
        .await
        .unwrap();
    assert_eq!(
        kind(y.rename(&w.ana, &inner.id, "TAKEN").await),
        ErrorKind::Conflict
    );
    let renamed = y.rename(&w.ana, &inner.id, "Ano 2026").await.unwrap();
    assert_eq!(renamed.revision, inner.revision + 1);
}

async fn uploads_stream_to_the_layout_and_download_with_ranges(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let bytes = content(100_000, 1);
    let item = put(&w.t, &w.ana, Location::MyFiles, "data.bin", &bytes).await;
    assert_eq!(item.size_bytes, 100_000);
    assert_eq!(item.kind, ItemKind::File);
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    assert_eq!(item.etag.as_deref(), Some(format!("\"{sha}\"").as_str()));

    // Stored once, under communities/{c}/files/{yyyy}/{mm}/{file_id}.{ext}; nothing staged.
    let files = stored_files(&w.t).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let relative = files[0].clone();
    let month = &w.t.taina.now().to_rfc3339()[..7].replace('-', "/");
    assert_eq!(
        relative,
        format!(
            "communities/{}/files/{month}/{}.bin",
            w.ana.community_id, item.id
        )
    );
    assert_eq!(w.t.taina.blobs().get(&files[0]).await.unwrap(), bytes);

    assert_eq!(fetch(&w.t, &w.ana, &item, None).await.unwrap(), bytes);
    let part = fetch(
        &w.t,
        &w.ana,
        &item,
        Some(ByteRange {
            offset: 1000,
            length: Some(500),
        }),
    )
    .await
    .unwrap();
    assert_eq!(part, &bytes[1000..1500]);
    let tail = fetch(
        &w.t,
        &w.ana,
        &item,
        Some(ByteRange {
            offset: 99_990,
            length: None,
        }),
    )
    .await
    .unwrap();
    assert_eq!(tail, &bytes[99_990..]);
    let d = y
        .download(
            &w.ana,
            &item.id,
            Some(ByteRange {
                offset: 10,
                length: Some(5),
            }),
        )
        .await
        .unwrap();
    assert_eq!((d.range.clone(), d.total_size), (10..15, 100_000));
    assert_eq!(d.etag, item.etag.clone().unwrap());
    assert_eq!(
        kind(
            y.download(
                &w.ana,
                &item.id,
                Some(ByteRange {
                    offset: 100_000,
                    length: None
                })
            )
            .await
        ),
        ErrorKind::Invalid
    );

    // The type comes from the content, not the name.
    let png = [
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    let disguised = put(&w.t, &w.ana, Location::MyFiles, "notes.txt", &png).await;
    assert_eq!(disguised.mime_type.as_deref(), Some("image/png"));
    let doc = put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "report",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    )
    .await;
    assert_eq!(doc.mime_type.as_deref(), Some("application/pdf"));

    // Empty files are files.
    let empty = put(&w.t, &w.ana, Location::MyFiles, "empty.txt", b"").await;
    assert_eq!(empty.size_bytes, 0);
    assert_eq!(fetch(&w.t, &w.ana, &empty, None).await.unwrap(), b"");
    assert_eq!(uploads_in_flight(&w.t).await, 0);
    assert!(
        blobs_under(&w.t, &format!("communities/{}/temp", w.ana.community_id))
            .await
            .is_empty()
    );
}

async fn collisions_get_numbers_and_replacing_keeps_versions(t: TestInstance) {
    let t = t.reconfigure(|c| c.file_versions_kept = 3).await;
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let first = put(&w.t, &w.ana, Location::MyFiles, "Report.pdf", b"v1").await;
    let second = put(&w.t, &w.ana, Location::MyFiles, "report.PDF", b"v2").await;
    let third = put(&w.t, &w.ana, Location::MyFiles, "Report.pdf", b"v3").await;
    assert_eq!(
        (second.name.as_str(), third.name.as_str()),
        ("report (2).PDF", "Report (3).pdf")
    );

    // Replacing keeps the id and the old content as a version.
    let mut replace = upload(Location::MyFiles, "REPORT.pdf");
    replace.on_conflict = OnConflict::Replace;
    let replaced = y
        .upload(&w.ana, replace.clone(), body(b"v1 edited"))
        .await
        .unwrap();
    assert_eq!(replaced.id, first.id);
    assert_eq!(replaced.revision, 2);
    assert_eq!(
        fetch(&w.t, &w.ana, &replaced, None).await.unwrap(),
        b"v1 edited"
    );
    let versions = y.versions(&w.ana, &first.id).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].size_bytes, 2);

    // Only the newest 3 versions are kept; their content stays downloadable through restore.
    for n in 0..4 {
        w.t.advance(Duration::from_secs(1));
        y.replace(
            &w.ana,
            &first.id,
            None,
            body(format!("edit {n}").as_bytes()),
        )
        .await
        .unwrap();
    }
    let versions = y.versions(&w.ana, &first.id).await.unwrap();
    assert_eq!(versions.len(), 3);
    // Newest first: the contents replaced last come first.
    let etags: Vec<_> = versions.iter().map(|v| v.etag.clone()).collect();
    assert_eq!(etags, [etag(b"edit 2"), etag(b"edit 1"), etag(b"edit 0")]);
    let restored = y
        .restore_version(&w.ana, &first.id, &versions[2].id)
        .await
        .unwrap();
    assert_eq!(
        fetch(&w.t, &w.ana, &restored, None).await.unwrap(),
        b"edit 0"
    );
    assert_eq!(y.versions(&w.ana, &first.id).await.unwrap().len(), 3);
    // Quota counts exactly the distinct contents still referenced.
    let expected: i64 = {
        let mut sizes: Vec<i64> = y
            .versions(&w.ana, &first.id)
            .await
            .unwrap()
            .iter()
            .map(|v| v.size_bytes as i64)
            .collect();
        sizes.push(restored.size_bytes as i64);
        sizes.push(2); // "v2"
        sizes.push(2); // "v3"
        sizes.iter().sum()
    };
    w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(used(&w.t, &w.admin).await, expected);
    // Replace onto a folder's name is a conflict.
    y.create_folder(&w.ana, &Location::MyFiles, "photos")
        .await
        .unwrap();
    let mut onto_folder = upload(Location::MyFiles, "Photos");
    onto_folder.on_conflict = OnConflict::Replace;
    assert_eq!(
        kind(y.upload(&w.ana, onto_folder, body(b"x")).await),
        ErrorKind::Conflict
    );
}

async fn limits_and_failed_streams_leave_nothing(t: TestInstance) {
    let t = t.reconfigure(|c| c.max_upload_bytes = 50_000).await;
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let before = used(&w.t, &w.admin).await;
    assert_eq!(
        kind(
            y.upload(
                &w.ana,
                upload(Location::MyFiles, "big.bin"),
                body(&content(50_001, 2))
            )
            .await
        ),
        ErrorKind::TooLarge
    );
    let mut declared = upload(Location::MyFiles, "big.bin");
    declared.declared_size = Some(60_000);
    assert_eq!(
        kind(y.upload(&w.ana, declared, body(b"small")).await),
        ErrorKind::TooLarge
    );
    let mut lying = upload(Location::MyFiles, "short.bin");
    lying.declared_size = Some(10);
    assert_eq!(
        kind(y.upload(&w.ana, lying.clone(), body(&content(20, 3))).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(y.upload(&w.ana, lying, body(&content(5, 3))).await),
        ErrorKind::Invalid
    );
    let broken = futures::stream::iter(vec![
        Ok(Bytes::from(content(10_000, 4))),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ]);
    assert_eq!(
        kind(
            y.upload(&w.ana, upload(Location::MyFiles, "broken.bin"), broken)
                .await
        ),
        ErrorKind::Internal
    );
    assert_eq!(
        kind(
            y.upload(
                &w.ana,
                upload(Location::MyFiles, "../../etc/passwd"),
                body(b"x")
            )
            .await
        ),
        ErrorKind::Invalid
    );
    assert_eq!(used(&w.t, &w.admin).await, before);
    assert!(
        stored_files(&w.t).await.is_empty(),
        "{:?}",
        stored_files(&w.t).await
    );
    assert_eq!(uploads_in_flight(&w.t).await, 0);
    assert!(names(&w.t, &w.ana, Location::MyFiles).await.is_empty());
    // At the limit is fine.
    put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "exact.bin",
        &content(50_000, 5),
    )
    .await;
}

async fn identical_content_is_stored_once_and_freed_with_its_last_reference(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let bytes = content(30_000, 6);
    let a = put(&w.t, &w.ana, Location::MyFiles, "a.bin", &bytes).await;
    let b = put(&w.t, &w.bia, Location::Shared, "b.bin", &bytes).await;
    let c = y
        .copy(&w.ana, &a.id, &Location::MyFiles, None)
        .await
        .unwrap();
    assert_eq!(c.name, "a (2).bin");
    assert_eq!(c.etag, a.etag);
    assert_eq!(stored_files(&w.t).await.len(), 1);
    assert_eq!(used(&w.t, &w.admin).await, 30_000);

    // Deleting moves to the trash; quota falls only when the last reference is purged.
    y.delete(&w.ana, &a.id).await.unwrap();
    assert_eq!(used(&w.t, &w.admin).await, 30_000);
    y.purge(&w.ana, &a.id).await.unwrap();
    y.delete(&w.bia, &b.id).await.unwrap();
    y.purge(&w.bia, &b.id).await.unwrap();
    w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(used(&w.t, &w.admin).await, 30_000);
    assert_eq!(fetch(&w.t, &w.ana, &c, None).await.unwrap(), bytes);
    y.delete(&w.ana, &c.id).await.unwrap();
    y.purge(&w.ana, &c.id).await.unwrap();
    assert_eq!(used(&w.t, &w.admin).await, 0);
    assert_eq!(
        stored_files(&w.t).await.len(),
        1,
        "bytes go when the job runs"
    );
    let report = w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(report.succeeded, 1);
    assert!(stored_files(&w.t).await.is_empty());

    // Over the quota: refused, nothing kept.
    set_quota(&w.t, &w.admin, 10_000).await;
    assert_eq!(
        kind(
            y.upload(
                &w.ana,
                upload(Location::MyFiles, "big.bin"),
                body(&content(10_001, 7))
            )
            .await
        ),
        ErrorKind::QuotaExceeded
    );
    let mut declared = upload(Location::MyFiles, "big.bin");
    declared.declared_size = Some(20_000);
    assert_eq!(
        kind(y.upload(&w.ana, declared, body(&content(20_000, 7))).await),
        ErrorKind::QuotaExceeded
    );
    assert_eq!(used(&w.t, &w.admin).await, 0);
    assert!(stored_files(&w.t).await.is_empty());
    put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "fits.bin",
        &content(10_000, 8),
    )
    .await;
    assert_eq!(used(&w.t, &w.admin).await, 10_000);
}

async fn concurrent_uploads_never_pass_the_quota(t: TestInstance) {
    let w = t.world().await;
    set_quota(&w.t, &w.admin, 10_000).await;
    let mut tasks = Vec::new();
    for n in 0..20u8 {
        let taina = w.t.taina.clone();
        let actor = w.ana.clone();
        tasks.push(tokio::spawn(async move {
            taina
                .ybira()
                .upload(
                    &actor,
                    upload(Location::MyFiles, &format!("f{n}.bin")),
                    body(&content(1000, n)),
                )
                .await
        }));
    }
    let mut accepted = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(item) => accepted.push(item),
            Err(e) => assert_eq!(e.kind(), ErrorKind::QuotaExceeded, "{e}"),
        }
    }
    assert_eq!(accepted.len(), 10);
    assert_eq!(used(&w.t, &w.admin).await, 10_000);
    assert_eq!(stored_files(&w.t).await.len(), 10);
    let mut listed = names(&w.t, &w.ana, Location::MyFiles).await;
    let mut expected: Vec<String> = accepted.iter().map(|i| i.name.clone()).collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    for item in &accepted {
        let n: u8 = item.name[1..item.name.len() - 4].parse().unwrap();
        assert_eq!(
            fetch(&w.t, &w.ana, item, None).await.unwrap(),
            content(1000, n)
        );
    }
    assert_eq!(uploads_in_flight(&w.t).await, 0);
}

async fn failures_at_each_step_leave_storage_and_quota_as_before(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let existing = put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "kept.bin",
        &content(5000, 9),
    )
    .await;
    let before_files = stored_files(&w.t).await;
    let before_used = used(&w.t, &w.admin).await;
    for point in [
        "ybira.upload.after_staging",
        "ybira.upload.after_move",
        "ybira.upload.before_commit",
    ] {
        w.t.taina.faults().inject(point);
        // New content, and content already stored (the dedup path, which moves nothing).
        let mut contents = vec![content(7000, 10)];
        if point != "ybira.upload.after_move" {
            contents.push(content(5000, 9));
        }
        for bytes in contents {
            let r = y
                .upload(&w.ana, upload(Location::MyFiles, "new.bin"), body(&bytes))
                .await;
            assert!(r.is_err(), "{point}");
            assert_eq!(stored_files(&w.t).await, before_files, "{point}");
            assert_eq!(used(&w.t, &w.admin).await, before_used, "{point}");
            assert_eq!(uploads_in_flight(&w.t).await, 0, "{point}");
        }
        let r = y
            .replace(&w.ana, &existing.id, None, body(&content(3000, 11)))
            .await;
        assert!(r.is_err(), "{point}");
        assert_eq!(uploads_in_flight(&w.t).await, 0, "{point}");
        assert_eq!(stored_files(&w.t).await, before_files, "{point}");
        assert_eq!(used(&w.t, &w.admin).await, before_used, "{point}");
        w.t.taina.faults().clear();
    }
    assert_eq!(names(&w.t, &w.ana, Location::MyFiles).await, ["kept.bin"]);
    assert!(y.versions(&w.ana, &existing.id).await.unwrap().is_empty());
    assert!(
        w.t.taina
            .ybira()
            .check_integrity(IntegrityOptions::default())
            .await
            .unwrap()
            .is_clean()
    );
    put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "new.bin",
        &content(7000, 10),
    )
    .await;
    assert_eq!(used(&w.t, &w.admin).await, before_used + 7000);
}

async fn cancelled_and_crashed_uploads_give_their_reservation_back(t: TestInstance) {
    let w = t.world().await;
    let stalled = || {
        futures::stream::iter(vec![Ok(Bytes::from(content(20_000, 12)))])
            .chain(futures::stream::pending())
    };
    // Cancelled: the future is dropped mid-stream.
    let taina = w.t.taina.clone();
    let ana = w.ana.clone();
    let task = tokio::spawn(async move {
        taina
            .ybira()
            .upload(&ana, upload(Location::MyFiles, "slow.bin"), stalled())
            .await
    });
    while used(&w.t, &w.admin).await == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(uploads_in_flight(&w.t).await, 1);
    task.abort();
    for _ in 0..500 {
        if used(&w.t, &w.admin).await == 0
            && uploads_in_flight(&w.t).await == 0
            && stored_files(&w.t).await.is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(used(&w.t, &w.admin).await, 0);
    assert_eq!(uploads_in_flight(&w.t).await, 0);
    assert!(stored_files(&w.t).await.is_empty());

    // Crashed: the upload's future vanishes without running any cleanup, as in a power cut.
    let y = w.t.taina.ybira();
    // The stream notes when it is asked for more than its first chunk: by then that chunk's
    // reservation is committed and the upload holds no database connection.
    let waiting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = waiting.clone();
    let stream = futures::stream::iter(vec![Ok(Bytes::from(content(20_000, 12)))]).chain(
        futures::stream::poll_fn(move |_| {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            std::task::Poll::<Option<std::io::Result<Bytes>>>::Pending
        }),
    );
    let mut crashed = Box::pin(y.upload(&w.ana, upload(Location::MyFiles, "lost.bin"), stream));
    while !waiting.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(futures::poll!(crashed.as_mut()).is_pending());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    std::mem::forget(crashed);
    assert!(used(&w.t, &w.admin).await > 0);
    // A staging file is left behind on local storage; in a bucket, an unfinished multipart upload
    // shows as no object at all (the bucket's lifecycle rule removes its parts).
    assert_eq!(
        stored_files(&w.t).await.len(),
        usize::from(w.t.taina.blobs().is_local()),
        "the staged file is left behind"
    );
    // Within the hour it may still be running; after it, upkeep releases it.
    assert_eq!(y.cleanup().await.unwrap().stale_uploads, 0);
    w.t.advance(Duration::from_secs(3601));
    assert_eq!(y.cleanup().await.unwrap().stale_uploads, 1);
    assert_eq!(used(&w.t, &w.admin).await, 0);
    assert_eq!(uploads_in_flight(&w.t).await, 0);
    assert!(stored_files(&w.t).await.is_empty());
}

async fn spaces_and_shares_decide_who_sees_what(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let private = put(&w.t, &w.ana, Location::MyFiles, "diary.txt", b"dear diary").await;
    // Private: nobody else, not even an admin, sees it; "not found", never "forbidden".
    for other in [&w.bia, &w.admin, &w.gil] {
        assert_eq!(kind(y.item(other, &private.id).await), ErrorKind::NotFound);
        assert_eq!(
            kind(y.download(other, &private.id, None).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(y.rename(other, &private.id, "mine.txt").await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(y.delete(other, &private.id).await),
            ErrorKind::NotFound
        );
        assert!(y.shared_with_me(other).await.unwrap().is_empty());
    }
    // Shared space: members and admins read and add; only the owner or an admin renames or deletes.
    let notice = put(
        &w.t,
        &w.ana,
        Location::Shared,
        "notice.txt",
        b"meeting at 7",
    )
    .await;
    assert_eq!(notice.space, Space::Shared);
    assert_eq!(
        fetch(&w.t, &w.bia, &notice, None).await.unwrap(),
        b"meeting at 7"
    );
    put(&w.t, &w.bia, Location::Shared, "reply.txt", b"ok").await;
    assert_eq!(
        kind(y.rename(&w.bia, &notice.id, "hacked.txt").await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(y.delete(&w.bia, &notice.id).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        y.rename(&w.admin, &notice.id, "Notice.txt")
            .await
            .unwrap()
            .name,
        "Notice.txt"
    );
    assert_eq!(
        y.rename(&w.ana, &notice.id, "notice.txt")
            .await
            .unwrap()
            .name,
        "notice.txt"
    );
    // Guests see nothing of the shared space.
    assert_eq!(
        kind(y.list(&w.gil, &Location::Shared, None, None).await),
        ErrorKind::Forbidden
    );
    assert_eq!(kind(y.item(&w.gil, &notice.id).await), ErrorKind::NotFound);
    assert_eq!(
        kind(
            y.upload(&w.gil, upload(Location::Shared, "x.txt"), body(b"x"))
                .await
        ),
        ErrorKind::Forbidden
    );

    // A shared folder opens itself and everything in it.
    let trip = y
        .create_folder(&w.ana, &Location::MyFiles, "Trip")
        .await
        .unwrap();
    let day1 = y
        .create_folder(&w.ana, &Location::Folder(trip.id.clone()), "Day 1")
        .await
        .unwrap();
    let photo = put(
        &w.t,
        &w.ana,
        Location::Folder(day1.id.clone()),
        "beach.txt",
        b"sand",
    )
    .await;
    assert_eq!(
        kind(
            y.share(&w.bia, &trip.id, &w.gil.user_id, ShareAccess::Read)
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            y.share(&w.ana, &trip.id, &w.ana.user_id, ShareAccess::Read)
                .await
        ),
        ErrorKind::Invalid
    );
    let share = y
        .share(&w.ana, &trip.id, &w.gil.user_id, ShareAccess::Read)
        .await
        .unwrap();
    assert_eq!(share.access, ShareAccess::Read);
    assert_eq!(
        names(&w.t, &w.gil, Location::Folder(day1.id.clone())).await,
        ["beach.txt"]
    );
    assert_eq!(fetch(&w.t, &w.gil, &photo, None).await.unwrap(), b"sand");
    let shared: Vec<_> = y
        .shared_with_me(&w.gil)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(shared, std::slice::from_ref(&trip.id));
    assert_eq!(
        kind(
            y.upload(
                &w.gil,
                upload(Location::Folder(day1.id.clone()), "mine.txt"),
                body(b"x")
            )
            .await
        ),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(y.rename(&w.gil, &photo.id, "x.txt").await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(
            y.share(&w.gil, &trip.id, &w.bia.user_id, ShareAccess::Read)
                .await
        ),
        ErrorKind::Forbidden
    );
    // Read-write: the guest adds, and manages only what they added.
    y.share(&w.ana, &trip.id, &w.gil.user_id, ShareAccess::Write)
        .await
        .unwrap();
    let added = put(
        &w.t,
        &w.gil,
        Location::Folder(day1.id.clone()),
        "sunset.txt",
        b"orange",
    )
    .await;
    assert_eq!(added.space, Space::Private(w.ana.user_id.clone()));
    assert_eq!(
        y.rename(&w.gil, &added.id, "Sunset.txt")
            .await
            .unwrap()
            .name,
        "Sunset.txt"
    );
    assert_eq!(
        kind(y.delete(&w.gil, &photo.id).await),
        ErrorKind::Forbidden
    );
    assert_eq!(y.shares(&w.ana, &trip.id).await.unwrap().len(), 1);
    // Unsharing closes it again.
    y.unshare(&w.ana, &trip.id, &w.gil.user_id).await.unwrap();
    assert_eq!(kind(y.item(&w.gil, &photo.id).await), ErrorKind::NotFound);
    assert_eq!(
        kind(y.unshare(&w.ana, &trip.id, &w.gil.user_id).await),
        ErrorKind::NotFound
    );
    // Uploading into a folder one may not write.
    assert_eq!(
        kind(
            y.upload(
                &w.bia,
                upload(Location::Folder(trip.id.clone()), "x.txt"),
                body(b"x")
            )
            .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            y.upload(
                &w.ana,
                upload(Location::Folder(photo.id.clone()), "x.txt"),
                body(b"x")
            )
            .await
        ),
        ErrorKind::Invalid
    );

    // Another community sees none of it, whatever its role.
    let (outsider, _) = w.t.other_community("Outra Vila", "out@example.org").await;
    for id in [&private.id, &notice.id, &trip.id] {
        assert_eq!(kind(y.item(&outsider, id).await), ErrorKind::NotFound);
        assert_eq!(
            kind(y.download(&outsider, id, None).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(
                y.share(&outsider, id, &w.ana.user_id, ShareAccess::Read)
                    .await
            ),
            ErrorKind::NotFound
        );
    }
    assert_eq!(
        kind(
            y.upload(
                &outsider,
                upload(Location::Folder(trip.id.clone()), "x.txt"),
                body(b"x")
            )
            .await
        ),
        ErrorKind::NotFound
    );
    assert!(y.shared_with_me(&outsider).await.unwrap().is_empty());
    assert_eq!(
        kind(
            y.list(&outsider, &Location::Folder(trip.id.clone()), None, None)
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            y.share(&w.ana, &trip.id, &outsider.user_id, ShareAccess::Read)
                .await
        ),
        ErrorKind::NotFound
    );
}

async fn moves_keep_the_tree_a_tree(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let a = y
        .create_folder(&w.ana, &Location::MyFiles, "A")
        .await
        .unwrap();
    let b = y
        .create_folder(&w.ana, &Location::Folder(a.id.clone()), "B")
        .await
        .unwrap();
    let c = y
        .create_folder(&w.ana, &Location::Folder(b.id.clone()), "C")
        .await
        .unwrap();
    let file = put(
        &w.t,
        &w.ana,
        Location::Folder(c.id.clone()),
        "deep.txt",
        b"deep",
    )
    .await;
    assert_eq!(
        kind(
            y.move_item(&w.ana, &a.id, &Location::Folder(a.id.clone()))
                .await
        ),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(
            y.move_item(&w.ana, &a.id, &Location::Folder(c.id.clone()))
                .await
        ),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(
            y.move_item(&w.ana, &a.id, &Location::Folder(file.id.clone()))
                .await
        ),
        ErrorKind::Invalid
    );
    let moved = y
        .move_item(&w.ana, &c.id, &Location::MyFiles)
        .await
        .unwrap();
    assert_eq!(moved.parent_id, None);
    let crumbs: Vec<_> = y
        .breadcrumbs(&w.ana, &file.id)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(crumbs, ["C", "deep.txt"]);
    y.create_folder(&w.ana, &Location::Folder(a.id.clone()), "c")
        .await
        .unwrap();
    assert_eq!(
        kind(
            y.move_item(&w.ana, &c.id, &Location::Folder(a.id.clone()))
                .await
        ),
        ErrorKind::Conflict
    );
    // To the shared space: everything inside follows.
    y.move_item(&w.ana, &c.id, &Location::Shared).await.unwrap();
    assert_eq!(fetch(&w.t, &w.bia, &file, None).await.unwrap(), b"deep");
    assert_eq!(y.item(&w.bia, &file.id).await.unwrap().space, Space::Shared);
    // Not into someone else's space, nor another community.
    let bias = y
        .create_folder(&w.bia, &Location::MyFiles, "Bia's")
        .await
        .unwrap();
    assert_eq!(
        kind(
            y.move_item(&w.ana, &b.id, &Location::Folder(bias.id.clone()))
                .await
        ),
        ErrorKind::NotFound
    );
    let (outsider, _) = w.t.other_community("Outra Vila", "out@example.org").await;
    let theirs = y
        .create_folder(&outsider, &Location::MyFiles, "Theirs")
        .await
        .unwrap();
    assert_eq!(
        kind(
            y.move_item(&w.ana, &b.id, &Location::Folder(theirs.id.clone()))
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            y.move_item(&outsider, &theirs.id, &Location::Folder(a.id.clone()))
                .await
        ),
        ErrorKind::NotFound
    );
}

async fn the_trash_restores_and_purges(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let album = y
        .create_folder(&w.ana, &Location::MyFiles, "Album")
        .await
        .unwrap();
    let sub = y
        .create_folder(&w.ana, &Location::Folder(album.id.clone()), "Sub")
        .await
        .unwrap();
    let one = put(
        &w.t,
        &w.ana,
        Location::Folder(sub.id.clone()),
        "one.txt",
        &content(1000, 20),
    )
    .await;
    let two = put(
        &w.t,
        &w.ana,
        Location::Folder(album.id.clone()),
        "two.txt",
        &content(2000, 21),
    )
    .await;
    y.delete(&w.ana, &album.id).await.unwrap();
    assert!(names(&w.t, &w.ana, Location::MyFiles).await.is_empty());
    assert_eq!(kind(y.item(&w.ana, &one.id).await), ErrorKind::NotFound);
    let trash: Vec<_> = y
        .trash(&w.ana)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(trash, std::slice::from_ref(&album.id));
    assert!(y.trash(&w.bia).await.unwrap().is_empty());
    assert_eq!(
        kind(y.restore(&w.bia, &album.id).await),
        ErrorKind::NotFound
    );
    assert_eq!(kind(y.restore(&w.ana, &one.id).await), ErrorKind::Invalid);
    // Its name was taken meanwhile: it comes back numbered, with everything in it.
    y.create_folder(&w.ana, &Location::MyFiles, "album")
        .await
        .unwrap();
    let back = y.restore(&w.ana, &album.id).await.unwrap();
    assert_eq!(back.name, "Album (2)");
    assert_eq!(
        fetch(&w.t, &w.ana, &one, None).await.unwrap(),
        content(1000, 20)
    );
    assert!(y.trash(&w.ana).await.unwrap().is_empty());

    // A file deleted on its own goes when its deleted folder is purged.
    y.delete(&w.ana, &two.id).await.unwrap();
    y.delete(&w.ana, &back.id).await.unwrap();
    y.purge(&w.ana, &back.id).await.unwrap();
    assert_eq!(kind(y.item(&w.ana, &one.id).await), ErrorKind::NotFound);
    w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(
        used(&w.t, &w.admin).await,
        0,
        "two.txt went with its folder"
    );

    // Retention: the upkeep job purges what has been in the trash for 30 days.
    let keep = put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "keep.txt",
        &content(300, 22),
    )
    .await;
    let old = put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "old.txt",
        &content(400, 23),
    )
    .await;
    y.delete(&w.ana, &old.id).await.unwrap();
    w.t.advance(Duration::from_secs(29 * 24 * 3600));
    w.t.taina.sweep().await.unwrap();
    w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(y.trash(&w.ana).await.unwrap().len(), 1);
    assert_eq!(used(&w.t, &w.admin).await, 700);
    w.t.advance(Duration::from_secs(2 * 24 * 3600));
    let y2 = w.t.taina.ybira();
    w.t.taina.sweep().await.unwrap();
    w.t.taina.jobs().run_due().await.unwrap();
    assert!(y2.trash(&w.ana).await.unwrap().is_empty());
    assert_eq!(used(&w.t, &w.admin).await, 300);
    assert_eq!(stored_files(&w.t).await.len(), 1);
    assert_eq!(
        fetch(&w.t, &w.ana, &keep, None).await.unwrap(),
        content(300, 22)
    );
    // Emptying the trash purges all of it.
    y.delete(&w.ana, &keep.id).await.unwrap();
    assert_eq!(y.empty_trash(&w.ana).await.unwrap(), 1);
    assert_eq!(used(&w.t, &w.admin).await, 0);
}

async fn changes_are_announced(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let mut events = w.t.taina.subscribe(&w.ana).await.unwrap();
    let folder = y
        .create_folder(&w.ana, &Location::Shared, "News")
        .await
        .unwrap();
    let file = put(
        &w.t,
        &w.ana,
        Location::Folder(folder.id.clone()),
        "a.txt",
        b"a",
    )
    .await;
    y.rename(&w.ana, &file.id, "b.txt").await.unwrap();
    y.delete(&w.ana, &file.id).await.unwrap();
    y.restore(&w.ana, &file.id).await.unwrap();
    y.rename(&w.ana, &folder.id, "Noticias").await.unwrap();
    y.delete(&w.ana, &folder.id).await.unwrap();
    let mut seen = Vec::new();
    for e in queued_events(&mut events) {
        assert_eq!(e.community_id, w.ana.community_id);
        seen.push(e.event.name());
        if let DomainEvent::FileUploaded(item) = &e.event {
            assert_eq!(item.parent_id.as_ref(), Some(&folder.id));
            assert_eq!(item.space_owner_id, None);
        }
    }
    assert_eq!(
        seen,
        [
            "folder.created",
            "file.uploaded",
            "file.updated",
            "file.deleted",
            "file.restored",
            "folder.updated",
            "folder.deleted"
        ]
    );
}

async fn jobs_survive_restarts_retry_and_record_failures(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let file = put(&w.t, &w.ana, Location::MyFiles, "x.bin", &content(100, 30)).await;
    y.delete(&w.ana, &file.id).await.unwrap();
    y.purge(&w.ana, &file.id).await.unwrap();
    // The bytes' removal was enqueued with the purge; it fails, and is retried later.
    w.t.taina.faults().inject("job.delete_blob");
    let report = w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(report.retrying, 1);
    assert_eq!(stored_files(&w.t).await.len(), 1);
    assert_eq!(
        w.t.taina.jobs().run_due().await.unwrap().retrying,
        0,
        "not due before the backoff"
    );
    // A restart loses nothing.
    let World { t, admin, ana, .. } = w;
    let t = t.reconfigure(|_| {}).await;
    let waiting_deletes = || async {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'delete_blob' AND finished_at IS NULL",
        )
        .fetch_one(t.taina.db().reader())
        .await
        .unwrap();
        n
    };
    assert_eq!(waiting_deletes().await, 1);
    assert!(t.taina.jobs().pending().await.unwrap() >= 1);
    t.advance(Duration::from_secs(11));
    let report = t.taina.jobs().run_due().await.unwrap();
    assert!(report.succeeded >= 1);
    assert_eq!(waiting_deletes().await, 0);
    assert!(stored_files(&t).await.is_empty());
    assert_eq!(used(&t, &admin).await, 0);

    // A job that keeps failing is given up and kept, with its error, until retried.
    t.taina.faults().inject("job.integrity_check");
    t.taina
        .jobs()
        .enqueue(taina::jobs::NewJob {
            max_attempts: 2,
            ..taina::jobs::NewJob::now(
                taina::jobs::Job::IntegrityCheck {
                    deep: true,
                    repair: false,
                },
                t.taina.now(),
            )
        })
        .await
        .unwrap();
    assert_eq!(t.taina.jobs().run_due().await.unwrap().retrying, 1);
    t.advance(Duration::from_secs(11));
    assert_eq!(t.taina.jobs().run_due().await.unwrap().given_up, 1);
    let failed = t.taina.jobs().failed().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].last_error.contains("job.integrity_check"),
        "{}",
        failed[0].last_error
    );
    t.taina.faults().clear();
    t.taina.jobs().retry(&failed[0].id).await.unwrap();
    assert_eq!(t.taina.jobs().run_due().await.unwrap().succeeded, 1);
    assert!(t.taina.jobs().failed().await.unwrap().is_empty());

    // Background workers pick jobs up by themselves.
    let t = t.reconfigure(|c| c.job_workers = 2).await;
    let file = put(&t, &ana, Location::MyFiles, "y.bin", &content(100, 31)).await;
    t.taina.ybira().delete(&ana, &file.id).await.unwrap();
    t.taina.ybira().purge(&ana, &file.id).await.unwrap();
    for _ in 0..500 {
        if stored_files(&t).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stored_files(&t).await.is_empty());
}

async fn the_integrity_check_finds_and_repairs_problems(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let lost = put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "lost.bin",
        &content(1000, 40),
    )
    .await;
    let cut = put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "cut.bin",
        &content(1000, 41),
    )
    .await;
    let rotten = put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "rotten.bin",
        &content(1000, 42),
    )
    .await;
    put(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "fine.bin",
        &content(1000, 43),
    )
    .await;
    let clean = y
        .check_integrity(IntegrityOptions {
            deep: true,
            repair: false,
        })
        .await
        .unwrap();
    assert!(clean.is_clean(), "{clean:?}");
    assert_eq!(clean.blobs_checked, 4);

    let stored = stored_files(&w.t).await;
    let path_of = |item: &Item| {
        stored
            .iter()
            .find(|p| p.contains(item.id.as_str()))
            .unwrap()
            .clone()
    };
    let blobs = w.t.taina.blobs();
    blobs.delete(&path_of(&lost)).await.unwrap();
    blobs.put(&path_of(&cut), content(10, 41)).await.unwrap();
    let mut bytes = content(1000, 42);
    bytes[500] ^= 0xFF;
    blobs.put(&path_of(&rotten), bytes).await.unwrap();
    let stray = format!("communities/{}/files/2020/01/stray.bin", w.ana.community_id);
    blobs.put(&stray, b"nobody's".to_vec()).await.unwrap();
    let mut tx = w.t.taina.db().begin().await.unwrap();
    sqlx::query("UPDATE communities SET storage_used_bytes = 5 WHERE id = $1")
        .bind(w.ana.community_id.as_str())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // A file whose bytes vanished reports its content missing (not an internal error).
    assert_eq!(
        kind(y.download(&w.ana, &lost.id, None).await),
        ErrorKind::NotFound
    );
    // The stray file is new: within the hour it may be an upload in flight.
    let report = y
        .check_integrity(IntegrityOptions {
            deep: false,
            repair: false,
        })
        .await
        .unwrap();
    assert!(report.orphans.is_empty());
    assert_eq!(report.missing.len(), 1);
    assert_eq!(report.size_mismatches.len(), 1);
    assert!(
        report.hash_mismatches.is_empty(),
        "shallow mode reads no content"
    );
    assert_eq!(report.quota_drift.len(), 1);
    assert_eq!(
        (
            report.quota_drift[0].recorded_bytes,
            report.quota_drift[0].actual_bytes
        ),
        (5, 4000)
    );

    // Two hours on (and the file's real age), it is an orphan; deep mode finds the rot.
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ahead = (real_now - w.t.taina.now().as_millis()).max(0) as u64 + 2 * 3600 * 1000;
    w.t.advance(Duration::from_millis(ahead));
    let report = y
        .check_integrity(IntegrityOptions {
            deep: true,
            repair: true,
        })
        .await
        .unwrap();
    assert_eq!(report.orphans.len(), 1, "{report:?}");
    assert!(report.orphans[0].ends_with("files/2020/01/stray.bin"));
    assert_eq!(report.hash_mismatches.len(), 1);
    assert!(report.hash_mismatches[0].1.contains(rotten.id.as_str()));
    // Repaired: orphan quarantined, missing content marked, quota corrected.
    assert!(!blobs.exists(&stray).await.unwrap());
    assert!(blobs.exists(&format!("quarantine/{stray}")).await.unwrap());
    assert_eq!(used(&w.t, &w.admin).await, 4000);
    assert_eq!(
        kind(y.download(&w.ana, &lost.id, None).await),
        ErrorKind::NotFound
    );
    let after = y
        .check_integrity(IntegrityOptions {
            deep: false,
            repair: false,
        })
        .await
        .unwrap();
    assert!(
        after.missing.is_empty() && after.orphans.is_empty() && after.quota_drift.is_empty(),
        "{after:?}"
    );
    assert_eq!(
        after.size_mismatches.len(),
        1,
        "a wrong size needs a person"
    );
    let _ = cut;
    // Uploading the lost content again brings the missing file back.
    let again = put(
        &w.t,
        &w.bia,
        Location::MyFiles,
        "found.bin",
        &content(1000, 40),
    )
    .await;
    assert_eq!(
        fetch(&w.t, &w.ana, &lost, None).await.unwrap(),
        content(1000, 40)
    );
    assert_eq!(
        fetch(&w.t, &w.bia, &again, None).await.unwrap(),
        content(1000, 40)
    );
    let healed = y
        .check_integrity(IntegrityOptions::default())
        .await
        .unwrap();
    assert!(
        healed.missing.is_empty() && healed.reappeared.is_empty(),
        "{healed:?}"
    );
    assert_eq!(used(&w.t, &w.admin).await, 4000);

    // Bytes restored by hand (from a backup, say) are noticed, and repair makes the file whole.
    blobs.delete(&path_of(&lost)).await.unwrap();
    let marked = y
        .check_integrity(IntegrityOptions {
            deep: false,
            repair: true,
        })
        .await
        .unwrap();
    assert_eq!(marked.missing.len(), 1);
    assert_eq!(
        kind(y.download(&w.ana, &lost.id, None).await),
        ErrorKind::NotFound
    );
    blobs
        .put(&marked.missing[0].1, content(1000, 40))
        .await
        .unwrap();
    let back = y
        .check_integrity(IntegrityOptions {
            deep: false,
            repair: true,
        })
        .await
        .unwrap();
    assert_eq!(back.reappeared.len(), 1, "{back:?}");
    assert_eq!(
        fetch(&w.t, &w.ana, &lost, None).await.unwrap(),
        content(1000, 40)
    );
    let clean = y
        .check_integrity(IntegrityOptions::default())
        .await
        .unwrap();
    assert!(
        clean.reappeared.is_empty() && clean.missing.is_empty(),
        "{clean:?}"
    );
}

async fn a_departing_member_takes_their_private_files(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    put(
        &w.t,
        &w.bia,
        Location::MyFiles,
        "mine.bin",
        &content(1000, 50),
    )
    .await;
    let folder = y
        .create_folder(&w.bia, &Location::MyFiles, "Old")
        .await
        .unwrap();
    let shared_copy = put(
        &w.t,
        &w.bia,
        Location::Folder(folder.id.clone()),
        "both.bin",
        &content(500, 51),
    )
    .await;
    let contribution = put(
        &w.t,
        &w.bia,
        Location::Shared,
        "for-all.bin",
        &content(500, 51),
    )
    .await;
    y.replace(&w.bia, &shared_copy.id, None, body(&content(200, 52)))
        .await
        .unwrap();
    assert_eq!(used(&w.t, &w.admin).await, 1700);
    w.t.taina
        .accounts()
        .remove_member(&w.admin, &w.bia.user_id)
        .await
        .unwrap();
    w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(used(&w.t, &w.admin).await, 500);
    assert_eq!(stored_files(&w.t).await.len(), 1);
    let kept = y.item(&w.ana, &contribution.id).await.unwrap();
    assert_eq!(kept.owner_id, None);
    assert_eq!(
        fetch(&w.t, &w.ana, &kept, None).await.unwrap(),
        content(500, 51)
    );
}

async fn identical_uploads_at_once_store_one_blob(t: TestInstance) {
    let w = t.world().await;
    let bytes = content(50_000, 60);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let (taina, actor, bytes) = (
            w.t.taina.clone(),
            if n % 2 == 0 {
                w.ana.clone()
            } else {
                w.bia.clone()
            },
            bytes.clone(),
        );
        tasks.push(tokio::spawn(async move {
            taina
                .ybira()
                .upload(&actor, upload(Location::Shared, "same.bin"), body(&bytes))
                .await
        }));
    }
    let mut names = Vec::new();
    for task in tasks {
        names.push(task.await.unwrap().unwrap().name);
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8, "every upload got its own name: {names:?}");
    assert_eq!(stored_files(&w.t).await.len(), 1);
    assert_eq!(used(&w.t, &w.admin).await, 50_000);
    assert_eq!(uploads_in_flight(&w.t).await, 0);
    let report =
        w.t.taina
            .ybira()
            .check_integrity(IntegrityOptions {
                deep: true,
                repair: false,
            })
            .await
            .unwrap();
    assert!(report.is_clean(), "{report:?}");
}

async fn an_upload_idle_past_the_hour_is_cancelled_cleanly(t: TestInstance) {
    let w = t.world().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    let stream = tokio_stream_from(rx);
    let taina = w.t.taina.clone();
    let ana = w.ana.clone();
    let task = tokio::spawn(async move {
        taina
            .ybira()
            .upload(&ana, upload(Location::MyFiles, "slow.bin"), stream)
            .await
    });
    tx.send(Ok(Bytes::from(content(10_000, 61)))).await.unwrap();
    while used(&w.t, &w.admin).await == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // An hour of silence: upkeep takes it for crashed and gives its reservation back.
    w.t.advance(Duration::from_secs(3601));
    assert_eq!(w.t.taina.ybira().cleanup().await.unwrap().stale_uploads, 1);
    assert_eq!(used(&w.t, &w.admin).await, 0);
    // Then it wakes up: it is refused, and nothing is charged or left behind.
    tx.send(Ok(Bytes::from(content(9_000_000, 62))))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(kind(task.await.unwrap()), ErrorKind::Conflict);
    for _ in 0..200 {
        if stored_files(&w.t).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(used(&w.t, &w.admin).await, 0);
    assert_eq!(uploads_in_flight(&w.t).await, 0);
    assert!(stored_files(&w.t).await.is_empty());
    let report =
        w.t.taina
            .ybira()
            .check_integrity(IntegrityOptions::default())
            .await
            .unwrap();
    assert!(report.quota_drift.is_empty(), "{report:?}");
}

/// A stream of what arrives on a channel.
fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

async fn crossing_moves_never_make_a_cycle(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    for round in 0..10 {
        let a = y
            .create_folder(&w.ana, &Location::MyFiles, &format!("a{round}"))
            .await
            .unwrap();
        let b = y
            .create_folder(&w.ana, &Location::MyFiles, &format!("b{round}"))
            .await
            .unwrap();
        let (t1, t2) = (w.t.taina.clone(), w.t.taina.clone());
        let (ana1, ana2) = (w.ana.clone(), w.ana.clone());
        let (a1, b1, a2, b2) = (a.id.clone(), b.id.clone(), a.id.clone(), b.id.clone());
        let one = tokio::spawn(async move {
            t1.ybira()
                .move_item(&ana1, &a1, &Location::Folder(b1))
                .await
        });
        let two = tokio::spawn(async move {
            t2.ybira()
                .move_item(&ana2, &b2, &Location::Folder(a2))
                .await
        });
        let (one, two) = (one.await.unwrap(), two.await.unwrap());
        assert!(
            one.is_ok() != two.is_ok(),
            "round {round}: exactly one move wins"
        );
        // Both still hang from My files, one inside the other.
        for id in [&a.id, &b.id] {
            let trail = y.breadcrumbs(&w.ana, id).await.unwrap();
            assert!(
                trail.len() <= 2 && trail[0].parent_id.is_none(),
                "round {round}: {trail:?}"
            );
        }
    }
}

backend_tests!(
    storage:
    folders_list_in_order_with_cursors_and_breadcrumbs,
    uploads_stream_to_the_layout_and_download_with_ranges,
    collisions_get_numbers_and_replacing_keeps_versions,
    limits_and_failed_streams_leave_nothing,
    identical_content_is_stored_once_and_freed_with_its_last_reference,
    concurrent_uploads_never_pass_the_quota,
    failures_at_each_step_leave_storage_and_quota_as_before,
    cancelled_and_crashed_uploads_give_their_reservation_back,
    spaces_and_shares_decide_who_sees_what,
    moves_keep_the_tree_a_tree,
    the_trash_restores_and_purges,
    changes_are_announced,
    jobs_survive_restarts_retry_and_record_failures,
    the_integrity_check_finds_and_repairs_problems,
    a_departing_member_takes_their_private_files,
    identical_uploads_at_once_store_one_blob,
    an_upload_idle_past_the_hour_is_cancelled_cleanly,
    crossing_moves_never_make_a_cycle,
    others_items_block_taking_or_destroying_a_folder,
    replacing_content_keeps_the_owner,
    a_move_and_rename_applies_whole_or_not_at_all,
    a_writer_restores_into_a_trashed_folder_only_after_it,
    a_move_to_another_space_is_a_deletion_to_the_old_audience,
);

/// Issue 16 #6: a folder's owner (or a write-share holder) cannot take or destroy what others put
/// in it: moving it to another space, trashing or purging it needs the right over every item.
async fn others_items_block_taking_or_destroying_a_folder(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let trip = y
        .create_folder(&w.ana, &Location::Shared, "Trip")
        .await
        .unwrap();
    put(
        &w.t,
        &w.ana,
        Location::Folder(trip.id.clone()),
        "a.bin",
        b"a",
    )
    .await;
    let hers = put(
        &w.t,
        &w.bia,
        Location::Folder(trip.id.clone()),
        "b.bin",
        b"b",
    )
    .await;
    // Ana may not carry Bia's file into her private space, nor delete it with the folder.
    fn forbidden<T: std::fmt::Debug>(r: taina::Result<T>) {
        let e = r.expect_err("expected a refusal");
        assert_eq!(e.kind(), ErrorKind::Forbidden, "{e}");
        assert!(e.to_string().contains("other people"), "{e}");
    }
    forbidden(y.move_item(&w.ana, &trip.id, &Location::MyFiles).await);
    forbidden(y.delete(&w.ana, &trip.id).await);
    // An admin may delete anything shared, but not take it into their own space either.
    forbidden(y.move_item(&w.admin, &trip.id, &Location::MyFiles).await);
    let still = y.item(&w.bia, &hers.id).await.unwrap();
    assert_eq!(still.space, Space::Shared);
    assert_eq!(still.parent_id.as_ref(), Some(&trip.id));
    // Moving inside the shared space takes nothing from anyone.
    let inner = y
        .create_folder(&w.ana, &Location::Shared, "Trips")
        .await
        .unwrap();
    y.move_item(&w.ana, &trip.id, &Location::Folder(inner.id.clone()))
        .await
        .unwrap();
    assert_eq!(y.item(&w.bia, &hers.id).await.unwrap().space, Space::Shared);
    // The admin trashes it; Ana finds her folder in her trash but may not purge Bia's file.
    y.delete(&w.admin, &trip.id).await.unwrap();
    assert!(
        y.trash(&w.ana)
            .await
            .unwrap()
            .iter()
            .any(|i| i.id == trip.id)
    );
    forbidden(y.purge(&w.ana, &trip.id).await);
    assert_eq!(y.empty_trash(&w.ana).await.unwrap(), 0);
    y.restore(&w.admin, &trip.id).await.unwrap();
    assert_eq!(fetch(&w.t, &w.bia, &hers, None).await.unwrap(), b"b");
    // Bia's own trash inside it counts too: it would go with the folder.
    y.delete(&w.bia, &hers.id).await.unwrap();
    forbidden(y.move_item(&w.ana, &trip.id, &Location::MyFiles).await);
    y.purge(&w.bia, &hers.id).await.unwrap();
    // With only her own things in it, it is Ana's to move and delete.
    let moved = y
        .move_item(&w.ana, &trip.id, &Location::MyFiles)
        .await
        .unwrap();
    assert_eq!(moved.space, Space::Private(w.ana.user_id.clone()));
    y.delete(&w.ana, &trip.id).await.unwrap();
    y.purge(&w.ana, &trip.id).await.unwrap();

    // A write-share holder's folder in Ana's space, holding Ana's files, stays there.
    let boxed = y
        .create_folder(&w.ana, &Location::MyFiles, "Box")
        .await
        .unwrap();
    y.share(&w.ana, &boxed.id, &w.gil.user_id, ShareAccess::Write)
        .await
        .unwrap();
    let gils = y
        .create_folder(&w.gil, &Location::Folder(boxed.id.clone()), "Gil's")
        .await
        .unwrap();
    let anas = put(
        &w.t,
        &w.ana,
        Location::Folder(gils.id.clone()),
        "ana.bin",
        b"x",
    )
    .await;
    forbidden(y.move_item(&w.gil, &gils.id, &Location::MyFiles).await);
    forbidden(y.delete(&w.gil, &gils.id).await);
    assert_eq!(
        y.item(&w.ana, &anas.id).await.unwrap().space,
        Space::Private(w.ana.user_id.clone())
    );
    // Ana, whose space it is, may.
    y.delete(&w.ana, &gils.id).await.unwrap();
    y.purge(&w.ana, &gils.id).await.unwrap();
}

/// Issue 16 #20: replacing a file's content (or restoring a version) never makes the replacer
/// its owner, not even of a file whose owner left.
async fn replacing_content_keeps_the_owner(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let docs = y
        .create_folder(&w.bia, &Location::Shared, "Docs")
        .await
        .unwrap();
    let file = put(
        &w.t,
        &w.bia,
        Location::Folder(docs.id.clone()),
        "plan.txt",
        b"v1",
    )
    .await;
    y.share(&w.bia, &docs.id, &w.gil.user_id, ShareAccess::Write)
        .await
        .unwrap();
    w.t.taina
        .accounts()
        .remove_member(&w.admin, &w.bia.user_id)
        .await
        .unwrap();
    assert_eq!(y.item(&w.ana, &file.id).await.unwrap().owner_id, None);
    let replaced = y
        .replace(&w.gil, &file.id, None, body(b"v2 by gil"))
        .await
        .unwrap();
    assert_eq!(
        replaced.owner_id, None,
        "the writer did not become its owner"
    );
    let version = y.versions(&w.gil, &file.id).await.unwrap()[0].id.clone();
    let restored = y.restore_version(&w.gil, &file.id, &version).await.unwrap();
    assert_eq!(restored.owner_id, None);
    // So the writer still may not rename, move or delete it.
    assert_eq!(kind(y.delete(&w.gil, &file.id).await), ErrorKind::Forbidden);
    assert_eq!(
        kind(y.move_item(&w.gil, &file.id, &Location::MyFiles).await),
        ErrorKind::Forbidden
    );
    // The owner of a file keeps it when someone else replaces its content.
    let notes = put(&w.t, &w.ana, Location::Shared, "notes.txt", b"ana").await;
    let by_admin = y
        .replace(&w.admin, &notes.id, None, body(b"admin"))
        .await
        .unwrap();
    assert_eq!(by_admin.owner_id.as_ref(), Some(&w.ana.user_id));
}

/// Issue 23 §1: a rename and a move asked together apply in one step: when the new name is taken in
/// the new folder nothing changes (the item is not left moved under its old name), and when both
/// succeed one `*.updated` is announced, naming where it now is.
async fn a_move_and_rename_applies_whole_or_not_at_all(t: TestInstance) {
    use taina::ybira::ItemChange;
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let from = y
        .create_folder(&w.ana, &Location::MyFiles, "From")
        .await
        .unwrap();
    let to = y
        .create_folder(&w.ana, &Location::MyFiles, "To")
        .await
        .unwrap();
    let file = put(
        &w.t,
        &w.ana,
        Location::Folder(from.id.clone()),
        "a.txt",
        b"a",
    )
    .await;
    put(
        &w.t,
        &w.ana,
        Location::Folder(to.id.clone()),
        "taken.txt",
        b"t",
    )
    .await;
    let mut events = w.t.taina.subscribe(&w.ana).await.unwrap();
    let refused = y
        .update_item(
            &w.ana,
            &file.id,
            &ItemChange {
                name: Some("TAKEN.txt".into()),
                parent: Some(Location::Folder(to.id.clone())),
            },
        )
        .await;
    assert_eq!(kind(refused), ErrorKind::Conflict);
    let still = y.item(&w.ana, &file.id).await.unwrap();
    assert_eq!(still.parent_id.as_ref(), Some(&from.id), "it did not move");
    assert_eq!(still.name, "a.txt", "it was not renamed");
    assert_eq!(still.revision, file.revision);
    // A bad name refuses the move too.
    let bad = ItemChange {
        name: Some("../x".into()),
        parent: Some(Location::Folder(to.id.clone())),
    };
    assert_eq!(
        kind(y.update_item(&w.ana, &file.id, &bad).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        y.item(&w.ana, &file.id).await.unwrap().parent_id.as_ref(),
        Some(&from.id)
    );
    assert!(
        queued_events(&mut events).is_empty(),
        "a refused change is not announced"
    );

    // Both at once: moved and renamed, one revision, one event.
    let done = y
        .update_item(
            &w.ana,
            &file.id,
            &ItemChange {
                name: Some("b.txt".into()),
                parent: Some(Location::Folder(to.id.clone())),
            },
        )
        .await
        .unwrap();
    assert_eq!(done.parent_id.as_ref(), Some(&to.id));
    assert_eq!(done.name, "b.txt");
    assert_eq!(done.revision, file.revision + 1);
    let listed: Vec<String> = y
        .list(&w.ana, &Location::Folder(to.id.clone()), None, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(listed, ["b.txt", "taken.txt"]);
    let queued = queued_events(&mut events);
    assert_eq!(queued.len(), 1, "announced once");
    let e = &queued[0];
    assert_eq!(e.event.name(), "file.updated");
    match &e.event {
        DomainEvent::FileUpdated(item) => {
            assert_eq!(item.name, "b.txt");
            assert_eq!(item.parent_id.as_ref(), Some(&to.id));
        }
        other => panic!("{other:?}"),
    }

    // A folder: folder.updated, once.
    y.update_item(
        &w.ana,
        &from.id,
        &ItemChange {
            name: Some("Moved".into()),
            parent: Some(Location::Folder(to.id.clone())),
        },
    )
    .await
    .unwrap();
    let names: Vec<_> = queued_events(&mut events)
        .iter()
        .map(|e| e.event.name())
        .collect();
    assert_eq!(names, ["folder.updated"], "announced once");
}

/// Everything a feed yields within 300 ms of quiet.
async fn drain(feed: &mut taina::feed::Feed) -> Vec<DomainEvent> {
    let mut seen = Vec::new();
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_millis(300), feed.next()).await {
        assert!(item != taina::feed::FeedItem::Resync, "the feed lagged");
        seen.extend(item.community().map(|e| e.event.clone()));
    }
    seen
}

/// Security read: a write-share holder whose trashed file's folder went to the trash after it
/// may not restore it to the root of a space they may not add to (the owner's private space, or
/// for a guest the shared space): 409, restore the folder first. Once the folder is back, the
/// file goes back into it.
async fn a_writer_restores_into_a_trashed_folder_only_after_it(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    // Ana's private "Box", shared for writing with Bia.
    let boxed = y
        .create_folder(&w.ana, &Location::MyFiles, "Box")
        .await
        .unwrap();
    y.share(&w.ana, &boxed.id, &w.bia.user_id, ShareAccess::Write)
        .await
        .unwrap();
    let bias = put(
        &w.t,
        &w.bia,
        Location::Folder(boxed.id.clone()),
        "bia.txt",
        b"b",
    )
    .await;
    y.delete(&w.bia, &bias.id).await.unwrap();
    y.delete(&w.ana, &boxed.id).await.unwrap();
    let e = y.restore(&w.bia, &bias.id).await.expect_err("restored");
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("restore the folder first"), "{e}");
    // Nothing landed at the root of Ana's space; the file is still in the trash.
    let root = y
        .list(&w.ana, &Location::MyFiles, None, Some(100))
        .await
        .unwrap();
    assert!(root.items.iter().all(|i| i.id != bias.id));
    assert!(
        y.trash(&w.bia)
            .await
            .unwrap()
            .iter()
            .any(|i| i.id == bias.id)
    );
    // Once Ana restores the folder, Bia's file goes back into it.
    y.restore(&w.ana, &boxed.id).await.unwrap();
    let back = y.restore(&w.bia, &bias.id).await.unwrap();
    assert_eq!(back.parent_id.as_ref(), Some(&boxed.id));
    assert_eq!(back.space, Space::Private(w.ana.user_id.clone()));

    // A guest writing in a shared folder may not drop a file at the root of the shared space.
    let docs = y
        .create_folder(&w.bia, &Location::Shared, "Docs")
        .await
        .unwrap();
    y.share(&w.bia, &docs.id, &w.gil.user_id, ShareAccess::Write)
        .await
        .unwrap();
    let gils = put(
        &w.t,
        &w.gil,
        Location::Folder(docs.id.clone()),
        "gil.txt",
        b"g",
    )
    .await;
    y.delete(&w.gil, &gils.id).await.unwrap();
    y.delete(&w.bia, &docs.id).await.unwrap();
    assert_eq!(kind(y.restore(&w.gil, &gils.id).await), ErrorKind::Conflict);
    // The owner of the space (here: a member of the shared space) still falls back to its root.
    let anas = put(
        &w.t,
        &w.ana,
        Location::Folder(boxed.id.clone()),
        "ana.txt",
        b"a",
    )
    .await;
    y.delete(&w.ana, &anas.id).await.unwrap();
    y.delete(&w.ana, &boxed.id).await.unwrap();
    let at_root = y.restore(&w.ana, &anas.id).await.unwrap();
    assert_eq!(at_root.parent_id, None);
}

/// Security read: moving an item to another space tells those who followed it in the old one
/// that it is gone (with the old space), so their clients drop it; they hear nothing of where it
/// went if they may not read it there.
async fn a_move_to_another_space_is_a_deletion_to_the_old_audience(t: TestInstance) {
    let w = t.world().await;
    let y = w.t.taina.ybira();
    let mut bia = w.t.taina.subscribe(&w.bia).await.unwrap();
    let mut ana = w.t.taina.subscribe(&w.ana).await.unwrap();
    let file = put(&w.t, &w.ana, Location::Shared, "plan.txt", b"p").await;
    y.move_item(&w.ana, &file.id, &Location::MyFiles)
        .await
        .unwrap();
    let heard = drain(&mut bia).await;
    let names: Vec<_> = heard.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["file.uploaded", "file.deleted"]);
    let gone = heard[1].item().unwrap();
    assert_eq!(gone.item_id, file.id);
    assert_eq!(gone.space_owner_id, None, "told with the old space");
    // Ana, in both audiences, hears it leave the shared space and then arrive in hers.
    let heard = drain(&mut ana).await;
    let names: Vec<_> = heard.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["file.uploaded", "file.deleted", "file.updated"]);
    assert_eq!(
        heard[2].item().unwrap().space_owner_id.as_ref(),
        Some(&w.ana.user_id)
    );
    // A folder moved from Ana's space into the shared space: gone from hers, new to Bia.
    let folder = y
        .create_folder(&w.ana, &Location::MyFiles, "Trip")
        .await
        .unwrap();
    y.move_item(&w.ana, &folder.id, &Location::Shared)
        .await
        .unwrap();
    let names: Vec<_> = drain(&mut bia).await.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["folder.updated"]);
    let heard = drain(&mut ana).await;
    let names: Vec<_> = heard.iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        ["folder.created", "folder.deleted", "folder.updated"]
    );
    assert_eq!(
        heard[1].item().unwrap().space_owner_id.as_ref(),
        Some(&w.ana.user_id)
    );
    // A move inside one space is only an update.
    let inner = y
        .create_folder(&w.ana, &Location::Shared, "Inner")
        .await
        .unwrap();
    y.move_item(&w.ana, &folder.id, &Location::Folder(inner.id.clone()))
        .await
        .unwrap();
    let names: Vec<_> = drain(&mut bia).await.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["folder.created", "folder.updated"]);
}
