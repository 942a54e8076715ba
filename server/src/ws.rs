//! `GET /ws`: the native WebSocket transport.
//!
//! One task reads and runs the client's requests in order (so a client's
//! send-then-edit is applied in that order); one writer task owns the socket's
//! sink and sends acks, pushes, pings and the final close frame. Malformed
//! frames get an `invalid` error and the connection stays open.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use leetchat_protocol::events::names as ev;
use leetchat_protocol::events::{AuthRequest, Authenticated};
use leetchat_protocol::{
    Ack, CLOSE_UNAUTHENTICATED, ErrorBody, ErrorCode, MAX_FRAME_BYTES, RequestId,
};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::clock::{now_ms, rfc3339};
use crate::dispatch::{Session, dispatch, metric_name};
use crate::error::AppError;
use crate::fanout::{CLOSE_TOO_SLOW, ConnHandle, OUTBOUND_QUEUE, Outbound, PushFrame};
use crate::metrics::EventLabel;
use crate::sequencer::Sequencer;
use crate::state::AppState;
use crate::{db, presence, typing_events};

/// A frame larger than this closes the socket (1009); between
/// [`MAX_FRAME_BYTES`] and this, it is answered with `too_large` and the
/// connection stays open.
pub const HARD_FRAME_LIMIT: usize = 1024 * 1024;
/// How long an unauthenticated socket may wait before sending `auth`.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// `GET /ws`: checks the Origin, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if !state.config.origin_allowed(origin) {
        return AppError::forbidden("origin not allowed").into_response();
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let tasks = state.tasks.clone();
    ws.max_message_size(HARD_FRAME_LIMIT)
        .max_frame_size(HARD_FRAME_LIMIT)
        // Chat frames are small: a 2 KiB read buffer is plenty (a larger
        // frame grows it as needed), and it is most of an idle socket's memory.
        .read_buffer_size(2 * 1024)
        // Frames queued together go out in one write at the flush that ends
        // each wake-up of the writer (see write_loop), up to 4 KiB at a time.
        .write_buffer_size(4 * 1024)
        .on_upgrade(move |socket| tasks.track_future(run(state, socket, token)))
}

/// Who a socket authenticated as.
#[derive(Debug, Clone)]
pub(crate) struct Authed {
    /// The session its requests run as.
    pub session: Session,
    /// When its token runs out.
    pub expires: Instant,
}

/// Checks an access token for a new connection `conn_id` (of any transport).
pub(crate) async fn authenticate(
    state: &AppState,
    token: &str,
    conn_id: u64,
) -> Result<Authed, AppError> {
    let claims = state.auth.verify_access(token)?;
    let _turn = state.read_turn().await?;
    let user_name = db::users::active_device_user(&state.db, &claims.sub, &claims.did)
        .await?
        .ok_or_else(|| AppError::unauthenticated("this device was signed out"))?;
    let exp = std::time::UNIX_EPOCH + Duration::from_secs(claims.exp);
    let left = exp
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    Ok(Authed {
        session: Session {
            user_id: claims.sub,
            user_name,
            device_id: claims.did,
            conn_id,
        },
        expires: Instant::now() + left,
    })
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}

/// Waits for the first frame to be `auth`; returns its request id too.
async fn auth_by_frame(
    state: &AppState,
    stream: &mut SplitStream<WebSocket>,
    conn_id: u64,
) -> Result<(Authed, Option<RequestId>), AppError> {
    let deadline = Instant::now() + AUTH_TIMEOUT;
    loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = sleep_until(deadline) => return Err(AppError::unauthenticated("no auth within 10 s")),
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).map_err(|_| {
                    AppError::unauthenticated("authenticate first: send an auth frame")
                })?;
                if v.get("event").and_then(Value::as_str) != Some(ev::AUTH) {
                    return Err(AppError::unauthenticated(
                        "authenticate first: send an auth frame",
                    ));
                }
                let req: AuthRequest =
                    serde_json::from_value(v.get("data").cloned().unwrap_or(Value::Null))
                        .map_err(|_| AppError::unauthenticated("auth needs data.token"))?;
                let id = request_id(&v);
                return Ok((authenticate(state, &req.token, conn_id).await?, id));
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                return Err(AppError::unauthenticated(
                    "authenticate first: send an auth frame",
                ));
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                return Err(AppError::unauthenticated("closed before authenticating"));
            }
        }
    }
}

/// The `id` of a frame too large to handle, read without building the rest.
fn oversized_frame_id(text: &str) -> Option<RequestId> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: Option<RequestId>,
    }
    serde_json::from_str::<IdOnly>(text).ok()?.id
}

fn request_id(v: &Value) -> Option<RequestId> {
    match v.get("id") {
        Some(Value::Number(n)) => Some(RequestId::Number(n.clone())),
        Some(Value::String(s)) => Some(RequestId::String(s.clone())),
        _ => None,
    }
}

fn ack_text(id: RequestId, result: &Result<Value, AppError>) -> Utf8Bytes {
    let ack = match result {
        Ok(data) => Ack {
            ack: id,
            ok: true,
            data: Some(data.clone()),
            error: None,
        },
        Err(e) => Ack {
            ack: id,
            ok: false,
            data: None,
            error: Some(e.body()),
        },
    };
    Utf8Bytes::from(serde_json::to_string(&ack).unwrap_or_default())
}

fn error_push(e: &AppError) -> Outbound {
    let body = ErrorBody {
        retry_after_ms: e.retry_after_ms,
        ..ErrorBody::new(e.code, e.message.clone())
    };
    Outbound::Push(PushFrame::new(ev::ERROR, &body))
}

async fn run(state: AppState, socket: WebSocket, header_token: Option<String>) {
    let conn_id = state.hub.next_conn_id();
    let (mut sink, mut stream) = socket.split();
    let authed = match header_token {
        Some(t) => Box::pin(authenticate(&state, &t, conn_id))
            .await
            .map(|a| (a, None)),
        None => Box::pin(auth_by_frame(&state, &mut stream, conn_id)).await,
    };
    let (authed, auth_id) = match authed {
        Ok(a) => a,
        Err(e) => {
            let code = if e.code == ErrorCode::Internal {
                1011
            } else {
                CLOSE_UNAUTHENTICATED
            };
            close(&mut sink, code, &e.message).await;
            return;
        }
    };
    let Authed {
        session,
        mut expires,
    } = authed;

    let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
    let kill = CancellationToken::new();
    if let Some(id) = auth_id {
        let _ = tx.try_send(Outbound::Reply(ack_text(id, &Ok(serde_json::json!({})))));
    }
    Box::pin(seed_streams(&state, &session, &tx)).await;
    let hello = hello(&session);
    let _ = tx.try_send(Outbound::Push(PushFrame::new(
        ev::CONNECTION_AUTHENTICATED,
        &hello,
    )));
    let writer = tokio::spawn(write_loop(
        sink,
        rx,
        state.config.ping_interval,
        kill.clone(),
    ));
    Box::pin(attach(&state, &session, &tx, &kill)).await;
    tracing::debug!(conn = conn_id, user = %session.user_id, "connected");

    let idle = state.config.idle_timeout;
    let mut deadline = Instant::now() + idle;
    loop {
        let msg = tokio::select! {
            _ = kill.cancelled() => {
                state.metrics.slow_consumers.inc();
                break;
            }
            _ = state.shutdown.cancelled() => break,
            _ = sleep_until(deadline) => {
                let _ = tx.try_send(Outbound::Close(1001, "idle timeout".into()));
                break;
            }
            _ = sleep_until(expires) => {
                let _ = tx.try_send(Outbound::Close(CLOSE_UNAUTHENTICATED, "token expired".into()));
                break;
            }
            m = stream.next() => m,
        };
        deadline = Instant::now() + idle;
        match msg {
            Some(Ok(Message::Text(text))) => {
                // Boxed: a request's future is large, and an idle
                // connection should not carry its space (scenario 4 of the
                // benchmarks: server memory per idle connection).
                Box::pin(handle_text(&state, &session, &tx, &text, &mut expires)).await;
            }
            Some(Ok(Message::Binary(_))) => {
                let e = AppError::invalid("binary frames are not supported; send JSON text");
                state.metrics.error(e.code);
                let _ = tx.send(error_push(&e)).await;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(_))) | None => break,
            Some(Err(e)) => {
                tracing::debug!(conn = conn_id, error = %e, "socket error");
                let _ = tx.try_send(Outbound::Close(1009, "frame too large or malformed".into()));
                break;
            }
        }
    }

    Box::pin(detach(&state, &session)).await;
    drop(tx);
    // Let the writer flush what is queued (acks, the close frame), but not forever.
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    kill.cancel();
    tracing::debug!(conn = conn_id, "disconnected");
}

/// The `connection.authenticated` push of a session (any transport).
pub(crate) fn hello(session: &Session) -> Authenticated {
    Authenticated {
        user_id: session.user_id.clone(),
        device_id: session.device_id.clone(),
        server_time: rfc3339(now_ms()),
    }
}

/// Queues each room's seq now, before `connection.authenticated` and any
/// push: the connection's streams start after these (see the sequencer).
pub(crate) async fn seed_streams(state: &AppState, session: &Session, tx: &mpsc::Sender<Outbound>) {
    match db::rooms::seqs_of_user(state.db.reader(), &session.user_id).await {
        Ok(rooms) => {
            let seeds = rooms
                .into_iter()
                .map(|(room, seq)| crate::fanout::StreamPos {
                    room: room.into(),
                    seq,
                })
                .collect();
            let _ = tx.try_send(Outbound::Seed(seeds));
        }
        Err(e) => tracing::debug!(error = %e, "cannot seed the connection's streams"),
    }
}

/// Registers an authenticated connection (of any transport) with the hub:
/// from now on it receives pushes; announces its user online if this is
/// their first connection.
pub(crate) async fn attach(
    state: &AppState,
    session: &Session,
    tx: &mpsc::Sender<Outbound>,
    kill: &CancellationToken,
) {
    let first = state.hub.register(
        &session.user_id,
        ConnHandle {
            conn_id: session.conn_id,
            device_id: session.device_id.clone(),
            tx: tx.clone(),
            kill: kill.clone(),
        },
    );
    state.metrics.connections.inc();
    presence::connected(state, &session.user_id, first).await;
}

/// The reverse of [`attach`]: no more pushes; offline if it was the user's
/// last connection; its typing stops.
pub(crate) async fn detach(state: &AppState, session: &Session) {
    let stored = if state.hub.count_of(&session.user_id) == 1 {
        // Last seen is stored before the user can be seen offline, so nobody
        // sees them offline without it (harmless if they are still online
        // on another node: it only shows once they are offline).
        let at = crate::clock::now_ms();
        presence::record_last_seen(state, [session.user_id.as_str()], at).await;
        Some(at)
    } else {
        None
    };
    let last = state.hub.unregister(&session.user_id, session.conn_id);
    presence::disconnected(state, &session.user_id, last, stored).await;
    state.metrics.connections.dec();
    typing_events::announce_stopped(state, state.typing.clear_conn(session.conn_id)).await;
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Outbound>,
    ping_every: Duration,
    kill: CancellationToken,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let mut order = Sequencer::default();
    let mut ready: Vec<PushFrame> = Vec::new();
    // Made once: a fresh `cancelled()` per wake-up would join and leave the
    // token's waiter list on every push.
    let killed = kill.cancelled();
    tokio::pin!(killed);
    loop {
        let held_until = order.deadline();
        tokio::select! {
            biased;
            _ = &mut killed => {
                close(&mut sink, CLOSE_TOO_SLOW, "too slow to keep up; reconnect and sync").await;
                return;
            }
            m = rx.recv() => {
                let Some(mut m) = m else {
                    let _ = sink.close().await;
                    return;
                };
                // Send everything already queued, then flush once.
                loop {
                    match m {
                        Outbound::Push(f) => order.push(f, &mut ready),
                        Outbound::Skip(pos) => order.skip(pos, &mut ready),
                        Outbound::Seed(rooms) => order.seed(rooms),
                        Outbound::Reply(t) => {
                            if sink.feed(Message::Text(t)).await.is_err() { return; }
                        }
                        Outbound::Close(code, reason) => {
                            close(&mut sink, code, &reason).await;
                            return;
                        }
                    }
                    for f in ready.drain(..) {
                        if sink.feed(Message::Text(f.text.clone())).await.is_err() { return; }
                    }
                    match rx.try_recv() {
                        Ok(next) => m = next,
                        Err(_) => break,
                    }
                }
                if sink.flush().await.is_err() { return; }
            }
            _ = sleep_until(held_until.unwrap_or_else(Instant::now)), if held_until.is_some() => {
                order.release_due(Instant::now(), &mut ready);
                for f in ready.drain(..) {
                    if sink.feed(Message::Text(f.text.clone())).await.is_err() { return; }
                }
                if sink.flush().await.is_err() { return; }
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() { return; }
            }
        }
    }
}

async fn handle_text(
    state: &AppState,
    session: &Session,
    tx: &mpsc::Sender<Outbound>,
    text: &str,
    expires: &mut Instant,
) {
    let started = std::time::Instant::now();
    let parsed: Result<Value, AppError> = if text.len() > MAX_FRAME_BYTES {
        Err(AppError::new(
            ErrorCode::TooLarge,
            format!("frames are limited to {MAX_FRAME_BYTES} bytes"),
        ))
    } else {
        serde_json::from_str(text).map_err(|e| AppError::invalid(format!("malformed JSON: {e}")))
    };
    let (id, event, result) = match parsed {
        // Too large, but still owed an ack if it names its request.
        Err(e) if e.code == ErrorCode::TooLarge => (oversized_frame_id(text), "unknown", Err(e)),
        Err(e) => (None, "unknown", Err(e)),
        Ok(v) => {
            let id = request_id(&v);
            match (v.get("event").and_then(Value::as_str), v.get("data")) {
                (None, _) => (
                    id,
                    "unknown",
                    Err(AppError::invalid("event must be a string")),
                ),
                (Some(event), data) => {
                    let data = data.cloned().unwrap_or_else(|| serde_json::json!({}));
                    let name = metric_name(event);
                    let r = if event == ev::AUTH {
                        renew(state, session, data, expires).await
                    } else if !data.is_object() {
                        Err(AppError::invalid("data must be an object"))
                    } else {
                        dispatch(state, session, event, data).await
                    };
                    (id, name, r)
                }
            }
        }
    };
    let label = EventLabel {
        event: event.to_owned(),
    };
    state.metrics.events_in.get_or_create(&label).inc();
    if let Err(e) = &result {
        state.metrics.error(e.code);
    }
    let out = match (id, &result) {
        (Some(id), r) => Some(Outbound::Reply(ack_text(id, r))),
        (None, Err(e)) => Some(error_push(e)),
        (None, Ok(_)) => None,
    };
    if let Some(out) = out {
        let _ = tx.send(out).await;
    }
    state
        .metrics
        .ack_latency
        .get_or_create(&label)
        .observe(started.elapsed().as_secs_f64());
}

/// `auth` on an authenticated socket: a fresh token for the same user and
/// device extends the connection's life.
pub(crate) async fn renew(
    state: &AppState,
    session: &Session,
    data: Value,
    expires: &mut Instant,
) -> Result<Value, AppError> {
    let req: AuthRequest = crate::dispatch::parse(data)?;
    let a = authenticate(state, &req.token, session.conn_id).await?;
    if a.session.user_id != session.user_id || a.session.device_id != session.device_id {
        return Err(AppError::forbidden(
            "a connection cannot change user or device",
        ));
    }
    *expires = a.expires;
    Ok(serde_json::json!({}))
}
