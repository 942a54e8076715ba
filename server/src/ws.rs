//! `GET /ws`: the native WebSocket transport, framing only.
//!
//! A request is a text frame `{id, event, data}`; its answer an ack frame
//! `{ack, ok, data | error}` (or an `error` push when it named no id); a push
//! is `{event, data}`. Malformed frames get an `invalid` error and the
//! connection stays open. What every connection does (authentication, the
//! order of requests and pushes, the writer) is [`crate::connection`].

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use leetchat_protocol::events::AuthRequest;
use leetchat_protocol::events::names as ev;
use leetchat_protocol::{
    Ack, CLOSE_UNAUTHENTICATED, ClientFrame, ErrorBody, ErrorCode, FrameProblem, MAX_FRAME_BYTES,
    RequestId, ServerPush,
};
use serde_json::Value;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::connection::{Authed, Connection, Reader, Transport, authenticate};
use crate::error::AppError;
use crate::fanout::{Outbound, PushFrame};
use crate::state::AppState;

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
                let first = "authenticate first: send an auth frame";
                let f = ClientFrame::parse(&t).map_err(|_| AppError::unauthenticated(first))?;
                if f.event != ev::AUTH {
                    return Err(AppError::unauthenticated(first));
                }
                let req: AuthRequest = serde_json::from_value(f.data)
                    .map_err(|_| AppError::unauthenticated("auth needs data.token"))?;
                return Ok((authenticate(state, &req.token, conn_id).await?, f.id));
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

fn ack_text(id: RequestId, result: &Result<Value, AppError>) -> Utf8Bytes {
    let ack = match result {
        Ok(data) => Ack::ok(id, data.clone()),
        Err(e) => Ack::refusal(id, e.body()),
    };
    Utf8Bytes::from(serde_json::to_string(&ack).unwrap_or_default())
}

fn error_push(e: &AppError) -> Outbound {
    let body = ErrorBody {
        retry_after_ms: e.retry_after_ms,
        ..ErrorBody::new(e.code, e.message.clone())
    };
    Outbound::Push(PushFrame::of(&ServerPush::Error(body)))
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
    let ping_every = state.config.ping_interval;
    let idle = state.config.idle_timeout;
    let first = auth_id.map(|id| Outbound::Reply(ack_text(id, &Ok(serde_json::json!({})))));
    // The native socket has no "gone" signal apart from its reader ending.
    let conn = Connection::open(
        state,
        authed,
        WsSink { sink, ping_every },
        CancellationToken::new(),
        first,
    )
    .await;
    let reader = WsReader {
        stream,
        idle,
        deadline: Instant::now() + idle,
    };
    Box::pin(conn.serve(reader)).await;
}

/// The sending half of a native socket.
struct WsSink {
    sink: SplitSink<WebSocket, Message>,
    ping_every: Duration,
}

impl Transport for WsSink {
    async fn feed_push(&mut self, frame: &PushFrame) -> bool {
        self.sink
            .feed(Message::Text(frame.text.clone()))
            .await
            .is_ok()
    }

    async fn feed_reply(&mut self, text: Utf8Bytes) -> bool {
        self.sink.feed(Message::Text(text)).await.is_ok()
    }

    async fn flush(&mut self) -> bool {
        self.sink.flush().await.is_ok()
    }

    async fn close(&mut self, code: u16, reason: &str) {
        close(&mut self.sink, code, reason).await;
    }

    async fn finish(&mut self) {
        let _ = self.sink.close().await;
    }

    async fn ping(&mut self) -> bool {
        self.sink
            .send(Message::Ping(Default::default()))
            .await
            .is_ok()
    }

    fn ping_interval(&self) -> Option<Duration> {
        Some(self.ping_every)
    }
}

/// The receiving half of a native socket, with its idle timeout.
struct WsReader {
    stream: SplitStream<WebSocket>,
    idle: Duration,
    /// The socket is closed if nothing arrives before this.
    deadline: Instant,
}

/// A frame worth handling.
enum WsFrame {
    Text(Utf8Bytes),
    Binary,
}

impl Reader for WsReader {
    type Item = WsFrame;

    async fn read(&mut self, conn: &Connection) -> Option<WsFrame> {
        loop {
            let msg = tokio::select! {
                m = self.stream.next() => m,
                _ = sleep_until(self.deadline) => {
                    conn.send_now(Outbound::Close(1001, "idle timeout".into()));
                    return None;
                }
            };
            self.deadline = Instant::now() + self.idle;
            match msg {
                Some(Ok(Message::Text(text))) => return Some(WsFrame::Text(text)),
                Some(Ok(Message::Binary(_))) => return Some(WsFrame::Binary),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => return None,
                Some(Err(e)) => {
                    tracing::debug!(conn = conn.session().conn_id, error = %e, "socket error");
                    conn.send_now(Outbound::Close(1009, "frame too large or malformed".into()));
                    return None;
                }
            }
        }
    }

    async fn handle(&mut self, conn: &mut Connection, frame: WsFrame) -> bool {
        match frame {
            WsFrame::Text(text) => handle_text(conn, &text).await,
            WsFrame::Binary => {
                let e = AppError::invalid("binary frames are not supported; send JSON text");
                conn.state().metrics.error(e.code);
                conn.send(error_push(&e)).await;
            }
        }
        true
    }
}

async fn handle_text(conn: &mut Connection, text: &str) {
    let started = std::time::Instant::now();
    let (id, event, result) = match ClientFrame::parse(text) {
        Err(bad) => {
            let e = match bad.problem {
                FrameProblem::TooLarge => AppError::new(
                    ErrorCode::TooLarge,
                    format!("frames are limited to {MAX_FRAME_BYTES} bytes"),
                ),
                FrameProblem::Malformed(why) => AppError::invalid(format!("malformed JSON: {why}")),
                FrameProblem::NoEvent => AppError::invalid("event must be a string"),
            };
            // A frame too large to read is still owed an ack if it names its
            // request; a malformed one has no usable id.
            (bad.id, String::new(), Err(e))
        }
        Ok(f) => {
            let r = conn
                .request(&f.event, f.data, "data must be an object")
                .await;
            (f.id, f.event, r)
        }
    };
    let out = match (id, &result) {
        (Some(id), r) => Some(Outbound::Reply(ack_text(id, r))),
        (None, Err(e)) => Some(error_push(e)),
        (None, Ok(_)) => None,
    };
    if let Some(out) = out {
        conn.send(out).await;
    }
    conn.answered(&event, &result, started);
}
