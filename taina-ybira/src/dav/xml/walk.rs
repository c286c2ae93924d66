//! The bounded walk over a request body's elements that the parsers share: one level at a time,
//! namespaces resolved, nesting and value sizes limited, a document type declaration refused.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

use super::{XmlError, escape};
use crate::dav::{BODY_MAX_BYTES, DAV_NS, PropName, VALUE_MAX_BYTES, XML_DEPTH_MAX};

/// An element met while walking a document.
pub(super) struct Element {
    /// Its namespace (empty for none).
    pub(super) ns: String,
    /// Its local name.
    pub(super) local: String,
    /// Whether it is in the `DAV:` namespace.
    pub(super) dav: bool,
}

impl Element {
    pub(super) fn name(&self) -> PropName {
        PropName::new(&self.ns, &self.local)
    }
}

/// A bounded walk over a body's elements, one level at a time.
pub(super) struct Doc<'a> {
    reader: NsReader<&'a [u8]>,
    what: &'static str,
    depth: usize,
    /// An empty element just returned by `next_child`, whose end is implied.
    pending_empty: bool,
}

impl<'a> Doc<'a> {
    pub(super) fn new(body: &'a [u8], what: &'static str) -> Result<Self, XmlError> {
        if body.len() > BODY_MAX_BYTES {
            return Err(XmlError::TooLarge);
        }
        let mut reader = NsReader::from_reader(body);
        reader.config_mut().trim_text(false);
        Ok(Doc {
            reader,
            what,
            depth: 0,
            pending_empty: false,
        })
    }

    fn invalid(&self) -> XmlError {
        XmlError::Invalid(self.what)
    }

    fn element(&self, start: &BytesStart<'_>) -> Result<Element, XmlError> {
        let (resolved, local) = self.reader.resolve_element(start.name());
        let ns = match resolved {
            ResolveResult::Bound(Namespace(ns)) => std::str::from_utf8(ns)
                .map_err(|_| self.invalid())?
                .to_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(_) => return Err(self.invalid()),
        };
        let local = std::str::from_utf8(local.as_ref())
            .map_err(|_| self.invalid())?
            .to_owned();
        Ok(Element {
            dav: ns == DAV_NS,
            ns,
            local,
        })
    }

    /// The next event that matters: no comments, processing instructions or declarations; a
    /// document type declaration is refused.
    fn event(&mut self) -> Result<Event<'a>, XmlError> {
        loop {
            let event = self.reader.read_event().map_err(|_| self.invalid())?;
            match event {
                Event::DocType(_) => return Err(XmlError::Limit("no document type declarations")),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
                other => return Ok(other),
            }
        }
    }

    pub(super) fn expect_root(&mut self, local: &[u8]) -> Result<(), XmlError> {
        loop {
            match self.event()? {
                Event::Start(start) => {
                    let e = self.element(&start)?;
                    if !(e.dav && e.local.as_bytes() == local) {
                        return Err(self.invalid());
                    }
                    self.depth = 1;
                    return Ok(());
                }
                Event::Empty(start) => {
                    let e = self.element(&start)?;
                    if !(e.dav && e.local.as_bytes() == local) {
                        return Err(self.invalid());
                    }
                    self.depth = 1;
                    self.pending_empty = true;
                    return Ok(());
                }
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(self.invalid()),
            }
        }
    }

    /// The next child element of the current one, or `None` at its end. Call [`Doc::skip`] or
    /// walk into the returned child before asking for its next sibling.
    pub(super) fn next_child(&mut self) -> Result<Option<Element>, XmlError> {
        if self.pending_empty {
            // The current element was empty: it has no children.
            self.pending_empty = false;
            self.depth -= 1;
            return Ok(None);
        }
        loop {
            match self.event()? {
                Event::Start(start) => {
                    self.depth += 1;
                    if self.depth > XML_DEPTH_MAX {
                        return Err(XmlError::Limit("nested too deeply"));
                    }
                    return self.element(&start).map(Some);
                }
                Event::Empty(start) => {
                    self.depth += 1;
                    self.pending_empty = true;
                    return self.element(&start).map(Some);
                }
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(None);
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {}
                Event::Eof => return Err(self.invalid()),
                _ => return Err(self.invalid()),
            }
        }
    }

    /// Skips the rest of the element just returned by `next_child`.
    pub(super) fn skip(&mut self) -> Result<(), XmlError> {
        while self.next_child()?.is_some() {
            self.skip()?;
        }
        Ok(())
    }

    /// The content of the element just returned by `next_child`, as XML that stands alone (every
    /// element carries its own namespace), and consumes it.
    pub(super) fn inner_xml(&mut self) -> Result<String, XmlError> {
        let mut out = String::new();
        if self.pending_empty {
            self.pending_empty = false;
            self.depth -= 1;
            return Ok(out);
        }
        let mut open = 0usize;
        loop {
            match self.event()? {
                Event::Start(start) => {
                    self.depth += 1;
                    if self.depth > XML_DEPTH_MAX {
                        return Err(XmlError::Limit("nested too deeply"));
                    }
                    open += 1;
                    self.write_start(&mut out, &start, false)?;
                }
                Event::Empty(start) => self.write_start(&mut out, &start, true)?,
                Event::End(end) => {
                    self.depth -= 1;
                    if open == 0 {
                        return Ok(out);
                    }
                    open -= 1;
                    let (_, local) = self.reader.resolve_element(end.name());
                    out.push_str("</");
                    out.push_str(std::str::from_utf8(local.as_ref()).map_err(|_| self.invalid())?);
                    out.push('>');
                }
                Event::Text(t) => {
                    let text = t.decode().map_err(|_| self.invalid())?;
                    let text = quick_xml::escape::unescape(&text).map_err(|_| self.invalid())?;
                    out.push_str(&escape(&text));
                }
                Event::GeneralRef(r) => {
                    let name = r.decode().map_err(|_| self.invalid())?;
                    let ch = r
                        .resolve_char_ref()
                        .map_err(|_| self.invalid())?
                        .or_else(|| {
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .and_then(|s| s.chars().next())
                        })
                        .ok_or_else(|| self.invalid())?;
                    out.push_str(&escape(&ch.to_string()));
                }
                Event::CData(c) => {
                    let text = std::str::from_utf8(&c).map_err(|_| self.invalid())?;
                    out.push_str(&escape(text));
                }
                _ => return Err(self.invalid()),
            }
            if out.len() > VALUE_MAX_BYTES {
                return Err(XmlError::Limit("a property value is too large"));
            }
        }
    }

    fn write_start(
        &self,
        out: &mut String,
        start: &BytesStart<'_>,
        empty: bool,
    ) -> Result<(), XmlError> {
        let e = self.element(start)?;
        out.push('<');
        out.push_str(&e.local);
        out.push_str(" xmlns=\"");
        out.push_str(&escape(&e.ns));
        out.push('"');
        for attr in start.attributes() {
            let attr = attr.map_err(|_| self.invalid())?;
            let key = attr.key.as_ref();
            if key == b"xmlns" || key.starts_with(b"xmlns:") || key.contains(&b':') {
                // Namespace declarations are rewritten per element; prefixed attributes are
                // dropped rather than left with a prefix nothing declares.
                continue;
            }
            let value = attr.unescape_value().map_err(|_| self.invalid())?;
            out.push(' ');
            out.push_str(std::str::from_utf8(key).map_err(|_| self.invalid())?);
            out.push_str("=\"");
            out.push_str(&escape(&value));
            out.push('"');
        }
        out.push_str(if empty { "/>" } else { ">" });
        Ok(())
    }
}
