//! A measurement, not a test: the Connect usage queries and revocation with 1,000,000 stored
//! tokens (issue 6): 10 apps of 100,000 tokens each (40,000 refresh tokens, 40,000 access
//! tokens issued from them, 20,000 client-credentials access tokens), spread over 1,000 users.
//! Targets: one page of a listing under 50 ms; revoking all 100,000 tokens of one app under
//! 2 s, on SQLite.
//!
//! ```sh
//! cargo run --release -p eca-store --example usage_1m
//! BENCH_TOKENS_PER_APP=10000 cargo run -p eca-store --example usage_1m
//! ```
//!
//! The rows are written straight into the database in large transactions (the store writes
//! one token per call, each durable, which would take hours here); the measured calls go
//! through the store's API.

// A benchmark binary: it prints, reads the wall clock and its settings from the environment,
// and stops on the first failure.
#![allow(
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::time::Instant;

use eca_core::Timestamp;
use eca_store::{ChangeSet, ComponentChange, Page, Store};
use sqlx::Connection as _;

#[path = "support/seed.rs"]
mod seed;

const APPS: usize = 10;
const USERS: usize = 1000;
/// 2026-11-26T00:00:00Z.
use seed::T0;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `f` `runs` times; returns the fastest and the slowest, in milliseconds.
async fn time<F, Fut, T>(runs: usize, mut f: F) -> (f64, f64, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut best = f64::MAX;
    let mut worst = 0.0_f64;
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let out = f().await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        best = best.min(ms);
        worst = worst.max(ms);
        last = Some(out);
    }
    (best, worst, last.expect("at least one run"))
}

#[tokio::main]
async fn main() {
    let per_app = setting("BENCH_TOKENS_PER_APP", 100_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eca.db");
    let url = format!("sqlite://{}", path.display());
    let store = eca_store::open(&url).await.unwrap();

    let (org, profile) = seed::org_and_profile(store.as_ref()).await;
    let started = Instant::now();
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let user = seed::user(store.as_ref(), &org, &profile, i).await;
        users.push(user.id);
    }
    let apps: Vec<String> = (0..APPS).map(|i| format!("App{i}")).collect();
    let headers: Vec<ComponentChange> = apps
        .iter()
        .map(|a| ComponentChange::Create {
            type_name: "ExternalClientApplication".into(),
            full_name: a.clone(),
            app_name: Some(a.clone()),
            xml: "<ExternalClientApplication/>".into(),
        })
        .collect();
    store
        .apply_changes(&ChangeSet {
            org: &org.id,
            user: &users[0],
            at: Timestamp(T0),
            components: &headers,
            consumers: &[],
            audit: &[],
            finish: None,
            deleted_apps: &[],
        })
        .await
        .unwrap();
    println!(
        "{USERS} users and {APPS} apps in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The tokens, straight into the tables.
    let started = Instant::now();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let consumer = "888000000000001AAA";
    let refresh_per_app = per_app * 2 / 5;
    let standalone_per_app = per_app - 2 * refresh_per_app;
    for (a, app) in apps.iter().enumerate() {
        let lower = app.to_lowercase();
        let mut tx = conn.begin().await.unwrap();
        let mut refresh_rows = Vec::new();
        let mut access_rows = Vec::new();
        let flush = |rows: &mut Vec<String>, table: &str| -> Option<String> {
            if rows.is_empty() {
                return None;
            }
            let sql = match table {
                "refresh" => format!(
                    "INSERT INTO oauth_refresh_tokens (token_hash, org_id, app_name, app_name_lower, consumer_id, user_id, scopes, family_id, issued_at, expires_at, last_used_at, use_count, rotated_at, revoked_at) VALUES {}",
                    rows.join(",")
                ),
                _ => format!(
                    "INSERT INTO oauth_access_tokens (token_hash, org_id, app_name, app_name_lower, consumer_id, user_id, scopes, format, refresh_hash, issued_at, expires_at, revoked_at) VALUES {}",
                    rows.join(",")
                ),
            };
            rows.clear();
            Some(sql)
        };
        for i in 0..refresh_per_app {
            let user = &users[i % USERS];
            let issued = T0 + (i as i64) * 1000;
            let hash = format!("r{a:02}{i:062x}");
            refresh_rows.push(format!(
                "('{hash}','{org}','{app}','{lower}','{consumer}','{user}','api refresh_token','f{a}-{i}',{issued},NULL,{last},{uses},NULL,NULL)",
                org = org.id,
                last = issued + 60_000,
                uses = i % 7,
            ));
            access_rows.push(format!(
                "('a{a:02}{i:062x}','{org}','{app}','{lower}','{consumer}','{user}','api','Opaque','{hash}',{issued},{expires},NULL)",
                org = org.id,
                expires = T0 + 10 * 365 * 86_400_000,
            ));
            if refresh_rows.len() == 2000 {
                for (rows, table) in [(&mut refresh_rows, "refresh"), (&mut access_rows, "access")]
                {
                    if let Some(sql) = flush(rows, table) {
                        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                    }
                }
            }
        }
        for i in 0..standalone_per_app {
            let user = &users[i % USERS];
            let issued = T0 + (i as i64) * 1000;
            access_rows.push(format!(
                "('c{a:02}{i:062x}','{org}','{app}','{lower}','{consumer}','{user}','api','Opaque',NULL,{issued},{expires},NULL)",
                org = org.id,
                expires = T0 + 10 * 365 * 86_400_000,
            ));
            if access_rows.len() == 2000
                && let Some(sql) = flush(&mut access_rows, "access")
            {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
        }
        for (rows, table) in [(&mut refresh_rows, "refresh"), (&mut access_rows, "access")] {
            if let Some(sql) = flush(rows, table) {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
        }
        tx.commit().await.unwrap();
    }
    sqlx::raw_sql("ANALYZE").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let total = APPS * per_app;
    println!(
        "{total} tokens written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let now = Timestamp(T0 + 86_400_000);
    let page = Page {
        offset: 0,
        limit: 100,
    };
    let s: &dyn Store = store.as_ref();
    let (best, worst, listed) = time(5, || s.apps_with_usage(&org.id, now, page)).await;
    println!(
        "apps with usage, page 0 of 100: {best:.1} ms (slowest of 5: {worst:.1} ms), {} apps",
        listed.unwrap().len()
    );
    let (best, worst, listed) = time(5, || s.app_users(&org.id, "App1", now, page)).await;
    println!(
        "users of one app ({per_app} tokens), page 0 of 100: {best:.1} ms (slowest of 5: {worst:.1} ms), {} users",
        listed.unwrap().len()
    );
    let last_page = Page {
        offset: (USERS as i64) - 100,
        limit: 100,
    };
    let (best, worst, _) = time(5, || s.app_users(&org.id, "App1", now, last_page)).await;
    println!("users of one app, last page: {best:.1} ms (slowest of 5: {worst:.1} ms)");
    let (best, worst, listed) =
        time(5, || s.user_refresh_tokens(&org.id, "App1", &users[7], now)).await;
    println!(
        "one user's refresh tokens of one app: {best:.1} ms (slowest of 5: {worst:.1} ms), {} tokens",
        listed.unwrap().len()
    );
    let (best, _, revoked) = time(1, || {
        s.revoke_user_app_tokens(&org.id, "App2", &users[3], Timestamp(now.millis() + 1))
    })
    .await;
    println!(
        "revoke one user's tokens of one app: {best:.1} ms ({} tokens)",
        revoked.unwrap()
    );
    let (best, _, revoked) = time(1, || {
        s.revoke_app_tokens(&org.id, "App0", Timestamp(now.millis() + 2))
    })
    .await;
    println!(
        "revoke every token of one app: {best:.0} ms ({} tokens)",
        revoked.unwrap()
    );
    let (best, worst, listed) = time(5, || s.apps_with_usage(&org.id, now, page)).await;
    println!(
        "apps with usage after that: {best:.1} ms (slowest of 5: {worst:.1} ms), {} apps",
        listed.unwrap().len()
    );
}
