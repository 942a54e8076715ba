//! The live connection's I/O: the socket, the timers, reconnecting. What to
//! send and what each frame means is the [`Engine`]'s (sans-I/O); this
//! module only carries frames and files between it and the server.
//!
//! A connection opens the socket (refreshing the token once if the server
//! refuses it), runs the engine's steps until it is caught up (then the
//! client is online), and stays live: it waits for frames, requests from the
//! API, outbox items coming due, the token's renewal, and the idle ping.
//! Any failure closes the socket, and [`run`] reconnects with backoff until
//! it is stopped or the session is revoked.
//!
//! - [`upload`]: the HTTP upload of a queued file, with the socket read meanwhile.

mod upload;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use leetchat_protocol::events::{AuthRequest, Authenticated, Ping};
use leetchat_protocol::time::now_ms;
use leetchat_protocol::{CLOSE_UNAUTHENTICATED, ClientFrame, ServerPush};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::backoff::Backoff;
use crate::engine::{Engine, Received, Step};
use crate::error::{Error, Result};
use crate::shared::Shared;
use crate::store::outbox::OutboxKind;
use crate::views::{ClientEvent, ConnectionState};

/// How long a request may wait for its ack before the socket counts as dead.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Silence after which the client pings the server.
pub const IDLE_PING: Duration = Duration::from_secs(20);

/// A request from the API to run on the live socket.
#[derive(Debug)]
pub struct Command {
    /// Event name.
    pub event: &'static str,
    /// Its data.
    pub data: Value,
    /// Where the ack's data (or the refusal) goes.
    pub reply: oneshot::Sender<Result<Value>>,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Frame = Option<std::result::Result<WsMessage, tokio_tungstenite::tungstenite::Error>>;

/// Why a connection ended without an error.
enum End {
    /// Asked to stop.
    Stopped,
    /// `run_once` finished its work.
    Done,
}

/// Runs until stopped: connects, and reconnects with backoff after failures.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    loop {
        if *stop.borrow() {
            break;
        }
        shared.set_state(ConnectionState::Connecting);
        match session(&shared, &mut commands, &mut stop, &mut backoff, false).await {
            Ok(End::Stopped) => break,
            Ok(End::Done) => {}
            Err(Error::SignedOut(reason)) => {
                tracing::warn!(%reason, "signed out");
                shared.set_state(ConnectionState::SignedOut);
                refuse_until_stopped(&mut commands, &mut stop, Error::SignedOut(reason)).await;
                break;
            }
            Err(e) => tracing::info!(error = %e, "connection lost"),
        }
        shared.set_state(ConnectionState::Offline);
        let wake = Instant::now() + backoff.next_delay();
        loop {
            tokio::select! {
                _ = sleep_until(wake) => break,
                _ = stop.changed() => break,
                c = commands.recv() => match c {
                    Some(c) => { let _ = c.reply.send(Err(Error::Offline)); }
                    None => return,
                },
            }
        }
    }
    shared.set_state(ConnectionState::Offline);
}

async fn refuse_until_stopped(
    commands: &mut mpsc::UnboundedReceiver<Command>,
    stop: &mut watch::Receiver<bool>,
    err: Error,
) {
    let msg = err.to_string();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            c = commands.recv() => match c {
                Some(c) => { let _ = c.reply.send(Err(Error::SignedOut(msg.clone()))); }
                None => return,
            },
        }
    }
}

/// Catches up and flushes the outbox on one connection, then closes it.
pub(crate) async fn run_once(shared: &Arc<Shared>) -> Result<()> {
    let (_tx, mut rx) = mpsc::unbounded_channel();
    let (_stop_tx, mut stop) = watch::channel(false);
    let mut backoff = Backoff::default();
    session(shared, &mut rx, &mut stop, &mut backoff, true)
        .await
        .map(|_| ())
}

/// One connection: catch up, then (unless `once`) stay live.
async fn session(
    shared: &Arc<Shared>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    stop: &mut watch::Receiver<bool>,
    backoff: &mut Backoff,
    once: bool,
) -> Result<End> {
    let mut conn = Conn::open(shared).await?;
    backoff.reset();
    sweep_file_copies(shared)?;
    shared.set_state(ConnectionState::Syncing);
    let result = conn.live(commands, stop, once).await;
    if let Err(Error::TokenRefused) = &result {
        shared.session.expire();
    }
    result
}

/// Removes copies of files that no queued send needs any more.
fn sweep_file_copies(shared: &Shared) -> Result<()> {
    let queued: HashSet<String> = shared
        .store
        .outbox_items()?
        .into_iter()
        .filter(|i| i.kind() == OutboxKind::Send)
        .map(|i| i.temp_id)
        .collect();
    crate::files::sweep_outbox_copies(&shared.config.data_dir, &queued);
    Ok(())
}

/// An open, authenticated socket and its engine.
struct Conn {
    shared: Arc<Shared>,
    ws: Socket,
    engine: Engine,
}

impl Conn {
    async fn open(shared: &Arc<Shared>) -> Result<Conn> {
        for attempt in 0..2 {
            let token = shared.session.access_token(attempt > 0).await?;
            let mut req = shared
                .api
                .ws_url()
                .into_client_request()
                .map_err(|e| Error::Invalid(e.to_string()))?;
            req.headers_mut().insert(
                "authorization",
                format!("Bearer {token}")
                    .parse()
                    .map_err(|_| Error::Invalid("token is not a valid header".into()))?,
            );
            let (mut ws, _) = timeout(
                REQUEST_TIMEOUT,
                // No Nagle: small frames (sends, acks) must leave at once.
                tokio_tungstenite::connect_async_with_config(req, None, true),
            )
            .await
            .map_err(|_| Error::Network("connect timed out".into()))?
            .map_err(|e| Error::Network(e.to_string()))?;
            let first = timeout(REQUEST_TIMEOUT, ws.next())
                .await
                .map_err(|_| Error::Network("no greeting from the server".into()))?;
            match first {
                Some(Ok(WsMessage::Text(t))) => {
                    let hello: Authenticated = greeting(&t)?;
                    let engine = Engine::new(
                        shared.store.clone(),
                        &hello.user_id,
                        shared.config.data_dir.clone(),
                    );
                    return Ok(Conn {
                        shared: shared.clone(),
                        ws,
                        engine,
                    });
                }
                Some(Ok(WsMessage::Close(Some(f))))
                    if u16::from(f.code) == CLOSE_UNAUTHENTICATED =>
                {
                    tracing::info!(reason = %f.reason, "token refused; refreshing");
                    continue;
                }
                other => return Err(Error::Network(format!("connection closed: {other:?}"))),
            }
        }
        Err(Error::SignedOut(
            "the server refused a freshly refreshed token".into(),
        ))
    }

    async fn close(&mut self) {
        let _ = timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }

    /// Catches up, then stays live until stopped or broken.
    async fn live(
        &mut self,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        stop: &mut watch::Receiver<bool>,
        once: bool,
    ) -> Result<End> {
        let mut quiet_since = Instant::now();
        // Before anything is caught up: a message from someone blocked
        // meanwhile (on another device) must not notify.
        self.refresh_blocked().await?;
        loop {
            if self.work().await? && once {
                self.close().await;
                return Ok(End::Done);
            }
            let due = self
                .engine
                .next_due()?
                .map(|ms| Instant::now() + Duration::from_millis((ms - now_ms()).max(0) as u64))
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            let renew_at = self.shared.session.renewal_due().await;
            tokio::select! {
                _ = stop.changed() => {
                    self.close().await;
                    return Ok(End::Stopped);
                }
                frame = self.ws.next() => {
                    quiet_since = Instant::now();
                    self.receive(frame)?;
                }
                c = commands.recv() => match c {
                    Some(c) => self.command(c).await?,
                    None => return Ok(End::Stopped),
                },
                _ = self.shared.outbox_changed.notified() => {}
                _ = sleep_until(due) => {}
                _ = sleep_until(renew_at) => {
                    let token = self.shared.session.access_token(true).await?;
                    let frame = self.engine.keepalive(&AuthRequest { token })?;
                    self.exchange(frame).await?;
                }
                _ = sleep_until(quiet_since + IDLE_PING) => {
                    let frame = self.engine.keepalive(&Ping {})?;
                    self.exchange(frame).await?;
                    quiet_since = Instant::now();
                }
            }
        }
    }

    /// Runs the engine's steps until it has nothing to do; `true` once it
    /// has caught up (the client is online from then on).
    async fn work(&mut self) -> Result<bool> {
        loop {
            let step = self.engine.next_step(now_ms());
            self.emit_events();
            match step? {
                Step::Send(frame) => {
                    self.exchange(frame).await?;
                }
                Step::Upload(u) => {
                    let result = self.upload(u).await;
                    let applied = self.engine.on_uploaded(result);
                    self.emit_events();
                    applied?;
                }
                Step::CaughtUp => {
                    self.shared.set_state(ConnectionState::Online);
                    self.shared.emit(ClientEvent::Synced);
                }
                Step::Idle => return Ok(self.engine.is_live()),
            }
        }
    }

    /// Asks for the user's blocked list, once per connection before
    /// catching up (a block made while this device was away counts for
    /// what comes in); the engine stores the answer. A server without
    /// blocks refuses it: nothing is kept then.
    async fn refresh_blocked(&mut self) -> Result<()> {
        use leetchat_protocol::Request;
        use leetchat_protocol::events::ListBlocks;
        let frame = self
            .engine
            .command(ListBlocks::EVENT, serde_json::json!({}));
        if let Received::Command(Err(e)) = self.exchange(frame).await? {
            tracing::debug!(error = %e, "the server keeps no blocked list");
        }
        Ok(())
    }

    /// Runs an API request and hands its outcome back.
    async fn command(&mut self, c: Command) -> Result<()> {
        let frame = self.engine.command(c.event, c.data);
        match self.exchange(frame).await {
            Ok(Received::Command(result)) => {
                let _ = c.reply.send(result);
                Ok(())
            }
            Ok(_) => {
                let _ = c.reply.send(Err(Error::Protocol("no answer".into())));
                Ok(())
            }
            Err(e) => {
                let _ = c.reply.send(Err(match &e {
                    Error::Network(_) | Error::Offline | Error::TokenRefused => Error::Offline,
                    other => Error::Protocol(other.to_string()),
                }));
                Err(e)
            }
        }
    }

    /// Sends a frame and waits for its ack, applying pushes meanwhile.
    async fn exchange(&mut self, frame: ClientFrame) -> Result<Received> {
        let text = serde_json::to_string(&frame)?;
        if let Err(e) = self.ws.send(WsMessage::Text(text.into())).await {
            self.engine.abandon();
            return Err(Error::Network(e.to_string()));
        }
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let frame = tokio::select! {
                f = self.ws.next() => f,
                _ = sleep_until(deadline) => {
                    self.engine.abandon();
                    return Err(Error::Network(format!("no answer to {}", frame.event)));
                }
            };
            match self.receive(frame) {
                Ok(Received::Other) => {}
                Ok(answer) => return Ok(answer),
                Err(e) => {
                    self.engine.abandon();
                    return Err(e);
                }
            }
        }
    }

    /// Hands what the server sent to the engine.
    fn receive(&mut self, frame: Frame) -> Result<Received> {
        let r = match frame {
            Some(Ok(WsMessage::Text(t))) => self.engine.on_frame(&t),
            Some(Ok(WsMessage::Close(f))) => {
                if let Some(f) = &f
                    && u16::from(f.code) == CLOSE_UNAUTHENTICATED
                {
                    self.shared.session.expire();
                }
                Err(Error::Network(format!("closed by the server: {f:?}")))
            }
            Some(Ok(_)) => Ok(Received::Other),
            Some(Err(e)) => Err(Error::Network(e.to_string())),
            None => Err(Error::Network("connection closed".into())),
        };
        self.emit_events();
        r
    }

    fn emit_events(&mut self) {
        for e in self.engine.take_events() {
            self.shared.emit(e);
        }
    }
}

/// The server's first frame: `connection.authenticated`.
fn greeting(text: &str) -> Result<Authenticated> {
    let f = leetchat_protocol::ServerFrame::parse(text)?;
    if let leetchat_protocol::ServerFrame::Push(p) = &f
        && let Some(ServerPush::ConnectionAuthenticated(a)) =
            ServerPush::parse(&p.event, p.data.clone())?
    {
        return Ok(a);
    }
    Err(Error::Protocol(format!(
        "expected connection.authenticated, got {text}"
    )))
}
