//! The tree WebDAV shows a person, as paths: three roots — their own files, the community's
//! space, and what others shared with them — and names below, percent-encoded in URLs.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Longest request path read, in bytes.
pub const PATH_MAX_BYTES: usize = 8 * 1024;
/// Most names in a path below a root.
pub const DEPTH_MAX: usize = 64;

/// A root of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    /// The person's own files (private space).
    MyFiles,
    /// The community's shared space.
    Community,
    /// Files and folders others shared with the person, by name.
    SharedWithMe,
}

impl Root {
    /// Every root, in the order listings show them.
    pub const ALL: [Root; 3] = [Root::MyFiles, Root::Community, Root::SharedWithMe];

    /// Its name in paths.
    pub fn name(self) -> &'static str {
        match self {
            Root::MyFiles => "My files",
            Root::Community => "Community",
            Root::SharedWithMe => "Shared with me",
        }
    }

    fn from_name(name: &str) -> Option<Root> {
        Root::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name))
    }
}

/// A path in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavPath {
    /// The root it is under (`None`: the top, which lists the roots).
    pub root: Option<Root>,
    /// The names below the root.
    pub names: Vec<String>,
}

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Not under the tree's prefix (e.g. a `Destination` elsewhere).
    #[error("the path is not under this WebDAV tree")]
    Outside,
    /// Not a path Tainá reads: bad escapes, `.` or `..`, too long or too deep.
    #[error("the path is not valid: {0}")]
    Invalid(&'static str),
    /// No such root.
    #[error("no such folder")]
    NoRoot,
}

impl DavPath {
    /// The top of the tree.
    pub fn top() -> Self {
        DavPath {
            root: None,
            names: Vec::new(),
        }
    }

    /// Reads a request path (already without query) under `prefix` (`/dav/`).
    pub fn parse(prefix: &str, path: &str) -> Result<Self, PathError> {
        if path.len() > PATH_MAX_BYTES {
            return Err(PathError::Invalid("too long"));
        }
        let rest = match path.strip_prefix(prefix) {
            Some(rest) => rest,
            None if format!("{path}/") == prefix => "",
            None => return Err(PathError::Outside),
        };
        let mut segments = Vec::new();
        for raw in rest.split('/').filter(|s| !s.is_empty()) {
            let decoded = percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| PathError::Invalid("not UTF-8"))?;
            if decoded == "." || decoded == ".." {
                return Err(PathError::Invalid("no . or .. in paths"));
            }
            if decoded.contains('/') || decoded.contains('\0') {
                return Err(PathError::Invalid("a name may not hold / or NUL"));
            }
            segments.push(decoded.into_owned());
        }
        if segments.len() > DEPTH_MAX + 1 {
            return Err(PathError::Invalid("too deep"));
        }
        let mut segments = segments.into_iter();
        let Some(first) = segments.next() else {
            return Ok(Self::top());
        };
        let root = Root::from_name(&first).ok_or(PathError::NoRoot)?;
        Ok(DavPath {
            root: Some(root),
            names: segments.collect(),
        })
    }

    /// Reads a `Destination` header: an absolute URL (its host is not ours to judge here) or an
    /// absolute path, under `prefix`.
    pub fn parse_destination(prefix: &str, value: &str) -> Result<Self, PathError> {
        let path = match value.find("://") {
            Some(scheme_end) => {
                let after = &value[scheme_end + 3..];
                after.find('/').map_or("/", |slash| &after[slash..])
            }
            None => value,
        };
        let path = path.split(['?', '#']).next().unwrap_or(path);
        Self::parse(prefix, path)
    }

    /// The path of a member named `name`.
    pub fn child(&self, name: &str) -> Self {
        let mut names = self.names.clone();
        names.push(name.to_owned());
        DavPath {
            root: self.root,
            names,
        }
    }

    /// The parent path and the last name (`None` for the top and the roots).
    pub fn split_last(&self) -> Option<(DavPath, &str)> {
        let (last, parent) = self.names.split_last()?;
        Some((
            DavPath {
                root: self.root,
                names: parent.to_vec(),
            },
            last.as_str(),
        ))
    }

    /// Whether `self` is `other` or below it.
    pub fn is_within(&self, other: &DavPath, same: impl Fn(&str, &str) -> bool) -> bool {
        if other.root.is_some() && self.root != other.root {
            return false;
        }
        other.names.len() <= self.names.len()
            && other.names.iter().zip(&self.names).all(|(a, b)| same(a, b))
    }

    /// The URL path under `prefix`, percent-encoded, with a trailing `/` for collections.
    pub fn href(&self, prefix: &str, collection: bool) -> String {
        let mut out = prefix.to_owned();
        let names = self
            .root
            .map(Root::name)
            .into_iter()
            .chain(self.names.iter().map(String::as_str));
        let mut any = false;
        for (i, name) in names.enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.extend(utf8_percent_encode(name, SEGMENT));
            any = true;
        }
        if any && collection {
            out.push('/');
        }
        out
    }
}

/// What is escaped in a path segment: controls, space and every character with a meaning in
/// URLs or XML.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'\'')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'+')
    .add(b';')
    .add(b'=');

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const P: &str = "/dav/";

    #[test]
    fn paths_read() {
        assert_eq!(DavPath::parse(P, "/dav/").unwrap(), DavPath::top());
        assert_eq!(DavPath::parse(P, "/dav").unwrap(), DavPath::top());
        let p = DavPath::parse(P, "/dav/My%20files/f%C3%A9rias/a%2Bb.txt").unwrap();
        assert_eq!(p.root, Some(Root::MyFiles));
        assert_eq!(p.names, ["férias", "a+b.txt"]);
        assert_eq!(p.href(P, false), "/dav/My%20files/f%C3%A9rias/a%2Bb.txt");
        assert_eq!(
            DavPath::parse(P, "/dav/community//x/").unwrap().names,
            ["x"]
        );
        assert_eq!(DavPath::parse(P, "/dav/Nope"), Err(PathError::NoRoot));
        assert!(DavPath::parse(P, "/dav/Community/../x").is_err());
        assert!(DavPath::parse(P, "/dav/Community/%2e%2e").is_err());
        assert!(DavPath::parse(P, "/dav/Community/a%2Fb").is_err());
        assert!(DavPath::parse(P, "/dav/Community/%ff").is_err());
        assert_eq!(DavPath::parse(P, "/api/x"), Err(PathError::Outside));
        let d = DavPath::parse_destination(P, "http://h:8080/dav/Community/b?x=1").unwrap();
        assert_eq!(d.names, ["b"]);
        assert_eq!(DavPath::top().href(P, true), "/dav/");
    }

    proptest! {
        #[test]
        fn hrefs_read_back(names in proptest::collection::vec("[^/\u{0}]{1,20}", 0..5)) {
            prop_assume!(names.iter().all(|n| n != "." && n != ".."));
            let path = DavPath { root: Some(Root::Community), names };
            prop_assert_eq!(DavPath::parse(P, &path.href(P, true)).unwrap(), path.clone());
            prop_assert_eq!(DavPath::parse(P, &path.href(P, false)).unwrap(), path);
        }

        #[test]
        fn any_path_is_answered(path in ".{0,200}") {
            let _ = DavPath::parse(P, &path);
            let _ = DavPath::parse_destination(P, &path);
        }
    }
}
