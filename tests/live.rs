//! Live connections on SQLite and on PostgreSQL: a session checked again (as every heartbeat does)
//! ends when it expired, was deleted elsewhere, or the person was disabled, and asks for a
//! reconnect when their role changed; a removed participant's subscription hands out nothing
//! said after the removal; community event feeds are filtered and kept per community; on
//! PostgreSQL, events cross between instances sharing the database.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::sync::Arc;
use std::time::Duration;

use taina::accounts::Ended;
use taina::backend_tests;
use taina::bus::LiveEvent;
use taina::core::{Role, socket};
use taina::feed::{Feed, FeedItem};
use taina::guara::{GuaraEvent, MessageRights, NewMessage};
use taina::testing::TestInstance;
use taina::ybira::Location;
use taina::{Backend, Taina};

/// Runs `sql` with the actor's user id as `$1`, as another process would.
async fn raw(t: &TestInstance, sql: &str, who: &taina::core::Actor) {
    let mut tx = t.taina.db().begin().await.unwrap();
    sqlx::query(sql)
        .bind(who.user_id.as_str())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn a_rechecked_session_ends_with_what_ended_it_elsewhere(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let (bia, _) = t.join(&admin, "bia@example.org", Role::Member).await;
    let accounts = t.taina.accounts();
    assert_eq!(accounts.recheck(&bia).await.unwrap(), None);

    // A change made by another process (the `taina` command, another instance): straight in
    // the database, so that no registry hears of it.
    raw(&t, "UPDATE users SET role = 'guest' WHERE id = $1", &bia).await;
    assert_eq!(
        accounts.recheck(&bia).await.unwrap(),
        Some(Ended::AccessChanged)
    );
    raw(
        &t,
        "UPDATE users SET role = 'member', disabled_at = 1 WHERE id = $1",
        &bia,
    )
    .await;
    assert_eq!(
        accounts.recheck(&bia).await.unwrap(),
        Some(Ended::SessionEnded)
    );

    // Expiry, with the clock.
    let (cau, _) = t.join(&admin, "cau@example.org", Role::Member).await;
    assert_eq!(accounts.recheck(&cau).await.unwrap(), None);
    t.advance(Duration::from_secs(31 * 24 * 3600));
    assert_eq!(
        accounts.recheck(&cau).await.unwrap(),
        Some(Ended::SessionEnded)
    );

    // Signed out: the registered watch ends at once, the recheck agrees.
    t.advance(Duration::from_secs(1));
    let (dani, _) = t.join(&admin, "dani@example.org", Role::Member).await;
    let mut watch = accounts
        .watch(&dani, socket::MAX_SOCKETS_PER_PERSON)
        .unwrap();
    assert_eq!(watch.has_ended(), None);
    accounts.logout(&dani).await.unwrap();
    assert_eq!(watch.ended().await, Ended::SessionEnded);
    assert_eq!(
        accounts.recheck(&dani).await.unwrap(),
        Some(Ended::SessionEnded)
    );
}

async fn watches_are_counted_per_person_and_released_on_drop(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let accounts = t.taina.accounts();
    let held: Vec<_> = (0..3).map(|_| accounts.watch(&admin, 3).unwrap()).collect();
    assert_eq!(accounts.live_connections(&admin.user_id), 3);
    assert!(accounts.watch(&admin, 3).is_err());
    drop(held);
    assert_eq!(accounts.live_connections(&admin.user_id), 0);
    assert!(accounts.watch(&admin, 3).is_ok());
}

async fn a_removed_participant_is_handed_nothing_said_after(t: TestInstance) {
    let w = t.world().await;
    let guara = w.t.taina.guara();
    let group = guara
        .create_group(
            &w.admin,
            "Vizinhos",
            &[w.ana.user_id.clone(), w.bia.user_id.clone()],
        )
        .await
        .unwrap();
    let mut feed = w.t.taina.subscribe(&w.bia).await.unwrap();
    let send = |text: &str| NewMessage {
        text: text.into(),
        ..NewMessage::default()
    };
    guara
        .send(&w.admin, &group.id, send("antes"))
        .await
        .unwrap();
    guara
        .remove_participant(&w.admin, &group.id, &w.bia.user_id)
        .await
        .unwrap();
    guara
        .send(&w.admin, &group.id, send("depois"))
        .await
        .unwrap();
    // Nothing read yet: everything queued is handed out now.
    let mut heard = Vec::new();
    while let Some(event) = feed.try_next() {
        heard.push(event);
    }
    let texts: Vec<&str> = heard
        .iter()
        .filter_map(|e| match e.guara() {
            Some(GuaraEvent::MessageCreated(m)) => Some(m.text.as_str()),
            _ => None,
        })
        .collect();
    assert!(texts.contains(&"antes"), "{heard:?}");
    assert!(!texts.contains(&"depois"), "{heard:?}");
}

async fn community_feeds_say_only_what_the_viewer_may_read(t: TestInstance) {
    let w = t.world().await;
    let (other_admin, _) = w.t.other_community("Outra", "outra@example.org").await;
    let mut member = w.t.taina.subscribe(&w.ana).await.unwrap();
    let mut guest = w.t.taina.subscribe(&w.gil).await.unwrap();
    let mut elsewhere = w.t.taina.subscribe(&other_admin).await.unwrap();
    let y = w.t.taina.ybira();
    y.create_folder(&w.admin, &Location::Shared, "Atas")
        .await
        .unwrap();
    y.create_folder(&w.bia, &Location::MyFiles, "Diário")
        .await
        .unwrap();
    y.create_folder(&w.gil, &Location::MyFiles, "Meu")
        .await
        .unwrap();
    match next_item(&mut member).await {
        Some(item) => assert_eq!(item.community().unwrap().event.item().unwrap().name, "Atas"),
        other => panic!("{other:?}"),
    }
    // Bia's private folder and Gil's are not Ana's business.
    assert_eq!(next_item(&mut member).await, None);
    match next_item(&mut guest).await {
        Some(item) => assert_eq!(item.community().unwrap().event.item().unwrap().name, "Meu"),
        other => panic!("{other:?}"),
    }
    assert_eq!(next_item(&mut guest).await, None);
    assert_eq!(next_item(&mut elsewhere).await, None);
}

/// One feed carries a community's events and the viewer's conversations in the order they
/// happened, and ends (after what was queued) when the instance ends its feeds.
async fn one_feed_carries_everything_in_order_and_ends_with_the_instance(t: TestInstance) {
    let w = t.world().await;
    let mut feed = w.t.taina.subscribe(&w.bia).await.unwrap();
    w.t.taina
        .ybira()
        .create_folder(&w.ana, &Location::Shared, "Atas")
        .await
        .unwrap();
    let dm =
        w.t.taina
            .guara()
            .direct(&w.ana, &w.bia.user_id)
            .await
            .unwrap();
    // The conversation began after the feed: it is followed from its "joined" on.
    w.t.taina
        .guara()
        .send(
            &w.ana,
            &dm.id,
            NewMessage {
                text: "oi".into(),
                ..NewMessage::default()
            },
        )
        .await
        .unwrap();
    w.t.taina.end_feeds();
    let mut names = Vec::new();
    while let Some(item) = next_item(&mut feed).await {
        match item {
            FeedItem::Event(event) => names.push(event.name()),
            FeedItem::Resync => panic!("the feed lagged"),
        }
    }
    assert_eq!(
        names,
        ["folder.created", "conversation.updated", "message.created"]
    );
    // A feed opened afterwards ends at once.
    let mut late = w.t.taina.subscribe(&w.ana).await.unwrap();
    assert_eq!(late.next().await, None);
}

/// Two instances on one PostgreSQL database sharing the storage, as behind a load balancer: what
/// is done through one reaches feeds opened on the other, in order — a community
/// event, a group made with the person (followed at once), a message longer than a `NOTIFY`
/// payload, typing — and a removal there stops what is said after it.
#[tokio::test]
async fn events_cross_instances_on_postgres() {
    let w = TestInstance::new(Backend::Postgres).await.world().await;
    let b = Taina::open_with_clock(w.t.config.clone(), Arc::new(w.t.clock.clone()))
        .await
        .unwrap();
    assert!(
        !b.ybira().recovered().alone,
        "the second instance finds the first holding the storage and recovers nothing"
    );
    let mut bia_on_b = b.subscribe(&w.bia).await.unwrap();
    let a = &w.t.taina;
    a.ybira()
        .create_folder(&w.ana, &Location::Shared, "Atas")
        .await
        .unwrap();
    let group = a
        .guara()
        .create_group(&w.ana, "Vizinhos", std::slice::from_ref(&w.bia.user_id))
        .await
        .unwrap();
    let long = "ação! ".repeat(1_600);
    assert!(long.len() > 8_000, "longer than a NOTIFY payload");
    let say = |text: &str| NewMessage {
        text: text.into(),
        ..NewMessage::default()
    };
    let sent = a.guara().send(&w.ana, &group.id, say(&long)).await.unwrap();
    let mut heard = drain(&mut bia_on_b).await;
    // Then typing, and Bia's removal: nothing said after it reaches her on B.
    a.guara().typing(&w.ana, &group.id, true).await.unwrap();
    a.guara()
        .remove_participant(&w.ana, &group.id, &w.bia.user_id)
        .await
        .unwrap();
    a.guara()
        .send(&w.ana, &group.id, say("depois"))
        .await
        .unwrap();
    heard.extend(drain(&mut bia_on_b).await);

    let names: Vec<&str> = heard.iter().map(|e| e.name()).collect();
    assert_eq!(names.first(), Some(&"folder.created"), "{names:?}");
    for expected in ["typing", "conversation.updated"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let said: Vec<(bool, Option<MessageRights>)> = heard
        .iter()
        .filter_map(|e| match e.as_ref() {
            LiveEvent::Guara(GuaraEvent::MessageCreated(m)) if m.sender_id.is_some() => {
                Some((m.text == sent.text, m.viewer))
            }
            _ => None,
        })
        .collect();
    let read = Some(MessageRights {
        can_edit: false,
        can_delete: false,
    });
    // The long message whole, as Bia may read it; nothing after the removal.
    assert_eq!(said, [(true, read)]);
    drop(bia_on_b);
    b.close().await;
}

/// Issue 18: presence is shared by the instances. Bia online through B shows online to Ana on A;
/// a second connection on A and the first one closing keep her online (no false "offline"); when
/// B dies (its heartbeat stops), A notices within the bound and announces her offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_instances_and_a_dead_instance_goes_offline() {
    use taina::guara::Status;
    let w = TestInstance::new(Backend::Postgres).await.world().await;
    let a = w.t.taina.clone();
    let b = Taina::open_with_clock(w.t.config.clone(), Arc::new(w.t.clock.clone()))
        .await
        .unwrap();
    let group = a
        .guara()
        .create_group(&w.ana, "Vizinhos", std::slice::from_ref(&w.bia.user_id))
        .await
        .unwrap();
    let bia_status = |t: Taina| {
        let ana = w.ana.clone();
        let bia = w.bia.user_id.clone();
        async move {
            let all = t.guara().presence(&ana).await.unwrap();
            all.into_iter().find(|(u, _)| *u == bia).unwrap().1
        }
    };
    let mut ana_on_a = a.subscribe(&w.ana).await.unwrap();
    drain(&mut ana_on_a).await;
    let presence_heard = |heard: Vec<Arc<LiveEvent>>| -> Vec<Status> {
        heard
            .iter()
            .filter_map(|e| match e.as_ref() {
                LiveEvent::Guara(GuaraEvent::Presence { user_id, status })
                    if *user_id == w.bia.user_id =>
                {
                    Some(*status)
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(bia_status(a.clone()).await, Status::Offline);

    let on_b = b.guara().connect(&w.bia).await.unwrap();
    assert_eq!(presence_heard(drain(&mut ana_on_a).await), [Status::Online]);
    assert_eq!(bia_status(a.clone()).await, Status::Online);
    // Her phone goes idle on B: away everywhere.
    on_b.set_idle(true).await.unwrap();
    assert_eq!(presence_heard(drain(&mut ana_on_a).await), [Status::Away]);
    // Her laptop connects through A, and the phone's connection closes: online throughout.
    let on_a = a.guara().connect(&w.bia).await.unwrap();
    assert_eq!(presence_heard(drain(&mut ana_on_a).await), [Status::Online]);
    on_b.close().await.unwrap();
    assert_eq!(presence_heard(drain(&mut ana_on_a).await), []);
    assert_eq!(bia_status(b.clone()).await, Status::Online);
    on_a.close().await.unwrap();
    assert_eq!(
        presence_heard(drain(&mut ana_on_a).await),
        [Status::Offline]
    );

    // B dies with Bia connected: it loses its database, so its heartbeat stops.
    let on_b = b.guara().connect(&w.bia).await.unwrap();
    assert_eq!(presence_heard(drain(&mut ana_on_a).await), [Status::Online]);
    b.db().close().await;
    w.t.advance(Duration::from_secs(20));
    assert_eq!(
        a.guara().beat().await.unwrap(),
        0,
        "B is late, not yet dead"
    );
    assert_eq!(bia_status(a.clone()).await, Status::Online);
    w.t.advance(Duration::from_secs(15));
    assert_eq!(a.guara().beat().await.unwrap(), 1, "B is taken for dead");
    assert_eq!(
        presence_heard(drain(&mut ana_on_a).await),
        [Status::Offline]
    );
    assert_eq!(bia_status(a.clone()).await, Status::Offline);
    // Only one instance announces a death: A's next beat finds nothing more to do.
    assert_eq!(a.guara().beat().await.unwrap(), 0);
    // An instance that stops cleanly says so at once: its people are announced without it.
    let c = Taina::open_with_clock(w.t.config.clone(), Arc::new(w.t.clock.clone()))
        .await
        .unwrap();
    let on_c = c.guara().connect(&w.bia).await.unwrap();
    assert_eq!(presence_heard(drain(&mut ana_on_a).await), [Status::Online]);
    std::mem::forget(on_c);
    c.close().await;
    assert_eq!(
        presence_heard(drain(&mut ana_on_a).await),
        [Status::Offline]
    );
    let _ = group;
    drop(on_b);
}

/// Several instances started together on a fresh PostgreSQL database migrate it once (sqlx's
/// migrator holds an advisory lock) and all come up.
#[tokio::test]
async fn instances_started_together_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = taina::Config::with_data_dir(dir.path().join("data"));
    config.database_url = Some(taina::testing::fresh_postgres_database().await);
    config.job_workers = 0;
    let open = || Taina::open(config.clone());
    let (a, b, c) = tokio::join!(open(), open(), open());
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let migrations: (i64,) = sqlx::query_as("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(a.db().reader())
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(
        usize::try_from(migrations.0).unwrap(),
        files,
        "each applied once"
    );
    for taina in [a, b, c] {
        taina.ready().await.unwrap();
        taina.close().await;
    }
}

/// What a feed hands out until it is quiet for a second.
async fn drain(feed: &mut Feed) -> Vec<Arc<LiveEvent>> {
    let mut heard = Vec::new();
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_secs(1), feed.next()).await {
        match item {
            FeedItem::Event(event) => heard.push(event),
            FeedItem::Resync => panic!("the feed lagged"),
        }
    }
    heard
}

/// The next item of a feed, if one comes within 300 ms.
async fn next_item(feed: &mut Feed) -> Option<FeedItem> {
    tokio::time::timeout(Duration::from_millis(300), feed.next())
        .await
        .ok()
        .flatten()
}

backend_tests!(
    a_rechecked_session_ends_with_what_ended_it_elsewhere,
    watches_are_counted_per_person_and_released_on_drop,
    a_removed_participant_is_handed_nothing_said_after,
    community_feeds_say_only_what_the_viewer_may_read,
    one_feed_carries_everything_in_order_and_ends_with_the_instance,
);
