//! The HTML the IdP answers browsers with: the auto-submitting HTTP-POST form (SAML Bindings
//! §3.5.4) and the 302 of the HTTP-Redirect binding (§3.4.4). Both go only to URLs taken from
//! the app's registration, never from a request.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

/// Submits the form as soon as the page loads; without JavaScript the `<noscript>` button
/// does it (Bindings §3.5.4 recommends exactly this).
const SUBMIT_SCRIPT: &str = "document.getElementById(\"saml-post\").submit();";

/// `'sha256-…'` of [`SUBMIT_SCRIPT`], the only script the page's content security policy
/// allows.
fn script_hash() -> String {
    let digest = eca_core::crypto::sha256(SUBMIT_SCRIPT.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// HTML escaping for text and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An auto-submitting POST of `fields` to `action` (a registered ACS or single logout URL).
pub fn post_form(action: &str, fields: &[(&str, &str)]) -> Response {
    let mut inputs = String::new();
    for (name, value) in fields {
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        ));
    }
    let body = format!(
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<title>Signing in</title></head><body>",
            "<form id=\"saml-post\" method=\"post\" action=\"{action}\">{inputs}",
            "<noscript><p>JavaScript is off in this browser: press Continue to go on.</p>",
            "<button type=\"submit\">Continue</button></noscript></form>",
            "<script>{script}</script></body></html>\n"
        ),
        action = escape(action),
        inputs = inputs,
        script = SUBMIT_SCRIPT,
    );
    let csp = format!(
        "default-src 'none'; script-src {}; base-uri 'none'; frame-ancestors 'none'",
        script_hash()
    );
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    no_store(&mut response);
    response
}

/// A `302 Found` to `url` (Bindings §3.4.4: the Redirect binding uses 302 or 303). A URL that
/// cannot be a header value is an error page.
pub fn redirect(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            no_store(&mut response);
            response
        }
        Err(_) => crate::web::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Single logout failed",
            "The registered single logout URL cannot be used.",
        ),
    }
}

/// SAML messages are single-use bearer values: never cached (Bindings §3.4.5.1, §3.5.5.1).
fn no_store(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_hash_is_the_scripts() {
        // printf '%s' "$SUBMIT_SCRIPT" | openssl dgst -sha256 -binary | base64
        assert_eq!(
            script_hash(),
            "'sha256-ksB5vsbtOSDHP3+3MQXO5kgqYynnF2d2wynVl+zrIr4='".to_owned()
        );
    }

    #[test]
    fn fields_are_escaped() {
        assert_eq!(escape("a\"<b>&'"), "a&quot;&lt;b&gt;&amp;&#39;");
    }
}
