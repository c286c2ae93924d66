//! Just enough of the HEIF container (ISO BMFF) to tell a HEIF/HEIC photo's displayed size without
//! decoding it: the primary item's `ispe` (spatial extent) property, turned by its `irot`.
//!
//! The reader only looks inside the bytes it is given, follows no offsets outside a box, and stops at
//! the first malformed box.

use crate::bmff::{BmffBox, MAX_BOXES, be_u16, be_u32, boxes, find};

/// Whether the bytes start like a HEIF file (an `ftyp` box with a HEIF brand).
pub fn is_heif(data: &[u8]) -> bool {
    crate::bmff::brands(data).iter().any(|brand| {
        matches!(
            brand,
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif"
        )
    })
}

/// The primary image's size as displayed, if the container says.
///
/// ```
/// assert_eq!(taina_jaci::heif::primary_size(b"garbage"), None);
/// ```
pub fn primary_size(data: &[u8]) -> Option<(u32, u32)> {
    let meta = find(data, b"meta")?.get(4..)?; // FullBox: skip version and flags
    let pitm = find(meta, b"pitm")?;
    let primary = match pitm.first()? {
        0 => be_u16(pitm, 4)?,
        _ => be_u32(pitm, 4)?,
    };
    let iprp = find(meta, b"iprp")?;
    let properties: Vec<BmffBox<'_>> = boxes(find(iprp, b"ipco")?).collect();
    let ipma = find(iprp, b"ipma")?;
    let (version, flags) = (*ipma.first()?, *ipma.get(3)?);
    let entries = be_u32(ipma, 4)?;
    let mut at = 8;
    for _ in 0..entries.min(MAX_BOXES as u32) {
        let item = if version < 1 {
            at += 2;
            be_u16(ipma, at - 2)?
        } else {
            at += 4;
            be_u32(ipma, at - 4)?
        };
        let count = usize::from(*ipma.get(at)?);
        at += 1;
        let mut indices = Vec::with_capacity(count);
        for _ in 0..count {
            let index = if flags & 1 == 1 {
                at += 2;
                be_u16(ipma, at - 2)? & 0x7FFF
            } else {
                at += 1;
                u32::from(*ipma.get(at - 1)? & 0x7F)
            };
            indices.push(index as usize);
        }
        if item != primary {
            continue;
        }
        let property = |kind: &[u8; 4]| {
            indices
                .iter()
                .filter_map(|i| properties.get(i.checked_sub(1)?))
                .find(|p| &p.kind == kind)
        };
        let ispe = property(b"ispe")?;
        let (w, h) = (be_u32(ispe.body, 4)?, be_u32(ispe.body, 8)?);
        let quarter_turns = property(b"irot")
            .and_then(|b| b.body.first())
            .map_or(0, |a| a & 3);
        let displayed = if quarter_turns % 2 == 1 {
            (h, w)
        } else {
            (w, h)
        };
        return (w > 0 && h > 0).then_some(displayed);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn heif(rotation: Option<u8>) -> Vec<u8> {
        let mut ispe = vec![0; 4];
        ispe.extend_from_slice(&640u32.to_be_bytes());
        ispe.extend_from_slice(&426u32.to_be_bytes());
        let mut ipco = boxed(b"ispe", &ispe);
        let mut assoc = vec![1u8];
        if let Some(r) = rotation {
            ipco.extend(boxed(b"irot", &[r]));
            assoc.push(2);
        }
        let mut ipma = vec![0, 0, 0, 0, 0, 0, 0, 1, 0, 7, assoc.len() as u8];
        ipma.extend(assoc);
        let mut iprp = boxed(b"ipco", &ipco);
        iprp.extend(boxed(b"ipma", &ipma));
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(boxed(b"pitm", &[0, 0, 0, 0, 0, 7]));
        meta.extend(boxed(b"iprp", &iprp));
        let mut file = boxed(b"ftyp", b"heic\0\0\0\0mif1heic");
        file.extend(boxed(b"meta", &meta));
        file
    }

    #[test]
    fn reads_the_primary_size_and_rotation() {
        assert!(is_heif(&heif(None)));
        assert_eq!(primary_size(&heif(None)), Some((640, 426)));
        assert_eq!(primary_size(&heif(Some(1))), Some((426, 640)));
        assert_eq!(primary_size(&heif(Some(2))), Some((640, 426)));
        assert!(!is_heif(b"\xFF\xD8\xFF"));
    }

    proptest! {
        #[test]
        fn random_bytes_are_harmless(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = primary_size(&bytes);
            let _ = is_heif(&bytes);
        }

        #[test]
        fn mutated_files_are_harmless(at in 0usize..200, value in any::<u8>(), cut in 0usize..200) {
            let mut bytes = heif(Some(1));
            let at = at % bytes.len();
            bytes[at] = value;
            let _ = primary_size(&bytes);
            bytes.truncate(cut.min(bytes.len()));
            let _ = primary_size(&bytes);
        }
    }
}
