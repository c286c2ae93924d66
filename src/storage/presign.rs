//! Presigned downloads: a short-lived URL that reads one object straight from the bucket, so that
//! a large download's bytes go from the store to the client without passing through Tainá.
//!
//! Signed here (AWS Signature Version 4, query-string form) rather than with `object_store`'s
//! `Signer`: that one cannot add the `response-content-disposition` and `response-content-type`
//! parameters, without which the client would save the file under its storage name with the
//! store's idea of its type. The signing follows AWS's published algorithm and is checked against
//! AWS's own worked example.

use std::time::Duration;

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use taina_core::Timestamp;

use super::{BlobStore, Kind};
use crate::Result;

/// What SigV4 leaves unencoded: `A-Z a-z 0-9 - . _ ~`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where a bucket is reached, and as whom: what signing a URL needs.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    /// `https` or `http`.
    pub scheme: String,
    /// The host (with its port, if not the scheme's own) requests go to.
    pub host: String,
    /// The path before the object's key: `/bucket` (path style) or empty (virtual-host style).
    pub base_path: String,
    /// The prefix every blob path goes under (empty, or ending in `/`).
    pub prefix: String,
    /// The region signed for.
    pub region: String,
}

impl BlobStore {
    /// A URL, valid for `valid_for` from `now`, that downloads the blob at `path` straight from
    /// object storage, answered with `disposition` and `content_type`; `None` on local storage.
    pub async fn presigned_download(
        &self,
        path: &str,
        now: Timestamp,
        valid_for: Duration,
        disposition: &str,
        content_type: &str,
    ) -> Result<Option<String>> {
        let Kind::S3 { s3, bucket } = &self.kind else {
            return Ok(None);
        };
        let credential = s3.credentials().get_credential().await?;
        let key = format!("{}{path}", bucket.prefix);
        Ok(Some(presign(
            bucket,
            &key,
            &Credential {
                key_id: &credential.key_id,
                secret: &credential.secret_key,
                token: credential.token.as_deref(),
            },
            now,
            valid_for,
            &[
                ("response-content-disposition", disposition),
                ("response-content-type", content_type),
            ],
        )))
    }
}

/// Who signs.
struct Credential<'a> {
    key_id: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
}

/// A presigned GET of `key` (SigV4, query string, unsigned payload), with `extra` query
/// parameters signed in.
fn presign(
    bucket: &Bucket,
    key: &str,
    credential: &Credential<'_>,
    now: Timestamp,
    valid_for: Duration,
    extra: &[(&str, &str)],
) -> String {
    let stamp: String = now
        .to_rfc3339()
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let amz_date = format!("{stamp}Z");
    let date = &stamp[..8.min(stamp.len())];
    let scope = format!("{date}/{}/s3/aws4_request", bucket.region);
    let uri: String = format!(
        "{}/{}",
        bucket.base_path,
        key.split('/')
            .map(|segment| utf8_percent_encode(segment, UNRESERVED).to_string())
            .collect::<Vec<_>>()
            .join("/")
    );
    let mut query: Vec<(String, String)> = vec![
        ("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()),
        (
            "X-Amz-Credential".into(),
            format!("{}/{scope}", credential.key_id),
        ),
        ("X-Amz-Date".into(), amz_date.clone()),
        ("X-Amz-Expires".into(), valid_for.as_secs().to_string()),
        ("X-Amz-SignedHeaders".into(), "host".into()),
    ];
    if let Some(token) = credential.token {
        query.push(("X-Amz-Security-Token".into(), token.into()));
    }
    query.extend(extra.iter().map(|(k, v)| ((*k).into(), (*v).into())));
    let mut encoded: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| {
            (
                utf8_percent_encode(k, UNRESERVED).to_string(),
                utf8_percent_encode(v, UNRESERVED).to_string(),
            )
        })
        .collect();
    encoded.sort();
    let canonical_query = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request = format!(
        "GET\n{uri}\n{canonical_query}\nhost:{}\n\nhost\nUNSIGNED-PAYLOAD",
        bucket.host
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", credential.secret).as_bytes(),
        date.as_bytes(),
    );
    for part in [bucket.region.as_str(), "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    format!(
        "{}://{}{uri}?{canonical_query}&X-Amz-Signature={signature}",
        bucket.scheme, bucket.host
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's worked example of a presigned URL ("Authenticating Requests: Using Query Parameters
    /// (AWS Signature Version 4)", Amazon S3 API Reference): the same inputs give its signature.
    #[test]
    fn signs_as_aws_documents() {
        let bucket = Bucket {
            scheme: "https".into(),
            host: "examplebucket.s3.amazonaws.com".into(),
            base_path: String::new(),
            prefix: String::new(),
            region: "us-east-1".into(),
        };
        let url = presign(
            &bucket,
            "test.txt",
            &Credential {
                key_id: "AKIAIOSFODNN7EXAMPLE",
                secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                token: None,
            },
            Timestamp::parse_rfc3339("2013-05-24T00:00:00Z").unwrap(),
            Duration::from_secs(86_400),
            &[],
        );
        assert_eq!(
            url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn keys_and_parameters_are_encoded_once() {
        let bucket = Bucket {
            scheme: "http".into(),
            host: "127.0.0.1:9000".into(),
            base_path: "/family".into(),
            prefix: "taina/".into(),
            region: "us-east-1".into(),
        };
        let url = presign(
            &bucket,
            "taina/communities/c/files/a b.jpg",
            &Credential {
                key_id: "k",
                secret: "s",
                token: Some("t/1"),
            },
            Timestamp::from_millis(0),
            Duration::from_secs(300),
            &[(
                "response-content-disposition",
                "attachment; filename*=UTF-8''ma%C3%A7%C3%A3.jpg",
            )],
        );
        assert!(
            url.starts_with("http://127.0.0.1:9000/family/taina/communities/c/files/a%20b.jpg?"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Security-Token=t%2F1"), "{url}");
        assert!(
            url.contains("response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27ma%25C3%25A7%25C3%25A3.jpg"),
            "{url}"
        );
    }
}
