//! The Connect REST API's OAuth resources (issue 6, `spec/oauth-and-connect.md` §2, §3), under
//! `/services/data/vXX.X/apps/oauth/`: what apps are used by whom, revoking their tokens, and
//! staging and rotating consumer credentials. See `docs/connect-api.md`.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | routes, versions, the caller and its permissions, app and user identifiers, paging, audit |
//! | `usage` | `GET usage`, `GET usage/{app}/users`, `GET`/`DELETE usage/{app}/{user}/tokens`, `DELETE usage/{app}/tokens`, `DELETE usage/tokens/{token}` |
//! | `credentials` | `GET credentials/{app}` and `GET credentials/{app}/{consumer}?part=` |
//! | `staged` | `GET`/`POST credentials/{app}/{consumer}/staged`, `GET`/`PATCH`/`DELETE …/staged/{id}` |
//! | `openapi` | the OpenAPI 3.1 document of these resources, `GET apps/oauth/openapi.json` |
//!
//! Decisions where Salesforce's behaviour is not documented are in `docs/connect-api.md`:
//! app identifiers are derived (`ExternalClientAppId::of_app`), a token's identifier is the
//! SHA-256 of the refresh token (the store keeps nothing else), times are the REST API's
//! `2026-11-26T00:00:00.000+0000`, and every call, reads included, is written to the org's
//! audit trail.

mod credentials;
mod openapi;
mod staged;
mod usage;

use axum::Router;
use axum::routing::get;
use eca_core::domain::{Org, Permission, User};
use eca_core::ids::ExternalClientAppId;
use eca_core::{Timestamp, UserId};
use eca_metadata::model::{Component, GlobalOauthSettings, Header, OauthPolicies};
use eca_metadata::{MetadataType, xml};
use eca_store::{AuditAction, AuditEntry, Page};
use serde::{Deserialize, Serialize};

use crate::auth::Authenticated;
use crate::error::{ApiError, RequestCode};
use crate::rest::sobjects::{Caller, insufficient_access};
use crate::rest::versions::LATEST;
use crate::state::AppState;

/// The routes, relative to an org's root.
pub fn routes() -> Router<AppState> {
    const BASE: &str = "/services/data/{version}/apps/oauth";
    let at = |path: &str| format!("{BASE}{path}");
    Router::new()
        .route(&at("/openapi.json"), get(openapi::document))
        .route(&at("/usage"), get(usage::apps))
        .route(&at("/usage/{app}/users"), get(usage::users))
        .route(
            &at("/usage/{app}/{user}/tokens"),
            get(usage::user_tokens).delete(usage::revoke_user_tokens),
        )
        .route(
            &at("/usage/{app}/tokens"),
            axum::routing::delete(usage::revoke_app_tokens),
        )
        .route(
            &at("/usage/tokens/{token}"),
            axum::routing::delete(usage::revoke_token),
        )
        .route(&at("/credentials/{app}"), get(credentials::consumers))
        .route(
            &at("/credentials/{app}/{consumer}"),
            get(credentials::consumer),
        )
        .route(
            &at("/credentials/{app}/{consumer}/staged"),
            get(staged::list).post(staged::create),
        )
        .route(
            &at("/credentials/{app}/{consumer}/staged/{id}"),
            get(staged::read)
                .patch(staged::rotate)
                .delete(staged::delete),
        )
}

/// The first API version of each resource family (`spec/oauth-and-connect.md` §2, §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Since {
    /// Usage: 59.0.
    Usage = 59,
    /// Credentials: 60.0.
    Credentials = 60,
    /// Staged credentials: 65.0.
    Staged = 65,
}

/// Whether `version` (as [`version`] returns it, `NN.0`) has what came in `since`: fields of
/// an answer that later versions added are left out before it.
pub(crate) fn has(version: &str, since: Since) -> bool {
    version
        .split_once('.')
        .and_then(|(major, _)| major.parse::<u32>().ok())
        .is_some_and(|major| major >= since as u32)
}

/// The version of a `vNN.0` path segment, when the resource exists in it; otherwise the 404
/// Salesforce gives for a resource a version does not have.
pub(crate) fn version(segment: &str, since: Since) -> Result<String, ApiError> {
    let latest: u32 = LATEST
        .split_once('.')
        .and_then(|(m, _)| m.parse().ok())
        .unwrap_or(0);
    segment
        .strip_prefix('v')
        .and_then(|v| v.strip_suffix(".0"))
        .filter(|m| m.len() <= 3 && m.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|m| m.parse::<u32>().ok())
        .filter(|m| (since as u32..=latest).contains(m))
        .map(|m| format!("{m}.0"))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "The requested resource does not exist in API version `{segment}`: it is available from v{}.0 to v{LATEST}",
                since as u32
            ))
        })
}

/// The caller of a Connect resource: the session's user, their permissions, and the URL prefix
/// (`/orgs/<domain>` or nothing) and version the answer's URLs are built with.
pub(crate) struct Ctx {
    pub caller: Caller,
    /// `/services/data/vNN.0/apps/oauth`, behind the org's path prefix if it has one.
    pub base: String,
    pub now: Timestamp,
}

impl Ctx {
    pub async fn load(
        state: &AppState,
        auth: Authenticated,
        version: &str,
    ) -> Result<Ctx, ApiError> {
        let prefix = path_of(&auth.org.base_url).to_owned();
        let caller = Caller::load(state, auth).await?;
        Ok(Ctx {
            caller,
            base: format!("{prefix}/services/data/v{version}/apps/oauth"),
            now: state.clock().now(),
        })
    }

    /// Waits until every token issued before the call is in the store, including those still
    /// being written behind (`oauth::token_writer`), and takes the time the listing or
    /// revocation counts from. Usage handlers call it once the caller is allowed, right before
    /// they read or change tokens: anyone with API access may call them, and each wait ends
    /// the token writer's gathering of a batch early.
    pub async fn sync_tokens(&mut self, state: &AppState) {
        state.token_writer().sync().await;
        self.now = state.clock().now();
    }

    pub fn org(&self) -> &Org {
        self.caller.org()
    }

    pub fn user(&self) -> &User {
        self.caller.user()
    }

    /// ECA admins and viewers see everyone's usage.
    pub fn can_view_usage(&self) -> bool {
        self.caller.has(Permission::ExternalClientAppAdmin)
            || self.caller.has(Permission::ExternalClientAppViewer)
    }

    /// ECA admins revoke anyone's tokens.
    pub fn can_revoke_any(&self) -> bool {
        self.caller.has(Permission::ExternalClientAppAdmin)
    }

    pub fn require_view_usage(&self) -> Result<(), ApiError> {
        if self.can_view_usage() {
            Ok(())
        } else {
            Err(insufficient_access(
                "External Client App Admin or External Client App Viewer",
            ))
        }
    }

    /// The credentials resources need External Client App Developer (§3).
    pub fn require_developer(&self) -> Result<(), ApiError> {
        if self.caller.has(Permission::ExternalClientAppDeveloper) {
            Ok(())
        } else {
            Err(insufficient_access("External Client App Developer"))
        }
    }

    /// Answers that carry a secret need the org setting `enableClientSecretInRestApiAccess`
    /// and the caller's View Client Secret (`spec/oauth-and-connect.md` §3 prerequisites).
    pub async fn require_secret_access(&self, state: &AppState) -> Result<(), ApiError> {
        if !secrets_enabled(state, self.org()).await? {
            return Err(ApiError::Forbidden(
                "Consumer secrets are not available through the REST API in this org: the org setting enableClientSecretInRestApiAccess (ExternalClientAppSettings) is not enabled.".to_owned(),
            ));
        }
        if !self.caller.has(Permission::ViewClientSecret) {
            return Err(insufficient_access("View Client Secret"));
        }
        Ok(())
    }

    /// Audits a refusal (`403`) of a call to `resource`, then gives the error back; other
    /// errors pass through unaudited.
    pub async fn refused(&self, state: &AppState, resource: &str, err: ApiError) -> ApiError {
        if let ApiError::Forbidden(message) = &err {
            let what = format!("refused: {message}");
            if let Err(e) = self
                .audit(state, AuditAction::AccessRefused, resource, what)
                .await
            {
                return e;
            }
        }
        err
    }

    /// `check`, with a refusal audited ([`Ctx::refused`]).
    pub async fn check(
        &self,
        state: &AppState,
        resource: &str,
        check: Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        match check {
            Ok(()) => Ok(()),
            Err(e) => Err(self.refused(state, resource, e).await),
        }
    }

    /// Writes one entry to the org's audit trail: who called what, and what came of it.
    pub async fn audit(
        &self,
        state: &AppState,
        action: AuditAction,
        resource: &str,
        what: String,
    ) -> Result<(), ApiError> {
        let entry = AuditEntry {
            action,
            type_name: "ConnectApi".to_owned(),
            full_name: resource.to_owned(),
            before_xml: None,
            after_xml: Some(what),
        };
        state
            .store()
            .record_audit(&self.org().id, &self.user().id, self.now, &[entry])
            .await?;
        Ok(())
    }
}

/// A secret in an answer: serialized as is, never printed by `Debug`.
#[derive(Serialize)]
#[serde(transparent)]
pub(crate) struct WireSecret(pub String);

impl std::fmt::Debug for WireSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The path of a base URL (`http://host:port/orgs/acme` → `/orgs/acme`), without a trailing
/// slash; empty at the root.
fn path_of(base_url: &str) -> &str {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("", |i| after_scheme[i..].trim_end_matches('/'))
}

/// Whether the org's deployed `ExternalClientAppSettings` turn on secrets over REST.
async fn secrets_enabled(state: &AppState, org: &Org) -> Result<bool, ApiError> {
    let ty = MetadataType::OrgSettings;
    let Some(stored) = state
        .store()
        .component(&org.id, ty.name(), eca_metadata::catalog::ORG_SETTINGS_NAME)
        .await?
    else {
        return Ok(false);
    };
    let doc = xml::parse_str(&stored.xml)
        .map_err(|e| ApiError::Internal(format!("stored org settings do not parse: {e}")))?;
    Ok(
        match Component::from_element(ty, &stored.full_name, &doc.root) {
            Component::OrgSettings(s) => s.enable_client_secret_in_rest_api_access == Some(true),
            _ => false,
        },
    )
}

/// One deployed app, as these resources show it.
pub(crate) struct App {
    pub id: ExternalClientAppId,
    pub header: Header,
    /// Its global OAuth settings (the first, when it has several).
    pub global: Option<GlobalOauthSettings>,
    /// Its OAuth policies (the first, when it has several).
    pub policies: Option<OauthPolicies>,
}

impl App {
    pub fn name(&self) -> &str {
        &self.header.full_name
    }

    /// `JWT` when the app issues JWT access tokens (`isNamedUserJwtEnabled`, the policies'
    /// over the global settings', as the grants decide), else `Opaque`.
    pub fn access_token_format(&self) -> &'static str {
        if crate::oauth::registry::issues_jwt_access_tokens(
            self.policies.as_ref(),
            self.global.as_ref(),
        ) {
            "JWT"
        } else {
            "Opaque"
        }
    }
}

fn not_found(what: &str, value: &str) -> ApiError {
    ApiError::NotFound(format!(
        "The requested resource does not exist: no {what} `{value}` in this org"
    ))
}

/// Parses a stored component of `ty`.
fn component(ty: MetadataType, full_name: &str, text: &str) -> Result<Component, ApiError> {
    let doc = xml::parse_str(text).map_err(|e| {
        ApiError::Internal(format!(
            "stored component {} {full_name} does not parse: {e}",
            ty.name()
        ))
    })?;
    Ok(Component::from_element(ty, full_name, &doc.root))
}

/// The app named by `identifier`: its `0xI` id (15 or 18 characters) or its developer name
/// (case-insensitive); 404 `NOT_FOUND` otherwise.
pub(crate) async fn app(state: &AppState, org: &Org, identifier: &str) -> Result<App, ApiError> {
    let headers = state
        .store()
        .components_of_type(&org.id, MetadataType::ExternalClientApplication.name())
        .await?;
    let by_id = ExternalClientAppId::parse(identifier).ok();
    let found = headers.into_iter().find(|c| match &by_id {
        Some(id) => ExternalClientAppId::of_app(&org.id, &c.full_name) == *id,
        None => c.full_name.eq_ignore_ascii_case(identifier),
    });
    let Some(stored) = found else {
        return Err(not_found("External Client App", identifier));
    };
    app_of(state, org, &stored.full_name, &stored.xml).await
}

/// An app from its stored header.
pub(crate) async fn app_of(
    state: &AppState,
    org: &Org,
    name: &str,
    header_xml: &str,
) -> Result<App, ApiError> {
    let ty = MetadataType::ExternalClientApplication;
    let Component::Header(header) = component(ty, name, header_xml)? else {
        return Err(ApiError::Internal(format!(
            "stored header {name} is not a header"
        )));
    };
    let mut global = None;
    let mut policies = None;
    for c in state.store().components_of_app(&org.id, name).await? {
        let ty = if c.type_name == MetadataType::GlobalOauthSettings.name() {
            MetadataType::GlobalOauthSettings
        } else if c.type_name == MetadataType::OauthPolicies.name() {
            MetadataType::OauthPolicies
        } else {
            continue;
        };
        match component(ty, &c.full_name, &c.xml)? {
            Component::GlobalOauthSettings(g) if global.is_none() => global = Some(g),
            Component::OauthPolicies(p) if policies.is_none() => policies = Some(p),
            _ => {}
        }
    }
    Ok(App {
        id: ExternalClientAppId::of_app(&org.id, name),
        header,
        global,
        policies,
    })
}

/// A user of the org named by a 15- or 18-character id; 404 otherwise.
pub(crate) async fn user(state: &AppState, org: &Org, identifier: &str) -> Result<User, ApiError> {
    let Ok(id) = UserId::parse(identifier) else {
        return Err(not_found("user", identifier));
    };
    state
        .store()
        .user(&id)
        .await?
        .filter(|u| u.org_id == org.id)
        .ok_or_else(|| not_found("user", identifier))
}

/// The `page` and `pageSize` query parameters (`spec/oauth-and-connect.md` §2: 0-based page,
/// default size 100).
#[derive(Debug, Deserialize)]
pub(crate) struct Paging {
    page: Option<String>,
    #[serde(rename = "pageSize")]
    page_size: Option<String>,
}

/// The largest `pageSize` accepted.
pub(crate) const MAX_PAGE_SIZE: i64 = 1000;

impl Paging {
    /// `(page, pageSize)`, checked: a clear 400 naming the parameter otherwise.
    pub fn parse(&self) -> Result<(i64, i64), ApiError> {
        let number = |name: &str, value: &Option<String>, default: i64, min: i64, max: i64| {
            match value {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::request(
                            RequestCode::InvalidField,
                            format!(
                                "Invalid value for parameter {name}: `{v}`; it must be a whole number from {min} to {max}"
                            ),
                        )
                    }),
            }
        };
        let page = number("page", &self.page, 0, 0, 1_000_000)?;
        let size = number("pageSize", &self.page_size, 100, 1, MAX_PAGE_SIZE)?;
        Ok((page, size))
    }
}

/// The store page of `(page, pageSize)`.
pub(crate) fn page_of(page: i64, size: i64) -> Page {
    Page {
        offset: page * size,
        limit: size,
    }
}
