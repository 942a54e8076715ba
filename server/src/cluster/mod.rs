//! Several nodes on one PostgreSQL and one Redis.
//!
//! PostgreSQL stays the only source of truth (seqs, idempotency, history);
//! Redis carries what is shared but can be lost:
//!
//! - **Routing and presence.** `{p}:u:{user}` is the set of nodes where the
//!   user has a connection; `{p}:n:{node}:users` the users a node holds;
//!   `{p}:nodes` a sorted set of nodes by last heartbeat. A user is online
//!   while their set is not empty. A node that stops heartbeating is reaped by
//!   another node after [`DEAD_AFTER_BEATS`] beats: its users leave its sets,
//!   and those on no node any more are announced offline.
//! - **Fan-out.** One channel per node, `{p}:node:{id}`, each node subscribed
//!   to its own only. A publish runs one script that looks up the recipients'
//!   nodes and publishes to each of those nodes just the recipients it holds.
//!   Cost per event: one round trip, one message per node that has a
//!   recipient. Nothing is per room, so 100k rooms cost nothing, and a node
//!   only hears about events for its own users however many nodes there are.
//!   The local node delivers directly and never waits for Redis.
//! - **Rate limits.** One sliding log per (action, user) in a sorted set,
//!   checked and recorded atomically by a script on Redis's clock, so a user
//!   cannot double a limit by spreading over nodes.
//!
//! - **Recent history.** Each room's newest messages, for the newest page of
//!   `message.history` (see [`history`]).
//!
//! When Redis is unreachable a node keeps accepting and committing messages,
//! delivers to its own connections, falls back to its local rate limiter and
//! local presence, and reports `redis: down` in `/health/chat`. When Redis
//! returns the node re-registers its users, resubscribes, and tells its
//! connections to `sync` (push `sync.needed`), since events from other nodes
//! may have been missed meanwhile.

pub mod history;
mod scripts;
pub mod tasks;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use parking_lot::RwLock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;

use crate::bus::BusEvent;
use crate::config::RateLimit;
use crate::fanout::{Hub, PushFrame, PushParts, StreamPos};

use scripts::Scripts;

/// The bus message asking nodes to close a device's sockets (a name no
/// client event can have).
pub(crate) const CLOSE_DEVICE: &str = "!close-device";

/// Beats a node may miss before another node reaps it.
pub const DEAD_AFTER_BEATS: u32 = 4;

/// Events waiting for the publisher before new ones are dropped (and the
/// recipients on other nodes catch up through `sync`).
const PUBLISH_QUEUE: usize = 65_536;

/// Most events sent to Redis in one pipeline.
const PUBLISH_BATCH: usize = 256;

/// How long a Redis command may take before Redis counts as down.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// The Redis side of a node.
#[derive(Debug)]
pub struct Cluster {
    client: redis::Client,
    conn: RwLock<Option<ConnectionManager>>,
    up: AtomicBool,
    subscribed: AtomicBool,
    prefix: String,
    node: String,
    hub: Arc<Hub>,
    outbox: mpsc::Sender<BusEvent>,
    inbox: parking_lot::Mutex<Option<mpsc::Receiver<BusEvent>>>,
    scripts: Scripts,
    heartbeat: Duration,
    /// Events that could not reach other nodes (Redis down or queue full).
    pub dropped: AtomicU64,
    history_scripts: history::HistoryScripts,
    /// The history cache's generation (see [`history`]).
    history_gen: AtomicU64,
    /// A history cache write failed: bump the generation when Redis is back.
    history_dirty: AtomicBool,
}

/// A Redis URL that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid REDIS_URL: {0}")]
pub struct BadRedisUrl(#[from] redis::RedisError);

impl Cluster {
    /// Sets up the node's Redis side; connects in the background (a node
    /// starts even while Redis is down).
    pub fn new(
        url: &str,
        prefix: &str,
        node_id: u32,
        hub: Arc<Hub>,
        heartbeat: Duration,
    ) -> Result<Arc<Cluster>, BadRedisUrl> {
        let client = redis::Client::open(url)?;
        let (outbox, inbox) = mpsc::channel(PUBLISH_QUEUE);
        Ok(Arc::new(Cluster {
            client,
            conn: RwLock::new(None),
            up: AtomicBool::new(false),
            subscribed: AtomicBool::new(false),
            prefix: prefix.to_owned(),
            node: node_id.to_string(),
            hub,
            outbox,
            inbox: parking_lot::Mutex::new(Some(inbox)),
            scripts: Scripts::default(),
            heartbeat,
            dropped: AtomicU64::new(0),
            history_scripts: history::HistoryScripts::default(),
            history_gen: AtomicU64::new(0),
            history_dirty: AtomicBool::new(false),
        }))
    }

    /// Whether Redis answered the last command.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Whether this node is listening on its channel.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    /// This node's id as used in Redis.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn user_key(&self, user_id: &str) -> String {
        format!("{}:u:{user_id}", self.prefix)
    }

    fn node_users_key(&self, node: &str) -> String {
        format!("{}:n:{node}:users", self.prefix)
    }

    fn device_key(&self, device_id: &str) -> String {
        format!("{}:d:{device_id}", self.prefix)
    }

    pub(crate) fn node_devices_key(&self, node: &str) -> String {
        format!("{}:n:{node}:devices", self.prefix)
    }

    fn nodes_key(&self) -> String {
        format!("{}:nodes", self.prefix)
    }

    fn channel_prefix(&self) -> String {
        format!("{}:node:", self.prefix)
    }

    /// A connection to use now, or `None` while Redis is down (callers fall
    /// back to local behaviour instead of waiting).
    fn conn(&self) -> Option<ConnectionManager> {
        if !self.is_up() {
            return None;
        }
        self.conn.read().clone()
    }

    fn failed(&self, what: &str, e: &redis::RedisError) {
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %e, "redis: {what} failed; continuing without it");
        }
    }

    async fn connect(&self) -> Result<ConnectionManager, redis::RedisError> {
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let c = self.client.get_connection_manager_with_config(cfg).await?;
        *self.conn.write() = Some(c.clone());
        Ok(c)
    }

    /// Delivers to this node's connections at once, and queues the event for
    /// the nodes holding the other recipients. Returns local deliveries.
    pub fn publish(&self, ev: BusEvent) -> u64 {
        let n = self.hub.deliver(&ev.recipients, ev.exclude, &ev.frame);
        if self.is_up() {
            if self.outbox.try_send(ev).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        n
    }

    /// Asks the nodes holding `user_id`'s connections to close those of
    /// `device_id` (after logout or revocation; this node does its own).
    pub fn close_device_elsewhere(&self, user_id: &str, device_id: &str, code: u16, reason: &str) {
        let text = serde_json::json!({"deviceId": device_id, "code": code, "reason": reason});
        let ev = BusEvent {
            recipients: vec![user_id.to_owned()].into(),
            exclude: None,
            frame: PushParts {
                event: CLOSE_DEVICE.into(),
                text: Utf8Bytes::from(text.to_string()),
                stream: None,
            }
            .into(),
        };
        if !self.is_up() || self.outbox.try_send(ev).is_err() {
            tracing::warn!(
                "cannot reach other nodes to close a signed-out device's sockets; they end when its token expires"
            );
        }
    }

    /// Records a user's first connection on this node. `Some(true)` when it
    /// is their first anywhere; `None` when Redis cannot say.
    pub async fn user_connected(&self, user_id: &str) -> Option<bool> {
        let n = self.presence_step(&self.scripts.connect, user_id).await?;
        Some(n == 1)
    }

    /// Records that a user's last connection on this node went away.
    /// `Some(true)` when they are now on no node; `None` when Redis cannot say.
    pub async fn user_disconnected(&self, user_id: &str) -> Option<bool> {
        let n = self
            .presence_step(&self.scripts.disconnect, user_id)
            .await?;
        Some(n == 0)
    }

    async fn presence_step(&self, script: &redis::Script, user_id: &str) -> Option<i64> {
        let mut c = self.conn()?;
        let r = script
            .key(self.user_key(user_id))
            .key(self.node_users_key(&self.node))
            .arg(&self.node)
            .arg(user_id)
            .invoke_async::<i64>(&mut c)
            .await;
        r.map_err(|e| self.failed("presence update", &e)).ok()
    }

    /// Records a device's first connection on this node (`false`: Redis
    /// cannot say).
    pub async fn device_connected(&self, device_id: &str) -> bool {
        self.device_step(&self.scripts.connect, device_id)
            .await
            .is_some()
    }

    /// Records that a device's last connection on this node went away.
    pub async fn device_disconnected(&self, device_id: &str) -> bool {
        self.device_step(&self.scripts.disconnect, device_id)
            .await
            .is_some()
    }

    async fn device_step(&self, script: &redis::Script, device_id: &str) -> Option<i64> {
        let mut c = self.conn()?;
        let r = script
            .key(self.device_key(device_id))
            .key(self.node_devices_key(&self.node))
            .arg(&self.node)
            .arg(device_id)
            .invoke_async::<i64>(&mut c)
            .await;
        r.map_err(|e| self.failed("device presence update", &e))
            .ok()
    }

    /// Whether a device has a connection on any node; `None` when Redis
    /// cannot say.
    pub async fn device_online(&self, device_id: &str) -> Option<bool> {
        let mut c = self.conn()?;
        let n: Result<i64, _> = redis::cmd("SCARD")
            .arg(self.device_key(device_id))
            .query_async(&mut c)
            .await;
        n.map(|n| n > 0)
            .map_err(|e| self.failed("device presence read", &e))
            .ok()
    }

    /// Which of `users` are connected to any node; `None` when Redis cannot say.
    pub async fn online(&self, users: &[String]) -> Option<Vec<bool>> {
        if users.is_empty() {
            return Some(Vec::new());
        }
        let mut c = self.conn()?;
        let mut pipe = redis::pipe();
        for u in users {
            pipe.scard(self.user_key(u));
        }
        let counts: Result<Vec<i64>, _> = pipe.query_async(&mut c).await;
        counts
            .map(|v| v.into_iter().map(|n| n > 0).collect())
            .map_err(|e| self.failed("presence lookup", &e))
            .ok()
    }

    /// Applies a shared rate limit: `Some(Ok)` allowed, `Some(Err(ms))`
    /// refused; `None` when Redis cannot say (the caller uses its own).
    pub async fn rate_limit(
        &self,
        action: &str,
        key: &str,
        limit: RateLimit,
    ) -> Option<Result<(), u64>> {
        let mut c = self.conn()?;
        let member = format!("{}:{}", self.node, uuid::Uuid::new_v4().simple());
        let r = self
            .scripts
            .rate_limit
            .key(format!("{}:rl:{action}:{key}", self.prefix))
            .arg(limit.count)
            .arg(u64::try_from(limit.window.as_millis()).unwrap_or(u64::MAX))
            .arg(member)
            .invoke_async::<u64>(&mut c)
            .await;
        match r {
            Ok(0) => Some(Ok(())),
            Ok(ms) => Some(Err(ms)),
            Err(e) => {
                self.failed("rate limit", &e);
                None
            }
        }
    }

    /// Encodes an event for other nodes: `room \t seq \t event \n frame`.
    fn payload(frame: &PushFrame) -> Vec<u8> {
        let (room, seq) = match &frame.stream {
            Some(p) => (&*p.room, p.seq.to_string()),
            None => ("", String::new()),
        };
        let mut out = Vec::with_capacity(frame.text.len() + room.len() + 48);
        out.extend_from_slice(room.as_bytes());
        out.push(b'\t');
        out.extend_from_slice(seq.as_bytes());
        out.push(b'\t');
        out.extend_from_slice(frame.event.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(frame.text.as_str().as_bytes());
        out
    }

    /// Decodes what [`Cluster::payload`] made, behind the route script's
    /// recipient line.
    fn parse(msg: &[u8]) -> Option<(Vec<String>, PushFrame)> {
        let text = std::str::from_utf8(msg).ok()?;
        let (users, rest) = text.split_once('\n')?;
        let (header, body) = rest.split_once('\n')?;
        let mut h = header.splitn(3, '\t');
        let (room, seq, event) = (h.next()?, h.next()?, h.next()?);
        let stream = if room.is_empty() {
            None
        } else {
            Some(StreamPos {
                room: room.into(),
                seq: seq.parse().ok()?,
            })
        };
        let frame = PushParts {
            event: event.into(),
            text: Utf8Bytes::from(body.to_owned()),
            stream,
        }
        .into();
        let users = users.split(',').map(str::to_owned).collect();
        Some((users, frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_with_and_without_a_stream_position() {
        let f = PushFrame::new("message.received", &serde_json::json!({"a": "x\ny"}))
            .in_stream("room-1", 42);
        let mut msg = b"u1,u2\n".to_vec();
        msg.extend(Cluster::payload(&f));
        let (users, g) = Cluster::parse(&msg).expect("parses");
        assert_eq!(users, vec!["u1", "u2"]);
        assert_eq!(g.text, f.text);
        assert_eq!(&*g.event, "message.received");
        assert_eq!(g.stream, f.stream);

        let t = PushFrame::new("typing.user", &1);
        let mut msg = b"u3\n".to_vec();
        msg.extend(Cluster::payload(&t));
        let (users, g) = Cluster::parse(&msg).expect("parses");
        assert_eq!(users, vec!["u3"]);
        assert!(g.stream.is_none());
        assert!(Cluster::parse(b"garbage").is_none());
    }
}
