//! Prometheus metrics for `GET /metrics`, kept in the app state (no globals).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label naming an event.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabel {
    /// The event name (unknown names are folded into `unknown`).
    pub event: String,
}

/// Label naming an error code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// The wire error code.
    pub code: String,
}

/// Label naming how a link preview's fetch ended.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `ok`, or why there is no preview (`address`, `timeout`, `not_html`, ...).
    pub outcome: String,
}

/// Label naming a rate-limited action.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabel {
    /// The action.
    pub action: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 50 µs .. ~1.6 s
    Histogram::new(exponential_buckets(0.00005, 2.0, 16))
}

/// Every metric the server records.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Open authenticated connections.
    pub connections: Gauge,
    /// Client frames received, by event.
    pub events_in: Family<EventLabel, Counter>,
    /// Frames queued to connections, by event.
    pub events_out: Family<EventLabel, Counter>,
    /// Time from a request frame to its ack, by event.
    pub ack_latency: HistogramFamily<EventLabel>,
    /// Time spent in write transactions.
    pub db_write_seconds: Histogram,
    /// Stream writes per group commit ([`crate::committer`]).
    pub commit_batch_writes: Histogram,
    /// Errors returned to clients, by code.
    pub errors: Family<CodeLabel, Counter>,
    /// Requests refused by a rate limit, by action.
    pub rate_limited: Family<ActionLabel, Counter>,
    /// Connections closed because they could not keep up.
    pub slow_consumers: Counter,
    /// Newest-page history reads served from the cluster's Redis cache.
    pub history_cache_hits: Counter,
    /// Newest-page history reads the cache could not serve (read from the
    /// database, then cached).
    pub history_cache_misses: Counter,
    /// Web Push deliveries, by outcome (`sent`, `online`: the device was
    /// connected, `gone`, `retry`, `given_up`).
    pub web_pushes: Family<OutcomeLabel, Counter>,
    /// Link preview fetches, by outcome (refusals included: a link to a
    /// private address counts here without any connection being made).
    pub link_previews: Family<OutcomeLabel, Counter>,
    /// Messages stored before the search index existed and not indexed yet
    /// (this node's last count; 0 once its background indexer is done).
    pub search_unindexed: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("leetchat");
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Open authenticated WebSocket connections on this node",
            connections.clone(),
        );
        let events_in = Family::<EventLabel, Counter>::default();
        registry.register(
            "events_in",
            "Client frames received, by event",
            events_in.clone(),
        );
        let events_out = Family::<EventLabel, Counter>::default();
        registry.register(
            "events_out",
            "Pushes queued to connections, by event",
            events_out.clone(),
        );
        let ack_latency: HistogramFamily<EventLabel> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "ack_latency_seconds",
            "Time from receiving a request to sending its ack, by event",
            ack_latency.clone(),
        );
        let db_write_seconds = latency_histogram();
        registry.register(
            "db_write_seconds",
            "Time spent in database write transactions",
            db_write_seconds.clone(),
        );
        // 1 .. 256
        let commit_batch_writes = Histogram::new(exponential_buckets(1.0, 2.0, 9));
        registry.register(
            "commit_batch_writes",
            "Stream writes committed together in one transaction (group commit)",
            commit_batch_writes.clone(),
        );
        let errors = Family::<CodeLabel, Counter>::default();
        registry.register(
            "errors",
            "Errors returned to clients, by code",
            errors.clone(),
        );
        let rate_limited = Family::<ActionLabel, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit, by action",
            rate_limited.clone(),
        );
        let slow_consumers = Counter::default();
        registry.register(
            "slow_consumers",
            "Connections closed because their outbound queue overflowed",
            slow_consumers.clone(),
        );
        let history_cache_hits = Counter::default();
        registry.register(
            "history_cache_hits",
            "Newest history pages served from the recent-history cache (cluster mode)",
            history_cache_hits.clone(),
        );
        let history_cache_misses = Counter::default();
        registry.register(
            "history_cache_misses",
            "Newest history pages read from the database because the cache could not serve them",
            history_cache_misses.clone(),
        );
        let web_pushes = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "web_pushes",
            "Web Push deliveries by outcome",
            web_pushes.clone(),
        );
        let link_previews = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "link_previews",
            "Link preview fetches by outcome (ok, or why there is none)",
            link_previews.clone(),
        );
        let search_unindexed = Gauge::default();
        registry.register(
            "search_unindexed_messages",
            "Messages not yet in the search index (older ones, indexed in the background after an upgrade)",
            search_unindexed.clone(),
        );
        Metrics {
            registry,
            connections,
            events_in,
            events_out,
            ack_latency,
            db_write_seconds,
            commit_batch_writes,
            errors,
            rate_limited,
            slow_consumers,
            history_cache_hits,
            history_cache_misses,
            link_previews,
            web_pushes,
            search_unindexed,
        }
    }

    /// Counts a Web Push delivery.
    pub fn web_push(&self, outcome: &str) {
        self.web_pushes
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts a link preview's fetch.
    pub fn link_preview(&self, outcome: &str) {
        self.link_previews
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts an error.
    pub fn error(&self, code: leetchat_protocol::ErrorCode) {
        self.errors
            .get_or_create(&CodeLabel {
                code: code.as_str().to_owned(),
            })
            .inc();
    }

    /// Counts a rate-limit refusal.
    pub fn limited(&self, action: &str) {
        self.rate_limited
            .get_or_create(&ActionLabel {
                action: action.to_owned(),
            })
            .inc();
    }

    /// Counts pushes of one event.
    pub fn pushed(&self, event: &str, n: u64) {
        if n > 0 {
            self.events_out
                .get_or_create(&EventLabel {
                    event: event.to_owned(),
                })
                .inc_by(n);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
