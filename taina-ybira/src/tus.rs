//! The tus 1.0 request headers a client sends, read as pure functions: `Upload-Metadata`,
//! `Upload-Offset` (and `Upload-Length`) and `Upload-Checksum`. The server hands them the header's
//! text and answers 400 with the error's message when one does not parse.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Why a tus header does not parse; its message is what the client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TusHeaderError {
    /// An `Upload-Metadata` value is not base64.
    #[error("Upload-Metadata values must be base64")]
    MetadataNotBase64,
    /// An `Upload-Metadata` value is not UTF-8 once decoded.
    #[error("Upload-Metadata values must be UTF-8")]
    MetadataNotUtf8,
    /// `Upload-Checksum` is not `<algorithm> <base64>`.
    #[error("Upload-Checksum: <algorithm> <base64>")]
    ChecksumShape,
    /// `Upload-Checksum` names an algorithm other than `sha256`.
    #[error("only sha256 checksums are supported")]
    ChecksumAlgorithm,
    /// The checksum is not base64.
    #[error("the checksum must be base64")]
    ChecksumNotBase64,
    /// The checksum does not have the 32 bytes of a SHA-256.
    #[error("a sha256 checksum has 32 bytes")]
    ChecksumLength,
}

/// `Upload-Metadata`: `key base64,key base64,...`; a key alone has the empty value, empty pairs
/// are skipped.
///
/// ```
/// use taina_ybira::tus::parse_upload_metadata;
/// let pairs = parse_upload_metadata("filename b2zDoS50eHQ=, photo").unwrap();
/// assert_eq!(pairs, [("filename".to_owned(), "olá.txt".to_owned()), ("photo".to_owned(), String::new())]);
/// assert!(parse_upload_metadata("filename !!!").is_err());
/// ```
pub fn parse_upload_metadata(raw: &str) -> Result<Vec<(String, String)>, TusHeaderError> {
    raw.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let (key, encoded) = match pair.trim().split_once(' ') {
                Some((key, encoded)) => (key, Some(encoded)),
                None => (pair.trim(), None),
            };
            let value = match encoded {
                Some(encoded) => {
                    let bytes = STANDARD
                        .decode(encoded.trim())
                        .map_err(|_| TusHeaderError::MetadataNotBase64)?;
                    String::from_utf8(bytes).map_err(|_| TusHeaderError::MetadataNotUtf8)?
                }
                None => String::new(),
            };
            Ok((key.to_owned(), value))
        })
        .collect()
}

/// The value `Upload-Metadata` gives `key`: a key alone (the empty value) or a key left out say
/// the same, nothing, so either takes the default.
///
/// ```
/// use taina_ybira::tus::{metadata_value, parse_upload_metadata};
/// let pairs = parse_upload_metadata("on_conflict, filename b2zDoS50eHQ=").unwrap();
/// assert_eq!(metadata_value(&pairs, "on_conflict"), None);
/// assert_eq!(metadata_value(&pairs, "filename"), Some("olá.txt"));
/// assert_eq!(metadata_value(&pairs, "photo"), None);
/// ```
pub fn metadata_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// `Upload-Offset` or `Upload-Length`: a decimal number of bytes, blanks around it allowed.
///
/// ```
/// use taina_ybira::tus::parse_upload_offset;
/// assert_eq!(parse_upload_offset(" 1024 "), Some(1024));
/// assert_eq!(parse_upload_offset("-1"), None);
/// ```
pub fn parse_upload_offset(raw: &str) -> Option<u64> {
    raw.trim().parse().ok()
}

/// `Upload-Checksum: sha256 <base64>`: the piece's SHA-256.
///
/// ```
/// use taina_ybira::tus::{parse_upload_checksum, TusHeaderError};
/// let zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
/// assert_eq!(parse_upload_checksum(&format!("sha256 {zeros}")), Ok([0; 32]));
/// assert_eq!(parse_upload_checksum(&format!("md5 {zeros}")), Err(TusHeaderError::ChecksumAlgorithm));
/// ```
pub fn parse_upload_checksum(raw: &str) -> Result<[u8; 32], TusHeaderError> {
    let (algorithm, value) = raw
        .trim()
        .split_once(' ')
        .ok_or(TusHeaderError::ChecksumShape)?;
    if algorithm != "sha256" {
        return Err(TusHeaderError::ChecksumAlgorithm);
    }
    let bytes = STANDARD
        .decode(value.trim())
        .map_err(|_| TusHeaderError::ChecksumNotBase64)?;
    bytes.try_into().map_err(|_| TusHeaderError::ChecksumLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_keys_without_values_and_skips_empty_pairs() {
        let pairs =
            parse_upload_metadata(" ,filename YS5qcGc=,,photo dHJ1ZQ==, folder_id").unwrap();
        assert_eq!(
            pairs,
            [
                ("filename".to_owned(), "a.jpg".to_owned()),
                ("photo".to_owned(), "true".to_owned()),
                ("folder_id".to_owned(), String::new()),
            ]
        );
        assert_eq!(parse_upload_metadata("").unwrap(), []);
    }

    #[test]
    fn metadata_refuses_bad_values() {
        assert_eq!(
            parse_upload_metadata("filename *"),
            Err(TusHeaderError::MetadataNotBase64)
        );
        // 0xff is not UTF-8.
        assert_eq!(
            parse_upload_metadata("filename /w=="),
            Err(TusHeaderError::MetadataNotUtf8)
        );
    }

    #[test]
    fn checksums_need_sha256_and_32_bytes() {
        assert_eq!(
            parse_upload_checksum("sha256"),
            Err(TusHeaderError::ChecksumShape)
        );
        assert_eq!(
            parse_upload_checksum("sha256 AAAA"),
            Err(TusHeaderError::ChecksumLength)
        );
        assert_eq!(
            parse_upload_checksum("sha256 %%%"),
            Err(TusHeaderError::ChecksumNotBase64)
        );
        let ones = STANDARD.encode([1u8; 32]);
        assert_eq!(
            parse_upload_checksum(&format!(" sha256  {ones} ")),
            Ok([1; 32])
        );
    }
}
