//! The scenarios. Each takes a [`Target`] (where to connect, what to sample)
//! and returns its figures (a struct of [`crate::results`]) for the report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::client::{Conn, Totals, User, new_histogram, register};
use crate::results::{Durable, Fanout, History, Idle, IdlePoint, Latency, Phase, Throughput};

mod alone;
mod search;
mod soak;
mod storm;
use crate::proc::{Proc, self_cpu_seconds};
pub use alone::database_alone;
pub use search::{SearchPlan, Servers, Store as SearchStore, run as search, send_cost_alone};
pub use soak::{Cluster, SoakPlan, soak};
pub use storm::reconnect_storm;

/// Where a scenario connects: one or more nodes (clients are spread over
/// them), and the processes whose CPU and memory count.
pub struct Target<'a> {
    /// A name for the report (`embedded`, `postgres+redis`, `two nodes`, `baseline`).
    pub name: String,
    /// The serving processes.
    pub nodes: Vec<&'a Proc>,
}

impl Target<'_> {
    fn url(&self, i: usize) -> String {
        self.nodes[i % self.nodes.len()].url()
    }
    fn ws(&self, i: usize) -> String {
        format!(
            "ws://127.0.0.1:{}/ws",
            self.nodes[i % self.nodes.len()].port
        )
    }
    fn cpu(&self) -> f64 {
        self.nodes.iter().map(|n| n.cpu_seconds()).sum()
    }
    fn rss(&self) -> u64 {
        self.nodes.iter().map(|n| n.rss_bytes()).sum()
    }
    /// Pushes of `event` the nodes have queued so far (their `/metrics`; an
    /// event never pushed has no line yet).
    async fn pushes_of(&self, event: &str) -> Result<u64> {
        const FAMILY: &str = "leetchat_events_out_total{";
        let http = reqwest::Client::new();
        let line = format!("{FAMILY}event=\"{event}\"}} ");
        let mut total = 0;
        for n in &self.nodes {
            let text = http
                .get(format!("{}/metrics", n.url()))
                .send()
                .await?
                .error_for_status()?
                .text()
                .await?;
            if !text.contains(FAMILY) {
                bail!("{}/metrics has no {FAMILY}...}} lines", n.url());
            }
            total += text
                .lines()
                .find_map(|l| l.strip_prefix(&line))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
        Ok(total)
    }
}

fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(what.to_owned());
    b
}

/// Connects like a real client: a refused connection (the server is busy and
/// says "retry later") is tried again after growing, jittered waits.
async fn connect_retry(
    url: &str,
    token: &str,
    start: Instant,
    phases: usize,
    totals: &Arc<Totals>,
    keep_seen: bool,
) -> Result<Conn> {
    let mut tries = 0u32;
    loop {
        match Conn::connect(url, token, start, phases, totals.clone(), keep_seen).await {
            Ok(c) => return Ok(c),
            Err(_) if tries < 20 => {
                tries += 1;
                let ms = 50u64 << tries.min(5);
                tokio::time::sleep(Duration::from_millis(ms + u64::from(tries) * 13 % ms)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Registers `n` users named `{prefix}{i}`, a few at a time.
pub async fn users(t: &Target<'_>, prefix: &str, n: usize, quiet: bool) -> Result<Vec<User>> {
    let http = reqwest::Client::new();
    let b = bar(n as u64, &format!("{}: register", t.name), quiet);
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let chunk: Vec<_> = (i..(i + 8).min(n))
            .map(|k| {
                let (http, url) = (http.clone(), t.url(k));
                let name = format!("{prefix}_{k:05}");
                async move { register(&http, &url, &name).await }
            })
            .collect();
        for u in futures_util::future::join_all(chunk).await {
            out.push(u?);
        }
        i += 8;
        b.set_position(i.min(n) as u64);
    }
    b.finish_and_clear();
    Ok(out)
}

/// Connects every user (spread over the nodes).
async fn connect_all(
    t: &Target<'_>,
    users: &[User],
    start: Instant,
    phases: usize,
    totals: &Arc<Totals>,
    keep_seen: bool,
    quiet: bool,
) -> Result<Vec<Conn>> {
    let b = bar(users.len() as u64, &format!("{}: connect", t.name), quiet);
    let mut conns = Vec::with_capacity(users.len());
    for chunk in users.chunks(64).enumerate() {
        let (ci, chunk) = chunk;
        let fut: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(k, u)| {
                let url = t.ws(ci * 64 + k);
                let totals = totals.clone();
                let token = u.token.clone();
                async move { connect_retry(&url, &token, start, phases, &totals, keep_seen).await }
            })
            .collect();
        for c in futures_util::future::join_all(fut).await {
            conns.push(c?);
        }
        b.inc(chunk.len() as u64);
    }
    b.finish_and_clear();
    Ok(conns)
}

/// Groups of `size` consecutive users; the first creates each. Returns the
/// room of every user.
async fn make_groups(conns: &mut [Conn], users: &[User], size: usize) -> Result<Vec<String>> {
    let mut rooms = vec![String::new(); users.len()];
    for g in (0..users.len()).step_by(size) {
        let end = (g + size).min(users.len());
        let others: Vec<&str> = users[g + 1..end]
            .iter()
            .map(|u| u.user_id.as_str())
            .collect();
        let r = conns[g]
            .call(
                "room.create",
                json!({"type": "group", "name": format!("bench {g}"), "memberIds": others}),
            )
            .await?;
        let id = r["room"]["roomId"].as_str().context("roomId")?.to_owned();
        for slot in &mut rooms[g..end] {
            slot.clone_from(&id);
        }
    }
    // Let the room.created / member pushes settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(rooms)
}

/// Scenarios 1, 2 and 9: `clients` connected in groups of `group`; messages
/// sent at each of `rates` (messages/s, each delivered to `group - 1`
/// members) for `phase` each. Latency is send → receive per delivery.
/// Stops early once p99 passes 100 ms (the sustained limit is the last rate
/// under it).
pub async fn throughput(
    t: &Target<'_>,
    users: &[User],
    group: usize,
    rates: &[u64],
    phase: Duration,
    quiet: bool,
) -> Result<Throughput> {
    let start = Instant::now();
    let totals = Arc::new(Totals::default());
    let mut conns = connect_all(t, users, start, rates.len(), &totals, true, quiet).await?;
    let rooms = make_groups(&mut conns, users, group).await?;
    let fanout = (group.min(users.len()) - 1) as u64;
    let mut out = Vec::new();
    let mut n_sent: u64 = 0;
    let mut sent_per_phase = Vec::new();
    let mut cpu_per_phase = Vec::new();
    for (p, &rate) in rates.iter().enumerate() {
        let b = bar(
            phase.as_millis() as u64,
            &format!("{}: {} msg/s", t.name, rate),
            quiet,
        );
        eprintln!("{}: {} msg/s to groups of {group}", t.name, rate);
        let cpu0 = t.cpu();
        let me0 = self_cpu_seconds();
        let t0 = Instant::now();
        let tick = Duration::from_millis(5);
        let per_tick = rate as f64 * tick.as_secs_f64();
        let mut owed = 0.0;
        let mut next = 0usize;
        let mut sent = 0u64;
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        while t0.elapsed() < phase {
            interval.tick().await;
            owed += per_tick;
            while owed >= 1.0 {
                owed -= 1.0;
                let i = next % conns.len();
                next += 1;
                conns[i].send_timed(&rooms[i], i as u32, n_sent, p, start);
                n_sent += 1;
                sent += 1;
            }
            b.set_position(t0.elapsed().as_millis() as u64);
        }
        // Let the last deliveries land before the phase is closed.
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.finish_and_clear();
        let elapsed = t0.elapsed().as_secs_f64() - 0.5;
        cpu_per_phase.push((t.cpu() - cpu0, self_cpu_seconds() - me0, elapsed));
        sent_per_phase.push(sent);
        // Past capacity (a backlog of over 5% of what is owed): no higher rate.
        let owed_so_far: u64 = sent_per_phase.iter().sum::<u64>() * fanout;
        if totals.received.load(Ordering::Relaxed) * 100 < owed_so_far * 95 {
            break;
        }
    }
    // Wait (up to 10 s) for every delivery owed: slow is measured, lost is not
    // excused.
    let owed: u64 = sent_per_phase.iter().sum::<u64>() * fanout;
    let deadline = Instant::now() + Duration::from_secs(60);
    while totals.received.load(Ordering::Relaxed) < owed && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ran = sent_per_phase.len();
    let mut merged: Vec<Histogram<u64>> = (0..rates.len()).map(|_| new_histogram()).collect();
    let mut seen: BTreeMap<(u32, u64), u64> = BTreeMap::new();
    for c in conns {
        let m = c.finish().await;
        for (i, h) in m.latency.iter().enumerate() {
            if let Some(h) = h {
                let _ = merged[i].add(h);
            }
        }
        for (s, n, _) in m.seen {
            *seen.entry((s, n)).or_default() += 1;
        }
    }
    let duplicated: u64 = seen
        .values()
        .filter(|&&k| k > fanout)
        .map(|k| k - fanout)
        .sum();
    let mut sustained = None;
    for (p, &rate) in rates.iter().enumerate().take(ran) {
        let (server_cpu, gen_cpu, secs) = cpu_per_phase[p];
        let expected = sent_per_phase[p] * fanout;
        let got = merged[p].len();
        let delivered_per_s = got as f64 / secs.max(0.001);
        let p99 = merged[p].value_at_quantile(0.99) as f64 / 1000.0;
        if p99 <= 100.0 && got + got / 100 >= expected {
            sustained = Some(delivered_per_s);
        }
        out.push(Phase {
            rate_msgs_per_s: rate,
            delivered_per_s,
            expected_deliveries: expected,
            deliveries: got,
            latency: Latency::of(&merged[p]),
            server_cpu_s: server_cpu,
            server_cpu_share: server_cpu / secs.max(0.001),
            loadgen_cpu_share: gen_cpu / secs.max(0.001),
            server_cpu_us_per_delivery: if got > 0 {
                server_cpu * 1e6 / got as f64
            } else {
                0.0
            },
        });
    }
    let reached = seen.len() as u64;
    let total_sent: u64 = sent_per_phase.iter().sum();
    let delivered: u64 = merged.iter().map(Histogram::len).sum();
    Ok(Throughput {
        clients: users.len(),
        group_size: group,
        phase_s: phase.as_secs_f64(),
        phases: out,
        sustained_delivered_per_s_p99_under_100ms: sustained,
        messages_sent: total_sent,
        messages_with_no_delivery: total_sent.saturating_sub(reached),
        deliveries_missing: owed.saturating_sub(delivered),
        duplicated_deliveries: duplicated,
        errors: totals.errors.load(Ordering::Relaxed),
    })
}

/// Scenario 3: one group of `users.len()` members; one sender publishes
/// `messages` messages; for each, the time until its last recipient has it.
pub async fn fanout(t: &Target<'_>, users: &[User], messages: u64, quiet: bool) -> Result<Fanout> {
    let start = Instant::now();
    let totals = Arc::new(Totals::default());
    let mut conns = connect_all(t, users, start, 1, &totals, true, quiet).await?;
    let rooms = make_groups(&mut conns, users, users.len()).await?;
    let b = bar(messages, &format!("{}: fan-out", t.name), quiet);
    eprintln!("{}: fan-out to {} members", t.name, users.len());
    let cpu0 = t.cpu();
    for n in 0..messages {
        conns[0].send_timed(&rooms[0], 0, n, 0, start);
        tokio::time::sleep(Duration::from_millis(50)).await;
        b.inc(1);
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    b.finish_and_clear();
    let server_cpu = t.cpu() - cpu0;
    let mut last: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let mut all = new_histogram();
    for c in conns {
        let m = c.finish().await;
        for (_, n, lat) in m.seen {
            let e = last.entry(n).or_default();
            e.0 = e.0.max(lat);
            e.1 += 1;
            let _ = all.record(lat);
        }
    }
    let mut to_last = new_histogram();
    let recipients = (users.len() - 1) as u64;
    let mut incomplete = 0;
    for (max, count) in last.values() {
        let _ = to_last.record(*max);
        if *count < recipients {
            incomplete += 1;
        }
    }
    let deliveries = all.len();
    Ok(Fanout {
        members: users.len(),
        messages,
        publish_to_last_recipient: Latency::of(&to_last),
        publish_to_each_recipient: Latency::of(&all),
        messages_missing_a_recipient: incomplete + messages.saturating_sub(last.len() as u64),
        errors: totals.errors.load(Ordering::Relaxed),
        server_cpu_us_per_delivery: if deliveries > 0 {
            server_cpu * 1e6 / deliveries as f64
        } else {
            0.0
        },
    })
}

/// Scenario 4: idle connections in steps; server RSS at each.
pub async fn idle(t: &Target<'_>, users: &[User], steps: &[usize], quiet: bool) -> Result<Idle> {
    let start = Instant::now();
    let totals = Arc::new(Totals::default());
    let mut conns = Vec::new();
    let mut points = Vec::new();
    tokio::time::sleep(Duration::from_millis(500)).await;
    points.push(IdlePoint {
        connections: 0,
        rss_bytes: t.rss(),
    });
    let b = bar(
        *steps.last().unwrap_or(&0) as u64,
        &format!("{}: idle sockets", t.name),
        quiet,
    );
    for &target in steps {
        while conns.len() < target {
            let i = conns.len();
            let u = &users[i % users.len()];
            conns.push(connect_retry(&t.ws(i), &u.token, start, 1, &totals, false).await?);
            b.inc(1);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        points.push(IdlePoint {
            connections: target,
            rss_bytes: t.rss(),
        });
    }
    b.finish_and_clear();
    for c in conns {
        c.finish().await;
    }
    let first = points[1];
    let last = points[points.len() - 1];
    let dc = last.connections as f64 - first.connections as f64;
    let dm = last.rss_bytes as f64 - first.rss_bytes as f64;
    Ok(Idle {
        points,
        bytes_per_connection: if dc > 0.0 { dm / dc } else { 0.0 },
    })
}

/// Scenario 6: `senders` closed-loop senders (each waits for its ack) for
/// `secs`; acked messages/s and ack latency.
pub async fn durable(
    t: &Target<'_>,
    users: &[User],
    secs: Duration,
    quiet: bool,
) -> Result<Durable> {
    let start = Instant::now();
    let totals = Arc::new(Totals::default());
    let mut conns = connect_all(t, users, start, 1, &totals, false, quiet).await?;
    let rooms = make_groups(&mut conns, users, 2).await?;
    let b = bar(
        secs.as_millis() as u64,
        &format!("{}: durable writes", t.name),
        quiet,
    );
    let t0 = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            let room = rooms[i].clone();
            tokio::spawn(async move {
                let mut h = new_histogram();
                let mut n = 0u64;
                while t0.elapsed() < secs {
                    let s = Instant::now();
                    c.call(
                        "message.send",
                        json!({"roomId": room, "content": format!("d{n}"), "tempId": uuid::Uuid::new_v4().simple().to_string()}),
                    )
                    .await?;
                    let _ = h.record(s.elapsed().as_micros().max(1) as u64);
                    n += 1;
                }
                c.finish().await;
                anyhow::Ok(h)
            })
        })
        .collect();
    let ticker = {
        let b = b.clone();
        tokio::spawn(async move {
            while t0.elapsed() < secs {
                b.set_position(t0.elapsed().as_millis() as u64);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let mut all = new_histogram();
    for task in tasks {
        let _ = all.add(task.await??);
    }
    let _ = ticker.await;
    b.finish_and_clear();
    let elapsed = t0.elapsed().as_secs_f64();
    Ok(Durable {
        senders: users.len(),
        acked: all.len(),
        acked_per_s: all.len() as f64 / elapsed,
        ack: Latency::of(&all),
        database_alone: None,
    })
}

/// Scenario 7: a room with `n` messages, seeded straight into PostgreSQL
/// (through the API it would take longer than the whole run), then read
/// through the API: the newest page, and pages before random cursors.
pub async fn history(
    t: &Target<'_>,
    users: &[User],
    db_url: &str,
    n: i64,
    quiet: bool,
) -> Result<History> {
    let start = Instant::now();
    let totals = Arc::new(Totals::default());
    let mut c = Conn::connect(&t.ws(0), &users[0].token, start, 1, totals, false).await?;
    let r = c
        .call(
            "room.create",
            json!({"type": "direct", "memberIds": [users[1].user_id]}),
        )
        .await?;
    let room = r["room"]["roomId"].as_str().context("roomId")?.to_owned();
    let b = bar(1, &format!("{}: seed {n} messages", t.name), quiet);
    let seeded = Instant::now();
    let t0 = 1_700_000_000_000i64;
    let sql = format!(
        "BEGIN;
         INSERT INTO messages (message_id, room_id, seq, sender_id, message_type, content, created_at)
           SELECT 'seed-' || g, '{room}', g, '{sender}', 'text', 'seeded message number ' || g, {t0} + g
           FROM generate_series(1, {n}) g;
         INSERT INTO room_events (room_id, seq, kind, message_id, created_at)
           SELECT '{room}', g, 'message.received', 'seed-' || g, {t0} + g FROM generate_series(1, {n}) g;
         UPDATE rooms SET last_seq = {n} WHERE room_id = '{room}';
         COMMIT; ANALYZE messages; ANALYZE room_events;",
        sender = users[0].user_id
    );
    let out = std::process::Command::new("psql")
        .args([db_url, "-qc", &sql])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("seeding failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let seed_s = seeded.elapsed().as_secs_f64();
    b.finish_and_clear();
    let requests = 300;
    let b = bar(2 * requests, &format!("{}: history pages", t.name), quiet);
    let (mut newest, mut deep) = (new_histogram(), new_histogram());
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..requests {
        let s = Instant::now();
        let p = c
            .call("message.history", json!({"roomId": room, "limit": 50}))
            .await?;
        let _ = newest.record(s.elapsed().as_micros().max(1) as u64);
        if p["messages"].as_array().map_or(0, Vec::len) != 50 {
            bail!("the newest page has {} messages", p["messages"]);
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let cursor = 51 + (x % (n.max(52) as u64 - 51)) as i64;
        let s = Instant::now();
        let p = c
            .call(
                "message.history",
                json!({"roomId": room, "cursor": cursor, "limit": 50, "direction": "before"}),
            )
            .await?;
        let _ = deep.record(s.elapsed().as_micros().max(1) as u64);
        if p["messages"][49]["seq"].as_i64() != Some(cursor - 1) {
            bail!("the page before {cursor} does not end at {}", cursor - 1);
        }
        b.inc(2);
    }
    b.finish_and_clear();
    c.finish().await;
    Ok(History {
        messages: n,
        seed_s,
        newest_page: Latency::of(&newest),
        page_at_random_cursor: Latency::of(&deep),
    })
}
