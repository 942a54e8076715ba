//! `AppState`: everything a handler may use, passed through axum's `State`.

use std::sync::Arc;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::fanout::{Bus, BusEvent, ConnId, Hub, PushFrame};
use crate::metrics::Metrics;
use crate::ratelimit::{Action, RateLimiter};
use crate::typing::Typing;

/// Number of per-room write locks (rooms hash onto them).
const ROOM_LOCKS: usize = 512;

/// Shared server state; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The configuration it started with.
    pub config: Config,
    /// The database.
    pub db: Db,
    /// Where uploaded files live.
    pub files: crate::files::storage::FileStorage,
    /// Tokens and passwords.
    pub auth: Auth,
    /// This node's live connections.
    pub hub: Arc<Hub>,
    /// Carries room events to hubs.
    pub bus: Bus,
    /// Rate limits.
    pub limiter: RateLimiter,
    /// Who is typing where.
    pub typing: Typing,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
    /// Connection tasks, awaited on shutdown.
    pub tasks: TaskTracker,
    /// Serialise "commit then publish" per room, so pushes leave in seq order.
    room_locks: Vec<tokio::sync::Mutex<()>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Assembles the state.
    pub fn new(
        config: Config,
        db: Db,
        files: crate::files::storage::FileStorage,
        auth: Auth,
        node_id: u32,
    ) -> Self {
        let hub = Arc::new(Hub::new(node_id));
        let limiter = RateLimiter::new(crate::ratelimit::Limits::from_config(&config));
        AppState(Arc::new(Inner {
            files,
            bus: Bus::InProcess(hub.clone()),
            hub,
            limiter,
            typing: Typing::default(),
            metrics: Metrics::new(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            room_locks: (0..ROOM_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            config,
            db,
            auth,
        }))
    }

    /// The write lock of a room: held from the transaction that takes a seq
    /// until its push is published.
    pub async fn lock_room(&self, room_id: &str) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(room_id);
        self.room_locks[(h as usize) % ROOM_LOCKS].lock().await
    }

    /// Sends a push to `recipients`' connections (but `exclude`).
    pub fn push(
        &self,
        recipients: impl Into<Arc<[String]>>,
        exclude: Option<ConnId>,
        event: &str,
        data: &impl Serialize,
    ) {
        let frame = PushFrame::new(event, data);
        let n = self.bus.publish(BusEvent {
            recipients: recipients.into(),
            exclude,
            frame,
        });
        self.metrics.pushed(event, n);
    }

    /// Applies a rate limit, counting refusals.
    pub fn rate_limit(&self, key: &str, action: Action) -> AppResult<()> {
        self.limiter.check(key, action).map_err(|ms| {
            self.metrics.limited(action.as_str());
            AppError::rate_limited(action.as_str(), ms)
        })
    }
}
