//! The parameters of an OAuth endpoint request, as ordered `(name, value)` pairs: from an
//! `application/x-www-form-urlencoded` body (chunked or not: the body is read whole first) or
//! a `multipart/form-data` body (the Salesforce Postman collection and the old
//! @salesforce/core device flow send it, `spec/oauth-and-connect.md` §0), or a query string.
//!
//! Any other or missing content type is read as urlencoded: a body that is not a form then
//! yields no `grant_type`, which the engine answers as Salesforce does
//! (`unsupported_grant_type`). Multipart parts that are files are skipped; only text fields are
//! parameters.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use eca_oauth::{OAuthError, RequestProblem};

/// The largest body the token, device authorization, revoke and introspection endpoints
/// read. Their requests are a few parameters; the longest, a JWT bearer assertion, is a few
/// KiB. A larger body is refused before it is read, so one request cannot make the form
/// parser allocate for millions of pairs.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The body of a request to an OAuth endpoint, or why it was not read: larger than
/// [`BODY_LIMIT`] (413), or broken off.
pub fn read(body: Result<Bytes, BytesRejection>) -> Result<Bytes, OAuthError> {
    body.map_err(|e| {
        OAuthError::InvalidRequest(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            RequestProblem::BodyTooLarge { limit: BODY_LIMIT }
        } else {
            RequestProblem::UnreadableBody
        })
    })
}

/// The form parameters of a request body.
pub fn body_pairs(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match multipart_boundary(content_type) {
        Some(boundary) => multipart(body, &boundary),
        None => urlencoded(body),
    }
}

/// The parameters of a query string (`GET /services/oauth2/revoke?token=`).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    urlencoded(query.unwrap_or("").as_bytes())
}

/// The WHATWG `application/x-www-form-urlencoded` parser (the URL Standard §5.1, as the
/// `form_urlencoded` crate implements it): pairs split on `&`, empty ones skipped, each split
/// at its first `=`, `+` read as a space, percent escapes decoded, invalid UTF-8 replaced.
/// A name or value with no `+` or `%` (every token request's grant type, client id and
/// secret) is only checked for UTF-8 and copied: the token endpoint parses a body per request.
fn urlencoded(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|b| *b == b'=') {
            Some(at) => (decoded(&pair[..at]), decoded(&pair[at + 1..])),
            None => (decoded(pair), String::new()),
        })
        .collect()
}

/// One name or value of a urlencoded form, decoded.
fn decoded(raw: &[u8]) -> String {
    if raw.iter().any(|b| matches!(b, b'+' | b'%')) {
        // The crate decodes it, as the value of a pair with an empty name (`raw` holds no `&`).
        let mut pair = Vec::with_capacity(raw.len() + 1);
        pair.push(b'=');
        pair.extend_from_slice(raw);
        return form_urlencoded::parse(&pair)
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
    }
    match std::str::from_utf8(raw) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

/// The `boundary` of a `multipart/form-data` content type (RFC 7578 §4.1), unquoted.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let media = parts.next()?.trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts.find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

/// The text fields of a multipart body (RFC 7578). Malformed parts are skipped.
fn multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let delimiter = format!("--{boundary}");
    let Ok(text) = std::str::from_utf8(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Everything before the first delimiter is preamble; the part after `--boundary--` is
    // epilogue.
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let mut name = None;
        let mut is_file = false;
        for line in head.split("\r\n") {
            let Some((header, params)) = line.split_once(':') else {
                continue;
            };
            if !header.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for param in params.split(';').skip(1) {
                let Some((k, v)) = param.trim().split_once('=') else {
                    continue;
                };
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v.trim().trim_matches('"').to_owned()),
                    "filename" => is_file = true,
                    _ => {}
                }
            }
        }
        if let (Some(name), false) = (name, is_file) {
            out.push((name, value.to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn urlencoded_bodies_decode_in_order() {
        assert_eq!(
            urlencoded(b"grant_type=client_credentials&scope=api+web&x=%21"),
            pairs(&[
                ("grant_type", "client_credentials"),
                ("scope", "api web"),
                ("x", "!")
            ])
        );
    }

    /// The parser agrees with the `form_urlencoded` crate on every shape of input.
    #[test]
    fn urlencoded_bodies_decode_as_the_url_standard_says() {
        let bodies: &[&[u8]] = &[
            b"",
            b"&&",
            b"a",
            b"a=",
            b"=b",
            b"=",
            b"a=b=c&&d&e=%3D%26",
            b"scope=api+web+refresh_token&x=%2B+%2b",
            b"bad=%zz%4&pct=%&tail=%4",
            b"utf8=%C3%A9t%C3%A9&raw=\xc3\xa9",
            b"invalid=%FF%FE&raw=\xff+\xfe",
            b"client_id=3MVG9.abc_DEF-123&client_secret=0123456789ABCDEF",
        ];
        for body in bodies {
            let expected: Vec<(String, String)> =
                form_urlencoded::parse(body).into_owned().collect();
            assert_eq!(
                urlencoded(body),
                expected,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Raw bytes too, not only escapes.
        let raw = [
            b"n=\xff\xfe&m=\xc3\xa9+".as_slice(),
            &[b'x', b'=', 0xff, b'+', 0xc3, 0xa9],
        ]
        .concat();
        let expected: Vec<(String, String)> = form_urlencoded::parse(&raw).into_owned().collect();
        assert_eq!(urlencoded(&raw), expected);
    }

    #[test]
    fn multipart_bodies_yield_their_text_fields() {
        let body = "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n\
                    --XyZ\r\ncontent-disposition: form-data; name=scope\r\nContent-Type: text/plain\r\n\r\napi web\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nignored\r\n--XyZ--\r\n";
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "multipart/form-data; boundary=\"XyZ\""
                .parse()
                .expect("a header"),
        );
        assert_eq!(
            body_pairs(&headers, body.as_bytes()),
            pairs(&[("grant_type", "client_credentials"), ("scope", "api web")])
        );
        assert_eq!(multipart_boundary("multipart/form-data"), None);
        assert_eq!(multipart_boundary("application/json; boundary=x"), None);
    }
}
