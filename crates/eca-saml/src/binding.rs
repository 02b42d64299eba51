//! The two bindings SAML requests arrive by (SAML Bindings §3.4 HTTP-Redirect: `SAMLRequest`
//! is base64 of raw DEFLATE and the signature is over the query string; §3.5 HTTP-POST:
//! base64 XML with an enveloped signature), and the Redirect encoding of outgoing messages.
//!
//! Decoding is bounded at every step (encoded length, inflated length, XML size). A decoded
//! message is not trusted until [`IncomingRequest::verified`] has checked its signature as
//! the service provider requires; the message is then read from exactly the verified element.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roxmltree::Node;

use crate::dsig;
use crate::error::SamlError;
use crate::keys::{IdpKey, SignatureAlgorithm};
use crate::service_provider::{EntityId, ServiceProvider};
use crate::xml::{self, MAX_XML_LEN, NS_ASSERTION};

/// The longest encoded `SAMLRequest` (query or form value) accepted.
pub const MAX_ENCODED_LEN: usize = 96 * 1024;
/// The longest `RelayState` taken, by either binding. SAML Bindings §3.4.3 caps it at 80
/// bytes; real service providers send URLs, so more is taken, but bounded (it travels through
/// the login page and back).
pub const MAX_RELAY_STATE: usize = 1024;

/// Refuses a `RelayState` over [`MAX_RELAY_STATE`] bytes.
fn bounded_relay_state(relay_state: Option<String>) -> Result<Option<String>, SamlError> {
    match relay_state {
        Some(r) if r.len() > MAX_RELAY_STATE => Err(SamlError::Malformed(
            "the RelayState is longer than 1024 bytes",
        )),
        other => Ok(other),
    }
}

/// The `SAMLEncoding` of Bindings §3.4.4.1.
const DEFLATE_ENCODING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE";

/// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST` (Bindings §3.5).
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect` (Bindings §3.4).
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// The binding a message arrived by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Redirect,
    Post,
}

/// The parameters of a Redirect-binding message, as they came (still URL-encoded) and decoded.
#[derive(Debug, Clone)]
pub struct RedirectMessage {
    saml_request_raw: String,
    relay_state_raw: Option<String>,
    sig_alg_raw: Option<String>,
    sig_alg: Option<String>,
    signature: Option<String>,
    relay_state: Option<String>,
    xml: String,
}

/// A message received by the Redirect or POST binding, decoded but not yet trusted.
#[derive(Debug, Clone)]
pub enum IncomingRequest {
    Redirect(RedirectMessage),
    Post {
        xml: String,
        relay_state: Option<String>,
    },
}

impl IncomingRequest {
    /// The query string of a Redirect-binding request (without the `?`), as received: the
    /// signature is over the original encoding (Bindings §3.4.4.1), so the server must not
    /// decode it first.
    pub fn from_redirect_query(query: &str) -> Result<Self, SamlError> {
        if query.len() > MAX_ENCODED_LEN + 8 * 1024 {
            return Err(SamlError::TooLarge);
        }
        let mut saml_request = None;
        let mut relay_state = None;
        let mut sig_alg = None;
        let mut signature = None;
        let mut encoding = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match k {
                "SAMLRequest" => &mut saml_request,
                "RelayState" => &mut relay_state,
                "SigAlg" => &mut sig_alg,
                "Signature" => &mut signature,
                "SAMLEncoding" => &mut encoding,
                _ => continue,
            };
            if slot.replace(v.to_owned()).is_some() {
                return Err(SamlError::Malformed("a SAML parameter is repeated"));
            }
        }
        // Bindings §3.4.4: DEFLATE is the only encoding defined, and the default.
        if encoding.is_some_and(|e| url_decode(&e).ok().as_deref() != Some(DEFLATE_ENCODING)) {
            return Err(SamlError::Malformed("unsupported SAMLEncoding"));
        }
        let saml_request_raw = saml_request.ok_or(SamlError::Malformed("no SAMLRequest"))?;
        if saml_request_raw.len() > MAX_ENCODED_LEN {
            return Err(SamlError::TooLarge);
        }
        let deflated = decode_base64(&url_decode(&saml_request_raw)?)?;
        let xml = inflate(&deflated)?;
        if signature.is_some() != sig_alg.is_some() {
            return Err(SamlError::Malformed("Signature and SigAlg go together"));
        }
        Ok(Self::Redirect(RedirectMessage {
            relay_state: bounded_relay_state(relay_state.as_deref().map(url_decode).transpose()?)?,
            sig_alg: sig_alg.as_deref().map(url_decode).transpose()?,
            signature: signature.as_deref().map(url_decode).transpose()?,
            saml_request_raw,
            relay_state_raw: relay_state,
            sig_alg_raw: sig_alg,
            xml,
        }))
    }

    /// The `SAMLRequest` and `RelayState` form fields of a POST-binding request, already
    /// form-decoded by the server.
    pub fn from_post_form(
        saml_request: &str,
        relay_state: Option<&str>,
    ) -> Result<Self, SamlError> {
        if saml_request.len() > MAX_ENCODED_LEN {
            return Err(SamlError::TooLarge);
        }
        let bytes = decode_base64(saml_request)?;
        if bytes.len() > MAX_XML_LEN {
            return Err(SamlError::TooLarge);
        }
        let xml = String::from_utf8(bytes).map_err(|_| SamlError::Malformed("not UTF-8"))?;
        Ok(Self::Post {
            xml,
            relay_state: bounded_relay_state(relay_state.map(str::to_owned))?,
        })
    }

    pub fn binding(&self) -> Binding {
        match self {
            Self::Redirect(_) => Binding::Redirect,
            Self::Post { .. } => Binding::Post,
        }
    }

    /// The decoded XML.
    pub fn xml(&self) -> &str {
        match self {
            Self::Redirect(m) => &m.xml,
            Self::Post { xml, .. } => xml,
        }
    }

    /// `RelayState`, decoded, to send back unchanged (Bindings §3.4.3, §3.5.3).
    pub fn relay_state(&self) -> Option<&str> {
        match self {
            Self::Redirect(m) => m.relay_state.as_deref(),
            Self::Post { relay_state, .. } => relay_state.as_deref(),
        }
    }

    /// The `Issuer`, **unverified**: only to look up the service provider whose certificate
    /// then checks the signature.
    pub fn issuer_unverified(&self) -> Result<Option<EntityId>, SamlError> {
        let doc = xml::parse(self.xml())?;
        read_issuer(doc.root_element())
    }

    /// Checks the signature as `sp` requires, then hands the verified root element to `read`
    /// with whether a signature was checked. Without a registered certificate every request
    /// is accepted, signed or not (`spec/metadata.md` §2.6), and the flag is false.
    pub fn verified<T>(
        &self,
        sp: &ServiceProvider,
        read: impl FnOnce(Node<'_, '_>, bool) -> Result<T, SamlError>,
    ) -> Result<T, SamlError> {
        let doc = xml::parse(self.xml())?;
        let root = doc.root_element();
        let mut is_signed = false;
        if let Some(cert) = &sp.request_certificate {
            match self {
                Self::Redirect(m) => {
                    if dsig::has_signature(root) {
                        // Bindings §3.4.4.1: the Redirect binding carries no XML signature.
                        return Err(SamlError::BadSignature(
                            "an XML signature in a Redirect message",
                        ));
                    }
                    m.verify_query_signature(cert, sp.allows_sha1)?;
                }
                Self::Post { .. } => dsig::verify_enveloped(root, cert, sp.allows_sha1)?,
            }
            is_signed = true;
        }
        read(root, is_signed)
    }
}

impl RedirectMessage {
    /// Bindings §3.4.4.1: the signature is over `SAMLRequest=…&RelayState=…&SigAlg=…` built
    /// from the parameters exactly as they were encoded in the query string, RelayState left
    /// out when absent.
    fn verify_query_signature(
        &self,
        cert: &crate::keys::Certificate,
        allow_sha1: bool,
    ) -> Result<(), SamlError> {
        let (Some(sig_alg), Some(sig_alg_raw), Some(signature)) =
            (&self.sig_alg, &self.sig_alg_raw, &self.signature)
        else {
            return Err(SamlError::MissingSignature);
        };
        let alg = SignatureAlgorithm::from_uri(sig_alg).ok_or(SamlError::UnsupportedAlgorithm)?;
        if alg == SignatureAlgorithm::RsaSha1 && !allow_sha1 {
            return Err(SamlError::UnsupportedAlgorithm);
        }
        let mut signed = format!("SAMLRequest={}", self.saml_request_raw);
        if let Some(rs) = &self.relay_state_raw {
            signed.push_str("&RelayState=");
            signed.push_str(rs);
        }
        signed.push_str("&SigAlg=");
        signed.push_str(sig_alg_raw);
        let value = decode_base64(signature)
            .map_err(|_| SamlError::BadSignature("bad base64 in the signature"))?;
        cert.verify(alg, signed.as_bytes(), &value)
    }
}

pub(crate) fn read_issuer(root: Node<'_, '_>) -> Result<Option<EntityId>, SamlError> {
    Ok(
        xml::single_child(root, NS_ASSERTION, "Issuer", "Issuer is repeated")?
            .map(|n| EntityId::new(xml::text_of(n))),
    )
}

/// Percent-decoding of a query value (`+` is a space, as in forms).
fn url_decode(s: &str) -> Result<String, SamlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .ok_or(SamlError::Malformed("bad percent-encoding"))?;
                out.push(
                    u8::from_str_radix(hex, 16)
                        .map_err(|_| SamlError::Malformed("bad percent-encoding"))?,
                );
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| SamlError::Malformed("not UTF-8"))
}

/// Base64 with line breaks tolerated; a space stands for a `+` that was not percent-encoded.
fn decode_base64(s: &str) -> Result<Vec<u8>, SamlError> {
    let compact: String = s
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\t'))
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    STANDARD
        .decode(compact)
        .map_err(|_| SamlError::Malformed("bad base64"))
}

/// Raw DEFLATE (RFC 1951, Bindings §3.4.4.1), bounded: a small message may not inflate into a
/// large one.
fn inflate(data: &[u8]) -> Result<String, SamlError> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .take(MAX_XML_LEN as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| SamlError::Malformed("bad DEFLATE data"))?;
    if out.len() > MAX_XML_LEN {
        return Err(SamlError::TooLarge);
    }
    String::from_utf8(out).map_err(|_| SamlError::Malformed("not UTF-8"))
}

/// The HTTP-Redirect encoding of an outgoing message (Bindings §3.4.4.1): the query string
/// `SAMLResponse=…[&RelayState=…]&SigAlg=…&Signature=…` (or `SAMLRequest`), signed with
/// RSA-SHA256 over exactly the encoded parameters that precede `Signature`.
pub fn redirect_query(
    parameter: &str,
    xml: &str,
    relay_state: Option<&str>,
    key: &IdpKey,
) -> Result<String, SamlError> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes())
        .map_err(|_| SamlError::Key("DEFLATE failed"))?;
    let deflated = enc.finish().map_err(|_| SamlError::Key("DEFLATE failed"))?;
    let mut q = format!("{parameter}={}", url_encode(&STANDARD.encode(deflated)));
    if let Some(rs) = relay_state {
        q.push_str("&RelayState=");
        q.push_str(&url_encode(rs));
    }
    q.push_str("&SigAlg=");
    q.push_str(&url_encode(SignatureAlgorithm::RsaSha256.uri()));
    let signature = key.sign_sha256(q.as_bytes())?;
    q.push_str("&Signature=");
    q.push_str(&url_encode(&STANDARD.encode(signature)));
    Ok(q)
}

/// Percent-encoding of a query value: everything but RFC 3986 unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_keys::{IDP_CRT, idp};
    use eca_metadata::model::SamlPolicies;

    #[test]
    fn redirect_encoding_round_trips_through_our_decoder() {
        let xml = "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_1\"/>";
        let q = redirect_query("SAMLRequest", xml, Some("a b&c"), &idp()).unwrap();
        let msg = IncomingRequest::from_redirect_query(&q).unwrap();
        assert_eq!(msg.xml(), xml);
        assert_eq!(msg.relay_state(), Some("a b&c"));
        let sp = ServiceProvider::from_policies(&SamlPolicies {
            entity_url: Some("e".into()),
            acs_url: Some("a".into()),
            certificate: Some(IDP_CRT.into()),
            ..SamlPolicies::default()
        })
        .unwrap();
        assert_eq!(msg.verified(&sp, |_, signed| Ok(signed)), Ok(true));
        assert_eq!(url_encode("a+b/c=~"), "a%2Bb%2Fc%3D~");
        let explicit = format!("{q}&SAMLEncoding={}", url_encode(DEFLATE_ENCODING));
        assert!(IncomingRequest::from_redirect_query(&explicit).is_ok());
        assert_eq!(
            IncomingRequest::from_redirect_query(&format!("{q}&SAMLEncoding=gzip")).err(),
            Some(SamlError::Malformed("unsupported SAMLEncoding"))
        );
    }
}
