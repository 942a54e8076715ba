//! A client's connection, whatever carries it: the native WebSocket
//! ([`crate::ws`]) and Socket.IO ([`crate::sio`]) differ only in framing.
//!
//! What every connection does, here once:
//! - **authenticate** a token, and **renew** it on `auth` while live;
//! - **open**: seed the connection's room streams (each room's seq now, so
//!   the sequencer knows where they start), queue `connection.authenticated`,
//!   start the writer, and attach to the hub (it receives pushes from then on,
//!   and its user may be announced online);
//! - **serve**: read what the client sends and run one request at a time,
//!   in order, until the client goes, the token expires, the server shuts
//!   down or the connection is too slow to keep up;
//! - **write**: one task owns the socket's sending side, passes room events
//!   through the [`Sequencer`] (seq order), and sends acks, pushes, pings and
//!   the final close;
//! - **close**: detach (offline if it was the user's last connection, its
//!   typing stops) and let the writer flush, for at most 5 s.
//!
//! A transport provides a [`Transport`] (how frames go out) and a
//! [`Reader`] (how requests come in and how their answers are framed).

use std::future::Future;
use std::time::Duration;

use leetchat_protocol::events::names as ev;
use leetchat_protocol::events::{AuthRequest, Authenticated};
use leetchat_protocol::time::{now_ms, rfc3339};
use leetchat_protocol::{CLOSE_UNAUTHENTICATED, ServerPush};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, Interval, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::error::{AppError, AppResult};
use crate::fanout::{
    CLOSE_TOO_SLOW, ConnHandle, ConnId, OUTBOUND_QUEUE, Outbound, PushFrame, StreamPos,
};
use crate::handlers::{dispatch, metric_name};
use crate::metrics::EventLabel;
use crate::presence;
use crate::sequencer::Sequencer;
use crate::session::{Session, parse};
use crate::state::AppState;
use crate::typists;

/// Who a connection authenticated as.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The session its requests run as.
    pub session: Session,
    /// When its token runs out.
    pub expires: Instant,
}

/// Checks an access token for a new connection `conn_id`: a valid token of
/// a device that is not signed out.
pub async fn authenticate(state: &AppState, token: &str, conn_id: ConnId) -> AppResult<Authed> {
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

/// How a transport sends frames. Each method returns `false` once the
/// socket is gone (the writer then stops).
pub trait Transport: Send + 'static {
    /// Queues a push (sent at the next [`Transport::flush`] at the latest).
    fn feed_push(&mut self, frame: &PushFrame) -> impl Future<Output = bool> + Send;
    /// Queues a reply that went through the outbound queue (an ack).
    fn feed_reply(
        &mut self,
        text: axum::extract::ws::Utf8Bytes,
    ) -> impl Future<Output = bool> + Send;
    /// Sends what was queued.
    fn flush(&mut self) -> impl Future<Output = bool> + Send;
    /// Tells the client why, and closes.
    fn close(&mut self, code: u16, reason: &str) -> impl Future<Output = ()> + Send;
    /// Ends the sending side when nothing more will be sent.
    fn finish(&mut self) -> impl Future<Output = ()> + Send;
    /// A keep-alive ping, for transports that send their own.
    fn ping(&mut self) -> impl Future<Output = bool> + Send;
    /// How often to ping; `None` when the transport keeps itself alive.
    fn ping_interval(&self) -> Option<Duration>;
}

/// How a transport reads requests and answers them.
pub trait Reader: Send {
    /// One thing the client sent.
    type Item: Send;
    /// Waits for the next thing the client sends; `None` ends the
    /// connection. Must be cancel-safe: the wait may be dropped for a
    /// shutdown or an expired token.
    fn read(&mut self, conn: &Connection) -> impl Future<Output = Option<Self::Item>> + Send;
    /// Runs it (with [`Connection::request`]) and answers; `false` ends the
    /// connection.
    fn handle(
        &mut self,
        conn: &mut Connection,
        item: Self::Item,
    ) -> impl Future<Output = bool> + Send;
}

/// A live, authenticated connection.
pub struct Connection {
    state: AppState,
    session: Session,
    expires: Instant,
    tx: mpsc::Sender<Outbound>,
    kill: CancellationToken,
    writer: JoinHandle<()>,
    /// Cancelled when the writer stops (it sent a close, or the socket
    /// broke): the reader stops too, so a client that ignores a close frame
    /// (a signed-out device, say) cannot keep sending requests.
    writer_done: CancellationToken,
}

impl Connection {
    /// Opens a connection on `transport`: `first` (the ack of an `auth`
    /// frame) goes out before anything else; `gone` is cancelled by the
    /// transport when the client has gone (the writer then stops at once).
    pub async fn open<T: Transport>(
        state: AppState,
        authed: Authed,
        transport: T,
        gone: CancellationToken,
        first: Option<Outbound>,
    ) -> Connection {
        let Authed { session, expires } = authed;
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let kill = CancellationToken::new();
        if let Some(f) = first {
            let _ = tx.try_send(f);
        }
        Box::pin(seed_streams(&state, &session, &tx)).await;
        let _ = tx.try_send(Outbound::Push(PushFrame::of(
            &ServerPush::ConnectionAuthenticated(hello(&session)),
        )));
        let writer_done = CancellationToken::new();
        let writer = {
            let (kill, done) = (kill.clone(), writer_done.clone());
            tokio::spawn(async move {
                write_loop(transport, rx, kill, gone).await;
                done.cancel();
            })
        };
        Box::pin(attach(&state, &session, &tx, &kill)).await;
        tracing::debug!(conn = session.conn_id, user = %session.user_id, "connected");
        Connection {
            state,
            session,
            expires,
            tx,
            kill,
            writer,
            writer_done,
        }
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Who the connection runs as.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Queues a frame for the writer, waiting for room in the queue.
    pub async fn send(&self, out: Outbound) {
        let _ = self.tx.send(out).await;
    }

    /// Queues a frame for the writer if there is room (a close, say).
    pub fn send_now(&self, out: Outbound) {
        let _ = self.tx.try_send(out);
    }

    /// Runs one request: `auth` renews the token; other events need `data`
    /// to be an object (`not_an_object` says so in the transport's words)
    /// and go to their handler.
    pub async fn request(
        &mut self,
        event: &str,
        data: Value,
        not_an_object: &'static str,
    ) -> AppResult<Value> {
        if event == ev::AUTH {
            self.renew(data).await
        } else if !data.is_object() {
            Err(AppError::invalid(not_an_object))
        } else {
            dispatch(&self.state, &self.session, event, data).await
        }
    }

    /// Counts a request that was answered: its event (`unknown` for events
    /// the server does not know), its error if any, and how long it took.
    pub fn answered(&self, event: &str, result: &AppResult<Value>, started: std::time::Instant) {
        let m = &self.state.metrics;
        let label = EventLabel {
            event: metric_name(event).to_owned(),
        };
        m.events_in.get_or_create(&label).inc();
        if let Err(e) = result {
            m.error(e.code);
        }
        m.ack_latency
            .get_or_create(&label)
            .observe(started.elapsed().as_secs_f64());
    }

    /// `auth` on an authenticated connection: a fresh token for the same
    /// user and device extends its life.
    async fn renew(&mut self, data: Value) -> AppResult<Value> {
        let req: AuthRequest = parse(data)?;
        let a = authenticate(&self.state, &req.token, self.session.conn_id).await?;
        if a.session.user_id != self.session.user_id
            || a.session.device_id != self.session.device_id
        {
            return Err(AppError::forbidden(
                "a connection cannot change user or device",
            ));
        }
        self.expires = a.expires;
        Ok(serde_json::json!({}))
    }

    /// Reads and runs requests until the connection ends, then closes it.
    pub async fn serve<R: Reader>(mut self, mut reader: R) {
        let kill = self.kill.clone();
        let shutdown = self.state.shutdown.clone();
        let writer_done = self.writer_done.clone();
        loop {
            let expires = self.expires;
            let item = tokio::select! {
                _ = kill.cancelled() => {
                    self.state.metrics.slow_consumers.inc();
                    break;
                }
                _ = writer_done.cancelled() => break,
                _ = shutdown.cancelled() => break,
                _ = sleep_until(expires) => {
                    self.send_now(Outbound::Close(CLOSE_UNAUTHENTICATED, "token expired".into()));
                    break;
                }
                r = reader.read(&self) => match r {
                    Some(item) => item,
                    None => break,
                },
            };
            // Boxed: a request's future is large, and an idle connection
            // should not carry its space (scenario 4 of the benchmarks:
            // server memory per idle connection).
            if !Box::pin(reader.handle(&mut self, item)).await {
                break;
            }
        }
        self.close().await;
    }

    /// Detaches, then lets the writer flush what is queued (acks, the close
    /// frame), but not forever.
    async fn close(self) {
        let Connection {
            state,
            session,
            tx,
            kill,
            writer,
            ..
        } = self;
        Box::pin(detach(&state, &session)).await;
        drop(tx);
        let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
        kill.cancel();
        tracing::debug!(conn = session.conn_id, "disconnected");
    }
}

/// The `connection.authenticated` push of a session.
fn hello(session: &Session) -> Authenticated {
    Authenticated {
        user_id: session.user_id.clone(),
        device_id: session.device_id.clone(),
        server_time: rfc3339(now_ms()),
    }
}

/// Queues each room's seq now, before `connection.authenticated` and any
/// push: the connection's streams start after these (see the sequencer).
async fn seed_streams(state: &AppState, session: &Session, tx: &mpsc::Sender<Outbound>) {
    match db::rooms::seqs_of_user(state.db.reader(), &session.user_id).await {
        Ok(rooms) => {
            let seeds = rooms
                .into_iter()
                .map(|(room, seq)| StreamPos {
                    room: room.into(),
                    seq,
                })
                .collect();
            let _ = tx.try_send(Outbound::Seed(seeds));
        }
        Err(e) => tracing::debug!(error = %e, "cannot seed the connection's streams"),
    }
}

/// Registers the connection with the hub: from now on it receives pushes;
/// announces its user online if this is their first connection.
async fn attach(
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
    // The device counts as connected anywhere (no Web Push for it
    // meanwhile). Said on every attach: two at once must not both skip it.
    state.bus.device_connected(&session.device_id).await;
    // Signed out between the token check and now? Logout revokes the device
    // in the database and then closes its connections in the hub; this
    // connection is in the hub and then reads the database, so one of the
    // two sees the other and it cannot stay open signed out.
    if let Ok(false) =
        db::users::device_active(&state.db, &session.user_id, &session.device_id).await
    {
        // Signed out because the account was deactivated: say so (4403).
        let deactivated = db::users::by_id(state.db.reader(), &session.user_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|u| u.is_deactivated());
        let close = if deactivated {
            Outbound::Close(
                leetchat_protocol::CLOSE_DEACTIVATED,
                "this account has been deactivated".to_owned(),
            )
        } else {
            Outbound::Close(
                leetchat_protocol::CLOSE_UNAUTHENTICATED,
                "this device was signed out".to_owned(),
            )
        };
        let _ = tx.try_send(close);
    }
    let max = state.config.max_sockets_per_device.max(1) as usize;
    let trimmed = state
        .hub
        .trim_device(&session.user_id, &session.device_id, max);
    if trimmed > 0 {
        tracing::info!(user = %session.user_id, device = %session.device_id, trimmed, "too many sockets from one device; closed the oldest");
    }
}

/// The reverse of [`attach`]: no more pushes; offline if it was the user's
/// last connection; its typing stops.
async fn detach(state: &AppState, session: &Session) {
    let stored = if state.hub.count_of(&session.user_id) == 1 {
        // Last seen is stored before the user can be seen offline, so nobody
        // sees them offline without it (harmless if they are still online
        // on another node: it only shows once they are offline).
        let at = now_ms();
        presence::record_last_seen(state, [session.user_id.as_str()], at).await;
        Some(at)
    } else {
        None
    };
    let last = state.hub.unregister(&session.user_id, session.conn_id);
    if state.hub.device_count(&session.user_id, &session.device_id) == 0 {
        state.bus.device_disconnected(&session.device_id).await;
    }
    presence::disconnected(state, &session.user_id, last, stored).await;
    state.metrics.connections.dec();
    typists::announce_stopped(state, state.typing.clear_conn(session.conn_id)).await;
}

/// The writer: sends what the queue holds, room events in seq order, until
/// the queue closes, a close is asked for, the connection is killed (too
/// slow: its queue filled up) or the client is `gone`.
async fn write_loop<T: Transport>(
    mut t: T,
    mut rx: mpsc::Receiver<Outbound>,
    kill: CancellationToken,
    gone: CancellationToken,
) {
    let mut ping = t
        .ping_interval()
        .map(|every| tokio::time::interval_at(Instant::now() + every, every));
    let mut order = Sequencer::default();
    let mut ready: Vec<PushFrame> = Vec::new();
    // Made once: a fresh `cancelled()` per wake-up would join and leave the
    // token's waiter list on every push.
    let killed = kill.cancelled();
    tokio::pin!(killed);
    let left = gone.cancelled();
    tokio::pin!(left);
    loop {
        let held_until = order.deadline();
        tokio::select! {
            biased;
            _ = &mut left => return,
            _ = &mut killed => {
                t.close(CLOSE_TOO_SLOW, "too slow to keep up; reconnect and sync").await;
                return;
            }
            m = rx.recv() => {
                let Some(mut m) = m else {
                    t.finish().await;
                    return;
                };
                // Send everything already queued, then flush once.
                loop {
                    match m {
                        Outbound::Push(f) => order.push(f, &mut ready),
                        Outbound::Skip(pos) => order.skip(pos, &mut ready),
                        Outbound::Seed(rooms) => order.seed(rooms),
                        Outbound::Reply(text) => {
                            if !t.feed_reply(text).await { return; }
                        }
                        Outbound::Close(code, reason) => {
                            t.close(code, &reason).await;
                            return;
                        }
                    }
                    for f in ready.drain(..) {
                        if !t.feed_push(&f).await { return; }
                    }
                    match rx.try_recv() {
                        Ok(next) => m = next,
                        Err(_) => break,
                    }
                }
                if !t.flush().await { return; }
            }
            _ = sleep_until(held_until.unwrap_or_else(Instant::now)), if held_until.is_some() => {
                order.release_due(Instant::now(), &mut ready);
                for f in ready.drain(..) {
                    if !t.feed_push(&f).await { return; }
                }
                if !t.flush().await { return; }
            }
            _ = tick(&mut ping) => {
                if !t.ping().await { return; }
            }
        }
    }
}

/// The next tick of an interval; never, without one.
async fn tick(ping: &mut Option<Interval>) {
    match ping {
        Some(p) => {
            p.tick().await;
        }
        None => std::future::pending().await,
    }
}
