//! Pointing the configuration at where a community moved (its blobs, its database).

use std::path::Path;

use serde_json::json;

use crate::failure::{Code, Failure};
use crate::output::Output;

/// A setting's new value.
#[derive(Debug, Clone)]
pub enum Setting {
    /// A string (a URL, a region).
    Text(String),
    /// A switch.
    Flag(bool),
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setting::Text(text) => f.write_str(text),
            Setting::Flag(flag) => write!(f, "{flag}"),
        }
    }
}

/// Writes `settings` (`None`: removed) into the configuration file, comments and everything else
/// kept, when one is in use and the environment does not override them; otherwise says what to
/// set. `done` completes "FILE …" in the confirmation.
pub fn point_at(
    config_file: Option<&Path>,
    settings: &[(&'static str, Option<Setting>)],
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

/// Writes the settings into the TOML file, through a temporary file (synced, with the file's own
/// permissions) and a rename.
fn write(file: &Path, settings: &[(&'static str, Option<Setting>)]) -> Result<(), Failure> {
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
            Some(Setting::Flag(flag)) => doc[key] = toml_edit::value(*flag),
            Some(Setting::Text(text)) => doc[key] = toml_edit::value(text.as_str()),
            None => {
                doc.remove(key);
            }
        }
    }
    // The file itself, where a link points (the link stays a link), with its permissions (it may
    // hold secrets: a 0600 file stays 0600).
    let file = std::fs::canonicalize(file)
        .map_err(|e| Failure::io(&format!("cannot resolve {}", file.display()), e))?;
    let permissions = std::fs::metadata(&file)
        .map_err(|e| Failure::io(&format!("cannot read {}", file.display()), e))?
        .permissions();
    let partial = file.with_extension("toml.partial");
    let written = (|| {
        use std::io::Write;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&partial)?;
        out.set_permissions(permissions)?;
        out.write_all(doc.to_string().as_bytes())?;
        out.sync_all()
    })();
    written.map_err(|e| Failure::io(&format!("cannot write {}", partial.display()), e))?;
    std::fs::rename(&partial, &file)
        .map_err(|e| Failure::io(&format!("cannot replace {}", file.display()), e))
}
