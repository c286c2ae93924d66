//! The files desktops leave beside real ones — macOS's AppleDouble `._name` companions and
//! `.DS_Store` folder settings, Windows' `Thumbs.db` and `desktop.ini` — which are not the
//! person's files. WebDAV keeps them aside for the person who wrote them (a small scratch store,
//! for a week), so the client finds them again as it expects, and they never become files in
//! Ybira: not listed, not synced, not counted against the quota.

/// Largest litter file kept (bigger ones are refused with 507; AppleDouble files are a few KiB).
pub const LITTER_MAX_BYTES: usize = 256 * 1024;
/// Most litter files kept per person (the oldest go first).
pub const LITTER_PER_PERSON_MAX: usize = 2000;
/// Most bytes of litter kept per person, all files together: a write past it is refused.
pub const LITTER_BYTES_PER_PERSON_MAX: u64 = 16 * 1024 * 1024;
/// How long a litter file is kept, in milliseconds (a week).
pub const LITTER_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

/// Whether a file name is desktop litter.
pub fn is_litter(name: &str) -> bool {
    (name.starts_with("._") && name.len() > 2)
        || name == ".DS_Store"
        || name.eq_ignore_ascii_case("thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litter_is_recognised() {
        for name in [
            "._photo.jpg",
            ".DS_Store",
            "Thumbs.db",
            "desktop.ini",
            "DESKTOP.INI",
        ] {
            assert!(is_litter(name), "{name}");
        }
        for name in [
            "photo.jpg",
            "._",
            ".ds_store.txt",
            "my Thumbs.db",
            "_.file",
            ".hidden",
        ] {
            assert!(!is_litter(name), "{name}");
        }
    }
}
