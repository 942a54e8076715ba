//! `leetchat-bench`: drives real `leetchat-server` processes (and a bare
//! broadcast baseline on the same WebSocket stack) over real sockets with
//! many simulated clients, and writes JSON results plus a Markdown report
//! with an SVG chart.
//!
//! ```text
//! cargo build --release -p leetchat-server -p leetchat-bench
//! target/release/leetchat-bench                 # the full run, into docs/benchmarks/
//! target/release/leetchat-bench --quick         # every scenario small (CI)
//! ```

/// The load generator allocates per socket and per frame; glibc malloc's
/// page churn showed up in its profile as much as the work itself.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod baseline;
mod client;
mod cluster;
mod configs;
mod plan;
mod proc;
mod report;
mod results;
mod scenarios;
mod store;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use configs::Harness;
use plan::{Only, Plan};
use results::{Machine, Pinning, Results};

/// Load harness for LeetChat.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Every scenario small and fast (under 3 minutes): checks that the
    /// harness runs and nothing is lost; its timings mean little.
    #[arg(long)]
    quick: bool,
    /// Where the report goes.
    #[arg(long, default_value = "docs/benchmarks")]
    out: PathBuf,
    /// The server binary (default: next to this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// PostgreSQL server (admin URL) for the PostgreSQL configurations; a
    /// database is created and dropped there. Empty: skip them.
    #[arg(
        long,
        env = "LEETCHAT_TEST_PG",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg: String,
    /// Do not pin processes to cores.
    #[arg(long)]
    no_pin: bool,
    /// Only rewrite the report from an earlier run's JSON (no measuring).
    #[arg(long)]
    render: Option<PathBuf>,
    /// Only these scenarios (comma-separated, run in the full run's order),
    /// on the embedded server, printed as JSON (no report is written): for
    /// profiling one thing at a time.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Only>,
    /// How long `--only soak` runs, in minutes.
    #[arg(long, default_value_t = 10.0)]
    soak_minutes: f64,
    /// `--only search`: also time the send path of this server binary, from
    /// before search existed, for the cost of the index on a send.
    #[arg(long)]
    before_server_bin: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Runs the baseline broadcast server (the harness starts it itself).
    BaselineServer {
        /// Port to listen on.
        #[arg(long)]
        port: u16,
    },
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::process::ExitCode {
    // The reason a run failed is the last thing it prints, on one line with
    // its causes (not a backtrace), so a CI log's tail says it.
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("leetchat-bench: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    // As in the server (see its main.rs): mimalloc's huge pages put
    // page-zeroing stalls into the latencies. This covers the load
    // generator and the baseline server (this same binary).
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let args = Args::parse();
    if let Some(Cmd::BaselineServer { port }) = args.cmd {
        return baseline::serve(port).await;
    }
    if let Some(json) = &args.render {
        return render(json, &args.out);
    }
    let nofile = proc::raise_open_file_limit();
    let machine = machine();
    let pin = !args.no_pin && proc::can_pin();
    if pin {
        proc::pin_self(1);
    }
    let mut h = Harness {
        bin: proc::server_bin(args.server_bin.clone())?,
        server_core: pin.then_some(0),
        plan: Plan::new(args.quick),
        quiet: args.quick || std::env::var_os("CI").is_some(),
        failures: Vec::new(),
    };
    if args.only.contains(&Only::Soak) {
        return soak(&args, &mut h, machine, pin).await;
    }
    if args.only.contains(&Only::Search) {
        return search(&args, &h, machine, pin).await;
    }
    if !args.only.is_empty() {
        return only(&mut h, &args.only).await;
    }
    full_run(&args, &mut h, machine, pin, nofile).await
}

/// The full run (or `--quick`): every configuration, then the client store;
/// the report into `--out`.
async fn full_run(
    args: &Args,
    h: &mut Harness,
    machine: Machine,
    pin: bool,
    nofile: u64,
) -> Result<()> {
    let mut notes = vec![format!("open-file limit: {nofile}")];
    let configurations = h.measure(&args.pg, &mut notes).await?;
    // 8. The client core's store (no server).
    let client_store = store::run(h.plan.store_messages)?;
    let results = Results {
        configurations,
        notes,
        failures: h.failures.clone(),
        client_store: Some(client_store),
        ..run_info(args.quick, &h.plan, machine, pin)
    };
    let stem = if args.quick { "quick" } else { "results" };
    report::write(&args.out, &results, stem)?;
    println!(
        "leetchat-bench: report in {}/{stem}.md ({} configurations)",
        args.out.display(),
        results.configurations.len()
    );
    if !h.failures.is_empty() {
        bail!(
            "scenarios failed or lost messages:\n  {}",
            h.failures.join("\n  ")
        );
    }
    Ok(())
}

/// `--only soak`: the soak, its report into `--out` (`soak.md`, `soak.json`).
async fn soak(args: &Args, h: &mut Harness, machine: Machine, pin: bool) -> Result<()> {
    let s = h.soak(&args.pg, args.soak_minutes).await?;
    let info = run_info(false, &h.plan, machine, pin);
    report::write_soak(&args.out, &info, &s)?;
    println!(
        "leetchat-bench: soak report in {}/soak.md: sent {}, acked {}, lost {}, duplicated {}",
        args.out.display(),
        s.sent,
        s.acked,
        s.lost,
        s.duplicated
    );
    if !h.failures.is_empty() {
        bail!("soak failed:\n  {}", h.failures.join("\n  "));
    }
    Ok(())
}

/// `--only search`: scenario 11, its report into `--out` (`search.md`,
/// `search.json`; `search-quick.*` with `--quick`).
async fn search(args: &Args, h: &Harness, machine: Machine, pin: bool) -> Result<()> {
    let mut notes = Vec::new();
    let engines = h
        .search(&args.pg, args.before_server_bin.as_deref(), &mut notes)
        .await?;
    let info = run_info(args.quick, &h.plan, machine, pin);
    let stem = if args.quick { "search-quick" } else { "search" };
    report::write_search(&args.out, &info, &engines, &notes, stem)?;
    println!(
        "leetchat-bench: search report in {}/{stem}.md ({} engines)",
        args.out.display(),
        engines.len()
    );
    Ok(())
}

/// `--render`: the report again from an earlier run's JSON, named after it.
fn render(json: &Path, out: &Path) -> Result<()> {
    let text = std::fs::read_to_string(json).with_context(|| json.display().to_string())?;
    let results: Results =
        serde_json::from_str(&text).with_context(|| format!("reading {}", json.display()))?;
    let stem = json
        .file_stem()
        .and_then(|s| s.to_str())
        .context("a .json file name")?;
    report::write(out, &results, stem)
}

/// `--only`: those scenarios on the embedded server, printed as JSON.
async fn only(h: &mut Harness, which: &[Only]) -> Result<()> {
    let only: Vec<Only> = Only::ALL
        .iter()
        .copied()
        .filter(|o| which.contains(o))
        .collect();
    let cfg = h.embedded(&only).await?;
    println!("{}", results::to_json(&cfg)?);
    if !h.failures.is_empty() {
        bail!("failed:\n  {}", h.failures.join("\n  "));
    }
    Ok(())
}

/// Everything about a run but its figures: when, what, where, how big.
fn run_info(quick: bool, plan: &Plan, machine: Machine, pin: bool) -> Results {
    let pinning = if pin {
        Pinning {
            servers: "pinned to core 0 (taskset -c 0)".into(),
            loadgen: "pinned to core 1".into(),
        }
    } else {
        Pinning {
            servers: "not pinned".into(),
            loadgen: "not pinned".into(),
        }
    };
    Results {
        quick,
        mode: if quick { "--quick" } else { "full run" }.into(),
        date: date(),
        commit: git_commit(),
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .into(),
        machine,
        pinning,
        plan: plan.summary(),
        ..Results::default()
    }
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".into(), |s| s.trim().to_owned())
}

fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(String::new, |s| s.trim().to_owned())
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    Machine {
        cpu,
        cores: proc::cores(),
        memory: format!("{:.0} GiB", mem_kb as f64 / 1048576.0),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}
