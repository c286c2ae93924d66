//! Who may read and change what in Ybira and Jaci, tried over real HTTP as an attacker would, on
//! both databases (issue 16: #6, #15, #19, #20): a folder's owner cannot take or destroy what
//! others put in it, breadcrumbs and the trash show only what the viewer may read, a photo's
//! neighbours and an album's count and cover leave out hidden photos, and replacing a file's
//! content makes nobody its owner.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use bytes::Bytes;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use taina::backend_tests;
use taina::core::{Actor, Role};
use taina::jaci::{NewPhoto, Photo};
use taina::testing::TestInstance;
use taina::ybira::{Item, Location, NewUpload, OnConflict, ShareAccess};
use taina_server::testing::{TestServer, error, fixture_photo, json};

/// The admin, members Ana and Bia and guest Gil: their actors and bearer tokens.
struct People {
    admin: (Actor, String),
    ana: (Actor, String),
    bia: (Actor, String),
    gil: (Actor, String),
}

async fn people(t: &TestInstance) -> People {
    let signed_in = t.setup().await;
    let admin = t.actor(&signed_in).await;
    let (ana, a) = t.join(&admin, "ana@example.org", Role::Member).await;
    let (bia, b) = t.join(&admin, "bia@example.org", Role::Member).await;
    let (gil, g) = t.join(&admin, "gil@example.org", Role::Guest).await;
    People {
        admin: (admin, signed_in.token),
        ana: (ana, a.token),
        bia: (bia, b.token),
        gil: (gil, g.token),
    }
}

fn body(bytes: &[u8]) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    futures::stream::iter(vec![Ok(Bytes::copy_from_slice(bytes))])
}

async fn put(t: &TestInstance, actor: &Actor, location: Location, name: &str, b: &[u8]) -> Item {
    t.taina
        .ybira()
        .upload(
            actor,
            NewUpload {
                location,
                name: name.into(),
                declared_size: None,
                on_conflict: OnConflict::Rename,
            },
            body(b),
        )
        .await
        .unwrap()
}

async fn photo(t: &TestInstance, actor: &Actor, location: Location, fixture: &str) -> Photo {
    t.taina
        .jaci()
        .import(
            actor,
            NewPhoto {
                location,
                name: fixture.into(),
                declared_size: None,
                client_file_time: None,
            },
            body(&fixture_photo(fixture)),
        )
        .await
        .unwrap()
}

async fn get(client: &Client, s: &TestServer, token: &str, path: &str) -> Value {
    let response = client
        .get(s.api(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    json(response).await
}

/// Issue 16 #6: moving a shared folder into a private space, or deleting or purging it, does not
/// carry off or destroy the files others put in it; a write-share holder cannot either.
async fn a_folder_holding_others_files_is_not_taken_or_destroyed(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let p = people(&t).await;
    let y = t.taina.ybira();
    let trip = y
        .create_folder(&p.ana.0, &Location::Shared, "Trip")
        .await
        .unwrap();
    let hers = put(
        &t,
        &p.bia.0,
        Location::Folder(trip.id.clone()),
        "b.jpg",
        b"bia",
    )
    .await;
    let folder = s.api(&format!("/folders/{}", trip.id));
    for (token, change) in [
        (&p.ana.1, "root"),
        // An admin may delete what is shared, but not carry it into their own space.
        (&p.admin.1, "root"),
    ] {
        let moved = client
            .patch(&folder)
            .bearer_auth(token)
            .json(&json!({ "parent_id": change }))
            .send()
            .await
            .unwrap();
        let e = error(moved, StatusCode::FORBIDDEN).await;
        assert!(
            e["message"].as_str().unwrap().contains("other people"),
            "{e}"
        );
    }
    let deleted = client
        .delete(&folder)
        .bearer_auth(&p.ana.1)
        .send()
        .await
        .unwrap();
    error(deleted, StatusCode::FORBIDDEN).await;
    let file = get(&client, &s, &p.bia.1, &format!("/files/{}", hers.id)).await;
    assert_eq!(file["space"]["kind"], "shared");
    assert_eq!(file["parent_id"], trip.id.to_string());
    // Trashed by the admin, it is in Ana's trash (her folder), but not hers to purge.
    y.delete(&p.admin.0, &trip.id).await.unwrap();
    let purged = client
        .delete(s.api(&format!("/trash/{}", trip.id)))
        .bearer_auth(&p.ana.1)
        .send()
        .await
        .unwrap();
    error(purged, StatusCode::FORBIDDEN).await;
    y.restore(&p.admin.0, &trip.id).await.unwrap();
    assert!(y.item(&p.bia.0, &hers.id).await.is_ok());

    // A write-share holder's folder in Ana's space, holding Ana's file, stays where it is.
    let boxed = y
        .create_folder(&p.ana.0, &Location::MyFiles, "Box")
        .await
        .unwrap();
    y.share(&p.ana.0, &boxed.id, &p.gil.0.user_id, ShareAccess::Write)
        .await
        .unwrap();
    let gils = y
        .create_folder(&p.gil.0, &Location::Folder(boxed.id.clone()), "Gil's")
        .await
        .unwrap();
    let anas = put(
        &t,
        &p.ana.0,
        Location::Folder(gils.id.clone()),
        "a.txt",
        b"ana",
    )
    .await;
    let url = s.api(&format!("/folders/{}", gils.id));
    let moved = client
        .patch(&url)
        .bearer_auth(&p.gil.1)
        .json(&json!({ "parent_id": "root" }))
        .send()
        .await
        .unwrap();
    error(moved, StatusCode::FORBIDDEN).await;
    let deleted = client
        .delete(&url)
        .bearer_auth(&p.gil.1)
        .send()
        .await
        .unwrap();
    error(deleted, StatusCode::FORBIDDEN).await;
    let file = get(&client, &s, &p.ana.1, &format!("/files/{}", anas.id)).await;
    assert_eq!(file["space"]["owner_id"], p.ana.0.user_id.to_string());
}

/// Issue 16 #15: breadcrumbs start at the highest folder the viewer may read; the trash lists
/// only what the viewer may still restore.
async fn breadcrumbs_and_trash_show_only_what_the_viewer_may_read(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let p = people(&t).await;
    let y = t.taina.ybira();
    let family = y
        .create_folder(&p.ana.0, &Location::MyFiles, "Family secrets")
        .await
        .unwrap();
    let trip = y
        .create_folder(&p.ana.0, &Location::Folder(family.id.clone()), "Trip")
        .await
        .unwrap();
    let day = y
        .create_folder(&p.ana.0, &Location::Folder(trip.id.clone()), "Day 1")
        .await
        .unwrap();
    y.share(&p.ana.0, &trip.id, &p.bia.0.user_id, ShareAccess::Read)
        .await
        .unwrap();
    let names = |view: &Value| -> Vec<String> {
        view["breadcrumbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let path = format!("/folders/{}", day.id);
    let hers = get(&client, &s, &p.ana.1, &path).await;
    assert_eq!(names(&hers), ["Family secrets", "Trip", "Day 1"]);
    let shared = get(&client, &s, &p.bia.1, &path).await;
    assert_eq!(names(&shared), ["Trip", "Day 1"]);
    let top = get(&client, &s, &p.bia.1, &format!("/folders/{}", trip.id)).await;
    assert_eq!(names(&top), ["Trip"]);

    // Gil puts a file in Ana's shared box, deletes it, and then loses the share.
    let boxed = y
        .create_folder(&p.ana.0, &Location::MyFiles, "Box")
        .await
        .unwrap();
    y.share(&p.ana.0, &boxed.id, &p.gil.0.user_id, ShareAccess::Write)
        .await
        .unwrap();
    let gils = put(
        &t,
        &p.gil.0,
        Location::Folder(boxed.id.clone()),
        "g.txt",
        b"gil",
    )
    .await;
    y.delete(&p.gil.0, &gils.id).await.unwrap();
    let trash_ids = |list: Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let gil_id = gils.id.to_string();
    assert_eq!(
        trash_ids(get(&client, &s, &p.gil.1, "/trash").await),
        std::slice::from_ref(&gil_id)
    );
    y.unshare(&p.ana.0, &boxed.id, &p.gil.0.user_id)
        .await
        .unwrap();
    assert!(
        trash_ids(get(&client, &s, &p.gil.1, "/trash").await).is_empty(),
        "gone with the share"
    );
    let restore = client
        .post(s.api(&format!("/trash/{}/restore", gils.id)))
        .bearer_auth(&p.gil.1)
        .send()
        .await
        .unwrap();
    error(restore, StatusCode::NOT_FOUND).await;
    // Ana, whose space it is, still finds it.
    assert_eq!(
        trash_ids(get(&client, &s, &p.ana.1, "/trash").await),
        [gil_id]
    );
}

/// Issue 16 #19: a photo reached through a share comes without neighbours; an album's count and
/// cover leave out the photos the viewer may not see.
async fn photo_neighbours_and_albums_hide_what_the_viewer_may_not_see(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let p = people(&t).await;
    let y = t.taina.ybira();
    let folder = y
        .create_folder(&p.ana.0, &Location::MyFiles, "For Bia")
        .await
        .unwrap();
    let hidden = photo(&t, &p.ana.0, Location::MyFiles, "landscape_1.jpg").await;
    let opened = photo(
        &t,
        &p.ana.0,
        Location::Folder(folder.id.clone()),
        "landscape_2.jpg",
    )
    .await;
    photo(&t, &p.ana.0, Location::MyFiles, "landscape_3.jpg").await;
    y.share(&p.ana.0, &folder.id, &p.bia.0.user_id, ShareAccess::Read)
        .await
        .unwrap();
    let path = format!("/photos/{}", opened.id);
    let own = get(&client, &s, &p.ana.1, &path).await;
    assert!(
        !own["previous_id"].is_null() || !own["next_id"].is_null(),
        "{own}"
    );
    let shared = get(&client, &s, &p.bia.1, &path).await;
    assert_eq!(shared["id"], opened.id.to_string());
    assert!(
        shared["previous_id"].is_null() && shared["next_id"].is_null(),
        "{shared}"
    );

    // A shared album whose cover is Ana's private photo.
    let visible = photo(&t, &p.ana.0, Location::Shared, "landscape_4.jpg").await;
    let album = client
        .post(s.api("/albums"))
        .bearer_auth(&p.ana.1)
        .json(&json!({ "name": "Mixed", "visibility": "shared" }))
        .send()
        .await
        .unwrap();
    assert_eq!(album.status(), StatusCode::CREATED);
    let album = json(album).await;
    let album_path = format!("/albums/{}", album["id"].as_str().unwrap());
    let added = client
        .post(s.api(&format!("{album_path}/photos")))
        .bearer_auth(&p.ana.1)
        .json(&json!({ "photo_ids": [hidden.id.to_string(), visible.id.to_string()] }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::OK);
    let covered = client
        .patch(s.api(&album_path))
        .bearer_auth(&p.ana.1)
        .json(&json!({ "cover_photo_id": hidden.id.to_string() }))
        .send()
        .await
        .unwrap();
    assert_eq!(covered.status(), StatusCode::OK);
    let as_ana = get(&client, &s, &p.ana.1, &album_path).await;
    assert_eq!(as_ana["photo_count"], 2);
    assert_eq!(as_ana["cover_photo_id"], hidden.id.to_string());
    let as_bia = get(&client, &s, &p.bia.1, &album_path).await;
    assert_eq!(as_bia["photo_count"], 1, "{as_bia}");
    assert_eq!(as_bia["cover_photo_id"], visible.id.to_string());
    assert_eq!(as_bia["photos"].as_array().unwrap().len(), 1);
    let listed = get(&client, &s, &p.bia.1, "/albums").await;
    let listed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == album["id"])
        .unwrap()
        .clone();
    assert_eq!(listed["photo_count"], 1, "{listed}");
    assert_eq!(listed["cover_photo_id"], visible.id.to_string());
}

/// Issue 16 #20: a write-share holder who replaces the content of a file whose owner left does
/// not become its owner (and so still may not delete or move it).
async fn a_writer_replacing_an_orphan_does_not_become_its_owner(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let p = people(&t).await;
    let y = t.taina.ybira();
    let docs = y
        .create_folder(&p.bia.0, &Location::Shared, "Docs")
        .await
        .unwrap();
    let file = put(
        &t,
        &p.bia.0,
        Location::Folder(docs.id.clone()),
        "plan.txt",
        b"v1",
    )
    .await;
    y.share(&p.bia.0, &docs.id, &p.gil.0.user_id, ShareAccess::Write)
        .await
        .unwrap();
    t.taina
        .accounts()
        .remove_member(&p.admin.0, &p.bia.0.user_id)
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("folder_id", docs.id.to_string())
        .text("on_conflict", "replace")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"v2 by gil".to_vec()).file_name("plan.txt"),
        );
    let replaced = client
        .post(s.api("/files"))
        .bearer_auth(&p.gil.1)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(replaced.status().is_success(), "{}", replaced.status());
    let replaced = json(replaced).await;
    assert_eq!(replaced["id"], file.id.to_string());
    assert!(replaced["owner_id"].is_null(), "{replaced}");
    let deleted = client
        .delete(s.api(&format!("/files/{}", file.id)))
        .bearer_auth(&p.gil.1)
        .send()
        .await
        .unwrap();
    error(deleted, StatusCode::FORBIDDEN).await;
    assert!(y.item(&p.ana.0, &file.id).await.is_ok());
}

backend_tests!(
    a_folder_holding_others_files_is_not_taken_or_destroyed,
    breadcrumbs_and_trash_show_only_what_the_viewer_may_read,
    photo_neighbours_and_albums_hide_what_the_viewer_may_not_see,
    a_writer_replacing_an_orphan_does_not_become_its_owner,
);
