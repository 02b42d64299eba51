//! OpenECA's org resource, `GET` and `POST /services/data/vXX.X/eca/orgs`. Orgs are not
//! sObjects on Salesforce (they are made by signing up), so this is an extension under its own
//! `eca/` path. Only a user of the **default org** with **Manage Users** may list or create
//! orgs: the default org's admins run the server.
//!
//! A new org gets the three standard profiles (as on first start, `bootstrap`) and an admin
//! user with the System Administrator profile, whose password is the one given or a generated
//! one returned once in the `201` answer.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use eca_core::domain::{Org, Permission};
use eca_core::{OrgId, Secret};
use eca_store::StoreError;
use serde::{Deserialize, Serialize};

use super::identity::rest_datetime;
use super::sobjects::{Caller, json_object, missing_fields, string_value};
use super::users::check_password;
use super::versions::path_version;
use crate::auth::Authenticated;
use crate::bootstrap::{self, SYSTEM_ADMINISTRATOR};
use crate::error::{ApiError, RequestCode};
use crate::state::AppState;

/// The longest My Domain name (Salesforce's limit) and org name.
const DOMAIN_MAX: usize = 40;
const NAME_MAX: usize = 80;
/// Session timeout of new orgs, as the default org's.
const SESSION_TIMEOUT_MINUTES: i64 = 120;

#[derive(Debug, Deserialize)]
pub struct OrgsPath {
    version: String,
}

/// An org as listed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgInfo {
    pub id: String,
    pub name: String,
    pub my_domain: String,
    pub is_default: bool,
    /// `<server>/orgs/<mydomain>`: works with every client.
    pub instance_url: String,
    /// `http://<mydomain>.localhost:<port>` (or `<mydomain>.<host>`): the `Host` form.
    pub domain_url: String,
    pub created_date: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgList {
    pub total_size: usize,
    pub orgs: Vec<OrgInfo>,
}

/// The `201` answer of `POST eca/orgs`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedOrg {
    pub success: bool,
    #[serde(flatten)]
    pub org: OrgInfo,
    pub admin_user_id: String,
    pub admin_username: String,
    /// Only when generated: shown this once, never stored in clear or logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
}

/// Only the default org's user managers may see or make orgs.
async fn server_admin(state: &AppState, auth: Authenticated) -> Result<Caller, ApiError> {
    let caller = Caller::load(state, auth).await?;
    if caller.org().is_default && caller.has(Permission::ManageUsers) {
        Ok(caller)
    } else {
        Err(ApiError::Forbidden(
            "Insufficient Privileges: orgs can be listed and created only by users of the default org with the Manage Users permission.".to_owned(),
        ))
    }
}

/// `GET /services/data/vXX.X/eca/orgs`: every org, oldest first.
pub async fn list(
    State(state): State<AppState>,
    Path(path): Path<OrgsPath>,
    auth: Authenticated,
) -> Result<Json<OrgList>, ApiError> {
    path_version(&path.version)?;
    let caller = server_admin(&state, auth).await?;
    let root = server_root(&caller.auth.org.base_url, &caller.org().my_domain);
    let orgs: Vec<OrgInfo> = state
        .store()
        .orgs()
        .await?
        .iter()
        .map(|org| info(&root, org))
        .collect();
    Ok(Json(OrgList {
        total_size: orgs.len(),
        orgs,
    }))
}

/// What `POST eca/orgs` reads.
#[derive(Debug, Default)]
struct NewOrg {
    name: Option<String>,
    my_domain: Option<String>,
    admin_username: Option<String>,
    admin_password: Option<Secret>,
}

fn parse(body: Vec<(String, serde_json::Value)>) -> Result<NewOrg, ApiError> {
    let mut new = NewOrg::default();
    for (key, value) in &body {
        match key.as_str() {
            "name" => new.name = string_value(key, value)?,
            "myDomain" => new.my_domain = string_value(key, value)?,
            "adminUsername" => new.admin_username = string_value(key, value)?,
            "adminPassword" => new.admin_password = string_value(key, value)?.map(Secret::new),
            _ => {
                return Err(ApiError::request(
                    RequestCode::InvalidField,
                    format!(
                        "No such field '{key}': an org takes name, myDomain, adminUsername and adminPassword"
                    ),
                ));
            }
        }
    }
    Ok(new)
}

/// `POST /services/data/vXX.X/eca/orgs` `{"name", "myDomain"?, "adminUsername"?,
/// "adminPassword"?}`.
pub async fn create(
    State(state): State<AppState>,
    Path(path): Path<OrgsPath>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CreatedOrg>), ApiError> {
    path_version(&path.version)?;
    let caller = server_admin(&state, auth).await?;
    let new = parse(json_object(&state, body)?)?;
    let name = new
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing_fields(&["name"]))?;
    if name.chars().count() > NAME_MAX {
        return Err(ApiError::record(
            RequestCode::StringTooLong,
            format!("name: data value too large (max length={NAME_MAX})"),
            &["name"],
        ));
    }
    let store = state.store();
    let explicit = match new.my_domain {
        Some(d) => {
            let d = d.trim().to_ascii_lowercase();
            if !is_my_domain(&d) {
                return Err(ApiError::record(
                    RequestCode::FieldIntegrityException,
                    format!(
                        "`{d}` is not a My Domain name: use up to {DOMAIN_MAX} lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen"
                    ),
                    &["myDomain"],
                ));
            }
            Some(d)
        }
        None => None,
    };
    let mut candidates: Vec<String> = match &explicit {
        Some(d) => vec![d.clone()],
        None => {
            let base = derive_domain(&name);
            std::iter::once(base.clone())
                .chain((2..=50).map(|n| numbered(&base, n)))
                .collect()
        }
    };
    // Skip the names already taken; a race with another creator is caught at insert below.
    let mut free = Vec::new();
    for candidate in candidates.drain(..) {
        if store.org_by_domain(&candidate).await?.is_none() {
            free.push(candidate);
        }
    }
    if free.is_empty() {
        return Err(domain_taken(
            explicit.as_deref().unwrap_or(&derive_domain(&name)),
        ));
    }
    let admin_username = match new.admin_username {
        Some(u) => u.trim().to_owned(),
        None => format!("admin@{}.example", free[0]),
    };
    if !super::users::is_email(&admin_username) {
        return Err(ApiError::record(
            RequestCode::InvalidEmailAddress,
            "adminUsername must be in the form of an email address (for example, john@acme.com)",
            &["adminUsername"],
        ));
    }
    if store.user_by_username(&admin_username).await?.is_some() {
        return Err(duplicate_admin());
    }
    let (password, generated) = match new.admin_password {
        Some(p) => {
            check_password(p.expose())?;
            (p, false)
        }
        None => (bootstrap::generate_password(state.rng()), true),
    };
    // Hashed before anything is written, so a failure leaves no half-made org.
    let hash = state.hash_password(password.clone()).await?;

    let now = state.clock().now();
    let mut created = None;
    for domain in free {
        let org = Org {
            id: OrgId::generate(state.rng()),
            name: name.clone(),
            my_domain: domain,
            is_default: false,
            session_timeout_minutes: SESSION_TIMEOUT_MINUTES,
            enforce_ip_ranges_every_request: false,
            created_at: now,
        };
        match store.create_org(&org).await {
            Ok(()) => {
                created = Some(org);
                break;
            }
            Err(StoreError::Conflict { .. }) if explicit.is_none() => continue,
            Err(StoreError::Conflict { .. }) => return Err(domain_taken(&org.my_domain)),
            Err(e) => return Err(e.into()),
        }
    }
    let org = created.ok_or_else(|| domain_taken(&derive_domain(&name)))?;
    let internal = |e: bootstrap::StartError| ApiError::Internal(e.to_string());
    let admin_profile = bootstrap::standard_profiles(store, &org, state.rng())
        .await
        .map_err(internal)?
        .into_iter()
        .find(|p| p.name == SYSTEM_ADMINISTRATOR)
        .ok_or_else(|| ApiError::Internal("no System Administrator profile".into()))?;
    let mut admin = bootstrap::new_user(
        &org,
        &admin_profile,
        &admin_username,
        "Admin",
        now,
        state.rng(),
    );
    admin.password_hash = Some(hash);
    match store.create_user(&admin).await {
        Ok(()) => {}
        // Taken between the check above and now: the org stays, without an admin.
        Err(StoreError::Conflict { .. }) => return Err(duplicate_admin()),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(org = %org.id, my_domain = %org.my_domain, admin = %admin.id, "created org");
    let root = server_root(&caller.auth.org.base_url, &caller.org().my_domain);
    Ok((
        StatusCode::CREATED,
        Json(CreatedOrg {
            success: true,
            org: info(&root, &org),
            admin_user_id: admin.id.to_string(),
            admin_username,
            admin_password: generated.then(|| password.expose().to_owned()),
        }),
    ))
}

fn domain_taken(domain: &str) -> ApiError {
    ApiError::record(
        RequestCode::DuplicateValue,
        format!("duplicate value found: the My Domain name `{domain}` is taken"),
        &["myDomain"],
    )
}

fn duplicate_admin() -> ApiError {
    ApiError::record(
        RequestCode::DuplicateUsername,
        "Duplicate Username. The admin username already exists in an org of this server.",
        &["adminUsername"],
    )
}

fn info(root: &Root, org: &Org) -> OrgInfo {
    OrgInfo {
        id: org.id.to_string(),
        name: org.name.clone(),
        my_domain: org.my_domain.clone(),
        is_default: org.is_default,
        instance_url: format!("{}/orgs/{}", root.url(), org.my_domain),
        domain_url: root.domain_url(&org.my_domain),
        created_date: rest_datetime(org.created_at),
    }
}

/// The server's root address as the request reached it.
#[derive(Debug, PartialEq, Eq)]
struct Root {
    scheme: String,
    host: String,
    /// `:port`, or empty.
    port: String,
    path: String,
}

impl Root {
    fn url(&self) -> String {
        format!("{}://{}{}{}", self.scheme, self.host, self.port, self.path)
    }

    /// The `Host` form of an org's address: `<domain>.localhost` on loopback and IP
    /// addresses (browsers and curl resolve it, RFC 6761 §6.3), `<domain>.<host>` otherwise.
    fn domain_url(&self, domain: &str) -> String {
        let is_ip = self.host.parse::<std::net::IpAddr>().is_ok() || self.host.starts_with('[');
        let host = if is_ip || self.host.eq_ignore_ascii_case("localhost") {
            "localhost"
        } else {
            &self.host
        };
        format!(
            "{}://{domain}.{host}{}{}",
            self.scheme, self.port, self.path
        )
    }
}

/// The server root from the base URL of a request to the default org (`my_domain`), which
/// may have used the `/orgs/<domain>` prefix or the `<domain>.` host form.
fn server_root(base_url: &str, my_domain: &str) -> Root {
    let (scheme, rest) = base_url.split_once("://").unwrap_or(("http", base_url));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path
        .strip_suffix(&format!("/orgs/{my_domain}"))
        .unwrap_or(path);
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], &authority[i..]),
        _ => (authority, ""),
    };
    let prefix = format!("{my_domain}.");
    let host = match host.get(..prefix.len()) {
        Some(p) if p.eq_ignore_ascii_case(&prefix) => &host[prefix.len()..],
        _ => host,
    };
    Root {
        scheme: scheme.to_owned(),
        host: host.to_owned(),
        port: port.to_owned(),
        path: path.to_owned(),
    }
}

/// A My Domain name: lower-case letters, digits and single hyphens, starting with a letter,
/// not ending with a hyphen, at most 40 characters (Salesforce's rule).
fn is_my_domain(s: &str) -> bool {
    (1..=DOMAIN_MAX).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A My Domain name made from an org name: `Acme Corp.` becomes `acme-corp`.
fn derive_domain(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_owned();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out = format!("org-{out}").trim_end_matches('-').to_owned();
    }
    // Leave room for a `-NN` suffix.
    out.truncate(DOMAIN_MAX - 3);
    out.trim_end_matches('-').to_owned()
}

fn numbered(base: &str, n: u32) -> String {
    format!("{base}-{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_from_names() {
        assert_eq!(derive_domain("Acme Corp."), "acme-corp");
        assert_eq!(derive_domain("  ACME -- West  "), "acme-west");
        assert_eq!(derive_domain("42 Labs"), "org-42-labs");
        assert_eq!(derive_domain("日本"), "org");
        assert_eq!(derive_domain(&"x".repeat(100)).len(), DOMAIN_MAX - 3);
        for name in ["Acme Corp.", "42 Labs", "日本", "a-b-", &"y".repeat(100)] {
            let d = derive_domain(name);
            assert!(is_my_domain(&d), "{d}");
            assert!(is_my_domain(&numbered(&d, 50)), "{d}");
        }
        for bad in ["", "1a", "-a", "a-", "a--b", "A", "a_b", &"a".repeat(41)] {
            assert!(!is_my_domain(bad), "{bad}");
        }
    }

    #[test]
    fn roots_and_org_urls() {
        let root = server_root("http://127.0.0.1:8080", "demo");
        assert_eq!(root.url(), "http://127.0.0.1:8080");
        assert_eq!(root.domain_url("acme"), "http://acme.localhost:8080");
        let root = server_root("http://127.0.0.1:8080/orgs/demo", "demo");
        assert_eq!(root.url(), "http://127.0.0.1:8080");
        let root = server_root("http://demo.localhost:9000", "demo");
        assert_eq!(root.url(), "http://localhost:9000");
        assert_eq!(root.domain_url("acme"), "http://acme.localhost:9000");
        let root = server_root("https://eca.example.com/base", "demo");
        assert_eq!(root.url(), "https://eca.example.com/base");
        assert_eq!(root.domain_url("acme"), "https://acme.eca.example.com/base");
        let root = server_root("http://[::1]:8080", "demo");
        assert_eq!(root.domain_url("acme"), "http://acme.localhost:8080");
    }
}
