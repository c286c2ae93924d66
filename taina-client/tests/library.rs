//! The SDK's files, photos and sessions against a live server, on both databases: rename, move,
//! trash, restore and purge; shares; versions; downloads that resume and are checked, and ranges;
//! an upload that resumes after the app is closed; the timeline, a photo and its neighbours,
//! thumbnails and albums; sessions on two devices.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod support;

use std::sync::Arc;

use support::{Recorded, fixture, nine_mib, signed_in};
use taina::backend_tests;
use taina::testing::TestInstance;
use taina_client::{Client, ClientError, ClientOptions, ErrorCode, PhotoScope};
use taina_jaci::album::Visibility;
use taina_jaci::metadata::TakenAtSource;
use taina_jaci::thumbnail::Size;
use taina_server::testing::TestServer;
use taina_ybira::access::ShareAccess;

fn code(result: Result<impl std::fmt::Debug, ClientError>) -> (u16, ErrorCode) {
    match result {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected the server to refuse: {other:?}"),
    }
}

async fn files_move_through_folders_and_the_trash(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let ana = signed_in(&server.base, "admin@example.org").await;
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("nota.txt");
    std::fs::write(&note, "primeira").unwrap();

    let papers = ana
        .create_folder("root".into(), "Papéis".into())
        .await
        .unwrap();
    let old = ana
        .create_folder("root".into(), "Velho".into())
        .await
        .unwrap();
    let file = ana
        .upload_file(note.display().to_string(), "root".into(), None, false)
        .await
        .unwrap();

    // Rename and move; a taken name is refused and changes nothing.
    let renamed = ana
        .rename_item(old.id.to_string(), "Antigo".into())
        .await
        .unwrap();
    assert_eq!(renamed.name, "Antigo");
    assert_eq!(
        code(
            ana.rename_item(renamed.id.to_string(), "Papéis".into())
                .await
        ),
        (409, ErrorCode::Conflict)
    );
    let moved = ana
        .move_item(file.id.to_string(), papers.id.to_string())
        .await
        .unwrap();
    assert_eq!(moved.parent_id, Some(papers.id.clone()));
    let inside = ana.list_folder(papers.id.to_string()).await.unwrap();
    assert_eq!(
        inside.iter().map(|i| &i.name).collect::<Vec<_>>(),
        ["nota.txt"]
    );

    // A second content makes a version; restoring it brings the first back.
    std::fs::write(&note, "segunda versão").unwrap();
    ana.upload_file(
        note.display().to_string(),
        papers.id.to_string(),
        None,
        true,
    )
    .await
    .unwrap();
    let versions = ana.versions(file.id.to_string()).await.unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(versions[0].size_bytes, "primeira".len() as u64);
    let restored = ana
        .restore_version(file.id.to_string(), versions[0].id.to_string())
        .await
        .unwrap();
    assert_eq!(restored.size_bytes, "primeira".len() as u64);

    // Trash, restore, trash again and purge.
    ana.trash_item(papers.id.to_string()).await.unwrap();
    let root = ana.list_folder("root".into()).await.unwrap();
    assert!(!root.iter().any(|i| i.id == papers.id));
    let trash = ana.trash().await.unwrap();
    assert!(trash.iter().any(|i| i.id == papers.id), "{trash:?}");
    let back = ana.restore_item(papers.id.to_string()).await.unwrap();
    assert_eq!(back.deleted_at, None);
    assert_eq!(
        ana.list_folder(papers.id.to_string()).await.unwrap().len(),
        1
    );
    ana.trash_item(renamed.id.to_string()).await.unwrap();
    ana.purge_item(renamed.id.to_string()).await.unwrap();
    assert!(
        !ana.trash()
            .await
            .unwrap()
            .iter()
            .any(|i| i.id == renamed.id)
    );
    assert_eq!(code(ana.item(renamed.id.to_string()).await).0, 404);

    // Shares: Bia sees what Ana shares with her, until it ends.
    let admin = t
        .taina
        .operator()
        .act_as(None, "admin@example.org")
        .await
        .unwrap();
    let (bia_actor, _) = t
        .join(&admin, "bia@example.org", taina::core::Role::Member)
        .await;
    let bia = signed_in(&server.base, "bia@example.org").await;
    assert_eq!(code(bia.item(file.id.to_string()).await).0, 404);
    let share = ana
        .share_item(
            papers.id.to_string(),
            bia_actor.user_id.to_string(),
            ShareAccess::Read,
        )
        .await
        .unwrap();
    assert_eq!(share.access, ShareAccess::Read);
    assert_eq!(
        ana.shares_of(papers.id.to_string()).await.unwrap(),
        vec![share.clone()]
    );
    let shared = bia.shared_with_me().await.unwrap();
    assert_eq!(
        shared.iter().map(|i| &i.id).collect::<Vec<_>>(),
        [&papers.id]
    );
    assert_eq!(
        bia.item(file.id.to_string()).await.unwrap().name,
        "nota.txt"
    );
    ana.unshare(share.id.to_string()).await.unwrap();
    assert!(bia.shared_with_me().await.unwrap().is_empty());
    assert_eq!(code(bia.item(file.id.to_string()).await).0, 404);

    // An id with a slash in it names nothing rather than another route.
    assert_eq!(code(ana.item("../trash".into()).await).0, 404);
}

async fn downloads_resume_and_are_checked(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let ana = signed_in(&server.base, "admin@example.org").await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = nine_mib();
    let source = dir.path().join("video.bin");
    std::fs::write(&source, &bytes).unwrap();
    let item = ana
        .upload_file(source.display().to_string(), "root".into(), None, false)
        .await
        .unwrap();
    let target = dir.path().join("baixado.bin");
    let partial = dir.path().join("baixado.bin.taina-partial");

    // What an interrupted download left: the rest is fetched, not the whole.
    let cut = 3 * 1024 * 1024;
    std::fs::write(&partial, &bytes[..cut]).unwrap();
    let progress = Arc::new(Recorded::default());
    let size = ana
        .download_file(
            item.id.to_string(),
            target.display().to_string(),
            Some(progress.clone()),
        )
        .await
        .unwrap();
    assert_eq!(size, bytes.len() as u64);
    assert_eq!(std::fs::read(&target).unwrap(), bytes);
    assert!(!partial.exists());
    let first = progress.heard()[0];
    assert!(
        first.0 > cut as u64,
        "resumed after what was there: {first:?}"
    );
    assert_eq!(progress.heard().last(), Some(&(size, size)));

    // A partial file of something else (an older version, say) is not glued onto the rest.
    std::fs::remove_file(&target).unwrap();
    std::fs::write(&partial, vec![7u8; cut]).unwrap();
    ana.download_file(item.id.to_string(), target.display().to_string(), None)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&target).unwrap(),
        bytes,
        "checked against its SHA-256"
    );

    // A range.
    let part = dir.path().join("pedaço.bin");
    let got = ana
        .download_range(item.id.to_string(), 1000, 5000, part.display().to_string())
        .await
        .unwrap();
    assert_eq!(got, 5000);
    assert_eq!(std::fs::read(&part).unwrap(), &bytes[1000..6000]);
    let tail = ana
        .download_range(
            item.id.to_string(),
            bytes.len() as u64 - 10,
            100,
            part.display().to_string(),
        )
        .await
        .unwrap();
    assert_eq!(tail, 10, "fewer at the end");
    assert_eq!(
        code(
            ana.download_range(
                item.id.to_string(),
                bytes.len() as u64,
                10,
                part.display().to_string()
            )
            .await
        )
        .0,
        416
    );
    assert!(matches!(
        ana.download_range(item.id.to_string(), 0, 0, part.display().to_string())
            .await,
        Err(ClientError::Invalid { .. })
    ));
}

/// Stops the upload it watches once the first piece is through.
struct StopAfterFirstPiece(tokio::sync::mpsc::UnboundedSender<()>);

impl taina_client::ProgressListener for StopAfterFirstPiece {
    fn on_progress(&self, done: u64, _total: u64) {
        if done > 0 {
            let _ = self.0.send(());
        }
    }
}

async fn an_upload_resumes_after_the_app_is_closed(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let options = ClientOptions {
        state_dir: Some(state.display().to_string()),
        extra_root_certificate_pem: None,
    };
    let bytes = nine_mib();
    let source = dir.path().join("filme.mp4");
    std::fs::write(&source, &bytes).unwrap();

    // The app is closed while the upload is under way.
    let first = Client::with_options(server.base.clone(), options.clone()).unwrap();
    first
        .login(
            "admin@example.org".into(),
            taina::testing::PASSWORD.into(),
            None,
        )
        .await
        .unwrap();
    let token = first.token();
    let (piece, mut through) = tokio::sync::mpsc::unbounded_channel();
    let running = {
        let first = first.clone();
        let path = source.display().to_string();
        tokio::spawn(async move {
            first
                .upload_file(
                    path,
                    "root".into(),
                    Some(Arc::new(StopAfterFirstPiece(piece))),
                    false,
                )
                .await
        })
    };
    through.recv().await.unwrap();
    running.abort();
    let _ = running.await;
    drop(first);

    // Opened again, it goes on from where the server stands.
    let again = Client::with_options(server.base.clone(), options).unwrap();
    again.set_token(token);
    let progress = Arc::new(Recorded::default());
    let item = again
        .upload_file(
            source.display().to_string(),
            "root".into(),
            Some(progress.clone()),
            false,
        )
        .await
        .unwrap();
    let start = progress.heard()[0];
    assert!(
        start.0 >= 4 * 1024 * 1024,
        "resumed, not started again: {start:?}"
    );
    let listed = again.list_folder("root".into()).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .filter(|i| i.name.starts_with("filme"))
            .count(),
        1
    );
    let copy = dir.path().join("cópia.mp4");
    again
        .download_file(item.id.to_string(), copy.display().to_string(), None)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    // The journal forgets finished uploads; without one, an upload starts from nothing.
    assert_eq!(std::fs::read_dir(state.join("uploads")).unwrap().count(), 0);
    let plain = Client::new(server.base.clone()).unwrap();
    plain.set_token(again.token());
    let fresh = Arc::new(Recorded::default());
    std::fs::write(&source, &bytes[..1000]).unwrap();
    plain
        .upload_file(
            source.display().to_string(),
            "root".into(),
            Some(fresh.clone()),
            false,
        )
        .await
        .unwrap();
    assert_eq!(fresh.heard()[0], (0, 1000));
}

async fn photos_timeline_detail_thumbnails_and_albums(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let ana = signed_in(&server.base, "admin@example.org").await;
    let paths: Vec<String> = ["Canon_40D.jpg", "Nikon_D70.jpg", "jolla.jpg"]
        .iter()
        .map(|n| fixture(n))
        .collect();
    let report = ana.backup_photos(paths, None).await.unwrap();
    assert_eq!(report.uploaded, 3);
    t.taina.jobs().run_due().await.unwrap();

    // The timeline in pages, newest first, with headings.
    let first = ana
        .timeline(PhotoScope::Mine, None, Some(2), Some(0))
        .await
        .unwrap();
    assert_eq!(first.photos.len(), 2);
    assert!(!first.groups.is_empty());
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = ana
        .timeline(PhotoScope::Mine, Some(cursor), Some(2), Some(0))
        .await
        .unwrap();
    assert_eq!(second.photos.len(), 1);
    assert_eq!(second.next_cursor, None);
    let all: Vec<_> = first.photos.iter().chain(&second.photos).cloned().collect();
    assert!(
        all.windows(2).all(|w| w[0].taken_at >= w[1].taken_at),
        "newest first"
    );
    assert!(
        ana.timeline(PhotoScope::Shared, None, None, None)
            .await
            .unwrap()
            .photos
            .is_empty()
    );
    assert_eq!(
        code(
            ana.timeline(PhotoScope::Mine, Some("nonsense".into()), None, None)
                .await
        )
        .0,
        422
    );

    // A photo, with its neighbours and what its EXIF said.
    let middle = ana.photo(all[1].id.to_string()).await.unwrap();
    assert_eq!(middle.previous, Some(all[0].id.clone()));
    assert_eq!(middle.next, Some(all[2].id.clone()));
    let canon = all.iter().find(|p| p.name == "Canon_40D.jpg").unwrap();
    assert_eq!(
        canon
            .camera
            .as_ref()
            .and_then(|c| c.model.clone())
            .as_deref(),
        Some("Canon EOS 40D")
    );
    assert!(canon.processed, "{canon:?}");
    let located = all.iter().filter(|p| p.location.is_some()).count();
    assert_eq!(
        ana.photo_map(PhotoScope::Mine).await.unwrap().len(),
        located
    );

    // A thumbnail, to a path, as WebP.
    let dir = tempfile::tempdir().unwrap();
    let thumb = dir.path().join("canon.webp");
    let size = ana
        .download_thumbnail(
            canon.file_id.to_string(),
            Size::Small,
            thumb.display().to_string(),
        )
        .await
        .unwrap();
    let webp = std::fs::read(&thumb).unwrap();
    assert_eq!(webp.len() as u64, size);
    assert_eq!(&webp[..4], b"RIFF");
    assert_eq!(&webp[8..12], b"WEBP");

    // Albums.
    let album = ana
        .create_album("Férias".into(), "Praia".into(), Visibility::Private)
        .await
        .unwrap();
    let ids: Vec<String> = all.iter().map(|p| p.id.to_string()).collect();
    let filled = ana
        .add_to_album(album.id.to_string(), ids.clone())
        .await
        .unwrap();
    assert_eq!(filled.photo_count, 3);
    let reversed: Vec<String> = ids.iter().rev().cloned().collect();
    ana.reorder_album(album.id.to_string(), reversed.clone())
        .await
        .unwrap();
    let contents = ana.album(album.id.to_string()).await.unwrap();
    assert_eq!(
        contents
            .photos
            .iter()
            .map(|p| p.id.to_string())
            .collect::<Vec<_>>(),
        reversed
    );
    let covered = ana
        .set_album_cover(album.id.to_string(), Some(ids[1].clone()))
        .await
        .unwrap();
    assert_eq!(
        covered.cover_photo_id.map(|c| c.to_string()),
        Some(ids[1].clone())
    );
    let smaller = ana
        .remove_from_album(album.id.to_string(), ids[1].clone())
        .await
        .unwrap();
    assert_eq!(smaller.photo_count, 2);
    assert_ne!(
        smaller.cover_photo_id.map(|c| c.to_string()),
        Some(ids[1].clone())
    );
    let shared = ana
        .update_album(
            album.id.to_string(),
            Some("Férias 2026".into()),
            None,
            Some(Visibility::Shared),
        )
        .await
        .unwrap();
    assert_eq!(
        (shared.name.as_str(), shared.visibility),
        ("Férias 2026", Visibility::Shared)
    );
    assert_eq!(shared.description, "Praia", "what is left out stays");
    assert_eq!(ana.albums().await.unwrap(), vec![shared.clone()]);
    ana.delete_album(album.id.to_string()).await.unwrap();
    assert!(ana.albums().await.unwrap().is_empty());

    // Deleting a photo takes it out of the timeline.
    ana.delete_photo(all[0].id.to_string()).await.unwrap();
    assert_eq!(
        ana.timeline(PhotoScope::Mine, None, None, None)
            .await
            .unwrap()
            .photos
            .len(),
        2
    );
}

/// Stops a backup once `after` photos are done.
struct StopAfter(u64, tokio::sync::mpsc::UnboundedSender<()>);

impl taina_client::ProgressListener for StopAfter {
    fn on_progress(&self, done: u64, _total: u64) {
        if done >= self.0 {
            let _ = self.1.send(());
        }
    }
}

async fn a_backup_stopped_halfway_goes_on_where_it_was(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let ana = signed_in(&server.base, "admin@example.org").await;
    let paths: Vec<String> = (1..=6)
        .map(|i| fixture(&format!("landscape_{i}.jpg")))
        .collect();

    // The app is closed after two photos.
    let (stop, mut stopped) = tokio::sync::mpsc::unbounded_channel();
    let running = {
        let (ana, paths) = (ana.clone(), paths.clone());
        tokio::spawn(async move {
            ana.backup_photos(paths, Some(Arc::new(StopAfter(2, stop))))
                .await
        })
    };
    stopped.recv().await.unwrap();
    running.abort();
    let _ = running.await;

    // Run again: what arrived is not sent twice, and every photo is there once.
    let again = ana.backup_photos(paths.clone(), None).await.unwrap();
    assert!(again.already_there >= 2, "{again:?}");
    assert_eq!(again.already_there + again.uploaded, 6, "{again:?}");
    assert!(again.failed.is_empty(), "{again:?}");
    let photos = ana
        .timeline(PhotoScope::Mine, None, None, None)
        .await
        .unwrap()
        .photos;
    let mut names: Vec<_> = photos.iter().map(|p| p.name.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        (1..=6)
            .map(|i| format!("landscape_{i}.jpg"))
            .collect::<Vec<_>>()
    );
}

async fn sessions_on_two_devices(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let phone = signed_in(&server.base, "admin@example.org").await;
    let before = phone.sessions().await.unwrap();
    let tablet = signed_in(&server.base, "admin@example.org").await;
    let sessions = phone.sessions().await.unwrap();
    assert_eq!(sessions.len(), before.len() + 1);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    let mine = tablet.sessions().await.unwrap();
    let tablets = mine.iter().find(|s| s.current).unwrap();
    assert_eq!(
        tablets.user_agent.as_deref(),
        Some(concat!("taina-client/", env!("CARGO_PKG_VERSION")))
    );
    assert!(sessions.iter().any(|s| s.id == tablets.id && !s.current));
    phone.end_session(tablets.id.to_string()).await.unwrap();
    assert_eq!(code(tablet.me().await), (401, ErrorCode::Unauthenticated));
    assert_eq!(phone.sessions().await.unwrap().len(), before.len());
    assert_eq!(phone.me().await.unwrap().email, "admin@example.org");
}

async fn the_phone_reads_photos_as_the_server_does(t: TestInstance) {
    t.setup().await;
    let server = TestServer::start(&t).await;
    let ana = signed_in(&server.base, "admin@example.org").await;
    let dir = tempfile::tempdir().unwrap();
    for name in ["Canon_40D.jpg", "DSCN0010.jpg", "landscape_6.jpg"] {
        let path = fixture(name);
        ana.backup_photos(vec![path.clone()], None).await.unwrap();
        t.taina.jobs().run_due().await.unwrap();
        let photos = ana
            .timeline(PhotoScope::Mine, None, None, None)
            .await
            .unwrap()
            .photos;
        let stored = photos.iter().find(|p| p.name == name).unwrap();

        // The metadata: what the server stored is what the phone reads.
        let local = taina_client::read_photo_metadata(path.clone())
            .await
            .unwrap();
        assert_eq!(local.camera, stored.camera, "{name}");
        assert_eq!(local.location, stored.location, "{name}");
        assert_eq!(local.exposure, stored.exposure, "{name}");
        assert_eq!(
            (local.width, local.height),
            (stored.width, stored.height),
            "{name}"
        );
        assert_eq!(local.orientation.value(), stored.orientation, "{name}");
        match local.exif_taken_at {
            Some(taken) => assert_eq!(taken.to_rfc3339(), stored.taken_at, "{name}"),
            // No date of its own: the file's time, which the upload sent along.
            None => assert_eq!(stored.taken_at_source, TakenAtSource::FileTime, "{name}"),
        }

        // The thumbnails: byte for byte the server's.
        let out = dir.path().join(name);
        let made = taina_client::make_thumbnails(path.clone(), out.display().to_string())
            .await
            .unwrap();
        assert_eq!(made.len(), 3);
        for thumbnail in &made {
            let theirs = dir.path().join("server.webp");
            ana.download_thumbnail(
                stored.file_id.to_string(),
                thumbnail.size,
                theirs.display().to_string(),
            )
            .await
            .unwrap();
            assert_eq!(
                std::fs::read(&thumbnail.path).unwrap(),
                std::fs::read(&theirs).unwrap(),
                "{name} {:?}",
                thumbnail.size
            );
        }

        // The hash the server names the content by.
        let item = ana.item(stored.file_id.to_string()).await.unwrap();
        let hash = taina_client::file_sha256(path).await.unwrap();
        assert_eq!(item.etag, Some(format!("\"{hash}\"")));
    }

    // Names, by the server's rules.
    assert_eq!(
        taina_client::normalize_file_name("  Fe\u{301}rias.jpg ".into()).unwrap(),
        "Férias.jpg"
    );
    for bad in ["", "..", "a/b", "nul\0l", &"x".repeat(256)] {
        assert!(
            matches!(
                taina_client::normalize_file_name(bad.into()),
                Err(ClientError::Invalid { .. })
            ),
            "{bad:?}"
        );
    }
    // Not a photo: a clear error, not a panic.
    let text = dir.path().join("not-a-photo.jpg");
    std::fs::write(&text, "hello").unwrap();
    assert!(matches!(
        taina_client::make_thumbnails(text.display().to_string(), dir.path().display().to_string())
            .await,
        Err(ClientError::Invalid { .. })
    ));
    assert!(matches!(
        taina_client::read_photo_metadata(dir.path().join("gone.jpg").display().to_string()).await,
        Err(ClientError::Device { .. })
    ));
}

backend_tests!(
    the_phone_reads_photos_as_the_server_does,
    files_move_through_folders_and_the_trash,
    downloads_resume_and_are_checked,
    an_upload_resumes_after_the_app_is_closed,
    photos_timeline_detail_thumbnails_and_albums,
    sessions_on_two_devices,
    a_backup_stopped_halfway_goes_on_where_it_was,
);
