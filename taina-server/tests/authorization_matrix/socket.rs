//! The socket's half of the matrix: everyone with a session opens their realtime socket, each
//! line of [`SOCKET_MATRIX`](super::table::SOCKET_MATRIX) causes its event once, and each socket
//! is then asked what it heard.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::SinkExt;
use serde_json::{Value, json};
use taina::jaci::Photo;
use taina::ybira::Location;
use taina_server::testing::{Socket, frames_within, next_within};
use tokio_tungstenite::tungstenite::Message as Frame;

use super::table::{Caller, socket_rows};
use super::world::{World, file, say};

/// How long the sockets are given to hear what they will hear, once every event is caused.
const SETTLE: Duration = Duration::from_millis(1500);

/// Opens `caller`'s socket, and waits until it follows their conversations (its first pong
/// comes from the loop that also forwards events).
async fn open(world: &World, caller: Caller) -> Socket {
    let token = world.token(caller).expect("a session");
    let mut ws = world.server.socket(&token).await;
    ws.send(Frame::Text(r#"{"type":"ping"}"#.into()))
        .await
        .expect("send a ping");
    next_within(&mut ws, "pong", Duration::from_secs(5)).await;
    ws
}

/// Causes the event of the line `line`, and answers what identifies it in a frame (an id the
/// frame carries; empty for an event that carries none).
async fn cause(world: &World, sockets: &mut BTreeMap<Caller, Socket>, line: &str) -> String {
    let owner = &world.owner().actor;
    let in_projects = Location::Folder(world.projects.clone());
    let guara = world.taina.guara();
    match line {
        "family-message" => say(&world.taina, owner, &world.family, "hi", None)
            .await
            .to_string(),
        "family-reaction" => {
            guara
                .react(&world.participant().actor, &world.message, "🎉")
                .await
                .expect("a reaction");
            world.message.to_string()
        }
        "family-typing" => {
            let typing = json!({"type": "typing", "conversation_id": world.family, "typing": true});
            say_on(sockets, Caller::Participant, typing).await;
            world.participant().actor.user_id.to_string()
        }
        "intruder-typing" => {
            let typing = json!({"type": "typing", "conversation_id": world.family, "typing": true});
            say_on(sockets, Caller::Member, typing).await;
            let member = world.person(Caller::Member).expect("the member");
            member.actor.user_id.to_string()
        }
        "family-read" => {
            let participant = &world.participant().actor;
            guara
                .mark_read(participant, &world.family, 1)
                .await
                .expect("a read position");
            participant.user_id.to_string()
        }
        "participant-idle" => {
            say_on(
                sockets,
                Caller::Participant,
                json!({"type": "idle", "idle": true}),
            )
            .await;
            world.participant().actor.user_id.to_string()
        }
        "family-renamed" => {
            guara
                .rename(owner, &world.family, "The family")
                .await
                .expect("a new name");
            world.family.to_string()
        }
        "private-upload" => file(&world.taina, owner, &Location::MyFiles, "diary.txt", b"d")
            .await
            .to_string(),
        "projects-upload" => file(&world.taina, owner, &in_projects, "plan.txt", b"p")
            .await
            .to_string(),
        "writer-upload" => {
            let writer = &world.person(Caller::Writer).expect("the writer").actor;
            file(&world.taina, writer, &in_projects, "draft.txt", b"w")
                .await
                .to_string()
        }
        "projects-change" => {
            world
                .taina
                .ybira()
                .rename(owner, &world.notes, "notes, old.txt")
                .await
                .expect("a rename");
            world.notes.to_string()
        }
        "projects-photo" => processed(world, &world.photo).await,
        "shared-photo" => processed(world, &world.shared_photo).await,
        "shared-upload" => file(&world.taina, owner, &Location::Shared, "map.txt", b"m")
            .await
            .to_string(),
        "shared-folder" => {
            let admin = &world.person(Caller::Admin).expect("the admin").actor;
            world
                .taina
                .ybira()
                .create_folder(admin, &Location::Shared, "Festa")
                .await
                .expect("a folder")
                .id
                .to_string()
        }
        "member-joined" => world.fresh_member().await.actor.user_id.to_string(),
        "community-renamed" => {
            let admin = &world.person(Caller::Admin).expect("the admin").actor;
            world
                .taina
                .accounts()
                .update_community(
                    admin,
                    taina::accounts::CommunityUpdate {
                        name: Some("Vila Nova".into()),
                        settings: None,
                        storage_quota_bytes: None,
                    },
                )
                .await
                .expect("a new name");
            String::new()
        }
        "elsewhere-upload" => file(
            &world.taina,
            &world.elsewhere_admin.actor,
            &Location::Shared,
            "mapa.txt",
            b"b",
        )
        .await
        .to_string(),
        other => panic!("the socket table's line {other} causes nothing: add it to `cause`"),
    }
}

/// Sends the client frame `frame` on `caller`'s socket.
async fn say_on(sockets: &mut BTreeMap<Caller, Socket>, caller: Caller, frame: Value) {
    sockets
        .get_mut(&caller)
        .expect("the caller's socket")
        .send(Frame::Text(frame.to_string().into()))
        .await
        .expect("send a frame");
}

/// Runs the background jobs (the previews of every photo waiting for them) and answers
/// `photo`'s id.
async fn processed(world: &World, photo: &Photo) -> String {
    world.taina.jobs().run_due().await.expect("run the jobs");
    photo.id.to_string()
}

/// Checks every line of the socket table; answers the cells the server disagrees with.
pub async fn check(world: &World) -> Vec<String> {
    let mut sockets = BTreeMap::new();
    for caller in Caller::WITH_SOCKETS {
        sockets.insert(caller, open(world, caller).await);
    }
    let rows = socket_rows();
    let mut markers = Vec::new();
    for row in &rows {
        markers.push(cause(world, &mut sockets, &row.line).await);
    }
    let heard: BTreeMap<Caller, Vec<Value>> = futures::future::join_all(
        sockets
            .iter_mut()
            .map(|(caller, ws)| async move { (*caller, frames_within(ws, SETTLE).await) }),
    )
    .await
    .into_iter()
    .collect();
    let mut wrong = Vec::new();
    for (row, marker) in rows.iter().zip(&markers) {
        for (caller, expected) in Caller::WITH_SOCKETS.iter().zip(&row.heard) {
            let got = heard[caller]
                .iter()
                .any(|frame| frame["type"] == row.event && frame.to_string().contains(marker));
            if got != *expected {
                wrong.push(format!(
                    "socket {} ({}): {} {} it, the table says {}",
                    row.line,
                    row.event,
                    caller.heading(),
                    if got { "heard" } else { "did not hear" },
                    if *expected { "yes" } else { "no" },
                ));
            }
        }
    }
    wrong
}
