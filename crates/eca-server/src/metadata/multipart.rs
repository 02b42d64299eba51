//! A small reader of `multipart/form-data` bodies (RFC 7578), enough for the REST
//! `deployRequest` upload: a few parts, each with a `Content-Disposition` name, read from a body
//! that is already whole and bounded in size.

use crate::error::ApiError;

/// One part of the body.
#[derive(Debug)]
pub struct Part<'a> {
    /// The `name` of its `Content-Disposition: form-data`.
    pub name: String,
    pub body: &'a [u8],
}

fn malformed(message: &str) -> ApiError {
    ApiError::Malformed(format!("The multipart body cannot be read: {message}"))
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let media = params.next()?.trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a body into its parts (RFC 2046 §5.1.1).
pub fn parse<'a>(boundary: &str, body: &'a [u8]) -> Result<Vec<Part<'a>>, ApiError> {
    let delimiter = format!("--{boundary}");
    let start = find(body, delimiter.as_bytes()).ok_or_else(|| malformed("no boundary"))?;
    let mut rest = &body[start + delimiter.len()..];
    let next_delimiter = format!("\r\n--{boundary}");
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or_else(|| malformed("a boundary is not followed by a line break"))?;
        let head_end = find(rest, b"\r\n\r\n").ok_or_else(|| malformed("a part has no headers"))?;
        let head = std::str::from_utf8(&rest[..head_end])
            .map_err(|_| malformed("part headers are not UTF-8"))?;
        let content = &rest[head_end + 4..];
        let end = find(content, next_delimiter.as_bytes())
            .ok_or_else(|| malformed("the closing boundary is missing"))?;
        parts.push(Part {
            name: part_name(head).unwrap_or_default(),
            body: &content[..end],
        });
        rest = &content[end + next_delimiter.len()..];
    }
}

/// The `name` of the `Content-Disposition` header among a part's headers.
fn part_name(head: &str) -> Option<String> {
    let disposition = head.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    })?;
    disposition.split(';').skip(1).find_map(|p| {
        let (key, value) = p.split_once('=')?;
        (key.trim() == "name").then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_salesforce_cli_upload() {
        let ct = "multipart/form-data; boundary=\"XyZ\"";
        let b = boundary(ct).unwrap();
        assert_eq!(b, "XyZ");
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"package.xml\"\r\n\
Content-Type: application/zip\r\n\r\nPK\x03\x04\r\n--\r\n--XyZ\r\nContent-Disposition: form-data; name=\"entity_content\"\r\n\
Content-Type: application/json\r\n\r\n{}\r\n--XyZ--\r\n";
        let parts = parse(&b, body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "file");
        assert_eq!(parts[0].body, b"PK\x03\x04\r\n--");
        assert_eq!(parts[1].name, "entity_content");
        assert_eq!(parts[1].body, b"{}");
        assert!(boundary("application/json").is_none());
        assert!(parse("XyZ", b"--XyZ\r\nno end").is_err());
    }
}
