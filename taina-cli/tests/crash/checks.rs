//! What must hold after the last restart, checked against the ledgers: through the API (every
//! file, its place, content, versions; the trash; photos with thumbnails; albums; every message
//! once, in `seq` order, no gaps), the job queue drained, the database's blobs and the community's
//! use, the storage directory itself, and `taina fsck --deep`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, Row};

use super::client::Client;
use super::http::Api;
use super::model::{Content, Place, SentMessage, hex};
use super::server::{Instance, Shared};

/// How long the job queue gets to drain once the server stays up.
const DRAIN_PATIENCE: Duration = Duration::from_secs(60);

/// What the checks counted, for the summary.
#[derive(Debug, Default)]
pub struct Counts {
    /// Live files compared (and downloaded).
    pub files: usize,
    /// Files in the trash.
    pub trashed: usize,
    /// Live photos with thumbnails.
    pub photos: usize,
    /// Messages acknowledged.
    pub messages: usize,
    /// Distinct contents alive.
    pub blobs: usize,
    /// Files start-up recovery quarantined over the run.
    pub quarantined: usize,
    /// Resumable uploads left whose creation was cut off.
    pub orphan_uploads: usize,
    /// How long the job queue took to drain.
    pub drain: Duration,
}

/// Runs every check; failures go to `shared`.
pub async fn run(
    instance: &Instance,
    shared: &Shared,
    clients: &[Client],
    http: &reqwest::Client,
) -> Counts {
    let mut counts = Counts::default();
    let draining = Instant::now();
    let drained = drain_jobs(instance, shared, clients, http).await;
    counts.drain = draining.elapsed();
    for client in clients {
        check_client(shared, client, drained, &mut counts).await;
    }
    check_messages(shared, clients, &mut counts).await;
    check_database_and_storage(instance, shared, clients, &mut counts).await;
    check_fsck(instance, shared);
    counts
}

fn fail(shared: &Shared, what: String) {
    shared.fail(format!("final check: {what}"));
}

/// The server's count of jobs waiting or running (`/metrics`, free from this machine).
async fn jobs_pending(shared: &Shared, http: &reqwest::Client) -> Result<u64, String> {
    let (url, _) = shared.server();
    let text = http
        .get(format!("{url}metrics"))
        .send()
        .await
        .map_err(|e| format!("GET /metrics: {e}"))?
        .text()
        .await
        .map_err(|e| format!("GET /metrics: {e}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix("taina_jobs_pending "))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("no taina_jobs_pending in /metrics:\n{text}"))
}

/// Live photos of the ledgers the server has not processed yet (or processed with an error).
async fn unprocessed_photos(shared: &Shared, clients: &[Client]) -> Vec<String> {
    let mut waiting = Vec::new();
    for client in clients {
        let photos = match client.api.read_all("photos", 500).await {
            Ok(photos) => photos,
            Err(e) => {
                fail(shared, format!("{}: timeline: {e}", client.api.who));
                continue;
            }
        };
        for photo in photos {
            if photo["processed"] != true || !photo["processing_error"].is_null() {
                waiting.push(format!(
                    "{} (file {}, processed {}, error {})",
                    photo["id"], photo["file_id"], photo["processed"], photo["processing_error"]
                ));
            }
        }
    }
    waiting
}

/// Waits (bounded) until no job waits or runs and every photo has its thumbnails; then no job may
/// have failed. Whether the queue drained.
async fn drain_jobs(
    instance: &Instance,
    shared: &Shared,
    clients: &[Client],
    http: &reqwest::Client,
) -> bool {
    let since = Instant::now();
    loop {
        let pending = jobs_pending(shared, http).await;
        let waiting = unprocessed_photos(shared, clients).await;
        if pending == Ok(0) && waiting.is_empty() {
            break;
        }
        if since.elapsed() > DRAIN_PATIENCE {
            let jobs = match Db::open(instance).await {
                Ok(mut db) => db.unfinished_jobs().await.unwrap_or_else(|e| vec![e]),
                Err(e) => vec![e],
            };
            fail(
                shared,
                format!(
                    "the job queue did not drain in {DRAIN_PATIENCE:?} with the server up: \
                     {pending:?} pending; {} photos without thumbnails, e.g. {:?}; unfinished \
                     jobs:\n  {}",
                    waiting.len(),
                    &waiting[..waiting.len().min(3)],
                    jobs.join("\n  ")
                ),
            );
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    match Db::open(instance).await {
        Ok(mut db) => match db.failed_jobs().await {
            Ok(failed) if failed.is_empty() => {}
            Ok(failed) => fail(
                shared,
                format!("jobs failed for good:\n  {}", failed.join("\n  ")),
            ),
            Err(e) => fail(shared, e),
        },
        Err(e) => fail(shared, e),
    }
    true
}

/// One person's files, trash, versions, contents, photos (with thumbnails, once the job queue
/// drained) and album.
async fn check_client(shared: &Shared, client: &Client, drained: bool, counts: &mut Counts) {
    let who = &client.api.who;
    let ledger = &client.ledger;
    let mut places = vec![Place::Root];
    places.extend(client.folders.iter().cloned().map(Place::Folder));
    let mut on_server: BTreeMap<String, (String, Place, String, u64)> = BTreeMap::new();
    for place in &places {
        match client.files_in(place).await {
            Ok(items) => {
                for item in items {
                    on_server.insert(
                        item["id"].as_str().unwrap_or_default().to_owned(),
                        (
                            item["name"].as_str().unwrap_or_default().to_owned(),
                            Place::of_parent(item["parent_id"].as_str()),
                            item["etag"].as_str().unwrap_or_default().to_owned(),
                            item["size_bytes"].as_u64().unwrap_or(u64::MAX),
                        ),
                    );
                }
            }
            Err(e) => fail(shared, format!("{who}: list {place:?}: {e}")),
        }
    }
    for (id, file) in ledger.live() {
        counts.files += 1;
        let Some((name, place, etag, size)) = on_server.remove(id) else {
            fail(
                shared,
                format!(
                    "{who}: {} ({id}, {}) is missing",
                    file.name,
                    if file.acknowledged {
                        "acknowledged"
                    } else {
                        "found after a cut-off"
                    }
                ),
            );
            continue;
        };
        if *name != file.name
            || place != file.place
            || etag != file.content.etag()
            || size != file.content.size
        {
            fail(
                shared,
                format!(
                    "{who}: {id} is {name} in {place:?} with etag {etag} size {size}; the ledger \
                     says {} in {:?} with {} size {}",
                    file.name, file.place, file.content.sha256, file.content.size
                ),
            );
        }
        match client.api.read_bytes(&format!("files/{id}/content")).await {
            Ok(Some(bytes)) => {
                let got = Content::of(&bytes);
                if got != file.content {
                    fail(
                        shared,
                        format!(
                            "{who}: {} ({id}) downloads as {} ({} bytes), the ledger says {} ({})",
                            file.name, got.sha256, got.size, file.content.sha256, file.content.size
                        ),
                    );
                }
            }
            other => fail(
                shared,
                format!("{who}: download {} ({id}): {other:?}", file.name),
            ),
        }
        client.check_versions(id, "final check").await;
    }
    for (id, (name, place, etag, _)) in &on_server {
        fail(
            shared,
            format!(
                "{who}: {name} ({id}, in {place:?}, etag {etag}) is visible but no operation of \
                 the ledger made it"
            ),
        );
    }
    match client.api.read_some("trash").await {
        Ok(trash) => {
            let in_trash: BTreeSet<String> = trash["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect();
            let expected: BTreeSet<String> = ledger
                .files
                .iter()
                .filter(|(_, f)| f.trashed)
                .map(|(id, _)| id.clone())
                .collect();
            counts.trashed += expected.len();
            if in_trash != expected {
                fail(
                    shared,
                    format!(
                        "{who}: the trash holds {:?} it should not and lacks {:?}",
                        in_trash.difference(&expected).collect::<Vec<_>>(),
                        expected.difference(&in_trash).collect::<Vec<_>>()
                    ),
                );
            }
        }
        Err(e) => fail(shared, format!("{who}: trash: {e}")),
    }
    for id in &ledger.purged {
        match client.api.read(&format!("files/{id}")).await {
            Ok(None) => {}
            other => fail(shared, format!("{who}: purged {id} reads as {other:?}")),
        }
    }
    check_photos(shared, client, drained, counts).await;
}

/// The timeline holds exactly the live photos, each with its thumbnails (when the job queue
/// drained: otherwise that failure already names the photos without); the album shows its live
/// photos in order.
async fn check_photos(shared: &Shared, client: &Client, drained: bool, counts: &mut Counts) {
    let who = &client.api.who;
    let mut expected: BTreeMap<String, String> = client
        .ledger
        .live()
        .filter_map(|(id, f)| f.photo.clone().map(|p| (p, id.clone())))
        .collect();
    // Files of photo uploads cut off between storing the file and adding its photo: the
    // `adopt_photo` job has added them by now.
    let pending = client
        .ledger
        .live()
        .filter(|(_, f)| f.photo_pending.is_some());
    for (id, f) in pending {
        let unchanged = f.photo_pending.as_ref() == Some(&f.content);
        match client.photo_of(id).await {
            Ok(Some(photo)) => {
                expected.insert(photo, id.clone());
            }
            // Replaced since: the job adopted the new content if it was a photo, else nothing.
            Ok(None) if !unchanged => {}
            Ok(None) => fail(
                shared,
                format!(
                    "{who}: {} ({id}), stored by a cut-off photo upload, is not in the photo \
                     library even after the job queue drained",
                    f.name
                ),
            ),
            Err(e) => fail(shared, format!("{who}: {e}")),
        }
    }
    match client.api.read_all("photos", 500).await {
        Ok(photos) => {
            let shown: BTreeMap<String, String> = photos
                .iter()
                .map(|p| {
                    (
                        p["id"].as_str().unwrap_or_default().to_owned(),
                        p["file_id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            if shown != expected {
                fail(
                    shared,
                    format!("{who}: the timeline shows {shown:?}, the ledger {expected:?}"),
                );
            }
        }
        Err(e) => fail(shared, format!("{who}: timeline: {e}")),
    }
    let mut without = Vec::new();
    for (photo, file) in &expected {
        counts.photos += 1;
        for size in ["small", "medium", "large"] {
            match client
                .api
                .read_bytes(&format!("files/{file}/thumbnail/{size}"))
                .await
            {
                Ok(Some(webp)) if webp.starts_with(b"RIFF") => {}
                other => without.push(format!(
                    "{photo} (file {file}) {size}: {:?}",
                    other.map(|b| b.map(|b| b.len()))
                )),
            }
        }
    }
    if drained && !without.is_empty() {
        fail(
            shared,
            format!("{who}: {} thumbnails missing: {without:?}", without.len()),
        );
    }
    let live = client.live_photos();
    let album: Vec<String> = client
        .ledger
        .album
        .iter()
        .filter(|p| live.contains(p))
        .cloned()
        .collect();
    match client.album_photos().await {
        Ok(shown) if shown == album => {}
        Ok(shown) => fail(
            shared,
            format!("{who}: the album shows {shown:?}, the ledger {album:?}"),
        ),
        Err(e) => fail(shared, format!("{who}: album: {e}")),
    }
}

/// A conversation's whole history, oldest first.
async fn history(api: &Api, conversation: &str) -> Result<Vec<Value>, String> {
    let mut messages = Vec::new();
    let mut after = 0i64;
    loop {
        let page = api
            .read_some(&format!(
                "conversations/{conversation}/messages?after={after}&limit=200"
            ))
            .await?;
        messages.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str().and_then(|c| c.parse().ok()) {
            Some(next) => after = next,
            None => return Ok(messages),
        }
    }
}

/// Every acknowledged message is there once, with its `seq`; `seq` runs 1, 2, 3... with no gap;
/// no client key appears twice; attachments hold the content they were sent with.
async fn check_messages(shared: &Shared, clients: &[Client], counts: &mut Counts) {
    let mut by_conversation: BTreeMap<&str, Vec<&SentMessage>> = BTreeMap::new();
    for client in clients {
        for conversation in &client.conversations {
            by_conversation.entry(conversation).or_default();
        }
        for message in &client.ledger.messages {
            by_conversation
                .entry(&message.conversation)
                .or_default()
                .push(message);
        }
    }
    for (conversation, acknowledged) in by_conversation {
        counts.messages += acknowledged.len();
        let Some(reader) = clients
            .iter()
            .find(|c| c.conversations.iter().any(|id| id == conversation))
        else {
            continue;
        };
        let messages = match history(&reader.api, conversation).await {
            Ok(messages) => messages,
            Err(e) => {
                fail(shared, format!("history of {conversation}: {e}"));
                continue;
            }
        };
        let seqs: Vec<i64> = messages
            .iter()
            .map(|m| m["seq"].as_i64().unwrap_or(-1))
            .collect();
        if seqs.iter().enumerate().any(|(i, s)| *s != i as i64 + 1) {
            fail(
                shared,
                format!("conversation {conversation}: seq is not 1, 2, 3... : {seqs:?}"),
            );
        }
        let mut keys: HashMap<(String, String), usize> = HashMap::new();
        for message in &messages {
            if let Some(key) = message["client_key"].as_str() {
                *keys
                    .entry((message["sender_id"].to_string(), key.to_owned()))
                    .or_default() += 1;
            }
        }
        for ((sender, key), n) in &keys {
            if *n > 1 {
                fail(
                    shared,
                    format!("conversation {conversation}: {sender}'s key {key} is there {n} times"),
                );
            }
        }
        let acknowledged_keys: HashSet<&str> =
            acknowledged.iter().map(|m| m.client_key.as_str()).collect();
        for ((_, key), _) in keys {
            if !acknowledged_keys.contains(key.as_str()) {
                fail(
                    shared,
                    format!(
                        "conversation {conversation}: message {key} is there but was never \
                         acknowledged (its sender kept sending until it was)"
                    ),
                );
            }
        }
        for sent in acknowledged {
            let found: Vec<&Value> = messages
                .iter()
                .filter(|m| m["id"] == sent.id.as_str())
                .collect();
            match found.as_slice() {
                [message] => {
                    if message["seq"] != sent.seq
                        || message["text"] != sent.text.as_str()
                        || message["client_key"] != sent.client_key.as_str()
                    {
                        fail(
                            shared,
                            format!(
                                "message {} was acknowledged as seq {} ({}), reads {message}",
                                sent.id, sent.seq, sent.text
                            ),
                        );
                    }
                }
                other => fail(
                    shared,
                    format!(
                        "acknowledged message {} ({}, seq {}) is there {} times",
                        sent.id,
                        sent.client_key,
                        sent.seq,
                        other.len()
                    ),
                ),
            }
            if let Some(content) = &sent.attachment {
                match reader
                    .api
                    .read_bytes(&format!("messages/{}/attachment", sent.id))
                    .await
                {
                    Ok(Some(bytes)) if Content::of(&bytes) == *content => {}
                    other => fail(
                        shared,
                        format!(
                            "message {}'s attachment should be {}: {:?}",
                            sent.id,
                            content.sha256,
                            other.map(|b| b.map(|b| hex(&Sha256::digest(&b))))
                        ),
                    ),
                }
            }
        }
    }
}

/// The instance's database, read directly (read-only queries) for what the API does not show.
struct Db {
    conn: sqlx::AnyConnection,
}

impl Db {
    async fn open(instance: &Instance) -> Result<Db, String> {
        sqlx::any::install_default_drivers();
        let url = match &instance.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", instance.data_dir.join("taina.db").display()),
        };
        let mut conn = sqlx::AnyConnection::connect(&url)
            .await
            .map_err(|e| format!("connect to {url}: {e}"))?;
        if instance.database_url.is_some() {
            conn.execute("SET search_path TO public, ybira, jaci, guara")
                .await
                .map_err(|e| format!("search_path: {e}"))?;
        }
        Ok(Db { conn })
    }

    async fn rows(&mut self, sql: &str) -> Result<Vec<sqlx::any::AnyRow>, String> {
        sqlx::query(sql)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| format!("{sql}: {e}"))
    }

    /// Jobs waiting, running (leased) or failed, described.
    async fn unfinished_jobs(&mut self) -> Result<Vec<String>, String> {
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis()),
        )
        .unwrap_or(i64::MAX);
        let rows = self
            .rows(
                "SELECT kind, payload, attempts, max_attempts, run_at, locked_until, last_error, \
                 failed_at FROM jobs WHERE finished_at IS NULL ORDER BY created_at",
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let locked: Option<i64> = r.get(5);
                let failed: Option<i64> = r.get(7);
                format!(
                    "{} {} attempts {}/{} run_at {:+}s leased {} failed {} last error {:?}",
                    r.get::<String, _>(0),
                    r.get::<String, _>(1),
                    r.get::<i64, _>(2),
                    r.get::<i64, _>(3),
                    (r.get::<i64, _>(4) - now) / 1000,
                    locked.map_or("no".to_owned(), |l| format!(
                        "for {}s more",
                        (l - now) / 1000
                    )),
                    failed.is_some(),
                    r.get::<Option<String>, _>(6),
                )
            })
            .collect())
    }

    /// Jobs given up, described.
    async fn failed_jobs(&mut self) -> Result<Vec<String>, String> {
        let rows = self
            .rows(
                "SELECT kind, payload, attempts, last_error FROM jobs WHERE failed_at IS NOT NULL",
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} after {} attempts: {:?}",
                    r.get::<String, _>(0),
                    r.get::<String, _>(1),
                    r.get::<i64, _>(2),
                    r.get::<Option<String>, _>(3)
                )
            })
            .collect())
    }
}

/// The database's blobs are exactly the contents the ledgers keep alive, the community's use is
/// their sum (plus the reservations of resumable uploads whose creation was cut off), and the
/// storage directory holds nothing the database does not name (quarantine aside).
async fn check_database_and_storage(
    instance: &Instance,
    shared: &Shared,
    clients: &[Client],
    counts: &mut Counts,
) {
    let mut db = match Db::open(instance).await {
        Ok(db) => db,
        Err(e) => return fail(shared, e),
    };
    // Distinct live contents come from the ledgers (files live and in the trash, their versions,
    // attachments), and are compared with the database's blob rows; the API shows no blob list.
    let expected: BTreeSet<Content> = clients
        .iter()
        .flat_map(|c| c.ledger.live_contents())
        .collect();
    counts.blobs = expected.len();
    let blob_rows = match db
        .rows("SELECT sha256, size_bytes, ref_count, path FROM blobs")
        .await
    {
        Ok(rows) => rows,
        Err(e) => return fail(shared, e),
    };
    let stored: BTreeSet<Content> = blob_rows
        .iter()
        .map(|r| Content {
            sha256: r.get(0),
            size: u64::try_from(r.get::<i64, _>(1)).unwrap_or(u64::MAX),
        })
        .collect();
    if stored != expected {
        fail(
            shared,
            format!(
                "blobs the ledgers do not keep alive: {:?}; contents kept alive without a blob: {:?}",
                stored.difference(&expected).collect::<Vec<_>>(),
                expected.difference(&stored).collect::<Vec<_>>()
            ),
        );
    }
    let uploads = match db
        .rows("SELECT id, reserved_bytes, upload_length, upload_offset FROM uploads")
        .await
    {
        Ok(rows) => rows,
        Err(e) => return fail(shared, e),
    };
    let reserved: i64 = uploads.iter().map(|r| r.get::<i64, _>(1)).sum();
    let unknown_creates: u64 = clients.iter().map(|c| c.ledger.unknown_tus_creates).sum();
    counts.orphan_uploads = uploads.len();
    let plain: Vec<String> = uploads
        .iter()
        .filter(|r| r.get::<Option<i64>, _>(2).is_none())
        .map(|r| r.get::<String, _>(0))
        .collect();
    if !plain.is_empty() || uploads.len() as u64 > unknown_creates {
        fail(
            shared,
            format!(
                "uploads left in flight: {} ({} of them plain uploads: {plain:?}); only {} \
                 resumable creations were cut off",
                uploads.len(),
                plain.len(),
                unknown_creates
            ),
        );
    }
    let expected_used =
        i64::try_from(expected.iter().map(|c| c.size).sum::<u64>()).unwrap_or(i64::MAX) + reserved;
    match clients[0].api.read_some("storage").await {
        Ok(storage) if storage["used_bytes"] == expected_used => {}
        Ok(storage) => fail(
            shared,
            format!(
                "the community uses {} bytes; its distinct live contents sum to {} and {} bytes \
                 are reserved by resumable uploads left",
                storage["used_bytes"],
                expected_used - reserved,
                reserved
            ),
        ),
        Err(e) => fail(shared, format!("storage: {e}")),
    }
    let blob_paths: HashSet<String> = blob_rows.iter().map(|r| r.get::<String, _>(3)).collect();
    let upload_ids: HashSet<String> = uploads.iter().map(|r| r.get::<String, _>(0)).collect();
    let items: HashSet<String> = match db.rows("SELECT id FROM items").await {
        Ok(rows) => rows.iter().map(|r| r.get::<String, _>(0)).collect(),
        Err(e) => return fail(shared, e),
    };
    // What unfinished jobs are to delete is theirs (a queue that did not drain is reported above).
    let freeing: Vec<String> = match db
        .rows("SELECT payload FROM jobs WHERE finished_at IS NULL")
        .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| serde_json::from_str::<Value>(&r.get::<String, _>(0)).ok())
            .filter_map(|job| {
                job["path"]
                    .as_str()
                    .or(job["dir"].as_str())
                    .map(str::to_owned)
            })
            .collect(),
        Err(e) => return fail(shared, e),
    };
    let root = instance.data_dir.join("storage");
    let mut strays = Vec::new();
    for path in files_under(&root.join("communities")) {
        let relative = path
            .strip_prefix(&root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let parts: Vec<&str> = relative.split('/').collect();
        let accounted = match parts.as_slice() {
            ["communities", _, "files", ..] => blob_paths.contains(&relative),
            ["communities", _, "temp", upload] => upload_ids.contains(*upload),
            ["communities", _, "thumbnails", file, _] => items.contains(*file),
            _ => false,
        };
        let to_be_freed = freeing
            .iter()
            .any(|f| relative == *f || relative.starts_with(&format!("{f}/")));
        if !accounted && !to_be_freed {
            strays.push(relative);
        }
    }
    if !strays.is_empty() {
        fail(
            shared,
            format!("stored files nothing accounts for (not quarantined): {strays:?}"),
        );
    }
    counts.quarantined = files_under(&root.join("quarantine")).len();
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// `taina fsck --deep` on the same data, beside the running server: exit 0 (clean).
fn check_fsck(instance: &Instance, shared: &Shared) {
    let output = instance
        .taina()
        .args(["fsck", "--deep", "--json"])
        .output()
        .expect("run taina fsck");
    if !output.status.success() {
        fail(
            shared,
            format!(
                "taina fsck --deep exited with {}: {}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        );
    }
}
