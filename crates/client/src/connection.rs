//! The live connection: connect, catch up, flush the outbox, stay live, and
//! come back after any failure without losing or duplicating anything.
//!
//! Every (re)connect runs the same steps: authenticate, `room.list`, `sync`
//! from the stored per-room seqs until nothing is missing, then the outbox in
//! order, then live pushes. A pushed seq that jumps triggers a `sync` of that
//! room. Requests run one at a time on the socket while pushes that arrive
//! meanwhile are applied, so the store always reflects the order the server
//! sent things in.
//!
//! - [`upload`]: the upload step of queued file sends.

mod upload;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use leetchat_protocol::events::names as ev;
use leetchat_protocol::events::{
    MemberEvent, MessageDeleted, MessageEdited, MessageEnvelope, Presence, ReceiptUpdated,
    RoomEnvelope, RoomList, SyncResponse, TypingUser,
};
use leetchat_protocol::{CLOSE_UNAUTHENTICATED, ErrorBody, ErrorCode, Room};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::backoff::Backoff;
use crate::client::Inner;
use crate::error::{Error, Result};
use crate::store::outbox::{OutboxItem, OutboxKind};
use crate::store::{SeqOutcome, now_ms};
use crate::views::{ClientEvent, ConnectionState};

/// How long a request may wait for its ack before the socket counts as dead.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Silence after which the client pings the server.
pub const IDLE_PING: Duration = Duration::from_secs(20);
/// Events per room asked of each `sync`.
const SYNC_PAGE: i64 = 500;

/// A request from the API to run on the live socket.
#[derive(Debug)]
pub struct Command {
    /// Event name.
    pub event: String,
    /// Its data.
    pub data: Value,
    /// Where the ack goes.
    pub reply: oneshot::Sender<Result<Value>>,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a session ended.
pub(crate) enum End {
    /// Asked to stop.
    Stopped,
    /// `run_once` finished its work.
    Done,
}

/// Runs until stopped: connects, and reconnects with backoff after failures.
pub(crate) async fn run(
    inner: Arc<Inner>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    loop {
        if *stop.borrow() {
            break;
        }
        inner.set_state(ConnectionState::Connecting);
        match session(&inner, &mut commands, &mut stop, &mut backoff, false).await {
            Ok(End::Stopped) => break,
            Ok(End::Done) => {}
            Err(Error::SignedOut(reason)) => {
                tracing::warn!(%reason, "signed out");
                inner.set_state(ConnectionState::SignedOut);
                refuse_until_stopped(&mut commands, &mut stop, Error::SignedOut(reason)).await;
                break;
            }
            Err(e) => tracing::info!(error = %e, "connection lost"),
        }
        inner.set_state(ConnectionState::Offline);
        let delay = backoff.next_delay();
        let wake = Instant::now() + delay;
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
    inner.set_state(ConnectionState::Offline);
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

/// One connection: catch up, flush the outbox, then (unless `once`) stay live.
pub(crate) async fn session(
    inner: &Arc<Inner>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    stop: &mut watch::Receiver<bool>,
    backoff: &mut Backoff,
    once: bool,
) -> Result<End> {
    let mut conn = Conn::open(inner).await?;
    backoff.reset();
    sweep_file_copies(inner)?;
    inner.set_state(ConnectionState::Syncing);
    conn.catch_up().await?;
    conn.flush_outbox().await?;
    conn.sync_gaps().await?;
    inner.set_state(ConnectionState::Online);
    inner.emit(ClientEvent::Synced);
    if once {
        conn.close().await;
        return Ok(End::Done);
    }
    let mut quiet_since = Instant::now();
    loop {
        conn.flush_outbox().await?;
        conn.sync_gaps().await?;
        let due = inner
            .store
            .outbox_next_due()?
            .map(|ms| Instant::now() + Duration::from_millis((ms - now_ms()).max(0) as u64))
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        let renew_at = inner.renewal_due().await;
        tokio::select! {
            _ = stop.changed() => {
                conn.close().await;
                return Ok(End::Stopped);
            }
            frame = conn.ws.next() => {
                quiet_since = Instant::now();
                conn.handle_incoming(frame)?;
            }
            c = commands.recv() => match c {
                Some(c) => {
                    let r = conn.call(&c.event, c.data).await;
                    let (reply, keep) = match r {
                        Err(e @ (Error::Network(_) | Error::Offline)) => (Err(Error::Offline), Err(e)),
                        other => (other, Ok(())),
                    };
                    if let Ok(v) = &reply { conn.absorb_ack(v)?; }
                    let _ = c.reply.send(reply);
                    keep?;
                }
                None => return Ok(End::Stopped),
            },
            _ = inner.outbox_changed.notified() => {}
            _ = sleep_until(due) => {}
            _ = sleep_until(renew_at) => {
                let token = inner.access_token(true).await?;
                conn.call(ev::AUTH, json!({"token": token})).await?;
            }
            _ = sleep_until(quiet_since + IDLE_PING) => {
                conn.call(ev::PING, json!({})).await?;
                quiet_since = Instant::now();
            }
        }
    }
}

/// Removes copies of files that no queued send needs any more.
fn sweep_file_copies(inner: &Inner) -> Result<()> {
    let queued: HashSet<String> = inner
        .store
        .outbox_items()?
        .into_iter()
        .filter(|i| i.kind == OutboxKind::Send)
        .map(|i| i.temp_id)
        .collect();
    crate::files::sweep_outbox_copies(&inner.config.data_dir, &queued);
    Ok(())
}

/// Catches up and flushes the outbox on one connection, then closes it.
pub(crate) async fn run_once(inner: &Arc<Inner>) -> Result<()> {
    let (_tx, mut rx) = mpsc::unbounded_channel();
    let (_stop_tx, mut stop) = watch::channel(false);
    let mut backoff = Backoff::default();
    session(inner, &mut rx, &mut stop, &mut backoff, true)
        .await
        .map(|_| ())
}

/// An open, authenticated socket.
struct Conn {
    inner: Arc<Inner>,
    ws: Socket,
    next_id: u64,
    me: String,
    /// Rooms whose stream has a hole to fill with `sync`.
    gaps: BTreeSet<String>,
    /// Rooms first seen: fetch their newest page.
    fresh: BTreeSet<String>,
}

impl Conn {
    async fn open(inner: &Arc<Inner>) -> Result<Conn> {
        for attempt in 0..2 {
            let token = inner.access_token(attempt > 0).await?;
            let mut req = inner
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
                    let v: Value = serde_json::from_str(&t)?;
                    if v["event"] == ev::CONNECTION_AUTHENTICATED {
                        let me = v["data"]["userId"].as_str().unwrap_or_default().to_owned();
                        return Ok(Conn {
                            inner: inner.clone(),
                            ws,
                            next_id: 1,
                            me,
                            gaps: BTreeSet::new(),
                            fresh: BTreeSet::new(),
                        });
                    }
                    return Err(Error::Protocol(format!(
                        "expected connection.authenticated, got {v}"
                    )));
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

    /// Sends a request and waits for its ack, applying pushes meanwhile.
    async fn call(&mut self, event: &str, data: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"id": id, "event": event, "data": data});
        self.ws
            .send(WsMessage::Text(frame.to_string().into()))
            .await
            .map_err(|e| Error::Network(e.to_string()))?;
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let frame = tokio::select! {
                f = self.ws.next() => f,
                _ = sleep_until(deadline) => return Err(Error::Network(format!("no answer to {event}"))),
            };
            if let Some(ack) = self.handle_incoming(frame)?
                && ack.get("ack").and_then(Value::as_u64) == Some(id)
            {
                return if ack["ok"] == true {
                    Ok(ack.get("data").cloned().unwrap_or(Value::Null))
                } else {
                    let body: ErrorBody = serde_json::from_value(ack["error"].clone())?;
                    Err(Error::Server(body))
                };
            }
        }
    }

    /// Applies a push; returns an ack for the caller to match.
    fn handle_incoming(
        &mut self,
        frame: Option<std::result::Result<WsMessage, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<Option<Value>> {
        match frame {
            Some(Ok(WsMessage::Text(t))) => {
                let v: Value = serde_json::from_str(&t)?;
                if v.get("ack").is_some() {
                    return Ok(Some(v));
                }
                if let Some(event) = v.get("event").and_then(Value::as_str) {
                    let data = v.get("data").cloned().unwrap_or(Value::Null);
                    self.apply_push(event, data)?;
                }
                Ok(None)
            }
            Some(Ok(WsMessage::Close(f))) => {
                if let Some(f) = &f
                    && u16::from(f.code) == CLOSE_UNAUTHENTICATED
                {
                    self.inner.expire_access_token();
                }
                Err(Error::Network(format!("closed by the server: {f:?}")))
            }
            Some(Ok(_)) => Ok(None),
            Some(Err(e)) => Err(Error::Network(e.to_string())),
            None => Err(Error::Network("connection closed".into())),
        }
    }

    /// Records a room event's seq; a jump schedules a sync of the room.
    fn seq(&mut self, room_id: &str, seq: i64) -> Result<()> {
        match self.inner.store.note_seq(room_id, seq)? {
            SeqOutcome::Next | SeqOutcome::Seen => {}
            SeqOutcome::Gap { .. } | SeqOutcome::UnknownRoom => {
                self.gaps.insert(room_id.to_owned());
            }
        }
        Ok(())
    }

    fn apply_push(&mut self, event: &str, data: Value) -> Result<()> {
        let inner = self.inner.clone();
        let store = &inner.store;
        match event {
            ev::MESSAGE_RECEIVED => {
                let m: MessageEnvelope = serde_json::from_value(data)?;
                let view = store.apply_message(&m.message)?;
                self.seq(&m.message.room_id, m.message.seq)?;
                self.inner
                    .emit(ClientEvent::MessageUpserted { message: view });
            }
            ev::MESSAGE_EDITED => {
                let m: MessageEdited = serde_json::from_value(data)?;
                let view = store.apply_message(&m.message)?;
                self.seq(&m.message.room_id, m.seq)?;
                self.inner
                    .emit(ClientEvent::MessageUpserted { message: view });
            }
            ev::MESSAGE_DELETED => {
                let d: MessageDeleted = serde_json::from_value(data)?;
                if let Some(view) = store.apply_deleted(&d.message_id, &d.deleted_at)? {
                    self.inner
                        .emit(ClientEvent::MessageUpserted { message: view });
                }
                self.seq(&d.room_id, d.seq)?;
            }
            ev::ROOM_MEMBER_JOINED => {
                let m: MemberEvent = serde_json::from_value(data)?;
                store.apply_member_joined(
                    &m.room_id,
                    &m.user_id,
                    &crate::views::rfc3339(now_ms()),
                )?;
                self.seq(&m.room_id, m.seq)?;
                self.emit_room(&m.room_id)?;
            }
            ev::ROOM_MEMBER_LEFT => {
                let m: MemberEvent = serde_json::from_value(data)?;
                if m.user_id == self.me {
                    store.remove_room(&m.room_id)?;
                    self.gaps.remove(&m.room_id);
                    self.inner
                        .emit(ClientEvent::RoomRemoved { room_id: m.room_id });
                } else {
                    store.apply_member_left(&m.room_id, &m.user_id)?;
                    self.seq(&m.room_id, m.seq)?;
                    self.emit_room(&m.room_id)?;
                }
            }
            ev::ROOM_CREATED | ev::ROOM_UPDATED => {
                let r: RoomEnvelope = serde_json::from_value(data)?;
                self.absorb_room(&r.room)?;
            }
            ev::RECEIPT_UPDATED => {
                let r: ReceiptUpdated = serde_json::from_value(data)?;
                store.apply_receipt(&r.room_id, &r.user_id, r.seq, &self.me)?;
                self.inner.emit(ClientEvent::Receipt {
                    room_id: r.room_id,
                    user_id: r.user_id,
                    seq: r.seq,
                });
            }
            ev::TYPING_USER => {
                let t: TypingUser = serde_json::from_value(data)?;
                self.inner.emit(ClientEvent::Typing {
                    room_id: t.room_id,
                    user_id: t.user_id,
                    user_name: t.user_name,
                    is_typing: t.is_typing,
                });
            }
            ev::PRESENCE_UPDATE => {
                let p: Presence = serde_json::from_value(data)?;
                store.apply_presence(&p)?;
                self.inner.emit(ClientEvent::Presence {
                    user_id: p.user_id,
                    status: match p.status {
                        leetchat_protocol::events::Status::Online => "online".into(),
                        leetchat_protocol::events::Status::Offline => "offline".into(),
                    },
                    last_seen: p.last_seen,
                });
            }
            ev::ERROR => tracing::warn!(%data, "server reported an error"),
            ev::SYNC_NEEDED => {
                // The server may have missed events for us: sync every room.
                tracing::info!(%data, "server asks for a sync");
                let known = self.inner.store.room_ids()?;
                self.gaps.extend(known);
            }
            _ => {}
        }
        Ok(())
    }

    fn emit_room(&self, room_id: &str) -> Result<()> {
        if let Some(room) = self.inner.store.room(room_id, &self.me)? {
            self.inner.emit(ClientEvent::RoomUpdated { room });
        }
        Ok(())
    }

    /// Stores a room from the server. A room seen for the first time starts
    /// its stream at the room's current seq and gets its newest page fetched.
    fn absorb_room(&mut self, room: &Room) -> Result<()> {
        let known = self.inner.store.synced_seq(&room.room_id)?.is_some();
        self.inner.store.apply_room(room)?;
        if known {
            if self.inner.store.synced_seq(&room.room_id)?.unwrap_or(0) < room.last_seq {
                self.gaps.insert(room.room_id.clone());
            }
        } else {
            self.inner.store.set_synced(&room.room_id, room.last_seq)?;
            self.fresh.insert(room.room_id.clone());
        }
        self.emit_room(&room.room_id)
    }

    /// Side effects of acks to API requests (rooms and messages they carry).
    fn absorb_ack(&mut self, ack: &Value) -> Result<()> {
        if let Some(room) = ack.get("room")
            && let Ok(room) = serde_json::from_value::<Room>(room.clone())
        {
            self.absorb_room(&room)?;
        }
        Ok(())
    }

    /// `room.list` and `sync` until nothing is missing.
    async fn catch_up(&mut self) -> Result<()> {
        let list: RoomList = serde_json::from_value(self.call(ev::ROOM_LIST, json!({})).await?)?;
        let listed: BTreeSet<String> = list.rooms.iter().map(|r| r.room.room_id.clone()).collect();
        for summary in &list.rooms {
            self.absorb_room(&summary.room)?;
            self.inner
                .store
                .set_my_read(&summary.room.room_id, summary.last_read_seq)?;
        }
        // Rooms the user lost while away: sync them once to see the leave, then forget them.
        for gone in self
            .inner
            .store
            .room_ids()?
            .into_iter()
            .filter(|r| !listed.contains(r))
        {
            self.gaps.insert(gone);
        }
        let known: Vec<String> = self.inner.store.room_ids()?;
        self.gaps.extend(known);
        self.sync_gaps().await
    }

    /// Fills every scheduled gap with `sync`, and fetches fresh rooms' newest pages.
    async fn sync_gaps(&mut self) -> Result<()> {
        while !self.gaps.is_empty() {
            let positions = self.inner.store.sync_positions()?;
            let since: serde_json::Map<String, Value> = self
                .gaps
                .iter()
                .map(|r| (r.clone(), json!(positions.get(r).copied().unwrap_or(0))))
                .collect();
            self.gaps.clear();
            let resp: SyncResponse = serde_json::from_value(
                self.call(ev::SYNC, json!({"since": since, "limit": SYNC_PAGE}))
                    .await?,
            )?;
            for (room_id, part) in resp.rooms {
                for e in part.events {
                    self.apply_push(&e.event, e.data)?;
                    if self.inner.store.synced_seq(&room_id)?.is_some() {
                        self.inner.store.set_synced(&room_id, e.seq)?;
                    }
                }
                if part.error.is_some() {
                    self.inner.store.remove_room(&room_id)?;
                    self.inner.emit(ClientEvent::RoomRemoved { room_id });
                } else if part.has_more {
                    self.gaps.insert(room_id);
                } else {
                    self.gaps.remove(&room_id);
                }
            }
            for room in resp.new_rooms {
                self.absorb_room(&room)?;
            }
        }
        let fresh: Vec<String> = std::mem::take(&mut self.fresh).into_iter().collect();
        for room_id in fresh {
            let page = self
                .call(ev::MESSAGE_HISTORY, json!({"roomId": room_id, "limit": 50}))
                .await?;
            crate::client::absorb_history(&self.inner, &room_id, &page)?;
        }
        Ok(())
    }

    /// Sends what the outbox holds, in order per room.
    async fn flush_outbox(&mut self) -> Result<()> {
        while let Some(item) = self.inner.store.outbox_take(now_ms())? {
            let mut earlier_uploads = false;
            let request = match item.kind {
                OutboxKind::Send if item.payload.get("files").is_some() => {
                    match self.prepare_file_send(&item).await? {
                        upload::Prepared::Send {
                            data,
                            earlier_uploads: earlier,
                        } => {
                            earlier_uploads = earlier;
                            Some((ev::MESSAGE_SEND, data))
                        }
                        upload::Prepared::Handled => continue,
                    }
                }
                OutboxKind::Send => Some((ev::MESSAGE_SEND, item.payload.clone())),
                OutboxKind::Edit | OutboxKind::Delete => self
                    .inner
                    .store
                    .server_id_of(&item.temp_id)?
                    .map(|id| match item.kind {
                        OutboxKind::Edit => (
                            ev::MESSAGE_EDIT,
                            json!({"messageId": id, "content": item.payload["content"]}),
                        ),
                        _ => (ev::MESSAGE_DELETE, json!({"messageId": id})),
                    }),
            };
            let Some((event, data)) = request else {
                self.fail(&item, "the message was never sent")?;
                continue;
            };
            match self.call(event, data).await {
                Ok(ack) => self.acked(&item, &ack)?,
                Err(Error::Server(body)) if earlier_uploads => {
                    self.refused_after_earlier_uploads(&item, body)?
                }
                Err(Error::Server(body)) => self.refused(&item, body)?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn acked(&mut self, item: &OutboxItem, ack: &Value) -> Result<()> {
        let inner = self.inner.clone();
        let store = &inner.store;
        match item.kind {
            OutboxKind::Send => {
                let m: MessageEnvelope = serde_json::from_value(ack.clone())?;
                let view = store.apply_message(&m.message)?;
                self.seq(&m.message.room_id, m.message.seq)?;
                self.inner
                    .emit(ClientEvent::MessageUpserted { message: view });
            }
            OutboxKind::Edit => {
                let m: MessageEdited = serde_json::from_value(ack.clone())?;
                let view = store.apply_message(&m.message)?;
                self.seq(&m.message.room_id, m.seq)?;
                self.inner
                    .emit(ClientEvent::MessageUpserted { message: view });
            }
            OutboxKind::Delete => {
                let d: MessageDeleted = serde_json::from_value(ack.clone())?;
                if let Some(view) = store.apply_deleted(&d.message_id, &d.deleted_at)? {
                    self.inner
                        .emit(ClientEvent::MessageUpserted { message: view });
                }
                self.seq(&item.room_id, d.seq)?;
            }
        }
        store.outbox_done(item.id)?;
        self.forget_file_copies(item);
        Ok(())
    }

    /// A send that is acked or refused needs its files' copies no more.
    fn forget_file_copies(&self, item: &OutboxItem) {
        if item.kind == OutboxKind::Send && item.payload.get("files").is_some() {
            crate::files::remove_outbox_copies(&self.inner.config.data_dir, &item.temp_id);
        }
    }

    fn refused(&mut self, item: &OutboxItem, body: ErrorBody) -> Result<()> {
        let inner = self.inner.clone();
        let store = &inner.store;
        match body.code {
            ErrorCode::RateLimited => store.outbox_defer(
                item.id,
                now_ms() + body.retry_after_ms.unwrap_or(1000) as i64,
            ),
            ErrorCode::Internal => {
                let wait = 1000i64 << item.attempts.clamp(0, 6);
                store.outbox_defer(item.id, now_ms() + wait)
            }
            ErrorCode::Unauthenticated => {
                self.inner.expire_access_token();
                Err(Error::Network("token refused".into()))
            }
            _ => self.fail(item, &body.message),
        }
    }

    fn fail(&mut self, item: &OutboxItem, reason: &str) -> Result<()> {
        tracing::warn!(temp_id = %item.temp_id, %reason, "outbox item refused");
        if let Some(view) = self.inner.store.outbox_fail(item, reason)? {
            self.inner
                .emit(ClientEvent::MessageUpserted { message: view });
        }
        self.forget_file_copies(item);
        self.inner.emit(ClientEvent::OutboxFailed {
            room_id: item.room_id.clone(),
            temp_id: item.temp_id.clone(),
            reason: reason.to_owned(),
        });
        Ok(())
    }
}
