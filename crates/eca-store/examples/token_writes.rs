//! A measurement, not a test: the CPU that recording access tokens costs on SQLite, per token,
//! for batches of a given size through `TokenStore::create_access_tokens` (what the server's
//! token writer calls, `oauth::token_writer` in eca-server). It prints tokens/s and the CPU
//! time per token of SQLite's connection thread and of the calling thread, from
//! `/proc/self/task`, so a change to the schema, the statements or the pragmas can be weighed
//! without an HTTP load around it (docs/benchmarks.md, "RS256").
//!
//! ```sh
//! cargo run --release -p eca-store --example token_writes            # 200,000 tokens, batches of 16
//! N=100000 B=128 cargo run --release -p eca-store --example token_writes
//! ```

// A benchmark binary: it prints, reads the wall clock and its settings from the environment,
// and stops on the first failure.
#![allow(
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::time::Instant;

use eca_core::{SystemRng, Timestamp};
use eca_store::{AccessTokenFormat, AccessTokenRecord, ConsumerId};
use seed::T0;

#[path = "support/seed.rs"]
mod seed;

/// CPU time (user + system, in clock ticks) of this process's threads whose name starts with
/// `comm_prefix`.
fn cpu_of(comm_prefix: &str) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap();
        if comm.starts_with(comm_prefix) {
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = after.split(' ').collect();
            total += f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        }
    }
    total
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// One thread calls the store, as the server's writer task does; SQLite's connections have
// their own threads.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n = setting("N", 200_000);
    let batch = setting("B", 16).max(1);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("eca.db").display());
    let store = eca_store::open(&url).await.unwrap();
    let (org, profile) = seed::org_and_profile(store.as_ref()).await;
    let user = seed::user(store.as_ref(), &org, &profile, 0).await;
    let consumer = ConsumerId::generate(&SystemRng);
    let records: Vec<AccessTokenRecord> = (0..n)
        .map(|i| {
            // Eight tokens per millisecond, keyed like the server's (issue time, then a hash).
            let t = T0 + (i as i64) / 8;
            AccessTokenRecord {
                token_hash: format!("{t:011x}{:064x}", (i as u128) * 0x9e37_79b9_7f4a_7c15_u128),
                org_id: org.id.clone(),
                app_name: "Demo_App".into(),
                consumer_id: consumer.clone(),
                user_id: user.id.clone(),
                scopes: "api".into(),
                format: AccessTokenFormat::Jwt,
                refresh_hash: None,
                issued_at: Timestamp(t),
                expires_at: Timestamp(t + 900_000),
                revoked_at: None,
            }
        })
        .collect();
    let refs: Vec<&AccessTokenRecord> = records.iter().collect();
    let c0 = cpu_of("sqlx-sqlite-wor");
    let m0 = cpu_of("token_writes");
    let started = Instant::now();
    for chunk in refs.chunks(batch) {
        store.create_access_tokens(chunk).await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let c1 = cpu_of("sqlx-sqlite-wor");
    let m1 = cpu_of("token_writes");
    println!(
        "{n} tokens, batches of {batch}: {:.0}/s; sqlite thread {:.2} us/token, caller {:.2} us/token",
        n as f64 / secs,
        (c1 - c0) as f64 * 10_000.0 / n as f64,
        (m1 - m0) as f64 * 10_000.0 / n as f64,
    );
}
