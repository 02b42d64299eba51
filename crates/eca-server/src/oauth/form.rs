//! The parameters of an OAuth endpoint request, as ordered `(name, value)` pairs: from an
//! `application/x-www-form-urlencoded` body (chunked or not: the body is read whole first) or
//! a `multipart/form-data` body (the Salesforce Postman collection and the old
//! @salesforce/core device flow send it, `spec/oauth-and-connect.md` §0), or a query string.
//!
//! Any other or missing content type is read as urlencoded: a body that is not a form then
//! yields no `grant_type`, which the engine answers as Salesforce does
//! (`unsupported_grant_type`). Multipart parts that are files are skipped; only text fields are
//! parameters.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;

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

fn urlencoded(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
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
