//! Guará, the messaging service, on SQLite and on PostgreSQL: conversations, messages, read state,
//! realtime delivery, typing, presence and search.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use taina::backend_tests;
use taina::core::{Actor, ErrorKind, MessageId, UserId};
use taina::feed::{Feed, FeedItem};
use taina::guara::{
    AttachmentKind, ConversationChange, GuaraEvent, Kind, MessageRights, NewMessage,
    ParticipantRole, Position, Status, SystemNote,
};
use taina::testing::TestInstance;
use taina::ybira::{Location, NewUpload, OnConflict};

fn kind<T: std::fmt::Debug>(r: taina::Result<T>) -> ErrorKind {
    r.expect_err("expected an error").kind()
}

fn text(s: &str) -> NewMessage {
    NewMessage {
        text: s.into(),
        ..NewMessage::default()
    }
}

fn body(bytes: Vec<u8>) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(256 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

async fn upload(t: &TestInstance, actor: &Actor, name: &str, bytes: Vec<u8>) -> taina::ybira::Item {
    t.taina
        .ybira()
        .upload(
            actor,
            NewUpload {
                location: Location::MyFiles,
                name: name.into(),
                declared_size: None,
                on_conflict: OnConflict::Rename,
            },
            body(bytes),
        )
        .await
        .unwrap()
}

/// Members inserted straight into the database (password hashing would make a hundred slow).
async fn many_members(t: &TestInstance, admin: &Actor, n: usize) -> Vec<UserId> {
    let mut users = Vec::new();
    let mut tx = t.taina.db().begin().await.unwrap();
    for i in 0..n {
        let id = taina::random::new_id(UserId::from_random);
        sqlx::query(
            "INSERT INTO users (id, community_id, email, display_name, password_hash, role, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'x', 'member', 0, 0)",
        )
        .bind(id.as_str())
        .bind(admin.community_id.as_str())
        .bind(format!("m{i}-{id}@example.org"))
        .bind(format!("Member {i}"))
        .execute(&mut *tx)
        .await
        .unwrap();
        users.push(id);
    }
    tx.commit().await.unwrap();
    users
}

/// What a feed hands out, as Guará's tests read it: its events, or the resync marker.
#[derive(Debug, PartialEq)]
enum Heard {
    Event(GuaraEvent),
    Resync,
}

impl Heard {
    /// Guará's part of a feed item (`None` for a community event).
    fn of(item: FeedItem) -> Option<Heard> {
        match item {
            FeedItem::Resync => Some(Heard::Resync),
            item => item.guara().cloned().map(Heard::Event),
        }
    }
}

/// The next of Guará's items on the feed, waiting for one.
async fn next(feed: &mut Feed) -> Heard {
    loop {
        if let Some(heard) = Heard::of(feed.next().await.expect("the instance is open")) {
            return heard;
        }
    }
}

/// The next of Guará's items if one is waiting.
fn try_next(feed: &mut Feed) -> Option<Heard> {
    loop {
        if let Some(heard) = Heard::of(feed.try_next()?) {
            return Some(heard);
        }
    }
}

/// Waits for the next event matching `pick`, skipping others (at most a second).
async fn expect<T>(feed: &mut Feed, mut pick: impl FnMut(&GuaraEvent) -> Option<T>) -> T {
    tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            if let Heard::Event(event) = next(feed).await
                && let Some(found) = pick(&event)
            {
                return found;
            }
        }
    })
    .await
    .expect("the event never came")
}

async fn direct_conversations_are_one_per_pair_and_private(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let first = g.direct(&w.ana, &w.bia.user_id).await.unwrap();
    assert_eq!(first.kind, Kind::Direct);
    assert_eq!(first.participants.len(), 2);
    assert_eq!(g.direct(&w.ana, &w.bia.user_id).await.unwrap().id, first.id);
    assert_eq!(g.direct(&w.bia, &w.ana.user_id).await.unwrap().id, first.id);
    assert_eq!(
        kind(g.direct(&w.ana, &w.ana.user_id).await),
        ErrorKind::Invalid
    );
    let (stranger, _) = w.t.other_community("Elsewhere", "x@elsewhere.org").await;
    assert_eq!(
        kind(g.direct(&w.ana, &stranger.user_id).await),
        ErrorKind::NotFound
    );
    // Concurrent "get or create" for one pair makes one conversation.
    let (a, b) = tokio::join!(
        g.direct(&w.ana, &w.gil.user_id),
        g.direct(&w.gil, &w.ana.user_id)
    );
    assert_eq!(a.unwrap().id, b.unwrap().id);
    // Outsiders, even the community's admin, are told it does not exist.
    g.send(&w.ana, &first.id, text("só para a Bia"))
        .await
        .unwrap();
    for outsider in [&w.admin, &w.gil, &stranger] {
        assert_eq!(
            kind(g.conversation(outsider, &first.id).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(g.history(outsider, &first.id, Position::Latest, None).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(g.send(outsider, &first.id, text("oi")).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(g.mark_read(outsider, &first.id, 1).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(g.typing(outsider, &first.id, true).await),
            ErrorKind::NotFound
        );
    }
    // A direct conversation keeps its two people and has no name.
    assert_eq!(kind(g.leave(&w.ana, &first.id).await), ErrorKind::Conflict);
    assert_eq!(
        kind(g.rename(&w.ana, &first.id, "Nós").await),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(
            g.add_participants(&w.ana, &first.id, std::slice::from_ref(&w.bia.user_id))
                .await
        ),
        ErrorKind::Conflict
    );
}

async fn groups_have_an_admin_and_record_every_change(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    assert_eq!(
        kind(g.create_group(&w.ana, "Sozinha", &[]).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(
            g.create_group(&w.ana, "  ", std::slice::from_ref(&w.bia.user_id))
                .await
        ),
        ErrorKind::Invalid
    );
    let group = g
        .create_group(&w.ana, "  Família  ", std::slice::from_ref(&w.bia.user_id))
        .await
        .unwrap();
    assert_eq!(group.kind, Kind::Group);
    assert_eq!(group.name.as_deref(), Some("Família"));
    w.t.advance(Duration::from_secs(60));
    assert_eq!(
        kind(g.rename(&w.bia, &group.id, "Nope").await),
        ErrorKind::Forbidden
    );
    g.rename(&w.ana, &group.id, "Família Silva").await.unwrap();
    assert_eq!(
        kind(
            g.add_participants(&w.bia, &group.id, std::slice::from_ref(&w.gil.user_id))
                .await
        ),
        ErrorKind::Forbidden
    );
    let grown = g
        .add_participants(
            &w.ana,
            &group.id,
            &[w.gil.user_id.clone(), w.gil.user_id.clone()],
        )
        .await
        .unwrap();
    assert_eq!(grown.participants.len(), 3);
    // A hundred at most: the 101st is refused and nothing changes.
    let crowd = many_members(&w.t, &w.admin, 97).await;
    let full = g.add_participants(&w.ana, &group.id, &crowd).await.unwrap();
    assert_eq!(full.participants.len(), 100);
    let one_more = many_members(&w.t, &w.admin, 1).await;
    assert_eq!(
        kind(g.add_participants(&w.ana, &group.id, &one_more).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        g.conversation(&w.ana, &group.id)
            .await
            .unwrap()
            .participants
            .len(),
        100
    );
    // Removing and leaving; the admin's leaving hands the group on.
    g.remove_participant(&w.ana, &group.id, &w.gil.user_id)
        .await
        .unwrap();
    assert_eq!(
        kind(g.conversation(&w.gil, &group.id).await),
        ErrorKind::NotFound
    );
    g.leave(&w.ana, &group.id).await.unwrap();
    let after = g.conversation(&w.bia, &group.id).await.unwrap();
    let bia = after
        .participants
        .iter()
        .find(|p| p.user_id == w.bia.user_id)
        .unwrap();
    assert_eq!(
        bia.role,
        taina::guara::ParticipantRole::Admin,
        "the longest-standing took over"
    );
    let notes: Vec<SystemNote> = g
        .history(&w.bia, &group.id, Position::Latest, Some(200))
        .await
        .unwrap()
        .messages
        .into_iter()
        .filter_map(|m| m.system)
        .collect();
    assert_eq!(
        notes[0],
        SystemNote::GroupCreated {
            name: "Família".into()
        }
    );
    assert_eq!(
        notes[1],
        SystemNote::Renamed {
            name: "Família Silva".into()
        }
    );
    assert_eq!(
        notes[2],
        SystemNote::ParticipantAdded {
            user_id: w.gil.user_id.clone()
        }
    );
    assert!(notes.contains(&SystemNote::ParticipantRemoved {
        user_id: w.gil.user_id.clone()
    }));
    assert!(notes.contains(&SystemNote::ParticipantLeft {
        user_id: w.ana.user_id.clone()
    }));
    assert_eq!(
        notes.last(),
        Some(&SystemNote::AdminAppointed {
            user_id: w.bia.user_id.clone()
        })
    );
}

async fn messages_hold_text_attachments_replies_edits_and_reactions(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let dm = g.direct(&w.ana, &w.bia.user_id).await.unwrap();
    let hello = g.send(&w.ana, &dm.id, text("  Olá, Bia!  ")).await.unwrap();
    assert_eq!(hello.text, "Olá, Bia!");
    assert_eq!(hello.seq, 1);
    assert_eq!(
        kind(g.send(&w.ana, &dm.id, text("   ")).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(g.send(&w.ana, &dm.id, text(&"a".repeat(10_001))).await),
        ErrorKind::Invalid
    );
    g.send(&w.ana, &dm.id, text(&"a".repeat(10_000)))
        .await
        .unwrap();

    // A retried send with the same key returns the first message and stores nothing new.
    let keyed = NewMessage {
        client_key: Some("phone-42".into()),
        ..text("uma vez só")
    };
    let once = g.send(&w.ana, &dm.id, keyed.clone()).await.unwrap();
    let again = g.send(&w.ana, &dm.id, keyed.clone()).await.unwrap();
    assert_eq!(once, again);
    assert_eq!(g.conversation(&w.ana, &dm.id).await.unwrap().last_seq, 3);
    let bad_key = NewMessage {
        client_key: Some("no spaces please".into()),
        ..text("x")
    };
    assert_eq!(
        kind(g.send(&w.ana, &dm.id, bad_key).await),
        ErrorKind::Invalid
    );

    // Replies stay within the conversation.
    let reply = g
        .send(
            &w.bia,
            &dm.id,
            NewMessage {
                reply_to: Some(hello.id.clone()),
                ..text("Oi!")
            },
        )
        .await
        .unwrap();
    assert_eq!(reply.reply_to.as_ref(), Some(&hello.id));
    let elsewhere = g.direct(&w.ana, &w.gil.user_id).await.unwrap();
    let foreign = NewMessage {
        reply_to: Some(hello.id.clone()),
        ..text("?")
    };
    assert_eq!(
        kind(g.send(&w.ana, &elsewhere.id, foreign).await),
        ErrorKind::NotFound
    );

    // Attachments: a file the sender may read, which the other participant may then download.
    let photo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/photos/jolla.jpg"
    ))
    .unwrap();
    let file = upload(&w.t, &w.ana, "jolla.jpg", photo.clone()).await;
    let with_file = g
        .send(
            &w.ana,
            &dm.id,
            NewMessage {
                attachment: Some(file.id.clone()),
                ..text("")
            },
        )
        .await
        .unwrap();
    let attachment = with_file.attachment.clone().unwrap();
    assert_eq!(attachment.kind, AttachmentKind::Image);
    assert_eq!(attachment.size_bytes, photo.len() as u64);
    let download = g.attachment(&w.bia, &with_file.id, None).await.unwrap();
    let got: Vec<Bytes> = download.body.try_collect().await.unwrap();
    assert_eq!(got.concat(), photo);
    assert_eq!(
        kind(g.attachment(&w.gil, &with_file.id, None).await),
        ErrorKind::NotFound
    );
    // Bia cannot attach Ana's private file: she cannot read it.
    let stolen = NewMessage {
        attachment: Some(file.id.clone()),
        ..text("olha")
    };
    assert_eq!(
        kind(g.send(&w.bia, &dm.id, stolen).await),
        ErrorKind::NotFound
    );
    let big = upload(&w.t, &w.ana, "big.bin", vec![7u8; 25 * 1024 * 1024 + 1]).await;
    let too_big = NewMessage {
        attachment: Some(big.id.clone()),
        ..text("")
    };
    assert_eq!(
        kind(g.send(&w.ana, &dm.id, too_big).await),
        ErrorKind::TooLarge
    );

    // Edits by the author only; deletes leave a tombstone.
    assert_eq!(
        kind(g.edit(&w.bia, &hello.id, "hackeado").await),
        ErrorKind::Forbidden
    );
    let edited = g
        .edit(&w.ana, &hello.id, "Olá, Bia! Tudo bem?")
        .await
        .unwrap();
    assert!(edited.edited_at.is_some());
    assert_eq!(
        kind(g.delete_message(&w.bia, &hello.id).await),
        ErrorKind::Forbidden
    );

    // Reactions: one per person per emoji.
    g.react(&w.bia, &hello.id, "👍").await.unwrap();
    w.t.advance(Duration::from_secs(1));
    assert_eq!(
        kind(g.react(&w.bia, &hello.id, "👍").await),
        ErrorKind::Conflict
    );
    let both = g.react(&w.ana, &hello.id, "👍").await.unwrap();
    assert_eq!(both.reactions.len(), 1);
    assert_eq!(
        both.reactions[0].user_ids,
        vec![w.bia.user_id.clone(), w.ana.user_id.clone()]
    );
    assert_eq!(
        kind(g.react(&w.bia, &hello.id, "not an emoji").await),
        ErrorKind::Invalid
    );
    let back = g.unreact(&w.ana, &hello.id, "👍").await.unwrap();
    assert_eq!(back.reactions[0].user_ids, vec![w.bia.user_id.clone()]);
    assert_eq!(
        kind(g.unreact(&w.ana, &hello.id, "👍").await),
        ErrorKind::NotFound
    );

    g.delete_message(&w.ana, &hello.id).await.unwrap();
    let history = g
        .history(&w.bia, &dm.id, Position::Latest, None)
        .await
        .unwrap();
    let tombstone = history.messages.iter().find(|m| m.id == hello.id).unwrap();
    assert!(tombstone.deleted_at.is_some());
    assert_eq!(tombstone.text, "");
    assert!(tombstone.reactions.is_empty());
    assert_eq!(
        kind(g.edit(&w.ana, &hello.id, "de volta").await),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(g.edit(&w.ana, &MessageId::from_random([9; 21]), "x").await),
        ErrorKind::NotFound
    );
}

async fn read_state_and_the_conversation_list(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let dm = g.direct(&w.ana, &w.bia.user_id).await.unwrap();
    let group = g
        .create_group(
            &w.bia,
            "Vizinhos",
            &[w.ana.user_id.clone(), w.gil.user_id.clone()],
        )
        .await
        .unwrap();
    for n in 1..=3 {
        w.t.advance(Duration::from_secs(1));
        g.send(&w.bia, &dm.id, text(&format!("msg {n}")))
            .await
            .unwrap();
    }
    w.t.advance(Duration::from_secs(1));
    g.send(&w.ana, &dm.id, text("minha")).await.unwrap();
    w.t.advance(Duration::from_secs(1));
    let latest = g.send(&w.gil, &group.id, text("no grupo")).await.unwrap();
    let list = g.conversations(&w.ana).await.unwrap();
    let ids: Vec<_> = list.iter().map(|s| s.conversation.id.clone()).collect();
    assert_eq!(
        ids,
        vec![group.id.clone(), dm.id.clone()],
        "latest activity first"
    );
    assert_eq!(list[0].last_message.as_ref().unwrap().id, latest.id);
    // Sending read the three before it; the group's creation note and Gil's message are unread.
    assert_eq!(list[1].unread_count, 0);
    assert_eq!(list[0].unread_count, 2);
    assert_eq!(g.unread_total(&w.ana).await.unwrap(), 2);
    let bia_list = g.conversations(&w.bia).await.unwrap();
    let bia_dm = bia_list
        .iter()
        .find(|s| s.conversation.id == dm.id)
        .unwrap();
    assert_eq!(bia_dm.unread_count, 1);
    assert_eq!(g.mark_read(&w.ana, &group.id, 1).await.unwrap(), 1);
    // A position is a `seq`: a negative one is refused (it was once accepted and ignored).
    assert_eq!(
        kind(g.mark_read(&w.ana, &group.id, -1).await),
        ErrorKind::Invalid
    );
    assert_eq!(g.unread_total(&w.ana).await.unwrap(), 1);
    assert_eq!(
        g.mark_read(&w.ana, &group.id, 0).await.unwrap(),
        1,
        "never backwards"
    );
    assert_eq!(
        g.mark_read(&w.ana, &group.id, 99).await.unwrap(),
        2,
        "never past the latest"
    );
    assert_eq!(g.unread_total(&w.ana).await.unwrap(), 0);
    // Deleted messages are not unread.
    let gone = g.send(&w.bia, &dm.id, text("ops")).await.unwrap();
    assert_eq!(g.unread_total(&w.ana).await.unwrap(), 1);
    g.delete_message(&w.bia, &gone.id).await.unwrap();
    assert_eq!(g.unread_total(&w.ana).await.unwrap(), 0);
}

async fn history_pages_both_ways_and_concurrent_senders_keep_order(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let group = g
        .create_group(&w.ana, "Ordem", std::slice::from_ref(&w.bia.user_id))
        .await
        .unwrap();
    let mut sub = w.t.taina.subscribe(&w.bia).await.unwrap();
    // Two people sending at once: every message gets its own place, in commit order.
    let send_many = |actor: Actor, who: &'static str| {
        let taina = w.t.taina.clone();
        let id = group.id.clone();
        tokio::spawn(async move {
            for n in 0..30 {
                taina
                    .guara()
                    .send(&actor, &id, text(&format!("{who} {n}")))
                    .await
                    .unwrap();
            }
        })
    };
    let (a, b) = (
        send_many(w.ana.clone(), "ana"),
        send_many(w.bia.clone(), "bia"),
    );
    a.await.unwrap();
    b.await.unwrap();
    let latest = g
        .history(&w.ana, &group.id, Position::Latest, None)
        .await
        .unwrap();
    assert!(latest.has_more);
    let seqs: Vec<i64> = latest.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (12..=61).collect::<Vec<_>>());
    let older = g
        .history(&w.ana, &group.id, Position::Before(12), None)
        .await
        .unwrap();
    assert_eq!(
        older.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=11).collect::<Vec<_>>()
    );
    assert!(!older.has_more);
    let caught_up = g
        .history(&w.ana, &group.id, Position::After(55), None)
        .await
        .unwrap();
    assert_eq!(
        caught_up.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (56..=61).collect::<Vec<_>>()
    );
    assert!(!caught_up.has_more);
    // Each sender's own messages keep their order.
    for who in ["ana", "bia"] {
        let mine: Vec<String> = latest
            .messages
            .iter()
            .chain(older.messages.iter())
            .filter(|m| m.text.starts_with(who))
            .map(|m| (m.seq, m.text.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_values()
            .collect();
        let expected: Vec<String> = (0..30).map(|n| format!("{who} {n}")).collect();
        assert_eq!(mine, expected);
    }
    // The subscriber received every message, in seq order, with no gap.
    let mut received = Vec::new();
    while received.len() < 60 {
        if let Heard::Event(GuaraEvent::MessageCreated(m)) =
            tokio::time::timeout(Duration::from_secs(1), next(&mut sub))
                .await
                .unwrap()
        {
            received.push(m.seq);
        }
    }
    assert_eq!(received, (2..=61).collect::<Vec<_>>());
}

async fn realtime_delivers_messages_typing_and_presence(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let dm = g.direct(&w.ana, &w.bia.user_id).await.unwrap();
    let mut bia = w.t.taina.subscribe(&w.bia).await.unwrap();
    let mut gil = w.t.taina.subscribe(&w.gil).await.unwrap();

    let sent = g.send(&w.ana, &dm.id, text("chegou?")).await.unwrap();
    let got = expect(&mut bia, |e| match e {
        GuaraEvent::MessageCreated(m) => Some(m.clone()),
        _ => None,
    })
    .await;
    // The message as Bia reads it: not hers to edit or delete.
    assert_eq!(
        *got,
        sent.clone()
            .for_reader(&w.bia.user_id, ParticipantRole::Member)
    );
    assert_eq!(
        got.viewer,
        Some(MessageRights {
            can_edit: false,
            can_delete: false
        })
    );
    assert_eq!(
        sent.viewer,
        Some(MessageRights {
            can_edit: true,
            can_delete: true
        }),
        "the sender reads her own message as hers"
    );
    assert!(
        try_next(&mut gil).is_none(),
        "Gil is not in the conversation"
    );

    // Typing: announced once, refreshed silently, ended by expiry five seconds after the last refresh.
    g.typing(&w.ana, &dm.id, true).await.unwrap();
    w.t.advance(Duration::from_secs(3));
    g.typing(&w.ana, &dm.id, true).await.unwrap();
    assert_eq!(
        g.typing_in(&w.bia, &dm.id).await.unwrap(),
        vec![w.ana.user_id.clone()]
    );
    let started = expect(&mut bia, |e| match e {
        GuaraEvent::Typing { active, .. } => Some(*active),
        _ => None,
    })
    .await;
    assert!(started);
    w.t.advance(Duration::from_secs(3));
    assert_eq!(g.expire_typing(), 0);
    w.t.advance(Duration::from_secs(3));
    assert_eq!(g.expire_typing(), 1);
    let next_typing = expect(&mut bia, |e| match e {
        GuaraEvent::Typing { active, .. } => Some(*active),
        _ => None,
    })
    .await;
    assert!(!next_typing, "no second 'started' for a refresh");
    // Sending ends typing too.
    g.typing(&w.ana, &dm.id, true).await.unwrap();
    g.send(&w.ana, &dm.id, text("pronto")).await.unwrap();
    assert!(g.typing_in(&w.bia, &dm.id).await.unwrap().is_empty());

    // Presence: visible to people who share a conversation.
    assert_eq!(
        g.presence(&w.bia).await.unwrap(),
        vec![(w.ana.user_id.clone(), Status::Offline)]
    );
    let phone = g.connect(&w.ana).await.unwrap();
    let online = expect(&mut bia, |e| match e {
        GuaraEvent::Presence { user_id, status } if *user_id == w.ana.user_id => Some(*status),
        _ => None,
    })
    .await;
    assert_eq!(online, Status::Online);
    phone.set_idle(true).await.unwrap();
    assert_eq!(g.presence(&w.bia).await.unwrap()[0].1, Status::Away);
    phone.close().await.unwrap();
    assert_eq!(g.presence(&w.bia).await.unwrap()[0].1, Status::Offline);
    assert!(g.presence(&w.gil).await.unwrap().is_empty());

    // Joining a conversation starts its delivery at once; leaving stops it.
    let group = g
        .create_group(&w.ana, "Novo", std::slice::from_ref(&w.gil.user_id))
        .await
        .unwrap();
    let joined = expect(&mut gil, |e| match e {
        GuaraEvent::ConversationUpdated {
            conversation_id,
            change,
        } => Some((conversation_id.clone(), *change)),
        _ => None,
    })
    .await;
    assert_eq!(joined, (group.id.clone(), ConversationChange::Joined));
    let hi = g.send(&w.ana, &group.id, text("bem-vindo")).await.unwrap();
    let got = expect(&mut gil, |e| match e {
        GuaraEvent::MessageCreated(m) if m.sender_id.is_some() => Some(m.id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, hi.id);
    g.leave(&w.gil, &group.id).await.unwrap();
    expect(&mut gil, |e| {
        matches!(
            e,
            GuaraEvent::ConversationUpdated {
                change: ConversationChange::Left,
                ..
            }
        )
        .then_some(())
    })
    .await;
    while try_next(&mut gil).is_some() {}
    g.send(&w.ana, &group.id, text("ainda aí?")).await.unwrap();
    assert!(try_next(&mut gil).is_none());
}

async fn a_slow_subscriber_is_told_to_resync(t: TestInstance) {
    let t = t.reconfigure(|c| c.realtime_queue = 8).await;
    let w = t.world().await;
    let g = w.t.taina.guara();
    let dm = g.direct(&w.ana, &w.bia.user_id).await.unwrap();
    let mut slow = w.t.taina.subscribe(&w.bia).await.unwrap();
    let mut fast = w.t.taina.subscribe(&w.bia).await.unwrap();
    for n in 0..20 {
        g.send(&w.ana, &dm.id, text(&format!("{n}"))).await.unwrap();
        // The fast one keeps up and never needs to resync.
        let e = next(&mut fast).await;
        assert!(
            matches!(&e, Heard::Event(GuaraEvent::MessageCreated(_))),
            "{e:?}"
        );
    }
    assert_eq!(next(&mut slow).await, Heard::Resync);
    // After the resync marker, the newest events follow; catching up by history has no gap.
    let mut last = 0;
    while let Some(e) = try_next(&mut slow) {
        if let Heard::Event(GuaraEvent::MessageCreated(m)) = &e {
            last = m.seq;
        }
    }
    assert_eq!(last, 20);
    let page = g
        .history(&w.bia, &dm.id, Position::After(0), None)
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 20);

    // Bia is added to a group while her feed overflows: the "joined" event is among those
    // dropped. After the resync her feed follows the group all the same.
    for n in 0..20 {
        g.send(&w.ana, &dm.id, text(&format!("again {n}")))
            .await
            .unwrap();
    }
    let group = g
        .create_group(&w.ana, "Festa", std::slice::from_ref(&w.gil.user_id))
        .await
        .unwrap();
    g.add_participants(&w.ana, &group.id, std::slice::from_ref(&w.bia.user_id))
        .await
        .unwrap();
    for n in 0..20 {
        g.send(&w.ana, &dm.id, text(&format!("more {n}")))
            .await
            .unwrap();
    }
    loop {
        let e = tokio::time::timeout(Duration::from_secs(1), next(&mut slow))
            .await
            .unwrap();
        if e == Heard::Resync {
            break;
        }
    }
    while try_next(&mut slow).is_some() {}
    let sent = g.send(&w.ana, &group.id, text("bem-vinda")).await.unwrap();
    let got = expect(&mut slow, |e| match e {
        GuaraEvent::MessageCreated(m) if m.conversation_id == group.id => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        *got,
        sent.for_reader(&w.bia.user_id, ParticipantRole::Member)
    );
}

async fn search_finds_my_messages_only(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let dm = g.direct(&w.ana, &w.bia.user_id).await.unwrap();
    let other = g.direct(&w.ana, &w.gil.user_id).await.unwrap();
    g.send(&w.ana, &dm.id, text("Churrasco no sábado, quem vem?"))
        .await
        .unwrap();
    g.send(&w.bia, &dm.id, text("Eu levo a farofa para o churrasco"))
        .await
        .unwrap();
    g.send(&w.ana, &dm.id, text("Reunião do condomínio amanhã"))
        .await
        .unwrap();
    g.send(&w.ana, &other.id, text("Churrasco secreto com o Gil"))
        .await
        .unwrap();
    let hits = g.search(&w.bia, "churras").await.unwrap();
    assert_eq!(hits.len(), 2, "prefix match, and only Bia's conversations");
    assert!(hits.iter().all(|h| h.message.conversation_id == dm.id));
    assert!(
        hits.iter()
            .all(|h| h.snippet.to_lowercase().contains("«churrasco»")),
        "{hits:?}"
    );
    assert!(hits[0].rank >= hits[1].rank);
    let both = g.search(&w.ana, "churrasco sábado").await.unwrap();
    assert_eq!(both.len(), 1);
    assert_eq!(g.search(&w.ana, "churrasco").await.unwrap().len(), 3);
    // Operators typed by people are words, not syntax.
    assert_eq!(
        g.search(&w.ana, "churrasco OR reunião")
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(g.search(&w.ana, "\"churrasco\"*").await.unwrap().len(), 3);
    // Only punctuation holds no word: it finds nothing (and is no error).
    assert!(g.search(&w.ana, " -- ").await.unwrap().is_empty());
    assert_eq!(
        kind(g.search(&w.ana, &"a".repeat(201)).await),
        ErrorKind::Invalid
    );
    // Deleted and edited text is searched as it is now.
    let farofa = g.search(&w.ana, "farofa").await.unwrap();
    g.delete_message(&w.bia, &farofa[0].message.id)
        .await
        .unwrap();
    assert!(g.search(&w.ana, "farofa").await.unwrap().is_empty());
    let meeting = g.search(&w.ana, "reunião").await.unwrap().remove(0).message;
    g.edit(&w.ana, &meeting.id, "Assembleia do condomínio amanhã")
        .await
        .unwrap();
    assert!(g.search(&w.ana, "reunião").await.unwrap().is_empty());
    assert_eq!(g.search(&w.ana, "assembleia").await.unwrap().len(), 1);
}

/// A full group is refused more people before any of them is looked up; a request naming more
/// people than a group holds is refused whoever they are.
async fn adding_people_checks_sizes_before_looking_anyone_up(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let crowd = many_members(&w.t, &w.admin, 98).await;
    let group = g.create_group(&w.ana, "Quase cheio", &crowd).await.unwrap();
    assert_eq!(group.participants.len(), 99);
    // Two strangers (ids of no one): too many for the group, said as such, not "not found".
    let strangers: Vec<UserId> = (0..2)
        .map(|_| taina::random::new_id(UserId::from_random))
        .collect();
    let e = g
        .add_participants(&w.ana, &group.id, &strangers)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    // A list longer than a group holds, of people already in it: refused outright.
    let repeated: Vec<UserId> = std::iter::repeat_n(crowd[0].clone(), 1000).collect();
    assert_eq!(
        kind(g.add_participants(&w.ana, &group.id, &repeated).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(g.create_group(&w.ana, "Longa", &repeated).await),
        ErrorKind::Invalid
    );
    // The hundredth fits, named together with people already in: they are skipped.
    let full = g
        .add_participants(
            &w.ana,
            &group.id,
            &[crowd[0].clone(), w.bia.user_id.clone(), crowd[1].clone()],
        )
        .await
        .unwrap();
    assert_eq!(full.participants.len(), 100);
    // A single stranger in a group with room is still "not found".
    let roomy = g
        .create_group(&w.ana, "Espaçoso", std::slice::from_ref(&w.bia.user_id))
        .await
        .unwrap();
    assert_eq!(
        kind(g.add_participants(&w.ana, &roomy.id, &strangers[..1]).await),
        ErrorKind::NotFound
    );
}

/// Reactions are capped per person and per message, and read back grouped by emoji in order.
async fn reactions_are_capped_and_grouped(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let group = g
        .create_group(
            &w.ana,
            "Reações",
            &[
                w.bia.user_id.clone(),
                w.gil.user_id.clone(),
                w.admin.user_id.clone(),
            ],
        )
        .await
        .unwrap();
    let m = g.send(&w.ana, &group.id, text("reajam")).await.unwrap();
    for i in 0..20 {
        w.t.advance(Duration::from_millis(1));
        g.react(&w.ana, &m.id, &format!("a{i}")).await.unwrap();
    }
    assert_eq!(
        kind(g.react(&w.ana, &m.id, "a20").await),
        ErrorKind::Conflict
    );
    for i in 0..20 {
        w.t.advance(Duration::from_millis(1));
        g.react(&w.bia, &m.id, &format!("b{i}")).await.unwrap();
    }
    for i in 0..10 {
        w.t.advance(Duration::from_millis(1));
        g.react(&w.gil, &m.id, &format!("g{i}")).await.unwrap();
    }
    // Fifty different emoji: no new one, but one already there may be joined.
    assert_eq!(
        kind(g.react(&w.admin, &m.id, "novo").await),
        ErrorKind::Conflict
    );
    let joined = g.react(&w.admin, &m.id, "a0").await.unwrap();
    assert_eq!(joined.reactions.len(), 50);
    assert_eq!(joined.reactions[0].emoji, "a0");
    assert_eq!(
        joined.reactions[0].user_ids,
        [w.ana.user_id.clone(), w.admin.user_id.clone()]
    );
    assert_eq!(joined.reactions[20].emoji, "b0");
    // Taking one back makes room again.
    g.unreact(&w.gil, &m.id, "g9").await.unwrap();
    g.react(&w.admin, &m.id, "novo").await.unwrap();
    let page = g
        .history(&w.bia, &group.id, Position::Latest, None)
        .await
        .unwrap();
    let read_back = page.messages.iter().find(|x| x.id == m.id).unwrap();
    assert_eq!(read_back.reactions.len(), 50);
    assert_eq!(read_back.reactions.last().unwrap().emoji, "novo");
}

/// The integrity check counts the references attachments hold, finds a wrong count, and repairs it.
async fn the_integrity_check_counts_attachment_references(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let file = upload(&w.t, &w.ana, "anexo.bin", vec![9; 4096]).await;
    let dm = g.direct(&w.ana, &w.bia.user_id).await.unwrap();
    let with = |caption: &str| NewMessage {
        attachment: Some(file.id.clone()),
        ..text(caption)
    };
    g.send(&w.ana, &dm.id, with("um")).await.unwrap();
    g.send(&w.ana, &dm.id, with("dois")).await.unwrap();
    let ybira = w.t.taina.ybira();
    let clean = ybira.check_integrity(Default::default()).await.unwrap();
    assert!(
        clean.reference_drift.is_empty(),
        "{:?}",
        clean.reference_drift
    );
    // One file and two attachments: three references.
    let (refs,): (i64,) = sqlx::query_as("SELECT ref_count FROM blobs")
        .fetch_one(w.t.taina.db().reader())
        .await
        .unwrap();
    assert_eq!(refs, 3);
    // A count that forgets the attachments is found, and repaired.
    let mut tx = w.t.taina.db().begin().await.unwrap();
    sqlx::query("UPDATE blobs SET ref_count = 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let found = ybira.check_integrity(Default::default()).await.unwrap();
    assert_eq!(found.reference_drift.len(), 1);
    assert_eq!(
        (
            found.reference_drift[0].recorded,
            found.reference_drift[0].actual
        ),
        (1, 3)
    );
    assert!(!found.is_clean());
    let repair = taina::ybira::IntegrityOptions {
        repair: true,
        ..Default::default()
    };
    ybira.check_integrity(repair).await.unwrap();
    let (refs,): (i64,) = sqlx::query_as("SELECT ref_count FROM blobs")
        .fetch_one(w.t.taina.db().reader())
        .await
        .unwrap();
    assert_eq!(refs, 3);
    let after = ybira.check_integrity(Default::default()).await.unwrap();
    assert!(
        after.reference_drift.is_empty(),
        "{:?}",
        after.reference_drift
    );
}

/// A search starts from the viewer's conversations: on SQLite the full-text index is probed per
/// message of theirs (by rowid, with MATCH) rather than matched across the whole server first.
async fn a_search_starts_from_the_viewers_conversations(t: TestInstance) {
    let w = t.world().await;
    let g = w.t.taina.guara();
    let dm = g.direct(&w.ana, &w.bia.user_id).await.unwrap();
    g.send(&w.ana, &dm.id, text("festa amanhã")).await.unwrap();
    let plan = g.search_plan(&w.ana, "festa").await.unwrap();
    let shown = plan.join("\n");
    match w.t.taina.backend() {
        taina::Backend::Sqlite => {
            assert!(
                plan[0].contains("SEARCH p USING") && plan[0].contains("user_id=?"),
                "{shown}"
            );
            let fts = plan
                .iter()
                .position(|l| l.contains("guara_search"))
                .unwrap();
            let messages = plan
                .iter()
                .position(|l| l.starts_with("SEARCH m "))
                .unwrap();
            assert!(messages < fts, "{shown}");
            // The rowid constraint (`=`) along with MATCH (`M`): a probe, not a scan.
            assert!(plan[fts].contains(":=M"), "{shown}");
        }
        taina::Backend::Postgres => {
            assert!(shown.contains("participants"), "{shown}");
            assert!(shown.contains("user_id"), "{shown}");
        }
    }
}

backend_tests!(
    a_search_starts_from_the_viewers_conversations,
    adding_people_checks_sizes_before_looking_anyone_up,
    reactions_are_capped_and_grouped,
    the_integrity_check_counts_attachment_references,
    direct_conversations_are_one_per_pair_and_private,
    groups_have_an_admin_and_record_every_change,
    messages_hold_text_attachments_replies_edits_and_reactions,
    read_state_and_the_conversation_list,
    history_pages_both_ways_and_concurrent_senders_keep_order,
    realtime_delivers_messages_typing_and_presence,
    a_slow_subscriber_is_told_to_resync,
    search_finds_my_messages_only,
);
