//! One person's life during the load: every 1–3 s (seeded), one operation picked by weight —
//! browse a folder, a timeline page, a multipart upload of random bytes or of a fixture photo, a
//! tus upload in 2–3 pieces, a ranged download checked byte for byte, a message sent (with a
//! client key, so that its delivery to everyone else's socket can be checked), a history page,
//! marking read, typing, a message search. Each is timed; any answer other than the one expected
//! (status, headers or bytes) is an error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::content;
use super::people::{Conversation, Person, StoredFile};
use super::rng::Rng;
use super::sockets::Socket;
use super::stats::OpSample;

/// The operations, each with its weight in the mix.
const MIX: [(Op, u64); 11] = [
    (Op::ListFolder, 14),
    (Op::Timeline, 10),
    (Op::Upload, 8),
    (Op::UploadPhoto, 3),
    (Op::Tus, 5),
    (Op::DownloadRange, 10),
    (Op::Send, 18),
    (Op::History, 10),
    (Op::MarkRead, 8),
    (Op::Typing, 8),
    (Op::Search, 6),
];

/// Words messages are made of, and searched for.
const WORDS: [&str; 12] = [
    "mandioca",
    "jabuticaba",
    "guarana",
    "pitanga",
    "tapioca",
    "cupuacu",
    "buriti",
    "pequi",
    "graviola",
    "umbu",
    "bacuri",
    "caju",
];

/// Files a person remembers for downloads (the latest).
const FILES_REMEMBERED: usize = 16;

/// Errors a person keeps the words of (all are counted).
const ERRORS_KEPT: usize = 20;

#[derive(Debug, Clone, Copy)]
enum Op {
    ListFolder,
    Timeline,
    Upload,
    UploadPhoto,
    Tus,
    DownloadRange,
    Send,
    History,
    MarkRead,
    Typing,
    Search,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::ListFolder => "list folder",
            Op::Timeline => "timeline page",
            Op::Upload => "upload multipart",
            Op::UploadPhoto => "upload photo",
            Op::Tus => "upload tus",
            Op::DownloadRange => "download range",
            Op::Send => "send message",
            Op::History => "history page",
            Op::MarkRead => "mark read",
            Op::Typing => "typing",
            Op::Search => "search messages",
        }
    }
}

/// A fixture photo.
#[derive(Debug)]
pub struct Fixture {
    /// Its file name.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What every person shares.
#[derive(Debug)]
pub struct Ctx {
    /// The server, ending in `/`.
    pub base: String,
    /// When the server started: the origin of every time.
    pub origin: Instant,
    /// When people stop starting operations.
    pub deadline: Instant,
    /// Folders of the shared space.
    pub shared_folders: Vec<String>,
    /// Small photos to upload.
    pub photos: Vec<Fixture>,
}

/// A message the server acknowledged.
#[derive(Debug)]
pub struct SentMessage {
    /// Its client key.
    pub key: String,
    /// Where.
    pub conversation: Arc<Conversation>,
    /// Who sent it.
    pub sender: usize,
    /// When the send began.
    pub sent_at: Instant,
}

/// What a person did.
#[derive(Debug, Default)]
pub struct Log {
    /// Every operation, timed.
    pub samples: Vec<OpSample>,
    /// The first few errors, in words.
    pub errors: Vec<String>,
    /// Every message the server acknowledged.
    pub sent: Vec<SentMessage>,
}

/// A person during the load.
struct Life {
    me: Person,
    http: reqwest::Client,
    socket: Arc<Socket>,
    ctx: Arc<Ctx>,
    rng: Rng,
    counter: u64,
    log: Log,
}

/// Lives `me`'s life until the deadline, with their own HTTP client (their connections) and
/// socket, and answers what they did.
pub async fn live(me: Person, socket: Arc<Socket>, ctx: Arc<Ctx>, rng: Rng) -> Log {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client");
    let mut life = Life {
        me,
        http,
        socket,
        ctx,
        rng,
        counter: 0,
        log: Log::default(),
    };
    let weights: Vec<u64> = MIX.iter().map(|(_, w)| *w).collect();
    // People arrive spread over the first 3 s, then pause 1–3 s between operations.
    let mut pause = Duration::from_millis(life.rng.between(0, 3000));
    loop {
        if Instant::now() + pause >= life.ctx.deadline {
            break;
        }
        tokio::time::sleep(pause).await;
        let op = MIX[life.rng.weighted(&weights)].0;
        life.counter += 1;
        let started = Instant::now();
        let outcome = life.run(op).await;
        life.log.samples.push(OpSample {
            op: op.name(),
            at_secs: started.duration_since(life.ctx.origin).as_secs_f64(),
            millis: started.elapsed().as_secs_f64() * 1e3,
            ok: outcome.is_ok(),
        });
        if let Err(e) = outcome
            && life.log.errors.len() < ERRORS_KEPT
        {
            let who = life.me.index;
            life.log
                .errors
                .push(format!("person {who}: {}: {e}", op.name()));
        }
        pause = Duration::from_millis(life.rng.between(1000, 3000));
    }
    life.log
}

impl Life {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        match op {
            Op::ListFolder => self.list_folder().await,
            Op::Timeline => {
                let scope = if self.rng.chance(50) {
                    "mine"
                } else {
                    "shared"
                };
                let url = self.api(&format!("photos?limit=50&scope={scope}"));
                self.expect(self.http.get(url), StatusCode::OK).await?;
                Ok(())
            }
            Op::Upload => self.upload().await,
            Op::UploadPhoto => self.upload_photo().await,
            Op::Tus => self.tus().await,
            Op::DownloadRange => self.download_range().await,
            Op::Send => self.send().await,
            Op::History => self.history().await,
            Op::MarkRead => {
                let conversation = self.conversation();
                let seq = self.socket.inbox.latest_seq(&conversation.id).unwrap_or(0);
                let url = self.api(&format!("conversations/{}/read", conversation.id));
                let request = self.http.post(url).json(&json!({ "seq": seq }));
                self.expect(request, StatusCode::OK).await?;
                Ok(())
            }
            Op::Typing => {
                let conversation = self.conversation();
                let typing = self.rng.chance(75);
                self.socket.typing(&conversation.id, typing).await
            }
            Op::Search => {
                let word = WORDS[self.rng.index(WORDS.len())];
                // Whole words and prefixes (the last word matches as a prefix).
                let query = if self.rng.chance(50) {
                    word
                } else {
                    &word[..3]
                };
                let url = self.api(&format!("search/messages?q={query}"));
                self.expect(self.http.get(url), StatusCode::OK).await?;
                Ok(())
            }
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}api/v1/{path}", self.ctx.base)
    }

    fn conversation(&mut self) -> Arc<Conversation> {
        let conversations = &self.me.conversations;
        conversations[self.rng.index(conversations.len())].clone()
    }

    /// Sends `request` signed in; the headers and body of an answer with status `expected`.
    async fn expect(
        &self,
        request: reqwest::RequestBuilder,
        expected: StatusCode,
    ) -> Result<(HeaderMap, bytes::Bytes), String> {
        let response = request
            .bearer_auth(&self.me.token)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("{status}, body cut off: {e}"))?;
        if status != expected {
            return Err(format!(
                "answered {status} (expected {expected}): {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
        Ok((headers, body))
    }

    async fn list_folder(&mut self) -> Result<(), String> {
        let shared = &self.ctx.shared_folders;
        let path = match self.rng.below(4) {
            0 => "folders/root".to_owned(),
            1 => "folders/community".to_owned(),
            2 => format!("folders/{}", self.me.folder_id),
            _ => format!("folders/{}", shared[self.rng.index(shared.len())]),
        };
        self.expect(self.http.get(self.api(&path)), StatusCode::OK)
            .await?;
        Ok(())
    }

    fn remember(&mut self, file: StoredFile) {
        if self.me.files.len() >= FILES_REMEMBERED {
            self.me.files.remove(0);
        }
        self.me.files.push(file);
    }

    fn id_of(body: &[u8]) -> Result<String, String> {
        let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        value["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no id in {value}"))
    }

    async fn upload(&mut self) -> Result<(), String> {
        let shared = &self.ctx.shared_folders;
        let folder = match self.rng.below(5) {
            0 => "root".to_owned(),
            1 => shared[self.rng.index(shared.len())].clone(),
            _ => self.me.folder_id.clone(),
        };
        let seed = self.rng.next_u64();
        let len = usize::try_from(self.rng.between(1024, 64 * 1024)).unwrap_or(1024);
        let name = format!("p{}-{}.bin", self.me.index, self.counter);
        let form = reqwest::multipart::Form::new()
            .text("folder_id", folder)
            .part(
                "file",
                reqwest::multipart::Part::bytes(content(seed, len)).file_name(name),
            );
        let request = self.http.post(self.api("files")).multipart(form);
        let (_, body) = self.expect(request, StatusCode::CREATED).await?;
        let id = Self::id_of(&body)?;
        self.remember(StoredFile { id, seed, len });
        Ok(())
    }

    async fn upload_photo(&mut self) -> Result<(), String> {
        let fixture = &self.ctx.photos[self.rng.index(self.ctx.photos.len())];
        let name = format!("p{}-{}-{}", self.me.index, self.counter, fixture.name);
        let form = reqwest::multipart::Form::new()
            .text("folder_id", self.me.folder_id.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(fixture.bytes.clone()).file_name(name),
            );
        let request = self.http.post(self.api("photos")).multipart(form);
        self.expect(request, StatusCode::CREATED).await?;
        Ok(())
    }

    /// A resumable upload: created, then sent in 2 or 3 pieces; the last one stores the file.
    async fn tus(&mut self) -> Result<(), String> {
        let seed = self.rng.next_u64();
        let len = usize::try_from(self.rng.between(48 * 1024, 160 * 1024)).unwrap_or(48 * 1024);
        let bytes = content(seed, len);
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let name = format!("p{}-{}-tus.bin", self.me.index, self.counter);
        let metadata = format!(
            "filename {},folder_id {}",
            b64(&name),
            b64(&self.me.folder_id)
        );
        let request = self
            .http
            .post(self.api("uploads"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", len.to_string())
            .header("Upload-Metadata", metadata);
        let (headers, _) = self.expect(request, StatusCode::CREATED).await?;
        let location = header(&headers, "location").ok_or("tus: created with no Location")?;
        let upload = location.rsplit('/').next().unwrap_or_default().to_owned();
        let pieces = usize::try_from(self.rng.between(2, 3)).unwrap_or(2);
        let mut offset = 0;
        for piece in 0..pieces {
            let end = if piece + 1 == pieces {
                len
            } else {
                offset + len / pieces
            };
            let request = self
                .http
                .patch(self.api(&format!("uploads/{upload}")))
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", offset.to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .body(bytes[offset..end].to_vec());
            let (headers, _) = self.expect(request, StatusCode::NO_CONTENT).await?;
            let now = header(&headers, "upload-offset");
            if now.as_deref() != Some(end.to_string().as_str()) {
                return Err(format!("tus: a piece up to {end} answered offset {now:?}"));
            }
            offset = end;
            if end == len {
                let id = header(&headers, "taina-file-id")
                    .ok_or("tus: every byte sent, but no Taina-File-Id")?;
                self.remember(StoredFile { id, seed, len });
            }
        }
        Ok(())
    }

    /// One range of one of my files, checked against the bytes it was made of.
    async fn download_range(&mut self) -> Result<(), String> {
        let file = self.me.files[self.rng.index(self.me.files.len())].clone();
        let start = self.rng.index(file.len);
        let end = (start + self.rng.index(16 * 1024)).min(file.len - 1);
        let request = self
            .http
            .get(self.api(&format!("files/{}/content", file.id)))
            .header("Range", format!("bytes={start}-{end}"));
        let (_, body) = self.expect(request, StatusCode::PARTIAL_CONTENT).await?;
        if body[..] != content(file.seed, file.len)[start..=end] {
            return Err(format!(
                "bytes {start}-{end} of {} came back different ({} bytes)",
                file.id,
                body.len()
            ));
        }
        Ok(())
    }

    async fn send(&mut self) -> Result<(), String> {
        let conversation = self.conversation();
        let key = format!("p{}-m{}", self.me.index, self.counter);
        let (a, b) = (
            WORDS[self.rng.index(WORDS.len())],
            WORDS[self.rng.index(WORDS.len())],
        );
        let text = format!(
            "{a} {b} from person {}, message {}",
            self.me.index, self.counter
        );
        let url = self.api(&format!("conversations/{}/messages", conversation.id));
        let request = self
            .http
            .post(url)
            .json(&json!({"content": text, "client_id": key}));
        let sent_at = Instant::now();
        let (_, body) = self.expect(request, StatusCode::CREATED).await?;
        let message: Value = serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
        if message["client_key"] != key.as_str() || message["text"] != text.as_str() {
            return Err(format!("sent {key}, answered {message}"));
        }
        if let Some(seq) = message["seq"].as_i64() {
            self.socket.inbox.saw_seq(&conversation.id, seq);
        }
        self.log.sent.push(SentMessage {
            key,
            conversation,
            sender: self.me.index,
            sent_at,
        });
        Ok(())
    }

    async fn history(&mut self) -> Result<(), String> {
        let conversation = self.conversation();
        let url = self.api(&format!(
            "conversations/{}/messages?limit=30",
            conversation.id
        ));
        let (_, body) = self.expect(self.http.get(url), StatusCode::OK).await?;
        let page: Value = serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
        let items = page["items"].as_array().ok_or("no items")?;
        if let Some(seq) = items.iter().filter_map(|m| m["seq"].as_i64()).max() {
            self.socket.inbox.saw_seq(&conversation.id, seq);
        }
        Ok(())
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
