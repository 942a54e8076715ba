//! Scenario 10, the soak (`--only soak`, not in the full run: it takes
//! `--soak-minutes`, 10 by default). Two PostgreSQL + Redis nodes and
//! clients that are the real client core (store, outbox, reconnect and
//! resume), half on each node, sending into shared groups for the whole
//! time, while one client after another reconnects, node 2 is killed with
//! SIGKILL and started again, and Redis is restarted empty.
//!
//! Reported: messages sent, acked, lost and duplicated on every member's
//! store and in the database (both must be 0), each node's resident memory
//! over time (node 1 is never restarted: its first and last minutes are
//! compared), and the p99 of send → receive (live pushes only) per minute.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use leetchat_client::{Client, ClientConfig, ClientEvent, CredentialStore, Origin};

use crate::client::new_histogram;
use crate::proc::Proc;
use crate::results::{Latency, Soak, SoakEvent, SoakMemory, SoakMinute};

/// Sizes of a soak.
pub struct SoakPlan {
    pub duration: Duration,
    pub clients: usize,
    pub groups: usize,
    /// Each client sends one message this often.
    pub send_every: Duration,
    /// One client reconnects this often.
    pub reconnect_every: Duration,
}

/// The cluster under soak: restarts node 2 and Redis on their ports.
pub trait Cluster {
    fn node(&self, i: usize) -> &Proc;
    fn restart_node(&mut self, i: usize) -> impl std::future::Future<Output = Result<()>>;
    fn restart_redis(&mut self) -> impl std::future::Future<Output = Result<()>>;
    fn database_url(&self) -> String;
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

async fn client(url: &str, dir: &Path, name: &str) -> Result<Client> {
    let c = Client::open(ClientConfig {
        server: url.to_owned(),
        data_dir: dir.join(name),
        credentials: CredentialStore::File(dir.join(name).join("credentials.json")),
        device_name: "soak".into(),
    })
    .await?;
    c.register(name, &format!("password-{name}"), None).await?;
    c.start()?;
    c.wait_online(Duration::from_secs(60)).await?;
    Ok(c)
}

/// `content` of every stored message of a room that has a seq, in seq order.
fn stored(c: &Client, room: &str) -> Result<Vec<(i64, String)>> {
    Ok(c.messages(room, None, 1_000_000)?
        .into_iter()
        .filter_map(|m| m.seq.map(|s| (s, m.content)))
        .collect())
}

/// Rows and distinct contents of a room in PostgreSQL (via psql).
fn db_counts(db: &str, room: &str) -> Result<(i64, i64)> {
    let out = std::process::Command::new("psql")
        .args([
            db,
            "-tAc",
            &format!(
                "SELECT COUNT(*), COUNT(DISTINCT content) FROM messages WHERE room_id = '{}'",
                room.replace('\'', "")
            ),
        ])
        .output()
        .context("psql")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (a, b) = text.trim().split_once('|').context("psql: rows|distinct")?;
    Ok((a.parse()?, b.parse()?))
}

pub async fn soak(cluster: &mut impl Cluster, plan: &SoakPlan, quiet: bool) -> Result<Soak> {
    let dir = tempfile::tempdir()?;
    let mut clients = Vec::with_capacity(plan.clients);
    for i in 0..plan.clients {
        let url = cluster.node(i % 2).url();
        clients.push(Arc::new(
            client(&url, dir.path(), &format!("soak{i}"))
                .await
                .with_context(|| format!("soak: starting client {i} on {url}"))?,
        ));
    }
    let ids: Vec<String> = clients
        .iter()
        .map(|c| c.me().map(|u| u.user_id).context("signed in"))
        .collect::<Result<_>>()?;
    let mut rooms = Vec::new();
    for g in 0..plan.groups {
        let r = clients[0]
            .create_group(&format!("soak {g}"), &ids[1..])
            .await
            .context("soak: creating a group")?;
        rooms.push(r.room_id);
    }
    // Everyone has every room before the traffic starts.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !clients
        .iter()
        .all(|c| rooms.iter().all(|r| c.room(r).ok().flatten().is_some()))
    {
        if Instant::now() > deadline {
            bail!("soak: not every client got the groups");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let minutes = plan.duration.as_secs().div_ceil(60).max(1) as usize;
    let latency: Arc<Mutex<Vec<Histogram<u64>>>> =
        Arc::new(Mutex::new((0..minutes).map(|_| new_histogram()).collect()));
    let t0 = Instant::now();
    let stop = tokio_util::sync::CancellationToken::new();

    // Every client measures the live messages it receives.
    let mut listeners = Vec::new();
    for c in &clients {
        let mut rx = c.events();
        let latency = latency.clone();
        let stop = stop.clone();
        listeners.push(tokio::spawn(async move {
            loop {
                let e = tokio::select! {
                    e = rx.recv() => e,
                    () = stop.cancelled() => return,
                };
                let Ok(ClientEvent::MessageUpserted {
                    message, origin, ..
                }) = e
                else {
                    if matches!(e, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        return;
                    }
                    continue;
                };
                if origin != Origin::Live {
                    continue;
                }
                let Some(sent) = message
                    .content
                    .rsplit(':')
                    .next()
                    .and_then(|s| s.parse::<i64>().ok())
                else {
                    continue;
                };
                let ms = (unix_ms() - sent).max(0) as u64;
                let minute = (t0.elapsed().as_secs() / 60) as usize;
                let mut l = latency.lock().expect("latency");
                let last = l.len() - 1;
                let _ = l[minute.min(last)].record((ms * 1000).max(1));
            }
        }));
    }

    // The senders.
    let mut senders = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        let c = c.clone();
        let rooms = rooms.clone();
        let stop = stop.clone();
        let every = plan.send_every;
        senders.push(tokio::spawn(async move {
            let mut n = 0u64;
            // Spread the first sends over the period.
            tokio::time::sleep(every.mul_f64(i as f64 / 16.0 % 1.0)).await;
            while !stop.is_cancelled() {
                let room = &rooms[(i + n as usize) % rooms.len()];
                c.send_text(room, &format!("soak:{i}:{n}:{}", unix_ms()))?;
                n += 1;
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = stop.cancelled() => {}
                }
            }
            anyhow::Ok(n)
        }));
    }

    // Memory every 10 s; the faults on their schedule; a reconnect now and then.
    let mut events = Vec::new();
    let mut memory = Vec::new();
    let restart_node_at = plan.duration.mul_f64(0.4);
    let restart_redis_at = plan.duration.mul_f64(0.7);
    let (mut node_done, mut redis_done) = (false, false);
    let mut next_reconnect = plan.reconnect_every;
    let mut next_sample = Duration::ZERO;
    let mut reconnects = 0usize;
    let mut next_progress = Duration::ZERO;
    while t0.elapsed() < plan.duration {
        let now = t0.elapsed();
        if now >= next_sample {
            memory.push(SoakMemory {
                t_s: now.as_secs(),
                node1_mib: cluster.node(0).rss_bytes() as f64 / 1048576.0,
                node2_mib: cluster.node(1).rss_bytes() as f64 / 1048576.0,
            });
            next_sample += Duration::from_secs(10);
        }
        if !node_done && now >= restart_node_at {
            node_done = true;
            cluster
                .restart_node(1)
                .await
                .context("soak: restarting node 2 after kill -9")?;
            events.push(SoakEvent {
                t_s: now.as_secs(),
                what: "node 2 killed with SIGKILL and started again".into(),
            });
        }
        if !redis_done && now >= restart_redis_at {
            redis_done = true;
            cluster
                .restart_redis()
                .await
                .context("soak: restarting Redis")?;
            events.push(SoakEvent {
                t_s: now.as_secs(),
                what: "Redis killed and started again, empty".into(),
            });
        }
        if now >= next_reconnect {
            let c = &clients[reconnects % clients.len()];
            c.stop().await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            c.start()
                .context("soak: restarting a client's connection")?;
            reconnects += 1;
            next_reconnect += plan.reconnect_every;
        }
        if !quiet && now >= next_progress {
            eprintln!(
                "soak: {} s of {} s, {} reconnects so far",
                now.as_secs(),
                plan.duration.as_secs(),
                reconnects
            );
            next_progress += Duration::from_secs(30);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.cancel();
    let mut sent = 0u64;
    for s in senders {
        sent += s.await?.context("soak: a sender stopped")?;
    }

    // Let every outbox drain and every member catch up, then count.
    let settle = Instant::now();
    loop {
        let mut pending = 0;
        for c in &clients {
            pending += c.outbox_len().context("soak: reading an outbox")?;
        }
        if pending == 0 {
            break;
        }
        if settle.elapsed() > Duration::from_secs(120) {
            bail!("soak: {pending} messages still queued two minutes after the traffic stopped");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Sent = what the senders' stores hold as acked, by room.
    let mut acked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, c) in clients.iter().enumerate() {
        for r in &rooms {
            for (_, content) in stored(c, r)? {
                if content.starts_with(&format!("soak:{i}:")) {
                    acked.entry(r.clone()).or_default().insert(content);
                }
            }
        }
    }
    let acked_n: usize = acked.values().map(BTreeSet::len).sum();
    let count = || -> Result<(usize, usize)> {
        let (mut lost, mut duplicated) = (0usize, 0usize);
        for c in &clients {
            for r in &rooms {
                let got = stored(c, r)?;
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for (_, content) in &got {
                    *counts.entry(content.as_str()).or_default() += 1;
                }
                duplicated += counts.values().map(|n| n - 1).sum::<usize>();
                lost += acked.get(r).map_or(0, |s| {
                    s.iter()
                        .filter(|t| !counts.contains_key(t.as_str()))
                        .count()
                });
            }
        }
        Ok((lost, duplicated))
    };
    let caught_up = Instant::now();
    let (lost, duplicated) = loop {
        let (lost, duplicated) = count()?;
        if lost == 0 || caught_up.elapsed() > Duration::from_secs(60) {
            break (lost, duplicated);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let (mut db_rows, mut db_distinct) = (0i64, 0i64);
    for r in &rooms {
        let (n, d) = db_counts(&cluster.database_url(), r)?;
        db_rows += n;
        db_distinct += d;
    }
    for c in &clients {
        c.stop().await;
    }
    for l in listeners {
        l.abort();
    }
    let per_minute: Vec<SoakMinute> = latency
        .lock()
        .expect("latency")
        .iter()
        .enumerate()
        .map(|(m, h)| SoakMinute {
            minute: m + 1,
            received: h.len(),
            latency: Latency::of(h),
        })
        .collect();
    let growth = node1_growth(&memory);
    Ok(Soak {
        minutes: plan.duration.as_secs_f64() / 60.0,
        clients: plan.clients,
        groups: plan.groups,
        nodes: 2,
        sent,
        acked: acked_n as u64,
        lost: lost as u64,
        duplicated: duplicated as u64,
        db_rows,
        db_distinct,
        reconnects,
        events,
        memory,
        node1_rss_growth: growth,
        per_minute,
    })
}

/// Node 1's median resident memory in the last minute over the median of
/// its second minute (the first is warm-up), when the run is long enough.
fn node1_growth(m: &[SoakMemory]) -> Option<f64> {
    let median = |from: u64, to: u64| {
        let mut v: Vec<f64> = m
            .iter()
            .filter(|s| s.t_s >= from && s.t_s < to)
            .map(|s| s.node1_mib)
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    let end = m.last()?.t_s;
    if end < 150 {
        return None;
    }
    Some(median(end - 60, end + 1)? / median(60, 120)?)
}
