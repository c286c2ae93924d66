//! The MIME type of uploaded content, read from its first bytes (magic numbers). The name's
//! extension is only a hint: it is believed for text formats, which have no magic number, and never
//! to call a binary something it is not.

/// How many leading bytes [`detect_mime`] wants to see.
pub const SNIFF_BYTES: usize = 8192;

/// The type of content whose first bytes are `head` and whose name is `name`.
///
/// ```
/// use taina_ybira::mime::detect_mime;
/// assert_eq!(detect_mime(b"%PDF-1.7\n...", "notes.txt"), "application/pdf");
/// assert_eq!(detect_mime(b"# Notes\n", "notes.md"), "text/markdown");
/// assert_eq!(detect_mime(&[0, 159, 146, 150, 0, 1], "photo.jpg"), "application/octet-stream");
/// ```
pub fn detect_mime(head: &[u8], name: &str) -> String {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    if looks_like_text(head) {
        let hinted = mime_guess::from_path(name)
            .iter()
            .find(|m| is_textual(m.essence_str()));
        return match hinted {
            Some(m) => m.essence_str().to_owned(),
            None => "text/plain".to_owned(),
        };
    }
    "application/octet-stream".to_owned()
}

/// The usual extension of content recognised by its first bytes (`jpg`, `png`, `pdf`, ...), if any.
pub fn content_extension(head: &[u8]) -> Option<&'static str> {
    infer::get(&head[..head.len().min(SNIFF_BYTES)]).map(|kind| kind.extension())
}

/// Whether a type is text-based (so that a text body may carry it).
fn is_textual(essence: &str) -> bool {
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-sh"
                | "application/toml"
                | "application/x-yaml"
                | "image/svg+xml"
        )
}

/// Whether bytes read as text: valid UTF-8 (a cut multi-byte character at the end is fine) with no
/// NUL. Empty content counts as text.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn content_beats_the_extension() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        assert_eq!(detect_mime(&png, "holiday.jpg"), "image/png");
        assert_eq!(detect_mime(&[0xFF, 0xD8, 0xFF, 0xE0], "x"), "image/jpeg");
        assert_eq!(detect_mime(b"hello", "script.exe"), "text/plain");
        assert_eq!(detect_mime(b"{\"a\":1}", "data.json"), "application/json");
        assert_eq!(detect_mime(b"", "empty.bin"), "text/plain");
        assert_eq!(detect_mime("caf\u{e9}".as_bytes(), "a.csv"), "text/csv");
    }

    proptest! {
        #[test]
        fn always_answers_a_type(head in proptest::collection::vec(any::<u8>(), 0..100), name in "\\PC{0,40}") {
            let m = detect_mime(&head, &name);
            prop_assert!(m.contains('/'));
        }
    }
}
