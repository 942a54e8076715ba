//! The configurations a full run measures, one function each: the embedded
//! server (SQLite, in-process bus), the bare broadcast baseline, and
//! PostgreSQL + Redis on one node and on two.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::client::User;
use crate::cluster::{Database, Redis};
use crate::plan::{Only, Plan};
use crate::proc::{self, Proc};
use crate::results::Soak;
use crate::results::{
    BASELINE, Configuration, EMBEDDED, Fanout, PG_ONE_NODE, PG_TWO_NODES, Reconnect, Throughput,
};
use crate::scenarios::{self, Servers as _, SoakPlan, Target};

/// The servers' JWT secret (any 32+ bytes).
const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";

/// The environment of a LeetChat server on `port` with its data in `dir`:
/// loopback only, rate limits out of the way, quiet logs.
fn server_env(dir: &Path, port: u16) -> Vec<(String, String)> {
    [
        ("SOCKET_PORT", port.to_string()),
        ("BIND_ADDRESS", "127.0.0.1".into()),
        ("DATA_DIR", dir.display().to_string()),
        ("JWT_SECRET", SECRET.into()),
        ("RATE_LIMIT_MESSAGE", "100000000/1".into()),
        ("RATE_LIMIT_ROOM_CREATE", "100000000/1".into()),
        ("RATE_LIMIT_AUTH", "100000000/1".into()),
        ("RATE_LIMIT_TYPING", "100000000/1".into()),
        ("RATE_LIMIT_EDIT", "100000000/1".into()),
        ("RATE_LIMIT_READ", "100000000/1".into()),
        ("RATE_LIMIT_DIRECT", "100000000/1".into()),
        ("RATE_LIMIT_ROOM_CHANGE", "100000000/1".into()),
        ("RATE_LIMIT_SYNC", "100000000/1".into()),
        ("RATE_LIMIT_AUTH_ACCOUNT", "100000000/1".into()),
        ("RATE_LIMIT_REGISTER", "100000000/1".into()),
        ("RATE_LIMIT_SEARCH", "100000000/1".into()),
        // Every simulated client connects from 127.0.0.1.
        ("MAX_CONNECTIONS_PER_ADDRESS", "0".into()),
        ("RUST_LOG", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// [`server_env`] for node `node` of a cluster on `db` and `redis`.
fn cluster_env(
    dir: &Path,
    port: u16,
    db: &Database,
    redis: &Redis,
    node: u32,
) -> Vec<(String, String)> {
    let mut e = server_env(dir, port);
    e.push(("DATABASE_URL".into(), db.url.clone()));
    e.push(("REDIS_URL".into(), redis.url()));
    e.push(("NODE_ID".into(), node.to_string()));
    e
}

/// What every configuration needs: the server binary, where to pin it, the
/// run's sizes; and the failures recorded so far (they fail the run).
pub struct Harness {
    /// The `leetchat-server` binary.
    pub bin: PathBuf,
    /// The core servers are pinned to, if any.
    pub server_core: Option<usize>,
    /// The sizes of the run.
    pub plan: Plan,
    /// No progress bars.
    pub quiet: bool,
    /// Scenarios that failed or lost messages.
    pub failures: Vec<String>,
}

impl Harness {
    /// Every configuration in turn; the PostgreSQL ones are skipped (with a
    /// note) when there is no PostgreSQL at `pg`.
    pub async fn measure(
        &mut self,
        pg: &str,
        notes: &mut Vec<String>,
    ) -> Result<BTreeMap<String, Configuration>> {
        let mut configs = BTreeMap::new();
        configs.insert(EMBEDDED.to_owned(), self.embedded(Only::ALL).await?);
        configs.insert(BASELINE.to_owned(), self.baseline().await?);
        match Database::create(pg) {
            Err(e) => notes.push(format!("PostgreSQL configurations skipped: {e}")),
            Ok(db) => {
                // Dropped in reverse: the nodes, then Redis, then the database.
                let redis = Redis::start().await?;
                let one = self.pg_one_node(&db, &redis).await?;
                configs.insert(PG_ONE_NODE.to_owned(), one);
                let two = self.pg_two_nodes(&db, &redis).await?;
                configs.insert(PG_TWO_NODES.to_owned(), two);
            }
        }
        Ok(configs)
    }

    async fn start_embedded(&self) -> Result<Proc> {
        let dir = tempfile::tempdir()?;
        let port = proc::free_port()?;
        let env = server_env(dir.path(), port);
        Proc::start(
            "embedded",
            &self.bin,
            &[],
            &env,
            self.server_core,
            port,
            Some(dir),
        )
        .await
    }

    async fn start_cluster_node(
        &self,
        name: &str,
        db: &Database,
        redis: &Redis,
        node: u32,
    ) -> Result<Proc> {
        self.start_cluster_node_on(name, db, redis, node, proc::free_port()?)
            .await
    }

    async fn start_cluster_node_on(
        &self,
        name: &str,
        db: &Database,
        redis: &Redis,
        node: u32,
        port: u16,
    ) -> Result<Proc> {
        let dir = tempfile::tempdir()?;
        let env = cluster_env(dir.path(), port, db, redis, node);
        Proc::start(
            name,
            &self.bin,
            &[],
            &env,
            self.server_core,
            port,
            Some(dir),
        )
        .await
    }

    /// Configuration 1, the embedded server (SQLite, in-process bus): the
    /// scenarios in `which` (all of them in a full run, `--only`'s
    /// otherwise).
    pub async fn embedded(&mut self, which: &[Only]) -> Result<Configuration> {
        let node = self.start_embedded().await?;
        let t = Target {
            name: "embedded".into(),
            nodes: vec![&node],
        };
        let mut cfg = self.run_all(&t, which).await?;
        drop(node);
        if which.contains(&Only::Durable) {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("alone.db").display());
            self.database_alone(&url, &mut cfg).await?;
        }
        Ok(cfg)
    }

    /// Scenario 6b on the fresh database at `url`, next to scenario 6's
    /// result in `cfg` (the same rows, the database alone).
    async fn database_alone(&self, url: &str, cfg: &mut Configuration) -> Result<()> {
        let Some(durable) = cfg.durable.as_mut() else {
            return Ok(());
        };
        if !self.quiet {
            eprintln!(
                "database alone: {} writers, {:?} each way",
                durable.senders, self.plan.durable_for
            );
        }
        let alone = scenarios::database_alone(url, durable.senders, self.plan.durable_for).await?;
        durable.database_alone = Some(alone);
        Ok(())
    }

    /// Configuration 2, the same load on a bare broadcast server (this
    /// binary's `baseline-server`): throughput and the one-group fan-out.
    async fn baseline(&self) -> Result<Configuration> {
        let port = proc::free_port()?;
        let me = std::env::current_exe()?;
        let args = ["baseline-server".into(), "--port".into(), port.to_string()];
        let node = Proc::start("baseline", &me, &args, &[], self.server_core, port, None).await?;
        let t = Target {
            name: "baseline".into(),
            nodes: vec![&node],
        };
        let p = &self.plan;
        let users =
            scenarios::users(&t, "base", p.clients.max(p.fanout_members), self.quiet).await?;
        let throughput = self.throughput(&t, &users, p.group, &p.rates).await?;
        let fanout = scenarios::fanout(
            &t,
            &users[..p.fanout_members],
            p.fanout_messages,
            self.quiet,
        )
        .await?;
        Ok(Configuration {
            throughput: Some(throughput),
            fanout: Some(fanout),
            ..Configuration::default()
        })
    }

    /// Configuration 3, PostgreSQL + Redis on one node: throughput, durable
    /// writes, and history pages of a big room.
    async fn pg_one_node(&mut self, db: &Database, redis: &Redis) -> Result<Configuration> {
        let node = self.start_cluster_node("pg-redis", db, redis, 1).await?;
        let t = Target {
            name: "postgres+redis".into(),
            nodes: vec![&node],
        };
        let mut cfg = self.run_all(&t, &[Only::Throughput, Only::Durable]).await?;
        let users = scenarios::users(&t, "hist", 2, self.quiet).await?;
        let history =
            scenarios::history(&t, &users, &db.url, self.plan.history_messages, self.quiet).await?;
        cfg.history = Some(history);
        drop(node);
        let alone = db.sibling("_alone")?;
        self.database_alone(&alone.url, &mut cfg).await?;
        Ok(cfg)
    }

    /// Configuration 4, PostgreSQL + Redis on two nodes (clients spread
    /// over both, so most deliveries cross the bus): throughput.
    async fn pg_two_nodes(&self, db: &Database, redis: &Redis) -> Result<Configuration> {
        let n1 = self.start_cluster_node("node1", db, redis, 11).await?;
        let n2 = self.start_cluster_node("node2", db, redis, 12).await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let t = Target {
            name: "two nodes".into(),
            nodes: vec![&n1, &n2],
        };
        let p = &self.plan;
        let users = scenarios::users(&t, "node", p.clients, self.quiet).await?;
        let throughput = self.throughput(&t, &users, p.group, &p.rates).await?;
        Ok(Configuration {
            throughput: Some(throughput),
            ..Configuration::default()
        })
    }

    /// Scenario 10, the soak: two PostgreSQL + Redis nodes for `minutes`
    /// (see `scenarios::soak`).
    pub async fn soak(&mut self, pg: &str, minutes: f64) -> Result<Soak> {
        let db = Database::create(pg)?;
        let redis = Redis::start().await?;
        let n1 = self.start_cluster_node("soak1", &db, &redis, 21).await?;
        let n2 = self.start_cluster_node("soak2", &db, &redis, 22).await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mut cluster = SoakCluster {
            h: self,
            nodes: vec![n1, n2],
            redis,
            db,
        };
        let plan = SoakPlan {
            duration: Duration::from_secs_f64(minutes * 60.0),
            clients: 16,
            groups: 4,
            send_every: Duration::from_millis(500),
            reconnect_every: Duration::from_secs(20),
        };
        let quiet = cluster.h.quiet;
        let s = scenarios::soak(&mut cluster, &plan, quiet).await?;
        let SoakCluster { h, nodes, .. } = cluster;
        drop(nodes);
        if s.lost > 0 || s.duplicated > 0 || s.db_rows != s.db_distinct {
            h.failures.push(format!(
                "soak: lost {}, duplicated {}, {} rows for {} distinct messages",
                s.lost, s.duplicated, s.db_rows, s.db_distinct
            ));
        }
        Ok(s)
    }

    /// The scenarios in `which` on one target, in the full run's order.
    /// Loss and duplication are recorded as failures (and fail the run).
    async fn run_all(&mut self, t: &Target<'_>, which: &[Only]) -> Result<Configuration> {
        let n = self.plan.clients.max(self.plan.fanout_members);
        let users = scenarios::users(t, "user", n, self.quiet).await?;
        let want = |s: Only| which.contains(&s);
        let mut cfg = Configuration::default();
        // The same load with groups of `plan.group`, then with groups of 100
        // (each send fans out to 99).
        if want(Only::Throughput) {
            let p = &self.plan;
            let v = self.throughput(t, &users, p.group, &p.rates).await?;
            self.losses(&t.name, "throughput", &v);
            cfg.throughput = Some(v);
        }
        if want(Only::Wide) {
            let p = &self.plan;
            let v = self
                .throughput(t, &users, p.wide_group, &p.wide_rates)
                .await?;
            self.losses(&t.name, "wide fan-out", &v);
            cfg.wide_fanout_throughput = Some(v);
        }
        if want(Only::Fanout) {
            cfg.fanout = Some(self.fanout(t, &users).await?);
        }
        if want(Only::Idle) {
            let users = &users[..self.plan.clients];
            let r = scenarios::idle(t, users, &self.plan.idle_steps, self.quiet).await;
            cfg.idle = self.record(t, "idle connections", r);
        }
        if want(Only::Storm) {
            let r = self.storm(t, &users).await;
            cfg.reconnect = self.record(t, "reconnect storm", r);
        }
        if want(Only::Durable) {
            let users = &users[..self.plan.durable_senders];
            let d = scenarios::durable(t, users, self.plan.durable_for, self.quiet).await?;
            cfg.durable = Some(d);
        }
        Ok(cfg)
    }

    /// Scenarios 1, 2, 9 with the first `plan.clients` of `users`.
    async fn throughput(
        &self,
        t: &Target<'_>,
        users: &[User],
        group: usize,
        rates: &[u64],
    ) -> Result<Throughput> {
        let users = &users[..self.plan.clients];
        scenarios::throughput(t, users, group, rates, self.plan.phase, self.quiet).await
    }

    /// Scenario 3, with a lost delivery or an error recorded as a failure.
    async fn fanout(&mut self, t: &Target<'_>, users: &[User]) -> Result<Fanout> {
        let users = &users[..self.plan.fanout_members];
        let fo = scenarios::fanout(t, users, self.plan.fanout_messages, self.quiet).await?;
        if fo.messages_missing_a_recipient > 0 || fo.errors > 0 {
            self.failures
                .push(format!("{}: fan-out lost deliveries", t.name));
        }
        Ok(fo)
    }

    /// Scenario 5: three missed messages per group.
    async fn storm(&self, t: &Target<'_>, users: &[User]) -> Result<Reconnect> {
        let p = &self.plan;
        let users = &users[..p.clients];
        scenarios::reconnect_storm(t, users, p.group, 3, p.storm_clients, self.quiet).await
    }

    /// `r`'s figures, or none with its error recorded as a failure.
    fn record<T>(&mut self, t: &Target<'_>, what: &str, r: Result<T>) -> Option<T> {
        r.map_err(|e| self.failures.push(format!("{}: {what}: {e}", t.name)))
            .ok()
    }

    /// Records a throughput run's lost, missing, duplicated or refused
    /// messages as failures.
    fn losses(&mut self, target: &str, run: &str, v: &Throughput) {
        for (k, n) in [
            ("messages_with_no_delivery", v.messages_with_no_delivery),
            ("deliveries_missing", v.deliveries_missing),
            ("duplicated_deliveries", v.duplicated_deliveries),
            ("errors", v.errors),
        ] {
            if n > 0 {
                self.failures.push(format!("{target}: {run} {k} = {n}"));
            }
        }
    }
}

/// A server for scenario 11, started again on the same data and port.
struct SearchServer<'h> {
    h: &'h Harness,
    bin: PathBuf,
    name: &'static str,
    env: Vec<(String, String)>,
    port: u16,
    node: Option<Proc>,
}

impl scenarios::Servers for SearchServer<'_> {
    async fn start(&mut self) -> Result<()> {
        self.kill();
        let p = Proc::start(
            self.name,
            &self.bin,
            &[],
            &self.env,
            self.h.server_core,
            self.port,
            None,
        )
        .await?;
        self.node = Some(p);
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut p) = self.node.take() {
            p.kill9();
        }
    }

    fn target(&self) -> Target<'_> {
        Target {
            name: self.name.into(),
            nodes: self.node.iter().collect(),
        }
    }
}

impl Harness {
    /// Scenario 11 on the embedded server and, when PostgreSQL is at `pg`,
    /// on PostgreSQL; the send path also on `before` (a server from before
    /// search) when given.
    pub async fn search(
        &self,
        pg: &str,
        before: Option<&Path>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<crate::results::SearchEngine>> {
        let plan = self.plan.search;
        let mut out = Vec::new();
        for engine in ["SQLite (embedded)", "PostgreSQL"] {
            let db = if engine == "PostgreSQL" {
                match Database::create(pg) {
                    Ok(db) => Some(db),
                    Err(e) => {
                        notes.push(format!("PostgreSQL skipped: {e}"));
                        continue;
                    }
                }
            } else {
                None
            };
            let mut runs = vec![(self.bin.clone(), false)];
            if let Some(b) = before {
                runs.push((b.to_path_buf(), true));
            }
            let mut result = None;
            for (bin, is_before) in runs {
                let dir = tempfile::tempdir()?;
                let port = proc::free_port()?;
                let mut env = server_env(dir.path(), port);
                // A database of its own for each server.
                let scratch = match (&db, is_before) {
                    (Some(_), true) => Some(Database::create_named(pg, "before")?),
                    _ => None,
                };
                let url = scratch.as_ref().or(db.as_ref()).map(|d| d.url.clone());
                if let Some(u) = &url {
                    env.push(("DATABASE_URL".into(), u.clone()));
                }
                let mut server = SearchServer {
                    h: self,
                    bin,
                    name: if is_before { "before-search" } else { "search" },
                    env,
                    port,
                    node: None,
                };
                if is_before {
                    let cost = scenarios::send_cost_alone(&mut server, &plan, self.quiet).await?;
                    server.kill();
                    if let Some(r) = result.as_mut() {
                        let r: &mut crate::results::SearchEngine = r;
                        r.send_before_search = Some(cost);
                    }
                    continue;
                }
                let store = match &url {
                    Some(u) => scenarios::SearchStore::Postgres(u),
                    None => scenarios::SearchStore::Sqlite(dir.path().join("leetchat.db")),
                };
                let r = scenarios::search(engine, &mut server, store, &plan, self.quiet).await?;
                server.kill();
                result = Some(r);
            }
            out.extend(result);
        }
        Ok(out)
    }
}

/// The soak's cluster: node 2 and Redis can be restarted on their ports.
struct SoakCluster<'h> {
    h: &'h mut Harness,
    nodes: Vec<Proc>,
    redis: Redis,
    db: Database,
}

impl scenarios::Cluster for SoakCluster<'_> {
    fn node(&self, i: usize) -> &Proc {
        &self.nodes[i]
    }

    async fn restart_node(&mut self, i: usize) -> Result<()> {
        let port = self.nodes[i].port;
        self.nodes[i].kill9();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let name = format!("soak{}", i + 1);
        let node = 21 + i as u32;
        self.nodes[i] = self
            .h
            .start_cluster_node_on(&name, &self.db, &self.redis, node, port)
            .await?;
        Ok(())
    }

    async fn restart_redis(&mut self) -> Result<()> {
        self.redis.restart().await
    }

    fn database_url(&self) -> String {
        self.db.url.clone()
    }
}
