//! Clients that are slow, stall or hold many connections (slowloris), and
//! requests refused before their body is read: raw TCP against a node, so
//! what is measured is the server itself (nginx has its own bounds), plus
//! the same refusals through the harness's HTTP client (through nginx on the
//! cluster).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::harness::{Backend, TestApp};

async fn connect_from(from: &str, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap()
}

/// Reads until the peer closes (or `within` passes); returns what came and
/// how the read ended: `Ok` for an orderly close, the error otherwise.
async fn read_to_close(s: &mut TcpStream, within: Duration) -> (String, Result<(), String>) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let end = tokio::time::timeout(within, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err("still open".into()));
    (String::from_utf8_lossy(&out).into_owned(), end)
}

async fn headers_that_never_finish_and_idle_keep_alives_are_cut_off(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.http_header_timeout = Duration::from_secs(1);
    })
    .await;
    // Headers that never end.
    let mut slow = connect_from("127.0.0.1", app.port).await;
    slow.write_all(b"GET /health/chat HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let t = Instant::now();
    let (_, end) = read_to_close(&mut slow, Duration::from_secs(5)).await;
    assert!(end.is_ok(), "closed, not left open: {end:?}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    // A kept-alive connection answered once and then left idle.
    let mut idle = connect_from("127.0.0.1", app.port).await;
    idle.write_all(b"GET /health/chat HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let (_, end) = read_to_close(&mut idle, Duration::from_secs(5)).await;
    assert!(end.is_ok(), "an idle keep-alive is closed: {end:?}");
}

async fn a_stalled_upload_is_ended(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.http_body_timeout = Duration::from_secs(1);
    })
    .await;
    let alice = app.register("alice").await;
    let mut s = connect_from("127.0.0.1", app.port).await;
    let head = format!(
        "POST /api/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n",
        alice.access_token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(b"--XX").await.unwrap();
    let t = Instant::now();
    let (answer, end) = read_to_close(&mut s, Duration::from_secs(8)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"invalid\""), "{answer}");
    assert!(end.is_ok(), "{end:?}");
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    // Nothing was left behind.
    let tmp = app.state.config.data_dir.join("tmp");
    let left = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "temporary upload files left in {tmp:?}");
}

async fn connections_per_address_are_capped_and_others_still_get_in(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.max_connections_per_address = 5).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from("127.0.0.2", app.port).await);
    }
    // The sixth from that address is closed at once, without an answer.
    let mut sixth = connect_from("127.0.0.2", app.port).await;
    let _ = sixth
        .write_all(b"GET /health/chat HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let (answer, _) = read_to_close(&mut sixth, Duration::from_secs(3)).await;
    assert_eq!(answer, "", "refused");
    // Another address is served.
    let mut other = connect_from("127.0.0.3", app.port).await;
    other
        .write_all(b"GET /health/chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_to_close(&mut other, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // One closed: that address gets a place again.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut again = connect_from("127.0.0.2", app.port).await;
        again
            .write_all(b"GET /health/chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (answer, _) = read_to_close(&mut again, Duration::from_secs(3)).await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the freed place was not given back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An upload refused before its body is read: the client, still sending,
/// gets the answer and an orderly close, not a reset.
async fn an_upload_refused_early_gets_its_answer_not_a_reset(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.max_file_size = 1 << 20).await;
    let body = vec![b'a'; 4 << 20];
    for auth in [None, Some("Bearer not-a-token")] {
        let mut s = connect_from("127.0.0.1", app.port).await;
        let mut head = format!(
            "POST /api/files HTTP/1.1\r\nHost: x\r\n\
             Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(a) = auth {
            head.push_str(&format!("Authorization: {a}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        // Keep sending, as a client that does not wait for 100-continue does.
        let sent = tokio::time::timeout(Duration::from_secs(10), s.write_all(&body)).await;
        let (answer, end) = read_to_close(&mut s, Duration::from_secs(10)).await;
        assert!(
            answer.starts_with("HTTP/1.1 401"),
            "sent: {sent:?}; answer: {answer:?}; end: {end:?}"
        );
        assert!(
            answer.to_lowercase().contains("connection: close"),
            "{answer}"
        );
        assert!(answer.contains("\"unauthenticated\""), "{answer}");
    }
    // The same with an HTTP client on kept-alive connections (through nginx
    // on the cluster): an oversized upload, then anonymous ones.
    let alice = app.register("alice").await;
    let upload = |token: Option<String>, size: usize| {
        let http = app.http.clone();
        let url = app.url("/api/files");
        async move {
            let part = reqwest::multipart::Part::bytes(vec![b'a'; size]).file_name("a.txt");
            let form = reqwest::multipart::Form::new().part("file", part);
            let mut req = http.post(url).multipart(form);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.map(|r| r.status().as_u16())
        }
    };
    for _ in 0..3 {
        let big = upload(Some(alice.access_token.clone()), 3 << 20).await;
        assert!(matches!(big, Ok(413)), "{big:?}");
        let anonymous = upload(None, 2 << 20).await;
        assert!(matches!(anonymous, Ok(401)), "{anonymous:?}");
    }
    let fine = upload(Some(alice.access_token.clone()), 1000).await;
    assert!(matches!(fine, Ok(201)), "{fine:?}");
}

crate::on_both_databases!(
    headers_that_never_finish_and_idle_keep_alives_are_cut_off,
    a_stalled_upload_is_ended,
    connections_per_address_are_capped_and_others_still_get_in,
    an_upload_refused_early_gets_its_answer_not_a_reset,
);

/// Out of file descriptors, the server keeps trying to accept (backing off)
/// and says so once, not once per attempt; when descriptors free up it
/// serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_accepting_backs_off_says_so_once_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::cluster_env::free_port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // A small descriptor limit for the server process alone.
    let mut child = std::process::Command::new("prlimit")
        .args(["--nofile=96:96", "--"])
        .arg(env!("CARGO_BIN_EXE_leetchat-server"))
        .env("SOCKET_PORT", port.to_string())
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("DATA_DIR", dir.path().join("data"))
        .env("DATABASE_MAX_CONNECTIONS", "2")
        .env("MAX_CONNECTIONS_PER_ADDRESS", "0")
        .env("RUST_LOG", "info")
        .stdout(log)
        .spawn()
        .expect("prlimit (util-linux) runs leetchat-server");
    let health = format!("http://127.0.0.1:{port}/health/chat");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(&health).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Hold more connections than the server has descriptors for.
    let mut held = Vec::new();
    for _ in 0..150 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_secs(1),
            TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        {
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(held);
    // It serves again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ok = tokio::time::timeout(Duration::from_secs(2), reqwest::get(&health))
            .await
            .is_ok_and(|r| r.is_ok_and(|r| r.status().is_success()));
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let failing = text.matches("cannot accept connections").count();
    let again = text.matches("accepting connections again").count();
    assert_eq!((failing, again), (1, 1), "said once per episode:\n{text}");
}
