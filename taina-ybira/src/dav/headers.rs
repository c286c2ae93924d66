//! WebDAV request headers: `Depth`, `Overwrite` and `If` (RFC 4918 §10).

/// A `Depth` header's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// The resource only.
    Zero,
    /// The resource and its members.
    One,
    /// The resource and everything below it.
    Infinity,
}

/// Reads a `Depth` header (`None`: absent). Anything but `0`, `1` or `infinity` is refused.
pub fn parse_depth(value: Option<&str>) -> Result<Option<Depth>, &'static str> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("0") => Ok(Some(Depth::Zero)),
        Some("1") => Ok(Some(Depth::One)),
        Some(v) if v.eq_ignore_ascii_case("infinity") => Ok(Some(Depth::Infinity)),
        Some(_) => Err("Depth must be 0, 1 or infinity"),
    }
}

/// Reads an `Overwrite` header: `T` (the default) or `F`.
pub fn parse_overwrite(value: Option<&str>) -> Result<bool, &'static str> {
    match value.map(str::trim) {
        None => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("t") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("f") => Ok(false),
        Some(_) => Err("Overwrite must be T or F"),
    }
}

/// The latest file time taken from a client: the last second of year 9999.
pub const CLIENT_TIME_MAX_SECS: i64 = 253_402_300_799;

/// Reads `X-OC-Mtime` (the file's time on the client, in whole seconds since 1970, as Nextcloud's
/// clients send it). `None`: not a time that can be kept.
pub fn parse_client_mtime(value: &str) -> Option<taina_core::Timestamp> {
    let secs: i64 = value.trim().parse().ok()?;
    (1..=CLIENT_TIME_MAX_SECS)
        .contains(&secs)
        .then(|| taina_core::Timestamp::from_millis(secs * 1000))
}

/// Longest `If` header read.
pub const IF_MAX_BYTES: usize = 8 * 1024;

/// One condition of an `If` header's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A state token (a lock token, `<urn:uuid:...>`), possibly negated.
    Token {
        /// The token, without its angle brackets.
        token: String,
        /// Whether it is `Not`.
        not: bool,
    },
    /// An entity tag (`["..."]`), possibly negated.
    ETag {
        /// The tag with its quotes (and `W/` if weak).
        etag: String,
        /// Whether it is `Not`.
        not: bool,
    },
}

/// A list of conditions, all of which must hold, for the request's resource or a tagged one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfList {
    /// The resource it is about (the tag's URL), or `None` for the request's own resource.
    pub resource: Option<String>,
    /// Its conditions.
    pub conditions: Vec<Condition>,
}

/// An `If` header: it holds when any of its lists holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfHeader {
    /// Its lists.
    pub lists: Vec<IfList>,
}

/// What a condition is checked against: a resource's current entity tag and the lock tokens
/// that cover it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceState {
    /// Its entity tag (`None`: it has none, or it does not exist).
    pub etag: Option<String>,
    /// The tokens of the locks that cover it.
    pub lock_tokens: Vec<String>,
}

impl IfHeader {
    /// Every state token the header names (the lock tokens it submits, RFC 4918 §10.4.1).
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.lists
            .iter()
            .flat_map(|l| l.conditions.iter())
            .filter_map(|c| match c {
                Condition::Token { token, .. } => Some(token.as_str()),
                Condition::ETag { .. } => None,
            })
    }

    /// Whether the header holds, given each resource's state (`None`: the request's resource;
    /// `Some(url)`: a tagged one).
    pub fn holds(&self, mut state_of: impl FnMut(Option<&str>) -> ResourceState) -> bool {
        self.lists.iter().any(|list| {
            let state = state_of(list.resource.as_deref());
            list.conditions.iter().all(|c| match c {
                Condition::Token { token, not } => {
                    state.lock_tokens.iter().any(|t| t == token) != *not
                }
                Condition::ETag { etag, not } => {
                    let same = state
                        .etag
                        .as_deref()
                        .is_some_and(|current| strip_weak(current) == strip_weak(etag));
                    same != *not
                }
            })
        })
    }
}

fn strip_weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// Reads an `If` header (RFC 4918 §10.4). A header that does not parse is refused (400).
pub fn parse_if(value: &str) -> Result<IfHeader, &'static str> {
    const BAD: &str = "the If header does not parse";
    if value.len() > IF_MAX_BYTES {
        return Err("the If header is too long");
    }
    let mut rest = value.trim_start();
    let mut lists = Vec::new();
    let mut resource: Option<String> = None;
    let mut tagged = None;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            // A resource tag: it applies to the lists that follow.
            if tagged == Some(false) {
                return Err(BAD);
            }
            tagged = Some(true);
            let end = after.find('>').ok_or(BAD)?;
            resource = Some(after[..end].to_owned());
            rest = after[end + 1..].trim_start();
            if !rest.starts_with('(') {
                return Err(BAD);
            }
            continue;
        }
        let after = rest.strip_prefix('(').ok_or(BAD)?;
        if tagged.is_none() {
            tagged = Some(false);
        }
        let end = after.find(')').ok_or(BAD)?;
        let conditions = parse_conditions(&after[..end]).ok_or(BAD)?;
        lists.push(IfList {
            resource: resource.clone(),
            conditions,
        });
        rest = after[end + 1..].trim_start();
    }
    if lists.is_empty() {
        return Err(BAD);
    }
    Ok(IfHeader { lists })
}

fn parse_conditions(mut text: &str) -> Option<Vec<Condition>> {
    let mut out = Vec::new();
    loop {
        text = text.trim_start();
        if text.is_empty() {
            break;
        }
        let not = match text.get(..3) {
            Some(word) if word.eq_ignore_ascii_case("not") => {
                text = text[3..].trim_start();
                true
            }
            _ => false,
        };
        if let Some(after) = text.strip_prefix('<') {
            let end = after.find('>')?;
            let token = &after[..end];
            if token.is_empty() {
                return None;
            }
            out.push(Condition::Token {
                token: token.to_owned(),
                not,
            });
            text = &after[end + 1..];
        } else if let Some(after) = text.strip_prefix('[') {
            let end = after.find(']')?;
            let etag = after[..end].trim();
            if etag.is_empty() {
                return None;
            }
            out.push(Condition::ETag {
                etag: etag.to_owned(),
                not,
            });
            text = &after[end + 1..];
        } else {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn client_times() {
        assert_eq!(
            parse_client_mtime(" 1796683132 "),
            Some(taina_core::Timestamp::from_millis(1_796_683_132_000))
        );
        for bad in ["", "-5", "0", "1.5", "99999999999999999999", "abc"] {
            assert_eq!(parse_client_mtime(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn depth_and_overwrite() {
        assert_eq!(parse_depth(None), Ok(None));
        assert_eq!(parse_depth(Some("0")), Ok(Some(Depth::Zero)));
        assert_eq!(parse_depth(Some("Infinity")), Ok(Some(Depth::Infinity)));
        assert!(parse_depth(Some("2")).is_err());
        assert_eq!(parse_overwrite(None), Ok(true));
        assert_eq!(parse_overwrite(Some("F")), Ok(false));
        assert!(parse_overwrite(Some("maybe")).is_err());
    }

    #[test]
    fn if_headers_parse_and_hold() {
        let h = parse_if(
            r#"(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> ["I am an ETag"]) (Not <DAV:no-lock> ["I am another ETag"])"#,
        )
        .unwrap();
        assert_eq!(h.lists.len(), 2);
        assert_eq!(
            h.tokens().collect::<Vec<_>>(),
            [
                "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2",
                "DAV:no-lock"
            ]
        );
        let state = |etag: &str| ResourceState {
            etag: Some(etag.to_owned()),
            lock_tokens: vec![],
        };
        // The second list holds for a resource with the other tag and no lock.
        assert!(h.holds(|_| state("\"I am another ETag\"")));
        assert!(!h.holds(|_| state("\"something else\"")));

        let tagged = parse_if(r#"<http://x/a> (["1"]) <http://x/b> (Not ["2"])"#).unwrap();
        assert_eq!(tagged.lists[1].resource.as_deref(), Some("http://x/b"));
        assert!(tagged.holds(|r| match r {
            Some("http://x/a") => state("\"9\""),
            _ => state("\"3\""),
        }));
        for bad in [
            "",
            "()",
            "(<>)",
            "([])",
            "<http://x/a>",
            "(foo)",
            "(<a>) <http://x> (<b>)",
        ] {
            assert!(parse_if(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_if_header_is_answered(value in ".{0,200}") {
            if let Ok(h) = parse_if(&value) {
                prop_assert!(!h.lists.is_empty());
                prop_assert!(h.lists.iter().all(|l| !l.conditions.is_empty()));
            }
        }

        #[test]
        fn tokens_written_are_read(tokens in proptest::collection::vec("urn:uuid:[0-9a-f-]{8,36}", 1..5), not in any::<bool>()) {
            let list: Vec<String> = tokens.iter().map(|t| format!("{}<{t}>", if not { "Not " } else { "" })).collect();
            let h = parse_if(&format!("({})", list.join(" "))).unwrap();
            prop_assert_eq!(h.tokens().collect::<Vec<_>>(), tokens.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}
