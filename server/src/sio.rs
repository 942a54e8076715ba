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
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::dispatch::{Session, dispatch, metric_name};
use crate::error::AppError;
use crate::fanout::{CLOSE_TOO_SLOW, OUTBOUND_QUEUE, Outbound, PushFrame};
use crate::metrics::EventLabel;
use crate::sequencer::Sequencer;
use crate::state::AppState;
use crate::ws::{self, Authed, HARD_FRAME_LIMIT};

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
    let authed = ws::authenticate(state, token, state.hub.next_conn_id())
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

/// A socket's life: pushes out, requests in order, cleanup at the end.
async fn serve(
    state: AppState,
    s: SocketRef,
    authed: Authed,
    mut requests: mpsc::Receiver<Request>,
    gone: CancellationToken,
) {
    let Authed {
        session,
        mut expires,
    } = authed;
    let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
    let kill = CancellationToken::new();
    ws::seed_streams(&state, &session, &tx).await;
    let _ = s.emit(ev::CONNECTION_AUTHENTICATED, &ws::hello(&session));
    ws::attach(&state, &session, &tx, &kill).await;
    let writer = tokio::spawn(write_loop(s.clone(), rx, kill.clone(), gone.clone()));
    loop {
        tokio::select! {
            _ = gone.cancelled() => break,
            _ = kill.cancelled() => {
                state.metrics.slow_consumers.inc();
                break;
            }
            _ = state.shutdown.cancelled() => {
                closing(&s, 1001, "server shutting down");
                break;
            }
            _ = sleep_until(expires) => {
                closing(&s, leetchat_protocol::CLOSE_UNAUTHENTICATED, "token expired");
                break;
            }
            r = requests.recv() => match r {
                Some(r) => handle(&state, &session, &s, r, &mut expires).await,
                None => break,
            },
        }
    }
    ws::detach(&state, &session).await;
    kill.cancel();
    let _ = writer.await;
    let _ = s.clone().disconnect();
}

/// Emits pushes in seq order (as `/ws` does) until the socket goes.
async fn write_loop(
    s: SocketRef,
    mut rx: mpsc::Receiver<Outbound>,
    kill: CancellationToken,
    gone: CancellationToken,
) {
    let mut order = Sequencer::default();
    let mut ready: Vec<PushFrame> = Vec::new();
    loop {
        let held_until = order.deadline();
        tokio::select! {
            biased;
            _ = gone.cancelled() => return,
            _ = kill.cancelled() => {
                closing(&s, CLOSE_TOO_SLOW, "too slow to keep up; reconnect and sync");
                return;
            }
            m = rx.recv() => match m {
                None => return,
                Some(Outbound::Push(f)) => order.push(f, &mut ready),
                Some(Outbound::Skip(pos)) => order.skip(pos, &mut ready),
                Some(Outbound::Seed(rooms)) => order.seed(rooms),
                Some(Outbound::Reply(_)) => {}
                Some(Outbound::Close(code, reason)) => {
                    closing(&s, code, &reason);
                    gone.cancel();
                    return;
                }
            },
            _ = sleep_until(held_until.unwrap_or_else(Instant::now)), if held_until.is_some() => {
                order.release_due(Instant::now(), &mut ready);
            }
        }
        for f in ready.drain(..) {
            if emit_frame(&s, &f).is_err() {
                return;
            }
        }
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
    match s.emit(&*f.event, frame.data) {
        Ok(()) => Ok(()),
        // A full buffer: the client cannot keep up; it will resume with sync.
        Err(_) => Err(()),
    }
}

/// Tells the client why it is being disconnected, then disconnects.
fn closing(s: &SocketRef, code: u16, reason: &str) {
    let _ = s.emit(
        CONNECTION_CLOSING,
        &serde_json::json!({ "code": code, "reason": reason }),
    );
    let _ = s.clone().disconnect();
}

async fn handle(
    state: &AppState,
    session: &Session,
    s: &SocketRef,
    r: Request,
    expires: &mut Instant,
) {
    let started = std::time::Instant::now();
    let name = metric_name(&r.event);
    let result = match r.data {
        Err(e) => Err(AppError::invalid(format!("malformed payload: {e}"))),
        Ok(data) => {
            let size = serde_json::to_string(&data).map_or(0, |t| t.len());
            if size > MAX_FRAME_BYTES {
                Err(AppError::new(
                    ErrorCode::TooLarge,
                    format!("requests are limited to {MAX_FRAME_BYTES} bytes"),
                ))
            } else if r.event == ev::AUTH {
                ws::renew(state, session, data, expires).await
            } else if !data.is_object() {
                Err(AppError::invalid("the event's argument must be an object"))
            } else {
                dispatch(state, session, &r.event, data).await
            }
        }
    };
    let label = EventLabel {
        event: name.to_owned(),
    };
    state.metrics.events_in.get_or_create(&label).inc();
    if let Err(e) = &result {
        state.metrics.error(e.code);
    }
    match (r.ack, &result) {
        (Some(ack), res) => reply(Some(ack), res),
        (None, Err(e)) => {
            let _ = s.emit(ev::ERROR, &e.body());
        }
        (None, Ok(_)) => {}
    }
    state
        .metrics
        .ack_latency
        .get_or_create(&label)
        .observe(started.elapsed().as_secs_f64());
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
