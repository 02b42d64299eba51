//! A linear look at XML text before any parser sees it, for the two shapes roxmltree 0.21
//! spends more than linear time on: one start tag with thousands of attributes (each new
//! attribute is compared with the element's earlier ones), and many namespace declarations
//! (an element that declares one copies every namespace in scope, then searches the copy).
//! Both cost quadratic time, and the second memory too, for a request nobody has
//! authenticated yet (SOAP envelopes, SAML messages) or a file in a deploy zip.
//!
//! Every XML reader of untrusted text calls [`check`] first. Text that is not well-formed may
//! be miscounted; the parser refuses it anyway.

/// The most attributes, namespace declarations included, one start tag may have. Real SOAP,
/// SAML and metadata elements have a dozen at most.
pub const MAX_ATTRIBUTES: usize = 64;

/// The most namespace declarations (`xmlns` and `xmlns:p` attributes) a whole document may
/// have. Envelopes and metadata files declare a handful; signed SAML messages redeclare a few
/// on several elements.
pub const MAX_NAMESPACE_DECLARATIONS: usize = 256;

/// What [`scan`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// The most attributes on one start tag.
    pub most_attributes: usize,
    /// Namespace declarations in the whole text.
    pub namespace_declarations: usize,
}

/// Why [`check`] refused a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("an element has more than {MAX_ATTRIBUTES} attributes")]
    TooManyAttributes,
    #[error("the document declares more than {MAX_NAMESPACE_DECLARATIONS} namespaces")]
    TooManyNamespaces,
}

/// Refuses text whose shape would cost the parser more than linear time.
pub fn check(text: &str) -> Result<(), ShapeError> {
    let shape = scan(text);
    if shape.most_attributes > MAX_ATTRIBUTES {
        return Err(ShapeError::TooManyAttributes);
    }
    if shape.namespace_declarations > MAX_NAMESPACE_DECLARATIONS {
        return Err(ShapeError::TooManyNamespaces);
    }
    Ok(())
}

/// Counts attributes per tag (as `=` signs outside quoted values) and namespace declarations
/// (attribute names `xmlns` or `xmlns:…`), skipping comments, CDATA sections and processing
/// instructions. One pass over the bytes.
pub fn scan(text: &str) -> Shape {
    let bytes = text.as_bytes();
    let skip_to = |from: usize, end: &str| {
        text.get(from..)
            .and_then(|rest| rest.find(end))
            .map_or(bytes.len(), |i| from + i + end.len())
    };
    let mut shape = Shape::default();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        if rest.starts_with(b"<!--") {
            i = skip_to(i + 4, "-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_to(i + 9, "]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_to(i + 2, "?>");
        } else {
            // A start or end tag, up to its `>`: each `=` outside quotes ends an attribute
            // name, and a name that begins right after whitespace with `xmlns` followed by
            // `:`, `=` or whitespace is a namespace declaration.
            let (mut attributes, mut quote, mut after_space) = (0, None, false);
            i += 1;
            while i < bytes.len() {
                let b = bytes[i];
                match quote {
                    Some(q) if b == q => quote = None,
                    Some(_) => {}
                    None if b == b'"' || b == b'\'' => quote = Some(b),
                    None if b == b'=' => attributes += 1,
                    None if b == b'>' => break,
                    None if after_space && is_xmlns(&bytes[i..]) => {
                        shape.namespace_declarations += 1;
                    }
                    None => {}
                }
                after_space = quote.is_none() && b.is_ascii_whitespace();
                i += 1;
            }
            shape.most_attributes = shape.most_attributes.max(attributes);
        }
    }
    shape
}

/// Whether `at` starts with the attribute name `xmlns` or `xmlns:…`.
fn is_xmlns(at: &[u8]) -> bool {
    at.strip_prefix(b"xmlns")
        .and_then(|after| after.first())
        .is_some_and(|b| *b == b':' || *b == b'=' || b.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_attributes_per_tag_and_namespace_declarations_in_all() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:m">
  <!-- <x a="1" b="2" c="3" d="4"> xmlns:fake="no" -->
  <soapenv:Body><deploy a="x=y" b='it''s' xmlnsish="no"><![CDATA[ <y xmlns:c="d"> ]]></deploy>
  <e xmlns = "u"/></soapenv:Body>
</soapenv:Envelope>"#;
        assert_eq!(
            scan(text),
            Shape {
                most_attributes: 3,
                namespace_declarations: 3,
            }
        );
        assert_eq!(check(text), Ok(()));
    }

    #[test]
    fn refuses_the_shapes_the_parser_spends_quadratic_time_on() {
        let many: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"v\""))
            .collect();
        assert_eq!(
            check(&format!("<r{many}/>")),
            Err(ShapeError::TooManyAttributes)
        );
        let at_limit: String = (0..MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"v\""))
            .collect();
        assert_eq!(check(&format!("<r{at_limit}/>")), Ok(()));
        // Few per element, many in all: the declarations that nest and pile up.
        let nested: String = (0..=MAX_NAMESPACE_DECLARATIONS)
            .map(|i| format!("<e xmlns:p{i}=\"u\">"))
            .collect();
        assert_eq!(check(&nested), Err(ShapeError::TooManyNamespaces));
    }

    #[test]
    fn odd_text_is_scanned_without_panics() {
        for text in [
            "<",
            "<a",
            "<a b=\"",
            "<!--",
            "<![CDATA[",
            "<?",
            "<a xmlns",
            "é<é xmlns:é=\"é\">",
        ] {
            let _ = scan(text);
        }
        assert_eq!(scan("<a xmlns:é=\"é\">").namespace_declarations, 1);
    }
}
