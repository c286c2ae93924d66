//! WebDAV request bodies (RFC 4918 §14): `propfind`, `propertyupdate` and `lockinfo`, read with
//! `quick-xml` within bounds — the body's size, nesting depth and property count are limited, and
//! a document type declaration (where entities would be defined) is refused outright, so no
//! entity can expand and no external resource is fetched.

mod walk;

use super::{BODY_MAX_BYTES, PROPS_MAX, PropName};
use walk::Doc;

/// Why a request body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Larger than [`BODY_MAX_BYTES`].
    #[error("the request body is larger than {BODY_MAX_BYTES} bytes")]
    TooLarge,
    /// Not well-formed XML, or not the element the method takes.
    #[error("the request body is not a valid {0} document")]
    Invalid(&'static str),
    /// A limit on nesting, property count or value size was passed.
    #[error("the request body passes a limit: {0}")]
    Limit(&'static str),
}

/// What a PROPFIND asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Propfind {
    /// Every live property we define plus every dead one (also an empty body).
    AllProp,
    /// The names of all properties, without values.
    PropName,
    /// These properties.
    Prop(Vec<PropName>),
}

/// One instruction of a PROPPATCH, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchOp {
    /// Set a property to a value (its content, as self-contained XML).
    Set(PropName, String),
    /// Remove a property.
    Remove(PropName),
}

/// A LOCK request's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// Exclusive (`false`) or shared (`true`).
    pub shared: bool,
    /// The client's `owner` element, as self-contained XML (shown back in lock discovery).
    pub owner: Option<String>,
}

/// Reads a PROPFIND body; an empty body is `allprop` (RFC 4918 §9.1).
pub fn parse_propfind(body: &[u8]) -> Result<Propfind, XmlError> {
    const WHAT: &str = "propfind";
    if is_blank(body) {
        return Ok(Propfind::AllProp);
    }
    let mut doc = Doc::new(body, WHAT)?;
    doc.expect_root(b"propfind")?;
    let mut found = None;
    while let Some(child) = doc.next_child()? {
        match (child.dav, child.local.as_str()) {
            (true, "allprop") => {
                doc.skip()?;
                found = Some(Propfind::AllProp);
            }
            (true, "propname") => {
                doc.skip()?;
                found = Some(Propfind::PropName);
            }
            (true, "prop") => {
                let mut names = Vec::new();
                while let Some(prop) = doc.next_child()? {
                    push_limited(&mut names, prop.name())?;
                    doc.skip()?;
                }
                found = Some(Propfind::Prop(names));
            }
            // `include` (with allprop) and anything unknown are ignored, as §17 asks.
            _ => doc.skip()?,
        }
    }
    found.ok_or(XmlError::Invalid(WHAT))
}

/// Reads a PROPPATCH body: its `set` and `remove` instructions in order.
pub fn parse_proppatch(body: &[u8]) -> Result<Vec<PatchOp>, XmlError> {
    const WHAT: &str = "propertyupdate";
    let mut doc = Doc::new(body, WHAT)?;
    doc.expect_root(b"propertyupdate")?;
    let mut ops = Vec::new();
    while let Some(child) = doc.next_child()? {
        let set = match (child.dav, child.local.as_str()) {
            (true, "set") => true,
            (true, "remove") => false,
            _ => {
                doc.skip()?;
                continue;
            }
        };
        while let Some(prop) = doc.next_child()? {
            if !(prop.dav && prop.local == "prop") {
                doc.skip()?;
                continue;
            }
            while let Some(p) = doc.next_child()? {
                let name = p.name();
                if set {
                    let value = doc.inner_xml()?;
                    push_limited(&mut ops, PatchOp::Set(name, value))?;
                } else {
                    doc.skip()?;
                    push_limited(&mut ops, PatchOp::Remove(name))?;
                }
            }
        }
    }
    if ops.is_empty() {
        return Err(XmlError::Invalid(WHAT));
    }
    Ok(ops)
}

/// Reads a LOCK body; an empty body is a refresh, answered `None`.
pub fn parse_lockinfo(body: &[u8]) -> Result<Option<LockInfo>, XmlError> {
    const WHAT: &str = "lockinfo";
    if is_blank(body) {
        return Ok(None);
    }
    let mut doc = Doc::new(body, WHAT)?;
    doc.expect_root(b"lockinfo")?;
    let (mut scope, mut write, mut owner) = (None, false, None);
    while let Some(child) = doc.next_child()? {
        match (child.dav, child.local.as_str()) {
            (true, "lockscope") => {
                while let Some(s) = doc.next_child()? {
                    match (s.dav, s.local.as_str()) {
                        (true, "exclusive") => scope = Some(false),
                        (true, "shared") => scope = Some(true),
                        _ => {}
                    }
                    doc.skip()?;
                }
            }
            (true, "locktype") => {
                while let Some(t) = doc.next_child()? {
                    write |= t.dav && t.local == "write";
                    doc.skip()?;
                }
            }
            (true, "owner") => owner = Some(doc.inner_xml()?),
            _ => doc.skip()?,
        }
    }
    match (scope, write) {
        (Some(shared), true) => Ok(Some(LockInfo { shared, owner })),
        _ => Err(XmlError::Invalid(WHAT)),
    }
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

fn push_limited<T>(list: &mut Vec<T>, item: T) -> Result<(), XmlError> {
    if list.len() >= PROPS_MAX {
        return Err(XmlError::Limit("too many properties"));
    }
    list.push(item);
    Ok(())
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dav::DAV_NS;
    use proptest::prelude::*;

    #[test]
    fn propfind_bodies() {
        assert_eq!(parse_propfind(b"").unwrap(), Propfind::AllProp);
        assert_eq!(
            parse_propfind(
                br#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>"#
            )
            .unwrap(),
            Propfind::AllProp
        );
        assert_eq!(
            parse_propfind(br#"<propfind xmlns="DAV:"><propname/></propfind>"#).unwrap(),
            Propfind::PropName
        );
        let asked = parse_propfind(
            br#"<D:propfind xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/"><D:prop><D:getetag/><Z:color></Z:color><nons xmlns=""/></D:prop></D:propfind>"#,
        )
        .unwrap();
        assert_eq!(
            asked,
            Propfind::Prop(vec![
                PropName::new(DAV_NS, "getetag"),
                PropName::new("http://ns.example.com/z/", "color"),
                PropName::new("", "nons"),
            ])
        );
        assert!(parse_propfind(b"<propfind xmlns=\"DAV:\"><prop>").is_err());
        assert!(parse_propfind(b"<foo xmlns=\"DAV:\"/>").is_err());
        assert!(
            parse_propfind(b"<D:propfind xmlns:D=\"DAV:\"><D:prop><X:bad/></D:prop></D:propfind>")
                .is_err()
        );
    }

    #[test]
    fn entities_and_doctypes_are_refused() {
        let billion = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><propfind xmlns="DAV:"><prop><a>&lol2;</a></prop></propfind>"#;
        assert_eq!(
            parse_propfind(billion),
            Err(XmlError::Limit("no document type declarations"))
        );
        let deep = format!(
            "<propertyupdate xmlns=\"DAV:\"><set><prop><x xmlns=\"urn:x\">{}{}</x></prop></set></propertyupdate>",
            "<a>".repeat(100),
            "</a>".repeat(100)
        );
        assert_eq!(
            parse_proppatch(deep.as_bytes()),
            Err(XmlError::Limit("nested too deeply"))
        );
        assert_eq!(
            parse_propfind(&vec![b' '; BODY_MAX_BYTES + 1][..]).ok(),
            Some(Propfind::AllProp),
            "blank is allprop however long"
        );
        let mut big = b"<propfind xmlns=\"DAV:\"><prop>".to_vec();
        big.resize(BODY_MAX_BYTES + 1, b' ');
        assert_eq!(parse_propfind(&big), Err(XmlError::TooLarge));
    }

    #[test]
    fn proppatch_keeps_order_and_values() {
        let ops = parse_proppatch(
            br#"<?xml version="1.0"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/">
  <D:set><D:prop><Z:Author>Jim &amp; Roy</Z:Author><Z:rich><Z:b a="1">x</Z:b><Q:c xmlns:Q="urn:q"/></Z:rich></D:prop></D:set>
  <D:remove><D:prop><Z:Copyright-Owner/></D:prop></D:remove>
</D:propertyupdate>"#,
        )
        .unwrap();
        let z = "http://ns.example.com/z/";
        assert_eq!(
            ops,
            vec![
                PatchOp::Set(PropName::new(z, "Author"), "Jim &amp; Roy".into()),
                PatchOp::Set(
                    PropName::new(z, "rich"),
                    format!(r#"<b xmlns="{z}" a="1">x</b><c xmlns="urn:q"/>"#)
                ),
                PatchOp::Remove(PropName::new(z, "Copyright-Owner")),
            ]
        );
        assert!(parse_proppatch(b"<propertyupdate xmlns=\"DAV:\"/>").is_err());
    }

    #[test]
    fn lockinfo_bodies() {
        let info = parse_lockinfo(
            br#"<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>http://example.org/~ejw</D:href></D:owner></D:lockinfo>"#,
        )
        .unwrap()
        .unwrap();
        assert!(!info.shared);
        assert_eq!(
            info.owner.as_deref(),
            Some(r#"<href xmlns="DAV:">http://example.org/~ejw</href>"#)
        );
        assert_eq!(parse_lockinfo(b"  ").unwrap(), None);
        assert!(
            parse_lockinfo(b"<lockinfo xmlns=\"DAV:\"><lockscope><shared/></lockscope></lockinfo>")
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn any_bytes_are_answered(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_propfind(&body);
            let _ = parse_proppatch(&body);
            let _ = parse_lockinfo(&body);
        }

        #[test]
        fn text_values_round_trip(value in "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{fffe}\u{ffff}]{0,64}") {
            let body = format!(
                "<propertyupdate xmlns=\"DAV:\"><set><prop><v xmlns=\"urn:t\">{}</v></prop></set></propertyupdate>",
                escape(&value)
            );
            let ops = parse_proppatch(body.as_bytes()).unwrap();
            prop_assert_eq!(ops, vec![PatchOp::Set(PropName::new("urn:t", "v"), escape(&value))]);
        }
    }
}
