//! `POST /services/oauth2/token`: reads the body, negotiates the response format (`format`
//! beats `Accept`), parses one closed [`TokenRequest`], reads the client credentials, and hands
//! the request to its grant's file.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{ACCEPT, AUTHORIZATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use eca_oauth::device::DeviceAuthorization;
use eca_oauth::response::format_param;
use eca_oauth::{
    ClientAuthMethod, ResponseFormat, TokenRequest, TokenResponse, client_auth,
    request::parse_token_request,
};

use super::issue::GrantContext;
use super::{
    GrantError, authorization_code, client_credentials, device, form, jwt_bearer, password,
    refresh, reply,
};
use crate::auth::ClientIp;
use crate::org::OrgContext;
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    org: OrgContext,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let body = match form::read(body) {
        Ok(body) => body,
        Err(e) => return reply::error(e.into(), None, ResponseFormat::negotiate(None, accept)),
    };
    let pairs = form::body_pairs(&headers, &body);
    let format = ResponseFormat::negotiate(format_param(&pairs), accept);
    let ctx = GrantContext {
        state: &state,
        org: &org,
        now: state.clock().now(),
        client,
    };
    let mut method = None;
    match run(&ctx, &headers, &pairs, &mut method).await {
        Ok(Answer::Token(response)) => reply::body(StatusCode::OK, format, response.render(format)),
        Ok(Answer::Device(answer)) => reply::body(StatusCode::OK, format, answer.render(format)),
        Err(e) => reply::error(e, method, format),
    }
}

/// What the token endpoint answers: tokens, or (Salesforce's device flow) a device code.
enum Answer {
    Token(TokenResponse),
    Device(DeviceAuthorization),
}

async fn run(
    ctx: &GrantContext<'_>,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    method: &mut Option<ClientAuthMethod>,
) -> Result<Answer, GrantError> {
    let parsed = parse_token_request(pairs)?;
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let credentials = client_auth::extract(
        authorization,
        parsed.client_id.as_deref(),
        parsed.client_secret.as_ref().map(|s| s.expose()),
    )?;
    *method = credentials.as_ref().map(|c| c.method);
    let token = match parsed.request {
        TokenRequest::ClientCredentials { scope } => {
            client_credentials::grant(ctx, credentials.as_ref(), scope.as_deref()).await
        }
        TokenRequest::JwtBearer { assertion } => {
            jwt_bearer::grant(ctx, credentials.as_ref(), &assertion).await
        }
        TokenRequest::Password {
            username,
            password,
            scope,
        } => {
            password::grant(
                ctx,
                credentials.as_ref(),
                &username,
                password,
                scope.as_deref(),
            )
            .await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh::grant(ctx, credentials.as_ref(), &refresh_token, scope.as_deref()).await,
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            authorization_code::grant(
                ctx,
                credentials.as_ref(),
                &code,
                redirect_uri.as_deref(),
                code_verifier.as_deref(),
            )
            .await
        }
        TokenRequest::DeviceCode { device_code, .. } => {
            device::poll(ctx, credentials.as_ref(), &device_code).await
        }
        TokenRequest::DeviceAuthorization { scope } => {
            return device::authorize(ctx, credentials.as_ref(), scope.as_deref(), false)
                .await
                .map(Answer::Device);
        }
    };
    token.map(Answer::Token)
}
