//! The node's background work on Redis: publishing, subscribing, and the
//! heartbeat that also reaps dead nodes and recovers after an outage.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use leetchat_protocol::ServerPush;
use leetchat_protocol::events::SyncNeeded;
use tokio::task::JoinHandle;

use super::{Cluster, DEAD_AFTER_BEATS, PUBLISH_BATCH, REDIS_TIMEOUT};
use crate::bus::BusEvent;
use crate::presence;
use crate::state::AppState;
use leetchat_protocol::time::now_ms;

/// Starts the publisher, the subscriber and the heartbeat.
pub fn spawn(state: AppState, cluster: Arc<Cluster>) -> Vec<JoinHandle<()>> {
    let inbox = cluster.inbox.lock().take();
    let mut handles = vec![
        state.tasks.spawn(heartbeat(state.clone(), cluster.clone())),
        tokio::spawn(subscribe(state.clone(), cluster.clone())),
    ];
    if let Some(inbox) = inbox {
        handles.push(tokio::spawn(publish(cluster, inbox)));
    }
    handles
}

/// Sends queued events to Redis in order, in pipelines of up to
/// [`PUBLISH_BATCH`]. Events that cannot be sent are counted and dropped:
/// they are committed, delivered locally, and other nodes' clients fill the
/// hole through `sync`.
async fn publish(cluster: Arc<Cluster>, mut inbox: tokio::sync::mpsc::Receiver<BusEvent>) {
    let channels = cluster.channel_prefix();
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while inbox.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let Some(mut conn) = cluster.conn() else {
            cluster
                .dropped
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            batch.clear();
            continue;
        };
        let mut pipe = redis::pipe();
        for e in &batch {
            let mut inv = cluster.scripts.route.prepare_invoke();
            for u in e.recipients.iter() {
                inv.key(cluster.user_key(u));
            }
            inv.arg(&cluster.node)
                .arg(&channels)
                .arg(Cluster::payload(&e.frame));
            for u in e.recipients.iter() {
                inv.arg(u);
            }
            pipe.invoke_script(&inv);
        }
        let mut r: redis::RedisResult<Vec<i64>> = pipe.query_async(&mut conn).await;
        if matches!(&r, Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript))
        {
            // Redis restarted and forgot the script: load it, send again.
            let load: redis::RedisResult<String> = cluster
                .scripts
                .route
                .prepare_invoke()
                .load_async(&mut conn)
                .await;
            r = match load {
                Ok(_) => pipe.query_async(&mut conn).await,
                Err(e) => Err(e),
            };
        }
        if let Err(e) = r {
            cluster.failed("publish", &e);
            cluster
                .dropped
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        batch.clear();
    }
}

/// Listens on this node's channel and delivers to local connections. When
/// the subscription is lost, retries; once back, tells every local
/// connection to `sync`.
async fn subscribe(state: AppState, cluster: Arc<Cluster>) {
    let channel = format!("{}{}", cluster.channel_prefix(), cluster.node);
    let mut lost = false;
    let mut wait = Duration::from_millis(100);
    loop {
        if state.shutdown.is_cancelled() {
            return;
        }
        let attempt = async {
            let mut ps = cluster.client.get_async_pubsub().await?;
            ps.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(ps)
        };
        let ps = match tokio::time::timeout(REDIS_TIMEOUT * 2, attempt).await {
            Ok(Ok(ps)) => ps,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "redis: cannot subscribe yet");
                sleep_or_stop(&state, wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
                continue;
            }
            Err(_) => {
                sleep_or_stop(&state, wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        wait = Duration::from_millis(100);
        tracing::info!(%channel, "redis: subscribed");
        cluster.subscribed.store(true, Ordering::Relaxed);
        if lost {
            // Redis may have come back empty (it keeps nothing on disk): put
            // this node and its users back first, so what is sent from now on
            // reaches them live, and only then tell the clients to sync what
            // they missed. Waiting for the next heartbeat left a window of up
            // to CLUSTER_HEARTBEAT in which nothing was delivered to them and
            // nothing said so.
            let mut tries = 0;
            while !rejoin(&state, &cluster).await && tries < 20 {
                tries += 1;
                sleep_or_stop(&state, Duration::from_millis(100)).await;
            }
            sync_needed(
                &state,
                "the server lost its link to other nodes for a while",
            );
        }
        let mut stream = ps.into_on_message();
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                m = stream.next() => match m {
                    Some(msg) => receive(&state, msg.get_payload_bytes()),
                    None => break,
                },
            }
        }
        tracing::warn!("redis: subscription lost; resubscribing");
        cluster.subscribed.store(false, Ordering::Relaxed);
        cluster.up.store(false, Ordering::Relaxed);
        lost = true;
    }
}

fn receive(state: &AppState, msg: &[u8]) {
    let Some((users, frame)) = Cluster::parse(msg) else {
        tracing::warn!("redis: ignoring a malformed bus message");
        return;
    };
    if &*frame.event == super::CLOSE_DEVICE {
        let v: serde_json::Value = serde_json::from_str(frame.text.as_str()).unwrap_or_default();
        let (Some(device), Some(code)) = (v["deviceId"].as_str(), v["code"].as_u64()) else {
            return;
        };
        let reason = v["reason"].as_str().unwrap_or("signed out");
        for u in &users {
            state
                .hub
                .close_device(u, device, u16::try_from(code).unwrap_or(4401), reason);
        }
        return;
    }
    let n = state.hub.deliver(&users, None, &frame);
    state.metrics.pushed(&frame.event, n);
}

/// Pushes `sync.needed` to every local connection.
fn sync_needed(state: &AppState, reason: &str) {
    let users = state.hub.users();
    if users.is_empty() {
        return;
    }
    let push = ServerPush::SyncNeeded(SyncNeeded {
        reason: reason.to_owned(),
    });
    state.push(users, None, &push);
}

async fn sleep_or_stop(state: &AppState, d: Duration) {
    tokio::select! {
        _ = state.shutdown.cancelled() => {}
        _ = tokio::time::sleep(d) => {}
    }
}

/// Every beat: connect if needed, ping, mark this node alive, reap dead
/// nodes. After an outage (or after being reaped while paused), registers
/// the node's users again.
async fn heartbeat(state: AppState, cluster: Arc<Cluster>) {
    let mut tick = tokio::time::interval(cluster.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut registered = false;
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                leave(&state, &cluster).await;
                return;
            }
            _ = tick.tick() => {}
        }
        let conn = cluster.conn.read().clone();
        let mut conn = match conn {
            Some(c) => c,
            None => match cluster.connect().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(error = %e, "redis: not reachable yet");
                    continue;
                }
            },
        };
        let now = now_ms();
        let added: redis::RedisResult<i64> = redis::cmd("ZADD")
            .arg(cluster.nodes_key())
            .arg(now)
            .arg(&cluster.node)
            .query_async(&mut conn)
            .await;
        let added = match added {
            Ok(a) => a,
            Err(e) => {
                cluster.failed("heartbeat", &e);
                continue;
            }
        };
        history_generation(&cluster, &mut conn).await;
        let was_up = cluster.up.swap(true, Ordering::Relaxed);
        if !was_up && registered {
            tracing::info!("redis: reachable again");
        }
        if !was_up || added == 1 || !registered {
            registered = reregister(&state, &cluster).await;
        }
        reap(&state, &cluster, &mut conn, now).await;
    }
}

/// Starts a new history-cache generation if some cache write was lost (an
/// outage), and reads the current one: cached pages of an older generation
/// are not served.
async fn history_generation(cluster: &Cluster, conn: &mut redis::aio::ConnectionManager) {
    if cluster.history_dirty.swap(false, Ordering::Relaxed) {
        let bumped: redis::RedisResult<u64> = redis::cmd("INCR")
            .arg(cluster.gen_key())
            .query_async(conn)
            .await;
        if bumped.is_err() {
            cluster.history_dirty.store(true, Ordering::Relaxed);
        }
    }
    let gen_now: redis::RedisResult<Option<u64>> = redis::cmd("GET")
        .arg(cluster.gen_key())
        .query_async(conn)
        .await;
    if let Ok(g) = gen_now {
        cluster.history_gen.store(g.unwrap_or(0), Ordering::Relaxed);
    }
}

/// Marks this node alive and Redis usable again, and registers its users
/// again, at once: what the heartbeat does after an outage, without waiting
/// for it (until then publishing, shared limits and presence stay off).
/// `false` when Redis did not answer.
async fn rejoin(state: &AppState, cluster: &Cluster) -> bool {
    let beat = |mut conn: redis::aio::ConnectionManager| async move {
        redis::cmd("ZADD")
            .arg(cluster.nodes_key())
            .arg(now_ms())
            .arg(&cluster.node)
            .query_async::<i64>(&mut conn)
            .await
            .map(|_| conn)
    };
    // The manager that saw the old connection die may still be failing over:
    // on an error, a fresh one.
    let existing = cluster.conn.read().clone();
    let mut conn = match existing {
        Some(c) => beat(c).await.ok(),
        None => None,
    };
    if conn.is_none() {
        conn = match cluster.connect().await {
            Ok(c) => match beat(c).await {
                Ok(c) => Some(c),
                Err(e) => {
                    cluster.failed("rejoin", &e);
                    None
                }
            },
            Err(e) => {
                tracing::debug!(error = %e, "redis: not reachable yet");
                None
            }
        };
    }
    let Some(mut conn) = conn else {
        return false;
    };
    // What the heartbeat does before Redis counts as up again: history
    // cached before the outage may miss edits and deletes made during it.
    history_generation(cluster, &mut conn).await;
    if !cluster.up.swap(true, Ordering::Relaxed) {
        tracing::info!("redis: reachable again");
    }
    if reregister(state, cluster).await {
        return true;
    }
    // Not everyone is registered: down again, so the heartbeat recovers in
    // full (it re-registers whenever Redis comes back up).
    cluster.up.store(false, Ordering::Relaxed);
    false
}

/// Makes Redis agree with this node's hub: users who left during an outage
/// are removed (and announced offline if they are on no node), users who are
/// here are added.
async fn reregister(state: &AppState, cluster: &Cluster) -> bool {
    let Some(mut conn) = cluster.conn() else {
        return false;
    };
    let listed: redis::RedisResult<Vec<String>> = redis::cmd("SMEMBERS")
        .arg(cluster.node_users_key(&cluster.node))
        .query_async(&mut conn)
        .await;
    let Ok(listed) = listed else {
        return false;
    };
    let here: HashSet<String> = state.hub.users().into_iter().collect();
    for u in listed.iter().filter(|u| !here.contains(*u)) {
        if cluster.user_disconnected(u).await == Some(true) {
            presence::went_offline(state, u).await;
        }
    }
    for u in &here {
        if cluster.user_connected(u).await.is_none() {
            return false;
        }
    }
    // Devices likewise (they decide who gets Web Push).
    let listed: redis::RedisResult<Vec<String>> = redis::cmd("SMEMBERS")
        .arg(cluster.node_devices_key(&cluster.node))
        .query_async(&mut conn)
        .await;
    let here: HashSet<String> = state.hub.devices().into_iter().collect();
    for d in listed
        .unwrap_or_default()
        .iter()
        .filter(|d| !here.contains(*d))
    {
        cluster.device_disconnected(d).await;
    }
    for d in &here {
        if !cluster.device_connected(d).await {
            return false;
        }
    }
    true
}

/// Finds nodes whose heartbeat is too old, and (one node at a time, by a
/// short lock) removes their users; those on no node any more go offline
/// with their last seen at the dead node's last beat.
async fn reap(
    state: &AppState,
    cluster: &Cluster,
    conn: &mut redis::aio::ConnectionManager,
    now: i64,
) {
    let beat = i64::try_from(cluster.heartbeat.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now - beat * i64::from(DEAD_AFTER_BEATS);
    let dead: redis::RedisResult<Vec<(String, i64)>> = redis::cmd("ZRANGEBYSCORE")
        .arg(cluster.nodes_key())
        .arg("-inf")
        .arg(cutoff)
        .arg("WITHSCORES")
        .query_async(conn)
        .await;
    let Ok(dead) = dead else {
        return;
    };
    for (node, last_beat) in dead {
        if node == cluster.node {
            continue;
        }
        let lock: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(format!("{}:reap:{node}", cluster.prefix))
            .arg(&cluster.node)
            .arg("NX")
            .arg("PX")
            .arg(beat * 4)
            .query_async(conn)
            .await;
        if !matches!(lock, Ok(Some(_))) {
            continue;
        }
        // Last seen first (one batch for all of them): once the script
        // runs they show offline.
        let held: redis::RedisResult<HashSet<String>> = redis::cmd("SMEMBERS")
            .arg(cluster.node_users_key(&node))
            .query_async(conn)
            .await;
        let held = held.unwrap_or_default();
        presence::record_last_seen(state, held.iter().map(String::as_str), last_beat).await;
        let devices: redis::RedisResult<i64> = cluster
            .scripts
            .reap_devices
            .key(cluster.node_devices_key(&node))
            .arg(&node)
            .arg(format!("{}:d:", cluster.prefix))
            .invoke_async(conn)
            .await;
        if let Err(e) = devices {
            tracing::warn!(%node, error = %e, "redis: reaping a node's devices failed");
        }
        let gone: redis::RedisResult<Vec<String>> = cluster
            .scripts
            .reap
            .key(cluster.node_users_key(&node))
            .key(cluster.nodes_key())
            .arg(&node)
            .arg(format!("{}:u:", cluster.prefix))
            .invoke_async(conn)
            .await;
        match gone {
            Ok(gone) => {
                tracing::warn!(%node, users = gone.len(), "reaped a node that stopped heartbeating");
                for u in gone {
                    if held.contains(&u) {
                        presence::announce_offline(state, &u, last_beat).await;
                    } else {
                        presence::went_offline_at(state, &u, last_beat).await;
                    }
                }
            }
            Err(e) => tracing::warn!(%node, error = %e, "redis: reaping failed"),
        }
    }
}

/// On shutdown: once this node's connections are closed (each removes its
/// user), leave the node registry the way a reaper would remove a dead node,
/// so nobody stays online through it.
async fn leave(state: &AppState, cluster: &Cluster) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while state.hub.connection_count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(mut c) = cluster.conn() else {
        return;
    };
    let _: redis::RedisResult<i64> = cluster
        .scripts
        .reap_devices
        .key(cluster.node_devices_key(&cluster.node))
        .arg(&cluster.node)
        .arg(format!("{}:d:", cluster.prefix))
        .invoke_async(&mut c)
        .await;
    let gone: redis::RedisResult<Vec<String>> = cluster
        .scripts
        .reap
        .key(cluster.node_users_key(&cluster.node))
        .key(cluster.nodes_key())
        .arg(&cluster.node)
        .arg(format!("{}:u:", cluster.prefix))
        .invoke_async(&mut c)
        .await;
    if let Ok(gone) = gone {
        for u in gone {
            presence::went_offline(state, &u).await;
        }
    }
}
