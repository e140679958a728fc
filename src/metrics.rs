//! Metrics for Prometheus (issue #19, item 3): `GET /metrics` in the Prometheus text
//! format (0.0.4), through the `prometheus` crate, served on `[metrics] bind` (a separate
//! address, off by default) and on the public address only with `[metrics] public = true`.
//!
//! Each process counts what it served; Prometheus sums the processes. The gauges of the
//! database pool and the outbox are read when scraped.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Latency buckets, in seconds: from a cached lookup to a slow report.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route template (`/api/v1/dossiers/{code}`, never the code
    /// itself) and status.
    requests: IntCounterVec,
    /// Their latency by method and route template.
    latency: HistogramVec,
    /// Dossiers registered, by channel and status (`received` at the counter,
    /// `submitted` online).
    intakes: IntCounterVec,
    /// Dossiers returned, by outcome (`early`, `on_time`, `late`, by the due moment).
    returns: IntCounterVec,
    /// Intakes written per transaction (group commit, `service::group`).
    intake_batches: prometheus::Histogram,
    /// Batches that failed and were written again one intake at a time.
    intake_batches_split: prometheus::IntCounter,
    /// The database pool: its size, connections open, in use, and requests waiting.
    pool: IntGaugeVec,
    /// Outbox messages waiting to be sent (`pending`) or parked after their attempts.
    outbox: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// What the pool looks like when scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolGauges {
    pub size: i64,
    pub open: i64,
    pub idle: i64,
    pub waiting: i64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "motcua_http_requests_total",
                "HTTP requests answered, by method, route template and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "motcua_http_request_duration_seconds",
                "Time to answer an HTTP request, by method and route template.",
            )
            .buckets(BUCKETS.to_vec()),
            &["method", "route"],
        )
        .expect("valid metric");
        let intakes = IntCounterVec::new(
            Opts::new(
                "motcua_intakes_total",
                "Dossiers registered, by channel and status (received, submitted).",
            ),
            &["channel", "status"],
        )
        .expect("valid metric");
        let returns = IntCounterVec::new(
            Opts::new(
                "motcua_returns_total",
                "Dossiers returned to the applicant, by outcome against the due moment.",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let intake_batches = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "motcua_intake_batch_size",
                "Intakes written in one transaction: those that arrived while the previous batch was written (group commit, [database] intake_batch_max).",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]),
        )
        .expect("valid metric");
        let intake_batches_split = prometheus::IntCounter::new(
            "motcua_intake_batches_split_total",
            "Batches of intakes that failed as a whole and were written again one intake at a time (a key sent twice at once, a lost connection).",
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new(
                "motcua_db_pool_connections",
                "The database pool: size (its maximum), open, in_use, idle, and waiting (requests waiting for a connection).",
            ),
            &["state"],
        )
        .expect("valid metric");
        let outbox = IntGaugeVec::new(
            Opts::new(
                "motcua_outbox_messages",
                "Notifications in the outbox waiting to be sent (pending) or set aside after their attempts (parked).",
            ),
            &["state"],
        )
        .expect("valid metric");
        let build = IntGaugeVec::new(
            Opts::new("motcua_build_info", "The running version (always 1)."),
            &["version"],
        )
        .expect("valid metric");
        let up_since = IntGauge::new(
            "motcua_process_start_time_seconds",
            "When this process started, in seconds since the Unix epoch.",
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(intakes.clone()),
            Box::new(returns.clone()),
            Box::new(intake_batches.clone()),
            Box::new(intake_batches_split.clone()),
            Box::new(pool.clone()),
            Box::new(outbox.clone()),
            Box::new(build.clone()),
            Box::new(up_since.clone()),
        ] {
            registry.register(c).expect("each metric registered once");
        }
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        up_since.set(chrono::Utc::now().timestamp());
        Self {
            registry,
            requests,
            latency,
            intakes,
            returns,
            intake_batches,
            intake_batches_split,
            pool,
            outbox,
        }
    }

    /// One request answered.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// One dossier registered.
    pub fn intake(&self, channel: &str, status: &str) {
        self.intakes.with_label_values(&[channel, status]).inc();
    }

    /// A batch of intakes written in one transaction.
    pub fn intake_batch(&self, size: usize) {
        self.intake_batches.observe(size as f64);
    }

    /// A batch of intakes written again one by one.
    pub fn intake_batch_split(&self) {
        self.intake_batches_split.inc();
    }

    /// One dossier returned.
    pub fn returned(&self, outcome: &str) {
        self.returns.with_label_values(&[outcome]).inc();
    }

    /// The text to serve, with the gauges read now.
    pub fn render(&self, pool: PoolGauges, outbox: Option<(i64, i64)>) -> String {
        for (state, v) in [
            ("size", pool.size),
            ("open", pool.open),
            ("in_use", pool.open - pool.idle),
            ("idle", pool.idle),
            ("waiting", pool.waiting),
        ] {
            self.pool.with_label_values(&[state]).set(v);
        }
        if let Some((pending, parked)) = outbox {
            self.outbox.with_label_values(&["pending"]).set(pending);
            self.outbox.with_label_values(&["parked"]).set(parked);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding never fails on a Vec");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_gauges_are_rendered() {
        let m = Metrics::new();
        m.request("POST", "/api/v1/dossiers", 201, 0.004);
        m.intake("counter", "received");
        m.returned("on_time");
        let text = m.render(
            PoolGauges {
                size: 8,
                open: 3,
                idle: 2,
                waiting: 0,
            },
            Some((5, 1)),
        );
        for line in [
            "motcua_http_requests_total{method=\"POST\",route=\"/api/v1/dossiers\",status=\"201\"} 1",
            "motcua_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/dossiers\",le=\"0.005\"} 1",
            "motcua_intakes_total{channel=\"counter\",status=\"received\"} 1",
            "motcua_returns_total{outcome=\"on_time\"} 1",
            "motcua_db_pool_connections{state=\"in_use\"} 1",
            "motcua_outbox_messages{state=\"pending\"} 5",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
