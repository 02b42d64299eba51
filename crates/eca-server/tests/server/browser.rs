//! A browser, by hand: a cookie jar (name, path, value), form fields read out of pages, and
//! redirects followed one at a time, so tests see every hop.

use axum::http::{StatusCode, header};

use crate::support::*;

#[derive(Debug, Default, Clone)]
pub struct Browser {
    /// `(name, path, value)`.
    pub cookies: Vec<(String, String, String)>,
    pub peer: Option<String>,
}

impl Browser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The `Cookie` header a browser sends to `path` (RFC 6265 §5.1.4 path match, longer
    /// paths first).
    pub fn cookie_header(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let mut matching: Vec<_> = self
            .cookies
            .iter()
            .filter(|(_, p, _)| {
                p == "/"
                    || path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .collect();
        matching.sort_by_key(|(_, p, _)| std::cmp::Reverse(p.len()));
        (!matching.is_empty()).then(|| {
            matching
                .iter()
                .map(|(n, _, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Stores the `Set-Cookie` headers of a reply.
    pub fn take_cookies(&mut self, reply: &Reply) {
        for value in reply.headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("a text cookie");
            let mut parts = text.split(';').map(str::trim);
            let (name, value) = parts
                .next()
                .and_then(|p| p.split_once('='))
                .expect("a name=value cookie");
            let mut path = "/".to_owned();
            let mut delete = false;
            for attr in parts {
                if let Some(p) = attr.strip_prefix("Path=") {
                    path = p.to_owned();
                }
                if attr == "Max-Age=0" {
                    delete = true;
                }
            }
            self.cookies.retain(|(n, p, _)| !(n == name && *p == path));
            if !delete {
                self.cookies.push((name.to_owned(), path, value.to_owned()));
            }
        }
    }

    fn prepare(&self, call: Call, path: &str) -> Call {
        let call = match self.cookie_header(path) {
            Some(cookies) => call.header("cookie", &cookies),
            None => call,
        };
        match &self.peer {
            Some(ip) => call.with_peer(ip),
            None => call,
        }
    }

    pub async fn get(&mut self, h: &Harness, uri: &str) -> Reply {
        let path = local(uri);
        let reply = self.prepare(get(&path), &path).send(h).await;
        self.take_cookies(&reply);
        reply
    }

    pub async fn post_form(&mut self, h: &Harness, uri: &str, fields: &[(&str, &str)]) -> Reply {
        let path = local(uri);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let reply = self
            .prepare(
                post(&path, "application/x-www-form-urlencoded", body),
                &path,
            )
            .send(h)
            .await;
        self.take_cookies(&reply);
        reply
    }

    /// Opens the login page at `login_uri`, fills it in and submits it; returns the reply to
    /// the POST.
    pub async fn log_in(
        &mut self,
        h: &Harness,
        login_uri: &str,
        username: &str,
        password: &str,
    ) -> Reply {
        let page = self.get(h, login_uri).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let token = hidden(&page.body, "csrf_token").expect("a CSRF token");
        let start = hidden(&page.body, "startURL").unwrap_or_default();
        self.post_form(
            h,
            login_uri,
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &token),
                ("startURL", &start),
            ],
        )
        .await
    }

    /// The value of the `sid` cookie for `path`.
    pub fn sid(&self, path: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, p, _)| n == "sid" && p == path)
            .map(|(_, _, v)| v.clone())
    }
}

/// `http://127.0.0.1:8080/x?y` → `/x?y`.
pub fn local(uri: &str) -> String {
    match uri.strip_prefix(PUBLIC_URL) {
        Some("") => "/".to_owned(),
        Some(rest) => rest.to_owned(),
        None => uri.to_owned(),
    }
}

/// The `Location` of a redirect.
#[track_caller]
pub fn location(reply: &Reply) -> String {
    reply
        .headers
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("no Location in {:?}: {}", reply.status, reply.body))
        .to_str()
        .expect("a text Location")
        .to_owned()
}

/// The `value` of the input named `name` (the pages write `name="..." value="..."` in this
/// order), HTML entities undone.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
