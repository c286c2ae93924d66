//! Names of files and folders: normalisation, validation, case-insensitive collisions, and the
//! `name (2).ext` suffix for uploads that collide.

use unicode_normalization::UnicodeNormalization;

use taina_core::Error;

/// Longest name, in UTF-8 bytes.
pub const NAME_MAX_BYTES: usize = 255;

/// Normalises a name (Unicode NFC, trimmed) and checks it: 1 to 255 bytes; no `/`, `\`, NUL or
/// control characters; not `.` or `..`.
///
/// ```
/// use taina_ybira::name::normalize_name;
/// assert_eq!(normalize_name("  Fe\u{301}rias.jpg ").unwrap(), "Férias.jpg");
/// assert!(normalize_name("../etc").is_err());
/// ```
pub fn normalize_name(raw: &str) -> Result<String, Error> {
    let name: String = raw.nfc().collect::<String>().trim().to_owned();
    if name.is_empty() {
        return Err(Error::invalid("name", "is required"));
    }
    if name.len() > NAME_MAX_BYTES {
        return Err(Error::invalid(
            "name",
            format!("must be at most {NAME_MAX_BYTES} bytes"),
        ));
    }
    if name == "." || name == ".." {
        return Err(Error::invalid("name", "cannot be \".\" or \"..\""));
    }
    if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(Error::invalid(
            "name",
            "must not contain '/', '\\' or control characters",
        ));
    }
    Ok(name)
}

/// The key under which names collide: two names with the same key cannot share a folder.
pub fn collision_key(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// Splits a name into stem and extension at the last dot (a leading dot is part of the stem).
///
/// ```
/// use taina_ybira::name::split_extension;
/// assert_eq!(split_extension("photo.tar.gz"), ("photo.tar", Some("gz")));
/// assert_eq!(split_extension(".bashrc"), (".bashrc", None));
/// assert_eq!(split_extension("README"), ("README", None));
/// ```
pub fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    }
}

/// The first of `name`, `name (2).ext`, `name (3).ext`, ... for which `taken` answers false,
/// shortening the stem when needed so the result stays within [`NAME_MAX_BYTES`].
pub fn first_free_name(name: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_owned();
    }
    let (stem, ext) = split_extension(name);
    let mut n: u64 = 2;
    loop {
        let suffix = match ext {
            Some(ext) => format!(" ({n}).{ext}"),
            None => format!(" ({n})"),
        };
        let budget = NAME_MAX_BYTES.saturating_sub(suffix.len());
        let kept = truncate_to_bytes(stem, budget).trim_end();
        let candidate = if kept.is_empty() {
            // An extension too long to keep beside the suffix (and some of the stem) is kept as
            // stem, cut like one: the name stays within the limit and does not begin with " (".
            let suffix = format!(" ({n})");
            let budget = NAME_MAX_BYTES.saturating_sub(suffix.len());
            format!("{}{suffix}", truncate_to_bytes(name, budget).trim_end())
        } else {
            format!("{kept}{suffix}")
        };
        if !taken(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

fn truncate_to_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn rejects_what_the_issue_names() {
        for bad in [
            "",
            "   ",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "tab\there",
            "../x",
        ] {
            assert!(normalize_name(bad).is_err(), "{bad:?}");
        }
        // 200 bytes of emoji (50 × 4 bytes) is fine; 260 bytes is not.
        assert!(normalize_name(&"😀".repeat(50)).is_ok());
        assert!(normalize_name(&"😀".repeat(65)).is_err());
        assert_eq!(normalize_name("...hidden").unwrap(), "...hidden");
    }

    #[test]
    fn collisions_ignore_case() {
        assert_eq!(collision_key("Férias.JPG"), collision_key("férias.jpg"));
        assert_eq!(collision_key("Fe\u{301}rias"), collision_key("Férias"));
    }

    #[test]
    fn a_long_extension_still_gives_a_name_within_the_limit() {
        // Found by the fuzz corpus replay (fuzz/corpus/name/long-extension).
        let name = format!("a.{}", "x".repeat(253));
        let free = first_free_name(&name, |c| c == name);
        assert!(free.len() <= NAME_MAX_BYTES, "{} bytes", free.len());
        assert!(free.starts_with("a.xx") && free.ends_with(" (2)"), "{free}");
        assert_eq!(normalize_name(&free).unwrap(), free);
    }

    #[test]
    fn suffixes_count_up() {
        let taken: HashSet<String> = ["report.pdf", "report (2).pdf"]
            .iter()
            .map(|s| collision_key(s))
            .collect();
        let free = first_free_name("Report.pdf", |n| taken.contains(&collision_key(n)));
        assert_eq!(free, "Report (3).pdf");
        assert_eq!(first_free_name("notes", |n| n == "notes"), "notes (2)");
    }

    proptest! {
        #[test]
        fn normalised_names_are_valid_and_stable(raw in any::<String>()) {
            if let Ok(name) = normalize_name(&raw) {
                prop_assert_eq!(normalize_name(&name).unwrap(), name.clone());
                prop_assert!(!name.is_empty() && name.len() <= NAME_MAX_BYTES);
                prop_assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'));
                prop_assert!(name != "." && name != "..");
            }
        }

        #[test]
        fn free_names_are_valid_and_free(raw in "\\PC{1,300}", taken_count in 0usize..5) {
            if let Ok(name) = normalize_name(&raw) {
                let (stem, ext) = split_extension(&name);
                let mut taken: HashSet<String> = HashSet::from([collision_key(&name)]);
                for n in 2..(2 + taken_count) {
                    let s = match ext { Some(e) => format!("{stem} ({n}).{e}"), None => format!("{stem} ({n})") };
                    taken.insert(collision_key(&s));
                }
                let free = first_free_name(&name, |n| taken.contains(&collision_key(n)));
                prop_assert!(!taken.contains(&collision_key(&free)));
                prop_assert!(normalize_name(&free).is_ok(), "{:?}", free);
            }
        }
    }
}
