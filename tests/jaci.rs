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
use taina::testing::{TestInstance, World, queued_events};
use taina::ybira::{Location, ShareAccess};
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
    let mut events = w.t.taina.subscribe(&w.ana).await.unwrap();
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
    for e in queued_events(&mut events) {
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
    let blobs = w.t.taina.blobs();
    let thumbs = format!(
        "communities/{}/thumbnails/{}",
        w.ana.community_id, shared.file_id
    );
    assert!(blobs.exists(&format!("{thumbs}/small.webp")).await.unwrap());
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
    assert!(blobs.list(&thumbs).await.unwrap().is_empty());
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
    blobs
        .delete_prefix(&format!("communities/{}/thumbnails", w.ana.community_id))
        .await
        .unwrap();
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
        ErrorKind::Conflict
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
        ErrorKind::Conflict
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
    storage:
    imports_read_metadata_and_thumbnails_follow,
    orientation_heif_broken_exif_and_non_photos,
    timeline_pages_carry_date_headings_for_the_viewer,
    videos_join_the_library_with_their_metadata,
    the_timeline_pages_without_gaps_while_photos_arrive,
    shared_photos_maps_and_deletes,
    albums_keep_order_and_hide_what_viewers_may_not_see,
    ybira_files_get_previews_too,
    details_and_albums_show_only_what_the_viewer_sees,
    heic_is_decoded_in_a_child_with_the_same_thumbnails,
    a_crashing_decoder_fails_the_job_once_and_for_all,
    a_decoder_past_its_memory_limit_fails_cleanly,
    a_job_whose_worker_dies_every_time_is_given_up,
    pdf_previews_run_limited_and_show_no_server_paths,
);

/// Issue 16 #19: a photo reached through a share has no neighbours (they would name photos the
/// viewer may not see), and an album's count and cover leave out what the viewer may not see.
async fn details_and_albums_show_only_what_the_viewer_sees(t: TestInstance) {
    let w = t.world().await;
    let jaci = w.t.taina.jaci();
    let y = w.t.taina.ybira();
    let at = |s: i64| Some(Timestamp::from_millis(1_600_000_000_000 + s * 1000));
    let older = import(&w.t, &w.ana, Location::MyFiles, "older.png", png(1), at(1)).await;
    let folder = y
        .create_folder(&w.ana, &Location::MyFiles, "For Bia")
        .await
        .unwrap();
    let opened = import(
        &w.t,
        &w.ana,
        Location::Folder(folder.id.clone()),
        "opened.png",
        png(2),
        at(2),
    )
    .await;
    let newer = import(&w.t, &w.ana, Location::MyFiles, "newer.png", png(3), at(3)).await;
    y.share(&w.ana, &folder.id, &w.bia.user_id, ShareAccess::Read)
        .await
        .unwrap();
    // Ana sees her own timeline around it; Bia, through the share, sees the photo alone.
    let own = jaci.photo(&w.ana, &opened.id).await.unwrap();
    let mut around = [own.previous.clone(), own.next.clone()];
    around.sort();
    let mut expected = [Some(older.id.clone()), Some(newer.id.clone())];
    expected.sort();
    assert_eq!(around, expected);
    let shared = jaci.photo(&w.bia, &opened.id).await.unwrap();
    assert_eq!((shared.previous, shared.next), (None, None));
    // A guest with a share on one shared photo learns nothing of the shared timeline.
    let s1 = import(&w.t, &w.bia, Location::Shared, "s1.png", png(4), at(4)).await;
    let s2 = import(&w.t, &w.bia, Location::Shared, "s2.png", png(5), at(5)).await;
    y.share(&w.bia, &s2.file_id, &w.gil.user_id, ShareAccess::Read)
        .await
        .unwrap();
    let guest = jaci.photo(&w.gil, &s2.id).await.unwrap();
    assert_eq!((guest.previous, guest.next), (None, None));
    assert_eq!(
        jaci.photo(&w.ana, &s2.id).await.unwrap().next.as_ref(),
        Some(&s1.id),
        "members still get the shared timeline's neighbours"
    );

    // A shared album with Ana's private photo as its cover, and a shared one.
    let album = jaci
        .create_album(
            &w.ana,
            NewAlbum {
                name: "Mixed".into(),
                description: String::new(),
                visibility: Visibility::Shared,
            },
        )
        .await
        .unwrap();
    jaci.add_to_album(&w.ana, &album.id, &[older.id.clone(), s1.id.clone()])
        .await
        .unwrap();
    let as_ana = jaci
        .update_album(
            &w.ana,
            &album.id,
            AlbumUpdate {
                cover_photo_id: Some(Some(older.id.clone())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (as_ana.photo_count, as_ana.cover_photo_id.as_ref()),
        (2, Some(&older.id))
    );
    let as_bia = jaci.album(&w.bia, &album.id).await.unwrap();
    assert_eq!(
        (as_bia.photo_count, as_bia.cover_photo_id.as_ref()),
        (1, Some(&s1.id)),
        "Ana's private photo is neither counted nor the cover for Bia"
    );
    let listed = jaci.albums(&w.bia).await.unwrap();
    let listed = listed.iter().find(|a| a.id == album.id).unwrap();
    assert_eq!(
        (listed.photo_count, listed.cover_photo_id.as_ref()),
        (1, Some(&s1.id))
    );
    let listed = jaci.albums(&w.ana).await.unwrap();
    let listed = listed.iter().find(|a| a.id == album.id).unwrap();
    assert_eq!(
        (listed.photo_count, listed.cover_photo_id.as_ref()),
        (2, Some(&older.id))
    );
    // A photo in the trash counts for nobody.
    y.delete(&w.bia, &s1.file_id).await.unwrap();
    let as_bia = jaci.album(&w.bia, &album.id).await.unwrap();
    assert_eq!((as_bia.photo_count, as_bia.cover_photo_id), (0, None));
    assert_eq!(jaci.album(&w.ana, &album.id).await.unwrap().photo_count, 1);
}

// Issue 16 #14 and #29: untrusted images and PDFs are decoded in a child process under limits.

/// A program at `dir/name` running `script` (a stand-in for a decoder or for pdftoppm).
fn script(dir: &std::path::Path, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A PNG that says it is 10,000 × 10,000 (within the pixel limit) and holds almost nothing:
/// decoding it needs 300 MB for the pixels.
fn png_claiming_100_megapixels() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&10_000u32.to_be_bytes());
    header.extend_from_slice(&10_000u32.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &header);
    // A zlib stream of a few zero rows, then nothing more.
    chunk(&mut out, b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0x00, 0x00]);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The previews job of `file`, if it failed for good.
async fn failed_previews(t: &TestInstance, file: &taina::core::ItemId) -> Option<String> {
    t.taina
        .jobs()
        .failed()
        .await
        .unwrap()
        .into_iter()
        .find(|j| matches!(&j.job, taina::jobs::Job::Previews { file_id } if file_id == file))
        .map(|j| j.last_error)
}

async fn heic_is_decoded_in_a_child_with_the_same_thumbnails(t: TestInstance) {
    // Tests find the decoder Cargo builds beside their executable.
    assert_eq!(
        taina::decoder::locate(&taina::Config::default())
            .map(|p| std::fs::canonicalize(p).unwrap()),
        Some(std::fs::canonicalize(env!("CARGO_BIN_EXE_taina-decode")).unwrap())
    );
    let admin = t.setup().await;
    let ana = t.actor(&admin).await;
    let jaci = t.taina.jaci();
    let mut made = Vec::new();
    for name in ["samplefilehub.heif", "landscape_6.jpg", "jolla.jpg"] {
        let photo = import(&t, &ana, Location::MyFiles, name, fixture(name), None).await;
        made.push((name, photo));
    }
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 0));
    for (name, photo) in made {
        // The very pipeline the server ran in its own process before, so the very same bytes.
        let bytes = fixture(name);
        let expected = taina_jaci::thumbnail::previews(
            &bytes,
            taina_jaci::metadata::extract(&bytes).orientation,
            taina_jaci::thumbnail::DEFAULT_QUALITY,
        )
        .unwrap();
        let detail = jaci.photo(&ana, &photo.id).await.unwrap().photo;
        assert!(
            detail.processed && detail.processing_error.is_none(),
            "{name}: {detail:?}"
        );
        for r in &expected.thumbnails {
            let stored = jaci.thumbnail(&ana, &photo.file_id, r.size).await.unwrap();
            assert!(stored == r.webp, "{name} {:?} differs", r.size);
        }
        match expected.jpeg {
            Some(jpeg) => assert!(
                jaci.jpeg_rendition(&ana, &photo.file_id).await.unwrap() == jpeg,
                "{name}: JPEG rendition differs"
            ),
            None => assert_eq!(
                kind(jaci.jpeg_rendition(&ana, &photo.file_id).await),
                ErrorKind::NotFound
            ),
        }
    }
}

async fn a_crashing_decoder_fails_the_job_once_and_for_all(t: TestInstance) {
    let dir = t.dir.path().to_owned();
    let runs = dir.join("runs");
    let segfault = script(
        &dir,
        "segfault",
        &format!("echo run >> {}; kill -SEGV $$", runs.display()),
    );
    let t = t.reconfigure(|c| c.decoder = Some(segfault)).await;
    let admin = t.setup().await;
    let ana = t.actor(&admin).await;
    let heic = import(
        &t,
        &ana,
        Location::MyFiles,
        "crafted.heic",
        fixture("samplefilehub.heif"),
        None,
    )
    .await;
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 1));
    // Kept, failed, with how; the photo says it has no preview (and nothing about how or where).
    let why = failed_previews(&t, &heic.file_id).await.unwrap();
    assert!(why.contains("signal 11"), "{why}");
    let detail = t.taina.jaci().photo(&ana, &heic.id).await.unwrap().photo;
    assert!(detail.processed);
    assert_eq!(
        detail.processing_error.as_deref(),
        Some(taina::jaci::DECODER_FAILED)
    );
    // Not run again, however long one waits; the library goes on.
    t.advance(Duration::from_secs(48 * 3600));
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 0));
    assert_eq!(t.taina.jobs().counts().await.unwrap().failed, 1);
    assert_eq!(
        std::fs::read_to_string(&runs).unwrap(),
        "run\n",
        "decoded once"
    );
    let page = t
        .taina
        .jaci()
        .timeline(&ana, Scope::Mine, None, None, 0)
        .await
        .unwrap();
    assert_eq!(page.photos.len(), 1);

    // A decoder that hangs is killed at its time limit, with the same outcome.
    let hang = script(&dir, "hang", "exec sleep 30");
    let t = t
        .reconfigure(|c| {
            c.decoder = Some(hang);
            c.decoder_timeout_secs = 1;
        })
        .await;
    let slow = import(&t, &ana, Location::MyFiles, "slow.png", png(3), None).await;
    let started = std::time::Instant::now();
    let report = t.taina.jobs().run_due().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!((report.retrying, report.given_up), (0, 1));
    let why = failed_previews(&t, &slow.file_id).await.unwrap();
    assert!(why.contains("longer than 1 s"), "{why}");

    // One that writes without end is stopped at the bound on its answer.
    let flood = script(&dir, "flood", "exec cat /dev/zero");
    // (With the time limit back at its default: 256 MiB of zeros must not race a 1 s limit.)
    let t = t
        .reconfigure(|c| {
            c.decoder = Some(flood);
            c.decoder_timeout_secs = taina::Config::default().decoder_timeout_secs;
        })
        .await;
    let flooded = import(&t, &ana, Location::MyFiles, "flood.png", png(6), None).await;
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 1));
    let why = failed_previews(&t, &flooded.file_id).await.unwrap();
    assert!(why.contains("wrote more than"), "{why}");

    // Without any decoder program the server is at fault, not the file: retried later.
    let t = t
        .reconfigure(|c| c.decoder = Some("/nonexistent/taina-decode".into()))
        .await;
    let later = import(&t, &ana, Location::MyFiles, "later.png", png(4), None).await;
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (1, 0));
    let detail = t.taina.jaci().photo(&ana, &later.id).await.unwrap().photo;
    assert!(!detail.processed);
}

async fn a_decoder_past_its_memory_limit_fails_cleanly(t: TestInstance) {
    let t = t
        .reconfigure(|c| c.decoder_memory_bytes = 256 * 1024 * 1024)
        .await;
    let admin = t.setup().await;
    let ana = t.actor(&admin).await;
    let bomb = import(
        &t,
        &ana,
        Location::MyFiles,
        "bomb.png",
        png_claiming_100_megapixels(),
        None,
    )
    .await;
    let fine = import(
        &t,
        &ana,
        Location::MyFiles,
        "fine.jpg",
        fixture("jolla.jpg"),
        None,
    )
    .await;
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 1));
    let why = failed_previews(&t, &bomb.file_id).await.unwrap();
    assert!(
        why.contains("signal 6"),
        "killed when its allocation failed: {why}"
    );
    let jaci = t.taina.jaci();
    let detail = jaci.photo(&ana, &bomb.id).await.unwrap().photo;
    assert_eq!(
        detail.processing_error.as_deref(),
        Some(taina::jaci::DECODER_FAILED)
    );
    // The same limit leaves room for a real photo.
    assert_eq!(
        webp_size(
            &jaci
                .thumbnail(&ana, &fine.file_id, Size::Large)
                .await
                .unwrap()
        ),
        (1600, 1200)
    );
    t.advance(Duration::from_secs(48 * 3600));
    assert_eq!(t.taina.jobs().run_due().await.unwrap().given_up, 0);
}

async fn a_job_whose_worker_dies_every_time_is_given_up(t: TestInstance) {
    let admin = t.setup().await;
    let ana = t.actor(&admin).await;
    let photo = import(&t, &ana, Location::MyFiles, "p.png", png(5), None).await;
    // As if the server had crashed during each of its attempts: claimed every time, never
    // finished.
    let mut tx = t.taina.db().begin().await.unwrap();
    sqlx::query("UPDATE jobs SET attempts = max_attempts WHERE kind = 'previews'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!(report.given_up, 1);
    let why = failed_previews(&t, &photo.file_id).await.unwrap();
    assert!(why.contains("worker stopped"), "{why}");
    let detail = t.taina.jaci().photo(&ana, &photo.id).await.unwrap().photo;
    assert!(!detail.processed, "not run again");
}

async fn pdf_previews_run_limited_and_show_no_server_paths(t: TestInstance) {
    let dir = t.dir.path().to_owned();
    let data_dir = t.config.data_dir.display().to_string();
    let upload = |name: &str| taina::ybira::NewUpload {
        location: Location::MyFiles,
        name: name.into(),
        declared_size: None,
        on_conflict: taina::ybira::OnConflict::Rename,
    };
    // A pdftoppm that notes the limits it runs under, then fails the way pdftoppm does when it
    // cannot open its input: naming the file, with the server's paths.
    let limits = dir.join("limits");
    let fake = script(
        &dir,
        "pdftoppm",
        &format!(
            "ulimit -v > {0}; ulimit -c >> {0}\necho \"I/O Error: Couldn't open file '$9'\" >&2\nexit 1",
            limits.display()
        ),
    );
    let t = t
        .reconfigure(|c| {
            c.pdftoppm = fake.display().to_string();
            c.decoder_memory_bytes = 512 * 1024 * 1024;
        })
        .await;
    let admin = t.setup().await;
    let ana = t.actor(&admin).await;
    let ybira = t.taina.ybira();
    let doc = ybira
        .upload(&ana, upload("a.pdf"), body(pdf()))
        .await
        .unwrap();
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 0));
    assert_eq!(
        std::fs::read_to_string(&limits)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["524288", "0"],
        "pdftoppm runs with the decoder's memory limit (in KiB) and no core dumps"
    );
    let error = ybira
        .item(&ana, &doc.id)
        .await
        .unwrap()
        .preview_error
        .unwrap();
    assert!(
        !error.contains(&data_dir) && !error.contains('/'),
        "{error}"
    );

    // Without pdftoppm: no preview, and why, without the configured path.
    let t = t
        .reconfigure(|c| c.pdftoppm = "/nonexistent/pdftoppm".into())
        .await;
    let doc = t
        .taina
        .ybira()
        .upload(&ana, upload("b.pdf"), body(pdf()))
        .await
        .unwrap();
    let report = t.taina.jobs().run_due().await.unwrap();
    assert_eq!((report.retrying, report.given_up), (0, 0));
    let error = t
        .taina
        .ybira()
        .item(&ana, &doc.id)
        .await
        .unwrap()
        .preview_error
        .unwrap();
    assert!(error.contains("poppler"), "{error}");
    assert!(!error.contains("/nonexistent"), "{error}");

    // The real pdftoppm, limited, still renders the page.
    let t = t.reconfigure(|c| c.pdftoppm = "pdftoppm".into()).await;
    let doc = t
        .taina
        .ybira()
        .upload(&ana, upload("c.pdf"), body(pdf()))
        .await
        .unwrap();
    t.taina.jobs().run_due().await.unwrap();
    let doc = t.taina.ybira().item(&ana, &doc.id).await.unwrap();
    assert!(doc.has_previews, "{:?}", doc.preview_error);
}
