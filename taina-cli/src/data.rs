//! The data commands: integrity check, backup and restore, thumbnails, import and export.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;
use taina::core::PhotoId;
use taina::ybira::IntegrityOptions;
use taina::{Config, Taina};

use crate::cli::Import;
use crate::failure::{Code, Failure};
use crate::output::{Output, bytes, table};
use crate::progress::Bar;

/// Where `taina tui` finds the last integrity report.
pub const LAST_REPORT: &str = "last-integrity-report.json";

/// `taina fsck`: prints the report; exit code 0 only when clean.
pub async fn fsck(
    taina: &Taina,
    deep: bool,
    repair: bool,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let bar = Bar::new(deep && out.bars());
    let report = taina
        .ybira()
        .check_integrity_with(IntegrityOptions { deep, repair }, &bar)
        .await;
    bar.finish();
    let report = report?;
    // Kept for the dashboard (`taina tui`).
    if let Ok(text) = serde_json::to_vec_pretty(&json!({ "at": taina.now(), "report": report })) {
        let _ = std::fs::write(taina.data_dir().join(LAST_REPORT), text);
    }
    out.show(&report, || {
        let mut t = table(["check", "result"]);
        t.add_row(vec![
            "blobs checked".to_owned(),
            report.blobs_checked.to_string(),
        ]);
        t.add_row(vec![
            "stored objects".to_owned(),
            report.objects_checked.to_string(),
        ]);
        t.add_row(vec![
            "content hashes".to_owned(),
            if deep {
                "compared"
            } else {
                "not compared (use --deep)"
            }
            .to_owned(),
        ]);
        let rows: [(&str, Vec<String>); 8] = [
            (
                "missing",
                report
                    .missing
                    .iter()
                    .map(|(id, p)| format!("{id} {p}"))
                    .collect(),
            ),
            (
                "reappeared",
                report
                    .reappeared
                    .iter()
                    .map(|(id, p)| format!("{id} {p}"))
                    .collect(),
            ),
            ("orphans", report.orphans.clone()),
            (
                "missing previews",
                report
                    .missing_previews
                    .iter()
                    .map(|(id, p)| format!("{id} {p}"))
                    .collect(),
            ),
            (
                "wrong size",
                report
                    .size_mismatches
                    .iter()
                    .map(|m| format!("{} {}", m.blob_id, m.path))
                    .collect(),
            ),
            (
                "wrong hash",
                report
                    .hash_mismatches
                    .iter()
                    .map(|(id, p)| format!("{id} {p}"))
                    .collect(),
            ),
            (
                "quota drift",
                report
                    .quota_drift
                    .iter()
                    .map(|d| {
                        format!(
                            "{}: recorded {} actual {}",
                            d.community_id, d.recorded_bytes, d.actual_bytes
                        )
                    })
                    .collect(),
            ),
            (
                "wrong reference count",
                report
                    .reference_drift
                    .iter()
                    .map(|d| format!("{}: recorded {} actual {}", d.blob_id, d.recorded, d.actual))
                    .collect(),
            ),
        ];
        for (what, found) in rows {
            let shown = if found.is_empty() {
                "none".to_owned()
            } else {
                format!("{}: {}", found.len(), found.join(", "))
            };
            t.add_row(vec![what.to_owned(), shown]);
        }
        t.add_row(vec![
            "verdict".to_owned(),
            match (report.is_clean(), repair) {
                (true, _) => "clean".to_owned(),
                (false, true) => "problems found and repaired".to_owned(),
                (false, false) => "problems found (run with --repair)".to_owned(),
            },
        ]);
        t
    })?;
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        Code::Unclean.into()
    })
}

/// `taina backup DEST`.
pub async fn backup(
    taina: &Taina,
    dest: &Path,
    thumbnails: bool,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let bar = Bar::new(out.bars());
    let report = taina.backup(dest, thumbnails, &bar).await;
    bar.finish();
    let report =
        report.map_err(|e| hinted(e, "check that the backup folder is writable and has room"))?;
    out.done(
        &format!(
            "Backup in {}: {} files ({} copied now, {}; {} already there; {} no longer needed removed)",
            dest.display(),
            report.files,
            report.copied,
            bytes(i64::try_from(report.bytes_copied).unwrap_or(i64::MAX)),
            report.reused,
            report.removed
        ),
        &report,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `taina restore SRC`.
pub async fn restore(config: Config, source: &Path, out: &Output) -> Result<(), Failure> {
    let bar = Bar::new(out.bars());
    let report = taina::backup::restore(config.clone(), source, &bar).await;
    bar.finish();
    let report = report?;
    out.done(
        &format!(
            "Restored {} files ({}) into {}; integrity: {}{}",
            report.files,
            bytes(i64::try_from(report.bytes).unwrap_or(i64::MAX)),
            config.data_dir.display(),
            if report.integrity.is_clean() {
                "clean"
            } else {
                "PROBLEMS (run `taina fsck`)"
            },
            if report.previews_queued > 0 {
                format!(
                    "; {} thumbnails will be made again when the server runs",
                    report.previews_queued
                )
            } else {
                String::new()
            }
        ),
        &report,
    )?;
    if !report.integrity.is_clean() {
        return Err(Failure::new(
            Code::Unclean,
            "the restored instance is not clean",
            "run `taina fsck`",
        ));
    }
    Ok(())
}

/// `taina thumbnails regenerate`: queues the work and does it here.
pub async fn regenerate(
    taina: &Taina,
    community: Option<&str>,
    all: bool,
    photo: Option<&str>,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let admin = taina.operator().acting_admin(community).await?;
    let queued = if all {
        taina.jaci().regenerate_all(&admin).await?
    } else {
        let raw = photo.unwrap_or_default();
        let id = PhotoId::parse(raw).map_err(|_| {
            Failure::new(
                Code::NotFound,
                format!("{raw:?} is not a photo id"),
                "photo ids have 21 characters",
            )
        })?;
        taina.jaci().regenerate(&admin, &id).await?;
        1
    };
    let bar = Bar::new(out.bars());
    taina::progress::Progress::start(&bar, "thumbnails", queued, false);
    let mut failed = 0;
    loop {
        let run = taina.jobs().run_due().await?;
        let done = u64::from(run.succeeded + run.given_up + run.retrying);
        failed += u64::from(run.given_up);
        taina::progress::Progress::advance(&bar, done);
        if done == 0 {
            break;
        }
    }
    bar.finish();
    out.done(
        &format!(
            "Made thumbnails again for {queued} file(s){}",
            if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            }
        ),
        &json!({ "queued": queued, "failed": failed }),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `taina import photos|files`.
pub async fn import(
    taina: &Taina,
    community: Option<&str>,
    import: Import,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let bar = Bar::new(out.bars());
    let (args, folder) = match &import {
        Import::Photos(args) => (args, None),
        Import::Files { args, folder } => (args, Some(folder.as_str())),
    };
    if !args.dir.is_dir() {
        return Err(Failure::new(
            Code::NotFound,
            format!("{} is not a folder", args.dir.display()),
            "",
        ));
    }
    let actor = taina.operator().act_as(community, &args.user).await?;
    let report = match folder {
        None => taina.import_photos(&actor, &args.dir, &bar).await,
        Some(folder) => taina.import_files(&actor, &args.dir, folder, &bar).await,
    };
    bar.finish();
    let report = report?;
    let mut message = format!(
        "Imported {} of {} files ({} already there, {} not taken)",
        report.imported,
        report.seen,
        report.already_there,
        report.refused.len()
    );
    for refused in report.refused.iter().take(20) {
        message.push_str(&format!("\n  {}: {}", refused.path, refused.reason));
    }
    out.done(&message, &report)?;
    Ok(ExitCode::SUCCESS)
}

/// `taina export DEST [--user EMAIL]`.
pub async fn export(
    taina: &Taina,
    community: Option<&str>,
    dest: &Path,
    user: Option<&str>,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let c = taina.operator().community(community).await?;
    let person = match user {
        Some(email) => Some(taina.operator().act_as(community, email).await?),
        None => None,
    };
    let bar = Bar::new(out.bars());
    let report = taina.export(&c, person.as_ref(), dest, &bar).await;
    bar.finish();
    let report = report?;
    out.done(
        &format!(
            "Exported to {}: {} files ({}), {} photos, {} albums, {} conversations with {} messages",
            dest.display(),
            report.files,
            bytes(i64::try_from(report.bytes).unwrap_or(i64::MAX)),
            report.photos,
            report.albums,
            report.conversations,
            report.messages
        ),
        &report,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn hinted(e: taina::Error, hint: &str) -> Failure {
    let mut failure = Failure::from(e);
    failure.set_hint(hint);
    failure
}
