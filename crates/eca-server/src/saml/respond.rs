//! The answer to the service provider: a signed Response for a logged-in user (SAML Profiles
//! §4.1.4.2), or a signed error Response (SAML Core §3.2.2), POSTed to the registered ACS URL;
//! and the error page for what cannot go back to the service provider.

use axum::http::StatusCode;
use axum::response::Response;
use eca_core::domain::User;
use eca_metadata::model::CustomAttribute;
use eca_saml::response::{
    PersistentIdKey, ResponseParams, SamlResponse, SignParts, SubjectSource, build_error_response,
    build_response, name_id_value,
};
use eca_saml::{Disposition, EntityId, RequestId, SamlError, ServiceProvider};

use super::keys;
use super::page;
use super::registry::SamlApp;
use crate::error::ApiError;
use crate::oauth::attributes::{self, Subject};
use crate::org::OrgContext;
use crate::session::Active;
use crate::state::AppState;

/// Where an error may be reported: the registered service provider, the request it answers,
/// and the RelayState to return.
#[derive(Debug, Clone)]
pub struct ReplyTo {
    pub sp: ServiceProvider,
    pub in_response_to: Option<RequestId>,
    pub relay_state: Option<String>,
    /// The principal the AuthnRequest's `Subject` names, as the SP knows them (its `NameID`).
    pub subject: Option<String>,
}

/// Why a browser request did not end in a successful Response.
#[derive(Debug)]
pub enum Failure {
    /// A protocol error; it goes back to `to` when its disposition allows (SAML Core §3.2.2),
    /// else it is an error page.
    Saml {
        error: SamlError,
        to: Option<Box<ReplyTo>>,
    },
    /// A server-side failure (store, keys): an error page, logged by the one mapping.
    Api(ApiError),
    /// Something the user must fix, shown on a page (a missing parameter, an unknown app).
    Page { status: StatusCode, message: String },
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl Failure {
    pub fn saml(error: SamlError, to: Option<&ReplyTo>) -> Self {
        Failure::Saml {
            error,
            to: to.cloned().map(Box::new),
        }
    }

    /// The response: a signed error Response to the registered ACS URL, or an error page.
    pub async fn render(self, state: &AppState, ctx: &OrgContext) -> Response {
        match self {
            Failure::Api(e) => crate::web::api_error_page(e),
            Failure::Page { status, message } => {
                crate::web::error_page(status, "Single sign-on failed", &message)
            }
            Failure::Saml { error, to } => {
                tracing::debug!(error = %error, "SAML request refused");
                let disposition = error.disposition(to.is_some());
                match (disposition, to) {
                    (Disposition::SamlResponse(status), Some(to)) => {
                        match error_response(state, ctx, &to, status).await {
                            Ok(r) => r,
                            Err(e) => crate::web::api_error_page(e),
                        }
                    }
                    // Fixed texts only: SamlError messages never echo the request.
                    _ => crate::web::error_page(
                        StatusCode::BAD_REQUEST,
                        "Single sign-on failed",
                        &format!("{error}."),
                    ),
                }
            }
        }
    }
}

/// The IdP's entity id for an org: its base URL (`spec/metadata.md` §2.6: the issuer defaults
/// to the org's My Domain); the app's `issuer` overrides it per service provider.
pub fn idp_entity_id(ctx: &OrgContext) -> EntityId {
    EntityId::new(ctx.base_url.clone())
}

async fn error_response(
    state: &AppState,
    ctx: &OrgContext,
    to: &ReplyTo,
    status: eca_saml::Status,
) -> Result<Response, ApiError> {
    let keys = keys::org_keys(state, &ctx.org.id).await?;
    let response = build_error_response(
        &to.sp,
        &idp_entity_id(ctx),
        to.in_response_to.as_ref(),
        status,
        &keys.signing,
        state.clock().now(),
        state.rng(),
    )
    .map_err(|e| ApiError::Internal(format!("SAML error response: {e}")))?;
    Ok(post_response(&response, to.relay_state.as_deref()))
}

/// The HTTP-POST binding of a Response (Bindings §3.5.4), with RelayState returned unchanged
/// (§3.5.3).
fn post_response(response: &SamlResponse, relay_state: Option<&str>) -> Response {
    let encoded = response.to_base64();
    let mut fields = vec![("SAMLResponse", encoded.as_str())];
    if let Some(rs) = relay_state {
        fields.push(("RelayState", rs));
    }
    page::post_form(&response.acs_url, &fields)
}

/// `SessionIndex` of a web session for one service provider (SAML Core §2.7.2): opaque,
/// stable for the session, and different per org and per SP, so two SPs cannot tell they
/// serve the same session, nor one present the index another received; single logout
/// compares it with the browser's session.
pub fn session_index(state: &AppState, ctx: &OrgContext, active: &Active, sp: &EntityId) -> String {
    let key = state
        .master_key()
        .derive(format!("saml-session-index:{}", ctx.org.id).as_bytes());
    // The hash is hex, so the newline cannot occur in it: the two parts cannot run together.
    let input = format!("{}\n{}", active.session.id_hash, sp.as_str());
    let mac = eca_core::crypto::hmac_sha256(&key, input.as_bytes());
    format!("_{}", eca_core::crypto::hex(&mac[..20]))
}

/// The key behind `PersistentId` subjects of an org.
pub fn persistent_key(state: &AppState, ctx: &OrgContext) -> Result<PersistentIdKey, ApiError> {
    let key = state
        .master_key()
        .derive(format!("saml-persistent-id:{}", ctx.org.id).as_bytes());
    PersistentIdKey::new(&key).map_err(|e| ApiError::Internal(format!("persistent id key: {e}")))
}

/// What custom attributes and the subject read about the user.
#[derive(Debug)]
pub struct UserFacts {
    pub profile_name: Option<String>,
    profile_id: String,
    permission_sets: Vec<(String, String)>,
}

impl UserFacts {
    pub async fn load(state: &AppState, user: &User) -> Result<Self, ApiError> {
        let profile = state.store().profile(&user.profile_id).await?;
        let sets = state.store().permission_sets_of(&user.id).await?;
        Ok(Self {
            profile_name: profile.map(|p| p.name),
            profile_id: user.profile_id.to_string(),
            permission_sets: sets
                .into_iter()
                .map(|s| (s.id.to_string(), s.name))
                .collect(),
        })
    }

    /// `commaSeparatedProfile` / `commaSeparatedPermissionSet` (`spec/metadata.md` §2.6): ids
    /// or names.
    pub fn check_permitted(&self, sp: &ServiceProvider) -> Result<(), SamlError> {
        let mut profile = vec![self.profile_id.as_str()];
        profile.extend(self.profile_name.as_deref());
        let sets: Vec<&str> = self
            .permission_sets
            .iter()
            .flat_map(|(id, name)| [id.as_str(), name.as_str()])
            .collect();
        sp.permits(&profile, &sets)
    }
}

/// The value of the user field named by `subjectCustomAttribute`, read the way custom
/// attribute formulas read `$User.<Field>`.
pub fn custom_subject(field: Option<&str>, subject: &Subject<'_>) -> Option<String> {
    let field = field?.trim();
    let formula = if field.starts_with('$') {
        field.to_owned()
    } else if field.contains('.') {
        format!("${field}")
    } else {
        format!("$User.{field}")
    };
    let attribute = CustomAttribute {
        key: "subject".to_owned(),
        formula,
    };
    attributes::evaluate(&[&attribute], subject).remove("subject")
}

/// The signed (and, when the SP asks, encrypted) Response for `active`'s user, as a POST form
/// to the registered ACS URL.
pub async fn success(
    state: &AppState,
    ctx: &OrgContext,
    app: &SamlApp,
    to: &ReplyTo,
    active: &Active,
) -> Result<Response, Failure> {
    let user = &active.user;
    let facts = UserFacts::load(state, user).await?;
    facts
        .check_permitted(&to.sp)
        .map_err(|e| Failure::saml(e, Some(to)))?;
    let subject = Subject {
        user,
        org: &ctx.org,
        profile_name: facts.profile_name.as_deref(),
    };
    let custom_value = custom_subject(to.sp.subject_custom_attribute.as_deref(), &subject);
    let attributes: Vec<(String, String)> =
        attributes::evaluate(&app.custom_attributes(), &subject)
            .into_iter()
            .collect();
    let keys = keys::org_keys(state, &ctx.org.id).await?;
    let persistent = persistent_key(state, ctx)?;
    let encryption = to
        .sp
        .encryption_key(false)
        .map_err(|e| Failure::saml(e, Some(to)))?;
    let index = session_index(state, ctx, active, &to.sp.entity_id);
    let idp = idp_entity_id(ctx);
    let source = SubjectSource {
        user_id: &user.id,
        username: &user.username,
        federation_id: user.fields.federation_id.as_deref(),
        custom_attribute: custom_value.as_deref(),
    };
    // Profiles §4.1.4.1: a request naming a principal gets an assertion about that principal
    // only; the user logged in here is someone else: an error status, no assertion.
    if let Some(wanted) = &to.subject
        && name_id_value(&to.sp, &source, &persistent).is_ok_and(|v| v != *wanted)
    {
        tracing::info!(org = %ctx.org.id, app = %app.name, user = %user.id, "SAML request names another principal");
        return Err(Failure::saml(SamlError::UnknownPrincipal, Some(to)));
    }
    let params = ResponseParams {
        sp: &to.sp,
        idp_issuer: &idp,
        in_response_to: to.in_response_to.as_ref(),
        subject: source,
        session_index: &index,
        authn_instant: active.session.created_at,
        attributes: &attributes,
        sign: SignParts::default(),
        encryption: encryption.as_ref().map(|(k, c)| (k, *c)),
    };
    let response = build_response(
        &params,
        &keys.signing,
        &persistent,
        state.clock().now(),
        state.rng(),
    )
    .map_err(|e| Failure::saml(e, Some(to)))?;
    tracing::info!(
        org = %ctx.org.id,
        app = %app.name,
        user = %user.id,
        response = %response.id,
        "SAML response issued"
    );
    Ok(post_response(&response, to.relay_state.as_deref()))
}
