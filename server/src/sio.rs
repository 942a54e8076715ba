//! Socket.IO v4 at `/socket.io/` (WebSocket and HTTP long-polling, served by
//! `socketioxide`), so the original design's `socket.io-client` code runs
//! unchanged.
//!
//! It is a second transport over the same core as `/ws`: the same token check
//! and Origin rule, the same dispatcher and limits, the same hub (so native and
//! Socket.IO clients see each other's events, on any node), the same per-seq
//! ordering of pushes. Only the framing differs:
//!
//! - the handshake's `auth: { token }` authenticates; a refusal reaches the
//!   client as `connect_error` with the reason as its message;
//! - a request is an event whose name is the contract's; with an ack callback
//!   (`emitWithAck`), the ack value is the `data` object on success and
//!   `{ error: { code, message, retryAfterMs? } }` on failure; without one, a
//!   failure is emitted as an `error` event;
//! - pushes are events of the contract's names with its `data` as argument;
//! - where the native socket closes with a code, the server emits
//!   `connection.closing { code, reason }` and disconnects.
//!
//! Requests of one socket run one at a time, in order, as on `/ws`.

use std::convert::Infallible;
use std::sync::Arc;

use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use leetchat_protocol::events::names as ev;
use leetchat_protocol::{ErrorCode, MAX_FRAME_BYTES};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, TryData};
use socketioxide::handler::{ConnectHandler, FromMessageParts};
use socketioxide::layer::SocketIoLayer;
use socketioxide::socket::Socket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::connection::{Authed, Connection, Reader, Transport, authenticate};
use crate::error::AppError;
use crate::fanout::{OUTBOUND_QUEUE, PushFrame};
use crate::state::AppState;
use crate::ws::HARD_FRAME_LIMIT;

/// The event a closing notice is emitted as.
pub const CONNECTION_CLOSING: &str = "connection.closing";

/// Requests waiting for their socket's worker.
const REQUEST_QUEUE: usize = 64;

/// The Socket.IO layer for the router.
pub fn layer(state: &AppState) -> SocketIoLayer {
    let c = &state.config;
    let (layer, io) = SocketIo::builder()
        .ping_interval(c.ping_interval)
        .ping_timeout(c.idle_timeout.saturating_sub(c.ping_interval))
        .max_payload(HARD_FRAME_LIMIT as u64)
        .ws_max_message_size(HARD_FRAME_LIMIT)
        .ws_max_frame_size(HARD_FRAME_LIMIT)
        .max_buffer_size(OUTBOUND_QUEUE)
        .build_layer();
    let on_connect_state = state.clone();
    let check_state = state.clone();
    let handler = move |s: SocketRef| {
        let state = on_connect_state.clone();
        async move { connected(state, s).await }
    };
    let check = move |s: SocketRef, TryData(auth): TryData<Value>| {
        let state = check_state.clone();
        async move { check(&state, &s, auth.ok()).await }
    };
    io.ns("/", handler.with(check));
    layer
}

/// Why a handshake was refused, as `connect_error` shows it.
#[derive(Debug)]
struct Refusal(AppError);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code.as_str(), self.0.message)
    }
}

/// Handshake middleware: Origin, then `auth.token`.
async fn check(state: &AppState, s: &SocketRef, auth: Option<Value>) -> Result<(), Refusal> {
    let origin = s
        .req_parts()
        .headers
        .get(axum::http::header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    if !state.config.origin_allowed(origin) {
        return Err(Refusal(AppError::forbidden("origin not allowed")));
    }
    let token = auth
        .as_ref()
        .and_then(|a| a.get("token"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Refusal(AppError::unauthenticated(
                "connect with auth: { token: <accessToken> }",
            ))
        })?;
    let authed = authenticate(state, token, state.hub.next_conn_id())
        .await
        .map_err(Refusal)?;
    s.extensions.insert(authed);
    Ok(())
}

/// Whether the client asked for an ack (an extractor socketioxide lacks).
struct AckWanted(bool);

impl<A: Adapter> FromMessageParts<A> for AckWanted {
    type Error = Infallible;
    fn from_message_parts(
        _: &Arc<Socket<A>>,
        _: &mut socketioxide::handler::Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        Ok(AckWanted(ack_id.is_some()))
    }
}

/// One request waiting for the socket's worker.
struct Request {
    event: String,
    data: Result<Value, String>,
    ack: Option<AckSender>,
}

async fn connected(state: AppState, s: SocketRef) {
    let Some(authed) = s.extensions.get::<Authed>() else {
        let _ = s.disconnect();
        return;
    };
    let (req_tx, req_rx) = mpsc::channel::<Request>(REQUEST_QUEUE);
    s.on_fallback(
        move |Event(event): Event,
              TryData(data): TryData<Value>,
              ack: AckSender,
              AckWanted(wanted): AckWanted| {
            let req_tx = req_tx.clone();
            async move {
                let req = Request {
                    event,
                    data: data.map_err(|e| e.to_string()),
                    ack: wanted.then_some(ack),
                };
                // A full queue means the client floods: refuse, do not wait.
                if let Err(mpsc::error::TrySendError::Full(r)) = req_tx.try_send(req) {
                    let e = AppError::new(
                        ErrorCode::RateLimited,
                        "too many requests in flight on this socket",
                    );
                    reply(r.ack, &Err(e));
                }
            }
        },
    );
    let gone = CancellationToken::new();
    let gone2 = gone.clone();
    s.on_disconnect(move || {
        gone2.cancel();
        async {}
    });
    let tasks = state.tasks.clone();
    tasks.spawn(serve(state, s, authed, req_rx, gone));
}

/// A socket's life: the connection's, then the Socket.IO disconnect.
async fn serve(
    state: AppState,
    s: SocketRef,
    authed: Authed,
    requests: mpsc::Receiver<Request>,
    gone: CancellationToken,
) {
    let sink = SioSink {
        s: s.clone(),
        gone: gone.clone(),
    };
    let conn = Connection::open(state, authed, sink, gone.clone(), None).await;
    conn.serve(SioReader {
        s: s.clone(),
        requests,
        gone,
    })
    .await;
    let _ = s.disconnect();
}

/// Emits on a Socket.IO socket.
struct SioSink {
    s: SocketRef,
    gone: CancellationToken,
}

impl Transport for SioSink {
    async fn feed_push(&mut self, frame: &PushFrame) -> bool {
        // A full buffer: the client cannot keep up; it will resume with sync.
        emit_frame(&self.s, frame).is_ok()
    }

    async fn feed_reply(&mut self, _: Utf8Bytes) -> bool {
        // Acks go straight back through their callbacks (see `reply`).
        true
    }

    async fn flush(&mut self) -> bool {
        true
    }

    async fn close(&mut self, code: u16, reason: &str) {
        closing(&self.s, code, reason);
        self.gone.cancel();
    }

    async fn finish(&mut self) {}

    async fn ping(&mut self) -> bool {
        true
    }

    fn ping_interval(&self) -> Option<Duration> {
        // socketioxide pings on its own (`ping_interval` in `layer`).
        None
    }
}

/// Requests of one socket, in order.
struct SioReader {
    s: SocketRef,
    requests: mpsc::Receiver<Request>,
    gone: CancellationToken,
}

impl Reader for SioReader {
    type Item = Request;

    async fn read(&mut self, _: &Connection) -> Option<Request> {
        tokio::select! {
            _ = self.gone.cancelled() => None,
            r = self.requests.recv() => r,
        }
    }

    async fn handle(&mut self, conn: &mut Connection, r: Request) -> bool {
        let started = std::time::Instant::now();
        let result = match r.data {
            Err(e) => Err(AppError::invalid(format!("malformed payload: {e}"))),
            Ok(data) => {
                let size = serde_json::to_string(&data).map_or(0, |t| t.len());
                if size > MAX_FRAME_BYTES {
                    Err(AppError::new(
                        ErrorCode::TooLarge,
                        format!("requests are limited to {MAX_FRAME_BYTES} bytes"),
                    ))
                } else {
                    conn.request(&r.event, data, "the event's argument must be an object")
                        .await
                }
            }
        };
        match (r.ack, &result) {
            (Some(ack), res) => reply(Some(ack), res),
            (None, Err(e)) => {
                let _ = self.s.emit(ev::ERROR, &e.body());
            }
            (None, Ok(_)) => {}
        }
        conn.answered(&r.event, &result, started);
        true
    }
}

/// Emits a push: the native frame's `data` under its event name.
fn emit_frame(s: &SocketRef, f: &PushFrame) -> Result<(), ()> {
    #[derive(serde::Deserialize)]
    struct Frame<'a> {
        #[serde(borrow)]
        data: &'a serde_json::value::RawValue,
    }
    let frame: Frame<'_> = serde_json::from_str(f.text.as_str()).map_err(|_| ())?;
    s.emit(&*f.event, frame.data).map_err(|_| ())
}

/// Tells the client why it is being disconnected, then disconnects.
fn closing(s: &SocketRef, code: u16, reason: &str) {
    let _ = s.emit(
        CONNECTION_CLOSING,
        &serde_json::json!({ "code": code, "reason": reason }),
    );
    let _ = s.clone().disconnect();
}

/// Sends the ack: `data` on success, `{error}` on failure.
fn reply(ack: Option<AckSender>, result: &Result<Value, AppError>) {
    let Some(ack) = ack else {
        return;
    };
    let _ = match result {
        Ok(data) => ack.send(data),
        Err(e) => ack.send(&serde_json::json!({ "error": e.body() })),
    };
}
