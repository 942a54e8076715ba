//! Faults in the multi-node layout, with real processes: `leetchat-server`
//! nodes started from the built binary, killed with SIGKILL; a private
//! `redis-server` stopped and started again; clients that are the real client
//! core (store, outbox, reconnect and resume) going through nginx.
//!
//! Each test prints a `FAULT ...` line with its figures (run with
//! `--nocapture` to see them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use leetchat_client::{Client, ClientConfig, ConnectionState, CredentialStore};
use serde_json::{Value, json};

use crate::cluster_env::{Nginx, RedisServer, free_port, shared_redis};
use crate::harness::PgDatabase;

const WAIT: Duration = Duration::from_secs(60);

/// A `leetchat-server` process.
pub(crate) struct NodeProc {
    pub(crate) port: u16,
    child: Option<Child>,
}

impl NodeProc {
    pub(crate) fn spawn(env: &[(String, String)], node_id: u32, dir: &Path) -> NodeProc {
        let port = free_port();
        let log = std::fs::File::create(dir.join(format!("node-{node_id}.log"))).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_leetchat-server"))
            .envs(env.iter().cloned())
            .env("SOCKET_PORT", port.to_string())
            .env("NODE_ID", node_id.to_string())
            .env("DATA_DIR", dir.join(format!("node-{node_id}")))
            // tracing writes to stdout; panics go to stderr.
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start leetchat-server");
        NodeProc {
            port,
            child: Some(child),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn health(&self) -> Option<Value> {
        let r = reqwest::get(self.url("/health/chat")).await.ok()?;
        r.json().await.ok()
    }

    /// Waits until the node serves and reaches Redis.
    pub(crate) async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(h) = self.health().await
                && h["redis"] == "up"
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node on {} did not come up",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            let _ = c.wait();
        }
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub(crate) fn node_env(pg: &str, redis: &str) -> Vec<(String, String)> {
    let prefix = format!("lcfault{}", uuid::Uuid::new_v4().simple());
    [
        ("DATABASE_URL", pg),
        ("REDIS_URL", redis),
        ("REDIS_PREFIX", &prefix),
        ("CLUSTER_HEARTBEAT", "500ms"),
        ("BIND_ADDRESS", "127.0.0.1"),
        ("JWT_SECRET", "fault-tests-secret-fault-tests-secret-0123"),
        ("RATE_LIMIT_MESSAGE", "100000/60"),
        ("RATE_LIMIT_ROOM_CREATE", "1000/60"),
        ("RATE_LIMIT_AUTH", "1000/60"),
        ("RATE_LIMIT_TYPING", "1000/60"),
        ("RATE_LIMIT_EDIT", "1000/60"),
        ("RATE_LIMIT_READ", "100000/60"),
        ("RATE_LIMIT_DIRECT", "1000/60"),
        ("RATE_LIMIT_ROOM_CHANGE", "1000/60"),
        ("RATE_LIMIT_SYNC", "100000/60"),
        ("RATE_LIMIT_AUTH_ACCOUNT", "1000/60"),
        ("RATE_LIMIT_REGISTER", "1000/60"),
        ("MAX_CONNECTIONS_PER_ADDRESS", "0"),
        ("DATABASE_MAX_CONNECTIONS", "8"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

async fn client(url: &str, dir: &Path, name: &str) -> Client {
    let c = Client::open(ClientConfig {
        server: url.to_owned(),
        data_dir: dir.join(name),
        credentials: CredentialStore::File(dir.join(name).join("credentials.json")),
        device_name: "fault-test".into(),
    })
    .await
    .expect("client opens");
    c.register(name, &format!("password-{name}"), None)
        .await
        .expect("register");
    c.start().expect("start");
    c.wait_online(WAIT).await.expect("online");
    c
}

async fn eventually(what: &str, wait: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + wait;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `(seq, content)` of every stored message of a room that has a seq.
fn stored(c: &Client, room: &str) -> Vec<(i64, String)> {
    c.messages(room, None, 100_000)
        .expect("messages")
        .into_iter()
        .filter_map(|m| m.seq.map(|s| (s, m.content)))
        .collect()
}

/// Checks one member's view: seqs 1..=n without gaps, each sent text once.
/// Returns (lost, duplicated) against `sent`.
fn check_view(who: &str, got: &[(i64, String)], sent: &BTreeSet<String>) -> (usize, usize) {
    let seqs: Vec<i64> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=got.len() as i64).collect::<Vec<_>>(),
        "{who}: seqs gapless and in order"
    );
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, c) in got {
        *counts.entry(c.as_str()).or_default() += 1;
    }
    let dup = counts.values().filter(|&&n| n > 1).map(|n| n - 1).sum();
    let lost = sent
        .iter()
        .filter(|t| !counts.contains_key(t.as_str()))
        .count();
    (lost, dup)
}

/// Rows of a room in PostgreSQL: (messages, distinct contents).
async fn db_counts(pg: &str, room: &str) -> (i64, i64) {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(pg).await.expect("pg");
    sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT content) FROM messages WHERE room_id = $1")
        .bind(room)
        .fetch_one(&mut c)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_with_sigkill_mid_traffic_loses_and_duplicates_nothing() {
    const CLIENTS: usize = 6;
    const PER_CLIENT: usize = 30;
    let pg = PgDatabase::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let env = node_env(&pg.url, &shared_redis());
    let mut nodes: Vec<NodeProc> = (1..=3)
        .map(|i| NodeProc::spawn(&env, i, dir.path()))
        .collect();
    for n in &nodes {
        n.ready().await;
    }
    let nginx = Nginx::start(&nodes.iter().map(|n| n.port).collect::<Vec<_>>());
    let url = format!("http://127.0.0.1:{}", nginx.port);

    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        clients.push(client(&url, dir.path(), &format!("user{i}")).await);
    }
    let ids: Vec<String> = clients
        .iter()
        .map(|c| c.me().expect("me").user_id)
        .collect();
    let room = clients[0]
        .create_group("faults", &ids[1..])
        .await
        .expect("group")
        .room_id;
    for c in &clients {
        eventually("everyone has the room", WAIT, || {
            c.room(&room).ok().flatten().is_some()
        })
        .await;
    }
    // The victim: the node holding the most of the clients' sockets.
    let mut held = Vec::new();
    for n in &nodes {
        held.push(
            n.health().await.expect("health")["connections"]
                .as_u64()
                .unwrap_or(0),
        );
    }
    let victim = (0..nodes.len()).max_by_key(|&i| held[i]).expect("a node");
    assert!(held[victim] > 0, "nginx spread the sockets: {held:?}");

    // Everyone sends, paced; a third of the way in the victim is killed.
    let mut sent = BTreeSet::new();
    let started = Instant::now();
    let mut killed_at = None;
    for round in 0..PER_CLIENT {
        for (i, c) in clients.iter().enumerate() {
            let text = format!("u{i}-m{round}");
            c.send_text(&room, &text).expect("queued");
            sent.insert(text);
        }
        if round == PER_CLIENT / 3 {
            nodes[victim].kill9();
            killed_at = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let killed_at = killed_at.expect("killed");

    // Reconnect time: until every client is online again after the kill.
    let mut back = Vec::new();
    for c in &clients {
        let mut state = c.connection_state();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if *state.borrow_and_update() == ConnectionState::Online {
                break;
            }
            tokio::time::timeout_at(deadline, state.changed())
                .await
                .expect("client back online")
                .expect("state");
        }
        back.push(killed_at.elapsed());
    }
    let reconnect = back.iter().max().copied().unwrap_or_default();

    let total = sent.len();
    for c in &clients {
        eventually("every outbox drains (every message acked)", WAIT, || {
            c.outbox_len().expect("outbox") == 0
        })
        .await;
    }
    for (i, c) in clients.iter().enumerate() {
        eventually(&format!("user{i} has every message"), WAIT, || {
            stored(c, &room).len() >= total
        })
        .await;
    }
    let (mut lost, mut dup) = (0, 0);
    for (i, c) in clients.iter().enumerate() {
        let (l, d) = check_view(&format!("user{i}"), &stored(c, &room), &sent);
        lost += l;
        dup += d;
    }
    let (rows, distinct) = db_counts(&pg.url, &room).await;
    println!(
        "FAULT kill -9 of 1 of 3 nodes ({} of {CLIENTS} clients on it): sent {total}, acked {total}, \
         stored {rows} ({distinct} distinct), lost {lost}, duplicated {dup} over {CLIENTS} views; \
         all clients online again {} ms after the kill; run took {} ms",
        held[victim],
        reconnect.as_millis(),
        started.elapsed().as_millis()
    );
    assert_eq!((lost, dup), (0, 0));
    assert_eq!(
        (rows, distinct),
        (total as i64, total as i64),
        "each acked message stored once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_users_go_offline_for_the_others() {
    let pg = PgDatabase::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let env = node_env(&pg.url, &shared_redis());
    let mut a = NodeProc::spawn(&env, 1, dir.path());
    let b = NodeProc::spawn(&env, 2, dir.path());
    a.ready().await;
    b.ready().await;
    let alice = client(&b.url(""), dir.path(), "alice").await;
    let bob = client(&a.url(""), dir.path(), "bob").await;
    let bob_id = bob.me().expect("me").user_id;
    let room = alice.create_direct(&bob_id).await.expect("room").room_id;
    eventually("bob has the room", WAIT, || {
        bob.room(&room).ok().flatten().is_some()
    })
    .await;
    let online = alice
        .presence(std::slice::from_ref(&bob_id))
        .await
        .expect("presence");
    assert_eq!(online[0].status, leetchat_protocol::events::Status::Online);

    let killed = Instant::now();
    a.kill9();
    bob.stop().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let seen_offline = loop {
        let p = alice
            .presence(std::slice::from_ref(&bob_id))
            .await
            .expect("presence");
        if p[0].status == leetchat_protocol::events::Status::Offline {
            assert!(p[0].last_seen.is_some(), "last seen is stored");
            break killed.elapsed();
        }
        assert!(Instant::now() < deadline, "bob never went offline");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "FAULT node killed: its user shown offline after {} ms (heartbeat 500 ms, dead after 4 beats)",
        seen_offline.as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_traffic_loses_nothing_and_delivery_resumes() {
    const MESSAGES: usize = 60;
    let pg = PgDatabase::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut redis = RedisServer::start();
    let env = node_env(&pg.url, &redis.url());
    let a = NodeProc::spawn(&env, 1, dir.path());
    let b = NodeProc::spawn(&env, 2, dir.path());
    a.ready().await;
    b.ready().await;
    // Alice on node 1, Bob on node 2: every message crosses Redis.
    let alice = client(&a.url(""), dir.path(), "alice").await;
    let bob = client(&b.url(""), dir.path(), "bob").await;
    let bob_id = bob.me().expect("me").user_id;
    let room = alice.create_direct(&bob_id).await.expect("room").room_id;
    eventually("bob has the room", WAIT, || {
        bob.room(&room).ok().flatten().is_some()
    })
    .await;

    let mut sent = BTreeSet::new();
    let mut down_seen = false;
    let mut outage = Duration::ZERO;
    let mut caught_up = Duration::ZERO;
    for i in 0..MESSAGES {
        let text = format!("m{i}");
        alice.send_text(&room, &text).expect("queued");
        sent.insert(text);
        if i == MESSAGES / 3 {
            redis.kill();
            let t = Instant::now();
            // Nodes notice and say so, and keep acking.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !down_seen {
                down_seen = a.health().await.is_some_and(|h| h["redis"] == "down");
                assert!(
                    Instant::now() < deadline,
                    "node 1 never reported redis: down"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            outage = t.elapsed();
        }
        if i == 2 * MESSAGES / 3 {
            eventually(
                "alice's messages are acked while Redis is down",
                WAIT,
                || alice.outbox_len().expect("outbox") == 0,
            )
            .await;
            redis = RedisServer::start_on(redis.port);
            a.ready().await;
            b.ready().await;
            // Nothing new is sent until Bob has what he missed: no seq jump
            // tells him; the node's sync.needed after resubscribing does.
            let so_far = sent.len();
            let t = Instant::now();
            eventually(
                "bob catches up after Redis returns, before any new message",
                WAIT,
                || stored(&bob, &room).len() >= so_far,
            )
            .await;
            caught_up = t.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eventually("alice's outbox drains", WAIT, || {
        alice.outbox_len().expect("outbox") == 0
    })
    .await;
    eventually("bob has every message", WAIT, || {
        stored(&bob, &room).len() >= MESSAGES
    })
    .await;
    let (lost, dup) = check_view("bob", &stored(&bob, &room), &sent);
    let (l2, d2) = check_view("alice", &stored(&alice, &room), &sent);
    let (rows, distinct) = db_counts(&pg.url, &room).await;
    println!(
        "FAULT redis restart: sent {MESSAGES}, acked {MESSAGES} ({} during the outage), stored {rows} \
         ({distinct} distinct), lost {}, duplicated {}; redis: down reported {} ms after the kill; \
         the other node's client caught up {} ms after both nodes were back on Redis",
        MESSAGES / 3,
        lost + l2,
        dup + d2,
        outage.as_millis(),
        caught_up.as_millis()
    );
    assert_eq!((lost, dup, l2, d2), (0, 0, 0, 0));
    assert_eq!(rows, MESSAGES as i64);
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_holds_across_nodes() {
    use crate::harness::{Backend, TestApp, direct_id};
    let app = TestApp::spawn_with(Backend::Cluster, |c| {
        c.rate_limits.message = leetchat_server::config::RateLimit::new(6, 60);
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    // Three sockets for Alice, one on each node (the harness takes turns).
    let mut socks = Vec::new();
    for _ in 0..3 {
        socks.push(app.connect(&alice).await);
    }
    let room = direct_id(&mut socks[0], &bob).await;
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..12 {
        let r = socks[i % 3]
            .request(
                "message.send",
                json!({"roomId": room, "content": format!("m{i}"), "tempId": format!("t{i}")}),
            )
            .await;
        match r {
            Ok(_) => accepted += 1,
            Err(e) => {
                assert_eq!(e["code"], "rate_limited", "{e}");
                assert!(e["retryAfterMs"].as_u64().is_some_and(|ms| ms > 0), "{e}");
                refused += 1;
            }
        }
    }
    assert_eq!(
        (accepted, refused),
        (6, 6),
        "6 per minute in all, however the sends are spread over nodes"
    );
}

/// Registers `name` on a node over HTTP; returns (userId, accessToken).
async fn register_on(node: &NodeProc, name: &str) -> (String, String) {
    let body: Value = reqwest::Client::new()
        .post(node.url("/api/auth/register"))
        .json(&json!({"userName": name, "password": format!("password-{name}")}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("register body");
    (
        body["user"]["userId"].as_str().expect("userId").to_owned(),
        body["accessToken"].as_str().expect("token").to_owned(),
    )
}

/// Redis comes back empty (no persistence): the nodes subscribe again and
/// tell their clients to sync, and from that moment live delivery to users
/// on other nodes works. (Users were registered again only at the next
/// heartbeat, 10 s by default: a message sent in between reached nobody
/// live, and nothing told the recipient to sync again.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_comes_back_empty_delivery_is_live_before_sync_needed_is_sent() {
    use crate::harness::WsClient;
    let pg = PgDatabase::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut redis = RedisServer::start();
    let mut env = node_env(&pg.url, &redis.url());
    // The deployed heartbeat: re-registering must not wait for it.
    env.retain(|(k, _)| k != "CLUSTER_HEARTBEAT");
    env.push(("CLUSTER_HEARTBEAT".into(), "10s".into()));
    let a = NodeProc::spawn(&env, 1, dir.path());
    let b = NodeProc::spawn(&env, 2, dir.path());
    a.ready().await;
    b.ready().await;
    let (_, alice_token) = register_on(&a, "alice").await;
    let (bob_id, bob_token) = register_on(&b, "bob").await;
    let ws = |n: &NodeProc| format!("ws://127.0.0.1:{}/ws", n.port);
    let mut ca = WsClient::connect_url(&ws(&a), &alice_token).await;
    let mut cb = WsClient::connect_url(&ws(&b), &bob_token).await;
    let room = ca
        .ok(
            "room.create",
            json!({"type": "direct", "memberIds": [bob_id]}),
        )
        .await["room"]["roomId"]
        .as_str()
        .expect("roomId")
        .to_owned();
    cb.push("room.created").await;
    let send =
        |text: &str| json!({"roomId": room, "content": text, "type": "text", "tempId": text});
    ca.ok("message.send", send("before")).await;
    assert_eq!(
        cb.push("message.received").await["message"]["content"],
        "before"
    );

    let port = redis.port;
    let killed = Instant::now();
    redis.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis = RedisServer::start_on(port);
    let told = cb.push_within("sync.needed", Duration::from_secs(20)).await;
    let told_after = killed.elapsed();
    assert!(told["reason"].is_string(), "{told}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    ca.ok("message.send", send("after")).await;
    let got = cb
        .push_within("message.received", Duration::from_secs(3))
        .await;
    assert_eq!(got["message"]["content"], "after");
    println!(
        "FAULT redis restarted empty: sync.needed read {} ms after the kill (an upper bound: includes the harness restarting Redis; heartbeat 10 s); a message sent 1 s later was delivered live",
        told_after.as_millis()
    );
    drop(redis);
}
