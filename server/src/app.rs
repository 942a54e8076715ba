//! Building and running the server: `Application::build(config)`, `.port()`,
//! `.run_until_stopped(shutdown)`; and `router(state)` so tests run the real app.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::auth::Auth;
use crate::config::{Config, DatabaseKind, load_or_create_secret};
use crate::db::{Db, DbError};
use crate::state::AppState;
use crate::{files, http, typists, ws};

/// Largest JSON body of an HTTP request.
const MAX_JSON_BODY: usize = 64 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] DbError),
    /// DATA_DIR or the JWT secret file could not be used.
    #[error("cannot use DATA_DIR {path}: {source}")]
    DataDir {
        /// The folder.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file store could not be set up.
    #[error("cannot set up file storage: {0}")]
    Files(#[from] crate::files::storage::StorageError),
    /// REDIS_URL is not usable.
    #[error(transparent)]
    Redis(#[from] crate::cluster::BadRedisUrl),
    /// Web Push could not be set up (the VAPID key, the client).
    #[error("cannot set up web push: {0}")]
    Push(#[from] crate::push::PushSetupError),
    /// The HTTP client for link previews could not be set up.
    #[error("cannot set up link previews: {0}")]
    Previews(#[source] reqwest::Error),
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The routes.
pub fn router(state: AppState) -> Router {
    let cors = cors(&state.config);
    let upload_limit = usize::try_from(state.config.max_file_size)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    let api = Router::new()
        .route("/ws", get(ws::upgrade))
        .route("/api/auth/register", post(http::register))
        .route("/api/auth/login", post(http::login))
        .route("/api/auth/refresh", post(http::refresh))
        .route("/api/auth/logout", post(http::logout))
        .route("/api/users", get(http::users))
        .route("/api/push/vapid", get(http::vapid_key))
        .route("/api/server", get(http::server_info))
        .route(
            "/api/me",
            axum::routing::patch(crate::account::update).delete(crate::account::delete),
        )
        .route("/api/me/export", get(crate::account::export))
        .route("/api/me/devices", get(crate::account::devices))
        .route(
            "/api/me/devices/{device_id}",
            axum::routing::delete(crate::account::sign_out_device),
        )
        .route("/health/chat", get(http::health))
        .route("/metrics", get(http::metrics))
        .layer(RequestBodyLimitLayer::new(MAX_JSON_BODY));
    // Uploads stream with their own limit (MAX_FILE_SIZE plus multipart framing).
    let files = Router::new()
        .route("/api/files", post(files::upload))
        .route("/api/files/{file_id}", get(files::download))
        .route("/api/files/{file_id}/thumbnail", get(files::thumbnail))
        .layer(DefaultBodyLimit::max(upload_limit));
    let socket_io = crate::sio::layer(&state);
    // A body that goes quiet this long between chunks ends the request.
    let body_timeout = RequestBodyTimeoutLayer::new(state.config.http_body_timeout);
    api.merge(files)
        .fallback(http::fallback)
        .layer(axum::middleware::from_fn(http::refuse_nul))
        .layer(body_timeout)
        .layer(axum::middleware::from_fn(http::close_after_refusal))
        .with_state(state)
        .layer(socket_io)
        .layer(cors)
}

fn cors(config: &Config) -> CorsLayer {
    let origins = if config.allowed_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .allowed_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600))
}

/// A server ready to run: database open and migrated, port bound.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Opens the database (applying migrations), loads or creates the JWT
    /// secret, and binds the port (0 picks a free one).
    pub async fn build(config: Config) -> Result<Application, StartError> {
        let data_dir_err = |source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        };
        let url = config.database_url();
        if DatabaseKind::of(&url) == Some(DatabaseKind::Sqlite) {
            std::fs::create_dir_all(&config.data_dir).map_err(data_dir_err)?;
        }
        let secret = match &config.jwt_secret {
            Some(s) => s.as_bytes().to_vec(),
            None => load_or_create_secret(&config.data_dir).map_err(data_dir_err)?,
        };
        let db = Db::open(&url, config.database_max_connections).await?;
        let auth = Auth::new(&secret, config.jwt_expiration, config.refresh_expiration);
        let addr = format!("{}:{}", config.bind_address, config.socket_port);
        let listener = listen(&addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let node_id = config.node_id.unwrap_or_else(rand::random::<u32>);
        let files = crate::files::storage::FileStorage::from_config(&config, &db)?;
        tracing::info!(storage = files.name(), "file storage");
        let previews =
            crate::previews::Previews::new(&config.link_previews).map_err(StartError::Previews)?;
        let push_service =
            crate::push::WebPush::start(&db, &config.web_push, &config.data_dir).await?;
        let state = AppState::new(config, db, files, auth, previews, push_service, node_id)?;
        crate::push::spawn_worker(&state);
        crate::search_index::spawn(&state);
        crate::account::resume_unfinished_deletions(&state).await;
        if state.bus.cluster().is_some() {
            if state.db.kind == DatabaseKind::Sqlite {
                tracing::warn!(
                    "REDIS_URL is set with SQLite: other nodes cannot share this database; use PostgreSQL to run several nodes"
                );
            }
            tracing::info!(
                node = node_id,
                "cluster mode: Redis fan-out, shared presence and rate limits"
            );
        }
        Ok(Application { listener, state })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// The shared state (tests use it to inspect the server).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then closes every socket with 1001,
    /// lets in-flight requests finish, and closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let background = spawn_background(state.clone());
        let revocations = crate::revocations::spawn(&state);
        let cluster_tasks = match state.bus.cluster() {
            Some(c) => crate::cluster::tasks::spawn(state.clone(), c.clone()),
            None => Vec::new(),
        };
        let app = router(state.clone());
        let stop = state.shutdown.clone();
        let hub = state.hub.clone();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: closing sockets");
            hub.close_all(1001, "server shutting down");
            stop.cancel();
        };
        tracing::info!(port = self.port(), db = ?state.db.kind, "listening");
        let limits = crate::serve::ServeLimits {
            header_timeout: state.config.http_header_timeout,
            per_address: state.config.max_connections_per_address,
            trusted: state.config.trusted_proxies.clone(),
        };
        crate::serve::serve(self.listener, app, limits, signal).await?;
        state.tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not finish within 10 s");
        }
        background.abort();
        revocations.abort();
        for t in cluster_tasks {
            t.abort();
        }
        state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Periodic work: typing expiry (every 500 ms), rate-limit log cleanup
/// (every minute) and unattached uploads (every 10 minutes).
fn spawn_background(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let stopped = state.typing.expire();
            if !stopped.is_empty() {
                typists::announce_stopped(&state, stopped).await;
            }
            n += 1;
            if n.is_multiple_of(120) {
                state.limiter.sweep();
            }
            if n.is_multiple_of(1200) {
                match files::sweep_unattached(&state, state.config.upload_ttl).await {
                    Ok(0) => {}
                    Ok(k) => tracing::info!(removed = k, "removed unattached uploads"),
                    Err(e) => tracing::warn!(error = %e, "sweeping unattached uploads failed"),
                }
            }
        }
    })
}

/// Accept-queue length asked of the kernel (capped by `net.core.somaxconn`).
/// Tokio's default of 1024 overflows when thousands of clients reconnect at
/// once (a server restart, a network blip): the kernel then drops their SYNs
/// and each waits a whole retransmit timeout (1 s, then 3 s, ...) to retry.
const LISTEN_BACKLOG: u32 = 16 * 1024;

/// Binds `addr` (host:port, names resolved) with [`LISTEN_BACKLOG`].
async fn listen(addr: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}
