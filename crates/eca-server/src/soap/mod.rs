//! SOAP endpoints: the partner API's `login` and `logout`, and what the Metadata API
//! (`crate::metadata`) shares with it: envelopes, XML rendering, the content-type check.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;

use crate::error::ApiError;

pub mod envelope;
pub mod partner;
pub mod xml;

/// SOAP 1.1 requests are `text/xml` (SOAP 1.1 §6.1.1); `application/soap+xml` and
/// `application/xml` are accepted too.
pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = value.split(';').next().unwrap_or("").trim();
    let ok = ["text/xml", "application/soap+xml", "application/xml"]
        .iter()
        .any(|m| media.eq_ignore_ascii_case(m));
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "The SOAP API reads Content-Type text/xml, not `{}`",
            if value.is_empty() { "(none)" } else { value }
        )))
    }
}
