//! The OAuth 2.0 / OpenID Connect endpoints of an org (issue 5, `spec/oauth-and-connect.md`
//! §1): thin adapters over the `eca-oauth` engine and the store.
//!
//! | file | what |
//! |---|---|
//! | `form` | urlencoded (chunked or not) and multipart bodies → parameters |
//! | `registry` | an org's deployed apps, typed, with the consumer secret digested |
//! | `client` | client authentication (`client_secret_post`, `client_secret_basic`) |
//! | `issue` | recording and answering an opaque access token |
//! | `token_writer` | group commit: concurrent grants' access tokens share one transaction |
//! | `token` | `POST /services/oauth2/token`: dispatch on the closed `TokenRequest` |
//! | `client_credentials`, `jwt_bearer`, `password`, `refresh`, `authorization_code` | one file per grant |
//! | `authorize` | `GET|POST /services/oauth2/authorize`: web-server and user-agent flows |
//! | `consent` | the consent page (`oaapprove` / `oadeny`) |
//! | `device`, `activate` | the device flow (both forms) and its activation page `/setup/connect` |
//! | `id_token` | ID tokens signed with the org's keys |
//! | `bearer` | opaque access tokens as REST sessions (`auth.rs` asks here) |
//! | `userinfo`, `revoke`, `introspect` | one file per endpoint |
//! | `permitted` | permitted users: pre-authorization, earlier approval, permissions |
//! | `attributes` | custom attributes evaluated for userinfo |
//! | `discovery`, `keys` | OpenID discovery, `/id/keys` and the org's signing keys |
//! | `end_session` | `GET|POST /services/auth/idp/oidc/logout`: RP-initiated logout |
//!
//! Errors: a grant fails with an [`OAuthError`] (the client's fault, rendered here as the OAuth
//! error body in the negotiated format, never logged as an error) or an [`ApiError`] (a store
//! or server failure, rendered by the server's one mapping in `error.rs`). [`reply`] is the
//! only place OAuth errors become HTTP responses.

pub(crate) mod activate;
pub(crate) mod attributes;
mod authorization_code;
pub(crate) mod authorize;
pub mod bearer;
mod client;
mod client_credentials;
mod consent;
mod device;
mod discovery;
mod end_session;
mod form;
mod id_token;
mod introspect;
pub mod ip_relaxation;
mod issue;
mod jwt_bearer;
pub mod keys;
mod password;
mod permitted;
mod refresh;
pub mod registry;
pub(crate) mod revoke;
mod token;
pub mod token_writer;
pub(crate) mod userinfo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use eca_oauth::{ClientAuthMethod, OAuthError, ResponseFormat};
use eca_store::StoreError;

use crate::error::ApiError;
use crate::state::AppState;

/// Whether `path` (relative to the org's base path, query allowed) is one of the browser
/// pages that finish an OAuth authorization: authorize and device activation.
pub fn is_authorization_page(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or("");
    path == "/services/oauth2/authorize" || path == device::ACTIVATION_PATH
}

/// The OAuth routes of an org (mounted at the root and under `/orgs/{domain}`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/services/oauth2/authorize",
            get(authorize::get)
                .post(authorize::post)
                .layer(DefaultBodyLimit::max(crate::web::FORM_LIMIT)),
        )
        .route(
            "/services/oauth2/token",
            post(token::token).layer(DefaultBodyLimit::max(form::BODY_LIMIT)),
        )
        .route(
            "/services/oauth2/device/authorize",
            post(device::endpoint).layer(DefaultBodyLimit::max(form::BODY_LIMIT)),
        )
        .route(
            device::ACTIVATION_PATH,
            get(activate::get)
                .post(activate::post)
                .layer(DefaultBodyLimit::max(crate::web::FORM_LIMIT)),
        )
        .route(
            "/services/oauth2/revoke",
            post(revoke::post)
                .get(revoke::get)
                .layer(DefaultBodyLimit::max(form::BODY_LIMIT)),
        )
        .route(
            "/services/oauth2/introspect",
            post(introspect::introspect).layer(DefaultBodyLimit::max(form::BODY_LIMIT)),
        )
        // OpenID Connect Core §5.3.1: the UserInfo endpoint answers GET and POST.
        .route(
            "/services/oauth2/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/id/keys", get(discovery::jwks))
        .route(
            "/services/auth/idp/oidc/logout",
            get(end_session::get)
                .post(end_session::post)
                .layer(DefaultBodyLimit::max(crate::web::FORM_LIMIT)),
        )
}

/// Why an OAuth request failed.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The client's request is refused with this OAuth error.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The server failed (a store error...): a generic 500, logged with its detail.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<StoreError> for GrantError {
    fn from(e: StoreError) -> Self {
        GrantError::Api(e.into())
    }
}

/// The one place OAuth outcomes become HTTP responses.
pub mod reply {
    use super::*;

    /// RFC 6749 §5.1: token responses and their errors are never cached.
    fn no_store(response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }

    /// A body in `format` with its content type.
    pub fn body(status: StatusCode, format: ResponseFormat, body: String) -> Response {
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        no_store(&mut response);
        response
    }

    /// A failed request. `method` is how the client authenticated, if it did: `invalid_client`
    /// after HTTP Basic is 401 with `WWW-Authenticate` (RFC 6749 §5.2).
    pub fn error(
        err: GrantError,
        method: Option<ClientAuthMethod>,
        format: ResponseFormat,
    ) -> Response {
        match err {
            GrantError::OAuth(e) => {
                tracing::debug!(error = %e, "oauth request refused");
                let status = StatusCode::from_u16(e.http_status_for(method))
                    .unwrap_or(StatusCode::BAD_REQUEST);
                let mut response = body(status, format, e.body().render(format));
                if status == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"services/oauth2\""),
                    );
                }
                response
            }
            GrantError::Api(e) => {
                let mut response = e.into_response();
                no_store(&mut response);
                response
            }
        }
    }
}
