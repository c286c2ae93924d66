//! WebDAV (RFC 4918 class 1 and 2) as far as it is rules and formats: request bodies read within
//! bounds ([`xml`]), request headers ([`headers`]: `Depth`, `Overwrite`, `Timeout`, `If`), the
//! tree's paths ([`path`]), the properties a resource shows ([`props`]) and the `multistatus`
//! answer ([`multistatus`]). The shell resolves
//! paths and stores dead properties and locks; the server speaks HTTP.

pub mod headers;
pub mod litter;
pub mod locks;
pub mod multistatus;
pub mod path;
pub mod props;
pub mod xml;

/// The `DAV:` namespace.
pub const DAV_NS: &str = "DAV:";
/// Largest request body read as XML (PROPFIND, PROPPATCH, LOCK).
pub const BODY_MAX_BYTES: usize = 1024 * 1024;
/// Deepest nesting of elements in a request body.
pub const XML_DEPTH_MAX: usize = 32;
/// Most properties one request names or sets.
pub const PROPS_MAX: usize = 256;
/// Largest value of one dead property, as stored XML.
pub const VALUE_MAX_BYTES: usize = 64 * 1024;
/// Most dead properties one file or folder carries.
pub const DEAD_PROPS_PER_ITEM_MAX: usize = 256;
/// Most bytes of dead property values one file or folder carries, all together.
pub const DEAD_PROPS_BYTES_PER_ITEM_MAX: u64 = 1024 * 1024;
/// Most members one PROPFIND of depth 1 lists (a bigger folder is listed up to this many; the
/// web app and the API page through any size).
pub const LISTING_MAX: usize = 10_000;

/// A property's name: a namespace (empty for none) and a local name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropName {
    /// Its namespace URI.
    pub ns: String,
    /// Its local name.
    pub local: String,
}

impl PropName {
    /// A property name.
    pub fn new(ns: &str, local: &str) -> Self {
        PropName {
            ns: ns.to_owned(),
            local: local.to_owned(),
        }
    }

    /// A property in the `DAV:` namespace.
    pub fn dav(local: &str) -> Self {
        Self::new(DAV_NS, local)
    }

    /// The property's key as stored: `{namespace}local` (Clark notation).
    pub fn key(&self) -> String {
        format!("{{{}}}{}", self.ns, self.local)
    }

    /// Reads a stored key back.
    pub fn from_key(key: &str) -> Option<Self> {
        let rest = key.strip_prefix('{')?;
        let (ns, local) = rest.split_once('}')?;
        (!local.is_empty()).then(|| Self::new(ns, local))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn keys_read_back(ns in "[^}]{0,40}", local in "[A-Za-z_][A-Za-z0-9_.-]{0,20}") {
            let name = PropName::new(&ns, &local);
            prop_assert_eq!(PropName::from_key(&name.key()), Some(name));
        }
    }
}
