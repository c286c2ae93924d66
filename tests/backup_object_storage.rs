#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! Issue 18: backups and restores on object storage. A community on PostgreSQL and S3 is backed up
//! into a local folder (its files and thumbnails read from the bucket, each checked against its
//! SHA-256), restored into an empty database and an empty bucket prefix whole and clean, and a
//! restore into a prefix that holds something is refused.

use bytes::Bytes;
use futures::StreamExt;
use taina::progress::Silent;
use taina::testing::{Storage, TestInstance, fresh_postgres_database, use_test_bucket};
use taina::ybira::{Location, NewUpload, OnConflict};
use taina::{Backend, Config, Taina};

async fn read_all(taina: &Taina, actor: &taina::core::Actor, id: &taina::core::ItemId) -> Vec<u8> {
    let mut body = taina.ybira().download(actor, id, None).await.unwrap().body;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_on_s3_backs_up_to_a_folder_and_restores_into_a_bucket() {
    let t = TestInstance::on(Backend::Postgres, Storage::S3).await;
    let admin = t.actor(&t.setup().await).await;
    let mut files = Vec::new();
    for n in 0..4u8 {
        let bytes: Vec<u8> = (0..(30_000 + usize::from(n) * 7_000))
            .map(|i| (i as u8) ^ n)
            .collect();
        files.push((format!("doc {n}.bin"), bytes));
    }
    let photo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/photos/jolla.jpg"
    ))
    .unwrap();
    files.push(("jolla.jpg".into(), photo));
    for (name, bytes) in &files {
        t.taina
            .ybira()
            .upload(
                &admin,
                NewUpload {
                    location: Location::MyFiles,
                    name: name.clone(),
                    declared_size: None,
                    on_conflict: OnConflict::Rename,
                },
                futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(bytes.clone()))]),
            )
            .await
            .unwrap();
    }
    t.taina.jobs().run_due().await.unwrap();
    let stored = t.taina.blobs().list("communities").await.unwrap().len() as u64;

    // Backed up from the bucket into a folder, thumbnails included.
    let dest = t.dir.path().join("backup");
    let report = t.taina.backup(&dest, true, &Silent).await.unwrap();
    assert_eq!(report.files, stored, "every blob and thumbnail: {report:?}");
    assert!(dest.join("storage/communities").is_dir());

    // Restored into an empty database and an empty prefix of the bucket.
    let mut target = Config::with_data_dir(t.dir.path().join("restored"));
    target.database_url = Some(fresh_postgres_database().await);
    target.password_hashing_threads = Some(1);
    use_test_bucket(&mut target);
    let restored = taina::backup::restore(target.clone(), &dest, &Silent)
        .await
        .unwrap();
    assert!(restored.integrity.is_clean(), "{:?}", restored.integrity);
    assert_eq!(restored.files, stored);
    target.job_workers = 0;
    let back = Taina::open(target.clone()).await.unwrap();
    assert!(back.blobs().url().starts_with("s3://"));
    assert_eq!(
        back.blobs().list("communities").await.unwrap().len() as u64,
        stored
    );
    let admin = back.operator().acting_admin(None).await.unwrap();
    let listed = back
        .ybira()
        .list(&admin, &Location::MyFiles, None, Some(50))
        .await
        .unwrap();
    for (name, bytes) in &files {
        let item = listed.items.iter().find(|i| &i.name == name).unwrap();
        assert!(read_all(&back, &admin, &item.id).await == *bytes, "{name}");
    }
    back.close().await;

    // A prefix that holds something is not restored over.
    let mut again = target.clone();
    again.database_url = Some(fresh_postgres_database().await);
    again.data_dir = t.dir.path().join("again");
    let refused = taina::backup::restore(again, &dest, &Silent)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), taina::core::ErrorKind::Conflict);
    assert!(refused.to_string().contains("storage"), "{refused}");
}
