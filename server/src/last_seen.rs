//! Last-seen times, stored in batches.
//!
//! Every user whose last device goes away has their last seen stored before
//! anyone sees them offline. Written one by one, a reconnect storm (a network
//! blip, a load balancer restart) costs one commit, and on SQLite one fsync,
//! per user, all queued on the single writer ahead of the messages people
//! are sending. Here every time that arrives while a batch is being written
//! joins the next batch: a thousand disconnects cost a handful of commits.

use std::collections::BTreeMap;

use tokio::sync::{mpsc, oneshot};

use crate::db::{self, Db};

/// Most last-seen times one transaction stores.
const MAX_BATCH: usize = 1000;

/// One time to store, and who waits for it.
struct Pending {
    user_id: String,
    at_ms: i64,
    done: oneshot::Sender<()>,
}

/// The handle of the task that stores last-seen times.
#[derive(Debug, Clone)]
pub struct LastSeenWriter {
    tx: mpsc::UnboundedSender<Pending>,
}

impl LastSeenWriter {
    /// Starts the writing task on `db` (it ends when every handle is gone).
    pub fn start(db: Db) -> LastSeenWriter {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(db, rx));
        LastSeenWriter { tx }
    }

    /// Stores each user's last seen as `at_ms`; returns once they are stored
    /// (or could not be: that is logged, and presence goes on without it).
    /// Times handed over together go in the same batch.
    pub async fn record<'a>(&self, user_ids: impl IntoIterator<Item = &'a str>, at_ms: i64) {
        let mut waiting = Vec::new();
        for user_id in user_ids {
            let (done, stored) = oneshot::channel();
            let p = Pending {
                user_id: user_id.to_owned(),
                at_ms,
                done,
            };
            if self.tx.send(p).is_err() {
                return;
            }
            waiting.push(stored);
        }
        for stored in waiting {
            let _ = stored.await;
        }
    }
}

async fn run(db: Db, mut rx: mpsc::UnboundedReceiver<Pending>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // The newest time per user, in user order: concurrent batches of
        // several nodes then lock rows in the same order (no deadlock).
        let mut latest: BTreeMap<&str, i64> = BTreeMap::new();
        for p in &batch {
            let t = latest.entry(p.user_id.as_str()).or_insert(p.at_ms);
            *t = (*t).max(p.at_ms);
        }
        let rows: Vec<(&str, i64)> = latest.into_iter().collect();
        if let Err(e) = db::users::set_last_seen_many(&db, &rows).await {
            tracing::warn!(error = %e, users = rows.len(), "cannot store last seen");
        }
        for p in batch.drain(..) {
            let _ = p.done.send(());
        }
    }
}
