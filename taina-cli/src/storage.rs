//! `taina storage migrate`: the blobs copied to another store, then the configuration switched.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;
use taina::storage::{BlobStore, StorageLocation};
use taina::{Config, Taina};

use crate::cli::MigrateStorage;
use crate::failure::{Code, Failure};
use crate::output::{Output, bytes, table};
use crate::progress::Bar;
use crate::switch::{self, Setting};

/// Copies every blob to the store `to` names and, when no other process has the data open,
/// points the configuration file at it.
pub async fn migrate(
    taina: &Taina,
    config_file: Option<&Path>,
    to: MigrateStorage,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let mut target = taina.config().clone();
    target.storage_url = Some(to.to.clone());
    let target_location = StorageLocation::parse(Some(&to.to)).map_err(|e| {
        Failure::new(
            Code::Invalid,
            e.to_string(),
            "e.g. --to s3://bucket/prefix or --to file:///srv/taina-blobs",
        )
    })?;
    let object_storage = matches!(target_location, StorageLocation::S3 { .. });
    if object_storage {
        target.storage_endpoint = to.endpoint.clone().or(target.storage_endpoint);
        target.storage_region = to.region.clone().or(target.storage_region);
        target.storage_virtual_hosted = to.virtual_hosted;
    }
    let store = BlobStore::open(&target, taina.data_dir())
        .map_err(|e| Failure::new(Code::Invalid, format!("cannot use {}: {e}", to.to), ""))?;
    if store.url() == taina.blobs().url() {
        return Err(Failure::new(
            Code::Conflict,
            format!("the blobs are already in {}", store.url()),
            "name another store with --to",
        ));
    }
    store.ping().await.map_err(|e| {
        Failure::new(
            Code::Unavailable,
            format!("cannot write to {}: {e}", store.url()),
            "check the bucket, --endpoint, --region and the credentials (AWS_ACCESS_KEY_ID, \
             AWS_SECRET_ACCESS_KEY or the storage_* settings)",
        )
    })?;
    let bar = Bar::new(out.bars());
    let copied = taina.copy_storage_to(&store, &bar).await;
    bar.finish();
    let copied = copied?;
    out.show(&copied, || {
        let mut t = table(["storage migration", ""]);
        t.add_row(vec!["from".to_owned(), taina.blobs().url().to_owned()]);
        t.add_row(vec!["to".to_owned(), store.url().to_owned()]);
        t.add_row(vec!["objects".to_owned(), copied.objects.to_string()]);
        t.add_row(vec![
            "copied".to_owned(),
            format!(
                "{} ({})",
                copied.copied,
                bytes(i64::try_from(copied.bytes_copied).unwrap_or(i64::MAX))
            ),
        ]);
        t.add_row(vec![
            "already there".to_owned(),
            copied.already_there.to_string(),
        ]);
        t.add_row(vec![
            "unfinished uploads (to start again)".to_owned(),
            copied.unfinished_uploads.to_string(),
        ]);
        t
    })?;
    // Checked again now, not only at open: a server started during the copy would write to the
    // old store after the switch.
    if !taina.ybira().recovered().alone || taina.other_instances_live().await? {
        out.done(
            "Copied and verified. Other processes (a running server) have the data open, so the \
             configuration is not switched: stop them, then run this again to copy what they wrote \
             meanwhile and switch.",
            &json!({"switched": false}),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let settings = settings_for(&target, object_storage);
    let done = format!(
        "now keeps the blobs in {}. The old store is left as it was; remove it once the \
         community runs well on the new one.",
        store.url()
    );
    switch::point_at(config_file, &settings, &done, out)?;
    Ok(ExitCode::SUCCESS)
}

/// The storage settings that point at the new store (`None`: removed).
fn settings_for(target: &Config, object_storage: bool) -> Vec<(&'static str, Option<Setting>)> {
    let s3 = |v: &Option<String>| v.clone().filter(|_| object_storage).map(Setting::Text);
    vec![
        ("storage_url", target.storage_url.clone().map(Setting::Text)),
        ("storage_endpoint", s3(&target.storage_endpoint)),
        ("storage_region", s3(&target.storage_region)),
        (
            "storage_virtual_hosted",
            (object_storage && target.storage_virtual_hosted).then_some(Setting::Flag(true)),
        ),
    ]
}
