//! Accounts and communities, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use taina::accounts::{
    CommunityUpdate, LoginRequest, NewInvite, ProfileUpdate, RegisterRequest, SetupRequest,
};
use taina::backend_tests;
use taina::core::{CommunitySettings, ErrorKind, Role};
use taina::testing::{PASSWORD, TestInstance, next_event, queued_events};

fn login(email: &str, password: &str) -> LoginRequest {
    LoginRequest {
        email: email.into(),
        password: password.into(),
        ..Default::default()
    }
}

fn kind<T: std::fmt::Debug>(r: taina::Result<T>) -> ErrorKind {
    r.expect_err("expected an error").kind()
}

async fn setup_happens_once(t: TestInstance) {
    let accounts = t.taina.accounts();
    assert!(accounts.needs_setup().await.unwrap());
    let admin = t.setup().await;
    assert_eq!(admin.user.role, Role::Admin);
    assert_eq!(admin.user.email, "admin@example.org");
    assert!(!accounts.needs_setup().await.unwrap());

    let again = accounts
        .setup(SetupRequest {
            community_name: "Another".into(),
            community_slug: None,
            email: "x@example.org".into(),
            password: PASSWORD.into(),
            display_name: "X".into(),
            user_agent: None,
        })
        .await;
    assert_eq!(kind(again), ErrorKind::Conflict);

    let actor = t.actor(&admin).await;
    let community = accounts.community(&actor).await.unwrap();
    assert_eq!(community.name, "Vila Tainá");
    assert_eq!(community.slug, "vila-taina");
    assert!(!community.settings.open_registration);
}

async fn setup_rejects_bad_input(t: TestInstance) {
    let accounts = t.taina.accounts();
    let base = SetupRequest {
        community_name: "Casa".into(),
        community_slug: None,
        email: "a@example.org".into(),
        password: PASSWORD.into(),
        display_name: "A".into(),
        user_agent: None,
    };
    for (req, field) in [
        (
            SetupRequest {
                password: "short".into(),
                ..base.clone()
            },
            "password",
        ),
        (
            SetupRequest {
                email: "nope".into(),
                ..base.clone()
            },
            "email",
        ),
        (
            SetupRequest {
                community_name: " ".into(),
                ..base.clone()
            },
            "community_name",
        ),
        (
            SetupRequest {
                community_slug: Some("-bad-".into()),
                ..base.clone()
            },
            "slug",
        ),
        (
            SetupRequest {
                display_name: "\u{0}".into(),
                ..base.clone()
            },
            "display_name",
        ),
    ] {
        let err = accounts.setup(req).await.unwrap_err();
        assert_eq!(err.public().field(), Some(field), "{err}");
    }
    // Nothing was created by the failed attempts.
    assert!(accounts.needs_setup().await.unwrap());
}

async fn login_logout_and_wrong_password(t: TestInstance) {
    t.setup().await;
    let accounts = t.taina.accounts();
    let signed_in = accounts
        .login(login("  ADMIN@Example.org ", PASSWORD))
        .await
        .unwrap();
    let actor = accounts.authenticate(&signed_in.token).await.unwrap();
    assert_eq!(actor.user_id, signed_in.user.id);
    assert!(signed_in.user.last_sign_in_at.is_some());

    let wrong = accounts
        .login(login("admin@example.org", "wrong password!"))
        .await;
    let unknown = accounts.login(login("nobody@example.org", PASSWORD)).await;
    let (wrong, unknown) = (wrong.unwrap_err(), unknown.unwrap_err());
    assert_eq!(wrong.kind(), ErrorKind::Unauthenticated);
    assert_eq!(
        wrong.to_string(),
        unknown.to_string(),
        "the same error for both"
    );

    accounts.logout(&actor).await.unwrap();
    assert_eq!(
        kind(accounts.authenticate(&signed_in.token).await),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        kind(accounts.authenticate("garbage").await),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        kind(accounts.authenticate("").await),
        ErrorKind::Unauthenticated
    );
}

async fn invites_expire_and_are_used_up(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let accounts = t.taina.accounts();
    let register = |token: &str, email: &str| RegisterRequest {
        invite: Some(token.into()),
        email: email.into(),
        password: PASSWORD.into(),
        display_name: "Bia".into(),
        ..Default::default()
    };

    let single = accounts
        .create_invite(&admin, NewInvite::default())
        .await
        .unwrap();
    let bia = accounts
        .register(register(&single.token, "bia@example.org"))
        .await
        .unwrap();
    assert_eq!(bia.user.role, Role::Member);
    assert!(bia.user.confirmed_at.is_some());
    let reuse = accounts
        .register(register(&single.token, "caio@example.org"))
        .await;
    assert_eq!(kind(reuse), ErrorKind::Forbidden);

    let limited = accounts
        .create_invite(
            &admin,
            NewInvite {
                role: Role::Guest,
                max_uses: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    accounts
        .register(register(&limited.token, "g1@example.org"))
        .await
        .unwrap();
    let g2 = accounts
        .register(register(&limited.token, "g2@example.org"))
        .await
        .unwrap();
    assert_eq!(g2.user.role, Role::Guest);
    assert_eq!(
        kind(
            accounts
                .register(register(&limited.token, "g3@example.org"))
                .await
        ),
        ErrorKind::Forbidden
    );

    let expiring = accounts
        .create_invite(
            &admin,
            NewInvite {
                expires_in: Duration::from_secs(3600),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    t.advance(Duration::from_secs(3601));
    let late = accounts
        .register(register(&expiring.token, "late@example.org"))
        .await
        .unwrap_err();
    assert_eq!(late.kind(), ErrorKind::Forbidden);
    assert!(late.to_string().contains("expired"), "{late}");

    let revoked = accounts
        .create_invite(&admin, NewInvite::default())
        .await
        .unwrap();
    accounts
        .revoke_invite(&admin, &revoked.invite.id)
        .await
        .unwrap();
    assert_eq!(
        kind(
            accounts
                .register(register(&revoked.token, "r@example.org"))
                .await
        ),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(
            accounts
                .register(register("made-up-token", "m@example.org"))
                .await
        ),
        ErrorKind::Forbidden
    );

    let listed = accounts.invites(&admin).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(
        listed
            .iter()
            .find(|i| i.id == limited.invite.id)
            .unwrap()
            .uses,
        2
    );
}

async fn emails_are_unique_in_any_letter_case(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let accounts = t.taina.accounts();
    let invite = accounts
        .create_invite(
            &admin,
            NewInvite {
                max_uses: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let err = accounts
        .register(RegisterRequest {
            invite: Some(invite.token.clone()),
            email: "Admin@EXAMPLE.org".into(),
            password: PASSWORD.into(),
            display_name: "Impostor".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    // The failed registration did not use up the invite.
    let listed = accounts.invites(&admin).await.unwrap();
    assert_eq!(listed[0].uses, 0);
}

async fn open_registration_is_off_by_default(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let accounts = t.taina.accounts();
    let open = |email: &str| RegisterRequest {
        community: Some("vila-taina".into()),
        email: email.into(),
        password: PASSWORD.into(),
        display_name: "Walk In".into(),
        ..Default::default()
    };
    assert_eq!(
        kind(accounts.register(open("walk@example.org")).await),
        ErrorKind::Invalid
    );
    accounts
        .update_community(
            &admin,
            CommunityUpdate {
                settings: Some(CommunitySettings {
                    open_registration: true,
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let joined = accounts.register(open("walk@example.org")).await.unwrap();
    assert_eq!(joined.user.role, Role::Member);
}

async fn disabled_users_cannot_sign_in(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let (bia, bia_session) = t.join(&admin, "bia@example.org", Role::Member).await;
    let accounts = t.taina.accounts();

    let disabled = accounts
        .set_disabled(&admin, &bia.user_id, true)
        .await
        .unwrap();
    assert!(disabled.is_disabled());
    // Disabling revoked every session...
    assert_eq!(
        kind(accounts.authenticate(&bia_session.token).await),
        ErrorKind::Unauthenticated
    );
    // ...and a correct password no longer signs in, answered as a wrong one (issue 16 #27).
    assert_eq!(
        kind(accounts.login(login("bia@example.org", PASSWORD)).await),
        ErrorKind::Unauthenticated
    );

    accounts
        .set_disabled(&admin, &bia.user_id, false)
        .await
        .unwrap();
    accounts
        .login(login("bia@example.org", PASSWORD))
        .await
        .unwrap();
}

async fn sessions_expire_slide_and_can_be_revoked(t: TestInstance) {
    let first = t.setup().await;
    let accounts = t.taina.accounts();
    let second = accounts
        .login(login("admin@example.org", PASSWORD))
        .await
        .unwrap();
    let actor = t.actor(&first).await;

    let sessions = accounts.sessions(&actor).await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    assert!(sessions.iter().find(|s| s.current).unwrap().id == first.session_id);

    // Revoke the second from the first.
    accounts
        .revoke_session(&actor, &second.session_id)
        .await
        .unwrap();
    assert_eq!(
        kind(accounts.authenticate(&second.token).await),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        kind(accounts.revoke_session(&actor, &second.session_id).await),
        ErrorKind::NotFound
    );

    // Used every 20 days, a 30-day session keeps sliding.
    for _ in 0..3 {
        t.advance(Duration::from_secs(20 * 24 * 3600));
        accounts.authenticate(&first.token).await.unwrap();
    }
    // Unused for 31 days, it expires.
    t.advance(Duration::from_secs(31 * 24 * 3600));
    assert_eq!(
        kind(accounts.authenticate(&first.token).await),
        ErrorKind::Unauthenticated
    );
}

async fn changing_the_password_revokes_other_sessions(t: TestInstance) {
    let first = t.setup().await;
    let accounts = t.taina.accounts();
    let other = accounts
        .login(login("admin@example.org", PASSWORD))
        .await
        .unwrap();
    let actor = t.actor(&first).await;

    let wrong = accounts
        .change_password(&actor, "not my password", "a new password")
        .await;
    assert_eq!(kind(wrong), ErrorKind::Forbidden);
    let short = accounts.change_password(&actor, PASSWORD, "short").await;
    assert_eq!(kind(short), ErrorKind::Invalid);

    accounts
        .change_password(&actor, PASSWORD, "a brand new password")
        .await
        .unwrap();
    accounts.authenticate(&first.token).await.unwrap();
    assert_eq!(
        kind(accounts.authenticate(&other.token).await),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        kind(accounts.login(login("admin@example.org", PASSWORD)).await),
        ErrorKind::Unauthenticated
    );
    accounts
        .login(login("admin@example.org", "a brand new password"))
        .await
        .unwrap();
}

async fn role_changes_need_an_admin(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let (bia, bia_session) = t.join(&admin, "bia@example.org", Role::Member).await;
    let (caio, _) = t.join(&admin, "caio@example.org", Role::Guest).await;
    let accounts = t.taina.accounts();

    assert_eq!(
        kind(accounts.set_role(&bia, &caio.user_id, Role::Admin).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(accounts.set_role(&bia, &bia.user_id, Role::Admin).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(accounts.set_disabled(&bia, &caio.user_id, true).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(accounts.remove_member(&caio, &bia.user_id).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(accounts.create_invite(&bia, NewInvite::default()).await),
        ErrorKind::Forbidden
    );
    assert_eq!(kind(accounts.members(&caio).await), ErrorKind::Forbidden);

    let promoted = accounts
        .set_role(&admin, &bia.user_id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Admin);
    // The new role applies to Bia's existing session at once.
    let bia_again = accounts.authenticate(&bia_session.token).await.unwrap();
    assert_eq!(bia_again.role, Role::Admin);

    let members = accounts.members(&admin).await.unwrap();
    assert_eq!(members.len(), 3);
    accounts.remove_member(&admin, &caio.user_id).await.unwrap();
    assert_eq!(accounts.members(&admin).await.unwrap().len(), 2);
    assert_eq!(
        kind(accounts.member(&admin, &caio.user_id).await),
        ErrorKind::NotFound
    );
}

async fn the_last_admin_is_protected(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let accounts = t.taina.accounts();
    for r in [
        accounts
            .set_role(&admin, &admin.user_id, Role::Member)
            .await
            .map(|_| ()),
        accounts
            .set_disabled(&admin, &admin.user_id, true)
            .await
            .map(|_| ()),
        accounts.remove_member(&admin, &admin.user_id).await,
    ] {
        assert_eq!(kind(r), ErrorKind::Conflict);
    }
    // With a second admin, the first may step down; then the second is the last one.
    let (bia, _) = t.join(&admin, "bia@example.org", Role::Admin).await;
    accounts
        .set_role(&admin, &admin.user_id, Role::Member)
        .await
        .unwrap();
    assert_eq!(
        kind(accounts.set_role(&bia, &bia.user_id, Role::Guest).await),
        ErrorKind::Conflict
    );
    // A disabled admin does not count as the one who remains.
    accounts
        .set_role(&bia, &admin.user_id, Role::Admin)
        .await
        .unwrap();
    accounts
        .set_disabled(&bia, &admin.user_id, true)
        .await
        .unwrap();
    assert_eq!(
        kind(accounts.remove_member(&bia, &bia.user_id).await),
        ErrorKind::Conflict
    );
}

async fn no_access_across_communities(t: TestInstance) {
    let ours = t.setup().await;
    let ours = t.actor(&ours).await;
    let (theirs, _) = t.other_community("Quilombo", "chefe@example.org").await;
    let (their_member, _) = t.join(&theirs, "m@example.org", Role::Member).await;
    let accounts = t.taina.accounts();

    // An admin of one community cannot see or touch a member of another: "not found".
    assert_eq!(
        kind(accounts.member(&ours, &their_member.user_id).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            accounts
                .set_role(&ours, &their_member.user_id, Role::Admin)
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            accounts
                .set_disabled(&ours, &their_member.user_id, true)
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(accounts.remove_member(&ours, &their_member.user_id).await),
        ErrorKind::NotFound
    );
    let their_invite = accounts
        .create_invite(&theirs, NewInvite::default())
        .await
        .unwrap();
    assert_eq!(
        kind(accounts.revoke_invite(&ours, &their_invite.invite.id).await),
        ErrorKind::NotFound
    );
    assert!(
        accounts
            .members(&ours)
            .await
            .unwrap()
            .iter()
            .all(|u| u.community_id == ours.community_id)
    );

    // The same email may exist in both communities; sign-in then needs the community.
    let invite = accounts
        .create_invite(&ours, NewInvite::default())
        .await
        .unwrap();
    accounts
        .register(RegisterRequest {
            invite: Some(invite.token),
            email: "m@example.org".into(),
            password: PASSWORD.into(),
            display_name: "M".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let ambiguous = accounts
        .login(login("m@example.org", PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(ambiguous.public().field(), Some("community"));
    let ours_login = accounts
        .login(LoginRequest {
            community: Some("vila-taina".into()),
            ..login("m@example.org", PASSWORD)
        })
        .await
        .unwrap();
    assert_eq!(ours_login.user.community_id, ours.community_id);
}

/// The throttle counts across instances of one PostgreSQL database: failed sign-ins spread over
/// two instances lock the account on both (N instances do not multiply an attacker's allowance),
/// and attempts at the same moment on both never pass the limit together.
#[tokio::test]
async fn the_login_throttle_is_shared_by_instances() {
    let t = TestInstance::new(taina::Backend::Postgres).await;
    t.setup().await;
    let b = taina::Taina::open_with_clock(t.config.clone(), std::sync::Arc::new(t.clock.clone()))
        .await
        .unwrap();
    let allowed = taina::accounts::ACCOUNT_FAILURES_ALLOWED;
    let instances = [t.taina.clone(), b.clone()];
    // All but two of the allowed failures, alternating between the instances...
    for n in 0..allowed - 2 {
        let r = instances[n % 2]
            .accounts()
            .login(login("admin@example.org", "wrong password"))
            .await;
        assert_eq!(kind(r), ErrorKind::Unauthenticated);
    }
    // ...then six at once, three on each: two more are let through, four refused.
    let burst: Vec<_> = (0..6)
        .map(|n| {
            let instance = instances[n % 2].clone();
            tokio::spawn(async move {
                instance
                    .accounts()
                    .login(login("admin@example.org", "wrong password"))
                    .await
            })
        })
        .collect();
    let mut refused = 0;
    for attempt in burst {
        match kind(attempt.await.unwrap()) {
            ErrorKind::Unauthenticated => {}
            ErrorKind::RateLimited => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        refused, 4,
        "exactly the attempts past the limit are refused, on either instance"
    );
    for instance in [&t.taina, &b] {
        let r = instance
            .accounts()
            .login(login("admin@example.org", PASSWORD))
            .await;
        assert_eq!(kind(r), ErrorKind::RateLimited, "locked everywhere");
    }
    // After the window the rows are swept and the right password works through either.
    t.advance(taina::accounts::THROTTLE_WINDOW);
    assert!(t.taina.sweep().await.unwrap().login_attempts >= allowed as u64);
    b.accounts()
        .login(login("admin@example.org", PASSWORD))
        .await
        .unwrap();
    b.close().await;
}

async fn logins_are_throttled(t: TestInstance) {
    t.setup().await;
    let accounts = t.taina.accounts();
    for _ in 0..taina::accounts::ACCOUNT_FAILURES_ALLOWED {
        let r = accounts
            .login(login("admin@example.org", "wrong password"))
            .await;
        assert_eq!(kind(r), ErrorKind::Unauthenticated);
    }
    // Even the right password is refused while throttled.
    let r = accounts.login(login("admin@example.org", PASSWORD)).await;
    assert_eq!(kind(r), ErrorKind::RateLimited);
    t.advance(taina::accounts::THROTTLE_WINDOW);
    accounts
        .login(login("admin@example.org", PASSWORD))
        .await
        .unwrap();

    // Per client: many accounts tried from one client key.
    for i in 0..taina::accounts::CLIENT_FAILURES_ALLOWED {
        let r = accounts
            .login(LoginRequest {
                client_key: Some("203.0.113.9".into()),
                ..login(&format!("guess{i}@example.org"), "wrong password")
            })
            .await;
        assert_eq!(kind(r), ErrorKind::Unauthenticated);
    }
    let r = accounts
        .login(LoginRequest {
            client_key: Some("203.0.113.9".into()),
            ..login("admin@example.org", PASSWORD)
        })
        .await;
    assert_eq!(kind(r), ErrorKind::RateLimited);
    let other_client = accounts
        .login(LoginRequest {
            client_key: Some("198.51.100.7".into()),
            ..login("admin@example.org", PASSWORD)
        })
        .await;
    assert!(other_client.is_ok());
}

async fn profile_and_community_updates(t: TestInstance) {
    let admin = t.setup().await;
    let admin = t.actor(&admin).await;
    let (bia, _) = t.join(&admin, "bia@example.org", Role::Member).await;
    let accounts = t.taina.accounts();
    let mut events = t.taina.subscribe(&bia).await.unwrap();

    let me = accounts
        .update_profile(
            &bia,
            ProfileUpdate {
                display_name: Some("  Bia Souza ".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(me.display_name, "Bia Souza");
    assert_eq!(accounts.me(&bia).await.unwrap().display_name, "Bia Souza");
    let event = next_event(&mut events).await;
    assert_eq!(event.event.name(), "member.updated");
    assert_eq!(event.community_id, bia.community_id);
    // The same name again, or nothing: nothing changed, nothing announced.
    for display_name in [Some("Bia Souza".to_owned()), None] {
        let same = accounts
            .update_profile(&bia, ProfileUpdate { display_name })
            .await
            .unwrap();
        assert_eq!(same.display_name, "Bia Souza");
    }
    assert!(
        queued_events(&mut events).is_empty(),
        "an unchanged profile was announced"
    );

    let refused = accounts
        .update_community(
            &bia,
            CommunityUpdate {
                storage_quota_bytes: Some(1),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(kind(refused), ErrorKind::Forbidden);
    let negative = accounts
        .update_community(
            &admin,
            CommunityUpdate {
                storage_quota_bytes: Some(-1),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(kind(negative), ErrorKind::Invalid);
    let updated = accounts
        .update_community(
            &admin,
            CommunityUpdate {
                name: Some("Vila Nova".into()),
                storage_quota_bytes: Some(5_000_000_000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Vila Nova");
    let storage = accounts.storage(&admin).await.unwrap();
    assert_eq!(storage.quota_bytes, 5_000_000_000);
    assert_eq!(storage.used_bytes, 0);
    assert_eq!(kind(accounts.storage(&bia).await), ErrorKind::Forbidden);
}

async fn reopening_is_harmless(t: TestInstance) {
    let admin = t.setup().await;
    t.taina.close().await;
    let again = taina::Taina::open(t.config.clone()).await.unwrap();
    let again2 = taina::Taina::open(t.config.clone()).await.unwrap();
    assert!(!again.accounts().needs_setup().await.unwrap());
    again2.accounts().authenticate(&admin.token).await.unwrap();
    again.ready().await.unwrap();
}

async fn expired_sessions_and_old_invites_are_swept(t: TestInstance) {
    let admin = t.setup().await;
    let actor = t.actor(&admin).await;
    let accounts = t.taina.accounts();
    accounts
        .create_invite(&actor, NewInvite::default())
        .await
        .unwrap();
    assert_eq!(
        t.taina.sweep().await.unwrap(),
        taina::maintenance::SweepReport::default()
    );

    t.advance(Duration::from_secs(31 * 24 * 3600));
    let swept = t.taina.sweep().await.unwrap();
    assert_eq!(swept.sessions, 1);
    assert_eq!(
        swept.invites, 0,
        "an expired invite stays listed for a while"
    );
    t.advance(Duration::from_secs(30 * 24 * 3600));
    assert_eq!(t.taina.sweep().await.unwrap().invites, 1);
    assert_eq!(
        kind(accounts.authenticate(&admin.token).await),
        ErrorKind::Unauthenticated
    );
}

backend_tests!(
    expired_sessions_and_old_invites_are_swept,
    setup_happens_once,
    setup_rejects_bad_input,
    login_logout_and_wrong_password,
    invites_expire_and_are_used_up,
    emails_are_unique_in_any_letter_case,
    open_registration_is_off_by_default,
    disabled_users_cannot_sign_in,
    sessions_expire_slide_and_can_be_revoked,
    changing_the_password_revokes_other_sessions,
    role_changes_need_an_admin,
    the_last_admin_is_protected,
    no_access_across_communities,
    logins_are_throttled,
    profile_and_community_updates,
    reopening_is_harmless,
);

/// Issue 16, accounts: invites whose creator lost the right to make them, the login throttle's keys,
/// a disabled account's password, storage figures for admins only, the operator's quota ceiling.
mod hardening {
    use super::*;
    use taina::accounts::{ACCOUNT_FAILURES_ALLOWED, CLIENT_FAILURES_ALLOWED};
    use taina::core::Actor;

    fn register(token: &str, email: &str) -> RegisterRequest {
        RegisterRequest {
            invite: Some(token.into()),
            email: email.into(),
            password: PASSWORD.into(),
            display_name: "Newcomer".into(),
            ..Default::default()
        }
    }

    fn login_from(client: &str, email: &str, password: &str) -> LoginRequest {
        LoginRequest {
            client_key: Some(client.into()),
            ..login(email, password)
        }
    }

    async fn invite(t: &TestInstance, by: &Actor, role: Role) -> taina::accounts::CreatedInvite {
        t.taina
            .accounts()
            .create_invite(
                by,
                NewInvite {
                    role,
                    max_uses: 5,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    fn refused_invite(r: taina::Result<taina::accounts::SignedIn>) {
        let err = r.expect_err("the invite should be refused");
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
        assert!(
            err.to_string().contains("this invite is not valid"),
            "{err}"
        );
    }

    async fn invites_go_when_their_creator_is_demoted_disabled_or_removed(t: TestInstance) {
        let admin = t.actor(&t.setup().await).await;
        let accounts = t.taina.accounts();
        let (dora, _) = t.join(&admin, "dora@example.org", Role::Admin).await;
        let (edu, _) = t.join(&admin, "edu@example.org", Role::Admin).await;
        let (fabi, _) = t.join(&admin, "fabi@example.org", Role::Admin).await;
        // The invites they joined with (made by the first admin) stay.
        let earlier = accounts.invites(&admin).await.unwrap().len();
        let gone = [
            invite(&t, &dora, Role::Admin).await,
            invite(&t, &dora, Role::Guest).await,
            invite(&t, &edu, Role::Member).await,
            invite(&t, &fabi, Role::Admin).await,
        ];
        let kept = invite(&t, &admin, Role::Member).await;
        assert_eq!(accounts.invites(&admin).await.unwrap().len(), earlier + 5);

        accounts
            .set_role(&admin, &dora.user_id, Role::Member)
            .await
            .unwrap();
        accounts
            .set_disabled(&admin, &edu.user_id, true)
            .await
            .unwrap();
        // Enabled again, Edu's invites stay revoked.
        accounts
            .set_disabled(&admin, &edu.user_id, false)
            .await
            .unwrap();
        accounts.remove_member(&admin, &fabi.user_id).await.unwrap();

        let left: Vec<_> = accounts
            .invites(&admin)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(left.len(), earlier + 1);
        assert!(left.contains(&kept.invite.id));
        assert!(gone.iter().all(|g| !left.contains(&g.invite.id)));
        for (n, created) in gone.iter().enumerate() {
            refused_invite(
                accounts
                    .register(register(&created.token, &format!("new{n}@example.org")))
                    .await,
            );
        }
        accounts
            .register(register(&kept.token, "kept@example.org"))
            .await
            .unwrap();
        // A role change that keeps the admin an admin keeps their invites.
        let (gabi, _) = t.join(&admin, "gabi@example.org", Role::Admin).await;
        let gabis = invite(&t, &gabi, Role::Admin).await;
        accounts
            .set_role(&admin, &gabi.user_id, Role::Admin)
            .await
            .unwrap();
        accounts
            .register(register(&gabis.token, "by-gabi@example.org"))
            .await
            .unwrap();
    }

    /// Registration checks the creator itself, so an invite left behind (made before invites were
    /// revoked with their creator's role, or restored from a backup) does not work either.
    async fn registration_checks_the_invites_creator(t: TestInstance) {
        let admin = t.actor(&t.setup().await).await;
        let accounts = t.taina.accounts();
        let (dora, _) = t.join(&admin, "dora@example.org", Role::Admin).await;
        let created = invite(&t, &dora, Role::Admin).await;
        let set_directly = |sql: &'static str| {
            let (taina, id) = (t.taina.clone(), dora.user_id.to_string());
            async move {
                let mut tx = taina.db().begin().await.unwrap();
                sqlx::query(sql).bind(id).execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        };
        set_directly("UPDATE users SET role = 'member' WHERE id = $1").await;
        refused_invite(
            accounts
                .register(register(&created.token, "a@example.org"))
                .await,
        );
        set_directly("UPDATE users SET role = 'admin', disabled_at = 1 WHERE id = $1").await;
        refused_invite(
            accounts
                .register(register(&created.token, "b@example.org"))
                .await,
        );
        // Refusals used nothing up: with its creator an enabled admin again, it works.
        set_directly("UPDATE users SET disabled_at = NULL WHERE id = $1").await;
        accounts
            .register(register(&created.token, "c@example.org"))
            .await
            .unwrap();
        let listed = accounts.invites(&admin).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .find(|i| i.id == created.invite.id)
                .unwrap()
                .uses,
            1
        );
    }

    async fn a_disabled_account_is_answered_like_a_wrong_password(t: TestInstance) {
        let admin = t.actor(&t.setup().await).await;
        let (bia, _) = t.join(&admin, "bia@example.org", Role::Member).await;
        let accounts = t.taina.accounts();
        accounts
            .set_disabled(&admin, &bia.user_id, true)
            .await
            .unwrap();
        let right = accounts
            .login(login("bia@example.org", PASSWORD))
            .await
            .unwrap_err();
        let wrong = accounts
            .login(login("bia@example.org", "not her password"))
            .await
            .unwrap_err();
        let unknown = accounts
            .login(login("nobody@example.org", PASSWORD))
            .await
            .unwrap_err();
        for e in [&right, &wrong, &unknown] {
            assert_eq!(e.kind(), ErrorKind::Unauthenticated);
            assert_eq!(e.to_string(), right.to_string());
        }
        // And it counts as a failure like any other.
        for _ in 2..ACCOUNT_FAILURES_ALLOWED {
            let r = accounts.login(login("bia@example.org", PASSWORD)).await;
            assert_eq!(kind(r), ErrorKind::Unauthenticated);
        }
        let r = accounts.login(login("bia@example.org", PASSWORD)).await;
        assert_eq!(kind(r), ErrorKind::RateLimited);
    }

    /// Wrong passwords of real accounts lock those accounts, never the network they came from (a
    /// household, or a proxy not in `trusted_proxies`).
    async fn wrong_passwords_lock_accounts_not_their_network(t: TestInstance) {
        let admin = t.actor(&t.setup().await).await;
        let accounts = t.taina.accounts();
        let mut emails = vec!["admin@example.org".to_owned()];
        for name in ["bia", "caio", "dani"] {
            let email = format!("{name}@example.org");
            t.join(&admin, &email, Role::Member).await;
            emails.push(email);
        }
        let proxy = "127.0.0.1";
        for email in &emails[..3] {
            for _ in 0..ACCOUNT_FAILURES_ALLOWED {
                let r = accounts.login(login_from(proxy, email, "wrong!!!")).await;
                assert_eq!(kind(r), ErrorKind::Unauthenticated);
            }
            let r = accounts.login(login_from(proxy, email, PASSWORD)).await;
            assert_eq!(kind(r), ErrorKind::RateLimited, "{email} is locked");
        }
        // As many failures from one address as would have locked it when it counted them all.
        let failures_from_proxy = 3 * ACCOUNT_FAILURES_ALLOWED;
        assert!(
            failures_from_proxy >= CLIENT_FAILURES_ALLOWED,
            "{failures_from_proxy}"
        );
        accounts
            .login(login_from(proxy, &emails[3], PASSWORD))
            .await
            .unwrap();
    }

    /// Made-up accounts lock their network: an IPv4 address, or a whole IPv6 /64, for every account
    /// (so the lock tells nothing about which accounts exist).
    async fn made_up_accounts_lock_their_network(t: TestInstance) {
        t.setup().await;
        let accounts = t.taina.accounts();
        for i in 0..CLIENT_FAILURES_ALLOWED {
            let from = format!("2001:db8:5:9:{i:x}::1");
            let r = accounts
                .login(login_from(&from, &format!("guess{i}@example.org"), "x"))
                .await;
            assert_eq!(kind(r), ErrorKind::Unauthenticated);
        }
        for from in ["2001:db8:5:9::abcd", "2001:db8:5:9:ffff::1"] {
            let r = accounts
                .login(login_from(from, "admin@example.org", PASSWORD))
                .await;
            assert_eq!(kind(r), ErrorKind::RateLimited, "{from}");
            let r = accounts
                .login(login_from(from, "someone@example.org", PASSWORD))
                .await;
            assert_eq!(kind(r), ErrorKind::RateLimited, "{from}");
        }
        for from in ["2001:db8:5:a::1", "203.0.113.9"] {
            accounts
                .login(login_from(from, "admin@example.org", PASSWORD))
                .await
                .unwrap();
        }
    }

    async fn only_admins_see_the_communitys_storage(t: TestInstance) {
        let w = t.world().await;
        let accounts = w.t.taina.accounts();
        let seen = accounts.community(&w.admin).await.unwrap();
        assert_eq!(seen.storage_used_bytes, Some(0));
        assert_eq!(accounts.storage(&w.admin).await.unwrap().used_bytes, 0);
        for who in [&w.ana, &w.gil] {
            let seen = accounts.community(who).await.unwrap();
            assert_eq!(seen.storage_used_bytes, None);
            assert_eq!(
                seen.storage_quota_bytes,
                taina::config::DEFAULT_STORAGE_QUOTA_BYTES
            );
            assert_eq!(kind(accounts.storage(who).await), ErrorKind::Forbidden);
        }
    }

    async fn admins_set_quotas_up_to_the_operators_ceiling(t: TestInstance) {
        assert_eq!(
            taina::Config::default().max_community_quota_bytes,
            taina::config::DEFAULT_STORAGE_QUOTA_BYTES
        );
        let t = t
            .reconfigure(|c| c.max_community_quota_bytes = 1_000_000)
            .await;
        let admin = t.actor(&t.setup().await).await;
        let accounts = t.taina.accounts();
        let set = |bytes: i64| {
            accounts.update_community(
                &admin,
                CommunityUpdate {
                    storage_quota_bytes: Some(bytes),
                    ..Default::default()
                },
            )
        };
        assert_eq!(set(1_000_000).await.unwrap().storage_quota_bytes, 1_000_000);
        let over = set(1_000_001).await.unwrap_err();
        assert_eq!(over.kind(), ErrorKind::Invalid);
        assert_eq!(over.public().field(), Some("storage_quota_bytes"));
        // The operator is not bound; the admin may keep or lower what they gave, not raise it.
        let c = t.taina.operator().set_quota(None, 5_000_000).await.unwrap();
        assert_eq!(c.storage_quota_bytes, 5_000_000);
        set(5_000_000).await.unwrap();
        set(4_000_000).await.unwrap();
        assert_eq!(kind(set(4_500_000).await), ErrorKind::Invalid);
        assert_eq!(
            accounts
                .community(&admin)
                .await
                .unwrap()
                .storage_quota_bytes,
            4_000_000
        );
        // Renaming alone is never refused by the ceiling.
        accounts
            .update_community(
                &admin,
                CommunityUpdate {
                    name: Some("Vila Nova".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }

    backend_tests!(
        invites_go_when_their_creator_is_demoted_disabled_or_removed,
        registration_checks_the_invites_creator,
        a_disabled_account_is_answered_like_a_wrong_password,
        wrong_passwords_lock_accounts_not_their_network,
        made_up_accounts_lock_their_network,
        only_admins_see_the_communitys_storage,
        admins_set_quotas_up_to_the_operators_ceiling,
    );
}
