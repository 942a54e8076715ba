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
mod plan;
mod proc;
mod report;
mod scenarios;
mod store;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use plan::{Only, Plan};
use proc::Proc;
use scenarios::Target;

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
async fn main() -> Result<()> {
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
        let results: Value = serde_json::from_str(&std::fs::read_to_string(json)?)?;
        let stem = json
            .file_stem()
            .and_then(|s| s.to_str())
            .context("a .json file name")?;
        report::write(&args.out, &results, stem)?;
        return Ok(());
    }
    let nofile = proc::raise_open_file_limit();
    let machine = machine();
    let pin = !args.no_pin && proc::can_pin();
    if pin {
        proc::pin_self(1);
    }
    let server_core = pin.then_some(0);
    let bin = proc::server_bin(args.server_bin.clone())?;
    let plan = Plan::new(args.quick);
    let quiet = args.quick || std::env::var_os("CI").is_some();
    let mut configs = serde_json::Map::new();
    let mut notes: Vec<String> = vec![format!("open-file limit: {nofile}")];
    let secret = "bench-secret-bench-secret-bench-secret-0123";
    let base_env = |dir: &std::path::Path, port: u16| -> Vec<(String, String)> {
        [
            ("SOCKET_PORT", port.to_string()),
            ("BIND_ADDRESS", "127.0.0.1".into()),
            ("DATA_DIR", dir.display().to_string()),
            ("JWT_SECRET", secret.into()),
            ("RATE_LIMIT_MESSAGE", "100000000/1".into()),
            ("RATE_LIMIT_ROOM_CREATE", "100000000/1".into()),
            ("RATE_LIMIT_AUTH", "100000000/1".into()),
            ("RATE_LIMIT_TYPING", "100000000/1".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    };
    let mut failures = Vec::new();

    // The embedded server: SQLite, in-process bus.
    let embedded = || async {
        let dir = tempfile::tempdir()?;
        let port = proc::free_port()?;
        let env = base_env(dir.path(), port);
        Proc::start("embedded", &bin, &[], &env, server_core, port, Some(dir)).await
    };

    if !args.only.is_empty() {
        let node = embedded().await?;
        let t = Target {
            name: "embedded".into(),
            nodes: vec![&node],
        };
        let only: Vec<Only> = Only::ALL
            .iter()
            .copied()
            .filter(|o| args.only.contains(o))
            .collect();
        let cfg = run_all(&t, &plan, quiet, &only, &mut failures).await?;
        println!("{}", serde_json::to_string_pretty(&cfg)?);
        if !failures.is_empty() {
            bail!("failed:\n  {}", failures.join("\n  "));
        }
        return Ok(());
    }

    // 1. Embedded: SQLite, in-process bus.
    {
        let node = embedded().await?;
        let t = Target {
            name: "embedded".into(),
            nodes: vec![&node],
        };
        let cfg = run_all(&t, &plan, quiet, Only::ALL, &mut failures).await?;
        configs.insert("embedded (SQLite)".into(), cfg);
    }

    // 2. The baseline: the same load on a bare broadcast server.
    {
        let port = proc::free_port()?;
        let me = std::env::current_exe()?;
        let node = Proc::start(
            "baseline",
            &me,
            &["baseline-server".into(), "--port".into(), port.to_string()],
            &[],
            server_core,
            port,
            None,
        )
        .await?;
        let t = Target {
            name: "baseline".into(),
            nodes: vec![&node],
        };
        let users =
            scenarios::users(&t, "base", plan.clients.max(plan.fanout_members), quiet).await?;
        let mut cfg = serde_json::Map::new();
        cfg.insert(
            "throughput".into(),
            scenarios::throughput(
                &t,
                &users[..plan.clients],
                plan.group,
                &plan.rates,
                plan.phase,
                quiet,
            )
            .await?,
        );
        cfg.insert(
            "fanout".into(),
            scenarios::fanout(
                &t,
                &users[..plan.fanout_members],
                plan.fanout_messages,
                quiet,
            )
            .await?,
        );
        configs.insert("baseline (bare broadcast)".into(), Value::Object(cfg));
    }

    // 3 and 4. PostgreSQL + Redis: one node, then two nodes.
    match pg_database(&args.pg) {
        Err(e) => notes.push(format!("PostgreSQL configurations skipped: {e}")),
        Ok((db_url, db)) => {
            let result = async {
                let redis_port = proc::free_port()?;
                let redis = std::process::Command::new("redis-server")
                    .args([
                        "--port",
                        &redis_port.to_string(),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ])
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .context("starting redis-server")?;
                let _redis = KillOnDrop(redis);
                tokio::time::sleep(Duration::from_millis(300)).await;
                let cluster_env = |dir: &std::path::Path, port: u16, node: u32| {
                    let mut e = base_env(dir, port);
                    e.push(("DATABASE_URL".into(), db_url.clone()));
                    e.push((
                        "REDIS_URL".into(),
                        format!("redis://127.0.0.1:{redis_port}/0"),
                    ));
                    e.push(("NODE_ID".into(), node.to_string()));
                    e
                };
                {
                    let dir = tempfile::tempdir()?;
                    let port = proc::free_port()?;
                    let env = cluster_env(dir.path(), port, 1);
                    let node =
                        Proc::start("pg-redis", &bin, &[], &env, server_core, port, Some(dir))
                            .await?;
                    let t = Target {
                        name: "postgres+redis".into(),
                        nodes: vec![&node],
                    };
                    let mut cfg = run_all(
                        &t,
                        &plan,
                        quiet,
                        &[Only::Throughput, Only::Durable],
                        &mut failures,
                    )
                    .await?;
                    let users = scenarios::users(&t, "hist", 2, quiet).await?;
                    let h = scenarios::history(&t, &users, &db_url, plan.history_messages, quiet)
                        .await?;
                    if let Value::Object(m) = &mut cfg {
                        m.insert("history".into(), h);
                    }
                    configs.insert("PostgreSQL + Redis, one node".into(), cfg);
                }
                {
                    let (d1, d2) = (tempfile::tempdir()?, tempfile::tempdir()?);
                    let (p1, p2) = (proc::free_port()?, proc::free_port()?);
                    let n1 = Proc::start(
                        "node1",
                        &bin,
                        &[],
                        &cluster_env(d1.path(), p1, 11),
                        server_core,
                        p1,
                        Some(d1),
                    )
                    .await?;
                    let n2 = Proc::start(
                        "node2",
                        &bin,
                        &[],
                        &cluster_env(d2.path(), p2, 12),
                        server_core,
                        p2,
                        Some(d2),
                    )
                    .await?;
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    let t = Target {
                        name: "two nodes".into(),
                        nodes: vec![&n1, &n2],
                    };
                    let users = scenarios::users(&t, "node", plan.clients, quiet).await?;
                    let mut cfg = serde_json::Map::new();
                    cfg.insert(
                        "throughput".into(),
                        scenarios::throughput(
                            &t,
                            &users,
                            plan.group,
                            &plan.rates,
                            plan.phase,
                            quiet,
                        )
                        .await?,
                    );
                    configs.insert("PostgreSQL + Redis, two nodes".into(), Value::Object(cfg));
                }
                anyhow::Ok(())
            }
            .await;
            drop_pg_database(&args.pg, &db);
            result?;
        }
    }

    // 8. The client core's store (no server).
    let client_store = store::run(plan.store_messages)?;

    let results = json!({
        "client_store": client_store,
        "quick": args.quick,
        "mode": if args.quick { "--quick" } else { "full run" },
        "date": date(),
        "commit": git_commit(),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "machine": machine,
        "pinning": if pin {
            json!({"servers": "pinned to core 0 (taskset -c 0)", "loadgen": "pinned to core 1"})
        } else {
            json!({"servers": "not pinned", "loadgen": "not pinned"})
        },
        "plan": {
            "clients": plan.clients, "group": plan.group, "rates": plan.rates,
            "phase_s": plan.phase.as_secs_f64(), "fanout_members": plan.fanout_members,
            "idle_steps": plan.idle_steps, "storm_clients": plan.storm_clients,
            "durable_senders": plan.durable_senders,
        },
        "configurations": configs,
        "notes": notes,
        "failures": failures,
    });
    let stem = if args.quick { "quick" } else { "results" };
    report::write(&args.out, &results, stem)?;
    println!(
        "leetchat-bench: report in {}/{stem}.md ({} configurations)",
        args.out.display(),
        results["configurations"].as_object().map_or(0, |m| m.len())
    );
    if !failures.is_empty() {
        bail!(
            "scenarios failed or lost messages:\n  {}",
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Every scenario on one target. Loss and duplication are recorded as
/// failures (and fail the run).
async fn run_all(
    t: &Target<'_>,
    plan: &Plan,
    quiet: bool,
    which: &[Only],
    failures: &mut Vec<String>,
) -> Result<Value> {
    let n = plan.clients.max(plan.fanout_members);
    let users = scenarios::users(t, "user", n, quiet).await?;
    let mut cfg = serde_json::Map::new();
    let want = |s: Only| which.contains(&s);
    // The same load with groups of `plan.group`, then with groups of 100
    // (each send fans out to 99).
    let runs = [
        (
            Only::Throughput,
            "throughput",
            "throughput",
            plan.group,
            &plan.rates,
        ),
        (
            Only::Wide,
            "wide fan-out",
            "wide_fanout_throughput",
            plan.wide_group,
            &plan.wide_rates,
        ),
    ];
    for (only, label, key, group, rates) in runs {
        if want(only) {
            let v =
                scenarios::throughput(t, &users[..plan.clients], group, rates, plan.phase, quiet)
                    .await?;
            losses(&t.name, label, &v, failures);
            cfg.insert(key.into(), v);
        }
    }
    if want(Only::Fanout) {
        let fo = scenarios::fanout(
            t,
            &users[..plan.fanout_members],
            plan.fanout_messages,
            quiet,
        )
        .await?;
        if fo["messages_missing_a_recipient"].as_u64().unwrap_or(0) > 0
            || fo["errors"].as_u64().unwrap_or(0) > 0
        {
            failures.push(format!("{}: fan-out lost deliveries", t.name));
        }
        cfg.insert("fanout".into(), fo);
    }
    if want(Only::Idle) {
        let idle_users = &users[..plan.clients];
        match scenarios::idle(t, idle_users, &plan.idle_steps, quiet).await {
            Ok(v) => {
                cfg.insert("idle".into(), v);
            }
            Err(e) => failures.push(format!("{}: idle connections: {e}", t.name)),
        }
    }
    if want(Only::Storm) {
        match scenarios::reconnect_storm(
            t,
            &users[..plan.clients],
            plan.group,
            3,
            plan.storm_clients,
            quiet,
        )
        .await
        {
            Ok(v) => {
                cfg.insert("reconnect".into(), v);
            }
            Err(e) => failures.push(format!("{}: reconnect storm: {e}", t.name)),
        }
    }
    if want(Only::Durable) {
        cfg.insert(
            "durable".into(),
            scenarios::durable(t, &users[..plan.durable_senders], plan.durable_for, quiet).await?,
        );
    }
    Ok(Value::Object(cfg))
}

/// Records a throughput run's lost, missing, duplicated or refused messages
/// as failures.
fn losses(target: &str, run: &str, v: &Value, failures: &mut Vec<String>) {
    for k in [
        "messages_with_no_delivery",
        "deliveries_missing",
        "duplicated_deliveries",
        "errors",
    ] {
        if v[k].as_u64().unwrap_or(0) > 0 {
            failures.push(format!("{target}: {run} {k} = {}", v[k]));
        }
    }
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn psql(admin: &str, sql: &str) -> Result<()> {
    let out = std::process::Command::new("psql")
        .args([admin, "-qc", sql])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn pg_database(admin: &str) -> Result<(String, String)> {
    if admin.is_empty() {
        bail!("no --pg given");
    }
    let db = format!("leetchat_bench_{}", std::process::id());
    psql(admin, &format!("CREATE DATABASE {db}"))?;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    Ok((format!("{base}/{db}"), db))
}

fn drop_pg_database(admin: &str, db: &str) {
    let _ = psql(admin, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
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

fn machine() -> Value {
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
    json!({
        "cpu": cpu,
        "cores": proc::cores(),
        "memory": format!("{:.0} GiB", mem_kb as f64 / 1048576.0),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
    })
}
