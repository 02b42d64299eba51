//! Exclusive XML Canonicalization 1.0 without comments
//! (`http://www.w3.org/2001/10/xml-exc-c14n#`, W3C Recommendation 18 July 2002), over a
//! roxmltree subtree, optionally leaving one element out (the enveloped-signature transform,
//! XML-DSig §6.6.4) and with an `InclusiveNamespaces PrefixList` (Exc-C14N §3).
//!
//! What the input may contain is bounded by [`crate::xml::parse`]: no DTD, so no default
//! attributes and no entity references beyond the predefined ones. roxmltree has already
//! normalised line ends and attribute values (XML 1.0 §2.11, §3.3.3), which canonicalization
//! assumes. Element and attribute prefixes are read back from the input text, because
//! roxmltree keeps only namespace URIs.

use roxmltree::{Node, NodeId, NodeType};

use crate::xml::{escape_attr, escape_text};

/// The algorithm URI.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// Canonicalizes the subtree at `apex`, leaving out the element `exclude` (and everything in
/// it). `inclusive` lists the prefixes treated as in inclusive canonicalization
/// (`#default` for the default namespace).
pub fn canonicalize(apex: Node<'_, '_>, exclude: Option<NodeId>, inclusive: &[&str]) -> String {
    let mut out = String::with_capacity(apex.range().len());
    let input = apex.document().input_text();
    let inclusive: Vec<&str> = inclusive
        .iter()
        .map(|p| if *p == "#default" { "" } else { *p })
        .collect();
    render(&mut out, input, apex, exclude, &inclusive, &[]);
    out
}

/// A namespace declaration as rendered: prefix (`""` for the default) and URI.
type Rendered = Vec<(String, String)>;

fn render(
    out: &mut String,
    input: &str,
    node: Node<'_, '_>,
    exclude: Option<NodeId>,
    inclusive: &[&str],
    rendered: &[(String, String)],
) {
    let qname = element_qname(input, node);
    // Exc-C14N §3: the namespaces visibly utilized by this element (its own prefix and its
    // attributes' prefixes), plus those of the InclusiveNamespaces PrefixList.
    let mut prefixes: Vec<&str> = vec![prefix_of(qname)];
    let mut attrs: Vec<(&str, &str, &str, &str)> = Vec::new();
    for a in node.attributes() {
        let aq = input.get(a.range_qname()).unwrap_or(a.name());
        let p = if aq.contains(':') { prefix_of(aq) } else { "" };
        if !p.is_empty() {
            prefixes.push(p);
        }
        attrs.push((a.namespace().unwrap_or(""), a.name(), aq, a.value()));
    }
    prefixes.extend(inclusive.iter().copied());
    prefixes.sort_unstable();
    prefixes.dedup();

    let mut decls: Vec<(String, String)> = Vec::new();
    for p in prefixes {
        if p == "xml" {
            continue;
        }
        let in_scope = node
            .lookup_namespace_uri(if p.is_empty() { None } else { Some(p) })
            .unwrap_or("");
        if !p.is_empty() && in_scope.is_empty() {
            // An inclusive prefix that is not in scope here.
            continue;
        }
        let before = rendered
            .iter()
            .rev()
            .find(|(rp, _)| rp == p)
            .map_or("", |(_, u)| u.as_str());
        if before != in_scope {
            decls.push((p.to_owned(), in_scope.to_owned()));
        }
    }
    // Namespace nodes sort by local name (the prefix; the default namespace first), then
    // attributes by namespace URI and local name (C14N 1.0 §2.2, "Document order").
    decls.sort();
    attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    out.push('<');
    out.push_str(qname);
    for (p, u) in &decls {
        if p.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(p);
            out.push_str("=\"");
        }
        out.push_str(&escape_attr(u));
        out.push('"');
    }
    for (_, _, aq, v) in &attrs {
        out.push(' ');
        out.push_str(aq);
        out.push_str("=\"");
        out.push_str(&escape_attr(v));
        out.push('"');
    }
    out.push('>');

    let mut inner: Rendered = rendered.to_vec();
    inner.extend(decls);
    for child in node.children() {
        match child.node_type() {
            NodeType::Element if Some(child.id()) == exclude => {}
            NodeType::Element => render(out, input, child, exclude, inclusive, &inner),
            NodeType::Text => out.push_str(&escape_text(child.text().unwrap_or(""))),
            NodeType::PI => {
                if let Some(pi) = child.pi() {
                    out.push_str("<?");
                    out.push_str(pi.target);
                    if let Some(v) = pi.value {
                        out.push(' ');
                        out.push_str(v);
                    }
                    out.push_str("?>");
                }
            }
            NodeType::Comment | NodeType::Root => {}
        }
    }
    out.push_str("</");
    out.push_str(qname);
    out.push('>');
}

/// The element's qualified name as written in the input (`samlp:AuthnRequest`).
fn element_qname<'a>(input: &'a str, node: Node<'_, '_>) -> &'a str {
    let rest = input.get(node.range().start + 1..).unwrap_or("");
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(rest.len());
    &rest[..end]
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, inclusive: &[&str]) -> String {
        let doc = crate::xml::parse(xml).unwrap();
        canonicalize(doc.root_element(), None, inclusive)
    }

    fn c14n_of(xml: &str, local: &str) -> String {
        let doc = crate::xml::parse(xml).unwrap();
        let node = doc
            .descendants()
            .find(|n| n.tag_name().name() == local)
            .unwrap();
        canonicalize(node, None, &[])
    }

    #[test]
    fn canonical_forms() {
        let cases: &[(&str, &str)] = &[
            // Empty elements are expanded, attributes sorted, quotes normalised.
            ("<a b='1' a=\"2\"/>", "<a a=\"2\" b=\"1\"></a>"),
            // Unused namespace declarations are dropped; used ones kept on first use.
            (
                r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q"><q:b/><p:c/></p:a>"#,
                r#"<p:a xmlns:p="urn:p"><q:b xmlns:q="urn:q"></q:b><p:c></p:c></p:a>"#,
            ),
            // Attributes sort by namespace URI then local name; unqualified first.
            (
                r#"<a xmlns:z="urn:a" xmlns:b="urn:b" z:x="1" b:x="2" y="3"/>"#,
                r#"<a xmlns:b="urn:b" xmlns:z="urn:a" y="3" z:x="1" b:x="2"></a>"#,
            ),
            // Text escaping; comments removed; CDATA becomes text.
            (
                "<a>x &amp; &lt; &gt; \"'<!-- c --><![CDATA[<&>]]></a>",
                "<a>x &amp; &lt; &gt; \"'&lt;&amp;&gt;</a>",
            ),
            // Attribute escaping.
            (
                "<a v=\"&quot;&lt;&gt;&#9;&#10;&#13;&amp;\"/>",
                "<a v=\"&quot;&lt;>&#x9;&#xA;&#xD;&amp;\"></a>",
            ),
            // The default namespace is undeclared where an unqualified child leaves it.
            (
                r#"<a xmlns="urn:d"><b xmlns=""/></a>"#,
                r#"<a xmlns="urn:d"><b xmlns=""></b></a>"#,
            ),
            // Line ends are normalised by the parser.
            ("<a>1\r\n2</a>", "<a>1\n2</a>"),
        ];
        for (input, expected) in cases {
            assert_eq!(&c14n(input, &[]), expected, "{input}");
        }
    }

    #[test]
    fn subtree_renders_only_what_it_uses() {
        let xml = r#"<samlp:Response xmlns:samlp="urn:p" xmlns:saml="urn:a" xmlns:xs="urn:xs"><saml:Assertion ID="x"><saml:Issuer>i</saml:Issuer></saml:Assertion></samlp:Response>"#;
        assert_eq!(
            c14n_of(xml, "Assertion"),
            r#"<saml:Assertion xmlns:saml="urn:a" ID="x"><saml:Issuer>i</saml:Issuer></saml:Assertion>"#
        );
        // With an InclusiveNamespaces PrefixList, in-scope listed prefixes are rendered.
        let doc = crate::xml::parse(xml).unwrap();
        let a = doc.root_element().first_element_child().unwrap();
        assert_eq!(
            canonicalize(a, None, &["xs", "absent"]),
            r#"<saml:Assertion xmlns:saml="urn:a" xmlns:xs="urn:xs" ID="x"><saml:Issuer>i</saml:Issuer></saml:Assertion>"#
        );
    }

    #[test]
    fn excludes_the_enveloped_element() {
        let xml = r#"<a ID="1"><b/><ds:Signature xmlns:ds="urn:ds"><x/></ds:Signature><c/></a>"#;
        let doc = crate::xml::parse(xml).unwrap();
        let sig = doc
            .descendants()
            .find(|n| n.tag_name().name() == "Signature")
            .unwrap();
        assert_eq!(
            canonicalize(doc.root_element(), Some(sig.id()), &[]),
            r#"<a ID="1"><b></b><c></c></a>"#
        );
    }
}
