//! A PostgreSQL outage under two nodes: nothing is acked while the database
//! is away, and the nodes recover by themselves when it is back (real
//! processes, as in [`crate::faults`]).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cluster_env::{free_port, shared_redis};
use crate::faults::{NodeProc, node_env};

/// A PostgreSQL server of this test's own (initdb in a temporary folder), so
/// it can be stopped without disturbing the other tests.
struct PrivatePostgres {
    port: u16,
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
}

impl PrivatePostgres {
    fn as_postgres(program: &Path) -> Command {
        let mut c = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    }

    fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect(
                "PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)",
            )
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("an initdb");
        let dir = tempfile::tempdir().expect("dir");
        if running_as_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown the PostgreSQL folder to postgres");
        }
        let data = dir.path().join("data");
        let ok = Self::as_postgres(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "initdb");
        let pg = PrivatePostgres {
            port: free_port(),
            bin,
            dir,
        };
        pg.up();
        pg
    }

    fn ctl(&self, args: &[&str]) -> bool {
        Self::as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    }

    fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        assert!(
            self.ctl(&["-w", "-l", &log.display().to_string(), "-o", &opts, "start"]),
            "pg_ctl start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops at once, as a crash would (no checkpoint).
    fn down(&self) {
        assert!(self.ctl(&["-w", "-m", "immediate", "stop"]), "pg_ctl stop");
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.ctl(&["-m", "immediate", "stop"]);
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

async fn register_on(node: &NodeProc, name: &str) -> crate::harness::TestUser {
    let r = reqwest::Client::new()
        .post(node.url("/api/auth/register"))
        .json(&json!({"userName": name, "password": format!("password-{name}")}))
        .send()
        .await
        .expect("register");
    assert_eq!(r.status().as_u16(), 201);
    let body: Value = r.json().await.expect("json");
    crate::harness::TestUser::from_auth(name, &body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_acks_nothing_and_the_nodes_recover_by_themselves() {
    use crate::harness::{WsClient, direct_id};
    let pg = PrivatePostgres::start();
    let dir = tempfile::tempdir().expect("dir");
    let env = node_env(&pg.url(), &shared_redis());
    let a = NodeProc::spawn(&env, 1, dir.path());
    a.ready().await;
    let b = NodeProc::spawn(&env, 2, dir.path());
    b.ready().await;
    let alice = register_on(&a, "alice").await;
    let bob = register_on(&b, "bob").await;
    let ws = |n: &NodeProc| format!("ws://127.0.0.1:{}/ws", n.port);
    let mut ca = WsClient::connect_url(&ws(&a), &alice.access_token).await;
    let mut cb = WsClient::connect_url(&ws(&b), &bob.access_token).await;
    let room = direct_id(&mut ca, &bob).await;
    let send = |t: &str| json!({"roomId": room, "content": format!("text {t}"), "tempId": t});
    ca.ok("message.send", send("before")).await;
    cb.push("message.received").await;

    pg.down();
    let outage = Instant::now();
    let mut refused = 0;
    for t in ["during-1", "during-2"] {
        let e = ca.fails("message.send", send(t), "internal").await;
        assert_eq!(e["retryable"], true, "the client may retry: {e}");
        refused += 1;
    }
    let health = reqwest::get(a.url("/health/chat")).await.expect("health");
    assert_eq!(health.status().as_u16(), 503);
    let h: Value = health.json().await.expect("json");
    assert_eq!(
        (h["db"].as_str(), h["status"].as_str()),
        (Some("down"), Some("degraded"))
    );
    cb.no_push("message.received", Duration::from_millis(300))
        .await;

    pg.up();
    let restarted = Instant::now();
    // The same requests again (same tempIds): the nodes were not restarted.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut retried = 0;
    let first = loop {
        match ca.request("message.send", send("during-1")).await {
            Ok(v) => break v,
            Err(e) => {
                assert_eq!(e["retryable"], true, "{e}");
                assert!(Instant::now() < deadline, "node 1 never recovered: {e}");
                retried += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let recovered = restarted.elapsed();
    assert_eq!(
        first["message"]["seq"], 2,
        "nothing was saved during the outage"
    );
    let second = ca.ok("message.send", send("during-2")).await;
    assert_eq!(second["message"]["seq"], 3);
    for seq in [2, 3] {
        assert_eq!(cb.push("message.received").await["message"]["seq"], seq);
    }
    let page = cb.ok("message.history", json!({"roomId": room})).await;
    assert_eq!(page["messages"].as_array().expect("messages").len(), 3);
    // Node 2 sat idle through the outage: its pool pinged its dead
    // connections before handing them out (the history page above went
    // through at once). Node 1's were in use: each failed once and was
    // closed, none is handed out again. Three times the pool's size in a
    // row, on both nodes, all go.
    for i in 0..24 {
        ca.ok("message.send", send(&format!("after-a-{i}"))).await;
        cb.ok("message.send", send(&format!("after-b-{i}"))).await;
    }
    println!(
        "FAULT postgres stopped for {} ms: {refused} sends refused as retryable, 0 acked; \
         first send accepted {} ms after PostgreSQL was back ({retried} retryable refusals \
         first), without restarting the nodes; then 48 sends in a row all accepted",
        restarted.duration_since(outage).as_millis(),
        recovered.as_millis()
    );
}
