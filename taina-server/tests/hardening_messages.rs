//! Guará's hardening over real HTTP, on both databases: an attachment keeps the content it was sent
//! with (a revoked share and new content change nothing; its reference is counted exactly and goes
//! with the message), reactions are capped, adding people checks the sizes before anyone is looked
//! up, and a search finds exactly the viewer's messages.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use reqwest::header::{self, HeaderMap};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use taina::backend_tests;
use taina::core::{Role, UserId};
use taina::testing::TestInstance;
use taina::ybira::IntegrityOptions;
use taina_server::testing::TestServer;

/// A client for one server, speaking as whoever's token it is given.
struct Api {
    server: TestServer,
    client: Client,
}

impl Api {
    async fn start(t: &TestInstance) -> Api {
        Api {
            server: TestServer::start(t).await,
            client: Client::new(),
        }
    }

    fn get(&self, token: &str, path: &str) -> RequestBuilder {
        self.client.get(self.server.api(path)).bearer_auth(token)
    }

    fn post(&self, token: &str, path: &str, body: Value) -> RequestBuilder {
        self.client
            .post(self.server.api(path))
            .bearer_auth(token)
            .json(&body)
    }

    fn delete(&self, token: &str, path: &str) -> RequestBuilder {
        self.client.delete(self.server.api(path)).bearer_auth(token)
    }

    /// A file uploaded to the token holder's own space (`replace`: new content for the file of
    /// that name).
    async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>, replace: bool) -> Value {
        let fields: &[(&str, &str)] = if replace {
            &[("on_conflict", "replace")]
        } else {
            &[]
        };
        let response = self
            .server
            .upload(token, "/files", name, bytes, fields)
            .await;
        expect(response, StatusCode::CREATED).await
    }

    /// The direct conversation between the token holder and `other`.
    async fn direct(&self, token: &str, other: &str) -> String {
        let dm = self
            .post(token, &format!("/conversations/direct/{other}"), json!({}))
            .send()
            .await
            .unwrap();
        id(&expect(dm, StatusCode::OK).await)
    }

    /// Sends `text` to a conversation and answers the message.
    async fn say(&self, token: &str, conversation: &str, text: &str) -> Value {
        let sent = self
            .post(
                token,
                &format!("/conversations/{conversation}/messages"),
                json!({"content": text}),
            )
            .send()
            .await
            .unwrap();
        expect(sent, StatusCode::CREATED).await
    }

    /// A message's attachment: status, headers and bytes.
    async fn attachment(&self, token: &str, message: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self
            .get(token, &format!("/messages/{message}/attachment"))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }
}

/// Asserts the status (showing the body when it differs) and answers the JSON body (`null` when
/// there is none).
async fn expect(response: Response, status: StatusCode) -> Value {
    let url = response.url().to_string();
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{url}: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Ana (the admin), Bia and Gil: their user ids and tokens.
async fn three(t: &TestInstance) -> [(String, String); 3] {
    let ana = t.setup().await;
    let ana_actor = t.actor(&ana).await;
    let (bia_actor, bia) = t.join(&ana_actor, "bia@example.org", Role::Member).await;
    let (gil_actor, gil) = t.join(&ana_actor, "gil@example.org", Role::Member).await;
    [
        (ana_actor.user_id.to_string(), ana.token),
        (bia_actor.user_id.to_string(), bia.token),
        (gil_actor.user_id.to_string(), gil.token),
    ]
}

/// The integrity check finds every blob's reference count exact and the community's use right.
async fn references_are_exact(t: &TestInstance) {
    let report = t
        .taina
        .ybira()
        .check_integrity(IntegrityOptions::default())
        .await
        .unwrap();
    assert!(
        report.reference_drift.is_empty(),
        "{:?}",
        report.reference_drift
    );
    assert!(report.quota_drift.is_empty(), "{:?}", report.quota_drift);
}

/// The community's recorded storage use, as its admin (`token`) reads it.
async fn used_bytes(t: &TestInstance, token: &str) -> i64 {
    let admin = t.taina.accounts().authenticate(token).await.unwrap();
    let community = t.taina.accounts().community(&admin).await.unwrap();
    community.storage_used_bytes.unwrap()
}

async fn an_attachment_keeps_the_content_it_was_sent_with(t: TestInstance) {
    let api = Api::start(&t).await;
    let [(_, ana), (bia_id, bia), (gil_id, gil)] = three(&t).await;
    let original = b"the plan as it was when Bia sent it".to_vec();
    let newer = b"Ana's later, private rewrite: nobody else was meant to read this".to_vec();

    // Ana shares a private file with Bia, read-only.
    let file = api.upload(&ana, "plano.txt", original.clone(), false).await;
    let share = api
        .post(
            &ana,
            "/shares",
            json!({"item_id": id(&file), "user_id": bia_id, "access": "read"}),
        )
        .send()
        .await
        .unwrap();
    let share = expect(share, StatusCode::CREATED).await;

    // Bia attaches it in a conversation with Gil, who could never read the file.
    let dm = api.direct(&bia, &gil_id).await;
    let sent = api
        .post(
            &bia,
            &format!("/conversations/{dm}/messages"),
            json!({"content": "look", "file_id": id(&file)}),
        )
        .send()
        .await
        .unwrap();
    let sent = expect(sent, StatusCode::CREATED).await;
    let message = id(&sent);
    assert_eq!(sent["attachment"]["file_id"], file["id"]);
    references_are_exact(&t).await;

    // Ana ends the share and gives the file new content.
    let revoked = api
        .delete(&ana, &format!("/shares/{}", id(&share)))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let replaced = api.upload(&ana, "plano.txt", newer.clone(), true).await;
    assert_eq!(replaced["id"], file["id"]);
    let refused = api
        .get(&bia, &format!("/files/{}/content", id(&file)))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    // Both still read what was sent, never the new content.
    for token in [&bia, &gil] {
        let (status, headers, bytes) = api.attachment(token, &message).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes, original);
        assert_eq!(headers[header::ETAG], file["etag"].as_str().unwrap());
        assert_ne!(headers[header::ETAG], replaced["etag"].as_str().unwrap());
        // A range is a range of what was sent, too.
        let part = api
            .get(token, &format!("/messages/{message}/attachment"))
            .header(header::RANGE, "bytes=0-7")
            .send()
            .await
            .unwrap();
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.bytes().await.unwrap().to_vec(), original[..8].to_vec());
    }
    // Ana is not in the conversation: the message is nothing to her.
    assert_eq!(
        api.attachment(&ana, &message).await.0,
        StatusCode::NOT_FOUND
    );
    references_are_exact(&t).await;

    // Ana purges the file and its versions: the message keeps its content, and its reference keeps
    // that content stored and charged once.
    let trashed = api
        .delete(&ana, &format!("/files/{}", id(&file)))
        .send()
        .await
        .unwrap();
    assert!(trashed.status().is_success(), "{}", trashed.status());
    let purged = api
        .delete(&ana, &format!("/trash/{}", id(&file)))
        .send()
        .await
        .unwrap();
    assert!(purged.status().is_success(), "{}", purged.status());
    let (status, _, bytes) = api.attachment(&gil, &message).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, original);
    let history = api
        .get(&gil, &format!("/conversations/{dm}/messages"))
        .send()
        .await
        .unwrap();
    let history = expect(history, StatusCode::OK).await;
    let kept = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == sent["id"])
        .unwrap()
        .clone();
    assert_eq!(kept["attachment"]["file_id"], file["id"]);
    assert_eq!(used_bytes(&t, &ana).await, original.len() as i64);
    references_are_exact(&t).await;

    // Deleting the message drops its reference: the content is freed.
    let deleted = api
        .delete(&bia, &format!("/messages/{message}"))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert_eq!(
        api.attachment(&gil, &message).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(used_bytes(&t, &ana).await, 0);
    references_are_exact(&t).await;
}

async fn a_purged_conversation_releases_its_attachments(t: TestInstance) {
    let api = Api::start(&t).await;
    let [(ana_id, ana), (bia_id, bia), _] = three(&t).await;
    let content = vec![42u8; 3000];
    let file = api.upload(&ana, "foto.bin", content.clone(), false).await;
    let group = api
        .post(
            &ana,
            "/conversations",
            json!({"type": "group", "name": "Família", "participant_ids": [bia_id]}),
        )
        .send()
        .await
        .unwrap();
    let group = id(&expect(group, StatusCode::CREATED).await);
    // The same file twice: two references.
    for _ in 0..2 {
        let sent = api
            .post(
                &ana,
                &format!("/conversations/{group}/messages"),
                json!({"content": "", "file_id": id(&file)}),
            )
            .send()
            .await
            .unwrap();
        expect(sent, StatusCode::CREATED).await;
    }
    references_are_exact(&t).await;
    // The file goes; the messages keep the content.
    for path in [
        format!("/files/{}", id(&file)),
        format!("/trash/{}", id(&file)),
    ] {
        let gone = api.delete(&ana, &path).send().await.unwrap();
        assert!(gone.status().is_success(), "{path}: {}", gone.status());
    }
    assert_eq!(used_bytes(&t, &ana).await, content.len() as i64);
    references_are_exact(&t).await;
    // Everyone leaves: the conversation is purged, and its references with it.
    for (token, me_id) in [(&ana, &ana_id), (&bia, &bia_id)] {
        let left = api
            .delete(
                token,
                &format!("/conversations/{group}/participants/{me_id}"),
            )
            .send()
            .await
            .unwrap();
        assert!(left.status().is_success(), "{me_id}: {}", left.status());
    }
    assert_eq!(used_bytes(&t, &ana).await, 0);
    references_are_exact(&t).await;
}

async fn reactions_are_capped(t: TestInstance) {
    let api = Api::start(&t).await;
    let [(_, ana), (bia_id, bia), _] = three(&t).await;
    let dm = api.direct(&ana, &bia_id).await;
    let message = id(&api.say(&ana, &dm, "reagem!").await);
    let react = |token: &str, emoji: String| {
        api.post(
            token,
            &format!("/messages/{message}/reactions"),
            json!({ "emoji": emoji }),
        )
        .send()
    };
    // Twenty different emoji each, at most.
    for i in 0..20 {
        t.advance(std::time::Duration::from_millis(1));
        let r = react(&ana, format!("a{i}")).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "reaction {i}");
    }
    let over = react(&ana, "a20".into()).await.unwrap();
    let e = taina_server::testing::error(over, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "conflict", "{e}");
    // Fifty different emoji on one message, at most; joining one already there still works.
    for i in 0..20 {
        t.advance(std::time::Duration::from_millis(1));
        let r = react(&bia, format!("b{i}")).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "reaction {i}");
    }
    let joined = react(&bia, "a0".into()).await.unwrap();
    assert_eq!(joined.status(), StatusCode::CONFLICT, "Bia is at her limit");
    // The message as read back: grouped by emoji, each with who reacted, in order.
    let history = api
        .get(&ana, &format!("/conversations/{dm}/messages"))
        .send()
        .await
        .unwrap();
    let history = expect(history, StatusCode::OK).await;
    let messages = history["items"].as_array().unwrap().clone();
    let reacted = messages
        .iter()
        .find(|m| m["id"] == message.as_str())
        .unwrap();
    let reactions = reacted["reactions"].as_array().unwrap();
    assert_eq!(reactions.len(), 40);
    assert_eq!(reactions[0]["emoji"], "a0");
    assert_eq!(reactions[20]["emoji"], "b0");
    assert_eq!(reactions[0]["user_ids"].as_array().unwrap().len(), 1);
}

async fn a_message_holds_at_most_fifty_emoji(t: TestInstance) {
    let api = Api::start(&t).await;
    let ana = t.setup().await;
    let ana_actor = t.actor(&ana).await;
    let mut people = Vec::new();
    for i in 0..3 {
        let (actor, signed_in) = t
            .join(&ana_actor, &format!("p{i}@example.org"), Role::Member)
            .await;
        people.push((actor.user_id.to_string(), signed_in.token));
    }
    let ids: Vec<&str> = people.iter().map(|(id, _)| id.as_str()).collect();
    let group = api
        .post(
            &ana.token,
            "/conversations",
            json!({"type": "group", "name": "Muitos", "participant_ids": ids}),
        )
        .send()
        .await
        .unwrap();
    let group = id(&expect(group, StatusCode::CREATED).await);
    let message = id(&api.say(&ana.token, &group, "emoji!").await);
    let react = |token: &str, emoji: String| {
        api.post(
            token,
            &format!("/messages/{message}/reactions"),
            json!({ "emoji": emoji }),
        )
        .send()
    };
    // Ana 20, then 20 and 10 more from two others: 50 different emoji.
    let mut n = 0;
    for (token, count) in [(&ana.token, 20), (&people[0].1, 20), (&people[1].1, 10)] {
        for _ in 0..count {
            let r = react(token, format!("e{n}")).await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED, "emoji {n}");
            n += 1;
        }
    }
    let over = react(&people[2].1, "one-more".into()).await.unwrap();
    taina_server::testing::error(over, StatusCode::CONFLICT).await;
    // An emoji already on the message is still open to join.
    let joined = react(&people[2].1, "e0".into()).await.unwrap();
    assert_eq!(joined.status(), StatusCode::CREATED);
}

async fn adding_people_checks_the_sizes_first(t: TestInstance) {
    let api = Api::start(&t).await;
    let [(_, ana), (bia_id, _), (gil_id, _)] = three(&t).await;
    let group = api
        .post(
            &ana,
            "/conversations",
            json!({"type": "group", "name": "Grupo", "participant_ids": [bia_id]}),
        )
        .send()
        .await
        .unwrap();
    let group = id(&expect(group, StatusCode::CREATED).await);
    let path = format!("/conversations/{group}/participants");
    // A list longer than a group holds is refused as such, before anyone in it is looked up
    // (they name nobody here: looking them up first would answer "not found").
    let strangers: Vec<String> = (0..101)
        .map(|_| taina::random::new_id(UserId::from_random).to_string())
        .collect();
    let refused = api
        .post(&ana, &path, json!({ "participant_ids": strangers }))
        .send()
        .await
        .unwrap();
    let e = taina_server::testing::error(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["code"], "invalid", "{e}");
    let e = {
        let again: Vec<&str> = std::iter::repeat_n(bia_id.as_str(), 500).collect();
        let refused = api
            .post(&ana, &path, json!({ "participant_ids": again }))
            .send()
            .await
            .unwrap();
        taina_server::testing::error(refused, StatusCode::UNPROCESSABLE_ENTITY).await
    };
    assert_eq!(e["code"], "invalid", "{e}");
    // Someone already in it, with a newcomer: only the newcomer is added.
    let added = api
        .post(&ana, &path, json!({ "participant_ids": [gil_id, bia_id] }))
        .send()
        .await
        .unwrap();
    let added = expect(added, StatusCode::OK).await;
    assert_eq!(added["participants"].as_array().unwrap().len(), 3);
    // A stranger named alone is still "not found".
    let stranger = taina::random::new_id(UserId::from_random).to_string();
    let refused = api
        .post(&ana, &path, json!({ "participant_ids": [stranger] }))
        .send()
        .await
        .unwrap();
    taina_server::testing::error(refused, StatusCode::NOT_FOUND).await;
}

async fn a_search_finds_exactly_the_viewers_messages(t: TestInstance) {
    let api = Api::start(&t).await;
    let [(ana_id, ana), (bia_id, bia), (gil_id, gil)] = three(&t).await;
    let (zeca, other) = t.other_community("Outra", "zeca@example.org").await;
    let ana_bia = api.direct(&ana, &bia_id).await;
    let bia_gil = api.direct(&bia, &gil_id).await;
    let ana_gil = api.direct(&gil, &ana_id).await;
    let mine = [
        id(&api.say(&ana, &ana_bia, "festa no sábado").await),
        id(&api.say(&bia, &ana_bia, "a festa começa às oito").await),
        id(&api.say(&gil, &ana_gil, "levo bolo para a festa").await),
    ];
    // Others' messages with the same words: never Ana's to find.
    api.say(&bia, &bia_gil, "festa surpresa para a Ana!").await;
    for i in 0..30 {
        api.say(&gil, &bia_gil, &format!("festa {i}")).await;
    }
    let (xica, _) = t.join(&zeca, "xica@example.org", Role::Member).await;
    let outside = api.direct(&other.token, xica.user_id.as_str()).await;
    api.say(&other.token, &outside, "festa na outra comunidade")
        .await;
    // A message Ana's conversation held once, deleted: gone from the results.
    let deleted = id(&api.say(&ana, &ana_bia, "festa cancelada").await);
    let gone = api
        .delete(&ana, &format!("/messages/{deleted}"))
        .send()
        .await
        .unwrap();
    assert!(gone.status().is_success());

    for q in ["festa", "fes", "FESTA!"] {
        let found = api
            .get(&ana, "/search/messages")
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        let found = expect(found, StatusCode::OK).await;
        let mut ids: Vec<String> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["message"]["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        let mut expected = mine.to_vec();
        expected.sort();
        assert_eq!(ids, expected, "{q}");
        for hit in found["items"].as_array().unwrap() {
            assert!(hit["snippet"].as_str().unwrap().contains('«'), "{hit}");
        }
    }
    // Bia sees hers: the conversation with Ana and the one with Gil (31 + 2), capped at 50.
    let found = api
        .get(&bia, "/search/messages")
        .query(&[("q", "surpresa")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(found, StatusCode::OK).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

backend_tests!(
    an_attachment_keeps_the_content_it_was_sent_with,
    a_purged_conversation_releases_its_attachments,
    reactions_are_capped,
    a_message_holds_at_most_fifty_emoji,
    adding_people_checks_the_sizes_first,
    a_search_finds_exactly_the_viewers_messages,
);
