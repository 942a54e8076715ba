//! `AppState`: everything a handler may use, passed through axum's `State`.

use std::sync::Arc;

use leetchat_protocol::ServerPush;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::bus::{Bus, BusEvent};
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::fanout::{ConnId, Hub, PushFrame};
use crate::last_seen::LastSeenWriter;
use crate::metrics::Metrics;
use crate::ratelimit::{Action, RateLimiter};
use crate::typists::Typists;

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
    pub typing: Typists,
    /// Stores last-seen times, batched.
    pub last_seen: LastSeenWriter,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
    /// Connection tasks, awaited on shutdown.
    pub tasks: TaskTracker,
    /// Serialise "commit then publish" per room, so pushes leave in seq order.
    room_locks: Vec<tokio::sync::Mutex<()>>,
    /// Group commit of stream writes (see [`crate::committer`]).
    pub committer: crate::committer::Committer,
    /// Turns at the reads every (re)connecting client makes: see
    /// [`AppState::read_turn`].
    read_gate: tokio::sync::Semaphore,
    /// Turns at decoding an image: see [`AppState::image_turn`].
    pub image_gate: Arc<tokio::sync::Semaphore>,
    /// Link previews: the outbound client and its turns.
    pub previews: crate::previews::Previews,
    /// Web Push: the VAPID key, the outbound client, the worker's wake-up.
    pub push_service: crate::push::WebPush,
}

/// How long a connecting or syncing client may queue for its turn at the
/// database before it is told to retry.
pub const READ_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// A turn at the database for the reads of a connect or a `sync`.
    ///
    /// When thousands of clients come back at once (a server restart, a
    /// network blip), they would all wait on the connection pool, whose
    /// short timeout is meant to report a database that is down: most would
    /// be told to retry and come back again, and the retries are work too.
    /// Queued here instead (at most as many at a time as the pool has
    /// connections), each waits its turn, up to [`READ_QUEUE_WAIT`].
    pub async fn read_turn(&self) -> AppResult<tokio::sync::SemaphorePermit<'_>> {
        match tokio::time::timeout(READ_QUEUE_WAIT, self.read_gate.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError {
                retryable: true,
                ..AppError::new(
                    leetchat_protocol::ErrorCode::Internal,
                    "the server is busy; nothing was saved, retry shortly",
                )
            }),
        }
    }

    /// A turn at decoding an image: at most `IMAGE_DECODES` at once on this
    /// node, each within `IMAGE_DECODE_MAX_BYTES`, so uploads cannot take
    /// more memory than that together. Waits up to [`READ_QUEUE_WAIT`]. The
    /// turn is owned, to be moved into the decoding task: a client that hangs
    /// up does not end the decode, so it must not end the turn either.
    pub async fn image_turn(&self) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
        let gate = self.image_gate.clone();
        match tokio::time::timeout(READ_QUEUE_WAIT, gate.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError {
                retryable: true,
                ..AppError::new(
                    leetchat_protocol::ErrorCode::Internal,
                    "the server is busy with other images; nothing was saved, retry shortly",
                )
            }),
        }
    }

    /// Assembles the state.
    pub fn new(
        config: Config,
        db: Db,
        files: crate::files::storage::FileStorage,
        auth: Auth,
        previews: crate::previews::Previews,
        push_service: crate::push::WebPush,
        node_id: u32,
    ) -> Result<Self, crate::cluster::BadRedisUrl> {
        let hub = Arc::new(Hub::new(node_id));
        let limiter = RateLimiter::new(config.rate_limits);
        let bus = match config.redis_url() {
            Some(url) => Bus::Redis(crate::cluster::Cluster::new(
                &url,
                &config.redis_prefix,
                node_id,
                hub.clone(),
                config.cluster_heartbeat,
            )?),
            None => Bus::InProcess(hub.clone()),
        };
        Ok(AppState(Arc::new(Inner {
            files,
            bus,
            hub,
            limiter,
            typing: Typists::default(),
            last_seen: LastSeenWriter::start(db.clone()),
            metrics: Metrics::new(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            committer: crate::committer::Committer::new(db.kind, config.database_max_connections),
            room_locks: (0..ROOM_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            read_gate: tokio::sync::Semaphore::new(config.database_max_connections.max(1) as usize),
            image_gate: Arc::new(tokio::sync::Semaphore::new(
                config.image_decodes.max(1) as usize
            )),
            previews,
            push_service,
            config,
            db,
            auth,
        })))
    }

    /// The write lock of a room: held from the transaction that takes a seq
    /// until its push is published.
    pub async fn lock_room(&self, room_id: &str) -> tokio::sync::MutexGuard<'_, ()> {
        self.room_lock_at(self.room_lock_index(room_id))
            .lock()
            .await
    }

    /// Which of the room locks is `room_id`'s (rooms hash onto them).
    pub fn room_lock_index(&self, room_id: &str) -> usize {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(room_id);
        (h as usize) % ROOM_LOCKS
    }

    /// Room lock number `i` ([`AppState::room_lock_index`]).
    pub fn room_lock_at(&self, i: usize) -> &tokio::sync::Mutex<()> {
        &self.room_locks[i % ROOM_LOCKS]
    }

    /// A handle that does not keep the state alive (for background tasks
    /// that should end with it).
    pub fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.0)
    }

    /// The state again from [`AppState::downgrade`]'s handle, unless it is gone.
    pub fn upgrade(weak: &std::sync::Weak<Inner>) -> Option<AppState> {
        weak.upgrade().map(AppState)
    }

    /// Sends a push to `recipients`' connections (but `exclude`). Room
    /// events, which take a seq, go through [`crate::stream`] instead.
    pub fn push(
        &self,
        recipients: impl Into<Arc<[String]>>,
        exclude: Option<ConnId>,
        push: &ServerPush,
    ) {
        self.publish(recipients.into(), exclude, PushFrame::of(push));
    }

    /// Hands a serialised push to the bus, counting it.
    pub(crate) fn publish(
        &self,
        recipients: Arc<[String]>,
        exclude: Option<ConnId>,
        frame: PushFrame,
    ) {
        let event = frame.event.clone();
        let n = self.bus.publish(BusEvent {
            recipients,
            exclude,
            frame,
        });
        self.metrics.pushed(&event, n);
    }

    /// Closes every socket of one device, on every node.
    pub fn close_device(&self, user_id: &str, device_id: &str, code: u16, reason: &str) {
        self.hub.close_device(user_id, device_id, code, reason);
        self.bus
            .close_device_elsewhere(user_id, device_id, code, reason);
    }

    /// Applies a rate limit, counting refusals. With a cluster the limit is
    /// shared by every node (in Redis); while Redis is down each node applies
    /// it alone.
    pub async fn rate_limit(&self, key: &str, action: Action) -> AppResult<()> {
        let shared = self
            .bus
            .shared_rate_limit(action.as_str(), key, self.limiter.limit_of(action))
            .await;
        let verdict = match shared {
            Some(v) => v,
            None => self.limiter.check(key, action),
        };
        verdict.map_err(|ms| {
            self.metrics.limited(action.as_str());
            AppError::rate_limited(action.as_str(), ms)
        })
    }
}
