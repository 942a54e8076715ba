//! What nodes share, offered the same way on one node and on a cluster, so
//! no handler branches on the deployment.
//!
//! [`Bus`] carries events to the hubs that hold recipients' connections, and
//! fronts the rest of what a cluster shares through Redis: who is online
//! anywhere, rate limits, the recent-history cache, closing a device's
//! sockets on other nodes. On one node each of these is either the local
//! answer or nothing to do (there is no history cache to keep right).
//! While Redis is down a cluster node answers like a single node (see
//! [`crate::cluster`]).

use std::sync::Arc;

use leetchat_protocol::objects::Message;

use crate::cluster::Cluster;
use crate::cluster::history::CachedPage;
use crate::config::RateLimit;
use crate::fanout::{ConnId, Hub, PushFrame};

/// A push on its way to recipients' connections.
#[derive(Debug, Clone)]
pub struct BusEvent {
    /// Users to deliver to.
    pub recipients: Arc<[String]>,
    /// The connection whose request caused it (it has the ack).
    pub exclude: Option<ConnId>,
    /// The push.
    pub frame: PushFrame,
}

/// Carries events to every node's hub.
#[derive(Debug, Clone)]
pub enum Bus {
    /// Single node: straight to the local hub.
    InProcess(Arc<Hub>),
    /// Several nodes: the local hub at once, other nodes through Redis.
    Redis(Arc<Cluster>),
}

impl Bus {
    /// Sends an event to its recipients wherever they are connected.
    /// Returns how many of this node's connections it was queued on.
    pub fn publish(&self, ev: BusEvent) -> u64 {
        match self {
            Bus::InProcess(hub) => hub.deliver(&ev.recipients, ev.exclude, &ev.frame),
            Bus::Redis(c) => c.publish(ev),
        }
    }

    /// A name for `/health/chat`.
    pub fn name(&self) -> &'static str {
        match self {
            Bus::InProcess(_) => "in-process",
            Bus::Redis(_) => "redis",
        }
    }

    /// Redis as `/health/chat` reports it: `disabled`, `up` or `down`.
    pub fn redis_status(&self) -> &'static str {
        match self {
            Bus::InProcess(_) => "disabled",
            Bus::Redis(c) if c.is_up() => "up",
            Bus::Redis(_) => "down",
        }
    }

    /// The cluster, when there is one (for starting its background tasks).
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        match self {
            Bus::InProcess(_) => None,
            Bus::Redis(c) => Some(c),
        }
    }

    /// A user's first connection on this node was registered: whether it
    /// is their first anywhere (when the cluster cannot say: yes).
    pub async fn user_connected(&self, user_id: &str) -> bool {
        match self {
            Bus::InProcess(_) => true,
            Bus::Redis(c) => c.user_connected(user_id).await.unwrap_or(true),
        }
    }

    /// A user's last connection on this node went away: whether they have
    /// none left anywhere (when the cluster cannot say: yes).
    pub async fn user_disconnected(&self, user_id: &str) -> bool {
        match self {
            Bus::InProcess(_) => true,
            Bus::Redis(c) => c.user_disconnected(user_id).await.unwrap_or(true),
        }
    }

    /// A device's first connection on this node (the cluster keeps count).
    pub async fn device_connected(&self, device_id: &str) {
        if let Bus::Redis(c) = self {
            c.device_connected(device_id).await;
        }
    }

    /// A device's last connection on this node went away.
    pub async fn device_disconnected(&self, device_id: &str) {
        if let Bus::Redis(c) = self {
            c.device_disconnected(device_id).await;
        }
    }

    /// Whether a device has a connection on any node (`None`: nobody can
    /// say; the caller decides what that means).
    pub async fn device_online(
        &self,
        hub: &crate::fanout::Hub,
        user_id: &str,
        device_id: &str,
    ) -> Option<bool> {
        if hub.device_count(user_id, device_id) > 0 {
            return Some(true);
        }
        match self {
            Bus::InProcess(_) => Some(false),
            Bus::Redis(c) => c.device_online(device_id).await,
        }
    }

    /// Which of `users` are connected to any node, or `None` when only this
    /// node's hub can tell.
    pub async fn online_anywhere(&self, users: &[String]) -> Option<Vec<bool>> {
        match self {
            Bus::InProcess(_) => None,
            Bus::Redis(c) => c.online(users).await,
        }
    }

    /// A rate limit shared by every node: `Some(Ok)` allowed, `Some(Err(ms))`
    /// refused, `None` when there is no shared limit to ask (the caller
    /// applies its own).
    pub async fn shared_rate_limit(
        &self,
        action: &str,
        key: &str,
        limit: RateLimit,
    ) -> Option<Result<(), u64>> {
        match self {
            Bus::InProcess(_) => None,
            Bus::Redis(c) => c.rate_limit(action, key, limit).await,
        }
    }

    /// Asks the other nodes to close a device's sockets (this node closes
    /// its own).
    pub fn close_device_elsewhere(&self, user_id: &str, device_id: &str, code: u16, reason: &str) {
        if let Bus::Redis(c) = self {
            c.close_device_elsewhere(user_id, device_id, code, reason);
        }
    }

    /// Whether the newest page of a room's history is served from a cache
    /// (only a cluster has one: one node reads its database directly).
    pub fn caches_history(&self) -> bool {
        matches!(self, Bus::Redis(_))
    }

    /// The newest `limit` messages of a room from the cache, if it can tell.
    pub async fn cached_newest(&self, room_id: &str, limit: usize) -> Option<CachedPage> {
        match self {
            Bus::InProcess(_) => None,
            Bus::Redis(c) => c.cached_newest(room_id, limit).await,
        }
    }

    /// Fills a room's cache from a database read that started at stream
    /// seq `read_seq` (see [`crate::cluster::history`]).
    pub async fn fill_history(
        &self,
        room_id: &str,
        read_seq: i64,
        newest: &[Message],
        complete: bool,
    ) {
        if let Bus::Redis(c) = self {
            c.fill_history(room_id, read_seq, newest, complete).await;
        }
    }

    /// A message changed (new, edited or deleted) by the room event
    /// `version`: keeps the cache right. Called after commit and before the
    /// pushes and the ack leave.
    pub async fn history_changed(&self, version: i64, message: &Message) {
        if let Bus::Redis(c) = self {
            c.history_changed(version, message).await;
        }
    }
}
