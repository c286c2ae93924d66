//! Where blobs live, as the `storage_url` setting names it, and opening a store there.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as BlobPath;

use super::presign::Bucket;
use super::{BlobStore, Kind};
use crate::{Config, Error, Result};

/// The longest `storage_url` accepted.
pub const STORAGE_URL_MAX_CHARS: usize = 2048;

/// A parsed `storage_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageLocation {
    /// `storage/` in the data directory (no `storage_url`).
    DataDir,
    /// A local folder: `file:///absolute/path`.
    Folder(PathBuf),
    /// An S3-compatible bucket, and a prefix inside it (no leading or trailing `/`; may be empty):
    /// `s3://bucket/prefix`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The prefix every blob path is put under.
        prefix: String,
    },
}

impl StorageLocation {
    /// Reads a `storage_url` (unset: the data directory).
    ///
    /// # Errors
    /// A URL that is not `s3://bucket[/prefix]` or `file:///absolute/path`, or is too long.
    pub fn parse(url: Option<&str>) -> Result<StorageLocation> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(StorageLocation::DataDir);
        };
        let bad = |why: &str| Error::Config(format!("storage_url {url:?}: {why}"));
        if url.chars().count() > STORAGE_URL_MAX_CHARS {
            return Err(bad("too long"));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let bucket_ok = (3..=63).contains(&bucket.len())
                && bucket
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if !bucket_ok {
                return Err(bad(
                    "the bucket must be 3 to 63 lower-case letters, digits, '-' or '.'",
                ));
            }
            let prefix = prefix.trim_matches('/');
            let prefix_ok = prefix
                .split('/')
                .all(|part| part.is_empty() && prefix.is_empty() || valid_segment(part));
            if !prefix_ok {
                return Err(bad(
                    "the prefix must be plain names separated by '/' (no '.', '..' or empty parts)",
                ));
            }
            return Ok(StorageLocation::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
        if let Some(path) = url.strip_prefix("file://") {
            let path = Path::new(path);
            if !path.is_absolute() {
                return Err(bad(
                    "a file:// URL needs an absolute path (file:///srv/taina)",
                ));
            }
            return Ok(StorageLocation::Folder(path.to_path_buf()));
        }
        Err(bad(
            "use s3://bucket/prefix for object storage or file:///absolute/path for a folder",
        ))
    }

    /// The location as a URL, with no secret in it (for logs and reports).
    pub fn describe(&self, data_dir: &Path) -> String {
        match self {
            StorageLocation::DataDir => {
                format!("file://{}", data_dir.join("storage").display())
            }
            StorageLocation::Folder(path) => format!("file://{}", path.display()),
            StorageLocation::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            StorageLocation::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }
}

fn valid_segment(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl BlobStore {
    /// Opens the store the configuration names ([`Config::storage_url`]), creating a local folder
    /// if needed. Object storage is not contacted here ([`BlobStore::ping`] does).
    pub fn open(config: &Config, data_dir: &Path) -> Result<BlobStore> {
        match StorageLocation::parse(config.storage_url.as_deref())? {
            StorageLocation::DataDir => BlobStore::open_local(&data_dir.join("storage")),
            StorageLocation::Folder(path) => BlobStore::open_local(&path),
            location @ StorageLocation::S3 { .. } => BlobStore::open_s3(config, location),
        }
    }

    /// Opens (creating if needed) a store in the folder `root`.
    pub fn open_local(root: &Path) -> Result<BlobStore> {
        std::fs::create_dir_all(root)?;
        let store = LocalFileSystem::new_with_prefix(root)?;
        Ok(BlobStore {
            kind: Kind::Local {
                root: root.to_path_buf(),
            },
            store: Arc::new(store),
            url: format!("file://{}", root.display()),
        })
    }

    /// Opens an S3-compatible bucket: credentials, region and endpoint from the configuration, else
    /// from the usual `AWS_*` environment variables.
    fn open_s3(config: &Config, location: StorageLocation) -> Result<BlobStore> {
        let url = location.describe(Path::new(""));
        let StorageLocation::S3 { bucket, prefix } = location else {
            return Err(Error::Config("not an s3:// location".into()));
        };
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .with_virtual_hosted_style_request(config.storage_virtual_hosted);
        if let Some(endpoint) = &config.storage_endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        } else if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            builder = builder.with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &config.storage_region {
            builder = builder.with_region(region);
        }
        if let Some(key) = &config.storage_access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &config.storage_secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let region = builder
            .get_config_value(&AmazonS3ConfigKey::Region)
            .unwrap_or_else(|| "us-east-1".to_owned());
        let mut endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
        // Virtual-host style on a store of one's own: the bucket goes in the endpoint's host
        // (object_store takes such an endpoint as it is), for requests and signed URLs alike.
        if config.storage_virtual_hosted
            && let Some(given) = endpoint.take()
        {
            let (scheme, rest) = given.split_once("://").unwrap_or(("https", given.as_str()));
            let with_bucket = format!("{scheme}://{bucket}.{rest}");
            builder = builder.with_endpoint(&with_bucket);
            endpoint = Some(with_bucket);
        }
        let signing = signing_bucket(
            endpoint.as_deref(),
            &bucket,
            &region,
            config.storage_virtual_hosted,
            &prefix,
        );
        let s3 = Arc::new(
            builder
                .build()
                .map_err(|e| Error::Config(format!("storage_url {url}: {e}")))?,
        );
        let bucket_store: Arc<dyn object_store::ObjectStore> = s3.clone();
        let prefix = BlobPath::from(prefix);
        let store: Arc<dyn object_store::ObjectStore> = if prefix.as_ref().is_empty() {
            bucket_store
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(bucket_store, prefix))
        };
        Ok(BlobStore {
            kind: Kind::S3 {
                s3,
                bucket: signing,
            },
            store,
            url,
        })
    }
}

/// Where URLs for the bucket point: the endpoint (path style: `/bucket` after it; virtual-host
/// style: an endpoint whose host already names the bucket), or AWS's own for the region.
fn signing_bucket(
    endpoint: Option<&str>,
    bucket: &str,
    region: &str,
    virtual_hosted: bool,
    prefix: &str,
) -> Bucket {
    let (scheme, host, path) = match endpoint {
        Some(endpoint) => {
            let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let path = path.trim_end_matches('/');
            let path = if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            };
            (scheme.to_owned(), host.to_owned(), path)
        }
        None if virtual_hosted => (
            "https".to_owned(),
            format!("{bucket}.s3.{region}.amazonaws.com"),
            String::new(),
        ),
        None => (
            "https".to_owned(),
            format!("s3.{region}.amazonaws.com"),
            String::new(),
        ),
    };
    // A virtual-host endpoint already names the bucket in its host.
    let base_path = if virtual_hosted {
        path
    } else {
        format!("{path}/{bucket}")
    };
    Bucket {
        scheme,
        host,
        base_path,
        prefix: if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        },
        region: region.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn storage_urls_name_a_bucket_and_prefix_or_a_folder() {
        assert_eq!(
            StorageLocation::parse(None).unwrap(),
            StorageLocation::DataDir
        );
        assert_eq!(
            StorageLocation::parse(Some("s3://family-photos/taina/main/")).unwrap(),
            StorageLocation::S3 {
                bucket: "family-photos".into(),
                prefix: "taina/main".into()
            }
        );
        assert_eq!(
            StorageLocation::parse(Some("s3://family-photos")).unwrap(),
            StorageLocation::S3 {
                bucket: "family-photos".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            StorageLocation::parse(Some("file:///srv/blobs")).unwrap(),
            StorageLocation::Folder("/srv/blobs".into())
        );
        for bad in [
            "s3://",
            "s3://Upper",
            "s3://b",
            "s3://bucket/../etc",
            "s3://bucket/a//b",
            "file://relative/path",
            "ftp://host/x",
            "/srv/blobs",
        ] {
            assert!(StorageLocation::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn signed_urls_point_where_requests_go() {
        let path_style = signing_bucket(Some("http://127.0.0.1:9000"), "fam", "eu-1", false, "t");
        assert_eq!(
            (
                path_style.host.as_str(),
                path_style.base_path.as_str(),
                path_style.prefix.as_str()
            ),
            ("127.0.0.1:9000", "/fam", "t/")
        );
        let hosted = signing_bucket(Some("https://fam.minio.example"), "fam", "eu-1", true, "");
        assert_eq!(
            (
                hosted.scheme.as_str(),
                hosted.host.as_str(),
                hosted.base_path.as_str()
            ),
            ("https", "fam.minio.example", "")
        );
        let aws = signing_bucket(None, "fam", "eu-west-1", true, "");
        assert_eq!(aws.host, "fam.s3.eu-west-1.amazonaws.com");
        let aws_path = signing_bucket(None, "fam", "eu-west-1", false, "");
        assert_eq!(
            (aws_path.host.as_str(), aws_path.base_path.as_str()),
            ("s3.eu-west-1.amazonaws.com", "/fam")
        );
    }

    proptest! {
        #[test]
        fn a_parsed_prefix_never_climbs_out(url in "s3://[a-z]{3,8}/[a-z./_-]{0,20}") {
            if let Ok(StorageLocation::S3 { prefix, .. }) = StorageLocation::parse(Some(&url)) {
                prop_assert!(!prefix.split('/').any(|p| p == ".." || p == "."));
                prop_assert!(!prefix.starts_with('/') && !prefix.ends_with('/'));
            }
        }
    }
}
