//! The clients of the harness: users over HTTP, WebSocket clients that speak
//! the wire protocol, and shortcuts for rooms and messages.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::*;

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
