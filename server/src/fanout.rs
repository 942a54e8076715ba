//! Who is connected here, and getting each push to them.
//!
//! [`Hub`] is this node's connection registry: user → live connections, each
//! with a bounded outbound queue. [`crate::bus::Bus`] carries events to the
//! hubs that hold recipients' connections: in the embedded setup it hands
//! them straight to the local hub.
//!
//! A push is serialised once ([`PushFrame`]) and the same bytes are queued on
//! every recipient's connection. A connection whose queue is full is too slow
//! to keep up: it is closed (and will resume through `sync`) rather than
//! silently missing events or making everyone else wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Identifies one connection across the cluster (node bits + counter).
pub type ConnId = u64;

/// Capacity of a connection's outbound queue, in frames.
pub const OUTBOUND_QUEUE: usize = 1024;

/// Close code for a connection that could not keep up with its pushes.
pub const CLOSE_TOO_SLOW: u16 = 4008;

/// Close code of a device's oldest socket when it opens more than
/// `MAX_SOCKETS_PER_DEVICE` on one node.
pub const CLOSE_TOO_MANY_SOCKETS: u16 = 4429;

/// Where a room event sits in its room's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPos {
    /// The room.
    pub room: Arc<str>,
    /// The event's seq in it.
    pub seq: i64,
}

/// A push serialised once, shared by all recipients: a cheap handle (one
/// reference count per recipient, one word in each connection's queue).
#[derive(Debug, Clone)]
pub struct PushFrame(Arc<PushParts>);

/// What a [`PushFrame`] holds.
#[derive(Debug, Clone)]
pub struct PushParts {
    /// The event name (for metrics and non-native transports).
    pub event: Arc<str>,
    /// The whole native frame: `{"event": ..., "data": ...}`.
    pub text: Utf8Bytes,
    /// Set for room events that take a seq: connections deliver those in seq
    /// order (see [`crate::sequencer`]).
    pub stream: Option<StreamPos>,
}

impl std::ops::Deref for PushFrame {
    type Target = PushParts;
    fn deref(&self) -> &PushParts {
        &self.0
    }
}

impl From<PushParts> for PushFrame {
    fn from(p: PushParts) -> Self {
        PushFrame(Arc::new(p))
    }
}

impl PushFrame {
    /// Serialises `{"event": event, "data": data}`.
    pub fn new(event: &str, data: &impl Serialize) -> Self {
        #[derive(Serialize)]
        struct Frame<'a, T> {
            event: &'a str,
            data: &'a T,
        }
        let text = serde_json::to_string(&Frame { event, data })
            .unwrap_or_else(|_| format!(r#"{{"event":"{event}","data":{{}}}}"#));
        PushParts {
            event: event.into(),
            text: text.into(),
            stream: None,
        }
        .into()
    }

    /// Serialises a typed push (the native frame `{"event", "data"}`).
    pub fn of(push: &leetchat_protocol::ServerPush) -> Self {
        let text = serde_json::to_string(push)
            .unwrap_or_else(|_| format!(r#"{{"event":"{}","data":{{}}}}"#, push.event()));
        PushParts {
            event: push.event().into(),
            text: text.into(),
            stream: None,
        }
        .into()
    }

    /// Marks the push as the room event `seq` of `room`.
    pub fn in_stream(mut self, room: &str, seq: i64) -> Self {
        Arc::make_mut(&mut self.0).stream = Some(StreamPos {
            room: room.into(),
            seq,
        });
        self
    }
}

/// What a connection's writer is asked to send.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A push.
    Push(PushFrame),
    /// An ack or error frame for this connection only.
    Reply(Utf8Bytes),
    /// Close the socket with this code and reason.
    Close(u16, String),
    /// A room event this connection caused (it gets the ack, not the push):
    /// its seq counts as delivered, so later events are not held back for it.
    Skip(StreamPos),
    /// Where the connection's streams start: each room's seq when it
    /// connected (its first events are expected right after these).
    Seed(Vec<StreamPos>),
}

/// A live connection as the hub sees it.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    /// Cluster-unique id.
    pub conn_id: ConnId,
    /// Its device.
    pub device_id: String,
    /// Its outbound queue.
    pub tx: mpsc::Sender<Outbound>,
    /// Cancelled to drop the connection at once.
    pub kill: CancellationToken,
}

/// This node's registry of live connections.
#[derive(Debug)]
pub struct Hub {
    conns: DashMap<String, Vec<ConnHandle>>,
    next_conn: AtomicU64,
    node_bits: u64,
    total: AtomicU64,
}

impl Hub {
    /// An empty hub whose connection ids carry `node_id` in their top bits.
    pub fn new(node_id: u32) -> Self {
        Hub {
            conns: DashMap::new(),
            next_conn: AtomicU64::new(1),
            node_bits: u64::from(node_id) << 32,
            total: AtomicU64::new(0),
        }
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> ConnId {
        self.node_bits | (self.next_conn.fetch_add(1, Ordering::Relaxed) & 0xFFFF_FFFF)
    }

    /// Adds a connection; `true` when it is the user's first on this node.
    pub fn register(&self, user_id: &str, handle: ConnHandle) -> bool {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut entry = self.conns.entry(user_id.to_owned()).or_default();
        entry.push(handle);
        entry.len() == 1
    }

    /// Removes a connection; `true` when the user has none left on this node.
    pub fn unregister(&self, user_id: &str, conn_id: ConnId) -> bool {
        let mut last = false;
        let mut removed = false;
        if let Some(mut entry) = self.conns.get_mut(user_id) {
            let before = entry.len();
            entry.retain(|c| c.conn_id != conn_id);
            removed = entry.len() < before;
            last = entry.is_empty();
        }
        if removed {
            self.total.fetch_sub(1, Ordering::Relaxed);
        }
        if last {
            self.conns.remove_if(user_id, |_, v| v.is_empty());
        }
        removed && last
    }

    /// How many connections the user has on this node.
    pub fn count_of(&self, user_id: &str) -> usize {
        self.conns.get(user_id).map_or(0, |v| v.len())
    }

    /// How many connections one device of the user has on this node.
    pub fn device_count(&self, user_id: &str, device_id: &str) -> usize {
        self.conns
            .get(user_id)
            .map_or(0, |v| v.iter().filter(|c| c.device_id == device_id).count())
    }

    /// Devices with a connection on this node.
    pub fn devices(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .conns
            .iter()
            .flat_map(|e| {
                e.value()
                    .iter()
                    .map(|c| c.device_id.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The devices of the user with a connection on this node.
    pub fn devices_of(&self, user_id: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .conns
            .get(user_id)
            .map(|v| v.iter().map(|c| c.device_id.clone()).collect())
            .unwrap_or_default();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the user has a connection on this node.
    pub fn is_connected(&self, user_id: &str) -> bool {
        self.conns.get(user_id).is_some_and(|v| !v.is_empty())
    }

    /// Users with a connection on this node.
    pub fn users(&self) -> Vec<String> {
        self.conns
            .iter()
            .filter(|e| !e.value().is_empty())
            .map(|e| e.key().clone())
            .collect()
    }

    /// Open connections on this node.
    pub fn connection_count(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Queues `frame` on every connection of every recipient but `exclude`.
    /// Returns how many connections it was queued on.
    pub fn deliver(
        &self,
        recipients: &[String],
        exclude: Option<ConnId>,
        frame: &PushFrame,
    ) -> u64 {
        let mut n = 0;
        for user in recipients {
            let Some(conns) = self.conns.get(user) else {
                continue;
            };
            for c in conns.iter() {
                let out = if Some(c.conn_id) == exclude {
                    match &frame.stream {
                        Some(pos) => Outbound::Skip(pos.clone()),
                        None => continue,
                    }
                } else {
                    Outbound::Push(frame.clone())
                };
                let counts = matches!(out, Outbound::Push(_));
                match c.tx.try_send(out) {
                    Ok(()) => n += u64::from(counts),
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        tracing::warn!(
                            conn = c.conn_id,
                            "outbound queue full; dropping slow connection"
                        );
                        c.kill.cancel();
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
        n
    }

    /// Keeps at most `max` connections of one device: the oldest others are
    /// closed with [`CLOSE_TOO_MANY_SOCKETS`]. Returns how many were.
    pub fn trim_device(&self, user_id: &str, device_id: &str, max: usize) -> usize {
        let Some(conns) = self.conns.get(user_id) else {
            return 0;
        };
        let of_device: Vec<&ConnHandle> =
            conns.iter().filter(|c| c.device_id == device_id).collect();
        let extra = of_device.len().saturating_sub(max);
        // Registration order: the first are the oldest.
        for c in of_device.iter().take(extra) {
            if c.tx
                .try_send(Outbound::Close(
                    CLOSE_TOO_MANY_SOCKETS,
                    "too many connections from this device".to_owned(),
                ))
                .is_err()
            {
                c.kill.cancel();
            }
        }
        extra
    }

    /// Closes every connection of one device (after logout or revocation).
    pub fn close_device(&self, user_id: &str, device_id: &str, code: u16, reason: &str) {
        if let Some(conns) = self.conns.get(user_id) {
            for c in conns.iter().filter(|c| c.device_id == device_id) {
                if c.tx
                    .try_send(Outbound::Close(code, reason.to_owned()))
                    .is_err()
                {
                    c.kill.cancel();
                }
            }
        }
    }

    /// Closes every connection (graceful shutdown).
    pub fn close_all(&self, code: u16, reason: &str) {
        for entry in self.conns.iter() {
            for c in entry.value() {
                if c.tx
                    .try_send(Outbound::Close(code, reason.to_owned()))
                    .is_err()
                {
                    c.kill.cancel();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(hub: &Hub, cap: usize) -> (ConnHandle, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(cap);
        (
            ConnHandle {
                conn_id: hub.next_conn_id(),
                device_id: "d".into(),
                tx,
                kill: CancellationToken::new(),
            },
            rx,
        )
    }

    #[test]
    fn delivery_skips_the_causing_connection_and_reaches_other_devices() {
        let hub = Hub::new(7);
        let (a1, mut r1) = conn(&hub, 4);
        let (a2, mut r2) = conn(&hub, 4);
        assert!(hub.register("alice", a1.clone()));
        assert!(!hub.register("alice", a2));
        let f = PushFrame::new("x", &serde_json::json!({}));
        assert_eq!(hub.deliver(&["alice".into()], Some(a1.conn_id), &f), 1);
        assert!(r1.try_recv().is_err());
        assert!(matches!(r2.try_recv(), Ok(Outbound::Push(_))));
        let s = PushFrame::new("x", &1).in_stream("room", 4);
        assert_eq!(hub.deliver(&["alice".into()], Some(a1.conn_id), &s), 1);
        assert!(
            matches!(r1.try_recv(), Ok(Outbound::Skip(p)) if p.seq == 4),
            "the causing connection learns the seq was used"
        );
        assert_eq!(a1.conn_id >> 32, 7);
    }

    #[test]
    fn a_full_queue_kills_the_slow_connection() {
        let hub = Hub::new(1);
        let (c, _rx) = conn(&hub, 1);
        hub.register("bob", c.clone());
        let f = PushFrame::new("x", &1);
        hub.deliver(&["bob".into()], None, &f);
        assert!(!c.kill.is_cancelled());
        hub.deliver(&["bob".into()], None, &f);
        assert!(c.kill.is_cancelled());
    }

    #[test]
    fn unregister_reports_the_last_connection() {
        let hub = Hub::new(1);
        let (c1, _r1) = conn(&hub, 1);
        let (c2, _r2) = conn(&hub, 1);
        hub.register("u", c1.clone());
        hub.register("u", c2.clone());
        assert!(!hub.unregister("u", c1.conn_id));
        assert!(hub.unregister("u", c2.conn_id));
        assert!(!hub.unregister("u", c2.conn_id));
        assert_eq!(hub.connection_count(), 0);
    }
}
