//! The in-process measurement of the token endpoint (ignored by default: it prints timings
//! and asserts nothing about them; the load benchmark is `scripts/bench-oauth`).

use super::*;

// ---------------------------------------------------------------------------------------------
// A quick measurement (not a benchmark: in-process, no sockets, in-memory SQLite)
// ---------------------------------------------------------------------------------------------

/// `cargo test --release -p eca-server --test server -- --ignored --nocapture measure_`
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement, run by hand in release mode"]
#[allow(clippy::print_stderr, clippy::disallowed_methods)]
async fn measure_client_credentials_in_process() {
    let w = Arc::new(world().await);
    w.deploy(&w.ci()).await;
    let body = format!("grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}");
    for _ in 0..200 {
        assert_eq!(w.token(&body).await.status, StatusCode::OK);
    }
    let n = 2000;
    let started = std::time::Instant::now();
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        assert_eq!(w.token(&body).await.status, StatusCode::OK);
        latencies.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    eprintln!(
        "client_credentials, sequential: {n} in {elapsed:?} = {:.0}/s, p50 {:?}, p99 {:?}",
        n as f64 / elapsed.as_secs_f64(),
        latencies[n / 2],
        latencies[n * 99 / 100]
    );
    let token = w.cc_token().await;
    let started = std::time::Instant::now();
    for _ in 0..n {
        let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let elapsed = started.elapsed();
    eprintln!(
        "bearer REST call, sequential: {n} in {elapsed:?} = {:.0}/s",
        n as f64 / elapsed.as_secs_f64()
    );
    let tasks = 16;
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let w = Arc::clone(&w);
            let body = body.clone();
            tokio::spawn(async move {
                for _ in 0..n / tasks {
                    assert_eq!(w.token(&body).await.status, StatusCode::OK);
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("a task");
    }
    let elapsed = started.elapsed();
    eprintln!(
        "client_credentials, {tasks} concurrent: {n} in {elapsed:?} = {:.0}/s",
        n as f64 / elapsed.as_secs_f64()
    );
}
