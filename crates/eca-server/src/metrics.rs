//! Prometheus metrics without a global recorder: each [`AppState`](crate::AppState) owns a
//! recorder and registers its own handles, so tests (and several servers in one process)
//! never share counters. `GET /metrics` renders the handle in the text exposition format.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::RwLock;
use std::time::Duration;

use metrics::{Counter, Histogram, Key, Label, Metadata, Recorder as _};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const REQUESTS: &str = "eca_http_requests_total";
const DURATION: &str = "eca_http_request_duration_seconds";
const BUILD_INFO: &str = "eca_build_info";

/// Latency buckets in seconds: from a cached lookup to a slow password hash.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// The handles of each request series met so far, by [`series_hash`]: registering a
    /// series builds its labels and looks it up in the recorder, a cost every request would
    /// pay again (the series are few: routes times methods times statuses).
    series: RwLock<HashMap<u64, Vec<Series>>>,
}

/// One request series (method, route, status) and its handles.
struct Series {
    method: String,
    route: String,
    status: u16,
    count: Counter,
    latency: Histogram,
}

impl Series {
    fn is(&self, method: &str, route: &str, status: u16) -> bool {
        self.status == status && self.method == method && self.route == route
    }
}

fn series_hash(method: &str, route: &str, status: u16) -> u64 {
    let mut hasher = DefaultHasher::new();
    (method, route, status).hash(&mut hasher);
    hasher.finish()
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A fresh registry holding `eca_build_info{version, backend} 1`.
    pub fn new(backend: &'static str) -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), BUCKETS)
            // Fails only for an empty bucket list; fall back to summaries then.
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Self {
            recorder,
            handle,
            series: RwLock::new(HashMap::new()),
        };
        let key = Key::from_parts(
            BUILD_INFO,
            vec![
                Label::new("version", env!("CARGO_PKG_VERSION")),
                Label::new("backend", backend),
            ],
        );
        metrics.recorder.register_gauge(&key, &METADATA).set(1.0);
        metrics
    }

    /// Counts one answered request and its latency, labelled by route template (never the raw
    /// path, whose ids would make every series unique) and status.
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let hash = series_hash(method, route, status);
        let seconds = elapsed.as_secs_f64();
        // A poisoned lock only means a panic elsewhere while it was held: the map is still
        // whole (entries are pushed complete), so keep using it.
        {
            let known = self.series.read().unwrap_or_else(|e| e.into_inner());
            if let Some(series) = known
                .get(&hash)
                .and_then(|list| list.iter().find(|s| s.is(method, route, status)))
            {
                series.count.increment(1);
                series.latency.record(seconds);
                return;
            }
        }
        let labels = vec![
            Label::new("method", method.to_owned()),
            Label::new("route", route.to_owned()),
            Label::new("status", status.to_string()),
        ];
        let series = Series {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
            count: self
                .recorder
                .register_counter(&Key::from_parts(REQUESTS, labels.clone()), &METADATA),
            latency: self
                .recorder
                .register_histogram(&Key::from_parts(DURATION, labels), &METADATA),
        };
        series.count.increment(1);
        series.latency.record(seconds);
        let mut known = self.series.write().unwrap_or_else(|e| e.into_inner());
        let list = known.entry(hash).or_default();
        // Another request may have added the same series meanwhile: both handles point at the
        // recorder's one series, so either may stay.
        if !list.iter().any(|s| s.is(method, route, status)) {
            list.push(series);
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// Folds the latencies recorded since the last upkeep into the histograms. The exporter
    /// keeps every recorded value until then: without a scrape, memory would grow by about 20
    /// bytes a request (over 2 GB an hour at 30,000 requests a second), so the server runs
    /// this every [`UPKEEP_EVERY`] (`http::run`).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// How often a serving server folds recorded latencies into its histograms.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upkeep_folds_recorded_latencies_into_the_histogram() {
        let metrics = Metrics::new("sqlite");
        for _ in 0..1_000 {
            metrics.record_request(
                "POST",
                "/services/oauth2/token",
                200,
                Duration::from_micros(300),
            );
        }
        metrics.upkeep();
        let text = metrics.handle.render();
        assert!(
            text.contains(
                "eca_http_request_duration_seconds_bucket{method=\"POST\",route=\"/services/oauth2/token\",status=\"200\",le=\"0.001\"} 1000"
            ),
            "{text}"
        );
    }

    #[test]
    fn each_series_counts_its_own_requests() {
        let metrics = Metrics::new("sqlite");
        let second = Duration::from_secs(1);
        for (method, route, status, times) in [
            ("GET", "/a", 200, 3),
            ("GET", "/a", 404, 2),
            ("POST", "/a", 200, 1),
            ("GET", "/b", 200, 4),
        ] {
            for _ in 0..times {
                metrics.record_request(method, route, status, second);
            }
        }
        let text = metrics.render();
        for (labels, count) in [
            ("method=\"GET\",route=\"/a\",status=\"200\"", 3),
            ("method=\"GET\",route=\"/a\",status=\"404\"", 2),
            ("method=\"POST\",route=\"/a\",status=\"200\"", 1),
            ("method=\"GET\",route=\"/b\",status=\"200\"", 4),
        ] {
            let line = format!("eca_http_requests_total{{{labels}}} {count}");
            assert!(text.contains(&line), "no `{line}` in:\n{text}");
        }
    }
}
