//! Prometheus metrics, one registry per server (no global state, so tests stay independent).

use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

/// The server's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    events: IntCounterVec,
    commit_events: Histogram,
    commit_seconds: Histogram,
    training_runs: IntCounterVec,
    training_seconds: Histogram,
    model_version: IntGauge,
    model_swaps: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    ///
    /// # Panics
    ///
    /// Never in practice: the names are constants and registered once per registry.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("centroid".into()), None)
            .expect("a constant prefix is valid");
        let latency = vec![
            0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
        ];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route, method and status"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let request_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                .buckets(latency.clone()),
            &["route"],
        )
        .expect("valid metric");
        let events =
            IntCounterVec::new(Opts::new("events_total", "Posted events by outcome"), &["outcome"])
                .expect("valid metric");
        let commit_events = Histogram::with_opts(
            HistogramOpts::new("ingest_commit_events", "Events per group commit")
                .buckets(vec![1.0, 10.0, 100.0, 500.0, 1_000.0, 5_000.0, 10_000.0, 50_000.0]),
        )
        .expect("valid metric");
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new("ingest_commit_duration_seconds", "Duration of a group commit")
                .buckets(latency),
        )
        .expect("valid metric");
        let training_runs = IntCounterVec::new(
            Opts::new("training_runs_total", "Training runs by outcome"),
            &["outcome"],
        )
        .expect("valid metric");
        let training_seconds = Histogram::with_opts(
            HistogramOpts::new("training_duration_seconds", "Duration of a training run")
                .buckets(vec![0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1_800.0]),
        )
        .expect("valid metric");
        let model_version = IntGauge::new("model_version", "Model version being served (0: none)")
            .expect("valid metric");
        let model_swaps = IntCounter::new("model_swaps_total", "Models swapped in while serving")
            .expect("valid metric");

        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(request_seconds.clone()),
            Box::new(events.clone()),
            Box::new(commit_events.clone()),
            Box::new(commit_seconds.clone()),
            Box::new(training_runs.clone()),
            Box::new(training_seconds.clone()),
            Box::new(model_version.clone()),
            Box::new(model_swaps.clone()),
        ] {
            registry.register(collector).expect("each metric is registered once");
        }
        Metrics {
            registry,
            requests,
            request_seconds,
            events,
            commit_events,
            commit_seconds,
            training_runs,
            training_seconds,
            model_version,
            model_swaps,
        }
    }

    /// Records one answered request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.requests.with_label_values(&[route, method, status.as_str()]).inc();
        self.request_seconds.with_label_values(&[route]).observe(elapsed.as_secs_f64());
    }

    /// Counts posted events by outcome (`accepted`, `duplicate`, `rejected`, `bot`, ...).
    pub fn count_events(&self, outcome: &str, n: u64) {
        if n > 0 {
            self.events.with_label_values(&[outcome]).inc_by(n);
        }
    }

    /// Records one group commit of the event writer.
    pub fn observe_commit(&self, n_events: usize, elapsed: Duration) {
        self.commit_events.observe(n_events as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }

    /// Records a finished training run.
    pub fn observe_training(&self, succeeded: bool, elapsed: Duration) {
        let outcome = if succeeded { "succeeded" } else { "failed" };
        self.training_runs.with_label_values(&[outcome]).inc();
        self.training_seconds.observe(elapsed.as_secs_f64());
    }

    /// Records the version now served.
    pub fn set_model_version(&self, version: Option<i64>, swapped: bool) {
        self.model_version.set(version.unwrap_or(0));
        if swapped {
            self.model_swaps.inc();
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding to a Vec cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}
