//! Printing results: aligned tables for people, JSON (`--json`) for scripts.

use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};
use serde::Serialize;

use crate::failure::{Code, Failure};

/// Where results go, and how.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON instead of tables.
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or `table()` for people.
    pub fn show<T: Serialize>(
        &self,
        value: &T,
        table: impl FnOnce() -> Table,
    ) -> Result<(), Failure> {
        if self.json {
            let text = serde_json::to_string_pretty(value)
                .map_err(|e| Failure::new(Code::Failed, format!("cannot print JSON: {e}"), ""))?;
            println!("{text}");
        } else {
            println!("{}", table());
        }
        Ok(())
    }

    /// Prints a one-line confirmation (as `{"ok": true, ...}` in JSON).
    pub fn done<T: Serialize>(&self, message: &str, value: &T) -> Result<(), Failure> {
        if self.json {
            let text = serde_json::to_string_pretty(value)
                .map_err(|e| Failure::new(Code::Failed, format!("cannot print JSON: {e}"), ""))?;
            println!("{text}");
        } else {
            println!("{message}");
        }
        Ok(())
    }

    /// Whether progress bars may be drawn (not in JSON mode).
    pub fn bars(&self) -> bool {
        !self.json
    }
}

/// A table with a header row and no borders.
pub fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    t
}

/// Bytes for people: `1.5 GB`.
pub fn bytes(n: i64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value.abs() >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// Parses a size: a number of bytes, or a number with a unit (`50GB`, `1.5 TB`, `512MiB`).
pub fn parse_size(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = (number * factor).round();
    (bytes.is_finite() && bytes >= 0.0 && bytes < i64::MAX as f64).then_some(bytes as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("50GB"), Some(50_000_000_000));
        assert_eq!(parse_size("1.5 TB"), Some(1_500_000_000_000));
        assert_eq!(parse_size("512MiB"), Some(512 * 1024 * 1024));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("5 parsecs"), None);
        assert_eq!(parse_size("-5"), None);
        assert_eq!(bytes(1_500_000_000), "1.5 GB");
        assert_eq!(bytes(12), "12 B");
    }
}
