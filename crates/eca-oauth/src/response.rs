//! Token-endpoint responses in the three formats Salesforce offers (`spec/oauth-and-connect.md`
//! §0, §1.8): JSON (the default), `application/x-www-form-urlencoded`, and XML, chosen by
//! the `format` parameter or else the `Accept` header.
//!
//! Field order is fixed and the same in every format, following Salesforce's samples:
//! `access_token`, `refresh_token`, `signature`, `scope`, `id_token`, `instance_url`, `id`,
//! `token_type`, `issued_at`, then our additions `api_instance_url` and `token_format`.
//! Absent optional fields are left out, never written as `null`.
//!
//! The XML shape, `<OAuth><access_token>…</access_token>…</OAuth>` with the fields as child
//! elements in the same order, is our choice: Salesforce's XML token response was not
//! observed. Errors use the same shape (`<OAuth><error>…</error>…</OAuth>`).

use eca_core::{Secret, Timestamp};
use serde::{Serialize, Serializer};

use crate::error::ErrorBody;

/// How a token-endpoint response is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseFormat {
    #[default]
    Json,
    Urlencoded,
    Xml,
}

impl ResponseFormat {
    /// The `format` parameter: `json`, `urlencoded` or `xml`, in any case.
    pub fn from_param(value: &str) -> Option<Self> {
        let v = value.trim();
        [
            ("json", ResponseFormat::Json),
            ("urlencoded", ResponseFormat::Urlencoded),
            ("xml", ResponseFormat::Xml),
        ]
        .into_iter()
        .find(|(name, _)| v.eq_ignore_ascii_case(name))
        .map(|(_, f)| f)
    }

    /// The preferred known media type of an `Accept` header (RFC 9110 §12.5.1): highest
    /// `q` wins, the earlier on a tie; wildcards and unknown types say nothing.
    pub fn from_accept(accept: &str) -> Option<Self> {
        let mut best: Option<(u32, ResponseFormat)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let format = match media.as_str() {
                "application/json" => ResponseFormat::Json,
                "application/x-www-form-urlencoded" => ResponseFormat::Urlencoded,
                "application/xml" | "text/xml" => ResponseFormat::Xml,
                _ => continue,
            };
            let q = parts
                .filter_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .or_else(|| p.trim().strip_prefix("Q="))
                })
                .find_map(parse_q)
                .unwrap_or(1000);
            if q > 0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, format));
            }
        }
        best.map(|(_, f)| f)
    }

    /// The format of a response: the `format` parameter if it names one, else the `Accept`
    /// header, else JSON. An unknown `format` value falls through rather than failing: the
    /// request deserves an answer, and JSON is what every client reads.
    pub fn negotiate(format_param: Option<&str>, accept: Option<&str>) -> Self {
        format_param
            .and_then(Self::from_param)
            .or_else(|| accept.and_then(Self::from_accept))
            .unwrap_or_default()
    }

    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseFormat::Json => "application/json;charset=UTF-8",
            ResponseFormat::Urlencoded => "application/x-www-form-urlencoded;charset=UTF-8",
            ResponseFormat::Xml => "application/xml;charset=UTF-8",
        }
    }
}

/// `q` in thousandths (RFC 9110 §12.4.2: at most three decimals, 0 to 1).
fn parse_q(v: &str) -> Option<u32> {
    let v = v.trim();
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: u32 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(frac),
        "1" if frac == 0 => Some(1000),
        _ => None,
    }
}

/// The first `format` parameter of a request, read before (and even if) the request fails
/// to parse, so its error can be written in the format asked for.
pub fn format_param(pairs: &[(String, String)]) -> Option<&str> {
    pairs
        .iter()
        .find(|(n, _)| n == "format")
        .map(|(_, v)| v.as_str())
}

/// A successful token response (spec §1.8). Tokens are [`Secret`]s so that a debug print
/// of a response shows none of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    #[serde(serialize_with = "expose")]
    pub access_token: Secret,
    #[serde(serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    pub scope: String,
    #[serde(serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    pub instance_url: String,
    pub id: String,
    pub token_type: &'static str,
    /// Milliseconds since the epoch, as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_instance_url: Option<String>,
    /// `jwt` when the access token is a JWT (spec `metadata.md` §9.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_format: Option<String>,
}

fn expose<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

fn expose_opt<S: Serializer>(secret: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(v) => s.serialize_str(v.expose()),
        None => s.serialize_none(),
    }
}

impl TokenResponse {
    /// A `Bearer` response with the fields every grant returns.
    pub fn new(access_token: Secret, instance_url: String, id: String, scope: String) -> Self {
        Self {
            access_token,
            refresh_token: None,
            signature: None,
            scope,
            id_token: None,
            instance_url,
            id,
            token_type: "Bearer",
            issued_at: None,
            api_instance_url: None,
            token_format: None,
        }
    }

    /// Sets `issued_at` and the `signature` over `id` + `issued_at` keyed with the consumer
    /// secret (spec §1.8). The JWT bearer grant leaves both out, as Salesforce does.
    pub fn signed(mut self, consumer_secret: &Secret, issued_at: Timestamp) -> Self {
        let issued = issued_at.millis().to_string();
        self.signature = Some(crate::signature::sign_raw(
            consumer_secret,
            &self.id,
            &issued,
        ));
        self.issued_at = Some(issued);
        self
    }

    /// The present fields, in wire order.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![("access_token", self.access_token.expose())];
        out.extend(field(
            "refresh_token",
            self.refresh_token.as_ref().map(Secret::expose),
        ));
        out.extend(field("signature", self.signature.as_deref()));
        out.push(("scope", &self.scope));
        out.extend(field(
            "id_token",
            self.id_token.as_ref().map(Secret::expose),
        ));
        out.push(("instance_url", &self.instance_url));
        out.push(("id", &self.id));
        out.push(("token_type", self.token_type));
        out.extend(field("issued_at", self.issued_at.as_deref()));
        out.extend(field("api_instance_url", self.api_instance_url.as_deref()));
        out.extend(field("token_format", self.token_format.as_deref()));
        out
    }

    /// The body in `format`; its `Content-Type` is [`ResponseFormat::content_type`].
    pub fn render(&self, format: ResponseFormat) -> String {
        match format {
            // Serializing a struct of strings cannot fail.
            ResponseFormat::Json => {
                // One allocation: a token response runs to 300-1,500 bytes (an ID token makes
                // it longer), and serde_json would start at 128 and grow it two or three times.
                let mut body = Vec::with_capacity(1_024);
                match serde_json::to_writer(&mut body, self) {
                    // serde_json writes UTF-8 only.
                    Ok(()) => String::from_utf8(body).unwrap_or_default(),
                    Err(_) => String::new(),
                }
            }
            ResponseFormat::Urlencoded => render_urlencoded(&self.fields()),
            ResponseFormat::Xml => render_xml(&self.fields()),
        }
    }
}

impl ErrorBody {
    /// The error body in `format`.
    pub fn render(&self, format: ResponseFormat) -> String {
        let fields = [
            ("error", self.error.as_str()),
            ("error_description", self.error_description.as_str()),
        ];
        match format {
            ResponseFormat::Json => serde_json::to_string(self).unwrap_or_default(),
            ResponseFormat::Urlencoded => render_urlencoded(&fields),
            ResponseFormat::Xml => render_xml(&fields),
        }
    }
}

/// A present optional field.
fn field<'a>(name: &'static str, value: Option<&'a str>) -> Option<(&'static str, &'a str)> {
    value.map(|v| (name, v))
}

pub(crate) fn render_urlencoded(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, value) in fields {
        if !out.is_empty() {
            out.push('&');
        }
        form_encode(name, &mut out);
        out.push('=');
        form_encode(value, &mut out);
    }
    out
}

/// `application/x-www-form-urlencoded` encoding (the WHATWG URL standard's byte serializer):
/// `*-._` and alphanumerics stay, a space becomes `+`, everything else `%XX`.
fn form_encode(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

pub(crate) fn render_xml(fields: &[(&str, &str)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><OAuth>");
    for (name, value) in fields {
        out.push('<');
        out.push_str(name);
        out.push('>');
        for c in value.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&apos;"),
                c => out.push(c),
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("</OAuth>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OAuthError;

    fn sample() -> TokenResponse {
        let mut r = TokenResponse::new(
            Secret::new("00D50000000IZ3Z!AQ4AQ.x_y"),
            "https://acme.my.example.com".into(),
            "https://login.example.com/id/00D50000000IZ3ZEAW/00550000001fg5OAAQ".into(),
            "api web refresh_token".into(),
        )
        .signed(
            &Secret::new("3F4C8C2FD0B6A3E8B21F2C6A0E5D5B4A9C8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F"),
            Timestamp::from_millis(1_278_448_832_702),
        );
        r.refresh_token = Some(Secret::new("5Aep861a.b"));
        r
    }

    #[test]
    fn json_in_wire_order() {
        let r = sample();
        let json = r.render(ResponseFormat::Json);
        let sig = r.signature.clone().unwrap();
        assert_eq!(
            json,
            format!(
                "{{\"access_token\":\"00D50000000IZ3Z!AQ4AQ.x_y\",\"refresh_token\":\"5Aep861a.b\",\
                 \"signature\":\"{sig}\",\"scope\":\"api web refresh_token\",\
                 \"instance_url\":\"https://acme.my.example.com\",\
                 \"id\":\"https://login.example.com/id/00D50000000IZ3ZEAW/00550000001fg5OAAQ\",\
                 \"token_type\":\"Bearer\",\"issued_at\":\"1278448832702\"}}"
            )
        );
        // The signature is the one §1.8 defines.
        assert!(crate::signature::verify(
            &Secret::new("3F4C8C2FD0B6A3E8B21F2C6A0E5D5B4A9C8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F"),
            &r.id,
            "1278448832702",
            &sig
        ));
        // JSON keys come in the same order as fields(), which the other formats use.
        let keys: Vec<&str> = r.fields().iter().map(|(k, _)| *k).collect();
        let mut last = 0;
        for k in &keys {
            let at = json.find(&format!("\"{k}\":")).unwrap();
            assert!(at >= last, "{k}");
            last = at;
        }
    }

    #[test]
    fn minimal_jwt_bearer_shape() {
        // The JWT bearer response of the Postman sample: no signature, no issued_at.
        let mut r = TokenResponse::new(
            Secret::new("tok"),
            "https://i".into(),
            "https://l/id/o/u".into(),
            "api".into(),
        );
        r.token_format = Some("jwt".into());
        assert_eq!(
            r.render(ResponseFormat::Json),
            r#"{"access_token":"tok","scope":"api","instance_url":"https://i","id":"https://l/id/o/u","token_type":"Bearer","token_format":"jwt"}"#
        );
        assert!(!format!("{r:?}").contains("tok\""));
    }

    #[test]
    fn urlencoded_and_xml() {
        let mut r = TokenResponse::new(
            Secret::new("00D!AQ a+b/c=="),
            "https://i".into(),
            "https://l/id/o/u".into(),
            "api web".into(),
        );
        r.api_instance_url = Some("https://api.i".into());
        assert_eq!(
            r.render(ResponseFormat::Urlencoded),
            "access_token=00D%21AQ+a%2Bb%2Fc%3D%3D&scope=api+web&instance_url=https%3A%2F%2Fi\
             &id=https%3A%2F%2Fl%2Fid%2Fo%2Fu&token_type=Bearer&api_instance_url=https%3A%2F%2Fapi.i"
        );
        r.scope = "a<b&c>\"'".into();
        assert_eq!(
            r.render(ResponseFormat::Xml),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><OAuth><access_token>00D!AQ a+b/c==</access_token>\
             <scope>a&lt;b&amp;c&gt;&quot;&apos;</scope><instance_url>https://i</instance_url>\
             <id>https://l/id/o/u</id><token_type>Bearer</token_type>\
             <api_instance_url>https://api.i</api_instance_url></OAuth>"
        );
    }

    #[test]
    fn errors_in_every_format() {
        let body = OAuthError::ExpiredToken.body();
        let table: &[(ResponseFormat, &str)] = &[
            (
                ResponseFormat::Json,
                r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
            ),
            (
                ResponseFormat::Urlencoded,
                "error=invalid_grant&error_description=expired+access%2Frefresh+token",
            ),
            (
                ResponseFormat::Xml,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><OAuth><error>invalid_grant</error>\
                 <error_description>expired access/refresh token</error_description></OAuth>",
            ),
        ];
        for (format, expected) in table {
            assert_eq!(body.render(*format), *expected, "{format:?}");
        }
    }

    #[test]
    fn negotiation() {
        use ResponseFormat::{Json, Urlencoded, Xml};
        let table: &[(Option<&str>, Option<&str>, ResponseFormat)] = &[
            (None, None, Json),
            (Some("json"), Some("application/xml"), Json),
            (Some("XML"), None, Xml),
            (Some("urlencoded"), None, Urlencoded),
            (Some(" xml "), None, Xml),
            (Some("yaml"), Some("application/xml"), Xml),
            (Some(""), None, Json),
            (None, Some("application/json"), Json),
            (None, Some("application/x-www-form-urlencoded"), Urlencoded),
            (None, Some("text/xml"), Xml),
            (None, Some("Application/XML; charset=utf-8"), Xml),
            (None, Some("*/*"), Json),
            (None, Some("text/html"), Json),
            (None, Some("application/json, text/plain, */*"), Json),
            (
                None,
                Some("application/xml;q=0.5, application/json;q=0.9"),
                Json,
            ),
            (None, Some("application/json;q=0.5, application/xml"), Xml),
            (None, Some("application/xml;q=0.8, text/xml;q=0.8"), Xml),
            (
                None,
                Some("application/xml;q=0, application/json;q=0.1"),
                Json,
            ),
            (None, Some("application/xml;q=0"), Json),
            (None, Some("application/xml;q=2"), Xml),
            (
                None,
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                Xml,
            ),
        ];
        for (param, accept, expected) in table {
            assert_eq!(
                ResponseFormat::negotiate(*param, *accept),
                *expected,
                "{param:?} {accept:?}"
            );
        }
    }

    #[test]
    fn q_values() {
        let table: &[(&str, Option<u32>)] = &[
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0", Some(0)),
            ("0.", Some(0)),
            ("1.5", None),
            ("0.1234", None),
            ("abc", None),
            ("2", None),
        ];
        for (input, expected) in table {
            assert_eq!(parse_q(input), *expected, "{input}");
        }
    }

    #[test]
    fn format_parameter_is_found_before_parsing() {
        let pairs = vec![
            ("grant_type".to_owned(), "x".to_owned()),
            ("format".to_owned(), "xml".to_owned()),
        ];
        assert_eq!(format_param(&pairs), Some("xml"));
        assert_eq!(format_param(&[]), None);
        assert_eq!(
            ResponseFormat::Xml.content_type(),
            "application/xml;charset=UTF-8"
        );
    }
}
