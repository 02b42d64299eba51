//! Which `startURL` and `retURL` values the login and logout pages redirect to: only paths on
//! this org, so the pages are never an open redirect (RFC 9700 §4.11).
//!
//! A value is accepted when it is a path (one leading `/`, not `//` or `/\`, no scheme, no
//! backslash, no `.`/`..` segment, plain visible ASCII, at most 8 KiB). Paths that
//! already start with the org's base path (`/orgs/acme/...`) are used as they are; other
//! paths are taken relative to the org (Salesforce's `startURL=/home` style) and get the base
//! path in front. At the server root, paths under another org's `/orgs/<domain>` prefix are
//! refused.

use super::cookie::base_path;
use crate::org::OrgContext;

/// The longest `startURL` kept; a longer one is dropped (the login page then goes home).
pub const MAX_LEN: usize = 8192;

/// The browser path to redirect to for `candidate`, or `None` when it is not a path on this
/// org.
pub fn local_path(ctx: &OrgContext, candidate: &str) -> Option<String> {
    if !is_plain_path(candidate) {
        return None;
    }
    let base = base_path(ctx);
    let on_base = base.is_empty()
        || candidate == base
        || candidate
            .strip_prefix(base.as_str())
            .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'));
    let path = if on_base {
        candidate.to_owned()
    } else {
        format!("{base}{candidate}")
    };
    let rest = &path[base.len()..];
    let is_prefixed_org = base.ends_with(&format!("/orgs/{}", ctx.org.my_domain));
    if !is_prefixed_org && (rest.starts_with("/orgs/") || rest == "/orgs") {
        return None;
    }
    Some(path)
}

/// Whether `candidate` is a path on this org to an OAuth authorization page (authorize or
/// device activation): a login going there may get an OAuth-only session (`crate::login`).
pub fn continues_oauth(ctx: &OrgContext, candidate: &str) -> bool {
    local_path(ctx, candidate).is_some_and(|path| {
        let base = base_path(ctx);
        crate::oauth::is_authorization_page(&path[base.len()..])
    })
}

fn is_plain_path(s: &str) -> bool {
    if s.len() > MAX_LEN || !s.starts_with('/') || s.starts_with("//") {
        return false;
    }
    // Browsers read `\` as `/` (`/\evil.example` is protocol-relative) and drop tabs and
    // newlines from URLs: refuse both, and anything else outside visible ASCII.
    if s.bytes().any(|b| !(0x21..0x7f).contains(&b) || b == b'\\') {
        return false;
    }
    let path = s.split(['?', '#']).next().unwrap_or("");
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2e") || lower.contains("%2f") || lower.contains("%5c") {
        return false;
    }
    !path.split('/').any(|seg| seg == "." || seg == "..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use eca_core::domain::Org;
    use eca_core::{OrgId, Timestamp};

    fn ctx(base_url: &str) -> OrgContext {
        let rng = eca_core::rng::DeterministicRng::new(3);
        OrgContext {
            org: std::sync::Arc::new(Org {
                id: OrgId::generate(&rng),
                name: "Acme".into(),
                my_domain: "acme".into(),
                is_default: false,
                session_timeout_minutes: 60,
                enforce_ip_ranges_every_request: false,
                created_at: Timestamp(0),
            }),
            base_url: base_url.into(),
        }
    }

    #[test]
    fn check() {
        let root = ctx("http://127.0.0.1:8080");
        let prefixed = ctx("http://127.0.0.1:8080/orgs/acme");
        let cases: &[(&OrgContext, &str, Option<&str>)] = &[
            (&root, "/home", Some("/home")),
            (
                &root,
                "/services/oauth2/authorize?client_id=x&y=%20",
                Some("/services/oauth2/authorize?client_id=x&y=%20"),
            ),
            (&root, "/orgs/other/home", None),
            (
                &prefixed,
                "/orgs/acme/home?x=1",
                Some("/orgs/acme/home?x=1"),
            ),
            (&prefixed, "/orgs/acme", Some("/orgs/acme")),
            (&prefixed, "/home", Some("/orgs/acme/home")),
            (
                &prefixed,
                "/orgs/acme2/home",
                Some("/orgs/acme/orgs/acme2/home"),
            ),
            (&root, "//evil.example/x", None),
            (&root, "/\\evil.example", None),
            (&root, "https://evil.example/", None),
            (&root, "javascript:alert(1)", None),
            (&root, "evil.example", None),
            (&root, "", None),
            (&root, "/a\r\nSet-Cookie: x=1", None),
            (&root, "/ home", None),
            (&prefixed, "/orgs/acme/../other/home", None),
            (&prefixed, "/orgs/acme/%2e%2e/other", None),
            (&root, "/%2F%2Fevil.example", None),
            (&root, "/é", None),
        ];
        for (ctx, input, expected) in cases {
            assert_eq!(local_path(ctx, input).as_deref(), *expected, "{input}");
        }
    }
}
