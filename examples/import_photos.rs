//! Importing a folder of photos into a person's library with the `taina` library: every photo
//! and video under the folder is stored, its metadata read (when it was taken, the camera, the
//! place) and its thumbnails made; the timeline then shows them newest first. Running it again
//! imports nothing twice.
//!
//! ```sh
//! cargo run --example import_photos -- ~/Pictures/2023            # into a throwaway instance
//! cargo run --example import_photos -- ~/Pictures/2023 ./my-data  # into one you keep
//! ```
//!
//! It checks what it did (every photo is in the timeline with its thumbnails, and a second run
//! finds them all there) and exits with an error otherwise, so the test command runs it.

use std::error::Error;
use std::path::PathBuf;

use taina::accounts::{LoginRequest, SetupRequest};
use taina::jaci::Scope;
use taina::progress::Silent;
use taina::{Config, Taina};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let photos: PathBuf = args
        .next()
        .ok_or("usage: import_photos PHOTOS_DIR [DATA_DIR]")?
        .into();
    let scratch = tempfile::tempdir()?;
    let data_dir = args
        .next()
        .map_or_else(|| scratch.path().to_path_buf(), Into::into);
    // Thumbnails are made by background jobs; here they run when asked (below), in order.
    let mut config = Config::with_data_dir(&data_dir);
    config.job_workers = 0;
    let taina = Taina::open(config).await?;
    let accounts = taina.accounts();
    let email = "photos@example.org";
    let password = "correct horse battery staple";
    let token = if accounts.needs_setup().await? {
        accounts
            .setup(SetupRequest {
                community_name: "Fotos da Família".into(),
                community_slug: None,
                email: email.into(),
                password: password.into(),
                display_name: "Família".into(),
                user_agent: None,
            })
            .await?
            .token
    } else {
        accounts
            .login(LoginRequest {
                email: email.into(),
                password: password.into(),
                community: None,
                user_agent: None,
                client_key: None,
            })
            .await?
            .token
    };
    let me = accounts.authenticate(&token).await?;

    let report = taina.import_photos(&me, &photos, &Silent).await?;
    println!(
        "{}: {} files, {} imported, {} already there",
        photos.display(),
        report.seen,
        report.imported,
        report.already_there
    );
    for refused in &report.refused {
        println!("  not taken: {} ({})", refused.path, refused.reason);
    }
    let jobs = taina.jobs().run_due().await?;
    println!(
        "thumbnails: {} made, {} given up",
        jobs.succeeded, jobs.given_up
    );

    // The whole timeline, page by page.
    let mut timeline = Vec::new();
    let mut cursor = None;
    loop {
        let page = taina
            .jaci()
            .timeline(&me, Scope::Mine, cursor.as_deref(), None, 0)
            .await?;
        timeline.extend(page.photos);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    for photo in &timeline {
        let camera = photo
            .camera
            .as_ref()
            .and_then(|c| c.model.clone())
            .unwrap_or_else(|| "-".into());
        let place = photo.location.as_ref().map_or_else(
            || "-".into(),
            |at| format!("{:.4}, {:.4}", at.latitude, at.longitude),
        );
        println!(
            "  {}  {:<28} {camera:<24} {place}",
            photo.taken_at, photo.name
        );
    }
    let stored = report.imported + report.already_there;
    // A data directory kept from before may hold more than this folder.
    check(
        timeline.len() as u64 >= stored,
        "every photo stored is in the timeline",
    )?;
    check(
        timeline.iter().all(|p| p.processed),
        "every photo has its thumbnails",
    )?;

    let again = taina.import_photos(&me, &photos, &Silent).await?;
    println!(
        "again: {} imported, {} already there",
        again.imported, again.already_there
    );
    check(
        again.imported == 0 && again.already_there == stored,
        "a second run imports nothing twice",
    )?;
    taina.close().await;
    Ok(())
}

fn check(holds: bool, what: &str) -> Result<(), Box<dyn Error>> {
    if holds {
        Ok(())
    } else {
        Err(format!("not so: {what}").into())
    }
}
