//! A small, safe XML layer: metadata files are read into an [`Element`] tree that remembers
//! where every element and value came from, and written back in Salesforce's canonical form.
//!
//! Reading never expands entities and never fetches anything: a document with a DOCTYPE is
//! refused outright (XXE and entity-expansion attacks need one), and documents larger than
//! [`MAX_DOCUMENT_BYTES`] are refused before parsing.

use std::fmt::Write as _;
use std::sync::Arc;

/// The namespace of every Metadata API document.
pub const METADATA_NS: &str = "http://soap.sforce.com/2006/04/metadata";

/// Largest metadata file we parse. Real ECA files are a few KB; the biggest legitimate values
/// (certificates, a push service-account key) stay well under 16 KB.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Upper bound on XML nodes per document, a second guard against pathological input.
const MAX_NODES: u32 = 100_000;

/// Deepest element nesting accepted. Metadata is at most three levels deep; the bound keeps
/// the recursive tree building and writing far from the stack's limit.
pub const MAX_DEPTH: usize = 32;

/// A position in a source file: 1-based line and column (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    /// Width in characters to underline; at least 1.
    pub len: u32,
}

impl Span {
    pub const fn new(line: u32, column: u32, len: u32) -> Self {
        Self { line, column, len }
    }
}

/// A text value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    /// The value exactly as written, after XML unescaping.
    pub raw: String,
    pub span: Span,
}

impl Text {
    /// The value with surrounding XML whitespace removed; this is what every scalar means.
    pub fn trimmed(&self) -> &str {
        self.raw
            .trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n'))
    }
}

/// One XML element: its name, namespace, where its start tag is, its direct text, its children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    /// Shared by every element of a document that is in the same namespace.
    pub namespace: Option<Arc<str>>,
    pub span: Span,
    /// The element's direct character data, concatenated. Empty for `<a/>` and `<a></a>`.
    pub text: Text,
    pub children: Vec<Element>,
}

impl Element {
    /// A leaf element with a value, as the writer produces them.
    pub fn leaf(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: Text {
                raw: value.into(),
                span: Span::default(),
            },
            ..Self::default()
        }
    }

    /// A container element.
    pub fn node(name: impl Into<String>, children: Vec<Element>) -> Self {
        Self {
            name: name.into(),
            children,
            ..Self::default()
        }
    }

    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    /// Children with the given local name, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child with the given local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Why a document could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("file is {size} bytes, over the {limit}-byte limit for a metadata file")]
    TooLarge { size: usize, limit: usize },
    #[error("file is not valid UTF-8 (metadata files must be UTF-8)")]
    NotUtf8 { span: Span },
    #[error("DOCTYPE and entity declarations are not allowed in metadata files")]
    Doctype { span: Span },
    #[error("XML is not well-formed: {message}")]
    Malformed { message: String, span: Span },
}

impl XmlError {
    pub fn span(&self) -> Span {
        match self {
            XmlError::TooLarge { .. } => Span::new(1, 1, 1),
            XmlError::NotUtf8 { span }
            | XmlError::Doctype { span }
            | XmlError::Malformed { span, .. } => *span,
        }
    }
}

/// A parsed document: the root element and the source text (for diagnostics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub root: Element,
    /// Source text with any byte-order mark removed.
    pub source: String,
}

/// Parses a metadata file from bytes: checks size, UTF-8, strips a BOM, refuses DOCTYPE.
pub fn parse_bytes(bytes: &[u8]) -> Result<Document, XmlError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(XmlError::TooLarge {
            size: bytes.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let lines = LineIndex::new(std::str::from_utf8(valid).unwrap_or_default());
            return Err(XmlError::NotUtf8 {
                span: lines.span(valid.len(), 1),
            });
        }
    };
    parse_str(text)
}

/// Parses a metadata file from text.
pub fn parse_str(text: &str) -> Result<Document, XmlError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(XmlError::TooLarge {
            size: text.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let source = text.strip_prefix('\u{feff}').unwrap_or(text);
    // XML 1.0 §2.11: line ends are normalized to LF before parsing. Doing it here, rather than
    // trusting the parser, keeps a CR written as `&#13;` distinct from a literal one in every case.
    let normalized;
    let source = if source.contains('\r') {
        normalized = source.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        source
    };
    let lines = LineIndex::new(source);
    // Find a DOCTYPE ourselves so the error points at it; roxmltree would refuse it too.
    if let Some(at) = find_doctype(source) {
        return Err(XmlError::Doctype {
            span: lines.span(at, "<!DOCTYPE".len()),
        });
    }
    // Shapes the parser would spend quadratic time on (`xml_shape`).
    crate::xml_shape::check(source).map_err(|e| XmlError::Malformed {
        message: e.to_string(),
        span: Span::new(1, 1, 1),
    })?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(source, options).map_err(|e| {
        let pos = e.pos();
        let span = Span::new(pos.row, pos.col, 1);
        match e {
            roxmltree::Error::DtdDetected => XmlError::Doctype { span },
            other => XmlError::Malformed {
                message: describe_roxml_error(&other),
                span,
            },
        }
    })?;
    let mut namespaces = Vec::new();
    let root = convert(doc.root_element(), &lines, &mut namespaces, 1)?;
    Ok(Document {
        root,
        source: source.to_owned(),
    })
}

fn describe_roxml_error(e: &roxmltree::Error) -> String {
    // roxmltree appends "at row:col"; we report the position separately.
    let s = e.to_string();
    match s.rfind(" at ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// The offset of the first DOCTYPE or ENTITY declaration, for the error's position. Comments,
/// CDATA sections and processing instructions are skipped: what they hold is text, not markup
/// (XML 1.0 §2.5, §2.7, §2.6), so a comment mentioning `<!DOCTYPE` is harmless. Whatever this
/// misses, roxmltree still refuses (`allow_dtd: false`); an unterminated comment ends the search,
/// and the parser reports the document as malformed.
fn find_doctype(source: &str) -> Option<usize> {
    const SKIPPED: [(&str, &str); 3] = [("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")];
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(i) = source[from..].find('<') {
        let at = from + i;
        let rest = &source[at..];
        if let Some((open, close)) = SKIPPED.iter().find(|(open, _)| rest.starts_with(open)) {
            let end = rest[open.len()..].find(close)?;
            from = at + open.len() + end + close.len();
            continue;
        }
        let name = &bytes[at + 1..];
        let declares = |keyword: &[u8]| {
            name.len() > keyword.len()
                && name[0] == b'!'
                && name[1..=keyword.len()].eq_ignore_ascii_case(keyword)
        };
        if declares(b"DOCTYPE") || declares(b"ENTITY") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn convert(
    node: roxmltree::Node<'_, '_>,
    lines: &LineIndex<'_>,
    namespaces: &mut Vec<Arc<str>>,
    depth: usize,
) -> Result<Element, XmlError> {
    let tag = node.tag_name();
    let start = node.range().start;
    if depth > MAX_DEPTH {
        return Err(XmlError::Malformed {
            message: format!("elements are nested more than {MAX_DEPTH} levels deep"),
            span: lines.span(start, 1),
        });
    }
    let mut element = Element {
        name: tag.name().to_owned(),
        namespace: tag.namespace().map(|ns| intern(namespaces, ns)),
        span: lines.span(start + 1, tag.name().chars().count()),
        text: Text::default(),
        children: Vec::new(),
    };
    let mut text_start: Option<usize> = None;
    let mut text_end = start;
    for child in node.children() {
        if child.is_element() {
            element
                .children
                .push(convert(child, lines, namespaces, depth + 1)?);
        } else if child.is_text() {
            let t = child.text().unwrap_or_default();
            element.text.raw.push_str(t);
            let r = child.range();
            text_start.get_or_insert(r.start);
            text_end = r.end;
        }
    }
    element.text.span = match text_start {
        Some(s) => {
            // Point at the first non-blank character of the value, underline to its end.
            let slice = &lines.source[s..text_end];
            let lead = slice.len() - slice.trim_start().len();
            let body = slice.trim();
            let first_line = body.lines().next().unwrap_or_default();
            lines.span(s + lead, first_line.chars().count().max(1))
        }
        // An empty element: point just after its start tag name.
        None => element.span,
    };
    Ok(element)
}

/// One shared copy of each namespace a document uses (usually just the metadata namespace).
fn intern(namespaces: &mut Vec<Arc<str>>, ns: &str) -> Arc<str> {
    if let Some(found) = namespaces.iter().find(|n| &***n == ns) {
        return Arc::clone(found);
    }
    let shared: Arc<str> = Arc::from(ns);
    namespaces.push(Arc::clone(&shared));
    shared
}

/// Maps byte offsets to 1-based line and column numbers.
#[derive(Debug)]
pub struct LineIndex<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { source, starts }
    }

    /// The byte offset of a 1-based line and column (counted in characters), if the source
    /// has them.
    pub fn offset(&self, line: u32, column: u32) -> Option<usize> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let line_start = *self.starts.get(index)?;
        let line_end = self
            .starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.source.len());
        let text = &self.source[line_start..line_end];
        let skip = usize::try_from(column).ok()?.checked_sub(1)?;
        match text.char_indices().nth(skip) {
            Some((i, _)) => Some(line_start + i),
            // Just after the last character of a last line without a line end.
            None if text.chars().count() == skip && !text.ends_with('\n') => Some(line_end),
            None => None,
        }
    }

    /// The span at byte `offset`, underlining `len` characters.
    pub fn span(&self, offset: usize, len: usize) -> Span {
        let offset = offset.min(self.source.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let line_start = self.starts[line - 1];
        let column = self
            .source
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count())
            + 1;
        Span::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
            u32::try_from(len.max(1)).unwrap_or(u32::MAX),
        )
    }
}

/// Writes an element tree in Salesforce's canonical form: the XML declaration, the metadata
/// namespace on the root, children in alphabetical order of element name (repeated elements
/// keep their relative order), four-space indentation and a trailing newline.
pub fn write_canonical(root: &Element) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(out, "<{} xmlns=\"{}\">", root.name, METADATA_NS);
    out.push('\n');
    write_children(&mut out, &root.children, 1);
    let _ = writeln!(out, "</{}>", root.name);
    out
}

fn write_children(out: &mut String, children: &[Element], depth: usize) {
    let mut sorted: Vec<&Element> = children.iter().collect();
    // A stable sort keeps repeated elements (custom attributes, IP ranges) in their order.
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for child in sorted {
        write_element(out, child, depth);
    }
}

fn write_element(out: &mut String, element: &Element, depth: usize) {
    let indent = "    ".repeat(depth);
    if element.children.is_empty() {
        let value = &element.text.raw;
        if value.is_empty() {
            let _ = writeln!(out, "{indent}<{}/>", element.name);
        } else {
            let _ = writeln!(
                out,
                "{indent}<{0}>{1}</{0}>",
                element.name,
                escape_text(value)
            );
        }
    } else {
        let _ = writeln!(out, "{indent}<{}>", element.name);
        write_children(out, &element.children, depth + 1);
        let _ = writeln!(out, "{indent}</{}>", element.name);
    }
}

/// Escapes character data the way Salesforce's own retrieves do (quotes included).
pub fn escape_text(value: &str) -> std::borrow::Cow<'_, str> {
    if !value
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | b'\r'))
    {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A literal carriage return would be read back as a line feed (XML 1.0 §2.11).
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_messy_documents() {
        let text = "\u{feff}<?xml version='1.0' encoding='utf-8' standalone=\"yes\"?>\r\n<!-- c -->\r\n<A xmlns=\"http://soap.sforce.com/2006/04/metadata\">\r\n  <!-- inner -->\r\n  <b\r\n  >\r\n   true\r\n  </b>\r\n<c>x &amp; y</c></A>\r\n";
        let doc = parse_str(text).unwrap();
        assert_eq!(doc.root.name, "A");
        assert_eq!(doc.root.namespace.as_deref(), Some(METADATA_NS));
        let b = doc.root.child("b").unwrap();
        assert_eq!(b.text.trimmed(), "true");
        assert_eq!((b.span.line, b.span.column), (5, 4));
        assert_eq!((b.text.span.line, b.text.span.column), (7, 4));
        assert_eq!(doc.root.child("c").unwrap().text.raw, "x & y");
    }

    #[test]
    fn refuses_doctype_and_entities() {
        let text = "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<a>&x;</a>";
        let err = parse_str(text).unwrap_err();
        assert!(
            matches!(err, XmlError::Doctype { span } if span.line == 2),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_shapes_the_parser_spends_quadratic_time_on() {
        let attributes: String = (0..100).map(|i| format!(" a{i}=\"v\"")).collect();
        let err = parse_str(&format!("<A{attributes}/>")).unwrap_err();
        assert!(
            matches!(&err, XmlError::Malformed { message, .. } if message.contains("attributes")),
            "{err:?}"
        );
        let namespaces: String = (0..300).map(|i| format!("<e xmlns:p{i}=\"u\">")).collect();
        let err = parse_str(&format!("<A>{namespaces}</A>")).unwrap_err();
        assert!(
            matches!(&err, XmlError::Malformed { message, .. } if message.contains("namespaces")),
            "{err:?}"
        );
    }

    /// Review found that a comment mentioning `<!DOCTYPE` or `<!ENTITY` was refused as if it
    /// declared one; a real declaration is refused wherever it is, after a comment too.
    #[test]
    fn doctype_in_a_comment_or_cdata_is_harmless() {
        for text in [
            "<?xml version=\"1.0\"?>\n<!-- no <!DOCTYPE here, nor <!ENTITY x \"y\"> -->\n<a/>",
            "<a><!-- <!doctype html> --><b>1</b></a>",
            "<a><![CDATA[<!DOCTYPE a>]]></a>",
            "<?xml version=\"1.0\"?>\n<?note <!DOCTYPE a> ?>\n<a/>",
            // In XML (unlike HTML) `<!-->` opens a comment that the later `-->` closes.
            "<!--> <!DOCTYPE a> -->\n<a/>",
        ] {
            assert!(parse_str(text).is_ok(), "{text}");
        }
        for (text, line) in [
            (
                "<!-- c -->\n<!DOCTYPE a [<!ENTITY x \"y\">]>\n<a>&x;</a>",
                2,
            ),
            ("<!-- <!DOCTYPE --><!-- -->\n\n<!ENTITY x \"y\">\n<a/>", 3),
            ("<!-- -- -->\n<!DOCTYPE a>\n<a/>", 2),
        ] {
            let err = parse_str(text).unwrap_err();
            assert!(
                matches!(err, XmlError::Doctype { span } if span.line == line),
                "{text}: {err:?}"
            );
        }
        // An unterminated comment hides nothing: the document is malformed.
        assert!(parse_str("<a/><!-- <!DOCTYPE a>").is_err());
    }

    #[test]
    fn refuses_oversized_and_non_utf8() {
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert!(matches!(parse_bytes(&big), Err(XmlError::TooLarge { .. })));
        assert!(matches!(
            parse_bytes(b"<a>\n\xff</a>"),
            Err(XmlError::NotUtf8 { span }) if span.line == 2
        ));
    }

    #[test]
    fn normalizes_literal_carriage_returns() {
        let doc = parse_str("<a>x\r\r&#65;\r\ny&#13;</a>").unwrap();
        assert_eq!(doc.root.text.raw, "x\n\nA\ny\r");
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
        assert!(matches!(parse_str(&deep), Err(XmlError::Malformed { .. })));
    }

    #[test]
    fn malformed_reports_position() {
        let err = parse_str("<a>\n  <b>x</c>\n</a>").unwrap_err();
        match err {
            XmlError::Malformed { span, .. } => assert_eq!(span.line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn carriage_returns_survive_a_round_trip() {
        let doc = parse_str("<a><b>x&#13;\ny</b></a>").unwrap();
        let written = write_canonical(&doc.root);
        assert!(written.contains("x&#13;\ny"), "{written}");
        let again = parse_str(&written).unwrap();
        assert_eq!(again.root.children[0].text.raw, "x\r\ny");
    }

    #[test]
    fn writes_canonical_order_and_escaping() {
        let root = Element::node(
            "T",
            vec![
                Element::leaf("zeta", "1"),
                Element::node(
                    "list",
                    vec![Element::leaf("key", "k"), Element::leaf("formula", "a<b")],
                ),
                Element::leaf("alpha", "it's \"x\" & y"),
                Element::node("list", vec![Element::leaf("key", "k2")]),
            ],
        );
        insta::assert_snapshot!(write_canonical(&root), @r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <T xmlns="http://soap.sforce.com/2006/04/metadata">
            <alpha>it&apos;s &quot;x&quot; &amp; y</alpha>
            <list>
                <formula>a&lt;b</formula>
                <key>k</key>
            </list>
            <list>
                <key>k2</key>
            </list>
            <zeta>1</zeta>
        </T>
        "#);
    }

    #[test]
    fn line_index_offsets_invert_spans() {
        let source = "ab\nçé x\n\nend";
        let lines = LineIndex::new(source);
        for offset in [0, 1, 3, 5, 8, 11, source.len()] {
            let span = lines.span(offset, 1);
            assert_eq!(
                lines.offset(span.line, span.column),
                Some(offset),
                "{offset}"
            );
        }
        assert_eq!(lines.offset(0, 1), None);
        assert_eq!(lines.offset(1, 0), None);
        assert_eq!(lines.offset(2, 9), None);
        assert_eq!(lines.offset(9, 1), None);
        assert_eq!(lines.offset(1, 4), None, "past the line end");
    }
}
