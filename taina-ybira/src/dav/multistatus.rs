//! The `207 Multi-Status` answer (RFC 4918 §13): one `response` per resource, with its properties
//! grouped by status.

use super::{DAV_NS, PropName};
use crate::dav::xml::escape;

/// A `multistatus` document being written.
#[derive(Debug)]
pub struct Multistatus {
    out: String,
}

/// One property in a `propstat`: its name and, for found ones, its value as XML content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropValue {
    /// The property.
    pub name: PropName,
    /// Its value (`None`: the name only, as for `propname` or a property not found).
    pub value: Option<String>,
}

impl Default for Multistatus {
    fn default() -> Self {
        Self::new()
    }
}

impl Multistatus {
    /// Starts a document.
    pub fn new() -> Self {
        Multistatus {
            out: String::from(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">",
            ),
        }
    }

    /// A resource with its properties by status (e.g. 200 with the values found, 404 with the
    /// names not found). Empty groups are left out.
    pub fn props(&mut self, href: &str, groups: &[(u16, Vec<PropValue>)]) {
        self.out.push_str("<D:response><D:href>");
        self.out.push_str(&escape(href));
        self.out.push_str("</D:href>");
        for (status, props) in groups.iter().filter(|(_, p)| !p.is_empty()) {
            self.out.push_str("<D:propstat><D:prop>");
            for p in props {
                write_prop(&mut self.out, p);
            }
            self.out.push_str("</D:prop><D:status>");
            self.out.push_str(&status_line(*status));
            self.out.push_str("</D:status></D:propstat>");
        }
        self.out.push_str("</D:response>");
    }

    /// A resource with a status only (e.g. a member that could not be deleted).
    pub fn status(&mut self, href: &str, status: u16) {
        self.out.push_str("<D:response><D:href>");
        self.out.push_str(&escape(href));
        self.out.push_str("</D:href><D:status>");
        self.out.push_str(&status_line(status));
        self.out.push_str("</D:status></D:response>");
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.out.push_str("</D:multistatus>\n");
        self.out
    }
}

/// Writes `<name>value</name>`: `DAV:` properties with the `D:` prefix, others with a default
/// namespace of their own (a dead property's value declares its own namespaces, element by
/// element, so it reads the same anywhere).
pub fn write_prop(out: &mut String, p: &PropValue) {
    let (open, close) = if p.name.ns == DAV_NS {
        (format!("D:{}", p.name.local), format!("D:{}", p.name.local))
    } else {
        (
            format!("{} xmlns=\"{}\"", p.name.local, escape(&p.name.ns)),
            p.name.local.clone(),
        )
    };
    match p.value.as_deref() {
        None | Some("") => {
            out.push('<');
            out.push_str(&open);
            out.push_str("/>");
        }
        Some(value) => {
            out.push('<');
            out.push_str(&open);
            out.push('>');
            out.push_str(value);
            out.push_str("</");
            out.push_str(&close);
            out.push('>');
        }
    }
}

/// `HTTP/1.1 207 Multi-Status` and the like.
pub fn status_line(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        423 => "Locked",
        424 => "Failed Dependency",
        507 => "Insufficient Storage",
        _ => "",
    };
    format!("HTTP/1.1 {status} {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_well_formed() {
        let mut m = Multistatus::new();
        m.props(
            "/dav/Community/a&b",
            &[
                (
                    200,
                    vec![
                        PropValue {
                            name: PropName::dav("getcontentlength"),
                            value: Some("5".into()),
                        },
                        PropValue {
                            name: PropName::new("urn:z", "color"),
                            value: Some("<x xmlns=\"urn:q\">1</x>".into()),
                        },
                    ],
                ),
                (
                    404,
                    vec![PropValue {
                        name: PropName::new("", "nons"),
                        value: None,
                    }],
                ),
                (403, vec![]),
            ],
        );
        m.status("/dav/x", 423);
        let doc = m.finish();
        assert!(doc.contains("<D:href>/dav/Community/a&amp;b</D:href>"));
        assert!(doc.contains("<color xmlns=\"urn:z\"><x xmlns=\"urn:q\">1</x></color>"));
        assert!(doc.contains("<nons xmlns=\"\"/>"));
        assert!(!doc.contains("403"));
        // It parses, and the values read back.
        let mut reader = quick_xml::reader::NsReader::from_str(&doc);
        let mut depth = 0i32;
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Start(_) => depth += 1,
                quick_xml::events::Event::End(_) => depth -= 1,
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0);
    }
}
