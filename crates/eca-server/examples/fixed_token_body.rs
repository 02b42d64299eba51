//! The ceiling for any token endpoint on this machine (issue 5, load benchmark): an HTTP server
//! on the same stack as `eca serve` (tokio + hyper through axum) that answers every
//! `POST /services/oauth2/token` with the same token-sized JSON body, doing no work at all.
//! `scripts/bench-oauth` runs it beside `eca serve` and node-oidc-provider under the same load.
//!
//! With `--rs256` it signs a fresh RS256 JWT access token for every answer instead (the same
//! claims and signing code as `eca serve`, on the request's worker as there) and does nothing
//! else: no client lookup, no store, no policy. That is the ceiling for RS256 access tokens on
//! this machine under the same load generator, which shares the cores and whose wake-ups and
//! loopback TCP cost the same for any server; the gap between it and `openssl speed` is the
//! harness's, the gap between it and `eca serve` is ours.
//!
//! ```sh
//! cargo run --release -p eca-server --example fixed_token_body -- 127.0.0.1:18091 [--rs256]
//! ```

// A benchmark binary: it prints where it listens.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use eca_core::Timestamp;
use eca_core::rng::SystemRng;
use eca_oauth::access_jwt::AccessJwt;
use eca_oauth::jose::SigningKey;

/// A client credentials answer from `eca serve` is this, an opaque token, then
/// [`body_tail`]: the URLs and the signature.
macro_rules! body_head {
    () => {
        r#"{"access_token":""#
    };
}

/// What follows the token in an answer.
macro_rules! body_tail {
    () => {
        r#"","signature":"Qm9keU9mQUZpeGVkU2l6ZVNpZ25hdHVyZVRoYXRMb29rc1JlYWw=","scope":"api","instance_url":"http://127.0.0.1:18090","api_instance_url":"http://127.0.0.1:18090","id":"http://127.0.0.1:18090/id/00D000000000001AAA/005000000000002AAA","token_type":"Bearer","issued_at":"1764180000000"}"#
    };
}

/// The size and shape of a client credentials answer from `eca serve`. `--rs256` answers the
/// same with a signed JWT in place of the opaque token.
const BODY: &str = concat!(
    body_head!(),
    "00D000000000001!AQ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuv",
    body_tail!()
);

async fn token() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        BODY,
    )
}

/// A fresh RS256 access token in an answer of [`BODY`]'s shape.
async fn signed_token(State(key): State<Arc<SigningKey>>) -> impl IntoResponse {
    let jwt = AccessJwt {
        base_url: "http://127.0.0.1:18090",
        user_id: "005000000000002AAA",
        client_id: "3MVG9bench",
        scope: "api",
        issued_at: Timestamp(1_764_180_000_000),
        expires_at: Timestamp(1_764_180_600_000),
    };
    let token = match jwt.sign(&key, &SystemRng) {
        Ok(issued) => issued.value,
        Err(e) => {
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    let body = [body_head!(), token.expose(), body_tail!()].concat();
    (
        [
            (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn main() -> std::io::Result<()> {
    let mut address = "127.0.0.1:18091".to_owned();
    let mut rs256 = false;
    for arg in std::env::args().skip(1) {
        if arg == "--rs256" {
            rs256 = true;
        } else {
            address = arg;
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&address).await?;
            println!("listening on http://{address}");
            let app = if rs256 {
                let key = SigningKey::generate("bench").map_err(std::io::Error::other)?;
                Router::new()
                    .route("/services/oauth2/token", post(signed_token))
                    .with_state(Arc::new(key))
            } else {
                Router::new().route("/services/oauth2/token", post(token))
            };
            axum::serve(listener, app).await
        })
}
