//! Jaci over HTTP, on both databases: upload, timeline with date headings, detail, thumbnails,
//! albums, deletion through the trash.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};
use taina::backend_tests;
use taina::core::Role;
use taina::testing::TestInstance;
use taina_server::testing::{TestServer, fixture_photo};

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn upload(s: &TestServer, token: &str, name: &str) -> Value {
    let response = s
        .upload(
            token,
            "/photos",
            name,
            fixture_photo(name),
            &[("modified_at", "2020-02-02T10:00:00Z")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn photos_timeline_thumbnails_and_albums(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let url = s.api("");
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (_, bia) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let client = Client::new();
    let token = &admin.token;
    let canon = upload(&s, token, "Canon_40D.jpg").await;
    assert_eq!(canon["taken_at"], "2008-05-30T15:56:01-00:00");
    assert_eq!(canon["camera"]["make"], "Canon");
    let jolla = upload(&s, token, "jolla.jpg").await;
    let not_a_photo = client
        .post(format!("{url}/photos"))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"just text".to_vec()).file_name("notes.txt"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_photo.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A phone asks which of its photos are already here: Canon's and Jolla's, not Nikon's; Bia's
    // library holds none of them; nonsense and too many at once are refused (422).
    let hash = |name: &str| {
        use sha2::Digest;
        hex_of(&sha2::Sha256::digest(fixture_photo(name)))
    };
    let asked = json!({"hashes": [hash("Canon_40D.jpg"), hash("Nikon_D70.jpg"), hash("jolla.jpg").to_uppercase()]});
    let known = |token: String, body: Value| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let r = client
                .post(format!("{url}/photos/known"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, mine) = known(token.clone(), asked.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let mut got: Vec<&str> = mine["known"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    got.sort_unstable();
    let mut want = vec![hash("Canon_40D.jpg"), hash("jolla.jpg")];
    want.sort_unstable();
    assert_eq!(got, want);
    let (_, hers) = known(bia.token.clone(), asked).await;
    assert!(hers["known"].as_array().unwrap().is_empty(), "{hers}");
    let many: Vec<String> = (0..501).map(|i| format!("{i:064x}")).collect();
    let (status, _) = known(token.clone(), json!({ "hashes": many })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = known(
        token.clone(),
        json!({ "hashes": [hash("jolla.jpg"), "not-a-hash"] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "hashes");

    let timeline: Value = client
        .get(format!("{url}/photos?utc_offset=-180"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = timeline["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        timeline["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["heading"]["kind"].is_string())
    );
    let bad_offset = client
        .get(format!("{url}/photos?utc_offset=5000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_offset.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail: Value = client
        .get(format!("{url}/photos/{}", items[0]["id"].as_str().unwrap()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["next_id"], items[1]["id"]);
    assert!(detail["previous_id"].is_null());

    // Thumbnails follow from the job; cached, and checked again (the file's content can change).
    t.taina.jobs().run_due().await.unwrap();
    let thumb = client
        .get(format!(
            "{url}/files/{}/thumbnail/small",
            jolla["file_id"].as_str().unwrap()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(thumb.headers()[header::CONTENT_TYPE], "image/webp");
    assert_eq!(thumb.headers()[header::CACHE_CONTROL], "private, no-cache");
    assert!(thumb.headers().contains_key(header::ETAG));
    assert!(thumb.bytes().await.unwrap().starts_with(b"RIFF"));
    let hidden = client
        .get(format!(
            "{url}/files/{}/thumbnail/small",
            jolla["file_id"].as_str().unwrap()
        ))
        .bearer_auth(&bia.token)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    // Albums: create, add, reorder, read back in order, delete.
    let album = client
        .post(format!("{url}/albums"))
        .bearer_auth(token)
        .json(&json!({"name": "Viagens", "visibility": "shared"}))
        .send()
        .await
        .unwrap();
    assert_eq!(album.status(), StatusCode::CREATED);
    let album: Value = album.json().await.unwrap();
    let album_url = format!("{url}/albums/{}", album["id"].as_str().unwrap());
    let ids = json!({"photo_ids": [canon["id"], jolla["id"]]});
    client
        .post(format!("{album_url}/photos"))
        .bearer_auth(token)
        .json(&ids)
        .send()
        .await
        .unwrap();
    let reversed = json!({"photo_ids": [jolla["id"], canon["id"]]});
    let ordered = client
        .put(format!("{album_url}/order"))
        .bearer_auth(token)
        .json(&reversed)
        .send()
        .await
        .unwrap();
    assert_eq!(ordered.status(), StatusCode::OK);
    let read: Value = client
        .get(&album_url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order: Vec<&Value> = read["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["id"])
        .collect();
    assert_eq!(order, vec![&jolla["id"], &canon["id"]]);
    // Bia sees the shared album but not Ana's private photos in it.
    let seen: Value = client
        .get(&album_url)
        .bearer_auth(&bia.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(seen["photos"].as_array().unwrap().is_empty());

    // Deleting a photo sends its file to the trash.
    let deleted = client
        .delete(format!("{url}/photos/{}", canon["id"].as_str().unwrap()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let trash: Value = client
        .get(format!("{url}/trash"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(trash["items"][0]["id"], canon["file_id"]);
    let gone = client
        .delete(&album_url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
}

backend_tests!(photos_timeline_thumbnails_and_albums);
