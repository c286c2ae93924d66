//! One entry per parser of untrusted input, shared by the cargo-fuzz targets in `fuzz/` (nightly)
//! and by the corpus replay in `tests/fuzz_corpus.rs` (stable), so a crash the fuzzer finds and
//! checks into `fuzz/corpus/<target>/` is replayed by every `cargo test`.
//!
//! Each entry takes arbitrary bytes, feeds them to the real parser and checks what a user relies
//! on of the answer; it panics only when a parser panics or breaks such a promise.

use std::ops::Range;
use std::path::{Component, Path};

use taina_core::{ItemId, Timestamp};
use taina_guara::{message, search};
use taina_jaci::{bmff, heif, metadata, video};
use taina_ybira::name::{self, NAME_MAX_BYTES};
use taina_ybira::range::{self, HttpRange};
use taina_ybira::tus;

/// The fuzz targets, by name: each has `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
pub const TARGETS: [&str; 12] = [
    "exif",
    "bmff",
    "tus",
    "range",
    "name",
    "message",
    "search",
    "manifest",
    "form_part",
    "socket_frame",
    "dav_xml",
    "dav_headers",
];

/// Feeds `data` to the parser behind `target` (one of [`TARGETS`]); an unknown target panics.
pub fn fuzz_one(target: &str, data: &[u8]) {
    match target {
        "exif" => exif(data),
        "bmff" => bmff(data),
        "tus" => tus_headers(data),
        "range" => range_header(data),
        "name" => names(data),
        "message" => message_parts(data),
        "search" => search_query(data),
        "manifest" => manifest(data),
        "form_part" => form_part(data),
        "socket_frame" => socket_frame(data),
        "dav_xml" => dav_xml(data),
        "dav_headers" => dav_headers(data),
        other => panic!("no fuzz target {other:?}"),
    }
}

/// A WebDAV request body (PROPFIND, PROPPATCH, LOCK): answered within bounds, and every value
/// kept from it is self-contained XML that parses again as a property's value.
fn dav_xml(data: &[u8]) {
    use taina_ybira::dav::xml::{PatchOp, parse_lockinfo, parse_propfind, parse_proppatch};
    let _ = parse_propfind(data);
    let _ = parse_lockinfo(data);
    if let Ok(ops) = parse_proppatch(data) {
        assert!(!ops.is_empty() && ops.len() <= taina_ybira::dav::PROPS_MAX);
        for op in ops {
            if let PatchOp::Set(name, value) = op {
                assert!(value.len() <= taina_ybira::dav::VALUE_MAX_BYTES + 4096);
                let again = format!(
                    "<propertyupdate xmlns=\"DAV:\"><set><prop><{0} xmlns=\"{1}\">{2}</{0}></prop></set></propertyupdate>",
                    name.local,
                    taina_ybira::dav::xml::escape(&name.ns),
                    value
                );
                let reread = parse_proppatch(again.as_bytes()).expect("a kept value parses again");
                assert_eq!(reread, vec![PatchOp::Set(name, value)]);
            }
        }
    }
}

/// WebDAV request headers and paths (`If`, `Depth`, `Overwrite`, `Timeout`, a request path, a
/// `Destination`): answered, never a panic; a path read back writes the same URL.
fn dav_headers(data: &[u8]) {
    use taina_ybira::dav::{headers, locks, path::DavPath};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(h) = headers::parse_if(text) {
        assert!(!h.lists.is_empty());
        let _ = h.holds(|_| headers::ResourceState::default());
    }
    let _ = headers::parse_depth(Some(text));
    let _ = headers::parse_overwrite(Some(text));
    let secs = locks::timeout_secs(Some(text));
    assert!((1..=locks::TIMEOUT_MAX_SECS).contains(&secs));
    let parsed = [
        DavPath::parse("/dav/", text),
        DavPath::parse_destination("/dav/", text),
    ];
    for path in parsed.into_iter().flatten() {
        let href = path.href("/dav/", false);
        assert_eq!(
            DavPath::parse("/dav/", &href).expect("an href parses"),
            path
        );
    }
}

/// A client's socket frame (`taina_core::wire::ClientFrame`): what parses writes back as JSON that
/// parses to the same frame.
fn socket_frame(data: &[u8]) {
    if let Ok(frame) = serde_json::from_slice::<taina_core::wire::ClientFrame>(data) {
        let again = serde_json::to_vec(&frame).expect("a frame serialises");
        let back: taina_core::wire::ClientFrame =
            serde_json::from_slice(&again).expect("a serialised frame parses");
        assert_eq!(back, frame);
    }
}

/// The first 8 bytes as a number (zero-padded), and the rest.
fn split_u64(data: &[u8]) -> (u64, &[u8]) {
    let (head, rest) = data.split_at(data.len().min(8));
    let mut number = [0u8; 8];
    number[..head.len()].copy_from_slice(head);
    (u64::from_le_bytes(number), rest)
}

/// A photo's bytes: EXIF and image headers, HEIF's primary size.
fn exif(data: &[u8]) {
    on_earth(&metadata::extract(data));
    let _ = heif::is_heif(data);
    let _ = heif::primary_size(data);
}

/// A place read from a file is one on Earth (the map shows it).
fn on_earth(m: &metadata::PhotoMetadata) {
    if let Some(location) = &m.location {
        assert!(
            (-90.0..=90.0).contains(&location.latitude)
                && (-180.0..=180.0).contains(&location.longitude),
            "a place off Earth: {location:?}"
        );
    }
}

/// A video file: the `moov` box found box by box, as the shell does with ranged reads, then read.
fn bmff(data: &[u8]) {
    let _ = bmff::box_header(data);
    let _ = video::is_video_container(data);
    on_earth(&video::metadata_from_moov(data));
    let file_size = data.len() as u64;
    let mut offset = 0u64;
    for _ in 0..64 {
        let Ok(start) = usize::try_from(offset) else {
            break;
        };
        let header = data.get(start..).unwrap_or_default();
        let header = &header[..header.len().min(16)];
        match video::moov_search_step(offset, header, file_size) {
            video::MoovSearch::Found(body) => {
                assert!(body.end <= file_size, "moov body past the file: {body:?}");
                let body = usize::try_from(body.start).unwrap_or(usize::MAX)
                    ..usize::try_from(body.end).unwrap_or(usize::MAX);
                on_earth(&video::metadata_from_moov(
                    data.get(body).unwrap_or_default(),
                ));
                break;
            }
            video::MoovSearch::Next(next) => {
                assert!(next > offset, "the search goes forward");
                offset = next;
            }
            video::MoovSearch::Stop => break,
        }
    }
    // The step alone, at any offset of any file size.
    let (offset, rest) = split_u64(data);
    let (size, header) = split_u64(rest);
    if let video::MoovSearch::Found(Range { start, end }) =
        video::moov_search_step(offset, header, size)
    {
        assert!(
            start <= end && end <= size,
            "moov body {start}..{end} of {size}"
        );
    }
}

/// tus headers: `Upload-Metadata`, `Upload-Offset`, `Upload-Checksum`.
fn tus_headers(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let _ = tus::parse_upload_metadata(&raw);
    let _ = tus::parse_upload_offset(&raw);
    let _ = tus::parse_upload_checksum(&raw);
}

/// A `Range` header for a file of some size: what is served lies within the file.
fn range_header(data: &[u8]) {
    let (size, header) = split_u64(data);
    // Small files too, not only sizes near 2^64.
    for size in [size, size % 1024] {
        let header = String::from_utf8_lossy(header);
        if let HttpRange::Part(part) = range::parse_http_range(Some(&header), size) {
            let served = range::resolve_range(Some(part), size)
                .expect("a part the header parser gives resolves");
            assert!(
                served.start < served.end && served.end <= size,
                "{header:?} of {size} bytes serves {served:?}"
            );
        }
    }
}

/// File and folder names, and the `name (2).ext` of a collision.
fn names(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let _ = name::collision_key(&raw);
    let Ok(normal) = name::normalize_name(&raw) else {
        return;
    };
    let _ = name::split_extension(&normal);
    let free = name::first_free_name(&normal, |candidate| candidate == normal);
    assert_ne!(free, normal);
    assert!(
        free.len() <= NAME_MAX_BYTES,
        "{free:?} is {} bytes",
        free.len()
    );
    assert!(
        name::normalize_name(&free).is_ok(),
        "the free name {free:?} is itself a valid name"
    );
}

/// Message text, reactions and idempotency keys.
fn message_parts(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let _ = message::normalize_text(&raw, false);
    let _ = message::normalize_text(&raw, true);
    let _ = message::check_client_key(&raw);
    let _ = message::AttachmentKind::for_mime(&raw);
    if let Ok(emoji) = message::normalize_reaction(&raw) {
        assert!(!emoji.is_empty() && !emoji.contains(char::is_whitespace));
    }
}

/// A search query, made into FTS5 and tsquery text: only quoted words and the operators we add.
fn search_query(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    if let Ok(terms) = search::terms(&raw) {
        // No words (only spaces or punctuation) is a search that finds nothing.
        assert!(terms.len() <= search::MAX_TERMS);
        for term in &terms {
            assert!(
                !term.is_empty()
                    && !term.chars().any(|c| c.is_whitespace()
                        || matches!(
                            c,
                            '"' | '\'' | '\\' | '&' | '|' | '!' | '(' | ')' | ':' | '*' | '<' | '>'
                        )),
                "term {term:?} from {raw:?} could change the query"
            );
        }
        let _ = search::fts5_query(&terms);
        let _ = search::tsquery(&terms);
    }
}

/// A backup's `manifest.json`: anything it lets through stays under `communities/`.
fn manifest(data: &[u8]) {
    if let Ok(manifest) = crate::backup::parse_manifest(data) {
        for entry in &manifest.files {
            let mut parts = Path::new(&entry.path).components();
            assert!(
                parts.next() == Some(Component::Normal("communities".as_ref()))
                    && parts.all(|c| matches!(c, Component::Normal(_))),
                "restore would write {:?}",
                entry.path
            );
        }
    }
}

/// The text parts of the upload forms: `folder_id` and `modified_at`.
fn form_part(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let _ = ItemId::parse(raw.trim());
    if let Some(t) = Timestamp::parse_rfc3339(raw.trim()) {
        let _ = t.to_rfc3339();
    }
}
