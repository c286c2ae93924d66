//! Tainá as a library inside another Rust program: open an instance on a data directory (SQLite,
//! nothing to install), make a community, store a file, read it back, and hear about it on the
//! live feed — the same calls the server's API makes.
//!
//! ```sh
//! cargo run --example embed               # in a throwaway directory
//! cargo run --example embed -- ./my-data  # or in one you keep
//! ```
//!
//! It checks what it prints and exits with an error if anything is not as it says, so the test
//! command runs it as a test.

use std::error::Error;

use bytes::Bytes;
use taina::accounts::SetupRequest;
use taina::feed::FeedItem;
use taina::ybira::{Location, NewUpload, OnConflict};
use taina::{Config, Taina};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let scratch = tempfile::tempdir()?;
    let data_dir = std::env::args()
        .nth(1)
        .map_or_else(|| scratch.path().to_path_buf(), Into::into);
    let taina = Taina::open(Config::with_data_dir(&data_dir)).await?;
    println!("opened {} ({})", data_dir.display(), taina.backend().name());

    // The first community and its admin, as the setup screen makes them.
    let signed_in = taina
        .accounts()
        .setup(SetupRequest {
            community_name: "Vila Embutida".into(),
            community_slug: None,
            email: "ana@example.org".into(),
            password: "correct horse battery staple".into(),
            display_name: "Ana".into(),
            user_agent: Some("embed example".into()),
        })
        .await?;
    // Every call takes the actor a session token stands for: the same authorization as the API.
    let ana = taina.accounts().authenticate(&signed_in.token).await?;
    let mut feed = taina.subscribe(&ana).await?;

    let folder = taina
        .ybira()
        .create_folder(&ana, &Location::Shared, "Atas")
        .await?;
    let text = "Reunião de sábado: trazer cadeiras.\n";
    let chunks = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(text))]);
    let file = taina
        .ybira()
        .upload(
            &ana,
            NewUpload {
                location: Location::Folder(folder.id.clone()),
                name: "reuniao.txt".into(),
                declared_size: Some(text.len() as u64),
                on_conflict: OnConflict::Rename,
            },
            chunks,
        )
        .await?;
    println!(
        "stored {} ({} bytes) in {}",
        file.name,
        text.len(),
        folder.name
    );

    let listing = taina
        .ybira()
        .list(&ana, &Location::Folder(folder.id.clone()), None, None)
        .await?;
    let names: Vec<&str> = listing.items.iter().map(|i| i.name.as_str()).collect();
    println!("{} holds {names:?}", folder.name);
    check(names == ["reuniao.txt"], "the folder lists the file")?;

    // What the feed heard, in order: the folder, then the file.
    let mut heard = Vec::new();
    while let Some(FeedItem::Event(event)) = feed.try_next() {
        heard.push(event.name());
    }
    println!("the feed heard {heard:?}");
    check(
        heard == ["folder.created", "file.uploaded"],
        "the feed tells of both",
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
