//! Pointing the configuration at where a community moved (its blobs, its database).

use std::path::Path;

use serde_json::json;

use crate::failure::{Code, Failure};
use crate::output::Output;

/// Writes `settings` (`None`: removed) into the configuration file, comments and everything else
/// kept, when one is in use and the environment does not override them; otherwise says what to
/// set. `done` completes "FILE …" in the confirmation.
pub fn point_at(
    config_file: Option<&Path>,
    settings: &[(&'static str, Option<String>)],
    done: &str,
    out: &Output,
) -> Result<(), Failure> {
    let overridden = settings
        .iter()
        .any(|(key, _)| std::env::var_os(env_name(key)).is_some());
    match config_file {
        Some(file) if !overridden => {
            write(file, settings)?;
            out.done(
                &format!("Switched: {} {done}", file.display()),
                &json!({"switched": true, "file": file}),
            )
        }
        _ => {
            let lines: Vec<String> = settings
                .iter()
                .map(|(key, value)| match value {
                    Some(value) => format!("{}={value}", env_name(key)),
                    None => format!("(unset {})", env_name(key)),
                })
                .collect();
            out.done(
                &format!(
                    "Copied and verified. The setting comes from the environment (or there is no \
                     configuration file): set\n  {}\nbefore starting the server.",
                    lines.join("\n  ")
                ),
                &json!({"switched": false, "settings": lines}),
            )
        }
    }
}

fn env_name(key: &str) -> String {
    format!("TAINA_{}", key.to_uppercase())
}

/// Writes the settings into the TOML file, through a temporary file and a rename.
fn write(file: &Path, settings: &[(&'static str, Option<String>)]) -> Result<(), Failure> {
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
        match value {
            Some(v) if v == "true" || v == "false" => doc[key] = toml_edit::value(v == "true"),
            Some(v) => doc[key] = toml_edit::value(v.as_str()),
            None => {
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
