//! The deployed OAuth apps of the server, as the grants need them: an app's header, OAuth
//! settings, consumer (global OAuth settings), OAuth policies and app policies, read from the
//! store into the typed model, with the consumer secret decrypted and digested.
//!
//! **Kept for [`APP_TTL_MS`].** Reading an app costs a consumer lookup, a scan of the app's
//! components with their XML parsed, and an AES-GCM decryption: too much for every token
//! request. A loaded app is kept in the process's [`AppCache`] for two seconds, by consumer key
//! and by consumer id. This node's deploys and credential changes drop an org's entries at
//! once ([`AppCache::forget_org`]), so a change made here is seen by the next request here;
//! other nodes see it within the two seconds. Token revocation is not cached: every token
//! lookup reads the store, so revocation is immediate everywhere. Unknown consumer keys are
//! not remembered (a flood of made-up keys cannot grow the cache), and the cache is emptied
//! when it reaches [`APP_CACHE_MAX`] entries.

use std::sync::Arc;

use eca_core::net::AddressRange;
use eca_core::{OrgId, Secret, Timestamp};
use eca_metadata::MetadataType;
use eca_metadata::model::{
    AppPolicies, Component, CustomAttribute, DistributionState, GlobalOauthSettings, Header,
    IpRange, IpRelaxation, JwtSessionTimeoutType, OauthPolicies, OauthScope, OauthSettings,
    PermittedUsers, Plugin,
};
use eca_metadata::xml;
use eca_oauth::{OAuthError, SecretDigest, SecretDigester, VerifyingKey};
use eca_store::{ConsumerId, OauthConsumer};

use crate::cache::{Ticket, TtlCache};
use crate::error::ApiError;
use crate::state::AppState;

/// One deployed app with its consumer, ready for the grants.
pub struct ClientApp {
    pub org_id: OrgId,
    /// The app's API name (the header's full name).
    pub name: String,
    pub consumer_id: ConsumerId,
    pub consumer_key: String,
    secret: Secret,
    secret_digest: SecretDigest,
    /// The global settings' certificate, parsed once per load for the JWT bearer flow; the
    /// error text when it does not parse.
    bearer_key: Option<Result<VerifyingKey, String>>,
    /// The settings' `trustedIpRanges`, parsed once per load (deploy validation refuses bad
    /// ones; one that still does not parse is left out, so it trusts nothing).
    pub trusted_ranges: Vec<AddressRange>,
    pub header: Header,
    pub settings: Option<OauthSettings>,
    pub global: GlobalOauthSettings,
    pub policies: Option<OauthPolicies>,
    pub app_policies: Option<AppPolicies>,
}

impl std::fmt::Debug for ClientApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientApp")
            .field("org_id", &self.org_id)
            .field("name", &self.name)
            .field("consumer_id", &self.consumer_id)
            .field("consumer_key", &self.consumer_key)
            .finish_non_exhaustive()
    }
}

/// Whether an app issues JWT access tokens (`isNamedUserJwtEnabled`): the admin's policies
/// decide where they say (API 61–63 only), else the developer's global settings. The grants
/// and the Connect usage API's `accessTokenFormat` both ask here.
pub fn issues_jwt_access_tokens(
    policies: Option<&OauthPolicies>,
    global: Option<&GlobalOauthSettings>,
) -> bool {
    policies
        .and_then(|p| p.is_named_user_jwt_enabled)
        .unwrap_or_else(|| global.is_some_and(GlobalOauthSettings::named_user_jwt_enabled))
}

/// The app of a client id, when it is one of `org`'s.
///
/// Consumer keys are unique across the server, so a key of another org's app names that app:
/// the flow is refused as Salesforce refuses a cross-org flow (`spec/metadata.md` §5 and §6).
/// A Local app works only in the org that defines it (`OAUTH_AUTHORIZATION_BLOCKED`); a
/// Packaged one only in the orgs it is installed in, and OpenECA installs no packages
/// (`OAUTH_EC_APP_NOT_FOUND`). A key of no app at all is `invalid_client_id`. Consumer keys
/// are public identifiers (they travel in browser URLs), so saying which case it is gives
/// nothing away.
pub fn in_org(app: Option<Arc<ClientApp>>, org: &OrgId) -> Result<Arc<ClientApp>, OAuthError> {
    let app = app.ok_or(OAuthError::InvalidClientId)?;
    if app.org_id == *org {
        return Ok(app);
    }
    Err(match app.header.distribution_state {
        Some(
            DistributionState::Packaged
            | DistributionState::Managed
            | DistributionState::AutoInstalled,
        ) => OAuthError::AppNotInstalled,
        Some(DistributionState::Local) | None => OAuthError::AuthorizationBlocked,
    })
}

impl ClientApp {
    /// Whether the app and its OAuth plugin are switched on (`ExtlClntAppConfigurablePolicies`);
    /// without app policies both default to on.
    pub fn is_enabled(&self) -> bool {
        self.app_policies
            .as_ref()
            .is_none_or(|p| p.app_enabled() && p.plugin_enabled(Plugin::Oauth))
    }

    /// Checks a presented secret against the consumer's, in constant time.
    pub fn verify_secret(&self, digester: &SecretDigester, presented: &Secret) -> bool {
        digester.verify_secret(presented, &self.secret_digest)
    }

    /// The key JWT bearer assertions are verified with (the global settings' certificate):
    /// `None` without a certificate, `Err` with the reason when it does not parse.
    pub fn bearer_key(&self) -> Option<Result<&VerifyingKey, &str>> {
        self.bearer_key
            .as_ref()
            .map(|k| k.as_ref().map_err(String::as_str))
    }

    /// The consumer secret, which keys the token response's `signature`.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The app's OAuth scopes, as deployed.
    pub fn scopes(&self) -> &[OauthScope] {
        self.settings.as_ref().map_or(&[], |s| s.scopes.as_slice())
    }

    /// The app's custom scope names: those of the OAuth policies (`commaSeparatedCustomScopes`,
    /// the documented place, `spec/metadata.md` §OAuth policies) and those of the OAuth
    /// settings (the same field, present in the WSDL), each name once.
    pub fn custom_scopes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .settings
            .as_ref()
            .map(OauthSettings::custom_scope_names)
            .unwrap_or_default();
        for name in self.policies.iter().flat_map(OauthPolicies::custom_scopes) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The admin's IP relaxation (`ipRelaxationPolicyType`); without one, `Enforce`.
    pub fn ip_relaxation(&self) -> IpRelaxation {
        self.policies
            .as_ref()
            .and_then(|p| p.ip_relaxation)
            .unwrap_or(IpRelaxation::Enforce)
    }

    /// Who may use the app; without policies, everyone (self-authorized).
    pub fn permitted(&self) -> PermittedUsers {
        self.policies
            .as_ref()
            .map_or(PermittedUsers::AllSelfAuthorized, OauthPolicies::permitted)
    }

    /// Whether access tokens are JWTs ([`issues_jwt_access_tokens`]).
    pub fn issues_jwt_access_tokens(&self) -> bool {
        issues_jwt_access_tokens(self.policies.as_ref(), Some(&self.global))
    }

    /// The lifetime of JWT access tokens in minutes, when the policies set one:
    /// `namedUserJwtTimeout` unless `namedUserJwtSessionTimeoutType` is `UserSession`, which
    /// means the session timeout, as for opaque tokens.
    pub fn jwt_timeout_minutes(&self) -> Option<i64> {
        let p = self.policies.as_ref()?;
        match p.named_user_jwt_session_timeout_type {
            Some(JwtSessionTimeoutType::UserSession) => None,
            _ => p.named_user_jwt_timeout.filter(|m| *m > 0),
        }
    }

    /// The policies' session timeout for opaque access tokens, in minutes, when set.
    pub fn session_timeout_minutes(&self) -> Option<i64> {
        self.policies
            .as_ref()
            .and_then(|p| p.session_timeout_in_minutes)
            .filter(|m| *m > 0)
    }

    /// The custom attributes: the settings' (the developer's), each replaced by the policies'
    /// (the admin's) attribute of the same key, then the policies' others, in order.
    pub fn custom_attributes(&self) -> Vec<&CustomAttribute> {
        let settings: &[CustomAttribute] = self
            .settings
            .as_ref()
            .map_or(&[], |s| s.custom_attributes.as_slice());
        let policies: &[CustomAttribute] = self
            .policies
            .as_ref()
            .map_or(&[], |p| p.custom_attributes.as_slice());
        let mut out: Vec<&CustomAttribute> = settings
            .iter()
            .map(|a| policies.iter().find(|p| p.key == a.key).unwrap_or(a))
            .collect();
        out.extend(
            policies
                .iter()
                .filter(|p| !settings.iter().any(|a| a.key == p.key)),
        );
        out
    }
}

/// How long a loaded app is used before it is read from the store again, in milliseconds.
pub const APP_TTL_MS: i64 = 2_000;
/// The most apps kept at once.
pub const APP_CACHE_MAX: usize = 10_000;

/// Recently loaded apps, by consumer key and by consumer id.
pub struct AppCache {
    by_key: TtlCache<String, Arc<ClientApp>>,
    by_id: TtlCache<ConsumerId, Arc<ClientApp>>,
}

impl Default for AppCache {
    fn default() -> Self {
        Self {
            by_key: TtlCache::new(APP_TTL_MS, APP_CACHE_MAX),
            by_id: TtlCache::new(APP_TTL_MS, APP_CACHE_MAX),
        }
    }
}

impl std::fmt::Debug for AppCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCache").finish_non_exhaustive()
    }
}

/// Taken before an app is read from the store: both maps' [`Ticket`]s.
#[derive(Debug, Clone, Copy)]
struct AppTicket {
    by_key: Ticket,
    by_id: Ticket,
}

impl AppCache {
    fn ticket(&self) -> AppTicket {
        AppTicket {
            by_key: self.by_key.ticket(),
            by_id: self.by_id.ticket(),
        }
    }

    /// Keeps `app`, read after `ticket` was taken: nothing when this node forgot the org's
    /// apps meanwhile (a deploy may have changed it after the read).
    fn keep(&self, app: &Arc<ClientApp>, now: Timestamp, ticket: AppTicket) {
        self.by_key.put(
            app.consumer_key.clone(),
            Arc::clone(app),
            now,
            ticket.by_key,
        );
        self.by_id
            .put(app.consumer_id.clone(), Arc::clone(app), now, ticket.by_id);
    }

    /// Drops every app of `org`: its metadata or credentials changed on this node.
    pub fn forget_org(&self, org: &OrgId) {
        self.by_key.retain(|app| app.org_id != *org);
        self.by_id.retain(|app| app.org_id != *org);
    }
}

/// The app whose consumer key is `key`, in any org; `None` when there is none, or when its
/// app or global settings are gone.
pub async fn by_consumer_key(
    state: &AppState,
    key: &str,
) -> Result<Option<Arc<ClientApp>>, ApiError> {
    let now = state.clock().now();
    if let Some(app) = state.apps().by_key.get(key, now) {
        return Ok(Some(app));
    }
    let ticket = state.apps().ticket();
    match state.store().consumer_by_key(key).await? {
        Some(consumer) => load(state, consumer, now, ticket).await,
        None => Ok(None),
    }
}

/// The app whose `client_id` is `key` at `now`: the consumer's primary key, else a staged or
/// rotated credential of a consumer that has not expired (`spec/oauth-and-connect.md` §3:
/// "both primary and staged credentials authenticate while both exist"). The app then carries
/// that credential's key and secret, so the secret check and the response `signature` use the
/// secret the client holds; its `consumer_id` is the consumer's, so tokens stay bound to it.
///
/// Only primary keys are cached: a staged or rotated credential is read from the store on each
/// use, so its expiry and deletion take effect at once on every node. The one exception: a
/// node that cached a key while it was still primary serves that entry for up to
/// [`APP_TTL_MS`] after another node rotated it away, so deleting the rotated credential within
/// that time reaches such a node only when the entry lapses (docs/connect-api.md).
pub async fn by_client_id(
    state: &AppState,
    key: &str,
    now: Timestamp,
) -> Result<Option<Arc<ClientApp>>, ApiError> {
    if let Some(app) = by_consumer_key(state, key).await? {
        return Ok(Some(app));
    }
    let Some(staged) = state.store().staged_credential_by_key(key).await? else {
        return Ok(None);
    };
    if staged.state_at(now) == eca_store::CredentialState::Expired {
        return Ok(None);
    }
    let Some(consumer) = state.store().consumer(&staged.consumer_id).await? else {
        return Ok(None);
    };
    let app = read(
        state,
        OauthConsumer {
            consumer_key: staged.consumer_key,
            encrypted_secret: staged.encrypted_secret,
            ..consumer
        },
    )
    .await?;
    Ok(app.map(Arc::new))
}

/// The app of consumer `id` (the one a stored token names).
pub async fn by_consumer_id(
    state: &AppState,
    id: &ConsumerId,
) -> Result<Option<Arc<ClientApp>>, ApiError> {
    let now = state.clock().now();
    if let Some(app) = state.apps().by_id.get(id, now) {
        return Ok(Some(app));
    }
    let ticket = state.apps().ticket();
    match state.store().consumer(id).await? {
        Some(consumer) => load(state, consumer, now, ticket).await,
        None => Ok(None),
    }
}

/// Reads the app of `consumer` from the store and keeps it in the cache, unless this node
/// forgot the org's apps since `ticket` was taken (before `consumer` was read).
async fn load(
    state: &AppState,
    consumer: OauthConsumer,
    now: Timestamp,
    ticket: AppTicket,
) -> Result<Option<Arc<ClientApp>>, ApiError> {
    let app = read(state, consumer).await?.map(Arc::new);
    if let Some(app) = &app {
        state.apps().keep(app, now, ticket);
    }
    Ok(app)
}

async fn read(state: &AppState, consumer: OauthConsumer) -> Result<Option<ClientApp>, ApiError> {
    let stored = state
        .store()
        .components_of_app(&consumer.org_id, &consumer.app_name)
        .await?;
    let mut header = None;
    let mut settings = None;
    let mut globals = Vec::new();
    let mut policies = None;
    let mut app_policies = None;
    for c in stored {
        let Some(ty) = MetadataType::from_name(&c.type_name) else {
            continue;
        };
        if !matches!(
            ty,
            MetadataType::ExternalClientApplication
                | MetadataType::OauthSettings
                | MetadataType::GlobalOauthSettings
                | MetadataType::OauthPolicies
                | MetadataType::AppPolicies
        ) {
            continue;
        }
        let doc = xml::parse_str(&c.xml).map_err(|e| {
            ApiError::Internal(format!(
                "stored component {} {} does not parse: {e}",
                c.type_name, c.full_name
            ))
        })?;
        match Component::from_element(ty, &c.full_name, &doc.root) {
            Component::Header(h) => header = Some(h),
            Component::OauthSettings(s) => settings = Some(s),
            Component::GlobalOauthSettings(g) => globals.push(g),
            Component::OauthPolicies(p) => policies = Some(p),
            Component::AppPolicies(p) => app_policies = Some(p),
            _ => {}
        }
    }
    let Some(header) = header else {
        return Ok(None);
    };
    // The global settings that carry this consumer's key; an app has one in practice.
    let position = globals
        .iter()
        .position(|g| g.consumer_key.as_deref() == Some(consumer.consumer_key.as_str()))
        .or(if globals.is_empty() { None } else { Some(0) });
    let Some(global) = position.map(|i| globals.swap_remove(i)) else {
        return Ok(None);
    };
    let plain = state
        .master_key()
        .decrypt(&consumer.encrypted_secret, consumer.id.as_str().as_bytes())
        .map_err(|e| ApiError::Internal(format!("consumer {}: {e}", consumer.id)))?;
    let secret = Secret::new(String::from_utf8(plain).map_err(|_| {
        ApiError::Internal(format!("consumer {}: the secret is not UTF-8", consumer.id))
    })?);
    let secret_digest = state.digester().digest(&secret);
    let bearer_key = global
        .certificate
        .as_deref()
        .map(|pem| VerifyingKey::from_certificate(pem).map_err(|e| e.to_string()));
    let trusted_ranges = settings
        .as_ref()
        .map(|s| trusted_ranges(&header.full_name, &s.trusted_ip_ranges))
        .unwrap_or_default();
    Ok(Some(ClientApp {
        org_id: consumer.org_id,
        name: header.full_name.clone(),
        consumer_id: consumer.id,
        consumer_key: consumer.consumer_key,
        secret,
        secret_digest,
        bearer_key,
        trusted_ranges,
        header,
        settings,
        global,
        policies,
        app_policies,
    }))
}

/// The app's trusted IP ranges that parse; the others are logged and left out.
fn trusted_ranges(app: &str, ranges: &[IpRange]) -> Vec<AddressRange> {
    ranges
        .iter()
        .filter_map(|r| match AddressRange::parse(&r.start, &r.end) {
            Ok(range) => Some(range),
            Err(e) => {
                tracing::warn!(app, error = %e, "a trusted IP range of the app is ignored");
                None
            }
        })
        .collect()
}
