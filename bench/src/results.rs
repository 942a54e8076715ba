//! What a run measured, typed: the scenarios return these, the report reads
//! them, and `results.json` is them serialized. The JSON field names are the
//! ones saved reports already use (`--render` reads those files back);
//! fields an older file may lack are `#[serde(default)]`.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The configuration the targets are judged on.
pub const EMBEDDED: &str = "embedded (SQLite)";
/// The bare broadcast server.
pub const BASELINE: &str = "baseline (bare broadcast)";
/// PostgreSQL + Redis on one node (where the history target is judged).
pub const PG_ONE_NODE: &str = "PostgreSQL + Redis, one node";
/// PostgreSQL + Redis on two nodes.
pub const PG_TWO_NODES: &str = "PostgreSQL + Redis, two nodes";

/// A whole run: where and how it ran, and every configuration's figures.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Results {
    /// When (UTC, `YYYY-MM-DD HH:MM UTC`).
    pub date: String,
    /// The commit measured (`git rev-parse --short HEAD`).
    pub commit: String,
    /// `debug` or `release`.
    pub build: String,
    /// The machine it ran on.
    pub machine: Machine,
    /// Which cores the servers and the load generator ran on.
    pub pinning: Pinning,
    /// The sizes of the run.
    pub plan: PlanSummary,
    /// Figures per configuration (`embedded (SQLite)`, `baseline (bare
    /// broadcast)`, `PostgreSQL + Redis, one node`, ...), in name order.
    pub configurations: BTreeMap<String, Configuration>,
    /// Remarks for the report (the open-file limit, what was skipped).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Scenarios that failed or lost messages.
    #[serde(default)]
    pub failures: Vec<String>,
    /// Scenario 8: the client core's store (no server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_store: Option<ClientStore>,
    /// A `--quick` run (its timings are not judged against the targets).
    #[serde(default)]
    pub quick: bool,
    /// `--quick` or `full run`.
    #[serde(default)]
    pub mode: String,
}

/// The machine a run was measured on.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// Cores available.
    pub cores: usize,
    /// Memory, e.g. `24 GiB`.
    pub memory: String,
    /// Kernel release.
    pub kernel: String,
}

/// Where the processes ran, as words for the report.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Pinning {
    /// The servers under test.
    pub servers: String,
    /// The load generator (this process).
    pub loadgen: String,
}

/// The sizes of a run that the report records (see [`crate::plan::Plan`]).
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct PlanSummary {
    /// Connected clients in the throughput runs.
    pub clients: usize,
    /// Group size in the throughput run.
    pub group: usize,
    /// Send rates tried, messages/s.
    pub rates: Vec<u64>,
    /// Seconds per rate.
    pub phase_s: f64,
    /// Members of the one fan-out group.
    pub fanout_members: usize,
    /// Idle connection counts measured.
    pub idle_steps: Vec<usize>,
    /// Sockets in the reconnect storm.
    pub storm_clients: usize,
    /// Closed-loop senders in the durable-writes scenario.
    pub durable_senders: usize,
}

/// One target's figures: each scenario that ran on it.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Configuration {
    /// Scenarios 1, 2, 9: groups of `plan.group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// Scenarios 2, 9: groups of `plan.wide_group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wide_fanout_throughput: Option<Throughput>,
    /// Scenario 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanout: Option<Fanout>,
    /// Scenario 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<Idle>,
    /// Scenario 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect: Option<Reconnect>,
    /// Scenario 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable: Option<Durable>,
    /// Scenario 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

/// Scenario 11 (`--only search`) on one engine.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct SearchEngine {
    /// `SQLite (embedded)` or `PostgreSQL`.
    pub name: String,
    /// Messages in the room set.
    pub messages: i64,
    /// Groups they are spread over (the searcher is in all).
    pub rooms: usize,
    /// Writing them into the database.
    pub seed_s: f64,
    /// From starting the server on them to every one indexed.
    pub index_s: f64,
    /// The index: FTS5 tables and their rowid indexes, or the tsvector
    /// column, its GIN index and the time index.
    pub index_bytes: Option<u64>,
    /// The messages table without the index, for scale.
    pub table_bytes: Option<u64>,
    /// How many messages have each marker word.
    pub marker_counts: Vec<(String, usize)>,
    /// Each query's latency (first page of 20, one socket, one at a time).
    pub queries: Vec<SearchQuery>,
    /// Sends on the empty database.
    pub send_empty: SendCost,
    /// Sends with the whole room set indexed.
    pub send_indexed: SendCost,
    /// Sends on the empty database of a server from before search
    /// (`--before-server-bin`), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_before_search: Option<SendCost>,
}

/// One query of scenario 11.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct SearchQuery {
    /// What it asks.
    pub label: String,
    /// The query text.
    pub query: String,
    /// Results on the first page (at most 20).
    pub first_page: usize,
    /// Request to ack.
    pub latency: Latency,
}

/// Sends one after another, each waiting for its ack.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct SendCost {
    /// How many.
    pub sends: usize,
    /// Acked per second.
    pub per_s: f64,
    /// Send to ack.
    pub ack: Latency,
}

/// Scenario 10, the soak (`--only soak`).
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Soak {
    /// How long the traffic ran.
    pub minutes: f64,
    /// Client-core clients, half on each node.
    pub clients: usize,
    /// Groups, every client in each.
    pub groups: usize,
    /// Server nodes.
    pub nodes: usize,
    /// Messages queued by the clients.
    pub sent: u64,
    /// Of those, acked (in their senders' stores with a seq at the end).
    pub acked: u64,
    /// Acked messages missing from a member's store after catching up,
    /// summed over members (must be 0).
    pub lost: u64,
    /// Extra copies of a message in a member's store, summed (must be 0).
    pub duplicated: u64,
    /// Message rows in PostgreSQL, and distinct contents among them (equal
    /// to `acked` when nothing was stored twice).
    pub db_rows: i64,
    pub db_distinct: i64,
    /// Clients stopped and started again during the run.
    pub reconnects: usize,
    /// The faults, when they happened.
    pub events: Vec<SoakEvent>,
    /// Resident memory of each node, every 10 s.
    pub memory: Vec<SoakMemory>,
    /// Node 1 (never restarted): median RSS of the last minute over the
    /// second minute's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node1_rss_growth: Option<f64>,
    /// Send → receive of live pushes, per minute.
    pub per_minute: Vec<SoakMinute>,
}

/// A fault injected during the soak.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct SoakEvent {
    /// Seconds into the run.
    pub t_s: u64,
    /// What.
    pub what: String,
}

/// Memory of the nodes at one moment.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct SoakMemory {
    /// Seconds into the run.
    pub t_s: u64,
    pub node1_mib: f64,
    pub node2_mib: f64,
}

/// One minute of the soak.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct SoakMinute {
    /// 1-based.
    pub minute: usize,
    /// Live messages received in it.
    pub received: u64,
    /// Send → receive.
    pub latency: Latency,
}

/// Percentiles of a latency histogram (recorded in µs), in ms.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    /// The percentiles of `h` (µs).
    pub fn of(h: &Histogram<u64>) -> Latency {
        Latency {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

/// Percentiles of an operation's times (recorded in µs), in ms: the client
/// store's, which never recorded a p90.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Timings {
    /// The percentiles of `h` (µs).
    pub fn of(h: &Histogram<u64>) -> Timings {
        Timings {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.5)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Scenarios 1, 2 and 9: messages at rising rates to groups.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Throughput {
    /// Connected clients.
    pub clients: usize,
    /// Members per group (each send is delivered to `group_size - 1`).
    pub group_size: usize,
    /// Seconds per rate.
    pub phase_s: f64,
    /// One per rate run (it stops early once past capacity).
    pub phases: Vec<Phase>,
    /// The highest delivered rate with p99 ≤ 100 ms and nothing owed (none
    /// if no rate qualified).
    pub sustained_delivered_per_s_p99_under_100ms: Option<f64>,
    /// Messages sent, all phases.
    pub messages_sent: u64,
    /// Messages no recipient got.
    pub messages_with_no_delivery: u64,
    /// Deliveries owed and not made.
    pub deliveries_missing: u64,
    /// Deliveries made more than once.
    pub duplicated_deliveries: u64,
    /// Error acks.
    pub errors: u64,
}

/// One rate of a throughput run.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Phase {
    /// Messages sent per second.
    pub rate_msgs_per_s: u64,
    /// Deliveries per second.
    pub delivered_per_s: f64,
    /// Deliveries owed.
    pub expected_deliveries: u64,
    /// Deliveries made.
    pub deliveries: u64,
    /// Send → receive, per delivery.
    pub latency: Latency,
    /// Server CPU seconds in the phase.
    pub server_cpu_s: f64,
    /// Server CPU over wall time (1.0 is a core).
    pub server_cpu_share: f64,
    /// The load generator's CPU over wall time.
    pub loadgen_cpu_share: f64,
    /// Server CPU µs per delivery.
    pub server_cpu_us_per_delivery: f64,
}

/// Scenario 3: one sender, one big group.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Fanout {
    /// Members of the group.
    pub members: usize,
    /// Messages published.
    pub messages: u64,
    /// Publish → the last recipient has it, per message.
    pub publish_to_last_recipient: Latency,
    /// Publish → each recipient, per delivery.
    pub publish_to_each_recipient: Latency,
    /// Messages some recipient never got.
    pub messages_missing_a_recipient: u64,
    /// Error acks.
    pub errors: u64,
    /// Server CPU µs per delivery.
    pub server_cpu_us_per_delivery: f64,
}

/// Scenario 4: server memory over idle connections.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Idle {
    /// Server RSS at each step (the first with no connections).
    pub points: Vec<IdlePoint>,
    /// RSS growth per connection, first step to last.
    pub bytes_per_connection: f64,
}

/// Server memory at one idle step.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct IdlePoint {
    /// Open connections.
    pub connections: usize,
    /// Server RSS, bytes.
    pub rss_bytes: u64,
}

/// Scenario 5: everyone drops, misses messages, comes back at once.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Reconnect {
    /// Sockets dropped and reconnected.
    pub clients: usize,
    /// Users behind them.
    pub users: usize,
    /// Members per group.
    pub group_size: usize,
    /// Messages each room got while everyone was away.
    pub missed_per_room: usize,
    /// Until the slowest was back and synced.
    pub all_back_and_caught_up_s: f64,
    /// Missed messages a sync did not return.
    pub lost: usize,
    /// Messages a sync returned twice.
    pub duplicated: usize,
    /// Connects and syncs refused as retryable and retried.
    pub retries: u64,
    /// Why, with counts.
    #[serde(default)]
    pub retry_reasons: BTreeMap<String, u64>,
    /// `presence.update` pushes the drop and return caused (older runs did
    /// not count them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_pushes: Option<u64>,
}

/// Scenario 6: closed-loop senders, each waiting for its ack.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Durable {
    /// Senders.
    pub senders: usize,
    /// Messages acked.
    pub acked: u64,
    /// Acked per second.
    pub acked_per_s: f64,
    /// Send → ack.
    pub ack: Latency,
    /// Scenario 6b: the same rows written by the database alone, in the same run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_alone: Option<DbAlone>,
}

/// Scenario 6b: the rows of a send written through the server's `Db` alone.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct DbAlone {
    /// Closed-loop writers.
    pub senders: usize,
    /// One transaction (one commit) per message.
    pub per_message: DbAloneRun,
    /// Every row waiting when a commit starts, in one transaction.
    pub batched: DbAloneRun,
}

/// One way of scenario 6b.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct DbAloneRun {
    /// Messages written (committed).
    pub written: u64,
    /// Written per second.
    pub written_per_s: f64,
    /// Messages per commit, on average.
    pub mean_batch: f64,
    /// Handed over → committed.
    pub latency: Latency,
}

/// Scenario 7: pages of a big room's history through the API.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct History {
    /// Messages in the room.
    pub messages: i64,
    /// Seconds seeding them.
    pub seed_s: f64,
    /// The newest 50.
    pub newest_page: Latency,
    /// 50 before a random cursor.
    pub page_at_random_cursor: Latency,
}

/// Scenario 8: the client core's SQLite store.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct ClientStore {
    /// Messages in the one room.
    pub messages: i64,
    /// Seconds filling the store.
    pub fill_s: f64,
    /// Opening the store, then the newest page.
    pub cold_open_newest_page: Timings,
    /// The newest page, store open.
    pub newest_page_warm: Timings,
    /// Search for one word.
    pub search_one_word: Timings,
    /// Search for two words.
    pub search_two_words: Timings,
}

/// `v` as pretty JSON with every object's keys in name order, as the
/// reports have always been written (a `serde_json::Value` sorts its keys;
/// the structs above are in reading order instead).
pub fn to_json<T: Serialize>(v: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&serde_json::to_value(v)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The saved full run re-serializes to exactly the same JSON.
    #[test]
    fn saved_results_round_trip() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/benchmarks/results.json"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let r: Results = serde_json::from_str(&text).unwrap();
        assert!(r.configurations.contains_key(EMBEDDED));
        let again: serde_json::Value = serde_json::from_str(&to_json(&r).unwrap()).unwrap();
        let before: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(again, before);
    }

    /// A file from before the reconnect storm and its presence count still
    /// reads, and writes back without fields it did not have.
    #[test]
    fn older_results_read() {
        let text = r#"{"date":"d","commit":"c","build":"release",
            "machine":{"cpu":"x","cores":2,"memory":"1 GiB","kernel":"k"},
            "pinning":{"servers":"not pinned","loadgen":"not pinned"},
            "plan":{"clients":1,"group":1,"rates":[1],"phase_s":1.0,"fanout_members":1,
                    "idle_steps":[1],"storm_clients":1,"durable_senders":1},
            "configurations":{"embedded (SQLite)":{"reconnect":{"clients":1,"users":1,
                "group_size":1,"missed_per_room":1,"all_back_and_caught_up_s":1.0,
                "lost":0,"duplicated":0,"retries":0}}}}"#;
        let r: Results = serde_json::from_str(text).unwrap();
        let st = r.configurations[EMBEDDED].reconnect.as_ref().unwrap();
        assert_eq!(st.presence_pushes, None);
        assert!(!r.quick);
        assert!(r.client_store.is_none());
        let out = to_json(&r).unwrap();
        assert!(!out.contains("presence_pushes"));
        assert!(!out.contains("client_store"));
        assert!(!out.contains("throughput"));
    }

    #[test]
    fn percentiles_in_ms() {
        let mut h = crate::client::new_histogram();
        for us in 1..=1000 {
            h.record(us).unwrap();
        }
        let l = Latency::of(&h);
        assert_eq!(l.count, 1000);
        assert!((l.p50_ms - 0.5).abs() < 0.01, "{l:?}");
        assert!((l.max_ms - 1.0).abs() < 0.01, "{l:?}");
        let t = Timings::of(&h);
        assert_eq!((t.count, t.p99_ms), (l.count, l.p99_ms));
    }
}
