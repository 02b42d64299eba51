//! The ceiling for any token endpoint on this machine (issue 5, load benchmark): an HTTP server
//! on the same stack as `eca serve` (tokio + hyper through axum) that answers every
//! `POST /services/oauth2/token` with the same token-sized JSON body, doing no work at all.
//! `scripts/bench-oauth` runs it beside `eca serve` and node-oidc-provider under the same load.
//!
//! ```sh
//! cargo run --release -p eca-server --example fixed_token_body -- 127.0.0.1:18091
//! ```

// A benchmark binary: it prints where it listens.
#![allow(clippy::print_stdout)]

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;

/// The size and shape of a client credentials answer from `eca serve` (an opaque token, the
/// URLs and the signature).
const BODY: &str = r#"{"access_token":"00D000000000001!AQ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuv","signature":"Qm9keU9mQUZpeGVkU2l6ZVNpZ25hdHVyZVRoYXRMb29rc1JlYWw=","scope":"api","instance_url":"http://127.0.0.1:18090","api_instance_url":"http://127.0.0.1:18090","id":"http://127.0.0.1:18090/id/00D000000000001AAA/005000000000002AAA","token_type":"Bearer","issued_at":"1764180000000"}"#;

async fn token() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        BODY,
    )
}

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18091".to_owned());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&address).await?;
            println!("listening on http://{address}");
            let app = Router::new().route("/services/oauth2/token", post(token));
            axum::serve(listener, app).await
        })
}
