//! An app's consumers and their primary key and secret (`spec/oauth-and-connect.md` §3):
//! `GET apps/oauth/credentials/{app}` and `GET …/{app}/{consumer}?part=key|secret|keyandsecret`.
//!
//! Both need `ExternalClientAppDeveloper`; a secret also needs the org setting
//! `enableClientSecretInRestApiAccess` and `ViewClientSecret` ([`Ctx::require_secret_access`]).

use axum::Json;
use axum::extract::{Path, Query, State};
use eca_core::Secret;
use eca_store::{AuditAction, ConsumerId, OauthConsumer};
use serde::{Deserialize, Serialize};

use super::{App, Ctx, Since, WireSecret, app, has, version};
use crate::auth::Authenticated;
use crate::error::{ApiError, RequestCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct AppPath {
    version: String,
    app: String,
}

#[derive(Debug, Deserialize)]
pub struct ConsumerPath {
    pub(super) version: String,
    pub(super) app: String,
    pub(super) consumer: String,
}

#[derive(Debug, Deserialize)]
pub struct PartQuery {
    part: Option<String>,
}

/// "App Oauth Credentials".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub name: String,
    /// Only when `part` asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<WireSecret>,
    /// From 65.0 (`spec/oauth-and-connect.md` §3), with the staged resources it points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staged_credentials_url: Option<String>,
    pub url: String,
}

/// "App Oauth Credentials Collection".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsCollection {
    pub consumers: Vec<Credentials>,
    pub current_page_url: String,
    /// Always `null`: an app has few consumers, all on one page.
    pub next_page_url: Option<String>,
}

/// What `part` asks for (§3: `key` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Key,
    Secret,
    KeyAndSecret,
}

impl Part {
    fn parse(value: Option<&str>) -> Result<Part, ApiError> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("key") => Ok(Part::Key),
            Some("secret") => Ok(Part::Secret),
            Some("keyandsecret") => Ok(Part::KeyAndSecret),
            Some(_) => Err(ApiError::request(
                RequestCode::InvalidField,
                format!(
                    "Invalid value for parameter part: `{}`; it must be key, secret or keyandsecret",
                    value.unwrap_or_default()
                ),
            )),
        }
    }
}

/// The URL of a consumer's credentials.
pub(super) fn consumer_url(ctx: &Ctx, app: &App, consumer: &ConsumerId) -> String {
    format!("{}/credentials/{}/{}", ctx.base, app.id, consumer)
}

/// The consumer named in the path: its `888` id (15 or 18 characters), of this app.
pub(super) async fn consumer_of(
    state: &AppState,
    ctx: &Ctx,
    app: &App,
    identifier: &str,
) -> Result<OauthConsumer, ApiError> {
    let missing = || {
        ApiError::NotFound(format!(
            "The requested resource does not exist: no OAuth consumer `{identifier}` for the app {}",
            app.name()
        ))
    };
    let id = ConsumerId::parse(identifier).map_err(|_| missing())?;
    state
        .store()
        .consumer(&id)
        .await?
        .filter(|c| c.org_id == ctx.org().id && c.app_name.eq_ignore_ascii_case(app.name()))
        .ok_or_else(missing)
}

/// Decrypts a consumer secret (encrypted under the consumer id).
pub(super) fn decrypt(
    state: &AppState,
    consumer: &ConsumerId,
    sealed: &[u8],
) -> Result<Secret, ApiError> {
    let plain = state
        .master_key()
        .decrypt(sealed, consumer.as_str().as_bytes())
        .map_err(|e| ApiError::Internal(format!("consumer {consumer}: {e}")))?;
    String::from_utf8(plain)
        .map(Secret::new)
        .map_err(|_| ApiError::Internal(format!("consumer {consumer}: the secret is not UTF-8")))
}

/// `GET apps/oauth/credentials/{app}`: the app's consumers, with their keys.
pub async fn consumers(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    auth: Authenticated,
) -> Result<Json<CredentialsCollection>, ApiError> {
    let version = version(&path.version, Since::Credentials)?;
    let ctx = Ctx::load(&state, auth, &version).await?;
    let resource = format!("apps/oauth/credentials/{}", path.app);
    ctx.check(&state, &resource, ctx.require_developer())
        .await?;
    let app = app(&state, ctx.org(), &path.app).await?;
    let consumers: Vec<Credentials> = state
        .store()
        .consumers_of_app(&ctx.org().id, app.name())
        .await?
        .into_iter()
        .map(|c| {
            let url = consumer_url(&ctx, &app, &c.id);
            Credentials {
                id: c.id.to_string(),
                key: Some(c.consumer_key),
                name: app.name().to_owned(),
                secret: None,
                staged_credentials_url: has(&version, Since::Staged)
                    .then(|| format!("{url}/staged")),
                url,
            }
        })
        .collect();
    ctx.audit(
        &state,
        AuditAction::CredentialsViewed,
        &format!("apps/oauth/credentials/{}", app.name()),
        format!("listed {} consumers", consumers.len()),
    )
    .await?;
    Ok(Json(CredentialsCollection {
        consumers,
        current_page_url: format!("{}/credentials/{}", ctx.base, app.id),
        next_page_url: None,
    }))
}

/// `GET apps/oauth/credentials/{app}/{consumer}?part=`: a consumer's key, secret, or both.
pub async fn consumer(
    State(state): State<AppState>,
    Path(path): Path<ConsumerPath>,
    Query(query): Query<PartQuery>,
    auth: Authenticated,
) -> Result<Json<Credentials>, ApiError> {
    let version = version(&path.version, Since::Credentials)?;
    let ctx = Ctx::load(&state, auth, &version).await?;
    let resource = format!("apps/oauth/credentials/{}/{}", path.app, path.consumer);
    ctx.check(&state, &resource, ctx.require_developer())
        .await?;
    let part = Part::parse(query.part.as_deref())?;
    let app = app(&state, ctx.org(), &path.app).await?;
    let consumer = consumer_of(&state, &ctx, &app, &path.consumer).await?;
    let secret = match part {
        Part::Key => None,
        Part::Secret | Part::KeyAndSecret => {
            let access = ctx.require_secret_access(&state).await;
            ctx.check(&state, &resource, access).await?;
            Some(decrypt(&state, &consumer.id, &consumer.encrypted_secret)?)
        }
    };
    if secret.is_some() {
        tracing::info!(app = %app.name(), consumer = %consumer.id, by = %ctx.user().id, "consumer secret read");
        ctx.audit(
            &state,
            AuditAction::SecretViewed,
            &resource,
            "read the consumer secret".to_owned(),
        )
        .await?;
    } else {
        ctx.audit(
            &state,
            AuditAction::CredentialsViewed,
            &resource,
            "read the consumer key".to_owned(),
        )
        .await?;
    }
    let url = consumer_url(&ctx, &app, &consumer.id);
    Ok(Json(Credentials {
        id: consumer.id.to_string(),
        key: (part != Part::Secret).then_some(consumer.consumer_key),
        name: app.name().to_owned(),
        secret: secret.map(|s| WireSecret(s.expose().to_owned())),
        staged_credentials_url: has(&version, Since::Staged).then(|| format!("{url}/staged")),
        url,
    }))
}
