//! Test harness: a real `leetchat-server` on a free port with its own fresh
//! database (a temporary SQLite file, or a new PostgreSQL database dropped at
//! the end), plus HTTP and WebSocket clients that speak the wire protocol.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use leetchat_server::{Application, Config, config::RateLimit};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

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
    c.rate_limit_message = RateLimit::new(10_000, 60);
    c.rate_limit_file = RateLimit::new(10_000, 60);
    c.rate_limit_room_create = RateLimit::new(10_000, 60);
    c.rate_limit_typing = RateLimit::new(10_000, 60);
    c.rate_limit_auth = RateLimit::new(10_000, 60);
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

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub user_id: String,
    pub user_name: String,
    pub access_token: String,
    pub refresh_token: String,
    pub device_id: String,
}

impl TestUser {
    pub fn from_auth(name: &str, body: &Value) -> TestUser {
        TestUser {
            user_id: body["user"]["userId"].as_str().expect("userId").to_owned(),
            user_name: name.to_owned(),
            access_token: body["accessToken"]
                .as_str()
                .expect("accessToken")
                .to_owned(),
            refresh_token: body["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .to_owned(),
            device_id: body["deviceId"].as_str().expect("deviceId").to_owned(),
        }
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What ended a socket, as the client saw it.
#[derive(Debug)]
pub enum Closed {
    /// A close frame with this code and reason.
    Frame(u16, String),
    /// The connection ended without a close frame.
    Eof,
}

/// A WebSocket client speaking the contract: requests with ids, acks matched
/// to them, pushes buffered until a test asks for them.
pub struct WsClient {
    ws: Socket,
    next_id: u64,
    pushes: VecDeque<Value>,
    pub user_id: String,
}

/// An error ack: `{code, message, retryAfterMs?}`.
pub type WireError = Value;

impl WsClient {
    /// Connects with an optional bearer token and waits for `connection.authenticated`.
    pub async fn connect(app: &TestApp, token: Option<&str>) -> Result<WsClient, Closed> {
        let mut ws = Self::open(app, token, None).await;
        if token.is_none() {
            return Ok(WsClient {
                ws,
                next_id: 1,
                pushes: VecDeque::new(),
                user_id: String::new(),
            });
        }
        let first = next_message(&mut ws).await;
        match first {
            Ok(v) if v["event"] == "connection.authenticated" => Ok(WsClient {
                user_id: v["data"]["userId"].as_str().unwrap_or_default().to_owned(),
                ws,
                next_id: 1,
                pushes: VecDeque::new(),
            }),
            Ok(v) => panic!("expected connection.authenticated, got {v}"),
            Err(c) => Err(c),
        }
    }

    /// Opens a raw socket (no waiting), with optional bearer and Origin.
    pub async fn open(app: &TestApp, token: Option<&str>, origin: Option<&str>) -> Socket {
        Self::open_url(&app.ws_url(), token, origin).await
    }

    /// Connects to the socket at `url` with a bearer token and waits for
    /// `connection.authenticated`.
    #[allow(dead_code)]
    pub async fn connect_url(url: &str, token: &str) -> WsClient {
        let mut ws = Self::open_url(url, Some(token), None).await;
        match next_message(&mut ws).await {
            Ok(v) if v["event"] == "connection.authenticated" => WsClient {
                user_id: v["data"]["userId"].as_str().unwrap_or_default().to_owned(),
                ws,
                next_id: 1,
                pushes: VecDeque::new(),
            },
            other => panic!("expected connection.authenticated, got {other:?}"),
        }
    }

    /// Opens a raw socket at `url` (no waiting), with optional bearer and Origin.
    pub async fn open_url(url: &str, token: Option<&str>, origin: Option<&str>) -> Socket {
        let mut req = url.into_client_request().expect("request");
        if let Some(t) = token {
            req.headers_mut().insert(
                "authorization",
                format!("Bearer {t}").parse().expect("header"),
            );
        }
        if let Some(o) = origin {
            req.headers_mut()
                .insert("origin", o.parse().expect("header"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("upgrade");
        ws
    }

    /// Wraps an already-authenticated raw socket.
    pub fn from_socket(ws: Socket, user_id: &str) -> WsClient {
        WsClient {
            ws,
            next_id: 1,
            pushes: VecDeque::new(),
            user_id: user_id.to_owned(),
        }
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send frame");
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .expect("send frame");
    }

    /// Sends a request and waits for its ack: `Ok(data)` or `Err(error)`.
    pub async fn request(&mut self, event: &str, data: Value) -> Result<Value, WireError> {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"id": id, "event": event, "data": data});
        self.send_text(&frame.to_string()).await;
        self.wait_ack(json!(id)).await
    }

    /// Sends a request that must succeed.
    pub async fn ok(&mut self, event: &str, data: Value) -> Value {
        match self.request(event, data.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{event} {data} failed: {e}"),
        }
    }

    /// Sends a request that must fail with `code`; returns the error.
    pub async fn fails(&mut self, event: &str, data: Value, code: &str) -> Value {
        match self.request(event, data.clone()).await {
            Ok(v) => panic!("{event} {data} should fail with {code}, got {v}"),
            Err(e) => {
                assert_eq!(e["code"], code, "{event} {data}: {e}");
                e
            }
        }
    }

    /// Waits for the ack with this id, buffering pushes.
    pub async fn wait_ack(&mut self, id: Value) -> Result<Value, WireError> {
        loop {
            let v = self.read().await;
            if v.get("ack") == Some(&id) {
                return if v["ok"] == true {
                    Ok(v["data"].clone())
                } else {
                    Err(v["error"].clone())
                };
            }
            if v.get("ack").is_some() {
                panic!("unexpected ack {v} while waiting for {id}");
            }
            self.pushes.push_back(v);
        }
    }

    async fn read(&mut self) -> Value {
        match tokio::time::timeout(WAIT, next_message(&mut self.ws)).await {
            Ok(Ok(v)) => v,
            Ok(Err(c)) => panic!("socket closed: {c:?}"),
            Err(_) => panic!("no frame within {WAIT:?}"),
        }
    }

    /// The next push named `event` (others stay buffered).
    pub async fn push(&mut self, event: &str) -> Value {
        self.push_within(event, WAIT).await
    }

    /// The next push named `event` within `wait`.
    pub async fn push_within(&mut self, event: &str, wait: Duration) -> Value {
        if let Some(i) = self.pushes.iter().position(|p| p["event"] == event) {
            return self.pushes.remove(i).expect("index from position")["data"].clone();
        }
        loop {
            let v = match tokio::time::timeout(wait, next_message(&mut self.ws)).await {
                Ok(Ok(v)) => v,
                Ok(Err(c)) => panic!("socket closed while waiting for {event}: {c:?}"),
                Err(_) => panic!("no {event} within {wait:?}; buffered: {:?}", self.pushes),
            };
            if v["event"] == event {
                return v["data"].clone();
            }
            self.pushes.push_back(v);
        }
    }

    /// Asserts no push named `event` arrives within `wait` (reading everything that does).
    pub async fn no_push(&mut self, event: &str, wait: Duration) {
        assert!(
            !self.pushes.iter().any(|p| p["event"] == event),
            "unexpected {event}: {:?}",
            self.pushes
        );
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, next_message(&mut self.ws)).await {
                Err(_) => return,
                Ok(Err(c)) => panic!("socket closed: {c:?}"),
                Ok(Ok(v)) => {
                    assert_ne!(v["event"], event, "unexpected {event}: {v}");
                    self.pushes.push_back(v);
                }
            }
        }
    }

    /// Every push named `event` that arrives within `wait`, in order.
    pub async fn collect(&mut self, event: &str, wait: Duration) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        let mut rest = VecDeque::new();
        for p in self.pushes.drain(..) {
            if p["event"] == event {
                out.push(p["data"].clone());
            } else {
                rest.push_back(p);
            }
        }
        self.pushes = rest;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, next_message(&mut self.ws)).await {
                Err(_) => return out,
                Ok(Err(c)) => panic!("socket closed: {c:?}"),
                Ok(Ok(v)) if v["event"] == event => out.push(v["data"].clone()),
                Ok(Ok(v)) => self.pushes.push_back(v),
            }
        }
    }

    /// Every push (whole frames, `{event, data}`) already buffered or arriving
    /// within `wait`, in order; for asserting that nothing at all arrived.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out: Vec<Value> = self.pushes.drain(..).collect();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, next_message(&mut self.ws)).await {
                Err(_) => return out,
                Ok(Err(c)) => panic!("socket closed: {c:?}"),
                Ok(Ok(v)) => out.push(v),
            }
        }
    }

    /// Reads until the socket closes; returns how.
    pub async fn closed(&mut self) -> Closed {
        loop {
            match tokio::time::timeout(WAIT, next_message(&mut self.ws)).await {
                Err(_) => panic!("socket still open after {WAIT:?}"),
                Ok(Err(c)) => return c,
                Ok(Ok(v)) => self.pushes.push_back(v),
            }
        }
    }

    /// Drops buffered pushes.
    pub fn clear(&mut self) {
        self.pushes.clear();
    }

    /// Closes the socket from the client side.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// The raw socket (for tests of pings and silence).
    pub fn socket(&mut self) -> &mut Socket {
        &mut self.ws
    }
}

/// Reads the next JSON text frame (answering pings), or how the socket closed.
pub async fn next_message(ws: &mut Socket) -> Result<Value, Closed> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                return Ok(serde_json::from_str(&t).expect("server sends JSON"));
            }
            Some(Ok(Message::Close(Some(CloseFrame { code, reason })))) => {
                return Err(Closed::Frame(code.into(), reason.to_string()));
            }
            Some(Ok(Message::Close(None))) | None => return Err(Closed::Eof),
            Some(Ok(_)) => continue,
            Some(Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed)) => {
                return Err(Closed::Eof);
            }
            Some(Err(_)) => return Err(Closed::Eof),
        }
    }
}

/// Creates a direct room between `a` (on `ca`) and `b`.
pub async fn direct(ca: &mut WsClient, b: &TestUser) -> Value {
    ca.ok(
        "room.create",
        json!({"type": "direct", "memberIds": [b.user_id]}),
    )
    .await["room"]
        .clone()
}

/// Creates a group owned by the user on `c` with these members.
pub async fn group(c: &mut WsClient, name: &str, members: &[&TestUser]) -> Value {
    let ids: Vec<&str> = members.iter().map(|u| u.user_id.as_str()).collect();
    c.ok(
        "room.create",
        json!({"type": "group", "name": name, "memberIds": ids}),
    )
    .await["room"]
        .clone()
}

/// The id of the direct room between the user on `ca` and `b`.
pub async fn direct_id(ca: &mut WsClient, b: &TestUser) -> String {
    direct(ca, b).await["roomId"]
        .as_str()
        .expect("roomId")
        .to_owned()
}

/// The id of a new group owned by the user on `c`.
pub async fn group_id(c: &mut WsClient, name: &str, members: &[&TestUser]) -> String {
    group(c, name, members).await["roomId"]
        .as_str()
        .expect("roomId")
        .to_owned()
}

/// Sends a text message and returns the acked message.
pub async fn send(c: &mut WsClient, room_id: &str, text: &str) -> Value {
    c.ok(
        "message.send",
        json!({"roomId": room_id, "content": text, "type": "text", "tempId": uuid::Uuid::new_v4().to_string()}),
    )
    .await["message"]
        .clone()
}

/// Runs each listed test on SQLite, on PostgreSQL, and on three nodes over
/// PostgreSQL + Redis behind nginx.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Backend::Cluster).await
                }
            )*
        }
    };
}
