//! The second attacker's read (issue 16's closing sentence): further instances of the classes of
//! hole found first, each closed with a regression test, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use bytes::Bytes;
use taina::backend_tests;
use taina::core::{Actor, ErrorKind, PhotoId};
use taina::jaci::{AlbumUpdate, NewAlbum, NewPhoto, Photo, Visibility};
use taina::testing::{TestInstance, World};
use taina::ybira::{Location, ShareAccess};

/// A small PNG, different for each `seed`.
fn png(seed: u8) -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([seed, x as u8 * 7, y as u8 * 9]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn import(t: &TestInstance, actor: &Actor, location: Location, name: &str) -> Photo {
    let seed = name
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    let bytes = Bytes::from(png(seed));
    t.taina
        .jaci()
        .import(
            actor,
            NewPhoto {
                location,
                name: name.into(),
                declared_size: None,
                client_file_time: None,
            },
            futures::stream::iter([Ok::<_, std::io::Error>(bytes)]),
        )
        .await
        .unwrap()
}

/// Ana's shared album holds two photos of the shared space and one of Bia's private ones, which Ana sees
/// through a share and the admin does not: the admin, who may change a shared album, neither has
/// to name that photo to reorder the album, nor can take it out, nor make it the cover, nor learn
/// it is there by trying.
async fn album_changes_never_touch_or_reveal_hidden_photos(t: TestInstance) {
    let World {
        t, admin, ana, bia, ..
    } = t.world().await;
    let (jaci, ybira) = (t.taina.jaci(), t.taina.ybira());
    let first = import(&t, &ana, Location::Shared, "first.png").await;
    let second = import(&t, &ana, Location::Shared, "second.png").await;
    let folder = ybira
        .create_folder(&bia, &Location::MyFiles, "For Ana")
        .await
        .unwrap();
    let hidden = import(&t, &bia, Location::Folder(folder.id.clone()), "bia.png").await;
    ybira
        .share(&bia, &folder.id, &ana.user_id, ShareAccess::Read)
        .await
        .unwrap();
    let album = jaci
        .create_album(
            &ana,
            NewAlbum {
                name: "Family".into(),
                description: String::new(),
                visibility: Visibility::Shared,
            },
        )
        .await
        .unwrap();
    let everything = [first.id.clone(), hidden.id.clone(), second.id.clone()];
    jaci.add_to_album(&ana, &album.id, &everything)
        .await
        .unwrap();
    let ids = |photos: Vec<Photo>| photos.into_iter().map(|p| p.id).collect::<Vec<PhotoId>>();
    assert_eq!(
        ids(jaci.album_photos(&admin, &album.id).await.unwrap()),
        [first.id.clone(), second.id.clone()],
        "the admin sees Ana's photos only"
    );

    // Reordering what one sees is enough; the hidden photo keeps its place.
    jaci.reorder_album(&admin, &album.id, &[second.id.clone(), first.id.clone()])
        .await
        .expect("the admin reorders the photos they see");
    assert_eq!(
        ids(jaci.album_photos(&ana, &album.id).await.unwrap()),
        [second.id.clone(), hidden.id.clone(), first.id.clone()]
    );
    // Naming the hidden photo in an order is refused like naming a photo that is not there.
    let stranger = import(&t, &admin, Location::MyFiles, "not-in-it.png").await;
    let with_hidden = jaci
        .reorder_album(
            &admin,
            &album.id,
            &[first.id.clone(), second.id.clone(), hidden.id.clone()],
        )
        .await
        .unwrap_err();
    let with_stranger = jaci
        .reorder_album(
            &admin,
            &album.id,
            &[first.id.clone(), second.id.clone(), stranger.id.clone()],
        )
        .await
        .unwrap_err();
    assert_eq!(with_hidden.kind(), with_stranger.kind());
    assert_eq!(with_hidden.to_string(), with_stranger.to_string());

    // Taking it out: answered as for a photo not in the album, and it stays for Ana.
    let removed = jaci
        .remove_from_album(&admin, &album.id, &hidden.id)
        .await
        .unwrap_err();
    let absent = jaci
        .remove_from_album(&admin, &album.id, &stranger.id)
        .await
        .unwrap_err();
    assert_eq!(removed.kind(), ErrorKind::NotFound);
    assert_eq!(removed.to_string(), absent.to_string());
    assert_eq!(jaci.album(&ana, &album.id).await.unwrap().photo_count, 3);

    // Making it the cover: refused as for a photo not in the album.
    let cover = |photo: &PhotoId| AlbumUpdate {
        cover_photo_id: Some(Some(photo.clone())),
        ..AlbumUpdate::default()
    };
    let hidden_cover = jaci
        .update_album(&admin, &album.id, cover(&hidden.id))
        .await
        .unwrap_err();
    let stranger_cover = jaci
        .update_album(&admin, &album.id, cover(&stranger.id))
        .await
        .unwrap_err();
    assert_eq!(hidden_cover.kind(), stranger_cover.kind());
    assert_eq!(hidden_cover.to_string(), stranger_cover.to_string());
    // Ana, who sees it, still may.
    let as_ana = jaci
        .update_album(&ana, &album.id, cover(&hidden.id))
        .await
        .unwrap();
    assert_eq!(as_ana.cover_photo_id.as_ref(), Some(&hidden.id));
}

backend_tests!(album_changes_never_touch_or_reveal_hidden_photos);
