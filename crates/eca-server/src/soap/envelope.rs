//! Reading a SOAP 1.1 request to the partner endpoint into a closed [`PartnerCall`], once
//! (`STYLE.md` §7). The parser refuses DTDs (no entity expansion, no external fetches) and
//! bounds the node count; the body size is bounded before it gets here.

use eca_core::Secret;

use super::xml::{PARTNER_NS, SOAP_ENV};
use crate::error::ApiError;

/// More than any login or logout envelope needs, small enough to bound memory.
const NODES_LIMIT: u32 = 10_000;

/// A parsed partner API request.
#[derive(Debug)]
pub struct PartnerCall {
    /// `<SessionHeader><sessionId>` from the envelope header, if any.
    pub session_id: Option<Secret>,
    pub operation: Operation,
}

/// The partner API operations, by the body's first element.
#[derive(Debug)]
pub enum Operation {
    /// `login(username, password)`. The password may carry the security token appended; it
    /// is compared as given (OpenECA has no security tokens), see `docs/server.md`.
    Login { username: String, password: Secret },
    /// `logout()`: ends the session of the `SessionHeader`.
    Logout,
    /// Any other partner operation (`query`, `describeGlobal`...), not implemented here.
    Other(String),
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::Malformed(message.into())
}

/// Parses a partner API request body.
pub fn parse(body: &[u8]) -> Result<PartnerCall, ApiError> {
    let text =
        std::str::from_utf8(body).map_err(|_| malformed("The request body is not UTF-8 text"))?;
    // Before the session is checked: shapes the parser would spend quadratic time on are
    // refused by a linear scan first (`eca_metadata::xml_shape`).
    eca_metadata::xml_shape::check(text)
        .map_err(|e| malformed(format!("The request is refused: {e}")))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| malformed(format!("The request is not well-formed XML: {e}")))?;
    if crate::soap::xml::too_deep(&doc) {
        return Err(malformed(format!(
            "The request nests elements more than {} levels deep",
            crate::soap::xml::MAX_REQUEST_DEPTH
        )));
    }
    let envelope = doc.root_element();
    if !is(envelope, SOAP_ENV, "Envelope") {
        return Err(malformed(format!(
            "The request is not a SOAP 1.1 envelope: expected {{{SOAP_ENV}}}Envelope, found {}",
            qualified(envelope)
        )));
    }
    let mut header = None;
    let mut body = None;
    for child in envelope.children().filter(roxmltree::Node::is_element) {
        if is(child, SOAP_ENV, "Header") {
            header = Some(child);
        } else if is(child, SOAP_ENV, "Body") {
            body = Some(child);
        }
    }
    let body = body.ok_or_else(|| malformed("The SOAP envelope has no Body"))?;
    let call = body
        .children()
        .find(roxmltree::Node::is_element)
        .ok_or_else(|| malformed("The SOAP Body is empty"))?;

    let session_id = header
        .and_then(|h| child(h, "SessionHeader"))
        .and_then(|s| child(s, "sessionId"))
        .map(|n| Secret::new(n.text().unwrap_or("").trim()));

    let namespace = call.tag_name().namespace().unwrap_or("");
    if namespace != PARTNER_NS {
        return Err(ApiError::UnknownOperation {
            namespace: namespace.to_owned(),
            name: call.tag_name().name().to_owned(),
        });
    }
    let operation = match call.tag_name().name() {
        "login" => Operation::Login {
            username: child(call, "username")
                .and_then(|n| n.text())
                .unwrap_or("")
                .trim()
                .to_owned(),
            password: Secret::new(child(call, "password").and_then(|n| n.text()).unwrap_or("")),
        },
        "logout" => Operation::Logout,
        other => Operation::Other(other.to_owned()),
    };
    Ok(PartnerCall {
        session_id,
        operation,
    })
}

fn is(node: roxmltree::Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.tag_name().namespace() == Some(namespace) && node.tag_name().name() == name
}

/// The first child element with this local name. Clients differ in whether they qualify the
/// parameters of an operation (jsforce and simple-salesforce put them in the partner
/// namespace; some hand-written envelopes leave them unqualified), so the namespace is not
/// checked here.
fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn qualified(node: roxmltree::Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(header: &str, body: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><env:Envelope xmlns:env=\"{SOAP_ENV}\" \
             xmlns:urn=\"{PARTNER_NS}\"><env:Header>{header}</env:Header><env:Body>{body}</env:Body></env:Envelope>"
        )
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        match parse(envelope("", &format!("<urn:logout>{deep}</urn:logout>")).as_bytes()) {
            Err(ApiError::Malformed(m)) => assert!(m.contains("64 levels"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_login_and_logout() {
        let call = parse(
            envelope(
                "",
                "<urn:login><urn:username> a@b.c </urn:username><urn:password>p&amp;w</urn:password></urn:login>",
            )
            .as_bytes(),
        )
        .unwrap();
        match call.operation {
            Operation::Login { username, password } => {
                assert_eq!(username, "a@b.c");
                assert_eq!(password.expose(), "p&w");
            }
            other => panic!("{other:?}"),
        }
        let call = parse(
            envelope(
                "<urn:SessionHeader><urn:sessionId>00D!x</urn:sessionId></urn:SessionHeader>",
                "<urn:logout/>",
            )
            .as_bytes(),
        )
        .unwrap();
        assert!(matches!(call.operation, Operation::Logout));
        assert_eq!(call.session_id.unwrap().expose(), "00D!x");
    }

    #[test]
    fn refuses_bad_envelopes() {
        for (body, expected) in [
            ("not xml", "well-formed"),
            ("<a/>", "SOAP 1.1 envelope"),
            (
                "<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>",
                "well-formed",
            ),
        ] {
            match parse(body.as_bytes()) {
                Err(ApiError::Malformed(m)) => assert!(m.contains(expected), "{m}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            parse(envelope("", "<q xmlns=\"urn:other\"/>").as_bytes()),
            Err(ApiError::UnknownOperation { .. })
        ));
        assert!(matches!(
            parse(envelope("", "<urn:query/>").as_bytes()).map(|c| c.operation),
            Ok(Operation::Other(op)) if op == "query"
        ));
    }
}
