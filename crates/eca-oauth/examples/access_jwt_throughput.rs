//! RS256 JWT access tokens signed per second, on one thread and on every core: what the
//! token endpoint could reach if signing were all it did (`scripts/bench-oauth` compares the
//! server with `openssl speed rsa2048`; this separates aws-lc from the rest of the request).
//!
//! `cargo run --release -p eca-oauth --example access_jwt_throughput [seconds]`

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use eca_core::Timestamp;
use eca_core::rng::SystemRng;
use eca_oauth::access_jwt::AccessJwt;
use eca_oauth::jose::SigningKey;

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let key = Arc::new(SigningKey::generate("bench").unwrap());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for threads in [1, cores] {
        let rate = signed_per_second(&key, threads, Duration::from_secs(seconds));
        println!("{threads} thread(s): {rate:.0} access tokens signed per second");
    }
}

/// Signs tokens on `threads` threads for `period`; the rate over all of them.
fn signed_per_second(key: &Arc<SigningKey>, threads: usize, period: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let signed = Arc::new(AtomicU64::new(0));
    // Benchmarks may read the wall clock; library code may not.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (key, stop, signed) = (Arc::clone(key), Arc::clone(&stop), Arc::clone(&signed));
            std::thread::spawn(move || {
                let rng = SystemRng;
                while !stop.load(Ordering::Relaxed) {
                    let token = AccessJwt {
                        base_url: "http://127.0.0.1:8080",
                        user_id: "005000000000001AAA",
                        client_id: "3MVG9bench",
                        scope: "api",
                        issued_at: Timestamp(1_764_000_000_000),
                        expires_at: Timestamp(1_764_000_600_000),
                    };
                    std::hint::black_box(token.sign(&key, &rng).unwrap());
                    signed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(period);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }
    signed.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}
