//! A light client of the wire protocol for load: one socket per simulated
//! user, a reader task that times every `message.received` it gets, and a
//! sender handle. (The full client core, with its store and outbox, is what
//! the client-store scenario measures; here the load generator must stay
//! cheap so the server is what is measured.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The clock every timestamp in message contents is taken from.
pub fn now_us(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// A registered user.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub user_id: String,
    /// Access token.
    pub token: String,
}

/// Registers `name` over HTTP.
pub async fn register(http: &reqwest::Client, base: &str, name: &str) -> Result<User> {
    let r = http
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"userName": name, "password": format!("password-{name}")}))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("register {name}: {status} {body}");
    }
    Ok(User {
        user_id: body["user"]["userId"]
            .as_str()
            .context("userId")?
            .to_owned(),
        token: body["accessToken"].as_str().context("token")?.to_owned(),
    })
}

/// What a connection's reader measured.
#[derive(Debug)]
pub struct Measured {
    /// Send → receive latency of each `message.received`, µs, per phase
    /// (made on first use: a histogram is ~20 KiB, and most of a storm's
    /// thousands of connections never need one).
    pub latency: Vec<Option<Histogram<u64>>>,
    /// `(sender, n, latency µs)` of every `message.received` (when asked
    /// for): loss, duplicates, and per-message fan-out times.
    pub seen: Vec<(u32, u64, u64)>,
    /// Ack latency of this connection's own sends, µs (made on first use).
    pub acks: Option<Histogram<u64>>,
}

/// Counters shared by every connection of a run.
#[derive(Debug, Default)]
pub struct Totals {
    /// Pushes received.
    pub received: AtomicU64,
    /// Acks received.
    pub acked: AtomicU64,
    /// Error acks.
    pub errors: AtomicU64,
}

/// A live connection.
pub struct Conn {
    tx: mpsc::UnboundedSender<Message>,
    next_id: u64,
    done: Option<oneshot::Receiver<Measured>>,
    stop: Option<oneshot::Sender<()>>,
    /// Requests with their ack awaited through [`Conn::call`].
    calls: mpsc::UnboundedSender<(u64, oneshot::Sender<Value>)>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 2).expect("histogram bounds")
}

impl Conn {
    /// Connects to `ws_url` with `token`; latencies are measured against
    /// `start` and filed under the phase the content names.
    pub async fn connect(
        ws_url: &str,
        token: &str,
        start: Instant,
        phases: usize,
        totals: Arc<Totals>,
        keep_seen: bool,
    ) -> Result<Conn> {
        let tag = start_tag(start);
        let mut req = ws_url.into_client_request()?;
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        // tungstenite's default 128 KiB read buffer is zero-filled before
        // every read: with thousands of sockets that alone would saturate the
        // load generator.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4096);
        let (ws, _) = match loopback_stream(req.uri()).await? {
            Some(tcp) => {
                tokio_tungstenite::client_async_with_config(
                    req,
                    tokio_tungstenite::MaybeTlsStream::Plain(tcp),
                    Some(config),
                )
                .await?
            }
            None => tokio_tungstenite::connect_async_with_config(req, Some(config), true).await?,
        };
        let (mut sink, mut stream) = ws.split();
        // The first frame must be connection.authenticated.
        match stream.next().await {
            Some(Ok(Message::Text(t))) if t.contains("connection.authenticated") => {}
            other => bail!("expected connection.authenticated, got {other:?}"),
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let (calls_tx, mut calls_rx) = mpsc::unbounded_channel::<(u64, oneshot::Sender<Value>)>();
        let (done_tx, done_rx) = oneshot::channel();
        let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        tokio::spawn(async move {
            let mut m = Measured {
                latency: (0..phases.max(1)).map(|_| None).collect(),
                seen: Vec::new(),
                acks: None,
            };
            let mut waiting: Vec<(u64, oneshot::Sender<Value>)> = Vec::new();
            loop {
                let frame = tokio::select! {
                    _ = &mut stop_rx => break,
                    c = calls_rx.recv() => {
                        if let Some(c) = c { waiting.push(c); }
                        continue;
                    }
                    f = stream.next() => f,
                };
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                let now = now_us(start);
                // Only acks and messages are looked at: other pushes
                // (presence, typing, ...) are skipped without parsing, so a
                // storm's presence updates do not load the generator.
                if !text.starts_with("{\"ack\"") && !text.contains("\"message.received\"") {
                    continue;
                }
                let v: Value = match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                if let Some(id) = v.get("ack").and_then(Value::as_u64) {
                    totals.acked.fetch_add(1, Ordering::Relaxed);
                    if v["ok"] != true {
                        totals.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(i) = waiting.iter().position(|(w, _)| *w == id) {
                        let (_, reply) = waiting.swap_remove(i);
                        let _ = reply.send(v);
                    } else if let Some((_, sent)) =
                        parse_content(v["data"]["message"]["content"].as_str(), tag)
                    {
                        let _ = m
                            .acks
                            .get_or_insert_with(histogram)
                            .record(now.saturating_sub(sent.1).max(1));
                    }
                    continue;
                }
                if v["event"] == "message.received" {
                    totals.received.fetch_add(1, Ordering::Relaxed);
                    if let Some(((sender, n, phase), (_, sent))) =
                        parse_content(v["data"]["message"]["content"].as_str(), tag)
                    {
                        let lat = now.saturating_sub(sent).max(1);
                        let last = m.latency.len() - 1;
                        let h = m.latency[phase.min(last)].get_or_insert_with(histogram);
                        let _ = h.record(lat);
                        if keep_seen {
                            m.seen.push((sender, n, lat));
                        }
                    }
                }
            }
            let _ = done_tx.send(m);
        });
        Ok(Conn {
            tx,
            next_id: 1,
            done: Some(done_rx),
            stop: Some(stop_tx),
            calls: calls_tx,
        })
    }

    /// Sends a request without waiting for its ack.
    pub fn send(&mut self, event: &str, data: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"id": id, "event": event, "data": data});
        let _ = self.tx.send(Message::Text(frame.to_string().into()));
        id
    }

    /// Sends a request and waits for its ack (`data` on success).
    pub async fn call(&mut self, event: &str, data: Value) -> Result<Value> {
        let id = self.next_id;
        let (reply_tx, reply_rx) = oneshot::channel();
        let _ = self.calls.send((id, reply_tx));
        // Let the reader register the waiter before the ack can arrive.
        tokio::task::yield_now().await;
        self.send(event, data);
        let ack = tokio::time::timeout(Duration::from_secs(30), reply_rx)
            .await
            .with_context(|| format!("no {event} ack within 30 s"))??;
        if ack["ok"] == true {
            Ok(ack["data"].clone())
        } else {
            bail!("{event} failed: {}", ack["error"])
        }
    }

    /// Sends a timed message: content `sender:n:phase:sent_us`.
    pub fn send_timed(&mut self, room: &str, sender: u32, n: u64, phase: usize, start: Instant) {
        let content = format!(
            "{}:{sender}:{n}:{phase}:{}",
            start_tag(start),
            now_us(start)
        );
        self.send(
            "message.send",
            json!({"roomId": room, "content": content, "tempId": uuid::Uuid::new_v4().simple().to_string()}),
        );
    }

    /// Closes the socket and returns what the reader measured.
    pub async fn finish(mut self) -> Measured {
        let _ = self.tx.send(Message::Close(None));
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.done.take() {
            Some(d) => d.await.unwrap_or_else(|_| empty_measured()),
            None => empty_measured(),
        }
    }
}

fn empty_measured() -> Measured {
    Measured {
        latency: vec![None],
        seen: Vec::new(),
        acks: None,
    }
}

/// A TCP connection to a loopback server from one of many source addresses
/// (127.0.x.y), or `None` when the server is not on 127.0.0.1. With tens of
/// thousands of sockets to one address and port, the kernel's search for a
/// free source port (`__inet_hash_connect`) took a third of the load
/// generator's CPU in a reconnect storm; spreading sources keeps it short.
async fn loopback_stream(
    uri: &tokio_tungstenite::tungstenite::http::Uri,
) -> Result<Option<tokio::net::TcpStream>> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if uri.host() != Some("127.0.0.1") {
        return Ok(None);
    }
    let port = uri.port_u16().unwrap_or(80);
    let k = NEXT.fetch_add(1, Ordering::Relaxed) % 1000;
    let src = std::net::Ipv4Addr::new(127, 0, (k / 250) as u8 + 1, (k % 250) as u8 + 2);
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((src, 0).into())?;
    let tcp = socket
        .connect((std::net::Ipv4Addr::LOCALHOST, port).into())
        .await?;
    tcp.set_nodelay(true)?;
    Ok(Some(tcp))
}

/// Who sent a timed message, its number and its phase.
type Key = (u32, u64, usize);

/// A tag naming one scenario run (its start), so a connection counts only
/// that run's messages, not a backlog of an earlier one.
fn start_tag(start: Instant) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(start) & 0xffff_ffff
}

/// `((sender, n, phase), (sender, sent_us))` from a timed content of run `tag`.
fn parse_content(c: Option<&str>, tag: u64) -> Option<(Key, (u32, u64))> {
    let mut it = c?.split(':');
    if it.next()?.parse::<u64>().ok()? != tag {
        return None;
    }
    let sender = it.next()?.parse().ok()?;
    let n = it.next()?.parse().ok()?;
    let phase = it.next()?.parse().ok()?;
    let sent = it.next()?.parse().ok()?;
    Some(((sender, n, phase), (sender, sent)))
}

/// A fresh, empty latency histogram (µs).
pub fn new_histogram() -> Histogram<u64> {
    histogram()
}
