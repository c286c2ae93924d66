//! The live properties a file or folder shows over WebDAV (RFC 4918 §15, RFC 4331 quotas, and the
//! Windows `Win32*` attributes its mini-redirector asks for), written as XML values.

use sha2::{Digest, Sha256};
use taina_core::{Actor, Timestamp};

use super::{DAV_NS, PropName};
use crate::access::{ItemAction, ItemFacts, authorize_item};
use crate::dav::xml::escape;

/// The namespace of Windows' file attributes.
pub const WIN32_NS: &str = "urn:schemas-microsoft-com:";
/// ownCloud's namespace, which Nextcloud's clients ask in (`oc:fileid`, `oc:permissions`, ...).
pub const OC_NS: &str = "http://owncloud.org/ns";
/// Nextcloud's own namespace (`nc:has-preview`, `nc:is-encrypted`, ...).
pub const NC_NS: &str = "http://nextcloud.org/ns";

/// What a resource shows, whatever it is (a root, a folder, a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The name shown (`displayname`).
    pub name: String,
    /// Whether it is a collection.
    pub collection: bool,
    /// Its size in bytes (files).
    pub size: u64,
    /// Its content type (files).
    pub mime_type: Option<String>,
    /// Its entity tag (files).
    pub etag: Option<String>,
    /// When it was made.
    pub created: Timestamp,
    /// When it last changed.
    pub modified: Timestamp,
    /// The quota as this person may see it (collections).
    pub quota: Option<QuotaShown>,
    /// Its id (files and folders; not the roots).
    pub id: Option<String>,
    /// What the person may do with it, in Nextcloud's letters ([`oc_permissions`]).
    pub permissions: Option<String>,
    /// Bytes in it (a folder: everything in it), for `oc:size`.
    pub total_size: u64,
}

/// A folder's (or a root's) entity tag: it changes whenever anything in it changes (an item
/// added, removed, renamed, moved or given new content), which is how sync clients know where to
/// look. From the live items below it: how many, the latest change, the sum of their revisions
/// and of their sizes.
pub fn collection_etag(count: i64, latest_change: i64, revisions: i64, bytes: i64) -> String {
    let digest = Sha256::digest(format!("{count}:{latest_change}:{revisions}:{bytes}"));
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"d-{hex}\"")
}

/// The entity tag of a collection made of others (the top of the tree, "Shared with me"), from
/// its members' names and tags.
pub fn combined_etag(members: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, etag) in members {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(etag.as_bytes());
        hasher.update([0]);
    }
    let hex: String = hasher.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"c-{hex}\"")
}

/// What `actor` may do at a root of the tree, in the same letters: add files and folders to their
/// own files and (but for guests) the community's, nothing but read elsewhere.
pub fn root_permissions(actor: &Actor, root: super::path::Root) -> &'static str {
    use super::path::Root;
    let space = match root {
        Root::MyFiles => crate::access::Space::Private(actor.user_id.clone()),
        Root::Community => crate::access::Space::Shared,
        Root::SharedWithMe => return "G",
    };
    if crate::access::authorize_root(actor, &space).is_ok() {
        "GCK"
    } else {
        "G"
    }
}

/// What `actor` may do with an item, in the letters Nextcloud's clients read: `G` read, `W` write
/// (files), `C`/`K` add files/folders (folders), `D`/`N`/`V` delete/rename/move, `R` share. The
/// same rule as every other call ([`authorize_item`]).
pub fn oc_permissions(actor: &Actor, facts: ItemFacts<'_>, collection: bool) -> String {
    let may = |action| authorize_item(actor, action, facts).is_ok();
    let mut out = String::new();
    if may(ItemAction::Share) {
        out.push('R');
    }
    if may(ItemAction::Read) {
        out.push('G');
    }
    if may(ItemAction::Modify) {
        out.push_str("DNV");
    }
    if collection {
        if may(ItemAction::AddChild) {
            out.push_str("CK");
        }
    } else if may(ItemAction::WriteContent) {
        out.push('W');
    }
    out
}

/// Quota figures as shown to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaShown {
    /// Bytes used.
    pub used: u64,
    /// Bytes still available.
    pub available: u64,
}

/// How coarsely members (not admins) see the community's use: to this many bytes at least, or a
/// hundredth of the quota. With deduplication, exact use would tell whether a file someone
/// uploads was already stored by anyone (the API shows use to admins only, for the same reason).
pub const MEMBER_QUOTA_STEP_BYTES: u64 = 256 * 1024 * 1024;

/// The quota figures a person sees: exact for admins; for members, use rounded up to a coarse
/// step, and at most the quota.
pub fn quota_shown(quota: u64, used: u64, admin: bool) -> QuotaShown {
    let used = if admin {
        used
    } else {
        let step = (quota / 100).max(MEMBER_QUOTA_STEP_BYTES);
        // Never more than the quota: past it, members see it full.
        used.div_ceil(step).saturating_mul(step).min(quota)
    };
    QuotaShown {
        used,
        available: quota.saturating_sub(used),
    }
}

/// The live properties `allprop` shows, in order.
pub fn allprop_names(collection: bool) -> Vec<PropName> {
    let mut names: Vec<PropName> = [
        "resourcetype",
        "displayname",
        "creationdate",
        "getlastmodified",
        "supportedlock",
        "lockdiscovery",
    ]
    .into_iter()
    .map(PropName::dav)
    .collect();
    names.push(PropName::dav("getetag"));
    if !collection {
        names.extend(
            ["getcontentlength", "getcontenttype"]
                .into_iter()
                .map(PropName::dav),
        );
    }
    names
}

/// Every live property a resource has (for `propname`, and to tell live from dead): what
/// `allprop` shows plus the quota and Windows attributes, which are shown only when asked for.
pub fn live_names(collection: bool) -> Vec<PropName> {
    let mut names = allprop_names(collection);
    if collection {
        names.push(PropName::dav("quota-available-bytes"));
        names.push(PropName::dav("quota-used-bytes"));
    }
    for local in ["fileid", "id", "permissions", "size", "checksums"] {
        names.push(PropName::new(OC_NS, local));
    }
    for local in ["has-preview", "is-encrypted"] {
        names.push(PropName::new(NC_NS, local));
    }
    for local in [
        "Win32CreationTime",
        "Win32LastAccessTime",
        "Win32LastModifiedTime",
        "Win32FileAttributes",
    ] {
        names.push(PropName::new(WIN32_NS, local));
    }
    names
}

/// Whether a property is live (computed by Tainá, never stored as a dead property). Windows'
/// `Win32*` attributes are shown computed but may be set: Explorer sets them after every upload
/// and takes a refusal for a failed copy, so what it sets is kept (and shown instead).
pub fn is_live(name: &PropName) -> bool {
    name.ns != WIN32_NS && (live_names(true).contains(name) || live_names(false).contains(name))
}

/// A live property's value as XML content, or `None` when the resource does not have it.
/// `lockdiscovery` is the caller's (it needs the locks).
pub fn live_value(resource: &Resource, name: &PropName) -> Option<String> {
    let file = !resource.collection;
    if name.ns == WIN32_NS {
        return match name.local.as_str() {
            "Win32CreationTime" => Some(http_date(resource.created)),
            "Win32LastAccessTime" | "Win32LastModifiedTime" => Some(http_date(resource.modified)),
            // FILE_ATTRIBUTE_DIRECTORY (0x10) or FILE_ATTRIBUTE_ARCHIVE (0x20).
            "Win32FileAttributes" => Some(if file { "00000020" } else { "00000010" }.to_owned()),
            _ => None,
        };
    }
    if name.ns == OC_NS {
        return match name.local.as_str() {
            "fileid" | "id" => resource.id.clone(),
            "permissions" => resource.permissions.clone(),
            "size" => Some(resource.total_size.to_string()),
            "checksums" if file => resource.etag.as_deref().map(|etag| {
                format!(
                    "<checksum xmlns=\"{OC_NS}\">SHA256:{}</checksum>",
                    etag.trim_matches('"')
                )
            }),
            _ => None,
        };
    }
    if name.ns == NC_NS {
        return match name.local.as_str() {
            "has-preview" | "is-encrypted" => Some("0".to_owned()),
            _ => None,
        };
    }
    if name.ns != DAV_NS {
        return None;
    }
    match name.local.as_str() {
        "resourcetype" => Some(if file { String::new() } else { "<D:collection/>".to_owned() }),
        "displayname" => Some(escape(&resource.name)),
        "creationdate" => Some(resource.created.to_rfc3339()),
        "getlastmodified" => Some(http_date(resource.modified)),
        "supportedlock" => Some(
            "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>\
             <D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>"
                .to_owned(),
        ),
        "getcontentlength" if file => Some(resource.size.to_string()),
        "getcontenttype" if file => Some(escape(
            resource.mime_type.as_deref().unwrap_or("application/octet-stream"),
        )),
        "getetag" => resource.etag.as_deref().map(escape),
        "quota-available-bytes" if !file => resource.quota.map(|q| q.available.to_string()),
        "quota-used-bytes" if !file => resource.quota.map(|q| q.used.to_string()),
        _ => None,
    }
}

/// A time as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(t: Timestamp) -> String {
    let secs = u64::try_from(t.as_millis().max(0) / 1000).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn file() -> Resource {
        Resource {
            name: "a & b.txt".into(),
            collection: false,
            size: 5,
            mime_type: Some("text/plain".into()),
            etag: Some("\"abc\"".into()),
            created: Timestamp::from_millis(0),
            modified: Timestamp::from_millis(784_111_777_000),
            quota: None,
            id: Some("abc".into()),
            permissions: Some("GDNVW".into()),
            total_size: 5,
        }
    }

    #[test]
    fn live_values() {
        let f = file();
        assert_eq!(
            live_value(&f, &PropName::dav("displayname")).unwrap(),
            "a &amp; b.txt"
        );
        assert_eq!(
            live_value(&f, &PropName::dav("getlastmodified")).unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            live_value(&f, &PropName::dav("getcontentlength")).unwrap(),
            "5"
        );
        assert_eq!(live_value(&f, &PropName::dav("resourcetype")).unwrap(), "");
        assert_eq!(live_value(&f, &PropName::dav("quota-used-bytes")), None);
        assert_eq!(live_value(&f, &PropName::new("urn:x", "y")), None);
        assert!(is_live(&PropName::dav("getetag")));
        assert_eq!(
            live_value(&f, &PropName::new(OC_NS, "checksums")).unwrap(),
            format!("<checksum xmlns=\"{OC_NS}\">SHA256:abc</checksum>")
        );
        assert_eq!(
            live_value(&f, &PropName::new(OC_NS, "permissions")).unwrap(),
            "GDNVW"
        );
        assert_ne!(collection_etag(1, 2, 3, 4), collection_etag(1, 2, 3, 5));
        assert_ne!(collection_etag(2, 2, 3, 4), collection_etag(1, 2, 3, 4));
        assert!(!is_live(&PropName::new("urn:x", "getetag")));
    }

    proptest! {
        #[test]
        fn members_see_use_rounded_up_admins_exactly(quota in 0u64..(1 << 44), used in 0u64..(1 << 44)) {
            let admin = quota_shown(quota, used, true);
            prop_assert_eq!(admin.used, used);
            let member = quota_shown(quota, used, false);
            prop_assert!(member.used >= used.min(quota));
            prop_assert!(member.used <= quota);
            prop_assert_eq!(member.available, quota.saturating_sub(member.used));
            // Two uses within one step look the same to a member.
            let step = (quota / 100).max(MEMBER_QUOTA_STEP_BYTES);
            let same_step = (used / step) * step + 1;
            if used % step != 0 && same_step <= used {
                prop_assert_eq!(quota_shown(quota, same_step, false), member);
            }
        }
    }
}
