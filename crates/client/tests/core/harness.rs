//! A real server that can be killed like a process (its runtime is dropped
//! at once: sockets cut, no close frames), restarted on the same port and
//! data, a TCP proxy that can lose an ack, and clients with file credentials.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use leetchat_client::{Client, ClientConfig, CredentialStore};
use leetchat_server::config::{RateLimit, RateLimits};
use leetchat_server::{Application, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A server on its own runtime.
pub struct Server {
    pub config: Config,
    pub port: u16,
    rt: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> Server {
        let dir = tempfile::tempdir().expect("dir");
        let mut c = Config::defaults();
        c.socket_port = 0;
        c.bind_address = "127.0.0.1".into();
        c.data_dir = dir.path().to_path_buf();
        c.database_url = None;
        c.jwt_secret = Some("client-tests-secret-client-tests-secret-0123".into());
        c.rate_limits = RateLimits::all(RateLimit::new(10_000, 60));
        tweak(&mut c);
        let (rt, port) = boot(c.clone()).await;
        c.socket_port = port;
        Server {
            config: c,
            port,
            rt: Some(rt),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many uploads the server holds (rows of its `files` table).
    pub fn stored_files(&self) -> i64 {
        let db = rusqlite::Connection::open(self.config.data_dir.join("leetchat.db")).expect("db");
        db.busy_timeout(Duration::from_secs(5)).expect("timeout");
        db.query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0))
            .expect("count")
    }

    /// Makes the server forget an upload, as its sweep of uploads no message
    /// carries does once they expire.
    pub fn forget_file(&self, file_id: &str) {
        let db = rusqlite::Connection::open(self.config.data_dir.join("leetchat.db")).expect("db");
        db.busy_timeout(Duration::from_secs(5)).expect("timeout");
        db.execute("DELETE FROM file_blobs WHERE file_id = ?1", [file_id])
            .expect("blobs");
        db.execute("DELETE FROM files WHERE file_id = ?1", [file_id])
            .expect("row");
    }

    /// Like `kill -9`: every task and socket of the server is gone at once.
    pub fn kill(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }

    /// Starts it again on the same port and data.
    pub async fn restart(&mut self) {
        self.kill();
        let mut last = None;
        for _ in 0..50 {
            match try_boot(self.config.clone()).await {
                Ok((rt, _)) => {
                    self.rt = Some(rt);
                    return;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not restart: {last:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn boot(c: Config) -> (tokio::runtime::Runtime, u16) {
    try_boot(c).await.expect("server starts")
}

async fn try_boot(c: Config) -> Result<(tokio::runtime::Runtime, u16), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    rt.spawn(async move {
        match Application::build(c).await {
            Ok(app) => {
                let _ = tx.send(Ok(app.port()));
                let _ = app.run_until_stopped(std::future::pending()).await;
            }
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
            }
        }
    });
    match rx.await {
        Ok(Ok(port)) => Ok((rt, port)),
        Ok(Err(e)) => {
            rt.shutdown_background();
            Err(e)
        }
        Err(_) => {
            rt.shutdown_background();
            Err("server task died".into())
        }
    }
}

/// A client on `server` keeping its store in `dir`.
pub async fn client(server: &str, dir: &Path) -> Client {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    Client::open(ClientConfig {
        server: server.to_owned(),
        data_dir: dir.to_path_buf(),
        credentials: CredentialStore::File(dir.join("credentials.json")),
        device_name: "test".into(),
    })
    .await
    .expect("client opens")
}

/// Registers `name` on a fresh client in `dir`.
pub async fn registered(server: &str, dir: &Path, name: &str) -> Client {
    let c = client(server, dir).await;
    c.register(name, &format!("password-{name}"), None)
        .await
        .expect("register");
    c
}

/// Polls `cond` every 50 ms until it holds, or panics after `wait`.
pub async fn eventually(what: &str, wait: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + wait;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP proxy that can cut a connection right after the server answers,
/// before the answer reaches the client (a lost ack).
pub struct Proxy {
    pub port: u16,
    cut_next_answer: Arc<AtomicBool>,
    pub cuts: Arc<std::sync::atomic::AtomicU32>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let cuts = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (c2, n2) = (cut.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                tokio::spawn(pipe(client, server, c2.clone(), n2.clone()));
            }
        });
        Proxy {
            port,
            cut_next_answer: cut,
            cuts,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next bytes the server sends are dropped and that connection cut.
    pub fn lose_next_answer(&self) {
        self.cut_next_answer.store(true, Ordering::SeqCst);
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    cut: Arc<AtomicBool>,
    cuts: Arc<std::sync::atomic::AtomicU32>,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if sw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if cut.swap(false, Ordering::SeqCst) {
                        cuts.fetch_add(1, Ordering::SeqCst);
                        return; // drop the answer and the connection
                    }
                    if cw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    // Whichever side ends first ends both.
    tokio::select! {
        _ = up => {},
        _ = down => {},
    }
}
