//! The connection's logic without the socket (sans-I/O): what to ask the
//! server next, and what every frame it sends does to the store.
//!
//! The [`Engine`] is driven by [`crate::connection`], which owns the socket
//! and the timers: it asks [`Engine::next_step`] what to do, sends the frame
//! or uploads the file it is told to, and hands every frame the server sends
//! to [`Engine::on_frame`]. Tests drive it the same way with frames written
//! by hand (see `tests`), no server needed.
//!
//! Every (re)connect runs the same steps:
//! 1. `room.list`: store each room, its members and the user's read pointer;
//!    a room seen for the first time starts its stream at the room's
//!    current seq and gets its newest page fetched.
//! 2. `sync` from each stored room's synced seq until nothing is missing
//!    (rooms the user lost answer with an error and are forgotten), then the
//!    newest page of each new room.
//! 3. The outbox, in order per room ([`outbox`]).
//! 4. `sync` again for any gap the acks revealed: caught up ([`Step::CaughtUp`]).
//! 5. Live: every numbered push goes through the room's seq; a jump (or an
//!    unknown room) schedules a `sync` of that room; new outbox items go out
//!    as they are queued.
//!
//! One request is in flight at a time, so the store always reflects the
//! order the server sent things in.
//!
//! - [`apply`]: pushes and pages into the store, and the events they cause.
//! - [`outbox`]: outbox items into requests and uploads, and their answers.

pub mod apply;
pub mod outbox;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use leetchat_protocol::events::{
    Direction, History, HistoryPage, ListRooms, RoomEnvelope, RoomList, SyncRequest, SyncResponse,
};
use leetchat_protocol::{ClientFrame, ErrorBody, Request, RequestId, ServerFrame, ServerPush};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::outbox::OutboxItem;
use crate::views::{ClientEvent, Origin};

pub use outbox::Upload;

/// Events per room asked of each `sync`.
pub const SYNC_PAGE: i64 = 500;
/// Messages in the first page fetched for a new room.
pub const FIRST_PAGE: u32 = 50;

/// What the connection should do next.
#[derive(Debug)]
pub enum Step {
    /// Send this frame; its ack comes back through [`Engine::on_frame`].
    Send(ClientFrame),
    /// Upload this file of a queued send, then report with [`Engine::on_uploaded`].
    Upload(Upload),
    /// Caught up for the first time on this connection: the client is online.
    CaughtUp,
    /// Nothing to do until the server sends something, a request comes from
    /// the API, or [`Engine::next_due`] passes.
    Idle,
}

/// What a frame from the server was, for the request in flight.
#[derive(Debug)]
pub enum Received {
    /// A push (applied), or an ack of nothing in flight.
    Other,
    /// The answer to the engine's own request (handled).
    Answered,
    /// The answer to an API request: its outcome, for the caller.
    Command(Result<Value>),
}

/// Where a connect is in its steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Step 1.
    ListRooms,
    /// Step 2.
    CatchUp,
    /// Step 3.
    Flush,
    /// Step 4.
    Settle,
    /// Step 5.
    Live,
}

/// Why a request is in flight.
#[derive(Debug)]
enum Purpose {
    /// `room.list`, sent when the membership counters were these.
    ListRooms {
        seen: Membership,
    },
    /// A `sync`, sent when the membership counters were these.
    Sync {
        seen: Membership,
    },
    History {
        room_id: String,
    },
    Outbox {
        item: Box<OutboxItem>,
        earlier_uploads: bool,
    },
    Command {
        event: String,
    },
    Keepalive,
}

/// The logic of one connection (a new one for every reconnect).
pub struct Engine {
    store: Arc<Store>,
    /// The signed-in user (from `connection.authenticated`).
    me: String,
    /// The data folder (for the copies of queued files).
    data_dir: PathBuf,
    phase: Phase,
    /// Rooms whose stream has a hole to fill with `sync`.
    gaps: BTreeSet<String>,
    /// Rooms first seen: fetch their newest page.
    fresh: BTreeSet<String>,
    next_id: u64,
    /// The request in flight.
    waiting: Option<(u64, Purpose)>,
    /// A queued file send whose files are being uploaded.
    file_send: Option<outbox::FileSend>,
    /// Changes for UIs, taken with [`Engine::take_events`].
    events: Vec<ClientEvent>,
    /// The user's comings and goings heard so far (see [`Membership`]).
    membership: Membership,
    /// A room list to ask for again: an answer was older than a leave.
    relist: bool,
}

/// How many times, during this connection, the user was pushed into a room
/// (`room.created`, a join) and out of one (a leave). The server runs a
/// request while pushes are queued, so an answer may arrive after a push
/// that happened after the answer was made: one that says "not a member"
/// after a join, or "a member" after a leave. An answer sent before such a
/// push is not trusted on that point; the question is asked again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Membership {
    joins: u64,
    leaves: u64,
}

impl Engine {
    /// The engine of a new connection of `me`.
    pub fn new(store: Arc<Store>, me: &str, data_dir: PathBuf) -> Engine {
        Engine {
            store,
            me: me.to_owned(),
            data_dir,
            phase: Phase::ListRooms,
            gaps: BTreeSet::new(),
            fresh: BTreeSet::new(),
            next_id: 1,
            waiting: None,
            file_send: None,
            events: Vec::new(),
            membership: Membership::default(),
            relist: false,
        }
    }

    /// Whether the connection has caught up and is live.
    pub fn is_live(&self) -> bool {
        self.phase == Phase::Live
    }

    /// The changes for UIs since the last call.
    pub fn take_events(&mut self) -> Vec<ClientEvent> {
        std::mem::take(&mut self.events)
    }

    /// When the next deferred outbox item becomes due (unix ms).
    pub fn next_due(&self) -> Result<Option<i64>> {
        self.store.outbox_next_due()
    }

    /// What to do next (`now`: unix ms, for the outbox's deferrals).
    pub fn next_step(&mut self, now: i64) -> Result<Step> {
        if self.waiting.is_some() {
            return Err(Error::Protocol("a request is still in flight".into()));
        }
        loop {
            let step = match self.phase {
                Phase::ListRooms => Some(self.list_rooms()?),
                Phase::CatchUp | Phase::Settle => self.catch_up_step()?,
                Phase::Flush => self.outbox_step(now)?,
                Phase::Live => match self.outbox_step(now)? {
                    Some(s) => Some(s),
                    None => self.catch_up_step()?,
                },
            };
            if let Some(s) = step {
                return Ok(s);
            }
            match self.phase {
                Phase::CatchUp => self.phase = Phase::Flush,
                Phase::Flush => self.phase = Phase::Settle,
                Phase::Settle => {
                    self.phase = Phase::Live;
                    return Ok(Step::CaughtUp);
                }
                Phase::ListRooms | Phase::Live => return Ok(Step::Idle),
            }
        }
    }

    /// `room.list`.
    fn list_rooms(&mut self) -> Result<Step> {
        self.relist = false;
        let seen = self.membership;
        self.request(&ListRooms {}, Purpose::ListRooms { seen })
    }

    /// The room list again (an answer met a leave), else a `sync` of the
    /// rooms with holes, else a new room's first page.
    fn catch_up_step(&mut self) -> Result<Option<Step>> {
        if self.relist {
            return Ok(Some(self.list_rooms()?));
        }
        if !self.gaps.is_empty() {
            let positions = self.store.sync_positions()?;
            let since = std::mem::take(&mut self.gaps)
                .into_iter()
                .map(|r| {
                    let at = positions.get(&r).copied().unwrap_or(0);
                    (r, at)
                })
                .collect();
            let req = SyncRequest {
                since,
                limit: Some(SYNC_PAGE),
            };
            let seen = self.membership;
            return Ok(Some(self.request(&req, Purpose::Sync { seen })?));
        }
        if let Some(room_id) = self.fresh.pop_first() {
            let req = History {
                room_id: room_id.clone(),
                cursor: None,
                limit: Some(FIRST_PAGE.into()),
                direction: Direction::Before,
            };
            return Ok(Some(self.request(&req, Purpose::History { room_id })?));
        }
        Ok(None)
    }

    /// The frame of a request, now in flight.
    fn request<R: Request>(&mut self, req: &R, purpose: Purpose) -> Result<Step> {
        Ok(Step::Send(self.frame(req, purpose)?))
    }

    fn frame<R: Request>(&mut self, req: &R, purpose: Purpose) -> Result<ClientFrame> {
        let id = self.in_flight(purpose);
        Ok(ClientFrame::request(id, req)?)
    }

    /// Puts a request in flight: its id.
    fn in_flight(&mut self, purpose: Purpose) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.waiting = Some((id, purpose));
        RequestId::from(id)
    }

    /// A request from the API (the connection is idle): its frame.
    pub fn command(&mut self, event: &str, data: Value) -> ClientFrame {
        let purpose = Purpose::Command {
            event: event.to_owned(),
        };
        ClientFrame {
            id: Some(self.in_flight(purpose)),
            event: event.to_owned(),
            data,
        }
    }

    /// A request of the connection's own (token renewal, ping): its frame.
    /// A refusal ends the connection.
    pub fn keepalive<R: Request>(&mut self, req: &R) -> Result<ClientFrame> {
        self.frame(req, Purpose::Keepalive)
    }

    /// The connection gave up on the request in flight (it is being closed).
    pub fn abandon(&mut self) {
        self.waiting = None;
        self.file_send = None;
    }

    /// Applies a text frame from the server: a push, or the ack of the
    /// request in flight.
    pub fn on_frame(&mut self, text: &str) -> Result<Received> {
        match ServerFrame::parse(text)? {
            ServerFrame::Push(p) => {
                match ServerPush::parse(&p.event, p.data)? {
                    Some(push) => self.apply_push(push, Origin::Live)?,
                    None => tracing::debug!(event = %p.event, "ignoring an unknown push"),
                }
                Ok(Received::Other)
            }
            ServerFrame::Ack(ack) => {
                let ours = matches!(
                    (&self.waiting, &ack.ack),
                    (Some((id, _)), RequestId::Number(n)) if n.as_u64() == Some(*id)
                );
                if !ours {
                    return Ok(Received::Other);
                }
                let Some((_, purpose)) = self.waiting.take() else {
                    return Ok(Received::Other);
                };
                let outcome: std::result::Result<Value, ErrorBody> = ack.into_result()?;
                self.answered(purpose, outcome)
            }
        }
    }

    fn answered(
        &mut self,
        purpose: Purpose,
        outcome: std::result::Result<Value, ErrorBody>,
    ) -> Result<Received> {
        match purpose {
            Purpose::Command { event } => {
                let result = match outcome {
                    Ok(v) => {
                        self.absorb_command_ack(&event, &v)?;
                        Ok(v)
                    }
                    Err(body) => Err(Error::Server(body)),
                };
                return Ok(Received::Command(result));
            }
            Purpose::Outbox {
                item,
                earlier_uploads,
            } => self.outbox_answered(*item, earlier_uploads, outcome)?,
            other => {
                let data = outcome.map_err(Error::Server)?;
                match other {
                    Purpose::ListRooms { seen } => {
                        self.rooms_listed(serde_json::from_value(data)?, seen)?
                    }
                    Purpose::Sync { seen } => self.synced(serde_json::from_value(data)?, seen)?,
                    // A room left since it was asked for keeps nothing of it.
                    Purpose::History { room_id } if self.store.synced_seq(&room_id)?.is_none() => {}
                    Purpose::History { room_id } => {
                        let page: HistoryPage = serde_json::from_value(data)?;
                        let events = apply::history_page(
                            &self.store,
                            &self.me,
                            &room_id,
                            &page,
                            Origin::History,
                        )?;
                        self.events.extend(events);
                    }
                    _ => {}
                }
            }
        }
        Ok(Received::Answered)
    }

    /// The rooms an API request's ack carries (creating a room, adding
    /// members, ...) are stored like pushed ones; the blocked list that
    /// `user.blocks` and (un)blocking answer with is kept.
    fn absorb_command_ack(&mut self, event: &str, ack: &Value) -> Result<()> {
        use leetchat_protocol::events::{
            AddMembers, BanUser, BlockList, BlockUser, CreateRoom, JoinRoom, ListBlocks,
            RemoveMember, SetRole, UnblockUser, UpdateRoom,
        };
        // Each answers with the user's whole blocked list.
        // A list that does not read (another server's shape) keeps what was
        // known rather than failing the connection or the caller's block.
        if [ListBlocks::EVENT, BlockUser::EVENT, UnblockUser::EVENT].contains(&event) {
            return match serde_json::from_value::<BlockList>(ack.clone()) {
                Ok(list) => self.store.set_blocked(&list),
                Err(e) => {
                    tracing::warn!(error = %e, "a blocked list that does not read: kept the old one");
                    Ok(())
                }
            };
        }
        let carries_room = [
            CreateRoom::EVENT,
            JoinRoom::EVENT,
            BanUser::EVENT,
            UpdateRoom::EVENT,
            AddMembers::EVENT,
            RemoveMember::EVENT,
            SetRole::EVENT,
        ]
        .contains(&event);
        if carries_room {
            let env: RoomEnvelope = serde_json::from_value(ack.clone())?;
            self.absorb_room(&env.room)?;
        }
        Ok(())
    }

    /// Step 1's answer (asked when the membership counters were `seen`).
    /// A room not stored here is added, unless the user left a room since
    /// the question: then the list may be older than that leave, and is
    /// asked for again.
    fn rooms_listed(&mut self, list: RoomList, seen: Membership) -> Result<()> {
        self.store.set_notify_default(list.notify_default)?;
        let left_since = self.membership.leaves != seen.leaves;
        for summary in &list.rooms {
            let room_id = &summary.room.room_id;
            if left_since && self.store.synced_seq(room_id)?.is_none() {
                self.relist = true;
                continue;
            }
            self.absorb_room(&summary.room)?;
            self.store.set_my_read(room_id, summary.last_read_seq)?;
            self.store
                .set_room_notify(&leetchat_protocol::events::RoomNotify {
                    room_id: room_id.clone(),
                    level: summary.notify_level,
                    mute_until: summary.mute_until.clone(),
                    follows_default: summary.notify_follows_default,
                })?;
        }
        // Every stored room is synced once: rooms the user lost while away
        // answer with the leave and an error, and are then forgotten.
        self.gaps.extend(self.store.room_ids()?);
        self.phase = Phase::CatchUp;
        Ok(())
    }

    /// A `sync` answer (asked when the membership counters were `seen`):
    /// replays each room's events like pushes. A room answered with an
    /// error is forgotten, unless the user came (back) into a room since the
    /// question: the answer may be older than that push, so the room is
    /// asked again. Events of a room no longer stored (left meanwhile) are
    /// not kept.
    fn synced(&mut self, resp: SyncResponse, seen: Membership) -> Result<()> {
        let joined_since = self.membership.joins != seen.joins;
        for (room_id, part) in resp.rooms {
            let stored = self.store.synced_seq(&room_id)?.is_some();
            if part.error.is_some() {
                if joined_since && stored {
                    self.gaps.insert(room_id);
                } else if stored {
                    self.store.remove_room(&room_id)?;
                    self.events.push(ClientEvent::RoomRemoved { room_id });
                }
                continue;
            }
            if !stored {
                continue;
            }
            for e in part.events {
                if let Some(push) = ServerPush::parse(&e.event, e.data)? {
                    self.apply_push(push, Origin::Sync)?;
                }
                if self.store.synced_seq(&room_id)?.is_some() {
                    self.store.set_synced(&room_id, e.seq)?;
                }
            }
            if part.has_more {
                self.gaps.insert(room_id);
            } else {
                self.gaps.remove(&room_id);
            }
        }
        let left_since = self.membership.leaves != seen.leaves;
        for room in resp.new_rooms {
            if left_since && self.store.synced_seq(&room.room_id)?.is_none() {
                self.relist = true;
                continue;
            }
            self.absorb_room(&room)?;
        }
        Ok(())
    }
}
