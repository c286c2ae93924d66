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
    if !taina.ybira().recovered().alone {
        out.done(
            "Copied and verified. Other processes (a running server) have the data open, so the \
             configuration is not switched: stop them, then run this again to copy what they wrote \
             meanwhile and switch.",
            &json!({"switched": false}),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let settings = settings_for(&target, object_storage);
    let overridden: Vec<&str> = settings
        .iter()
        .map(|(key, _)| *key)
        .filter(|key| std::env::var_os(format!("TAINA_{}", key.to_uppercase())).is_some())
        .collect();
    match config_file {
        Some(file) if overridden.is_empty() => {
            switch(file, &settings)?;
            out.done(
                &format!(
                    "Switched: {} now keeps the blobs in {}. The old store is left as it was; \
                     remove it once the community runs well on the new one.",
                    file.display(),
                    store.url()
                ),
                &json!({"switched": true, "file": file, "storage_url": to.to}),
            )?;
        }
        _ => {
            let lines: Vec<String> = settings
                .iter()
                .map(|(key, value)| match value {
                    Some(value) => format!("TAINA_{}={value}", key.to_uppercase()),
                    None => format!("(unset TAINA_{})", key.to_uppercase()),
                })
                .collect();
            out.done(
                &format!(
                    "Copied and verified. The storage is set by the environment (or there is no \
                     configuration file): set\n  {}\nbefore starting the server.",
                    lines.join("\n  ")
                ),
                &json!({"switched": false, "settings": lines}),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The storage settings that point at the new store (`None`: removed).
fn settings_for(target: &Config, object_storage: bool) -> Vec<(&'static str, Option<String>)> {
    let s3 = |v: &Option<String>| if object_storage { v.clone() } else { None };
    vec![
        ("storage_url", target.storage_url.clone()),
        ("storage_endpoint", s3(&target.storage_endpoint)),
        ("storage_region", s3(&target.storage_region)),
        (
            "storage_virtual_hosted",
            (object_storage && target.storage_virtual_hosted).then(|| "true".to_owned()),
        ),
    ]
}

/// Writes the settings into the TOML file (comments and everything else kept), through a
/// temporary file and a rename.
fn switch(file: &Path, settings: &[(&'static str, Option<String>)]) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::io(&format!("cannot read {}", file.display()), e))?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| {
        Failure::new(
            Code::Invalid,
            format!("{} is not valid TOML: {e}", file.display()),
            "",
        )
    })?;
    for (key, value) in settings {
        match (value, *key) {
            (Some(v), "storage_virtual_hosted") => doc[key] = toml_edit::value(v == "true"),
            (Some(v), _) => doc[key] = toml_edit::value(v.as_str()),
            (None, _) => {
                doc.remove(key);
            }
        }
    }
    let partial = file.with_extension("toml.partial");
    std::fs::write(&partial, doc.to_string())
        .map_err(|e| Failure::io(&format!("cannot write {}", partial.display()), e))?;
    std::fs::rename(&partial, file)
        .map_err(|e| Failure::io(&format!("cannot replace {}", file.display()), e))
}
