//! Test harness: a real `leetchat-server` on a free port with its own fresh
//! database (a temporary SQLite file, or a new PostgreSQL database dropped at
//! the end), plus HTTP and WebSocket clients that speak the wire protocol.

use std::time::Duration;

use leetchat_server::{
    Application, Config,
    config::{RateLimit, RateLimits},
};
use serde_json::{Value, json};
use tokio::sync::oneshot;

mod clients;
pub mod push_service;
pub use clients::*;

/// A valid P-256 point (the curve's generator), base64url: a subscription
/// key for tests that do not decrypt.
pub const P256_POINT: &str =
    "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";

/// How long a test waits for an expected frame.
pub const WAIT: Duration = Duration::from_secs(5);

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
    /// Three nodes on one fresh PostgreSQL database and one Redis, with
    /// nginx in front; clients take turns between the nodes and nginx.
    Cluster,
}

/// Nodes in the multi-node layout.
pub const CLUSTER_NODES: usize = 3;

/// One running node.
struct NodeRun {
    port: u16,
    state: leetchat_server::state::AppState,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// The PostgreSQL server tests create their databases on.
pub fn pg_admin_url() -> String {
    std::env::var("LEETCHAT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database, dropped when this guard goes away.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create() -> PgDatabase {
        use sqlx::Connection;
        let admin = pg_admin_url();
        let name = format!("leetchat_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {admin} ({e}). The suite needs it: \
                 start it (see README, `.ci/run` does) or set LEETCHAT_TEST_PG."
                )
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(b, _)| b)
            .to_owned();
        PgDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async context: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut c)
                                .await;
                    }
                });
            }
        })
        .join();
    }
}

/// A running server.
pub struct TestApp {
    #[allow(dead_code)]
    pub backend: Backend,
    pub port: u16,
    pub http: reqwest::Client,
    pub state: leetchat_server::state::AppState,
    config: Config,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// Nodes 2 and 3 in the multi-node layout.
    others: Vec<NodeRun>,
    nginx: Option<crate::cluster_env::Nginx>,
    turn: std::sync::atomic::AtomicUsize,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// A test configuration: loopback, free port, generous limits so tests that
/// are not about limits never hit them.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut c = Config::defaults();
    c.socket_port = 0;
    c.bind_address = "127.0.0.1".into();
    c.data_dir = dir.to_path_buf();
    c.database_url = None;
    c.jwt_secret = Some("test-secret-test-secret-test-secret-0123456789".into());
    c.jwt_expiration = Duration::from_secs(900);
    c.allowed_origins = vec!["http://localhost:3000".into()];
    c.rate_limits = RateLimits::all(RateLimit::new(10_000, 60));
    // Load tests open hundreds of sockets from 127.0.0.1 (slow.rs tests the cap).
    c.max_connections_per_address = 0;
    // Push endpoints on this machine (the tests' receivers) are allowed.
    c.web_push.allow_http_hosts = vec!["127.0.0.1".into()];
    c.database_max_connections = 8;
    c
}

impl TestApp {
    /// A server on `backend` with the test configuration.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A server on `backend` with the test configuration changed by `tweak`.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path());
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres | Backend::Cluster => {
                let db = PgDatabase::create().await;
                config.database_url = Some(db.url.clone());
                Some(db)
            }
        };
        if backend == Backend::Cluster {
            config.redis_url = Some(crate::cluster_env::shared_redis());
            config.redis_prefix = format!("lctest{}", uuid::Uuid::new_v4().simple());
            config.cluster_heartbeat = Duration::from_millis(500);
            // As deployed: nginx in front, its X-Forwarded-For trusted.
            config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a block")];
        }
        tweak(&mut config);
        let (port, state, stop, server) = Self::start(config.clone()).await;
        let mut others = Vec::new();
        let mut nginx = None;
        if backend == Backend::Cluster {
            for _ in 1..CLUSTER_NODES {
                let (port, state, stop, server) = Self::start(config.clone()).await;
                others.push(NodeRun {
                    port,
                    state,
                    stop: Some(stop),
                    server: Some(server),
                });
            }
            let mut ports = vec![port];
            ports.extend(others.iter().map(|n| n.port));
            nginx = Some(crate::cluster_env::Nginx::start(&ports));
            wait_until_clustered(&state).await;
            for n in &others {
                wait_until_clustered(&n.state).await;
            }
        }
        TestApp {
            backend,
            port,
            http: reqwest::Client::new(),
            state,
            config,
            stop: Some(stop),
            server: Some(server),
            others,
            nginx,
            turn: std::sync::atomic::AtomicUsize::new(0),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Every node's state (one, or three in the multi-node layout).
    #[allow(dead_code)]
    pub fn states(&self) -> Vec<leetchat_server::state::AppState> {
        let mut v = vec![self.state.clone()];
        v.extend(self.others.iter().map(|n| n.state.clone()));
        v
    }

    /// The port the next client uses: the node, or in the multi-node layout
    /// each node and nginx in turn.
    fn entry_port(&self) -> u16 {
        if self.others.is_empty() {
            return self.port;
        }
        let mut ports = vec![self.port];
        ports.extend(self.others.iter().map(|n| n.port));
        ports.extend(self.nginx.as_ref().map(|n| n.port));
        let i = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ports[i % ports.len()]
    }

    #[allow(clippy::type_complexity)]
    async fn start(
        config: Config,
    ) -> (
        u16,
        leetchat_server::state::AppState,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let app = Application::build(config).await.expect("server starts");
        let port = app.port();
        let state = app.state();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        (port, state, tx, server)
    }

    /// Stops the server (every node) gracefully and starts it again on the
    /// same data (same ports when `same_port`, so clients can reconnect to
    /// the same URLs; nginx keeps running in front).
    pub async fn restart(&mut self, same_port: bool) {
        self.stop().await;
        let mut config = self.config.clone();
        if same_port {
            config.socket_port = self.port;
        }
        let (port, state, stop, server) = Self::start(config.clone()).await;
        self.port = port;
        self.state = state;
        self.stop = Some(stop);
        self.server = Some(server);
        for n in &mut self.others {
            let mut c = config.clone();
            c.socket_port = if same_port { n.port } else { 0 };
            let (port, state, stop, server) = Self::start(c).await;
            *n = NodeRun {
                port,
                state,
                stop: Some(stop),
                server: Some(server),
            };
        }
        if !same_port && self.nginx.is_some() {
            let mut ports = vec![self.port];
            ports.extend(self.others.iter().map(|n| n.port));
            self.nginx = Some(crate::cluster_env::Nginx::start(&ports));
        }
    }

    /// Stops the server (every node) gracefully and waits for it.
    pub async fn stop(&mut self) {
        let mut stops = vec![(self.stop.take(), self.server.take())];
        for n in &mut self.others {
            stops.push((n.stop.take(), n.server.take()));
        }
        for (tx, _) in &mut stops {
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
        }
        for (_, h) in stops {
            if let Some(h) = h {
                let _ = tokio::time::timeout(Duration::from_secs(15), h).await;
            }
        }
    }

    /// Drops this test's PostgreSQL database under the running server.
    pub async fn drop_postgres_database(&self) {
        use sqlx::Connection;
        let pg = self._pg.as_ref().expect("a PostgreSQL test");
        let mut c = sqlx::PgConnection::connect(&pg_admin_url())
            .await
            .expect("admin connection");
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", pg.name))
            .execute(&mut c)
            .await
            .expect("drop database");
    }

    /// `path` on every node (not through nginx).
    pub fn node_urls(&self, path: &str) -> Vec<String> {
        let mut ports = vec![self.port];
        ports.extend(self.others.iter().map(|n| n.port));
        ports
            .into_iter()
            .map(|p| format!("http://127.0.0.1:{p}{path}"))
            .collect()
    }

    /// Every node's `/metrics` text (one per node, not through nginx).
    pub async fn node_metrics(&self) -> Vec<String> {
        let mut out = Vec::new();
        for url in self.node_urls("/metrics") {
            let resp = self.http.get(url).send().await.expect("metrics");
            out.push(resp.text().await.expect("metrics text"));
        }
        out
    }

    /// Open sockets over every node, as their `/health/chat` reports.
    pub async fn connections(&self) -> u64 {
        let mut n = 0;
        for url in self.node_urls("/health/chat") {
            let h: Value = self
                .http
                .get(url)
                .send()
                .await
                .expect("health")
                .json()
                .await
                .expect("json");
            n += h["connections"].as_u64().expect("connections");
        }
        n
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.entry_port())
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.entry_port())
    }

    /// POSTs JSON, returning status and body.
    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("http request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POSTs JSON from another loopback address (127.0.0.2, ...: per-address
    /// limits see a different client), with extra headers.
    pub async fn post_from(
        &self,
        from: std::net::IpAddr,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let client = reqwest::Client::builder()
            .local_address(from)
            .build()
            .expect("an http client");
        let mut req = client.post(self.url(path)).json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("http request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// GETs, returning status and body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("http request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Registers `name` (password `password-<name>`), panicking on failure.
    pub async fn register(&self, name: &str) -> TestUser {
        let (status, body) = self
            .post(
                "/api/auth/register",
                &json!({"userName": name, "password": format!("password-{name}")}),
                None,
            )
            .await;
        assert_eq!(status, 201, "register {name}: {body}");
        TestUser::from_auth(name, &body)
    }

    /// One socket of `user` on every node (one unless it is a cluster),
    /// each straight to its node.
    pub async fn sockets_on_every_node(&self, user: &TestUser) -> Vec<WsClient> {
        let mut out = Vec::new();
        for url in self.node_urls("/ws") {
            let url = url.replacen("http://", "ws://", 1);
            out.push(WsClient::connect_url(&url, &user.access_token).await);
        }
        out
    }

    /// The database URL the nodes use (what `leetchat-server admin` is given).
    pub fn database_url(&self) -> String {
        self.config.database_url()
    }

    /// Runs `leetchat-server admin ARGS` (the built binary) on this
    /// server's database, `stdin` as its standard input: (exit code,
    /// standard output, standard error).
    pub async fn admin(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        use tokio::io::AsyncWriteExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_leetchat-server"))
            .arg("admin")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", self.database_url())
            .env("DATA_DIR", &self.config.data_dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("leetchat-server runs");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(stdin.as_bytes())
            .await
            .expect("stdin written");
        drop(input);
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("the admin command ends within 60 s")
            .expect("the admin command's output");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Signs `user` in again: a new device with its own tokens.
    pub async fn login(&self, name: &str) -> TestUser {
        let (status, body) = self
            .post(
                "/api/auth/login",
                &json!({"userName": name, "password": format!("password-{name}")}),
                None,
            )
            .await;
        assert_eq!(status, 200, "login {name}: {body}");
        TestUser::from_auth(name, &body)
    }

    /// Opens an authenticated socket for `user` (bearer header).
    pub async fn connect(&self, user: &TestUser) -> WsClient {
        WsClient::connect(self, Some(&user.access_token))
            .await
            .expect("socket connects and authenticates")
    }

    /// Registers the users and connects each.
    pub async fn users(&self, names: &[&str]) -> Vec<(TestUser, WsClient)> {
        let mut out = Vec::new();
        for n in names {
            let u = self.register(n).await;
            let c = self.connect(&u).await;
            out.push((u, c));
        }
        out
    }
}

/// Waits until a node has joined the cluster (Redis reachable, subscribed).
async fn wait_until_clustered(state: &leetchat_server::state::AppState) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !state
        .bus
        .cluster()
        .is_some_and(|c| c.is_up() && c.is_subscribed())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a node did not reach Redis within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
