//! App passwords and WebDAV's view of Ybira (paths, dead properties, copies, locks), on SQLite
//! and on PostgreSQL: the library calls the WebDAV front end is built on.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use bytes::Bytes;
use taina::accounts::NewAppPassword;
use taina::backend_tests;
use taina::core::app_password::{Area, Scope};
use taina::core::{Actor, ErrorKind};
use taina::testing::TestInstance;
use taina::ybira::dav::{LockRequest, Locked, Member, Resolved};
use taina::ybira::{Item, ItemKind, Location, NewUpload, OnConflict, ShareAccess};
use taina_ybira::dav::PropName;
use taina_ybira::dav::path::{DavPath, Root};
use taina_ybira::dav::xml::PatchOp;

fn body(bytes: &[u8]) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + Unpin {
    futures::stream::iter(vec![Ok(Bytes::copy_from_slice(bytes))])
}

async fn put(
    t: &TestInstance,
    actor: &Actor,
    location: Location,
    name: &str,
    bytes: &[u8],
) -> Item {
    let upload = NewUpload {
        location,
        name: name.into(),
        declared_size: None,
        on_conflict: OnConflict::Rename,
    };
    t.taina
        .ybira()
        .upload(actor, upload, body(bytes))
        .await
        .unwrap()
}

fn path(root: Root, names: &[&str]) -> DavPath {
    DavPath {
        root: Some(root),
        names: names.iter().map(|n| (*n).to_owned()).collect(),
    }
}

async fn app_passwords_are_hashed_scoped_and_revocable(t: TestInstance) {
    let w = t.world().await;
    let accounts = w.t.taina.accounts();
    let files = accounts
        .create_app_password(
            &w.ana,
            NewAppPassword {
                name: "  Ana's laptop ".into(),
                scope: Scope::Files,
            },
        )
        .await
        .unwrap();
    assert_eq!(files.info.name, "Ana's laptop");
    assert_eq!(files.password.len(), 29);
    w.t.advance(Duration::from_secs(1));
    let full = accounts
        .create_app_password(
            &w.ana,
            NewAppPassword {
                name: "phone".into(),
                scope: Scope::Everything,
            },
        )
        .await
        .unwrap();

    // Only hashes are stored.
    let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM app_passwords")
        .fetch_all(w.t.taina.db().reader())
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    for (hash,) in &stored {
        for password in [&files.password, &full.password] {
            assert!(!hash.contains(password.as_str()));
            assert!(!hash.contains(&password.replace('-', "")));
        }
    }

    // Basic credentials: the email in any case, the password however typed.
    let typed = files.password.to_uppercase().replace('-', " ");
    let actor = accounts
        .authenticate_basic("ANA@example.org", &typed, Area::Files)
        .await
        .unwrap();
    assert_eq!(actor.user_id, w.ana.user_id);
    assert_eq!(actor.session_id, None);
    for (login, password) in [
        ("bia@example.org", files.password.as_str()),
        ("ana@example.org", taina::testing::PASSWORD),
        ("ana@example.org", "abcde-fghij-kmnpq-rstuv-wxyz2"),
    ] {
        let refused = accounts
            .authenticate_basic(login, password, Area::Files)
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Unauthenticated, "{login}");
    }

    // A files-only password reaches files only; the other reaches everything, also as a bearer.
    let refused = accounts
        .authenticate_basic("ana@example.org", &files.password, Area::Messages)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Forbidden);
    for area in [Area::Files, Area::Photos, Area::Messages, Area::Account] {
        let actor = accounts
            .authenticate_in(&full.password, area)
            .await
            .unwrap();
        assert_eq!(actor.user_id, w.ana.user_id);
    }
    assert_eq!(
        accounts
            .authenticate_in(&files.password, Area::Account)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );

    // The list shows names, scopes and last use, newest first; never the passwords.
    let list = accounts.app_passwords(&w.ana).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, full.info.id, "{list:?} {:?}", full.info);
    assert!(list.iter().all(|a| a.last_used_at.is_some()));
    assert!(accounts.app_passwords(&w.bia).await.unwrap().is_empty());

    // Someone else cannot revoke it; its owner can, and it stops working at once.
    let not_hers = accounts
        .revoke_app_password(&w.bia, &files.info.id)
        .await
        .unwrap_err();
    assert_eq!(not_hers.kind(), ErrorKind::NotFound);
    accounts
        .revoke_app_password(&w.ana, &files.info.id)
        .await
        .unwrap();
    let revoked = accounts
        .authenticate_basic("ana@example.org", &files.password, Area::Files)
        .await
        .unwrap_err();
    assert_eq!(revoked.kind(), ErrorKind::Unauthenticated);

    // A disabled account's app passwords stop working too.
    accounts
        .set_disabled(&w.admin, &w.ana.user_id, true)
        .await
        .unwrap();
    let disabled = accounts
        .authenticate_in(&full.password, Area::Files)
        .await
        .unwrap_err();
    assert_eq!(disabled.kind(), ErrorKind::Unauthenticated);
}

async fn paths_resolve_by_ybiras_rules(t: TestInstance) {
    let w = t.world().await;
    let ybira = w.t.taina.ybira();
    let docs = ybira
        .create_folder(&w.ana, &Location::MyFiles, "Docs")
        .await
        .unwrap();
    let a = put(
        &w.t,
        &w.ana,
        Location::Folder(docs.id.clone()),
        "a.txt",
        b"A",
    )
    .await;

    assert_eq!(
        ybira.resolve_dav(&w.ana, &DavPath::top()).await.unwrap(),
        Resolved::Top
    );
    assert_eq!(
        ybira
            .resolve_dav(&w.ana, &path(Root::Community, &[]))
            .await
            .unwrap(),
        Resolved::SpaceRoot(Root::Community, Location::Shared)
    );
    // Names match ignoring case, as Ybira keeps them.
    assert_eq!(
        ybira
            .resolve_dav(&w.ana, &path(Root::MyFiles, &["docs", "A.TXT"]))
            .await
            .unwrap(),
        Resolved::Item(a.clone())
    );
    assert_eq!(
        ybira
            .resolve_dav(&w.ana, &path(Root::MyFiles, &["Docs", "new.txt"]))
            .await
            .unwrap(),
        Resolved::Missing {
            parent: Some(Location::Folder(docs.id.clone())),
            name: "new.txt".into()
        }
    );
    for names in [&["Nope", "x"][..], &["Docs", "a.txt", "under-a-file"][..]] {
        assert_eq!(
            ybira
                .resolve_dav(&w.ana, &path(Root::MyFiles, names))
                .await
                .unwrap(),
            Resolved::ParentMissing
        );
    }

    // Bia's "My files" is her own: Ana's folder is not there, nor anywhere she can name it.
    let hers = ybira
        .resolve_dav(&w.bia, &path(Root::MyFiles, &["Docs", "a.txt"]))
        .await
        .unwrap();
    assert_eq!(hers, Resolved::ParentMissing);
    assert!(
        ybira
            .dav_members(&w.bia, &Resolved::SharedRoot)
            .await
            .unwrap()
            .is_empty()
    );

    // Shared with her, it appears in "Shared with me"; two shares of one name are numbered.
    ybira
        .share(&w.ana, &docs.id, &w.bia.user_id, ShareAccess::Read)
        .await
        .unwrap();
    let other_docs = ybira
        .create_folder(&w.admin, &Location::MyFiles, "docs")
        .await
        .unwrap();
    ybira
        .share(&w.admin, &other_docs.id, &w.bia.user_id, ShareAccess::Write)
        .await
        .unwrap();
    let shared = ybira
        .dav_members(&w.bia, &Resolved::SharedRoot)
        .await
        .unwrap();
    let names: Vec<String> = shared
        .iter()
        .map(|m| match m {
            Member::Item { name, .. } => name.clone(),
            Member::Root(_) => panic!("a root among shared items"),
        })
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.iter().any(|n| n.ends_with(" (2)")), "{names:?}");
    // Each is reached by its listed name, and what is inside by its own.
    for member in &shared {
        let Member::Item { name, item, .. } = member else {
            unreachable!()
        };
        let resolved = ybira
            .resolve_dav(&w.bia, &path(Root::SharedWithMe, &[name]))
            .await
            .unwrap();
        assert_eq!(resolved, Resolved::Item(item.clone()));
    }
    let docs_name = shared
        .iter()
        .find_map(|m| match m {
            Member::Item { name, item, .. } if item.id == docs.id => Some(name.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        ybira
            .resolve_dav(&w.bia, &path(Root::SharedWithMe, &[&docs_name, "a.txt"]))
            .await
            .unwrap(),
        Resolved::Item(a)
    );
}

async fn dead_properties_are_all_or_nothing_and_travel(t: TestInstance) {
    let w = t.world().await;
    let ybira = w.t.taina.ybira();
    let folder = ybira
        .create_folder(&w.ana, &Location::Shared, "Projeto")
        .await
        .unwrap();
    let inside = Location::Folder(folder.id.clone());
    let file = put(&w.t, &w.ana, inside.clone(), "plano.txt", &[7; 5000]).await;
    let z = "http://ns.example.com/z/";
    let color = PropName::new(z, "color");
    let owner = PropName::new(z, "owner");
    let set = vec![
        PatchOp::Set(color.clone(), "azul".into()),
        PatchOp::Set(owner.clone(), "<who xmlns=\"urn:q\">Ana</who>".into()),
    ];
    let done = ybira.dav_patch_props(&w.ana, &file.id, &set).await.unwrap();
    assert!(done.iter().all(|(_, status)| *status == 200));

    // One live property in the batch: it is refused, the rest fail with it, nothing changes.
    let mixed = vec![
        PatchOp::Set(color.clone(), "verde".into()),
        PatchOp::Set(PropName::dav("getetag"), "\"forged\"".into()),
        PatchOp::Remove(owner.clone()),
    ];
    let refused = ybira
        .dav_patch_props(&w.ana, &file.id, &mixed)
        .await
        .unwrap();
    assert_eq!(
        refused.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [424, 403, 424]
    );
    let mut props = ybira.dav_dead_props(&w.ana, &file.id).await.unwrap();
    props.sort();
    assert_eq!(
        props,
        vec![
            (color.clone(), "azul".to_owned()),
            (owner.clone(), "<who xmlns=\"urn:q\">Ana</who>".to_owned())
        ]
    );

    // A member who may only read cannot set properties on Ana's file in her private space...
    let mine = put(&w.t, &w.ana, Location::MyFiles, "meu.txt", b"x").await;
    ybira
        .share(&w.ana, &mine.id, &w.bia.user_id, ShareAccess::Read)
        .await
        .unwrap();
    let forbidden = ybira
        .dav_patch_props(&w.bia, &mine.id, &set)
        .await
        .unwrap_err();
    assert_eq!(forbidden.kind(), ErrorKind::Forbidden);

    // A deep copy copies the properties and shares the content (no bytes stored twice).
    let used = |t: &TestInstance| {
        let db = t.taina.db().reader().clone();
        async move {
            let (used,): (i64,) = sqlx::query_as("SELECT storage_used_bytes FROM communities")
                .fetch_one(&db)
                .await
                .unwrap();
            used
        }
    };
    let before = used(&w.t).await;
    let copy = ybira
        .dav_copy(&w.ana, &folder, &Location::Shared, "Projeto 2", true, None)
        .await
        .unwrap();
    assert_eq!(used(&w.t).await, before);
    let copied_file = ybira
        .child_named(&w.ana, &Location::Folder(copy.id.clone()), "plano.txt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(copied_file.etag, file.etag);
    let mut copied = ybira.dav_dead_props(&w.ana, &copied_file.id).await.unwrap();
    copied.sort();
    assert_eq!(copied, props);
    // A shallow copy of a folder is the folder alone.
    let shallow = ybira
        .dav_copy(&w.ana, &folder, &Location::Shared, "Vazio", false, None)
        .await
        .unwrap();
    assert!(
        ybira
            .dav_members(&w.ana, &Resolved::Item(shallow))
            .await
            .unwrap()
            .is_empty()
    );

    // Values are bounded per item, all together: past it, nothing of the batch is kept.
    let heavy: Vec<PatchOp> = (0..20)
        .map(|i| PatchOp::Set(PropName::new(z, &format!("big{i}")), "x".repeat(60_000)))
        .collect();
    let refused = ybira
        .dav_patch_props(&w.ana, &file.id, &heavy)
        .await
        .unwrap();
    assert!(refused.iter().all(|(_, s)| *s == 507));
    assert_eq!(
        ybira.dav_dead_props(&w.ana, &file.id).await.unwrap().len(),
        2
    );

    // A move keeps them; removing one removes it.
    let moved = ybira
        .move_item(&w.ana, &file.id, &Location::MyFiles)
        .await
        .unwrap();
    assert_eq!(
        ybira.dav_dead_props(&w.ana, &moved.id).await.unwrap().len(),
        2
    );
    ybira
        .dav_patch_props(&w.ana, &moved.id, &[PatchOp::Remove(color)])
        .await
        .unwrap();
    assert_eq!(
        ybira.dav_dead_props(&w.ana, &moved.id).await.unwrap(),
        vec![(owner, "<who xmlns=\"urn:q\">Ana</who>".to_owned())]
    );
}

async fn locks_conflict_cover_and_lapse(t: TestInstance) {
    let w = t.world().await;
    let ybira = w.t.taina.ybira();
    let folder = ybira
        .create_folder(&w.ana, &Location::Shared, "Casa")
        .await
        .unwrap();
    let file = put(
        &w.t,
        &w.ana,
        Location::Folder(folder.id.clone()),
        "lista.txt",
        b"ovos",
    )
    .await;
    let request = |shared: bool, deep: bool| LockRequest {
        shared,
        deep,
        owner: Some("<href xmlns=\"DAV:\">ana</href>".into()),
        timeout_secs: 600,
        root_href: "/dav/Community/Casa/".into(),
    };
    let Locked::Granted(deep) = ybira
        .dav_lock(&w.ana, &folder.id, request(false, true))
        .await
        .unwrap()
    else {
        panic!("the first lock is granted");
    };
    assert!(deep.token.starts_with("urn:uuid:"));
    // The deep lock covers the file in the folder; anyone's lock on it conflicts.
    let over = ybira
        .dav_locks_over(&w.admin, &file.id, false)
        .await
        .unwrap();
    assert_eq!(over, vec![deep.clone()]);
    let Locked::Conflict(conflict) = ybira
        .dav_lock(&w.admin, &file.id, request(true, false))
        .await
        .unwrap()
    else {
        panic!("a lock under an exclusive deep lock conflicts");
    };
    assert_eq!(conflict.token, deep.token);
    // Only its owner (or an admin) releases it; a member who may not write it cannot lock it.
    let refused = ybira
        .dav_unlock(&w.bia, &folder.id, &deep.token)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Forbidden);
    let refused = ybira
        .dav_lock(&w.bia, &file.id, request(true, false))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Forbidden);
    assert!(
        ybira
            .dav_unlock(&w.ana, &folder.id, &deep.token)
            .await
            .unwrap()
    );
    assert!(
        !ybira
            .dav_unlock(&w.ana, &folder.id, &deep.token)
            .await
            .unwrap()
    );

    // Shared locks share; an exclusive one then conflicts with them.
    for who in [&w.ana, &w.admin] {
        assert!(matches!(
            ybira
                .dav_lock(who, &file.id, request(true, false))
                .await
                .unwrap(),
            Locked::Granted(_)
        ));
    }
    assert!(matches!(
        ybira
            .dav_lock(&w.ana, &file.id, request(false, false))
            .await
            .unwrap(),
        Locked::Conflict(_)
    ));
    // A deep lock on the folder conflicts with the shared locks beneath it.
    assert!(matches!(
        ybira
            .dav_lock(&w.ana, &folder.id, request(false, true))
            .await
            .unwrap(),
        Locked::Conflict(_)
    ));

    // Locks lapse unless refreshed.
    let held = ybira.dav_locks_over(&w.ana, &file.id, false).await.unwrap();
    let ana_token = held
        .iter()
        .find(|l| l.user_id == w.ana.user_id)
        .unwrap()
        .token
        .clone();
    w.t.advance(Duration::from_secs(400));
    let refreshed = ybira
        .dav_refresh_lock(&w.ana, &file.id, &[ana_token.as_str()], 600)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refreshed.token, ana_token);
    w.t.advance(Duration::from_secs(400));
    let left = ybira.dav_locks_over(&w.ana, &file.id, false).await.unwrap();
    assert_eq!(
        left.iter().map(|l| l.token.as_str()).collect::<Vec<_>>(),
        [ana_token.as_str()],
        "the admin's lapsed, Ana's was refreshed"
    );

    // Moving what is locked drops its locks (they belong to the old URL).
    ybira
        .move_item(&w.ana, &file.id, &Location::Shared)
        .await
        .unwrap();
    ybira.dav_drop_locks(&w.ana, &file.id).await.unwrap();
    assert!(
        ybira
            .dav_locks_over(&w.ana, &file.id, false)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(file.kind, ItemKind::File);
}

async fn device_sign_in_is_approved_once_and_lapses(t: TestInstance) {
    let w = t.world().await;
    let accounts = w.t.taina.accounts();
    let flow = accounts
        .start_login_flow("Nextcloud desktop\u{7}")
        .await
        .unwrap();
    // Waiting: the poll gets nothing, the link shows who asks (control characters dropped).
    assert!(
        accounts
            .poll_login_flow(&flow.poll_token)
            .await
            .unwrap()
            .is_none()
    );
    let pending = accounts
        .pending_login_flow(&w.ana, &flow.login_token)
        .await
        .unwrap();
    assert_eq!(pending.client_name, "Nextcloud desktop");
    // The poll token is not the login token, and neither is stored.
    assert!(
        accounts
            .pending_login_flow(&w.ana, &flow.poll_token)
            .await
            .is_err()
    );
    accounts
        .answer_login_flow(&w.ana, &flow.login_token, true)
        .await
        .unwrap();
    // Answered once only.
    assert_eq!(
        accounts
            .answer_login_flow(&w.bia, &flow.login_token, true)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let granted = accounts
        .poll_login_flow(&flow.poll_token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(granted.login_name, "ana@example.org");
    let actor = accounts
        .authenticate_basic("ana@example.org", &granted.app_password, Area::Files)
        .await
        .unwrap();
    assert_eq!(actor.user_id, w.ana.user_id);
    let listed = accounts.app_passwords(&w.ana).await.unwrap();
    assert_eq!(listed[0].name, "Nextcloud desktop");
    assert_eq!(listed[0].scope, Scope::Files);
    assert!(
        accounts
            .poll_login_flow(&flow.poll_token)
            .await
            .unwrap()
            .is_none()
    );

    // Turned away, the flow ends; unanswered, it lapses after 20 minutes.
    let refused = accounts.start_login_flow("x").await.unwrap();
    accounts
        .answer_login_flow(&w.ana, &refused.login_token, false)
        .await
        .unwrap();
    assert!(
        accounts
            .pending_login_flow(&w.ana, &refused.login_token)
            .await
            .is_err()
    );
    let late = accounts.start_login_flow("x").await.unwrap();
    w.t.advance(taina::accounts::LOGIN_FLOW_LIFETIME);
    assert!(
        accounts
            .answer_login_flow(&w.ana, &late.login_token, true)
            .await
            .is_err()
    );
    assert!(
        accounts
            .poll_login_flow(&late.poll_token)
            .await
            .unwrap()
            .is_none()
    );
}

/// A chunked upload (Nextcloud's) is a resumable upload whose destination is named at the end: a
/// destination that cannot take it is refused before anything is sealed, and the upload stays.
async fn held_uploads_wait_for_their_destination(t: TestInstance) {
    let w = t.world().await;
    let ybira = w.t.taina.ybira();
    ybira
        .create_folder(&w.ana, &Location::MyFiles, "pasta")
        .await
        .unwrap();
    ybira.dav_start_chunked(&w.ana, "t-1", 6).await.unwrap();
    let status = ybira
        .dav_chunk(&w.ana, "t-1", 0, body(b"abcdef"))
        .await
        .unwrap();
    assert_eq!(status.offset, 6);
    // Complete, but not stored until it is named.
    assert!(
        ybira
            .child_named(&w.ana, &Location::MyFiles, "upload")
            .await
            .unwrap()
            .is_none()
    );
    let refused = ybira
        .dav_finish_chunked(&w.ana, "t-1", &Location::MyFiles, "pasta")
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    // Bia's private space is not Ana's to write: refused, and still the upload stays.
    let hers = ybira
        .create_folder(&w.bia, &Location::MyFiles, "dela")
        .await
        .unwrap();
    assert!(
        ybira
            .dav_finish_chunked(&w.ana, "t-1", &Location::Folder(hers.id), "x.txt")
            .await
            .is_err()
    );
    assert_eq!(
        ybira
            .dav_chunked(&w.ana, "t-1")
            .await
            .unwrap()
            .map(|s| s.offset),
        Some(6)
    );
    let stored = ybira
        .dav_finish_chunked(&w.ana, "t-1", &Location::MyFiles, "junto.txt")
        .await
        .unwrap();
    assert_eq!(stored.size_bytes, 6);
    assert!(ybira.dav_chunked(&w.ana, "t-1").await.unwrap().is_none());
    // Bad transfer ids name nothing.
    assert!(ybira.dav_start_chunked(&w.ana, "../x", 1).await.is_err());
}

/// A MOVE with `Overwrite` that the library refuses puts back what it replaced: nothing is lost.
async fn a_refused_overwrite_loses_nothing(t: TestInstance) {
    let w = t.world().await;
    let ybira = w.t.taina.ybira();
    // Ana's folder in the community's space holds a file of Bia's: it may not go into Ana's
    // private space.
    let shared = ybira
        .create_folder(&w.ana, &Location::Shared, "Projeto")
        .await
        .unwrap();
    put(
        &w.t,
        &w.bia,
        Location::Folder(shared.id.clone()),
        "da-bia.txt",
        b"dela",
    )
    .await;
    let mine = ybira
        .create_folder(&w.ana, &Location::MyFiles, "Projeto")
        .await
        .unwrap();
    put(
        &w.t,
        &w.ana,
        Location::Folder(mine.id.clone()),
        "meu.txt",
        b"meu",
    )
    .await;
    let refused = ybira
        .dav_move(&w.ana, &shared, &Location::MyFiles, "Projeto", Some(&mine))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Forbidden);
    // What would have been replaced is back in place, whole; the trash holds nothing.
    let back = ybira
        .child_named(&w.ana, &Location::MyFiles, "Projeto")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.id, mine.id);
    assert!(
        ybira
            .child_named(&w.ana, &Location::Folder(mine.id.clone()), "meu.txt")
            .await
            .unwrap()
            .is_some()
    );
    assert!(ybira.trash(&w.ana).await.unwrap().is_empty());
    // A copy over it that succeeds replaces it, and the replaced one is in the trash.
    let copied = ybira
        .dav_copy(
            &w.ana,
            &shared,
            &Location::MyFiles,
            "Projeto",
            true,
            Some(&mine),
        )
        .await
        .unwrap();
    assert_eq!(copied.name, "Projeto");
    assert!(
        ybira
            .child_named(&w.ana, &Location::Folder(copied.id), "da-bia.txt")
            .await
            .unwrap()
            .is_some()
    );
    let trash = ybira.trash(&w.ana).await.unwrap();
    assert!(trash.iter().any(|i| i.id == mine.id), "{trash:?}");
}

backend_tests!(
    a_refused_overwrite_loses_nothing,
    held_uploads_wait_for_their_destination,
    device_sign_in_is_approved_once_and_lapses,
    app_passwords_are_hashed_scoped_and_revocable,
    paths_resolve_by_ybiras_rules,
    dead_properties_are_all_or_nothing_and_travel,
    locks_conflict_cover_and_lapse,
);
