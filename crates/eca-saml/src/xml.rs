//! Safe XML reading and careful XML writing for SAML messages.
//!
//! Incoming XML is parsed with roxmltree with DTDs refused; on top of that any `<!DOCTYPE`
//! or `<!ENTITY` is refused before parsing (roxmltree accepts an empty DTD), the text is
//! bounded in size, nodes and depth, so hostile messages cost little.

use roxmltree::{Document, Node, ParsingOptions};

use crate::error::SamlError;

/// `urn:oasis:names:tc:SAML:2.0:protocol` (prefix `samlp`).
pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// `urn:oasis:names:tc:SAML:2.0:assertion` (prefix `saml`).
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// `urn:oasis:names:tc:SAML:2.0:metadata` (prefix `md`).
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig (prefix `ds`).
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// The largest decoded XML message accepted. AuthnRequests and LogoutRequests are a few KB.
pub const MAX_XML_LEN: usize = 64 * 1024;
const MAX_NODES: u32 = 4096;
const MAX_DEPTH: usize = 32;
/// The longest NameID taken from a request: the IdP's own NameIDs are usernames (80
/// characters), federation ids (512 characters, up to 4 bytes each) or custom attribute
/// values, and SPs echo them back. Names travel through the login page in a sealed ticket,
/// which must stay short enough for a URL (`ticket::seal` refuses what does not fit).
pub const MAX_NAME_LEN: usize = 2048;
/// The longest SessionIndex taken from a request (the IdP's are 41 characters).
pub const MAX_SESSION_INDEX_LEN: usize = 256;

/// Parses an incoming message: bounded, no DOCTYPE, no entities, no deep nesting.
pub fn parse(text: &str) -> Result<Document<'_>, SamlError> {
    if text.len() > MAX_XML_LEN {
        return Err(SamlError::TooLarge);
    }
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(SamlError::DoctypeRefused);
    }
    // Shapes the parser would spend quadratic time on, per anonymous request.
    match eca_metadata::xml_shape::check(text) {
        Ok(()) => {}
        Err(eca_metadata::xml_shape::ShapeError::TooManyAttributes) => {
            return Err(SamlError::Malformed("an element has too many attributes"));
        }
        Err(eca_metadata::xml_shape::ShapeError::TooManyNamespaces) => {
            return Err(SamlError::Malformed(
                "the message declares too many namespaces",
            ));
        }
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => SamlError::DoctypeRefused,
        roxmltree::Error::NodesLimitReached => SamlError::TooLarge,
        _ => SamlError::Malformed("not well-formed XML"),
    })?;
    if doc
        .descendants()
        .any(|n| n.is_element() && n.ancestors().count() > MAX_DEPTH)
    {
        return Err(SamlError::Malformed("the XML is nested too deeply"));
    }
    Ok(doc)
}

/// The element children of `node` in namespace `ns` with local name `name`.
pub fn children<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.has_tag_name((ns, name)))
}

/// The only child `ns:name` of `node`, if any; more than one is malformed.
pub fn single_child<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
    what: &'static str,
) -> Result<Option<Node<'a, 'i>>, SamlError> {
    let mut it = children(node, ns, name);
    let first = it.next();
    if it.next().is_some() {
        return Err(SamlError::Malformed(what));
    }
    Ok(first)
}

/// The text content of an element (its text children joined), trimmed.
pub fn text_of(node: Node<'_, '_>) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Escapes character data for element content.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value written between double quotes, in the form exclusive
/// canonicalization produces (so what we write is already canonical).
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_hostile_documents() {
        let lol = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><a>&lol;</a>"#;
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        let big = format!("<a>{}</a>", "x".repeat(MAX_XML_LEN));
        let many = format!("<a>{}</a>", "<b/>".repeat(5000));
        let attributes: String = (0..65).map(|i| format!(" a{i}=\"x\"")).collect();
        let wide = format!("<a{attributes}/>");
        let cases: &[(&str, SamlError)] = &[
            (lol, SamlError::DoctypeRefused),
            ("<!DOCTYPE a><a/>", SamlError::DoctypeRefused),
            (&deep, SamlError::Malformed("the XML is nested too deeply")),
            (&big, SamlError::TooLarge),
            (&many, SamlError::TooLarge),
            (
                &wide,
                SamlError::Malformed("an element has too many attributes"),
            ),
            ("<a><b></a>", SamlError::Malformed("not well-formed XML")),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input).err().as_ref(), Some(expected), "{input:.40}");
        }
        assert!(parse("<a><b/></a>").is_ok());
        // 64 attributes pass; `=` in values, comments and CDATA are not attributes.
        let attributes: String = (0..64).map(|i| format!(" a{i}='x'")).collect();
        assert!(parse(&format!("<a{attributes}/>")).is_ok());
        let equals = "=".repeat(200);
        let quiet = format!(
            "<a b=\"{equals}\" c='{equals}'><!-- <x {equals}> --><![CDATA[<y {equals}>]]><?pi {equals}?></a>"
        );
        assert!(parse(&quiet).is_ok(), "{quiet:.60}");
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_text("a<b>&c\r"), "a&lt;b&gt;&amp;c&#xD;");
        assert_eq!(escape_attr("\"<&\t\n"), "&quot;&lt;&amp;&#x9;&#xA;");
    }
}
