//! Issue 16, accounts: holes closed over real HTTP, on both databases — a demoted admin's invites,
//! the login throttle behind a proxy and per IPv6 /64, a disabled account's password, the
//! community's storage figures, and the operator's quota ceiling.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use taina::accounts::{ACCOUNT_FAILURES_ALLOWED, CLIENT_FAILURES_ALLOWED, NewInvite};
use taina::backend_tests;
use taina::core::Role;
use taina::testing::{PASSWORD, TestInstance};
use taina_server::testing::{TestServer, error, json};

fn with_token(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.bearer_auth(token)
}

async fn login_from(
    client: &Client,
    s: &TestServer,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(s.api("/auth/login"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// #7: an admin who made admin invites and was then demoted (or disabled) no longer lets anyone in
/// with them; their invites are gone from the list.
async fn a_demoted_admins_invites_stop_working(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (dora, dora_session) = t.join(&admin_actor, "dora@example.org", Role::Admin).await;
    let (edu, edu_session) = t.join(&admin_actor, "edu@example.org", Role::Admin).await;

    let mut tokens = Vec::new();
    for (session, role) in [
        (&dora_session, "admin"),
        (&dora_session, "member"),
        (&edu_session, "admin"),
    ] {
        let created = with_token(client.post(s.api("/community/invites")), &session.token)
            .json(&json!({"role": role, "max_uses": 5}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
        tokens.push(json(created).await["token"].as_str().unwrap().to_owned());
    }
    let listed = |token: String| {
        let (client, url) = (client.clone(), s.api("/community/invites"));
        async move {
            let list = json(with_token(client.get(url), &token).send().await.unwrap()).await;
            list["items"].as_array().unwrap().len()
        }
    };
    // Besides the two the admins joined with.
    assert_eq!(listed(admin.token.clone()).await, 2 + 3);

    // Dora is demoted, Edu disabled (and enabled again: the invites do not come back).
    for (user, body) in [
        (&dora.user_id, json!({"role": "member"})),
        (&edu.user_id, json!({"disabled": true})),
        (&edu.user_id, json!({"disabled": false})),
    ] {
        let changed = with_token(
            client.patch(s.api(&format!("/community/members/{user}"))),
            &admin.token,
        )
        .json(&body)
        .send()
        .await
        .unwrap();
        assert_eq!(changed.status(), StatusCode::OK);
    }
    assert_eq!(listed(admin.token.clone()).await, 2);
    for (n, token) in tokens.iter().enumerate() {
        let refused = s.register(token, &format!("new{n}@example.org")).await;
        let e = error(refused, StatusCode::FORBIDDEN).await;
        assert_eq!(e["message"], "this invite is not valid", "{e}");
    }

    // An admin's invite still works.
    let fresh = t
        .taina
        .accounts()
        .create_invite(&admin_actor, NewInvite::default())
        .await
        .unwrap();
    let joined = s.register(&fresh.token, "welcome@example.org").await;
    assert_eq!(joined.status(), StatusCode::CREATED);
}

/// #9: behind a proxy that is not in `trusted_proxies`, every client has the proxy's address.
/// Wrong passwords of real accounts (even enough of them to lock each of those accounts) must not
/// lock out everyone else behind that address.
async fn wrong_passwords_behind_an_untrusted_proxy_lock_only_their_accounts(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let admin = t.actor(&t.setup().await).await;
    let mut victims = vec!["admin@example.org".to_owned()];
    for name in ["bia", "caio", "dani"] {
        let email = format!("{name}@example.org");
        t.join(&admin, &email, Role::Member).await;
        victims.push(email);
    }
    let failures = CLIENT_FAILURES_ALLOWED.div_ceil(ACCOUNT_FAILURES_ALLOWED);
    let (locked, free) = victims.split_at(failures);
    assert!(!free.is_empty());
    for email in locked {
        for _ in 0..ACCOUNT_FAILURES_ALLOWED {
            // The header is not believed: every attempt comes from 127.0.0.1.
            let r = login_from(&client, &s, "198.51.100.7", email, "wrong password!").await;
            error(r, StatusCode::UNAUTHORIZED).await;
        }
        let r = s.login(email, PASSWORD).await;
        error(r, StatusCode::TOO_MANY_REQUESTS).await;
    }
    // At least CLIENT_FAILURES_ALLOWED failures from one address, and the others still sign in.
    for email in free {
        let r = s.login(email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK, "{email}");
    }
}

/// #25 (and #9's network key): sign-ins to made-up accounts lock the IPv6 /64 they came from —
/// every address of it, for every account — and nothing else.
async fn made_up_accounts_lock_their_ipv6_64_and_only_it(t: TestInstance) {
    let t = t
        .reconfigure(|c| c.trusted_proxies = vec!["127.0.0.1".into()])
        .await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    t.setup().await;
    for i in 0..CLIENT_FAILURES_ALLOWED {
        // A new address of the same /64 for every attempt.
        let from = format!("2001:db8:7:1:{i:x}::{i:x}");
        let r = login_from(
            &client,
            &s,
            &from,
            &format!("guess{i}@example.org"),
            "nope!",
        )
        .await;
        error(r, StatusCode::UNAUTHORIZED).await;
    }
    let same_64 = "2001:db8:7:1:ffff:ffff:ffff:fffe";
    let r = login_from(&client, &s, same_64, "admin@example.org", PASSWORD).await;
    let e = error(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "rate_limited");
    for elsewhere in ["2001:db8:7:2::1", "203.0.113.9"] {
        let r = login_from(&client, &s, elsewhere, "admin@example.org", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK, "{elsewhere}");
    }
}

/// #27: a disabled account's right password is answered exactly as a wrong one.
async fn a_disabled_accounts_right_password_looks_wrong(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (bia, _) = t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let disabled = with_token(
        client.patch(s.api(&format!("/community/members/{}", bia.user_id))),
        &admin.token,
    )
    .json(&json!({"disabled": true}))
    .send()
    .await
    .unwrap();
    assert_eq!(disabled.status(), StatusCode::OK);

    let right = error(
        s.login("bia@example.org", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let wrong = error(
        s.login("bia@example.org", "not her password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = error(
        s.login("nobody@example.org", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(right, wrong);
    assert_eq!(right, unknown);
}

/// #16: members and guests see no community-wide storage figure (with deduplication it tells
/// whether a file exists anywhere in the community); admins do.
async fn only_admins_see_the_communitys_storage(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    let (_, member) = t.join(&admin_actor, "ana@example.org", Role::Member).await;
    let (_, guest) = t.join(&admin_actor, "gil@example.org", Role::Guest).await;

    let read = |token: String, path: &str| {
        let (client, url) = (client.clone(), s.api(path));
        async move { with_token(client.get(url), &token).send().await.unwrap() }
    };
    let seen: Value = json(read(admin.token.clone(), "/community").await).await;
    assert_eq!(seen["storage_used_bytes"], 0, "{seen}");
    let storage = json(read(admin.token.clone(), "/storage").await).await;
    assert_eq!(storage["used_bytes"], 0);
    for token in [&member.token, &guest.token] {
        let seen: Value = json(read(token.clone(), "/community").await).await;
        assert_eq!(seen["name"], "Vila Tainá");
        assert!(seen.get("storage_used_bytes").is_none(), "{seen}");
        let e = error(read(token.clone(), "/storage").await, StatusCode::FORBIDDEN).await;
        assert_eq!(e["code"], "forbidden");
    }
}

/// #17: an admin cannot give their community more than the operator's ceiling; the operator can,
/// and the admin may then keep or lower that quota, not raise it.
async fn admins_set_quotas_up_to_the_operators_ceiling(t: TestInstance) {
    let t = t
        .reconfigure(|c| c.max_community_quota_bytes = 1_000_000)
        .await;
    let s = TestServer::start(&t).await;
    let client = Client::new();
    let admin = t.setup().await;
    let set = |quota: i64| {
        let (client, url, token) = (client.clone(), s.api("/community"), admin.token.clone());
        async move {
            with_token(client.patch(url), &token)
                .json(&json!({"storage_quota_bytes": quota}))
                .send()
                .await
                .unwrap()
        }
    };
    let ok = set(1_000_000).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(json(ok).await["storage_quota_bytes"], 1_000_000);
    let e = error(set(1_000_001).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["field"], "storage_quota_bytes", "{e}");
    let e = error(set(i64::MAX).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["field"], "storage_quota_bytes", "{e}");

    // The operator is not bound.
    let c = t.taina.operator().set_quota(None, 5_000_000).await.unwrap();
    assert_eq!(c.storage_quota_bytes, 5_000_000);
    assert_eq!(set(5_000_000).await.status(), StatusCode::OK, "kept");
    assert_eq!(set(4_000_000).await.status(), StatusCode::OK, "lowered");
    error(set(4_500_000).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    let seen = json(
        with_token(client.get(s.api("/community")), &admin.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["storage_quota_bytes"], 4_000_000);
}

backend_tests!(
    a_demoted_admins_invites_stop_working,
    wrong_passwords_behind_an_untrusted_proxy_lock_only_their_accounts,
    made_up_accounts_lock_their_ipv6_64_and_only_it,
    a_disabled_accounts_right_password_looks_wrong,
    only_admins_see_the_communitys_storage,
    admins_set_quotas_up_to_the_operators_ceiling,
);
