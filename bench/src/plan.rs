//! What a run measures: which scenarios (`--only`) and how big (`--quick` or
//! the full run).

use std::time::Duration;

use crate::results::PlanSummary;

/// A single scenario for `--only`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    Throughput,
    Wide,
    Fanout,
    Idle,
    Storm,
    Durable,
    /// Scenario 10 (`--only soak`): minutes on a two-node cluster with
    /// faults; never part of the full run.
    Soak,
    /// Scenario 11 (`--only search`): search over a big room set, on
    /// SQLite and PostgreSQL; never part of the full run.
    Search,
}

impl Only {
    pub const ALL: &[Only] = &[
        Only::Throughput,
        Only::Wide,
        Only::Fanout,
        Only::Idle,
        Only::Storm,
        Only::Durable,
    ];
}

/// Sizes of one run.
pub struct Plan {
    pub clients: usize,
    pub group: usize,
    pub rates: Vec<u64>,
    pub phase: Duration,
    pub fanout_members: usize,
    pub wide_group: usize,
    pub wide_rates: Vec<u64>,
    pub history_messages: i64,
    pub store_messages: i64,
    pub fanout_messages: u64,
    pub idle_steps: Vec<usize>,
    pub storm_clients: usize,
    pub durable_senders: usize,
    pub durable_for: Duration,
    pub search: crate::scenarios::SearchPlan,
}

impl Plan {
    pub fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                clients: 40,
                group: 10,
                rates: vec![50, 200],
                phase: Duration::from_millis(1500),
                fanout_members: 40,
                wide_group: 20,
                wide_rates: vec![20, 50],
                history_messages: 20_000,
                store_messages: 5_000,
                fanout_messages: 10,
                idle_steps: vec![40, 80],
                storm_clients: 120,
                durable_senders: 4,
                durable_for: Duration::from_millis(1500),
                search: crate::scenarios::SearchPlan {
                    messages: 20_000,
                    rooms: 10,
                    requests: 20,
                    sends: 50,
                },
            }
        } else {
            Plan {
                clients: 1000,
                group: 10,
                rates: vec![250, 500, 1000, 2000, 4000, 8000, 12000],
                phase: Duration::from_secs(5),
                fanout_members: 1000,
                wide_group: 100,
                wide_rates: vec![250, 500, 750, 1000],
                history_messages: 1_000_000,
                store_messages: 100_000,
                fanout_messages: 100,
                idle_steps: vec![1000, 2000, 5000, 10_000, 15_000],
                storm_clients: 15_000,
                durable_senders: 32,
                durable_for: Duration::from_secs(5),
                search: crate::scenarios::SearchPlan {
                    messages: 1_000_000,
                    rooms: 50,
                    requests: 300,
                    sends: 1000,
                },
            }
        }
    }

    /// The sizes the results record.
    pub fn summary(&self) -> PlanSummary {
        PlanSummary {
            clients: self.clients,
            group: self.group,
            rates: self.rates.clone(),
            phase_s: self.phase.as_secs_f64(),
            fanout_members: self.fanout_members,
            idle_steps: self.idle_steps.clone(),
            storm_clients: self.storm_clients,
            durable_senders: self.durable_senders,
        }
    }
}
