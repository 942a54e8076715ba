//! What the multi-node layout of the suite runs on: a private `redis-server`
//! for this test process, and nginx (with `deploy/nginx.conf`) in front of a
//! test's nodes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16, what: &str, log: Option<&Path>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = log
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    panic!("{what} did not listen on 127.0.0.1:{port} within 10 s\n{log}");
}

/// A `redis-server` child that exits with this test process (a shell
/// watchdog kills it once the process is gone, even after a crash).
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port, keeping nothing on disk.
    pub fn start() -> RedisServer {
        let port = free_port();
        Self::start_on(port)
    }

    /// Starts one on `port` (to restart a stopped one at the same address).
    pub fn start_on(port: u16) -> RedisServer {
        let me = std::process::id();
        let script = format!(
            "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no \
             --loglevel warning & r=$!; \
             trap 'kill -9 $r 2>/dev/null; exit 0' TERM; \
             while kill -0 {me} 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.5; done; \
             kill -9 $r 2>/dev/null"
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}); install it (apt-get install redis-server)")
            });
        wait_for_port(port, "redis-server", None);
        RedisServer {
            port,
            child: Some(child),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Stops it at once (SIGKILL through the watchdog).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The Redis the multi-node suite shares (each test uses its own key prefix).
pub fn shared_redis() -> String {
    static REDIS: OnceLock<RedisServer> = OnceLock::new();
    if let Ok(url) = std::env::var("LEETCHAT_TEST_REDIS") {
        return url;
    }
    REDIS.get_or_init(RedisServer::start).url()
}

/// nginx in one process on loopback, configured by `deploy/nginx.conf` with
/// the upstream servers and listen address swapped for a test's.
pub struct Nginx {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

fn deploy_conf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx.conf")
}

impl Nginx {
    pub fn start(node_ports: &[u16]) -> Nginx {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let conf = render(
            &std::fs::read_to_string(deploy_conf()).expect("deploy/nginx.conf"),
            dir.path(),
            port,
            node_ports,
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let log = dir.path().join("error.log");
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start nginx ({e}); install it (apt-get install nginx)")
            });
        wait_for_port(port, "nginx", Some(&log));
        Nginx {
            port,
            child,
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `deploy/nginx.conf` for a test: one foreground process, files in `dir`,
/// listening on `port`, balancing over `nodes`.
fn render(conf: &str, dir: &Path, port: u16, nodes: &[u16]) -> String {
    let d = dir.display();
    let mut out = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
    );
    let mut in_upstream = false;
    let mut swapped = (false, false);
    for line in conf.lines() {
        let t = line.trim();
        if t.starts_with("worker_processes") {
            continue;
        }
        if t.starts_with("upstream ") {
            in_upstream = true;
        } else if in_upstream && t.starts_with("server ") {
            if !swapped.0 {
                for p in nodes {
                    out.push_str(&format!(
                        "        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n"
                    ));
                }
                swapped.0 = true;
            }
            continue;
        } else if in_upstream && t == "}" {
            in_upstream = false;
        }
        if t.starts_with("listen ") {
            out.push_str(&format!("        listen 127.0.0.1:{port};\n"));
            swapped.1 = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if t.starts_with("http {") {
            out.push_str(&format!(
                "    access_log off;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n    \
                 fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n"
            ));
        }
    }
    assert!(
        swapped.0 && swapped.1,
        "deploy/nginx.conf must have an upstream block with server lines and a listen line"
    );
    out
}
