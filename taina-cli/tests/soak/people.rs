//! The people of a soak run and their set-up over the API, before the load: the community with
//! its admin (`/setup`), everyone else registered with one invite (each person signs in once, by
//! registering, and keeps that token), a private folder and one file each, a few shared folders,
//! groups of 5–10 people in three seeded rounds (so each person is in about three) and a direct
//! conversation between each person and the next.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use super::content;
use super::rng::Rng;

/// The password everyone gets (long enough for the server's rules).
const PASSWORD: &str = "soak test password 1234";

/// Requests in flight at once during the set-up. Registrations hash a password each (Argon2, on a
/// pool as wide as the server's cores): more at once would only queue.
const SET_UP_CONCURRENCY: usize = 4;

/// A conversation and who is in it (indexes into the people).
#[derive(Debug)]
pub struct Conversation {
    /// Its id.
    pub id: String,
    /// Its participants.
    pub members: Vec<usize>,
}

/// A file a person uploaded, with what is needed to check any range of it.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// Its id.
    pub id: String,
    /// The seed its bytes come from ([`content`]).
    pub seed: u64,
    /// Its length.
    pub len: usize,
}

/// One person.
#[derive(Debug)]
pub struct Person {
    /// Their place in the run (0 is the admin).
    pub index: usize,
    /// Their user id.
    pub user_id: String,
    /// Their session's bearer token.
    pub token: String,
    /// A folder in their private space.
    pub folder_id: String,
    /// The conversations they are in.
    pub conversations: Vec<Arc<Conversation>>,
    /// Files they uploaded that they may download (the latest few).
    pub files: Vec<StoredFile>,
}

/// Everyone, and what they share.
#[derive(Debug)]
pub struct Community {
    /// The people, by index.
    pub people: Vec<Person>,
    /// Folders in the community's shared space.
    pub shared_folders: Vec<String>,
    /// Every conversation.
    pub conversations: Vec<Arc<Conversation>>,
}

/// A set-up request: sent (again, after a while, while the server says it is busy) until it
/// answers 2xx; its JSON body.
async fn call(
    http: &reqwest::Client,
    what: &str,
    build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) -> Result<Value, String> {
    for _ in 0..20 {
        let response = build(http)
            .send()
            .await
            .map_err(|e| format!("set-up: {what}: {e}"))?;
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("set-up: {what}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "set-up: {what} answered {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        return serde_json::from_slice(&body).map_err(|e| format!("set-up: {what}: {e}"));
    }
    Err(format!("set-up: {what}: still busy after 20 tries"))
}

fn text(value: &Value, field: &str, what: &str) -> Result<String, String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("set-up: {what} answered no {field}: {value}"))
}

/// Sets up `count` people (at least 2) on the fresh server at `base`.
pub async fn set_up(base: &str, count: usize, seed: u64) -> Result<Community, String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client");
    let api = |path: &str| format!("{base}api/v1/{path}");
    let admin = call(&http, "setup", |http| {
        http.post(api("setup")).json(&json!({
            "community_name": "Vila Soak",
            "email": "p0@example.org",
            "password": PASSWORD,
            "display_name": "Person 0",
        }))
    })
    .await?;
    let admin_token = text(&admin, "token", "setup")?;
    let invite = call(&http, "invite", |http| {
        http.post(api("community/invites"))
            .bearer_auth(&admin_token)
            .json(&json!({"role": "member", "max_uses": count - 1}))
    })
    .await?;
    let invite = text(&invite, "token", "invite")?;
    let mut accounts = vec![(text(&admin["user"], "id", "setup")?, admin_token.clone())];
    let registered: Vec<Result<(usize, String, String), String>> = futures::stream::iter(1..count)
        .map(|index| {
            let (http, invite, url) = (&http, &invite, api("auth/register"));
            async move {
                let joined = call(http, "register", |http| {
                    http.post(&url).json(&json!({
                        "invite": invite,
                        "email": format!("p{index}@example.org"),
                        "password": PASSWORD,
                        "display_name": format!("Person {index}"),
                    }))
                })
                .await?;
                Ok((
                    index,
                    text(&joined["user"], "id", "register")?,
                    text(&joined, "token", "register")?,
                ))
            }
        })
        .buffer_unordered(SET_UP_CONCURRENCY)
        .collect()
        .await;
    let mut registered = registered.into_iter().collect::<Result<Vec<_>, _>>()?;
    registered.sort_by_key(|(index, _, _)| *index);
    accounts.extend(registered.into_iter().map(|(_, id, token)| (id, token)));

    let mut shared_folders = Vec::new();
    for n in 0..3 {
        let folder = call(&http, "shared folder", |http| {
            http.post(api("folders"))
                .bearer_auth(&admin_token)
                .json(&json!({"name": format!("Shared {n}"), "parent_id": "community"}))
        })
        .await?;
        shared_folders.push(text(&folder, "id", "shared folder")?);
    }

    // Each person's folder, with one file in it to download from the start.
    let people: Vec<Result<Person, String>> =
        futures::stream::iter(accounts.into_iter().enumerate())
            .map(|(index, (user_id, token))| {
                let http = &http;
                async move {
                    let folder = call(http, "folder", |http| {
                        http.post(api("folders"))
                            .bearer_auth(&token)
                            .json(&json!({"name": "Soak", "parent_id": "root"}))
                    })
                    .await?;
                    let folder_id = text(&folder, "id", "folder")?;
                    let file_seed = Rng::derived(seed, 10_000 + index as u64).next_u64();
                    let len = 24 * 1024;
                    let uploaded = call(http, "first upload", |http| {
                        let form = reqwest::multipart::Form::new()
                            .text("folder_id", folder_id.clone())
                            .part(
                                "file",
                                reqwest::multipart::Part::bytes(content(file_seed, len))
                                    .file_name(format!("p{index}-first.bin")),
                            );
                        http.post(api("files")).bearer_auth(&token).multipart(form)
                    })
                    .await?;
                    Ok(Person {
                        index,
                        user_id,
                        token,
                        folder_id,
                        conversations: Vec::new(),
                        files: vec![StoredFile {
                            id: text(&uploaded, "id", "first upload")?,
                            seed: file_seed,
                            len,
                        }],
                    })
                }
            })
            .buffered(SET_UP_CONCURRENCY)
            .collect()
            .await;
    let mut people = people.into_iter().collect::<Result<Vec<_>, _>>()?;

    let mut conversations = Vec::new();
    let mut rng = Rng::derived(seed, 20_000);
    for round in 0..3 {
        for (number, members) in groups(&mut rng, people.len()).into_iter().enumerate() {
            let creator = &people[members[0]];
            let others: Vec<&str> = members[1..]
                .iter()
                .map(|&m| people[m].user_id.as_str())
                .collect();
            let group = call(&http, "group", |http| {
                http.post(api("conversations"))
                    .bearer_auth(&creator.token)
                    .json(&json!({
                        "type": "group",
                        "name": format!("Round {round} group {number}"),
                        "participant_ids": others,
                    }))
            })
            .await?;
            let id = text(&group, "id", "group")?;
            conversations.push(Arc::new(Conversation { id, members }));
        }
    }
    let directs: Vec<Result<Arc<Conversation>, String>> = futures::stream::iter(0..people.len())
        .map(|index| {
            let other = (index + 1) % people.len();
            let (http, people) = (&http, &people);
            async move {
                let direct = call(http, "direct", |http| {
                    http.post(api(&format!(
                        "conversations/direct/{}",
                        people[other].user_id
                    )))
                    .bearer_auth(&people[index].token)
                })
                .await?;
                let id = text(&direct, "id", "direct")?;
                Ok(Arc::new(Conversation {
                    id,
                    members: vec![index, other],
                }))
            }
        })
        .buffered(SET_UP_CONCURRENCY)
        .collect()
        .await;
    for direct in directs {
        let direct = direct?;
        if !conversations.iter().any(|c| c.id == direct.id) {
            conversations.push(direct);
        }
    }
    for conversation in &conversations {
        for &member in &conversation.members {
            people[member].conversations.push(conversation.clone());
        }
    }
    Ok(Community {
        people,
        shared_folders,
        conversations,
    })
}

/// Everyone, shuffled, cut into groups of 5 to 10 (a remainder under 5 joins the last group).
fn groups(rng: &mut Rng, count: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..count).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.index(i + 1));
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut rest = order.as_slice();
    while !rest.is_empty() {
        let size = usize::try_from(rng.between(5, 10)).unwrap_or(5);
        let (group, after) = rest.split_at(size.min(rest.len()));
        match groups.last_mut() {
            Some(last) if group.len() < 5 => last.extend_from_slice(group),
            _ => groups.push(group.to_vec()),
        }
        rest = after;
    }
    groups
}
