//! HTML output: escaping, the one page layout, and the headers every page carries.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eca_oauth::authorize::Display;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The content security policy of every page: no scripts, no frames around us (clickjacking,
/// RFC 9700 §4.16), inline styles for the layout only. No `form-action`: browsers apply it to
/// the redirect after a form post, which goes to the client's redirect URI.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}\
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;\
box-shadow:0 1px 3px #0003}h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}\
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem}\
button,input[type=submit]{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00}";

/// What every `display` but `page` changes: the page fills its window, without the card.
const FULL_WIDTH_STYLE: &str =
    "main{max-width:none;margin:0;padding:1rem;border-radius:0;box-shadow:none}";

/// What `display=popup` adds: a white window.
const POPUP_STYLE: &str = "body{background:#fff}";

/// What `display=touch` and `display=mobile` add: larger text and targets.
const MOBILE_STYLE: &str = "body{font-size:1.15rem}input[type=text],input[type=password]{\
font-size:1.15rem;padding:.8rem}button,input[type=submit]{font-size:1.15rem;\
padding:.8rem 1.4rem;min-width:6rem}";

/// A whole page: `title` is text (escaped here), `body` is HTML the caller built with
/// [`escape`]d values.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_for(status, title, body, Display::Page)
}

/// [`page`] laid out for an authorize request's `display`. The body class names the layout
/// (`display-popup`...), for browser tests and custom styles.
pub fn page_for(status: StatusCode, title: &str, body: &str, display: Display) -> Response {
    let (layout, extra) = match display {
        Display::Page => ("", ""),
        Display::Popup => (FULL_WIDTH_STYLE, POPUP_STYLE),
        Display::Touch | Display::Mobile => (FULL_WIDTH_STYLE, MOBILE_STYLE),
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}{layout}{extra}</style></head>\
         <body class=\"display-{class}\"><main><h1>{title}</h1>\n{body}\n</main></body></html>\n",
        title = escape(title),
        class = display.as_str(),
    );
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(&mut response);
    response
}

/// The headers of every page and redirect the web module answers: never cached (pages carry
/// CSRF tokens and user data), never framed, no referrer (authorization URLs carry codes).
pub fn secure_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A `303 See Other` to `location`, with the page headers. `None` when `location` cannot be a
/// header value (callers pass only URLs they built or checked).
pub fn see_other(location: &str) -> Option<Response> {
    let value = HeaderValue::from_str(location).ok()?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    secure_headers(&mut response);
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain é"), "plain é");
    }
}
