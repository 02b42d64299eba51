//! The rules of each type that one file can decide on its own: scopes, URLs, IP ranges,
//! certificates, custom attributes, limits, and values that only make sense together.

use std::collections::HashSet;
use std::path::Path;

use super::FileContext;
use super::values::{self, check_absolute_url, check_certificate, parse_ip};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::model::{Component, OauthScope};
use crate::schema::parse_int;
use crate::suggest;
use crate::version::ApiVersion;
use crate::xml::{Element, LineIndex, Span, Text};

/// Custom attributes and IP ranges are limited to 128 entries per file (`spec/metadata.md` §2.2).
const MAX_ENTRIES: usize = 128;

/// Allowed JWT timeouts in minutes, by the version that introduced them (`spec/metadata.md` §2.4).
const JWT_TIMEOUTS: &[(i64, u32)] = &[
    (1, 61),
    (5, 61),
    (10, 61),
    (15, 61),
    (30, 61),
    (60, 65),
    (90, 65),
    (120, 65),
    (240, 65),
    (480, 65),
    (720, 65),
];

struct Check<'a> {
    root: &'a Element,
    /// The document's text, as the spans count it.
    source: &'a str,
    path: &'a Path,
    ctx: FileContext<'a>,
    out: &'a mut Vec<Diagnostic>,
}

impl Check<'_> {
    fn child(&self, name: &str) -> Option<&Element> {
        self.root.child(name)
    }

    fn value(&self, name: &str) -> Option<(&str, Span)> {
        self.child(name)
            .filter(|e| e.is_leaf())
            .map(|e| (e.text.trimmed(), e.text.span))
            .filter(|(v, _)| !v.is_empty())
    }

    fn push(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.out
            .push(Diagnostic::new(code, self.path, span, message).with_help(help));
    }

    fn push_with(
        &mut self,
        severity: Severity,
        code: Code,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.out.push(
            Diagnostic::new(code, self.path, span, message)
                .with_help(help)
                .with_severity(severity),
        );
    }

    fn url(&mut self, name: &str) {
        if let Some((value, span)) = self.value(name)
            && let Err(why) = check_absolute_url(value)
        {
            self.push(
                Code::InvalidUrl,
                span,
                format!("<{name}> is not an absolute URL: {why}"),
                "write a full URL such as https://app.example.com/path",
            );
        }
    }

    /// A certificate that JWT bearer assertions are verified with: RS256 only (RFC 7518 §3.3,
    /// `spec/oauth-and-connect.md` §1.9 F), so the key must be RSA, of 2048 to 8192 bits (what
    /// the server's verifier accepts).
    fn rs256_certificate(&mut self, name: &str) {
        let Some((info, span)) = self.certificate(name) else {
            return;
        };
        match info.rsa_bits {
            Some(bits) if (2048..=8192).contains(&bits) => {}
            Some(bits) => self.push(
                Code::InvalidCertificate,
                span,
                format!("<{name}> certificate has a {bits}-bit RSA key; JWT bearer assertions are verified with RSA keys of 2048 to 8192 bits"),
                "make a 2048-bit RSA certificate; `eca cert new` makes one",
            ),
            None => self.push(
                Code::InvalidCertificate,
                span,
                format!("<{name}> certificate's key is not RSA; JWT bearer assertions are signed with RS256"),
                "make an RSA certificate; `eca cert new` makes one",
            ),
        }
    }

    /// Checks the certificate in `name`; returns it (with where it is written) when it parses.
    fn certificate(&mut self, name: &str) -> Option<(values::CertificateInfo, Span)> {
        let (value, span) = self.value(name)?;
        match check_certificate(value) {
            Err(why) => {
                self.push(
                    Code::InvalidCertificate,
                    span,
                    format!("<{name}> is not an X.509 certificate: {why}"),
                    "paste the PEM certificate (with or without the BEGIN/END lines); `eca cert new` makes one",
                );
                None
            }
            Ok(info) => {
                let Some(now) = self.ctx.options.now else {
                    return Some((info, span));
                };
                let soon = now + self.ctx.options.expiry_warning_days * 86_400;
                if info.not_after < now {
                    self.push(
                        Code::CertificateExpiry,
                        span,
                        format!("<{name}> certificate ({}) has expired", info.subject),
                        "replace it with a current certificate; `eca cert new` makes one",
                    );
                } else if info.not_after < soon {
                    let days = (info.not_after - now) / 86_400;
                    self.push(
                        Code::CertificateExpiry,
                        span,
                        format!(
                            "<{name}> certificate ({}) expires in {days} days",
                            info.subject
                        ),
                        "rotate it before it expires",
                    );
                }
                Some((info, span))
            }
        }
    }

    /// `customAttributes`: at most 128, unique keys, formulas that parse.
    fn custom_attributes(&mut self, require_dollar: bool) {
        let attributes: Vec<&Element> = self.root.children_named("customAttributes").collect();
        if attributes.len() > MAX_ENTRIES {
            let span = attributes[MAX_ENTRIES].span;
            self.push(
                Code::TooManyEntries,
                span,
                format!(
                    "{} custom attributes; at most {MAX_ENTRIES} are allowed",
                    attributes.len()
                ),
                "remove the ones no client reads",
            );
        }
        let mut keys = HashSet::new();
        for attribute in attributes {
            if let Some(key) = attribute.child("key") {
                let k = key.text.trimmed();
                if !k.is_empty() && !keys.insert(k.to_owned()) {
                    self.push(
                        Code::DuplicateKey,
                        key.text.span,
                        format!("custom attribute key `{k}` is used twice"),
                        "keys must be unique; rename or remove one",
                    );
                }
            }
            if let Some(formula) = attribute.child("formula") {
                let text = formula.text.trimmed();
                if text.is_empty() {
                    continue;
                }
                for p in values::check_formula(text, require_dollar) {
                    let severity = if p.is_error {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    self.push_with(
                        severity,
                        Code::InvalidFormula,
                        formula.text.span,
                        p.message,
                        p.help,
                    );
                }
            }
        }
    }

    /// IP ranges: at most 128, addresses that parse, start <= end, one address family.
    fn ip_ranges(&mut self, name: &str) {
        let ranges: Vec<&Element> = self.root.children_named(name).collect();
        if ranges.len() > MAX_ENTRIES {
            self.push(
                Code::TooManyEntries,
                ranges[MAX_ENTRIES].span,
                format!(
                    "{} IP ranges; at most {MAX_ENTRIES} are allowed",
                    ranges.len()
                ),
                "merge adjacent ranges",
            );
        }
        let mut seen = HashSet::new();
        for range in ranges {
            let parse = |field: &str| {
                range
                    .child(field)
                    .map(|e| (parse_ip(e.text.trimmed()), e.text.span))
            };
            let (Some(start), Some(end)) = (parse("startIpAddress"), parse("endIpAddress")) else {
                continue;
            };
            for (result, span) in [&start, &end] {
                if let Err(why) = result {
                    self.out.push(
                        Diagnostic::new(Code::InvalidIpAddress, self.path, *span, why.clone())
                            .with_help(
                                "write a dotted IPv4 address such as 10.0.0.1, or an IPv6 address",
                            ),
                    );
                }
            }
            if let ((Ok(s), _), (Ok(e), span)) = (start, end) {
                if s.is_ipv4() != e.is_ipv4() {
                    self.push(
                        Code::InvalidIpRange,
                        span,
                        format!("range {s} – {e} mixes IPv4 and IPv6"),
                        "both ends of a range must be of the same family",
                    );
                } else if s > e {
                    self.push(
                        Code::InvalidIpRange,
                        span,
                        format!("range starts at {s}, after its end {e}"),
                        "swap startIpAddress and endIpAddress",
                    );
                } else if !seen.insert((s, e)) {
                    self.push_with(
                        Severity::Warning,
                        Code::DuplicateKey,
                        range.span,
                        format!("IP range {s} – {e} is listed twice"),
                        "remove the duplicate",
                    );
                }
            }
        }
    }

    fn jwt_timeout(&mut self, timeout: &str, kind: &str) {
        let Some((value, span)) = self.value(timeout) else {
            return;
        };
        let Ok(minutes) = parse_int(value).map(i64::from) else {
            return;
        };
        let version = self.ctx.version;
        let allowed: Vec<String> = JWT_TIMEOUTS
            .iter()
            .filter(|(_, since)| *since <= version.major())
            .map(|(m, _)| m.to_string())
            .collect();
        match JWT_TIMEOUTS.iter().find(|(m, _)| *m == minutes) {
            Some((_, since)) if *since <= version.major() => {}
            Some((_, since)) => self.push(
                Code::InvalidJwtTimeout,
                span,
                format!(
                    "<{timeout}> {minutes} is allowed only from API {}",
                    ApiVersion::new(*since)
                ),
                format!("at API {version} use one of: {}", allowed.join(", ")),
            ),
            None => self.push(
                Code::InvalidJwtTimeout,
                span,
                format!(
                    "<{timeout}> {minutes} is not an allowed JWT timeout (minutes: {})",
                    allowed.join(", ")
                ),
                "pick one of the listed values",
            ),
        }
        if self.value(kind).map(|(v, _)| v) == Some("UserSession") {
            self.push(
                Code::JwtTimeoutType,
                span,
                format!("<{timeout}> is ignored because <{kind}> is UserSession"),
                format!("remove <{timeout}>, or set <{kind}> to Custom"),
            );
        }
    }

    fn scopes(&mut self) {
        let Some((value, span)) = self.value("commaSeparatedOauthScopes") else {
            let span = self.root.span;
            self.push_with(
                Severity::Warning,
                Code::MissingElement,
                span,
                "OAuth settings list no scopes (<commaSeparatedOauthScopes>)",
                "Setup requires at least one scope, for example `Api, RefreshToken`",
            );
            return;
        };
        let value = value.to_owned();
        let mut seen = HashSet::new();
        let pieces = OauthScope::parse_list(&value)
            .into_iter()
            .zip(piece_spans(&value, span));
        for ((token, scope), span) in pieces {
            match scope {
                Some(s) => {
                    if !seen.insert(s) {
                        self.push(
                            Code::DuplicateScope,
                            span,
                            format!("scope `{token}` is listed twice"),
                            "remove the duplicate",
                        );
                    }
                }
                None if token.is_empty() => self.push(
                    Code::UnknownScope,
                    span,
                    "empty scope in the list (a stray comma?)",
                    "separate scope tokens with \", \"",
                ),
                None => {
                    let help = if let Some(s) = OauthScope::from_wire(&token) {
                        format!(
                            "`{token}` is the scope's wire name; metadata uses the token `{}`",
                            s.token()
                        )
                    } else if let Some(s) =
                        suggest::nearest(&token, OauthScope::ALL.iter().map(|s| s.token()))
                    {
                        format!("did you mean `{s}`?")
                    } else {
                        format!(
                            "valid scopes: {}",
                            OauthScope::ALL
                                .iter()
                                .map(|s| s.token())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    self.push(
                        Code::UnknownScope,
                        span,
                        format!("`{token}` is not an OAuth scope token"),
                        help,
                    );
                }
            }
        }
    }
}

impl Check<'_> {
    /// `commaSeparatedCustomScopes` (OAuth settings and OAuth policies): each name travels as
    /// one scope-token of a space-separated `scope` (RFC 6749 §3.3: printable ASCII but space,
    /// `"` and `\`), and must not pass for a built-in scope: a custom scope `api` would be read
    /// back, from a stored grant or a token's `scope`, as the API scope. Wire names match
    /// exactly (`GrantedScopes::from_wire`), so `Email` or `Api` are names of their own.
    fn custom_scopes(&mut self) {
        let Some((value, span)) = self.value("commaSeparatedCustomScopes") else {
            return;
        };
        let value = value.to_owned();
        for (piece, span) in value.split(',').zip(piece_spans(&value, span)) {
            let name = piece.trim();
            if name.is_empty() {
                continue;
            }
            let bad = name
                .chars()
                .find(|&c| !matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'));
            if let Some(c) = bad {
                let what = if c == ' ' {
                    "a space".to_owned()
                } else {
                    format!("`{}`", c.escape_default())
                };
                self.push(
                    Code::InvalidCustomScope,
                    span,
                    format!("custom scope `{name}` contains {what}, which a scope name cannot"),
                    "separate custom scopes with commas; use letters, digits, `_`, `.`, `-` or `:` in a name",
                );
            } else if let Some(builtin) = OauthScope::from_wire(name) {
                self.push(
                    Code::InvalidCustomScope,
                    span,
                    format!(
                        "custom scope `{name}` has the name of the built-in scope `{}`",
                        builtin.wire()
                    ),
                    format!(
                        "add `{}` to <commaSeparatedOauthScopes> instead, or give the custom scope another name",
                        builtin.token()
                    ),
                );
            }
        }
    }
}

/// The span of each comma-separated piece of a value (trimmed), so that a diagnostic points at
/// the one bad scope rather than the whole list. A value over several lines keeps the span of
/// the whole value, whose column is known only for its first line.
fn piece_spans(value: &str, span: Span) -> Vec<Span> {
    let pieces = value.split(',');
    if value.contains('\n') {
        return pieces.map(|_| span).collect();
    }
    let mut column = span.column;
    let mut spans = Vec::new();
    for piece in pieces {
        let lead = piece.chars().take_while(|c| c.is_whitespace()).count();
        let len = piece.trim().chars().count();
        let at = column + u32::try_from(lead).unwrap_or(0);
        spans.push(Span::new(
            span.line,
            at,
            u32::try_from(len.max(1)).unwrap_or(1),
        ));
        // Past the piece and its comma.
        column += u32::try_from(piece.chars().count() + 1).unwrap_or(0);
    }
    spans
}

pub(super) fn check(
    component: &Component,
    root: &Element,
    source: &str,
    path: &Path,
    ctx: FileContext<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let mut c = Check {
        root,
        source,
        path,
        ctx,
        out,
    };
    match component {
        Component::Header(_) => header(&mut c),
        Component::OauthSettings(_) => {
            c.scopes();
            c.custom_scopes();
            c.custom_attributes(false);
            c.ip_ranges("trustedIpRanges");
            c.url("singleLogoutUrl");
            c.certificate("clientAssertionCertificate");
            oauth_link(&mut c);
        }
        Component::GlobalOauthSettings(_) => global(&mut c),
        Component::OauthPolicies(_) => policies(&mut c),
        Component::AppPolicies(_) => {
            c.url("startUrl");
            if c.value("startPage").map(|(v, _)| v) == Some("Custom")
                && c.value("startUrl").is_none()
            {
                let span = c.child("startPage").map_or(root.span, |e| e.text.span);
                c.push(
                    Code::StartPage,
                    span,
                    "startPage is Custom but there is no <startUrl>",
                    "add <startUrl> with the page to open, or set startPage to None",
                );
            }
        }
        Component::SamlPolicies(_) => saml(&mut c),
        Component::PushSettings(_) => push(&mut c),
        Component::OauthSecuritySettings(_) => c.ip_ranges("tokenIpRanges"),
        Component::CanvasSettings(_) => c.url("canvasUrl"),
        _ => {}
    }
}

fn header(c: &mut Check<'_>) {
    let span = c.root.span;
    if c.value("contactEmail").is_none() {
        c.push_with(
            Severity::Warning,
            Code::MissingElement,
            span,
            "the app has no <contactEmail>",
            "Setup requires a contact email for every External Client App; add <contactEmail>",
        );
    }
    if c.value("label").is_none() {
        c.push_with(
            Severity::Warning,
            Code::MissingElement,
            span,
            "the app has no <label>",
            "the label is the name people see on the consent page; add <label>",
        );
    }
    if let Some((value, span)) = c.value("orgScopedExternalApp") {
        let ok = value
            .split_once(':')
            .is_some_and(|(org, name)| is_org_id(org) && !name.is_empty());
        if !ok {
            let value = value.to_owned();
            c.push(
                Code::GeneratedValue,
                span,
                format!("orgScopedExternalApp `{value}` is not `<15-character org id>:<app name>`"),
                "remove it; Salesforce generates it on the first deploy",
            );
        }
    }
}

fn is_org_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18)
        && s.starts_with("00D")
        && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn oauth_link(c: &mut Check<'_>) {
    let Some((value, span)) = c.value("oauthLink") else {
        return;
    };
    let ok = value.split_once(':').is_some_and(|(org, consumer)| {
        is_org_id(org)
            && (consumer.len() == 15 || consumer.len() == 18)
            && consumer.starts_with("888")
            && consumer.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if !ok {
        let value = value.to_owned();
        c.push(
            Code::GeneratedValue,
            span,
            format!("oauthLink `{value}` is not `<org id>:<888… consumer id>`"),
            "a wrong oauthLink fails the deploy; remove it and Salesforce links the app to its global OAuth settings",
        );
    }
}

/// The non-blank lines of a multi-line value, trimmed, each with where it is written. Each line
/// is looked for in the source after the previous one, up to the next markup, so a position is
/// always a real one; a line not written literally (an entity reference in it) gets the value's
/// own position.
fn value_lines<'t>(text: &'t Text, source: &str) -> Vec<(&'t str, Span)> {
    let lines = LineIndex::new(source);
    let start = lines
        .offset(text.span.line, text.span.column)
        .unwrap_or(source.len());
    let end = source[start..]
        .find('<')
        .map_or(source.len(), |i| start + i);
    let mut cursor = start;
    let mut out = Vec::new();
    for line in text.raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let len = line.chars().count();
        let span = match source[cursor..end].find(line) {
            Some(i) => {
                let at = cursor + i;
                cursor = at + line.len();
                lines.span(at, len)
            }
            None => Span::new(
                text.span.line,
                text.span.column,
                u32::try_from(len).unwrap_or(u32::MAX),
            ),
        };
        out.push((line, span));
    }
    out
}

/// Where in `url` a second URL starts after a comma (a scheme, `:` and `/`), in characters:
/// `https://a/cb,https://b/cb` is one URL to Salesforce, whose callback URLs are separated by
/// line breaks (`docs/metadata.md`).
fn comma_then_scheme(url: &str) -> Option<usize> {
    url.char_indices()
        .filter(|(_, c)| *c == ',')
        .find_map(|(i, _)| {
            let rest = &url[i + 1..];
            let scheme_len = rest
                .char_indices()
                .take_while(|(j, c)| {
                    if *j == 0 {
                        c.is_ascii_alphabetic()
                    } else {
                        c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')
                    }
                })
                .count();
            (scheme_len > 0 && rest[scheme_len..].starts_with(":/"))
                .then(|| url[..=i].chars().count())
        })
}

fn global(c: &mut Check<'_>) {
    if let Some(e) = c.child("callbackUrl") {
        let text = e.text.clone();
        for (url, span) in value_lines(&text, c.source) {
            if let Err(why) = check_absolute_url(url) {
                let help = if url.contains(',') {
                    "put each callback URL on its own line; commas do not separate them"
                } else {
                    "write a full URL such as https://app.example.com/callback"
                };
                c.push(
                    Code::InvalidUrl,
                    span,
                    format!("callback URL is not an absolute URL: {why}"),
                    help,
                );
            } else if let Some(at) = comma_then_scheme(url) {
                let offset = u32::try_from(at).unwrap_or(u32::MAX);
                let second = Span::new(
                    span.line,
                    span.column.saturating_add(offset),
                    span.len.saturating_sub(offset).max(1),
                );
                c.push_with(
                    Severity::Warning,
                    Code::CommaSeparatedCallbacks,
                    second,
                    format!("`{url}` is one callback URL: commas do not separate callback URLs"),
                    "put each callback URL on its own line",
                );
            }
        }
    }
    c.rs256_certificate("certificate");
    if let Some((_, span)) = c.value("consumerSecret") {
        c.push(
            Code::SecretInSource,
            span,
            "a consumer secret is committed to source",
            "remove <consumerSecret> from the file and keep the secret in a secret store; Salesforce generates one on the first deploy",
        );
    }
    if let Some(config) = c.child("idTokenConfig")
        && let Some(validity) = config.child("idTokenValidityInMinutes")
        && let Ok(minutes) = parse_int(validity.text.trimmed()).map(i64::from)
        && !(1..=720).contains(&minutes)
    {
        let span = validity.text.span;
        c.push(
            Code::OutOfRange,
            span,
            format!("idTokenValidityInMinutes is {minutes}; it must be between 1 and 720"),
            "the default is 2 minutes",
        );
    }
}

/// The longest `sessionTimeoutInMinutes` accepted. Salesforce's choices end at 24 hours and
/// its documentation gives no maximum for the field; a year is far beyond any real use, and
/// keeps token lifetimes far from overflowing (`docs/validation.md`).
const MAX_SESSION_MINUTES: i64 = 525_600;

fn policies(c: &mut Check<'_>) {
    c.custom_attributes(false);
    c.custom_scopes();
    c.url("startUrl");
    c.url("singleLogoutUrl");
    c.jwt_timeout("guestJwtTimeout", "guestJwtSessionTimeoutType");
    c.jwt_timeout("namedUserJwtTimeout", "namedUserJwtSessionTimeoutType");
    if let Some((value, span)) = c.value("sessionTimeoutInMinutes")
        && parse_int(value)
            .map(i64::from)
            .is_ok_and(|m| m <= 0 || m > MAX_SESSION_MINUTES)
    {
        let value = value.to_owned();
        c.push(
            Code::OutOfRange,
            span,
            format!(
                "sessionTimeoutInMinutes is {value}; it must be from 1 to {MAX_SESSION_MINUTES} (one year)"
            ),
            "Salesforce offers 15 minutes to 24 hours; leave it out to use the org's session timeout",
        );
    }
    let policy = c
        .value("refreshTokenPolicyType")
        .map(|(v, s)| (v.to_owned(), s));
    if let Some((policy, span)) = policy
        && matches!(policy.as_str(), "SpecificLifetime" | "SpecificInactivity")
    {
        let period = c
            .value("refreshTokenValidityPeriod")
            .and_then(|(v, _)| parse_int(v).ok());
        if period.is_none_or(|p| p <= 0) {
            c.push(
                Code::RefreshTokenPolicy,
                span,
                format!("refreshTokenPolicyType {policy} needs a positive <refreshTokenValidityPeriod>"),
                "for example <refreshTokenValidityPeriod>365</refreshTokenValidityPeriod> with <refreshTokenValidityUnit>Days</refreshTokenValidityUnit>",
            );
        }
        if c.value("refreshTokenValidityUnit").is_none() {
            c.push(
                Code::RefreshTokenPolicy,
                span,
                format!("refreshTokenPolicyType {policy} needs a <refreshTokenValidityUnit>"),
                "use Days, Hours or Months",
            );
        }
    }
    if c.value("isClientCredentialsFlowEnabled")
        .is_some_and(|(v, _)| v == "true" || v == "1")
        && c.value("clientCredentialsFlowUser").is_none()
    {
        let span = c
            .child("isClientCredentialsFlowEnabled")
            .map_or(c.root.span, |e| e.text.span);
        c.push(
            Code::ClientCredentialsUser,
            span,
            "the client credentials flow is enabled without a run-as user",
            "add <clientCredentialsFlowUser> with the username of an active API Only user; the deploy fails without one",
        );
    }
}

fn saml(c: &mut Check<'_>) {
    c.url("acsUrl");
    c.url("singleLogoutUrl");
    c.certificate("certificate");
    c.certificate("encryptionCertificate");
    c.custom_attributes(true);
    if c.value("subjectType").map(|(v, _)| v) == Some("CustomAttribute")
        && c.value("subjectCustomAttribute").is_none()
    {
        let span = c.child("subjectType").map_or(c.root.span, |e| e.text.span);
        c.push(
            Code::MissingElement,
            span,
            "subjectType is CustomAttribute but there is no <subjectCustomAttribute>",
            "name the user field whose value becomes the subject",
        );
    }
    if let Some((_, span)) = c.value("encryptionType")
        && c.value("encryptionCertificate").is_none()
    {
        c.push(
            Code::MissingElement,
            span,
            "encryptionType is set but there is no <encryptionCertificate>",
            "add the service provider's encryption certificate, or remove <encryptionType>",
        );
    }
}

fn push(c: &mut Check<'_>) {
    let configs: Vec<&str> = ["androidPushConfig", "applePushConfig", "pushConfigLink"]
        .into_iter()
        .filter(|n| c.child(n).is_some())
        .collect();
    let span = c.root.span;
    if configs.len() != 1 {
        let found = if configs.is_empty() {
            "none".to_owned()
        } else {
            configs.join(", ")
        };
        c.push(
            Code::PushConfig,
            span,
            format!("push settings need exactly one of androidPushConfig, applePushConfig or pushConfigLink (found {found})"),
            "keep only pushConfigLink when the app uses another org's push configuration",
        );
        return;
    }
    let service = c.value("pushServiceType").map(|(v, _)| v.to_owned());
    let mismatch = matches!(
        (service.as_deref(), configs[0]),
        (Some("Apple"), "androidPushConfig") | (Some("Android"), "applePushConfig")
    );
    if mismatch {
        let span = c.child(configs[0]).map_or(span, |e| e.span);
        c.push(
            Code::PushConfig,
            span,
            format!(
                "pushServiceType is {} but the file has {}",
                service.unwrap_or_default(),
                configs[0]
            ),
            "use applePushConfig for Apple and androidPushConfig for Android",
        );
    }
    if let Some(apple) = c.child("applePushConfig") {
        let has = |n: &str| apple.child(n).is_some_and(|e| !e.text.trimmed().is_empty());
        let token_route = has("signingKey") && has("keyIdentifier") && has("teamIdentifier");
        let cert_route = has("certificate") && has("password");
        if !token_route && !cert_route {
            let span = apple.span;
            c.push(
                Code::PushConfig,
                span,
                "applePushConfig needs either signingKey, keyIdentifier and teamIdentifier (.p8) or certificate and password (.p12)",
                "fill in one of the two routes",
            );
        }
    }
}
