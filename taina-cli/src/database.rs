//! `taina db migrate`: a SQLite community copied to PostgreSQL, then the configuration switched.

use std::path::Path;
use std::process::ExitCode;

use taina::Taina;

use crate::failure::Failure;
use crate::output::{Output, table};
use crate::progress::Bar;
use crate::switch::{self, Setting};

/// Copies the database into the empty PostgreSQL database `to`, verified, and points the
/// configuration at it.
pub async fn migrate(
    taina: &Taina,
    config_file: Option<&Path>,
    to: &str,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let bar = Bar::new(out.bars());
    let copied = taina.copy_database_to(to, &bar).await;
    bar.finish();
    let copied = copied?;
    out.show(&copied, || {
        let mut t = table(["table", "rows", "checksum (both sides)"]);
        for table in &copied.tables {
            t.add_row(vec![
                table.table.clone(),
                table.rows.to_string(),
                table.checksum[..16].to_owned(),
            ]);
        }
        t
    })?;
    let settings = [("database_url", Some(Setting::Text(to.to_owned())))];
    let done = format!(
        "now names the PostgreSQL database ({}). The SQLite file is left as it was; keep it until \
         the community runs well on PostgreSQL.",
        taina::config::redact_url(to)
    );
    switch::point_at(config_file, &settings, &done, out)?;
    Ok(ExitCode::SUCCESS)
}
