//! The authorization matrix (issue 17): who may call every operation of the API, and whose
//! realtime socket hears each event, as two plain tables (`authorization_matrix/table.rs`) that
//! are checked against the real server on both databases and shown in `docs/SECURITY.md`.
//!
//! - The HTTP table has one line per operation of the OpenAPI document the server serves: a new
//!   operation without a line fails the test, and so does a line whose operation is gone. Its
//!   columns are the callers: anonymous, a guest, a member with nothing, the resource's owner,
//!   the admin, members holding a read and a write share on the owner's folder, a participant of
//!   the owner's group (the member with nothing is its non-participant), and a member of another
//!   community. Each cell is one real request, valid for its operation (path, headers, body), so
//!   a refusal is about who asks: `A` is a success (2xx, 3xx, or 101 for the socket), `401`,
//!   `403` and `404` are those statuses, and `-` (a request that means nothing for the caller) is
//!   a 409 or 422; any other status fails the cell, as a request the test got wrong. A cell that
//!   would destroy its target (a delete, a removal, a revocation, a sign-out) gets a fresh one,
//!   made like the one its line names; the password change runs last, since it ends the callers'
//!   other sessions.
//! - The socket table has one line per event: everyone with a session opens a socket, each line
//!   causes its event, and each socket says whether it heard it.
//! - `docs/SECURITY.md` shows both tables between two marker comments; the test fails when they
//!   differ, and `TAINA_UPDATE_DOCS=1` rewrites that section instead.
//!
//! The tables state what the security model says (`docs/SECURITY.md`), not what the server
//! answers: when they differ, every such cell is listed, and the server is what gets fixed.

use std::collections::BTreeSet;

use taina::backend_tests;
use taina::testing::TestInstance;
use taina_server::testing::json;

#[path = "authorization_matrix/requests.rs"]
mod requests;
#[path = "authorization_matrix/socket.rs"]
mod socket;
#[path = "authorization_matrix/table.rs"]
mod table;
#[path = "authorization_matrix/world.rs"]
mod world;

use table::{Caller, DOC_END, DOC_START, Outcome, http_rows, markdown};
use world::World;

/// Operations that end the callers' other sessions, run after all the others.
const LAST: &[&str] = &["POST /api/v1/me/password"];

/// Every operation (`METHOD path`) of the document the server serves.
async fn documented_operations(world: &World) -> BTreeSet<String> {
    let response = world
        .client
        .get(world.server.api("/openapi.json"))
        .send()
        .await
        .expect("fetch the OpenAPI document");
    let document = json(response).await;
    let paths = document["paths"].as_object().expect("the document's paths");
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item");
            methods
                .iter()
                .filter(|method| item.contains_key(**method))
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect()
}

async fn every_operation_answers_whom_the_table_says(t: TestInstance) {
    // As seen from elsewhere: `/metrics` then wants a token or an admin. And room for the
    // unfinished uploads the cells open.
    let t = t
        .reconfigure(|config| {
            config.metrics_open_to_loopback = false;
            config.resumable_uploads_per_user = 100;
        })
        .await;
    let world = World::build(&t).await;
    // The previews of the photos, for the thumbnail's line.
    t.taina.jobs().run_due().await.expect("run the jobs");

    let rows = http_rows();
    let documented = documented_operations(&world).await;
    let tabled: BTreeSet<String> = rows.iter().map(table::HttpRow::operation).collect();
    assert_eq!(tabled.len(), rows.len(), "an operation has two lines");
    let mut wrong: Vec<String> = documented
        .difference(&tabled)
        .map(|op| format!("{op} has no line in the table"))
        .chain(
            tabled
                .difference(&documented)
                .map(|op| format!("{op} is in the table but not in the document")),
        )
        .collect();

    let (last, first): (Vec<_>, Vec<_>) = rows
        .iter()
        .partition(|row| LAST.contains(&row.operation().as_str()));
    for row in first.into_iter().chain(last) {
        if !documented.contains(&row.operation()) {
            continue;
        }
        for caller in Caller::ALL {
            let Some(call) = requests::prepare(&world, &row.method, &row.path, caller).await else {
                wrong.push(format!(
                    "{}: the test makes no request for it (add one to `requests::prepare`)",
                    row.operation()
                ));
                break;
            };
            let (status, body) = requests::send(&world, call).await;
            let expected = row.expected_for(caller);
            let got = Outcome::of_status(status);
            if got != Some(expected) {
                wrong.push(format!(
                    "{} as {}: expected {}, got {status} {body}",
                    row.operation(),
                    caller.heading(),
                    expected.symbol(),
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ from the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

async fn every_socket_hears_what_the_table_says(t: TestInstance) {
    let world = World::build(&t).await;
    let wrong = socket::check(&world).await;
    assert!(
        wrong.is_empty(),
        "{} cells differ from the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

backend_tests!(
    every_operation_answers_whom_the_table_says,
    every_socket_hears_what_the_table_says
);

/// `docs/SECURITY.md` shows the tables as they are here; `TAINA_UPDATE_DOCS=1` writes them in.
#[test]
fn the_security_page_shows_the_tables() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/SECURITY.md");
    let page = std::fs::read_to_string(path).expect("read docs/SECURITY.md");
    let (before, rest) = page
        .split_once(DOC_START)
        .unwrap_or_else(|| panic!("docs/SECURITY.md has no {DOC_START}"));
    let (shown, after) = rest
        .split_once(DOC_END)
        .unwrap_or_else(|| panic!("docs/SECURITY.md has no {DOC_END}"));
    let current = format!("\n{}", markdown());
    if shown == current {
        return;
    }
    if std::env::var_os("TAINA_UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(
            path,
            format!("{before}{DOC_START}{current}{DOC_END}{after}"),
        )
        .expect("write docs/SECURITY.md");
        return;
    }
    panic!(
        "docs/SECURITY.md's authorization matrix is not the test's: run \
         `TAINA_UPDATE_DOCS=1 cargo test --workspace --test authorization_matrix` and commit it"
    );
}
