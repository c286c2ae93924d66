//! The ISO base media file format (ISO BMFF): the box structure shared by HEIF photos and MP4/MOV
//! videos. The readers only look inside the bytes they are given, follow no offsets outside a box,
//! and stop at the first malformed box.

/// Boxes visited at most in one list (bounds the work on hostile input).
pub(crate) const MAX_BOXES: usize = 10_000;

/// A box: its type and its body.
pub(crate) struct BmffBox<'a> {
    pub(crate) kind: [u8; 4],
    pub(crate) body: &'a [u8],
}

/// A box's header, read from the start of a file region without its body (for finding a box in a
/// file too large to read whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    /// The box type, such as `moov`.
    pub kind: [u8; 4],
    /// The header's length (8, or 16 with a 64-bit size).
    pub header_len: u64,
    /// The whole box's length, header included; `None` when it runs to the end of the file.
    pub size: Option<u64>,
}

/// The header of the box starting at `bytes` (pass at least 16 bytes when there are), if it is
/// well formed.
///
/// ```
/// use taina_jaci::bmff::box_header;
/// let h = box_header(b"\0\0\0\x10moovxxxxxxxx").unwrap();
/// assert_eq!((&h.kind, h.header_len, h.size), (b"moov", 8, Some(16)));
/// ```
pub fn box_header(bytes: &[u8]) -> Option<BoxHeader> {
    let size = u64::from(be_u32(bytes, 0)?);
    let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let (header_len, size) = match size {
        0 => (8, None),
        1 => (
            16,
            Some(u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?)),
        ),
        n => (8, Some(n)),
    };
    if size.is_some_and(|s| s < header_len) {
        return None;
    }
    Some(BoxHeader {
        kind,
        header_len,
        size,
    })
}

/// The boxes directly inside `data`, until the first malformed one.
pub(crate) fn boxes(data: &[u8]) -> impl Iterator<Item = BmffBox<'_>> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let header = box_header(rest)?;
        let size = usize::try_from(header.size.unwrap_or(rest.len() as u64)).ok()?;
        let header_len = usize::try_from(header.header_len).ok()?;
        if size > rest.len() {
            return None;
        }
        let b = BmffBox {
            kind: header.kind,
            body: &rest[header_len..size],
        };
        rest = &rest[size..];
        Some(b)
    })
    .take(MAX_BOXES)
}

/// The body of the first box of type `kind` directly inside `data`.
pub(crate) fn find<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|b| &b.kind == kind).map(|b| b.body)
}

/// The brands an `ftyp` box at the start of `data` lists (major brand first), if there is one.
pub(crate) fn brands(data: &[u8]) -> Vec<[u8; 4]> {
    let Some(ftyp) = boxes(data).next().filter(|b| &b.kind == b"ftyp") else {
        return Vec::new();
    };
    ftyp.body
        .chunks_exact(4)
        .enumerate()
        .filter(|(i, _)| *i != 1) // the minor version
        .filter_map(|(_, b)| b.try_into().ok())
        .collect()
}

pub(crate) fn be_u16(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(
        data.get(at..at + 2)?.try_into().ok()?,
    )))
}

pub(crate) fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn be_i32(data: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}
