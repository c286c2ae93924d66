//! Jaci, the photos service, on SQLite and on PostgreSQL, with the real photos in tests/fixtures.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use taina::backend_tests;
use taina::core::PhotoId;
use taina::core::{Actor, DomainEvent, ErrorKind, Timestamp};
use taina::jaci::{AlbumUpdate, NewAlbum, NewPhoto, Photo, Scope, Visibility};
use taina::testing::{TestInstance, World};
use taina::ybira::Location;
use taina_jaci::media::MediaKind;
use taina_jaci::metadata::TakenAtSource;
use taina_jaci::thumbnail::Size;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/photos")
            .join(name),
    )
    .unwrap()
}

fn body(bytes: Vec<u8>) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(16 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

/// A small PNG with no EXIF, different for each `seed`.
fn png(seed: u8) -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([seed, x as u8 * 4, y as u8 * 5]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn import(
    t: &TestInstance,
    actor: &Actor,
    location: Location,
    name: &str,
    bytes: Vec<u8>,
    file_time: Option<Timestamp>,
) -> Photo {
    t.taina
        .jaci()
        .import(
            actor,
            NewPhoto {
                location,
                name: name.into(),
                declared_size: None,
                client_file_time: file_time,
            },
            body(bytes),
        )
        .await
        .unwrap()
}

fn kind<T: std::fmt::Debug>(r: taina::Result<T>) -> ErrorKind {
    r.expect_err("expected an error").kind()
}

fn webp_size(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory_with_format(bytes, image::ImageFormat::WebP).unwrap();
    (image.width(), image.height())
}

async fn imports_read_metadata_and_thumbnails_follow(t: TestInstance) {
    let w = t.world().await;
    let mut events = w.t.taina.subscribe();
    let photo = import(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "DSCN0010.jpg",
        fixture("DSCN0010.jpg"),
        None,
    )
    .await;
    assert_eq!(photo.kind, MediaKind::Image);
    assert_eq!(photo.taken_at, "2008-10-22T16:28:39-00:00");
    assert_eq!(photo.taken_at_source, TakenAtSource::DateTimeOriginal);
    assert_eq!((photo.width, photo.height), (Some(640), Some(480)));
    let camera = photo.camera.clone().unwrap();
    assert_eq!(
        (camera.make.as_deref(), camera.model.as_deref()),
        (Some("NIKON"), Some("COOLPIX P6000"))
    );
    let at = photo.location.unwrap();
    assert!(
        (at.latitude - 43.467_448_333).abs() < 1e-6 && (at.longitude - 11.885_126_667).abs() < 1e-6
    );
    assert!(photo.exposure.unwrap().f_number.is_some());
    // In the timeline at once, thumbnails not yet made.
    assert!(!photo.processed);
    let page =
        w.t.taina
            .jaci()
            .timeline(&w.ana, Scope::Mine, None, None, 0)
            .await
            .unwrap();
    assert_eq!(page.photos.len(), 1);
    assert_eq!(
        kind(
            w.t.taina
                .jaci()
                .thumbnail(&w.ana, &photo.file_id, Size::Small)
                .await
        ),
        ErrorKind::NotFound
    );
    // The job makes them, upright, stripped, in three sizes.
    w.t.taina.jobs().run_due().await.unwrap();
    let detail = w.t.taina.jaci().photo(&w.ana, &photo.id).await.unwrap();
    assert!(
        detail.photo.processed,
        "{:?}",
        detail.photo.processing_error
    );
    let jaci = w.t.taina.jaci();
    assert_eq!(
        webp_size(
            &jaci
                .thumbnail(&w.ana, &photo.file_id, Size::Small)
                .await
                .unwrap()
        ),
        (200, 200)
    );
    assert_eq!(
        webp_size(
            &jaci
                .thumbnail(&w.ana, &photo.file_id, Size::Medium)
                .await
                .unwrap()
        ),
        (640, 480)
    );
    let large = jaci
        .thumbnail(&w.ana, &photo.file_id, Size::Large)
        .await
        .unwrap();
    assert!(!large.windows(4).any(|w| w == b"EXIF"));
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e.event.name());
        if let DomainEvent::PhotoProcessed { photo_id, .. } = &e.event {
            assert_eq!(photo_id, &photo.id);
        }
    }
    assert!(
        seen.contains(&"photo.added") && seen.contains(&"photo.processed"),
        "{seen:?}"
    );
    // Nobody else sees it or its thumbnails.
    assert_eq!(
        kind(jaci.photo(&w.bia, &photo.id).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(jaci.thumbnail(&w.bia, &photo.file_id, Size::Small).await),
        ErrorKind::NotFound
    );
    assert!(
        jaci.timeline(&w.bia, Scope::Mine, None, None, 0)
            .await
            .unwrap()
            .photos
            .is_empty()
    );
}

async fn orientation_heif_broken_exif_and_non_photos(t: TestInstance) {
    let w = t.world().await;
    let jaci = w.t.taina.jaci();
    let turned = import(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "landscape_6.jpg",
        fixture("landscape_6.jpg"),
        None,
    )
    .await;
    assert_eq!(
        (turned.width, turned.height, turned.orientation),
        (Some(600), Some(450), 6)
    );
    w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(
        webp_size(
            &jaci
                .thumbnail(&w.ana, &turned.file_id, Size::Large)
                .await
                .unwrap()
        ),
        (600, 450)
    );

    let heif = import(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "sample.heif",
        fixture("samplefilehub.heif"),
        None,
    )
    .await;
    assert_eq!((heif.width, heif.height), (Some(640), Some(426)));
    assert!(heif.mime_type.as_deref().unwrap().starts_with("image/hei"));
    // HEIC through libheif: thumbnails, and a JPEG rendition at full size; the original is kept.
    w.t.taina.jobs().run_due().await.unwrap();
    let heif_detail = jaci.photo(&w.ana, &heif.id).await.unwrap().photo;
    assert!(heif_detail.processed, "{:?}", heif_detail.processing_error);
    assert_eq!(heif_detail.processing_error, None);
    let small = jaci
        .thumbnail(&w.ana, &heif.file_id, Size::Small)
        .await
        .unwrap();
    assert_eq!(webp_size(&small), (200, 200));
    assert_eq!(
        webp_size(
            &jaci
                .thumbnail(&w.ana, &heif.file_id, Size::Large)
                .await
                .unwrap()
        ),
        (640, 426)
    );
    let jpeg = jaci.jpeg_rendition(&w.ana, &heif.file_id).await.unwrap();
    let shown = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((shown.width(), shown.height()), (640, 426));
    assert_eq!(
        kind(jaci.jpeg_rendition(&w.bia, &heif.file_id).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(jaci.jpeg_rendition(&w.ana, &turned.file_id).await),
        ErrorKind::NotFound,
        "only HEIF/HEIC photos get a JPEG rendition"
    );
    let original =
        w.t.taina
            .ybira()
            .download(&w.ana, &heif.file_id, None)
            .await
            .unwrap();
    let original: Vec<Bytes> = futures::TryStreamExt::try_collect(original.body)
        .await
        .unwrap();
    assert_eq!(original.concat(), fixture("samplefilehub.heif"));

    let file_time = Timestamp::parse_rfc3339("2019-07-01T12:00:00Z").unwrap();
    let broken = import(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "broken.jpg",
        fixture("image00971.jpg"),
        Some(file_time),
    )
    .await;
    assert_eq!(broken.taken_at_source, TakenAtSource::FileTime);
    assert_eq!(broken.taken_at, "2019-07-01T12:00:00-00:00");
    assert_eq!((broken.width, broken.height), (Some(636), Some(227)));
    let no_time = import(&w.t, &w.ana, Location::MyFiles, "plain.png", png(1), None).await;
    assert_eq!(no_time.taken_at_source, TakenAtSource::UploadTime);

    // Not a photo: refused, and not kept.
    let before =
        w.t.taina
            .accounts()
            .storage(&w.admin)
            .await
            .unwrap()
            .used_bytes;
    let pdf = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/documents/shared-mime-info-spec.pdf"),
    )
    .unwrap();
    let refused = jaci
        .import(
            &w.ana,
            NewPhoto {
                location: Location::MyFiles,
                name: "spec.pdf".into(),
                declared_size: None,
                client_file_time: None,
            },
            body(pdf),
        )
        .await;
    assert_eq!(kind(refused), ErrorKind::Invalid);
    w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(
        w.t.taina
            .accounts()
            .storage(&w.admin)
            .await
            .unwrap()
            .used_bytes,
        before
    );
    let names: Vec<_> =
        w.t.taina
            .ybira()
            .list(&w.ana, &Location::MyFiles, None, None)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.name)
            .collect();
    assert!(!names.contains(&"spec.pdf".to_owned()), "{names:?}");
}

async fn the_timeline_pages_without_gaps_while_photos_arrive(t: TestInstance) {
    let w = t.world().await;
    let jaci = w.t.taina.jaci();
    let base = Timestamp::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
    let day = Duration::from_secs(24 * 3600);
    let mut expected = Vec::new();
    for n in 0..10u8 {
        // Two photos share each day, so ids break the ties.
        let taken = base.plus(day * u32::from(n / 2));
        expected.push(
            import(
                &w.t,
                &w.ana,
                Location::MyFiles,
                &format!("p{n}.png"),
                png(n),
                Some(taken),
            )
            .await
            .id,
        );
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut added = 0u8;
    loop {
        let page = jaci
            .timeline(&w.ana, Scope::Mine, cursor.as_deref(), Some(3), 0)
            .await
            .unwrap();
        assert!(page.photos.len() <= 3);
        seen.extend(
            page.photos
                .iter()
                .map(|p| (p.taken_at.clone(), p.id.clone())),
        );
        // Newer photos arriving meanwhile land before the cursor: no gaps, no repeats.
        let taken = base.plus(day * 30);
        import(
            &w.t,
            &w.ana,
            Location::MyFiles,
            &format!("new{added}.png"),
            png(100 + added),
            Some(taken),
        )
        .await;
        added += 1;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let ids: Vec<_> = seen.iter().map(|(_, id)| id.clone()).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no repeats");
    let first_page_new = ids.len() - expected.len();
    assert!(
        first_page_new <= 1,
        "only what existed before the first page, bar none"
    );
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    let mut got: Vec<_> = ids
        .iter()
        .filter(|id| expected.contains(id))
        .cloned()
        .collect();
    assert_eq!(got.len(), expected.len(), "no gaps");
    got.sort();
    assert_eq!(got, expected_sorted);
    // Newest first.
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "{seen:?}");

    // Detail: neighbours in the same timeline.
    let page = jaci
        .timeline(&w.ana, Scope::Mine, None, Some(3), 0)
        .await
        .unwrap();
    let middle = jaci.photo(&w.ana, &page.photos[1].id).await.unwrap();
    assert_eq!(middle.previous.as_ref(), Some(&page.photos[0].id));
    assert_eq!(middle.next.as_ref(), Some(&page.photos[2].id));
    let newest = jaci.photo(&w.ana, &page.photos[0].id).await.unwrap();
    assert_eq!(newest.previous, None);
    assert_eq!(
        kind(
            jaci.timeline(&w.ana, Scope::Mine, Some("nonsense"), None, 0)
                .await
        ),
        ErrorKind::Invalid
    );
}

async fn timeline_pages_carry_date_headings_for_the_viewer(t: TestInstance) {
    use taina_jaci::timeline::DateGroup;
    let w = t.world().await;
    let jaci = w.t.taina.jaci();
    // The instance's clock reads 2026-11-18T11:06:40Z.
    for (n, at) in [
        "2026-11-18T09:00:00Z", // today
        "2026-11-18T01:00:00Z", // today in UTC; yesterday at UTC−03:00
        "2026-11-17T12:00:00Z", // yesterday
        "2026-11-14T12:00:00Z", // this week
        "2026-03-02T12:00:00Z", // March this year
        "2026-03-01T12:00:00Z",
        "2008-05-30T12:00:00Z", // an earlier year
    ]
    .into_iter()
    .enumerate()
    {
        import(
            &w.t,
            &w.ana,
            Location::MyFiles,
            &format!("d{n}.png"),
            png(n as u8),
            Some(Timestamp::parse_rfc3339(at).unwrap()),
        )
        .await;
    }
    let headings = |page: &taina::jaci::TimelinePage| {
        page.groups
            .iter()
            .map(|g| (g.heading, g.start, g.count))
            .collect::<Vec<_>>()
    };
    let page = jaci
        .timeline(&w.ana, Scope::Mine, None, None, 0)
        .await
        .unwrap();
    let march = DateGroup::Month {
        year: 2026,
        month: 3,
    };
    assert_eq!(
        headings(&page),
        vec![
            (DateGroup::Today, 0, 2),
            (DateGroup::Yesterday, 2, 1),
            (DateGroup::ThisWeek, 3, 1),
            (march, 4, 2),
            (DateGroup::Year { year: 2008 }, 6, 1),
        ]
    );
    // In São Paulo (UTC−03:00) the 01:00Z photo was taken yesterday evening.
    let page = jaci
        .timeline(&w.ana, Scope::Mine, None, None, -180)
        .await
        .unwrap();
    assert_eq!(
        headings(&page)[..2],
        [(DateGroup::Today, 0, 1), (DateGroup::Yesterday, 1, 2)]
    );
    // A heading that runs over a page boundary starts the next page again.
    let first = jaci
        .timeline(&w.ana, Scope::Mine, None, Some(5), 0)
        .await
        .unwrap();
    assert_eq!(headings(&first).last(), Some(&(march, 4, 1)));
    let second = jaci
        .timeline(
            &w.ana,
            Scope::Mine,
            first.next_cursor.as_deref(),
            Some(5),
            0,
        )
        .await
        .unwrap();
    assert_eq!(headings(&second)[0], (march, 0, 1));
    assert_eq!(
        kind(jaci.timeline(&w.ana, Scope::Mine, None, None, 900).await),
        ErrorKind::Invalid
    );
}

fn video(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/videos")
            .join(name),
    )
    .unwrap()
}

async fn videos_join_the_library_with_their_metadata(t: TestInstance) {
    let w = t.world().await;
    let jaci = w.t.taina.jaci();
    // An iPhone-style MOV: its `moov` box comes after the media data.
    let clip = import(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "IMG_0001.MOV",
        video("iphone.mov"),
        None,
    )
    .await;
    assert_eq!(clip.kind, MediaKind::Video);
    assert_eq!(clip.mime_type.as_deref(), Some("video/quicktime"));
    assert_eq!(clip.taken_at, "2022-08-14T18:45:12-03:00");
    assert_eq!(clip.taken_at_source, TakenAtSource::CreateDate);
    assert_eq!((clip.width, clip.height), (Some(192), Some(108)));
    assert_eq!(clip.duration_ms, Some(1000));
    let camera = clip.camera.clone().unwrap();
    assert_eq!(
        (camera.make.as_deref(), camera.model.as_deref()),
        (Some("Apple"), Some("iPhone 12"))
    );
    let place = clip.location.unwrap();
    assert!((place.latitude - 37.7858).abs() < 1e-9 && (place.longitude + 122.4064).abs() < 1e-9);
    // No thumbnail for videos yet, and it says so; the video is still in the timeline and on the map.
    assert!(clip.processed);
    assert!(clip.processing_error.is_some());
    let rotated = import(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "rotated.mp4",
        video("rotated.mp4"),
        None,
    )
    .await;
    assert_eq!(rotated.mime_type.as_deref(), Some("video/mp4"));
    assert_eq!(
        (rotated.width, rotated.height, rotated.orientation),
        (Some(90), Some(160), 8)
    );
    assert_eq!(rotated.taken_at, "2021-06-05T14:30:00-00:00");
    let page = jaci
        .timeline(&w.ana, Scope::Mine, None, None, 0)
        .await
        .unwrap();
    let ids: Vec<_> = page.photos.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids, vec![clip.id.clone(), rotated.id.clone()]);
    let map = jaci.map(&w.ana, Scope::Mine).await.unwrap();
    assert_eq!(map.len(), 2);
    assert_eq!(
        kind(jaci.thumbnail(&w.ana, &clip.file_id, Size::Small).await),
        ErrorKind::NotFound
    );
}

async fn shared_photos_maps_and_deletes(t: TestInstance) {
    let w = t.world().await;
    let jaci = w.t.taina.jaci();
    let shared = import(
        &w.t,
        &w.ana,
        Location::Shared,
        "trip.jpg",
        fixture("DSCN0010.jpg"),
        None,
    )
    .await;
    import(
        &w.t,
        &w.ana,
        Location::MyFiles,
        "mine.jpg",
        fixture("Canon_40D.jpg"),
        None,
    )
    .await;
    // Members see the shared timeline; guests do not.
    let page = jaci
        .timeline(&w.bia, Scope::Shared, None, None, 0)
        .await
        .unwrap();
    assert_eq!(
        page.photos.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&shared.id)
    );
    assert_eq!(
        kind(jaci.timeline(&w.gil, Scope::Shared, None, None, 0).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(jaci.photo(&w.gil, &shared.id).await),
        ErrorKind::NotFound
    );
    let map = jaci.map(&w.bia, Scope::Shared).await.unwrap();
    assert_eq!(map.len(), 1);
    assert!((map[0].latitude - 43.467_448).abs() < 1e-5);
    assert!(
        jaci.map(&w.ana, Scope::Mine).await.unwrap().is_empty(),
        "the Canon photo has no GPS"
    );
    // Another community sees nothing.
    let (outsider, _) = w.t.other_community("Outra", "out@example.org").await;
    assert_eq!(
        kind(jaci.photo(&outsider, &shared.id).await),
        ErrorKind::NotFound
    );
    assert!(
        jaci.timeline(&outsider, Scope::Shared, None, None, 0)
            .await
            .unwrap()
            .photos
            .is_empty()
    );

    // Deleting goes through Ybira's trash; purging removes the photo and its thumbnails.
    w.t.taina.jobs().run_due().await.unwrap();
    let thumbs = w.t.taina.data_dir().join(format!(
        "storage/communities/{}/thumbnails/{}",
        w.ana.community_id, shared.file_id
    ));
    assert!(thumbs.join("small.webp").exists());
    let ybira = w.t.taina.ybira();
    ybira.delete(&w.ana, &shared.file_id).await.unwrap();
    assert!(
        jaci.timeline(&w.bia, Scope::Shared, None, None, 0)
            .await
            .unwrap()
            .photos
            .is_empty()
    );
    ybira.restore(&w.ana, &shared.file_id).await.unwrap();
    assert_eq!(
        jaci.timeline(&w.bia, Scope::Shared, None, None, 0)
            .await
            .unwrap()
            .photos
            .len(),
        1
    );
    ybira.delete(&w.ana, &shared.file_id).await.unwrap();
    ybira.purge(&w.ana, &shared.file_id).await.unwrap();
    w.t.taina.jobs().run_due().await.unwrap();
    assert_eq!(
        kind(jaci.photo(&w.ana, &shared.id).await),
        ErrorKind::NotFound
    );
    assert!(!thumbs.exists() || std::fs::read_dir(&thumbs).unwrap().next().is_none());
    // Regenerating a photo one may see makes its thumbnails again.
    let mine = jaci
        .timeline(&w.ana, Scope::Mine, None, None, 0)
        .await
        .unwrap()
        .photos
        .remove(0);
    jaci.regenerate(&w.ana, &mine.id).await.unwrap();
    assert_eq!(
        kind(jaci.regenerate(&w.bia, &mine.id).await),
        ErrorKind::NotFound
    );
    assert!(w.t.taina.jobs().run_due().await.unwrap().succeeded >= 1);
    // Regenerating everything is for admins, and covers every file that has previews.
    assert_eq!(
        kind(jaci.regenerate_all(&w.ana).await),
        ErrorKind::Forbidden
    );
    let std_dir = thumbs.parent().unwrap().to_path_buf();
    std::fs::remove_dir_all(&std_dir).unwrap();
    let queued = jaci.regenerate_all(&w.admin).await.unwrap();
    let live = jaci
        .timeline(&w.ana, Scope::Mine, None, None, 0)
        .await
        .unwrap()
        .photos
        .len() as u64;
    assert!(queued >= live, "{queued} queued for {live} photos");
    assert_eq!(
        u64::from(w.t.taina.jobs().run_due().await.unwrap().succeeded),
        queued
    );
    jaci.thumbnail(&w.ana, &mine.file_id, Size::Medium)
        .await
        .unwrap();
}

async fn albums_keep_order_and_hide_what_viewers_may_not_see(t: TestInstance) {
    let w = t.world().await;
    let jaci = w.t.taina.jaci();
    let mut shared = Vec::new();
    for n in 0..3u8 {
        shared.push(
            import(
                &w.t,
                &w.ana,
                Location::Shared,
                &format!("s{n}.png"),
                png(n),
                None,
            )
            .await,
        );
    }
    let private = import(&w.t, &w.ana, Location::MyFiles, "secret.png", png(50), None).await;
    let album = jaci
        .create_album(
            &w.ana,
            NewAlbum {
                name: " Férias 2026 ".into(),
                description: "Na praia".into(),
                visibility: Visibility::Shared,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (album.name.as_str(), album.slug.as_str()),
        ("Férias 2026", "ferias-2026")
    );
    let twin = jaci
        .create_album(
            &w.bia,
            NewAlbum {
                name: "Ferias 2026".into(),
                description: String::new(),
                visibility: Visibility::Private,
            },
        )
        .await
        .unwrap();
    assert_eq!(twin.slug, "ferias-2026-2");
    let ids: Vec<PhotoId> = shared
        .iter()
        .map(|p| p.id.clone())
        .chain([private.id.clone()])
        .collect();
    let album = jaci.add_to_album(&w.ana, &album.id, &ids).await.unwrap();
    assert_eq!(album.photo_count, 4);
    assert_eq!(
        album.cover_photo_id.as_ref(),
        Some(&shared[0].id),
        "the first photo is the cover"
    );
    // Adding again keeps each photo once, where it was.
    assert_eq!(
        jaci.add_to_album(&w.ana, &album.id, &ids[..1])
            .await
            .unwrap()
            .photo_count,
        4
    );
    // The owner sees all four; another member only what they may see.
    let order = |photos: Vec<Photo>| photos.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(
        order(jaci.album_photos(&w.ana, &album.id).await.unwrap()),
        ids
    );
    assert_eq!(
        order(jaci.album_photos(&w.bia, &album.id).await.unwrap()),
        ids[..3]
    );
    // Reordering: exactly the album's photos, each once.
    let reversed: Vec<PhotoId> = ids.iter().rev().cloned().collect();
    jaci.reorder_album(&w.ana, &album.id, &reversed)
        .await
        .unwrap();
    assert_eq!(
        order(jaci.album_photos(&w.ana, &album.id).await.unwrap()),
        reversed
    );
    assert_eq!(
        kind(jaci.reorder_album(&w.ana, &album.id, &ids[..2]).await),
        ErrorKind::Invalid
    );
    let doubled = [
        ids[0].clone(),
        ids[0].clone(),
        ids[1].clone(),
        ids[2].clone(),
    ];
    assert_eq!(
        kind(jaci.reorder_album(&w.ana, &album.id, &doubled).await),
        ErrorKind::Invalid
    );
    // Cover, rename, and who may change what.
    let updated = jaci
        .update_album(
            &w.ana,
            &album.id,
            AlbumUpdate {
                name: Some("Verão".into()),
                cover_photo_id: Some(Some(shared[2].id.clone())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.cover_photo_id.as_ref()),
        ("Verão", Some(&shared[2].id))
    );
    let outside = import(&w.t, &w.bia, Location::MyFiles, "b.png", png(60), None).await;
    assert_eq!(
        kind(
            jaci.update_album(
                &w.ana,
                &album.id,
                AlbumUpdate {
                    cover_photo_id: Some(Some(outside.id.clone())),
                    ..Default::default()
                }
            )
            .await
        ),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(
            jaci.add_to_album(&w.ana, &album.id, std::slice::from_ref(&outside.id))
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(jaci.add_to_album(&w.bia, &album.id, &ids[..1]).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(jaci.album(&w.gil, &album.id).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(jaci.album(&w.ana, &twin.id).await),
        ErrorKind::NotFound,
        "private albums are private"
    );
    assert!(
        jaci.update_album(
            &w.admin,
            &album.id,
            AlbumUpdate {
                description: Some("admins tidy".into()),
                ..Default::default()
            }
        )
        .await
        .is_ok()
    );
    let listed: Vec<_> = jaci
        .albums(&w.bia)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert!(listed.contains(&album.id) && listed.contains(&twin.id));
    assert!(jaci.albums(&w.gil).await.unwrap().is_empty());
    // A photo in the trash leaves the album's list; removing one keeps the rest in order.
    w.t.taina
        .ybira()
        .delete(&w.ana, &shared[1].file_id)
        .await
        .unwrap();
    assert_eq!(jaci.album_photos(&w.ana, &album.id).await.unwrap().len(), 3);
    jaci.remove_from_album(&w.ana, &album.id, &shared[2].id)
        .await
        .unwrap();
    let left = jaci.album(&w.ana, &album.id).await.unwrap();
    assert_eq!(
        left.cover_photo_id.as_ref(),
        Some(&private.id),
        "the cover falls back to the first photo"
    );
    jaci.delete_album(&w.ana, &album.id).await.unwrap();
    assert_eq!(
        kind(jaci.album(&w.ana, &album.id).await),
        ErrorKind::NotFound
    );
    assert!(
        jaci.photo(&w.ana, &private.id).await.is_ok(),
        "photos outlive their albums"
    );
}

fn pdf() -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/documents/shared-mime-info-spec.pdf"),
    )
    .unwrap()
}

async fn ybira_files_get_previews_too(t: TestInstance) {
    let w = t.world().await;
    let ybira = w.t.taina.ybira();
    let upload = |name: &str| taina::ybira::NewUpload {
        location: Location::MyFiles,
        name: name.into(),
        declared_size: None,
        on_conflict: taina::ybira::OnConflict::Rename,
    };
    let image = ybira
        .upload(&w.ana, upload("drawing.png"), body(png(7)))
        .await
        .unwrap();
    let doc = ybira
        .upload(&w.ana, upload("spec.pdf"), body(pdf()))
        .await
        .unwrap();
    let text = ybira
        .upload(&w.ana, upload("notes.txt"), body(b"hello".to_vec()))
        .await
        .unwrap();
    assert!(!image.has_previews);
    w.t.taina.jobs().run_due().await.unwrap();
    let jaci = w.t.taina.jaci();
    let image = ybira.item(&w.ana, &image.id).await.unwrap();
    assert!(image.has_previews, "{:?}", image.preview_error);
    assert_eq!(
        webp_size(
            &jaci
                .thumbnail(&w.ana, &image.id, Size::Medium)
                .await
                .unwrap()
        ),
        (64, 48)
    );
    // A PDF's first page, rendered by poppler's pdftoppm (scripts/test.sh installs it).
    let doc = ybira.item(&w.ana, &doc.id).await.unwrap();
    assert!(doc.has_previews, "{:?}", doc.preview_error);
    let (width, height) = webp_size(&jaci.thumbnail(&w.ana, &doc.id, Size::Large).await.unwrap());
    assert!(
        height > width && height == 1600,
        "a portrait page, {width}x{height}"
    );
    assert!(!ybira.item(&w.ana, &text.id).await.unwrap().has_previews);
    assert_eq!(
        kind(jaci.thumbnail(&w.ana, &text.id, Size::Small).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(jaci.thumbnail(&w.bia, &image.id, Size::Small).await),
        ErrorKind::NotFound
    );

    // Without pdftoppm, PDFs get no preview and say why; nothing fails.
    let World { t, ana, .. } = w;
    let t = t
        .reconfigure(|c| c.pdftoppm = "/nonexistent/pdftoppm".into())
        .await;
    let doc = t
        .taina
        .ybira()
        .upload(&ana, upload("again.pdf"), body(pdf()))
        .await
        .unwrap();
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!(report.given_up + report.retrying, 0);
    let doc = t.taina.ybira().item(&ana, &doc.id).await.unwrap();
    assert!(!doc.has_previews);
    assert!(doc.preview_error.unwrap().contains("poppler"));
}

backend_tests!(
    imports_read_metadata_and_thumbnails_follow,
    orientation_heif_broken_exif_and_non_photos,
    timeline_pages_carry_date_headings_for_the_viewer,
    videos_join_the_library_with_their_metadata,
    the_timeline_pages_without_gaps_while_photos_arrive,
    shared_photos_maps_and_deletes,
    albums_keep_order_and_hide_what_viewers_may_not_see,
    ybira_files_get_previews_too,
);
