//! What an image decoder running in a child process hands back to the server: an image's
//! [`Previews`], or why the image cannot be decoded, as bytes on the child's standard output.
//!
//! The server decodes no untrusted image itself (libheif, a C library, decodes HEIC): a child
//! process does it under memory and time limits, and this is the one format between the two. The
//! reading side trusts nothing: every length is checked against what is left and against
//! [`MAX_OUTPUT_BYTES`], sizes must come once each, smallest first, and nothing may follow.

use crate::thumbnail::{Previews, Rendition, Size};

/// The most bytes a decoder may write: three thumbnails (at most 1600 px on a side) and a
/// full-size JPEG rendition of a photo of at most [`crate::thumbnail::MAX_PIXELS`] pixels.
pub const MAX_OUTPUT_BYTES: usize = 256 * 1024 * 1024;

/// The longest reason a decoder may give for refusing an image.
pub const MAX_REASON_BYTES: usize = 1024;

/// The first bytes of every answer (the format's name and version).
const MAGIC: &[u8; 4] = b"TPV1";
const PREVIEWS: u8 = 0;
const UNDECODABLE: u8 = 1;

/// Why an answer could not be read: the decoder misbehaved (or is a different version).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the decoder's answer is unreadable: {0}")]
pub struct Unreadable(&'static str);

/// Writes the decoder's answer: the previews, or why the image could not be decoded (the reason
/// cut to [`MAX_REASON_BYTES`]).
pub fn encode(answer: &Result<Previews, crate::thumbnail::Error>) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    match answer {
        Ok(previews) => {
            out.push(PREVIEWS);
            out.push(u8::try_from(previews.thumbnails.len()).unwrap_or(u8::MAX));
            for r in &previews.thumbnails {
                out.push(size_index(r.size));
                out.extend_from_slice(&r.width.to_le_bytes());
                out.extend_from_slice(&r.height.to_le_bytes());
                put_bytes(&mut out, &r.webp);
            }
            match &previews.jpeg {
                Some(jpeg) => {
                    out.push(1);
                    put_bytes(&mut out, jpeg);
                }
                None => out.push(0),
            }
        }
        Err(why) => {
            out.push(UNDECODABLE);
            let why = why.to_string();
            let mut end = why.len().min(MAX_REASON_BYTES);
            while !why.is_char_boundary(end) {
                end -= 1;
            }
            put_bytes(&mut out, &why.as_bytes()[..end]);
        }
    }
    out
}

/// Reads a decoder's answer: `Ok(Ok(previews))`, `Ok(Err(reason))` for an image the decoder
/// refused (an outcome for the file), or [`Unreadable`] when the answer is not one.
pub fn decode(bytes: &[u8]) -> Result<Result<Previews, String>, Unreadable> {
    if bytes.len() > MAX_OUTPUT_BYTES {
        return Err(Unreadable("too long"));
    }
    let mut r = Reader(bytes);
    if r.take(MAGIC.len())? != MAGIC {
        return Err(Unreadable("not a previews answer"));
    }
    let answer = match r.byte()? {
        PREVIEWS => {
            let count = usize::from(r.byte()?);
            if count != Size::ALL.len() {
                return Err(Unreadable("not three thumbnails"));
            }
            let mut thumbnails = Vec::with_capacity(count);
            for expected in Size::ALL {
                let size = Size::ALL
                    .get(usize::from(r.byte()?))
                    .copied()
                    .ok_or(Unreadable("unknown size"))?;
                if size != expected {
                    return Err(Unreadable("sizes out of order"));
                }
                let width = r.u32()?;
                let height = r.u32()?;
                if width == 0 || height == 0 || width.max(height) > size.edge() {
                    return Err(Unreadable("a thumbnail of the wrong size"));
                }
                let webp = r.bytes()?.to_vec();
                thumbnails.push(Rendition {
                    size,
                    width,
                    height,
                    webp,
                });
            }
            let jpeg = match r.byte()? {
                0 => None,
                1 => Some(r.bytes()?.to_vec()),
                _ => return Err(Unreadable("bad rendition flag")),
            };
            Ok(Previews { thumbnails, jpeg })
        }
        UNDECODABLE => {
            let why = r.bytes()?;
            if why.len() > MAX_REASON_BYTES {
                return Err(Unreadable("reason too long"));
            }
            Err(String::from_utf8_lossy(why).into_owned())
        }
        _ => return Err(Unreadable("unknown answer")),
    };
    if !r.0.is_empty() {
        return Err(Unreadable("trailing bytes"));
    }
    Ok(answer)
}

fn size_index(size: Size) -> u8 {
    match size {
        Size::Small => 0,
        Size::Medium => 1,
        Size::Large => 2,
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(bytes);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Unreadable> {
        if self.0.len() < n {
            return Err(Unreadable("cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, Unreadable> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Unreadable> {
        let mut four = [0; 4];
        four.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(four))
    }

    fn bytes(&mut self) -> Result<&'a [u8], Unreadable> {
        let n = usize::try_from(self.u32()?).map_err(|_| Unreadable("length too large"))?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thumbnail::Error;
    use proptest::prelude::*;

    fn sample(jpeg: Option<Vec<u8>>) -> Previews {
        Previews {
            thumbnails: vec![
                Rendition {
                    size: Size::Small,
                    width: 200,
                    height: 200,
                    webp: vec![1, 2, 3],
                },
                Rendition {
                    size: Size::Medium,
                    width: 800,
                    height: 600,
                    webp: vec![],
                },
                Rendition {
                    size: Size::Large,
                    width: 1600,
                    height: 1200,
                    webp: vec![9; 1000],
                },
            ],
            jpeg,
        }
    }

    #[test]
    fn previews_and_reasons_round_trip() {
        for jpeg in [None, Some(vec![0xFF, 0xD8, 0xFF])] {
            let previews = sample(jpeg);
            assert_eq!(decode(&encode(&Ok(previews.clone()))), Ok(Ok(previews)));
        }
        let refused = Err(Error::Decode("HEIF: Invalid input".into()));
        assert_eq!(
            decode(&encode(&refused)),
            Ok(Err(
                "not an image that can be decoded: HEIF: Invalid input".into()
            ))
        );
        // A long reason is cut on a character boundary.
        let long = Err(Error::Decode("é".repeat(MAX_REASON_BYTES)));
        let why = decode(&encode(&long)).unwrap().unwrap_err();
        assert!(why.len() <= MAX_REASON_BYTES && why.ends_with('é'), "{why}");
    }

    #[test]
    fn misbehaving_answers_are_unreadable() {
        let good = encode(&Ok(sample(None)));
        assert!(decode(&good[..good.len() - 1]).is_err(), "cut short");
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_err(), "trailing bytes");
        assert!(decode(b"").is_err());
        assert!(decode(b"TPV1\x07").is_err());
        let mut swapped = good.clone();
        swapped[6] = 1; // the first thumbnail says "medium"
        assert!(decode(&swapped).is_err());
        let mut huge = good;
        huge[7..11].copy_from_slice(&100_000u32.to_le_bytes()); // a 100,000 px "small"
        assert!(decode(&huge).is_err());
        let mut lying = b"TPV1\x01".to_vec();
        lying.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&lying).is_err(), "a length past the end");
    }

    proptest! {
        #[test]
        fn random_answers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut answer = MAGIC.to_vec();
            answer.extend_from_slice(&bytes);
            let _ = decode(&answer);
            let _ = decode(&bytes);
        }
    }
}
