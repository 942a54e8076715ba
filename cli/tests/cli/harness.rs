//! The harness: a real server running in this test process (its own
//! runtime, so it can be stopped and started again on the same port), and
//! users driving the built `leetchat` binary, one data folder each.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use leetchat_server::config::{RateLimit, RateLimits};
use leetchat_server::{Application, Config};
use serde_json::Value;

/// How long a test waits for something that should happen soon.
pub(crate) const WAIT: Duration = Duration::from_secs(40);

/// A server on its own runtime: stopping it cuts every socket at once, as a
/// crash would.
pub(crate) struct Server {
    config: Config,
    port: u16,
    rt: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub(crate) fn start() -> Server {
        Server::start_with(|_| {})
    }

    /// A server with the test configuration changed by `tweak`.
    pub(crate) fn start_with(tweak: impl FnOnce(&mut Config)) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut c = Config::defaults();
        c.socket_port = 0;
        c.bind_address = "127.0.0.1".into();
        c.data_dir = dir.path().to_path_buf();
        c.database_url = None;
        c.jwt_secret = Some("cli-tests-secret-cli-tests-secret-0123456789".into());
        c.rate_limits = RateLimits::all(RateLimit::new(10_000, 60));
        tweak(&mut c);
        let (rt, port) = boot(c.clone()).expect("server starts");
        // Restarts come back on the same port, so clients keep one URL.
        c.socket_port = port;
        Server {
            config: c,
            port,
            rt: Some(rt),
            _dir: dir,
        }
    }

    /// A server invite with no limit, as `leetchat-server admin invite
    /// create` makes one.
    pub(crate) fn server_invite(&self) -> String {
        use leetchat_server::db::{Db, invites};
        let code = invites::new_code();
        let invite = invites::ServerInvite {
            code: code.clone(),
            created_by: None,
            created_at: leetchat_protocol::time::now_ms(),
            expires_at: None,
            max_uses: None,
            uses: 0,
            revoked_at: None,
            note: String::new(),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let db = Db::open(&self.config.database_url(), 1)
                .await
                .expect("the database");
            invites::create_server_invite(&db, &invite)
                .await
                .expect("an invite");
            db.close().await;
        });
        code
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn stop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }

    pub(crate) fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match boot(self.config.clone()) {
                Ok((rt, _)) => {
                    self.rt = Some(rt);
                    return;
                }
                Err(e) if Instant::now() > deadline => panic!("server did not restart: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn boot(config: Config) -> Result<(tokio::runtime::Runtime, u16), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let app = rt
        .block_on(Application::build(config))
        .map_err(|e| e.to_string())?;
    let port = app.port();
    rt.spawn(app.run_until_stopped(std::future::pending()));
    Ok((rt, port))
}

/// A person at a terminal: a login name and a data folder.
pub(crate) struct User {
    name: &'static str,
    server: String,
    dir: tempfile::TempDir,
}

impl User {
    pub(crate) fn new(server: &Server, name: &'static str) -> User {
        User {
            name,
            server: server.url(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A fresh user who registered.
    pub(crate) fn registered(server: &Server, name: &'static str) -> User {
        let u = User::new(server, name);
        let out = u.ok(&["register", name]);
        assert!(out.contains(name), "{out}");
        u
    }

    pub(crate) fn password(&self) -> String {
        format!("{}-password", self.name)
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_leetchat"));
        c.args(args)
            .arg("--data-dir")
            .arg(self.dir.path())
            .env("LEETCHAT_SERVER", &self.server)
            .env("LEETCHAT_CREDENTIALS", "file")
            .env("LEETCHAT_PASSWORD", self.password())
            .env_remove("LEETCHAT_DATA_DIR")
            .stdin(Stdio::null());
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("leetchat runs")
    }

    /// Runs a command that must succeed; its stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "`leetchat {}` failed: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Runs a command that must fail with exit code 1; its stderr.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "`leetchat {}` should fail: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8(out.stderr).expect("UTF-8 output");
        assert!(err.contains("error: "), "{err}");
        err
    }

    pub(crate) fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The room id `dm` or `group` printed (the first field).
pub(crate) fn room_id(out: &str) -> String {
    out.split('\t').next().unwrap_or_default().trim().to_owned()
}

pub(crate) fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Lines a child prints, read on a thread so a test can wait for one.
pub(crate) struct Lines {
    rx: mpsc::Receiver<String>,
    pub(crate) seen: Vec<String>,
}

impl Lines {
    pub(crate) fn read(from: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(from).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits until some line contains `needle`.
    pub(crate) fn wait_for(&mut self, needle: &str) {
        if self.seen.iter().any(|l| l.contains(needle)) {
            return;
        }
        let deadline = Instant::now() + WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no line with {needle:?}; saw {:#?}", self.seen);
    }

    pub(crate) fn count(&mut self, needle: &str) -> usize {
        while let Ok(line) = self.rx.try_recv() {
            self.seen.push(line);
        }
        self.seen.iter().filter(|l| l.contains(needle)).count()
    }
}

/// Ends a `tail` the way a user does (SIGTERM, as from Ctrl-C or a service
/// manager) and checks that it exits cleanly.
pub(crate) fn stop_tail(mut child: Child) {
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    if !terminated {
        let _ = child.kill();
        let _ = child.wait();
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait for tail") {
            assert!(status.success(), "tail exited with {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tail did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
