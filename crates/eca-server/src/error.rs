//! The server's one error type and the one place it becomes an HTTP response
//! (`STYLE.md` §2). Each error carries its Salesforce wire code; [`render`] writes it as the
//! REST error array (`spec/oauth-and-connect.md` §0: `[{"message":..,"errorCode":..}]`) or, on
//! `/services/Soap/**`, as a SOAP 1.1 fault shaped like Salesforce's partner API faults.
//!
//! Handlers return `Result<_, ApiError>`. `IntoResponse` renders the REST shape and attaches the
//! error to the response; [`finish`], which the request middleware (`http::around`) calls with
//! the request, re-renders it as a fault on SOAP endpoints and logs internal errors with their
//! detail and the request. Clients get a generic body.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eca_store::StoreError;
use serde::Serialize;

use crate::soap::xml;

/// Salesforce's text for a failed login, whatever the reason (unknown user, wrong password,
/// locked, inactive or frozen user): it does not say which.
pub const INVALID_LOGIN_MESSAGE: &str =
    "Invalid username, password, security token; or user locked out.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such resource, API version or org.
    #[error("{0}")]
    NotFound(String),
    /// A missing, malformed, expired or foreign session id.
    #[error("Session expired or invalid")]
    InvalidSession,
    /// A valid access token whose scopes do not cover this API (`auth::Api`); the API's name
    /// ("REST API", "SOAP API") is in the message, which Salesforce gives as `INVALID_SESSION_ID`.
    #[error("This session is not valid for use with the {0}")]
    ScopeNotGranted(&'static str),
    /// Wrong credentials, or a user who may not log in (`INVALID_LOGIN`).
    #[error("{INVALID_LOGIN_MESSAGE}")]
    InvalidLogin,
    /// The user's profile and permission sets lack API Enabled.
    #[error("API is not enabled for this Organization or Partner")]
    ApiDisabled,
    /// Too many failed logins from one client address.
    #[error("Login rate exceeded")]
    LoginRateExceeded,
    /// Authenticated, but not allowed to see this resource.
    #[error("{0}")]
    Forbidden(String),
    /// The request could not be understood (malformed SOAP envelope, bad parameter).
    #[error("{0}")]
    Malformed(String),
    /// A SOAP body element this endpoint has no operation for.
    #[error(
        "No operation available for request {{{namespace}}}{name}, please check the WSDL for the service."
    )]
    UnknownOperation { namespace: String, name: String },
    /// A partner API operation OpenECA does not implement.
    #[error("The partner API operation `{0}` is not available on OpenECA")]
    UnsupportedOperation(String),
    /// The body is not of a media type the endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The resource exists but not for this HTTP method.
    #[error("This HTTP method is not allowed on this resource")]
    MethodNotAllowed,
    /// The body is larger than the configured limit.
    #[error("The request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The request took longer than the configured timeout.
    #[error("The request took too long to process and was stopped")]
    Timeout,
    /// The server has no room for this now (too many deploys in flight): try again later.
    #[error("{0}")]
    Busy(String),
    /// A failure inside the server; the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
    /// A record or query the REST API refuses (400), with Salesforce's `errorCode` and, for
    /// record errors, the fields concerned (Salesforce's `fields` array).
    #[error("{message}")]
    Request {
        code: RequestCode,
        message: String,
        fields: Option<Vec<String>>,
    },
}

/// The `errorCode`s of refused records and queries (REST API Developer Guide, "Status Codes
/// and Error Responses"; SOAP API "StatusCode").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestCode {
    DuplicateUsername,
    DuplicateValue,
    FieldIntegrityException,
    InvalidCrossReferenceKey,
    InvalidEmailAddress,
    InvalidField,
    InvalidFieldForInsertUpdate,
    InvalidNewPassword,
    InvalidQueryFilterOperator,
    InvalidType,
    InvalidTypeForOperation,
    JsonParserError,
    MalformedQuery,
    RequiredFieldMissing,
    StringTooLong,
}

impl RequestCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestCode::DuplicateUsername => "DUPLICATE_USERNAME",
            RequestCode::DuplicateValue => "DUPLICATE_VALUE",
            RequestCode::FieldIntegrityException => "FIELD_INTEGRITY_EXCEPTION",
            RequestCode::InvalidCrossReferenceKey => "INVALID_CROSS_REFERENCE_KEY",
            RequestCode::InvalidEmailAddress => "INVALID_EMAIL_ADDRESS",
            RequestCode::InvalidField => "INVALID_FIELD",
            RequestCode::InvalidFieldForInsertUpdate => "INVALID_FIELD_FOR_INSERT_UPDATE",
            RequestCode::InvalidNewPassword => "INVALID_NEW_PASSWORD",
            RequestCode::InvalidQueryFilterOperator => "INVALID_QUERY_FILTER_OPERATOR",
            RequestCode::InvalidType => "INVALID_TYPE",
            RequestCode::InvalidTypeForOperation => "INVALID_TYPE_FOR_OPERATION",
            RequestCode::JsonParserError => "JSON_PARSER_ERROR",
            RequestCode::MalformedQuery => "MALFORMED_QUERY",
            RequestCode::RequiredFieldMissing => "REQUIRED_FIELD_MISSING",
            RequestCode::StringTooLong => "STRING_TOO_LONG",
        }
    }
}

impl ApiError {
    /// A refused request without a `fields` array (query errors, unknown fields).
    pub fn request(code: RequestCode, message: impl Into<String>) -> Self {
        ApiError::Request {
            code,
            message: message.into(),
            fields: None,
        }
    }

    /// A refused record, naming the fields concerned (may be empty, as Salesforce sends).
    pub fn record(code: RequestCode, message: impl Into<String>, fields: &[&str]) -> Self {
        ApiError::Request {
            code,
            message: message.into(),
            fields: Some(fields.iter().map(|f| (*f).to_owned()).collect()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// The two error shapes Salesforce clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Rest,
    Soap,
}

impl Surface {
    /// SOAP for `/services/Soap/**` (also behind an `/orgs/<domain>` prefix), REST otherwise.
    pub fn for_path(path: &str) -> Surface {
        if without_org_prefix(path).starts_with("/services/Soap/") {
            Surface::Soap
        } else {
            Surface::Rest
        }
    }
}

/// One element of the REST error array.
#[derive(Debug, Serialize)]
pub struct RestError {
    pub message: String,
    #[serde(rename = "errorCode")]
    pub error_code: &'static str,
    /// The fields a record error concerns; absent on other errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

/// What Salesforce puts in a SOAP fault: `faultcode`, and the `detail` element's type and
/// `exceptionCode` when it has one.
struct Fault {
    code: String,
    detail: Option<(&'static str, &'static str)>,
}

impl ApiError {
    pub fn status(&self, surface: Surface) -> StatusCode {
        let transport = match self {
            ApiError::NotFound(_) => Some(StatusCode::NOT_FOUND),
            ApiError::MethodNotAllowed => Some(StatusCode::METHOD_NOT_ALLOWED),
            ApiError::UnsupportedMediaType(_) => Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ApiError::PayloadTooLarge { .. } => Some(StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::Timeout | ApiError::Busy(_) => Some(StatusCode::SERVICE_UNAVAILABLE),
            ApiError::Internal(_) => Some(StatusCode::INTERNAL_SERVER_ERROR),
            _ => None,
        };
        if let Some(status) = transport {
            return status;
        }
        match surface {
            // SOAP 1.1 §6.2: a fault in processing the envelope is answered with 500.
            Surface::Soap => StatusCode::INTERNAL_SERVER_ERROR,
            Surface::Rest => match self {
                ApiError::InvalidSession
                | ApiError::ScopeNotGranted(_)
                | ApiError::InvalidLogin => StatusCode::UNAUTHORIZED,
                ApiError::ApiDisabled | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
                ApiError::LoginRateExceeded => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::BAD_REQUEST,
            },
        }
    }

    /// The REST `errorCode`, which is also the SOAP `exceptionCode`.
    pub fn error_code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::InvalidSession | ApiError::ScopeNotGranted(_) => "INVALID_SESSION_ID",
            ApiError::InvalidLogin => "INVALID_LOGIN",
            ApiError::ApiDisabled => "API_DISABLED_FOR_ORG",
            ApiError::LoginRateExceeded => "REQUEST_LIMIT_EXCEEDED",
            ApiError::Forbidden(_) => "INSUFFICIENT_ACCESS",
            ApiError::Malformed(_) | ApiError::UnknownOperation { .. } => "MALFORMED_REQUEST",
            ApiError::UnsupportedOperation(_) => "INVALID_OPERATION",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::PayloadTooLarge { .. } => "REQUEST_TOO_LARGE",
            ApiError::Timeout => "REQUEST_TIMEOUT",
            ApiError::Busy(_) => "SERVER_UNAVAILABLE",
            ApiError::Internal(_) => "UNKNOWN_EXCEPTION",
            ApiError::Request { code, .. } => code.as_str(),
        }
    }

    /// The text a client sees. Never the detail of an internal error.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "An unexpected error occurred. The server log has the details.".to_owned()
            }
            other => other.to_string(),
        }
    }

    fn fault(&self) -> Fault {
        let sf = |detail: &'static str| Fault {
            code: format!("sf:{}", self.error_code()),
            detail: Some((detail, self.error_code())),
        };
        match self {
            ApiError::InvalidLogin | ApiError::ApiDisabled | ApiError::LoginRateExceeded => {
                sf("LoginFault")
            }
            ApiError::InvalidSession
            | ApiError::ScopeNotGranted(_)
            | ApiError::UnsupportedOperation(_) => sf("UnexpectedErrorFault"),
            ApiError::Internal(_) | ApiError::Timeout | ApiError::Busy(_) => Fault {
                code: "soapenv:Server".to_owned(),
                detail: None,
            },
            _ => Fault {
                code: "soapenv:Client".to_owned(),
                detail: None,
            },
        }
    }
}

/// The session-fault wording Salesforce uses on SOAP endpoints.
const SOAP_INVALID_SESSION: &str = "Invalid Session ID found in SessionHeader: Illegal Session";

/// Renders an error in the shape of `surface`. The only place errors become responses.
pub fn render(err: &ApiError, surface: Surface) -> Response {
    let status = err.status(surface);
    match surface {
        Surface::Rest => {
            let fields = match err {
                ApiError::Request { fields, .. } => fields.clone(),
                _ => None,
            };
            let body = [RestError {
                message: err.public_message(),
                error_code: err.error_code(),
                fields,
            }];
            (status, axum::Json(body)).into_response()
        }
        Surface::Soap => {
            let fault = err.fault();
            let message = match err {
                ApiError::InvalidSession => SOAP_INVALID_SESSION.to_owned(),
                other => other.public_message(),
            };
            let faultstring = match fault.detail {
                Some((_, code)) => format!("{code}: {message}"),
                None => message.clone(),
            };
            let body = xml::fault(&fault.code, &faultstring, fault.detail, &message);
            let mut response = (status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(xml::CONTENT_TYPE),
            );
            response
        }
    }
}

/// The error behind a rendered response, for [`finish`].
#[derive(Debug, Clone)]
struct Rendered(Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let response = render(&self, Surface::Rest);
        attach(response, self)
    }
}

/// Attaches `err` to a response rendered from it (an error page too), so [`finish`] logs it
/// with the request and, on SOAP endpoints, re-renders it.
pub fn attach(mut response: Response, err: ApiError) -> Response {
    response.extensions_mut().insert(Rendered(Arc::new(err)));
    response
}

/// The request a response answers, as errors are logged: never the query string, which can
/// carry a session id (`oauth_token`), and never headers.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The route template, or `unmatched`.
    pub route: &'a str,
}

/// Finishes every response (`http::around`): logs the error behind it (internal errors with
/// their detail), re-renders errors as SOAP faults on SOAP endpoints, and gives the router's own
/// bare 405 answers the error body of their surface (keeping the `Allow` header).
pub fn finish(mut response: Response, request: RequestLine<'_>) -> Response {
    let surface = Surface::for_path(request.path);
    if let Some(Rendered(err)) = response.extensions_mut().remove::<Rendered>() {
        log(&err, request);
        return match surface {
            Surface::Soap => render(&err, Surface::Soap),
            Surface::Rest => response,
        };
    }
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        let mut shaped = render(&ApiError::MethodNotAllowed, surface);
        if let Some(allow) = response.headers().get(header::ALLOW) {
            shaped.headers_mut().insert(header::ALLOW, allow.clone());
        }
        return shaped;
    }
    response
}

/// `path` without an `/orgs/<domain>` prefix.
fn without_org_prefix(path: &str) -> &str {
    match path.strip_prefix("/orgs/") {
        Some(rest) => rest.find('/').map_or("", |i| &rest[i..]),
        None => path,
    }
}

/// Whether `path` is under the REST API, `/services/data/` (also behind `/orgs/<domain>`).
pub fn is_data_api(path: &str) -> bool {
    let path = without_org_prefix(path);
    path.starts_with("/services/data/") || path == "/services/data"
}

/// The longest rejection text [`finish_data_api`] reads; axum's are a line or two.
const REJECTION_TEXT_MAX: usize = 4 * 1024;

/// Finishes an answer of the REST API (`/services/data/**`):
/// - `Cache-Control: no-store` unless it says otherwise: answers carry records, consumer
///   secrets and generated passwords, and one asked for with `?oauth_token=` (no
///   `Authorization` header) could otherwise be kept by a shared cache (RFC 9111 §3.5).
/// - A request the framework refused before any handler ran (a path segment or query
///   parameter of the wrong type, a body that is not JSON) answers in the REST error shape,
///   `[{"message", "errorCode"}]`, as jsforce and the Salesforce CLI read errors, instead of
///   axum's plain text. Its text, which names the parameter and why, becomes the message.
pub async fn finish_data_api(response: Response) -> Response {
    // The server's own errors are JSON already ([`render`]).
    let is_rejection = response.status().is_client_error()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"));
    let mut response = if is_rejection {
        let status = response.status();
        let text = axum::body::to_bytes(response.into_body(), REJECTION_TEXT_MAX)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .unwrap_or_default();
        let error_code = match status {
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::PAYLOAD_TOO_LARGE => "REQUEST_TOO_LARGE",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
            _ if text.contains("JSON") => "JSON_PARSER_ERROR",
            _ => "MALFORMED_REQUEST",
        };
        let message = if text.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("Bad request")
                .to_owned()
        } else {
            text
        };
        let body = [RestError {
            message,
            error_code,
            fields: None,
        }];
        (status, axum::Json(body)).into_response()
    } else {
        response
    };
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

fn log(err: &ApiError, request: RequestLine<'_>) {
    let RequestLine {
        method,
        path,
        route,
    } = request;
    match err {
        ApiError::Internal(detail) => {
            tracing::error!(method, path, route, error = %detail, "internal error");
        }
        ApiError::Timeout => tracing::warn!(method, path, route, "request timed out"),
        other => tracing::debug!(
            method,
            path,
            route,
            code = other.error_code(),
            "client error"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log lines, written to a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl tracing_subscriber::fmt::MakeWriter<'_> for Captured {
        type Writer = Captured;

        fn make_writer(&self) -> Captured {
            self.clone()
        }
    }

    /// Finishes `response` as the answer to a token request, returning it with the log lines.
    fn finish_logged(response: impl FnOnce() -> Response, path: &str) -> (Response, String) {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let line = RequestLine {
            method: "POST",
            path,
            route: "/services/oauth2/token",
        };
        let response = tracing::subscriber::with_default(subscriber, || finish(response(), line));
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        (response, text)
    }

    #[test]
    fn an_internal_error_is_logged_once_with_its_request_and_never_answered() {
        let (response, text) = finish_logged(
            || ApiError::Internal("disk on fire".into()).into_response(),
            "/services/oauth2/token",
        );
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(text.lines().count(), 1, "{text}");
        for part in [
            "ERROR",
            "internal error",
            "disk on fire",
            "POST",
            "/services/oauth2/token",
        ] {
            assert!(text.contains(part), "no `{part}` in {text}");
        }
    }

    #[test]
    fn an_error_page_is_logged_with_its_request_too() {
        let (response, text) = finish_logged(
            || {
                attach(
                    (StatusCode::INTERNAL_SERVER_ERROR, "<p>Error</p>").into_response(),
                    ApiError::Internal("no signing key".into()),
                )
            },
            "/services/oauth2/authorize",
        );
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(text.contains("no signing key"), "{text}");
        assert!(text.contains("/services/oauth2/authorize"), "{text}");
    }

    #[test]
    fn client_errors_are_not_logged_at_info() {
        let (response, text) = finish_logged(
            || ApiError::InvalidSession.into_response(),
            "/services/data/v66.0/sobjects",
        );
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(text, "");
    }

    #[test]
    fn surfaces() {
        assert_eq!(Surface::for_path("/services/Soap/u/66.0"), Surface::Soap);
        assert_eq!(
            Surface::for_path("/orgs/x/services/Soap/u/66.0"),
            Surface::Soap
        );
        assert_eq!(Surface::for_path("/services/data"), Surface::Rest);
        assert_eq!(Surface::for_path("/orgs/services/Soap/u"), Surface::Rest);
    }

    #[test]
    fn internal_detail_stays_out_of_bodies() {
        let err = ApiError::Internal("password=hunter2 in SQL".into());
        assert!(!err.public_message().contains("hunter2"));
        assert_eq!(err.status(Surface::Rest), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
