//! Staged credentials and rotation (`spec/oauth-and-connect.md` §3):
//! `GET`/`POST apps/oauth/credentials/{app}/{consumer}/staged` and
//! `GET`/`PATCH {"command":"rotate"}`/`DELETE …/staged/{id}`.
//!
//! A consumer has at most one second credential: staged (`Active`, made by `POST`, valid 30
//! days) or, after a rotation, the former primary (`Rotated`, valid 30 days from the
//! rotation). Either authenticates beside the primary until it is deleted or expires
//! (`oauth::registry::by_client_id`); `Expired` is read from the server clock. Only `Local`
//! apps may stage. All need `ExternalClientAppDeveloper`; `POST` answers the new secret once,
//! so it also needs secret access ([`Ctx::require_secret_access`]); the other answers carry the
//! secret only when the caller has that access.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use eca_core::ids::StagedCredentialId;
use eca_metadata::model::DistributionState;
use eca_oauth::tokens;
use eca_store::{AuditAction, CredentialState, OauthConsumer, StagedCredential, StoreError};
use serde::{Deserialize, Serialize};

use super::credentials::{ConsumerPath, consumer_of, consumer_url, decrypt};
use super::{App, Ctx, Since, WireSecret, app, version};
use crate::auth::Authenticated;
use crate::error::{ApiError, RequestCode};
use crate::rest::identity::rest_datetime;
use crate::state::AppState;

/// How long a staged or rotated credential lives (§3: "valid 30 days").
pub const VALIDITY_MINUTES: i64 = 30 * 24 * 60;

#[derive(Debug, Deserialize)]
pub struct StagedPath {
    version: String,
    app: String,
    consumer: String,
    id: String,
}

/// "App Oauth Staged Credentials".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Staged {
    /// The user id of who staged it.
    pub created_by: String,
    pub created_date: String,
    pub expiration_date: String,
    pub id: String,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<WireSecret>,
    /// The consumer's staged collection.
    pub staged_credentials_url: String,
    /// `Active`, `Rotated` or `Expired`.
    pub state: &'static str,
    /// This staged credential's own URL, the one to `PATCH` and `DELETE` (as Infisical uses it;
    /// §3 notes the documentation's other reading).
    pub url: String,
}

/// "App Oauth Staged Credentials Collection".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedCollection {
    pub staged_credentials: Vec<Staged>,
    pub url: String,
}

/// "Staged Credentials Input".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    command: String,
}

/// The one command there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Rotate,
}

impl Command {
    fn parse(body: &[u8]) -> Result<Command, ApiError> {
        let input: Input = serde_json::from_slice(body).map_err(|e| {
            ApiError::request(
                RequestCode::JsonParserError,
                format!("The body must be {{\"command\":\"rotate\"}}: {e}"),
            )
        })?;
        match input.command.as_str() {
            "rotate" => Ok(Command::Rotate),
            other => Err(ApiError::request(
                RequestCode::InvalidField,
                format!("Invalid value for field command: `{other}`; the only command is rotate"),
            )),
        }
    }
}

/// What the handlers share: the checked caller, app and consumer.
struct Target {
    ctx: Ctx,
    app: App,
    consumer: OauthConsumer,
}

async fn target(
    state: &AppState,
    auth: Authenticated,
    version_segment: &str,
    app_identifier: &str,
    consumer: &str,
) -> Result<Target, ApiError> {
    let version = version(version_segment, Since::Staged)?;
    let ctx = Ctx::load(state, auth, &version).await?;
    let resource = format!("apps/oauth/credentials/{app_identifier}/{consumer}/staged");
    ctx.check(state, &resource, ctx.require_developer()).await?;
    // Staging, rotating and deleting credentials all need secret access, as their answers
    // carry secrets (`spec/oauth-and-connect.md` §3 prerequisites: the org setting, External
    // Client App Developer and View Client Secret): a developer who may not read the secret
    // must not swap or delete the credential every deployed client uses either.
    let access = ctx.require_secret_access(state).await;
    ctx.check(state, &resource, access).await?;
    let app = app(state, ctx.org(), app_identifier).await?;
    let consumer = consumer_of(state, &ctx, &app, consumer).await?;
    Ok(Target { ctx, app, consumer })
}

impl Target {
    fn collection_url(&self) -> String {
        format!(
            "{}/staged",
            consumer_url(&self.ctx, &self.app, &self.consumer.id)
        )
    }

    fn render(&self, state: &AppState, c: &StagedCredential) -> Result<Staged, ApiError> {
        let collection = self.collection_url();
        let state_now = c.state_at(self.ctx.now);
        // An expired credential no longer authenticates: its secret is of no use to anyone
        // and is not shown again.
        let secret = if state_now != CredentialState::Expired {
            Some(WireSecret(
                decrypt(state, &c.consumer_id, &c.encrypted_secret)?
                    .expose()
                    .to_owned(),
            ))
        } else {
            None
        };
        Ok(Staged {
            created_by: c.created_by.to_string(),
            created_date: rest_datetime(c.created_at),
            expiration_date: rest_datetime(c.expires_at),
            id: c.id.to_string(),
            key: c.consumer_key.clone(),
            secret,
            url: format!("{collection}/{}", c.id),
            staged_credentials_url: collection,
            state: state_now.as_str(),
        })
    }

    /// Records that an answer carried `secrets` live secrets, as `GET credentials/…?part=secret`
    /// does: an audit entry and a log line.
    async fn secrets_shown(
        &self,
        state: &AppState,
        resource: &str,
        secrets: usize,
    ) -> Result<(), ApiError> {
        if secrets == 0 {
            return Ok(());
        }
        tracing::info!(app = %self.app.name(), consumer = %self.consumer.id, by = %self.ctx.user().id, secrets, "staged credential secret read");
        self.ctx
            .audit(
                state,
                AuditAction::SecretViewed,
                resource,
                format!("read {secrets} staged or rotated consumer secret(s)"),
            )
            .await
    }

    /// Staging and rotating are for apps of this org only (§3: "only local ECAs").
    fn require_local(&self) -> Result<(), ApiError> {
        match self.app.header.distribution_state {
            None | Some(DistributionState::Local) => Ok(()),
            Some(other) => Err(ApiError::Forbidden(format!(
                "Staged credentials are available only for Local apps; {} is {}",
                self.app.name(),
                other.as_str()
            ))),
        }
    }

    /// The staged credential `id` of this consumer; 404 otherwise.
    async fn staged(&self, state: &AppState, id: &str) -> Result<StagedCredential, ApiError> {
        let missing = || {
            ApiError::NotFound(format!(
                "The requested resource does not exist: no staged credential `{id}` for this consumer"
            ))
        };
        let parsed = StagedCredentialId::parse(id).map_err(|_| missing())?;
        state
            .store()
            .staged_credential(&parsed)
            .await?
            .filter(|c| c.consumer_id == self.consumer.id)
            .ok_or_else(missing)
    }

    fn resource(&self) -> String {
        format!(
            "apps/oauth/credentials/{}/{}/staged",
            self.app.name(),
            self.consumer.id
        )
    }
}

/// `GET …/staged`: the consumer's staged credential, if any (an empty list otherwise).
pub async fn list(
    State(state): State<AppState>,
    Path(path): Path<ConsumerPath>,
    auth: Authenticated,
) -> Result<Json<StagedCollection>, ApiError> {
    let t = target(&state, auth, &path.version, &path.app, &path.consumer).await?;
    let staged = state.store().staged_credential_of(&t.consumer.id).await?;
    let staged_credentials = staged
        .iter()
        .map(|c| t.render(&state, c))
        .collect::<Result<Vec<_>, _>>()?;
    t.ctx
        .audit(
            &state,
            AuditAction::CredentialsViewed,
            &t.resource(),
            format!("listed {} staged credentials", staged_credentials.len()),
        )
        .await?;
    let secrets = staged_credentials
        .iter()
        .filter(|c| c.secret.is_some())
        .count();
    t.secrets_shown(&state, &t.resource(), secrets).await?;
    Ok(Json(StagedCollection {
        staged_credentials,
        url: t.collection_url(),
    }))
}

/// `POST …/staged`: stages a new key and secret, valid 30 days. 201 with the collection, the
/// new secret in it. One at a time: a second is 400 `DUPLICATE_VALUE`.
pub async fn create(
    State(state): State<AppState>,
    Path(path): Path<ConsumerPath>,
    auth: Authenticated,
) -> Result<(StatusCode, Json<StagedCollection>), ApiError> {
    let t = target(&state, auth, &path.version, &path.app, &path.consumer).await?;
    t.ctx
        .check(&state, &t.resource(), t.require_local())
        .await?;
    let rng = state.rng();
    let secret = tokens::consumer_secret(rng);
    let credential = StagedCredential {
        id: StagedCredentialId::generate(rng),
        org_id: t.ctx.org().id.clone(),
        consumer_id: t.consumer.id.clone(),
        consumer_key: tokens::consumer_key(rng),
        encrypted_secret: state.master_key().encrypt(
            secret.expose().as_bytes(),
            t.consumer.id.as_str().as_bytes(),
            rng,
        ),
        state: eca_store::CredentialState::Active,
        created_at: t.ctx.now,
        created_by: t.ctx.user().id.clone(),
        expires_at: t.ctx.now.plus_minutes(VALIDITY_MINUTES),
    };
    match state.store().stage_credential(&credential, t.ctx.now).await {
        Ok(()) => {}
        Err(StoreError::Conflict {
            what: "staged credential of consumer",
            ..
        }) => {
            return Err(ApiError::request(
                RequestCode::DuplicateValue,
                "This consumer already has a staged credential: delete it (DELETE …/staged/{id}) before staging another",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(app = %t.app.name(), consumer = %t.consumer.id, by = %t.ctx.user().id, "credential staged");
    t.ctx
        .audit(
            &state,
            AuditAction::CredentialStaged,
            &t.resource(),
            format!(
                "staged {} with key {}",
                credential.id, credential.consumer_key
            ),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StagedCollection {
            staged_credentials: vec![t.render(&state, &credential)?],
            url: t.collection_url(),
        }),
    ))
}

/// `GET …/staged/{id}`.
pub async fn read(
    State(state): State<AppState>,
    Path(path): Path<StagedPath>,
    auth: Authenticated,
) -> Result<Json<Staged>, ApiError> {
    let t = target(&state, auth, &path.version, &path.app, &path.consumer).await?;
    let staged = t.staged(&state, &path.id).await?;
    t.ctx
        .audit(
            &state,
            AuditAction::CredentialsViewed,
            &format!("{}/{}", t.resource(), staged.id),
            "read a staged credential".to_owned(),
        )
        .await?;
    let rendered = t.render(&state, &staged)?;
    let secrets = usize::from(rendered.secret.is_some());
    t.secrets_shown(&state, &format!("{}/{}", t.resource(), staged.id), secrets)
        .await?;
    Ok(Json(rendered))
}

/// `PATCH …/staged/{id}` `{"command":"rotate"}`: the staged key and secret become the
/// consumer's, and the former ones stay as `Rotated` for 30 days. Answers the staged
/// credential as it is after (the former primary).
pub async fn rotate(
    State(state): State<AppState>,
    Path(path): Path<StagedPath>,
    auth: Authenticated,
    body: Bytes,
) -> Result<Json<Staged>, ApiError> {
    let t = target(&state, auth, &path.version, &path.app, &path.consumer).await?;
    let Command::Rotate = Command::parse(&body)?;
    t.ctx
        .check(&state, &t.resource(), t.require_local())
        .await?;
    let staged = t.staged(&state, &path.id).await?;
    let current = staged.state_at(t.ctx.now);
    if current != eca_store::CredentialState::Active {
        return Err(ApiError::request(
            RequestCode::FieldIntegrityException,
            format!(
                "Only an Active staged credential can be rotated in; {} is {}",
                staged.id,
                current.as_str()
            ),
        ));
    }
    let expires_at = t.ctx.now.plus_minutes(VALIDITY_MINUTES);
    if !state
        .store()
        .rotate_credential(&staged, &t.consumer, t.ctx.now, expires_at)
        .await?
    {
        return Err(ApiError::request(
            RequestCode::FieldIntegrityException,
            "The consumer or its staged credential changed during the rotation: read them again and retry",
        ));
    }
    // This node's next request reads the consumer's new key and secret (other nodes within
    // `registry::APP_TTL_MS`).
    state.apps().forget_org(&t.consumer.org_id);
    let after = t.staged(&state, &path.id).await?;
    tracing::info!(app = %t.app.name(), consumer = %t.consumer.id, by = %t.ctx.user().id, "credentials rotated");
    t.ctx
        .audit(
            &state,
            AuditAction::CredentialRotated,
            &format!("{}/{}", t.resource(), staged.id),
            format!(
                "rotated in key {}; key {} kept as Rotated",
                staged.consumer_key, after.consumer_key
            ),
        )
        .await?;
    // The answer shows the former primary's secret.
    let rendered = t.render(&state, &after)?;
    let secrets = usize::from(rendered.secret.is_some());
    t.secrets_shown(&state, &format!("{}/{}", t.resource(), staged.id), secrets)
        .await?;
    Ok(Json(rendered))
}

/// `DELETE …/staged/{id}`: the credential stops authenticating at once. 204; 404 when gone.
pub async fn delete(
    State(state): State<AppState>,
    Path(path): Path<StagedPath>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    let t = target(&state, auth, &path.version, &path.app, &path.consumer).await?;
    let staged = t.staged(&state, &path.id).await?;
    if !state.store().delete_staged_credential(&staged).await? {
        // Gone (a 404 from `staged`), or rotated meanwhile: the row now holds the former
        // primary pair, which the caller never saw.
        t.staged(&state, &path.id).await?;
        return Err(ApiError::request(
            RequestCode::FieldIntegrityException,
            format!(
                "Staged credential {} changed while it was being deleted (it was rotated): read it again and delete it again if it is still unwanted",
                staged.id
            ),
        ));
    }
    state.apps().forget_org(&t.consumer.org_id);
    tracing::info!(app = %t.app.name(), consumer = %t.consumer.id, by = %t.ctx.user().id, "staged credential deleted");
    t.ctx
        .audit(
            &state,
            AuditAction::StagedCredentialDeleted,
            &format!("{}/{}", t.resource(), staged.id),
            format!("deleted key {}", staged.consumer_key),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
