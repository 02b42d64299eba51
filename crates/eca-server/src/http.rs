//! The server as a function (`STYLE.md` §9): [`app`] builds the router from a state, [`run`]
//! serves it on a listener until a shutdown future completes. Tests call [`app`] in-process.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::Method;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::{self, ApiError};
use crate::metadata;
use crate::rest::{identity, orgs, query, sobjects, versions};
use crate::soap::partner;
use crate::state::AppState;
use crate::{ops, rest};

/// The routes every org answers, at the root (default org or `Host`) and under
/// `/orgs/{domain}`.
fn org_routes(state: &AppState) -> Router<AppState> {
    let soap_limit = DefaultBodyLimit::max(partner::BODY_LIMIT.min(state.settings().body_limit));
    Router::new()
        .route("/services/data", get(versions::list))
        .route("/services/data/{version}", get(versions::resources))
        .route("/id/{org_id}/{user_id}", get(identity::identity))
        .route(
            "/services/Soap/u/{version}",
            post(partner::handle).layer(soap_limit),
        )
        .route(
            "/services/Soap/u/{version}/{org_id}",
            post(partner::handle).layer(soap_limit),
        )
        .merge(people_routes(state))
        .merge(crate::oauth::routes())
        .merge(crate::web::routes())
        .merge(crate::saml::routes(state))
        .merge(crate::connect::routes())
        .merge(metadata_routes(state))
}

/// The Metadata API: SOAP (`metadata::soap`) and the REST `deployRequest` (`metadata::rest`).
/// Deploy zips may be as large as the body limit (base64 on SOAP).
fn metadata_routes(state: &AppState) -> Router<AppState> {
    let limit = state.settings().body_limit;
    let soap_limit = DefaultBodyLimit::max(metadata::soap::body_limit(limit));
    Router::new()
        .route(
            "/services/Soap/m/{version}",
            post(metadata::soap::handle).layer(soap_limit),
        )
        .route(
            "/services/Soap/m/{version}/{org_id}",
            post(metadata::soap::handle).layer(soap_limit),
        )
        .route(
            "/services/data/{version}/metadata/deployRequest",
            post(metadata::rest::create).layer(DefaultBodyLimit::max(limit + 64 * 1024)),
        )
        .route(
            "/services/data/{version}/metadata/deployRequest/{id}",
            get(metadata::rest::read).patch(metadata::rest::cancel),
        )
}

/// Users, permission sets, SOQL and orgs (`rest::sobjects`, `rest::query`, `rest::orgs`).
fn people_routes(state: &AppState) -> Router<AppState> {
    let json_limit = DefaultBodyLimit::max(sobjects::BODY_LIMIT.min(state.settings().body_limit));
    Router::new()
        .route("/services/data/{version}/query", get(query::data))
        .route(
            "/services/data/{version}/tooling/query",
            get(query::tooling),
        )
        .route(
            "/services/data/{version}/sobjects/{object}",
            post(sobjects::create).layer(json_limit),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/{id}",
            get(sobjects::read)
                .patch(sobjects::update)
                .delete(sobjects::delete)
                .layer(json_limit),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/{id}/password",
            post(sobjects::set_password).layer(json_limit),
        )
        .route(
            "/services/data/{version}/eca/orgs",
            get(orgs::list).post(orgs::create).layer(json_limit),
        )
        .route(
            "/services/data/{version}/eca/session-settings",
            get(rest::session_settings::read)
                .patch(rest::session_settings::update)
                .layer(json_limit),
        )
        .route(
            "/services/data/{version}/eca/saml/keys",
            get(rest::saml_keys::list),
        )
        .route(
            "/services/data/{version}/eca/saml/keys/rotate",
            post(rest::saml_keys::rotate),
        )
        .route(
            "/services/data/{version}/eca/oauth/keys",
            get(rest::oauth_keys::list),
        )
        .route(
            "/services/data/{version}/eca/oauth/keys/rotate",
            post(rest::oauth_keys::rotate),
        )
}

/// The whole HTTP surface of the server.
pub fn app(state: AppState) -> Router {
    let org = org_routes(&state);
    // A span and a line per request cost the token endpoint a tenth of its throughput: both
    // only when asked for (`--access-log`).
    let access_log = state.settings().access_log;
    Router::new()
        .merge(org.clone())
        .nest("/orgs/{domain}", org)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(rest::not_found)
        // One `layer` call with the whole stack, as a tuple (outermost first): axum boxes each
        // `layer` call's service around every route, and a boxed route clones everything boxed
        // inside it on every request, so five calls cost each request fifteen clones and
        // allocations where one call costs one.
        .layer((
            // Marked before (outside) the trace layer, so no header value of these is ever
            // recorded (tower-http `sensitive_headers`).
            SetSensitiveRequestHeadersLayer::new([AUTHORIZATION, COOKIE]),
            SetSensitiveResponseHeadersLayer::new([SET_COOKIE]),
            TraceLayer::new_for_http()
                .make_span_with(move |request: &Request| request_span(request, access_log))
                .on_response(DefaultOnResponse::new().level(if access_log {
                    Level::INFO
                } else {
                    Level::DEBUG
                })),
            middleware::from_fn_with_state(state.clone(), around),
            DefaultBodyLimit::max(state.settings().body_limit),
        ))
        .with_state(state)
}

/// How long, once shutdown begins, connections in flight get to finish: a client that never
/// finishes its request (or never reads its answer) must not keep the server up forever.
pub const DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves `app(state)` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (for at most [`DRAIN`]) and the access tokens they issued reach the store
/// (`oauth::token_writer`).
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Latencies are folded into the metrics' histograms every few seconds, scraped or not.
    let upkeep = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(crate::metrics::UPKEEP_EVERY);
            loop {
                every.tick().await;
                state.metrics().upkeep();
            }
        })
    };
    // Expired sessions and access tokens are deleted in the background.
    let housekeeping = tokio::spawn(crate::housekeeping::run(state.clone()));
    // This node says it is alive, and ends the deploys of nodes that stopped.
    let heartbeat = tokio::spawn(crate::nodes::run(state.clone()));
    let (begun, mut begins) = tokio::sync::watch::channel(false);
    let serve = axum::serve(
        listener,
        app(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = begun.send(true);
    });
    let deadline = async move {
        if begins.wait_for(|begun| *begun).await.is_err() {
            // The server stopped without a shutdown: nothing to time.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(DRAIN).await;
    };
    let served = tokio::select! {
        served = serve => served,
        () = deadline => {
            tracing::warn!(
                seconds = DRAIN.as_secs(),
                "connections still open after the shutdown's drain time: closing them"
            );
            Ok(())
        }
    };
    upkeep.abort();
    housekeeping.abort();
    heartbeat.abort();
    // A beat in flight must not write this node back after it has left.
    let _ = heartbeat.await;
    // Requests still running past the drain time get no token from here on, and every token
    // already handed out is committed before the process ends.
    state.token_writer().close().await;
    crate::nodes::leave(&state).await;
    served
}

/// The span of a request: method, path and route template. Never the query string, which
/// can carry a session id (`oauth_token`), and never headers. At INFO with the access log,
/// else at DEBUG, which the server's INFO logging leaves disabled (and free).
fn request_span(request: &Request, access_log: bool) -> tracing::Span {
    macro_rules! span {
        ($make:ident) => {
            tracing::$make!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", MatchedPath::as_str),
            )
        };
    }
    if access_log {
        span!(info_span)
    } else {
        span!(debug_span)
    }
}

/// Around every request, innermost first: the request timeout, then [`error::finish`] (the
/// error shape of the surface and the log line of an error, with the request), then the
/// metrics. One middleware rather than one each: every layer costs every request a boxed
/// future and a clone of the services inside it.
//
// Latency is measured for metrics only and never decides anything, so it may read the
// monotonic clock directly rather than the injected `Clock`.
#[allow(clippy::disallowed_methods)]
async fn around(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    // A clone shares the received bytes: nothing is copied.
    let uri = request.uri().clone();
    let response =
        match tokio::time::timeout(state.settings().request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => ApiError::Timeout.into_response(),
        };
    let line = error::RequestLine {
        method: method_label(&method),
        path: uri.path(),
        route: route.as_ref().map_or("unmatched", MatchedPath::as_str),
    };
    let mut response = error::finish(response, line);
    if error::is_data_api(line.path) {
        response = error::finish_data_api(response).await;
    }
    state.metrics().record_request(
        line.method,
        line.route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// A request method as a metrics label and in logs: the standard ones by name, any other
/// (clients may send any token) as `OTHER`, so that clients cannot add series at will.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("OTHER", Method::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        for made_up in ["FOO", "post", "PROPFIND"] {
            let method = Method::from_bytes(made_up.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "OTHER", "{made_up}");
        }
    }
}
