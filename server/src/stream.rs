//! Each room's event stream: the one way to append an event to it.
//!
//! A room's events are numbered 1, 2, 3, … with no gaps, and every member's
//! connection gets them in that order; a client that sees a jump knows it
//! missed something and calls `sync`. [`StreamWrite`] is the only code that
//! takes a seq, and it keeps the rule that makes the numbering hold:
//!
//! 1. **Lock the room** (in process), so this node publishes the room's
//!    events in the order they commit.
//! 2. **Take the next seq as the write's first statement**
//!    ([`crate::db::rooms::next_seq`]). That takes SQLite's write lock at
//!    once, or the room's row lock on PostgreSQL, so writers to one room
//!    queue instead of racing; a rollback gives the seq back.
//! 3. **Write** the change and record the event row that `sync` replays.
//! 4. **Commit**, read the members, update the recent-history cache, record
//!    the `db_write_seconds` metric.
//! 5. **Publish** the pushes in seq order while the lock is still held, then
//!    release it. The ack goes out after this, so it always follows the commit.
//!
//! A write runs in one of two ways, with the same [`StreamWrite`] and the
//! same steps:
//!
//! - **In a group commit** ([`crate::committer::write`]): the write is a
//!   job that a lane runs with the other writes waiting, in one transaction
//!   and one commit; the lane holds the rooms' locks and publishes every
//!   job's pushes in order after the commit. Messages, edits, deletes,
//!   reactions, pins and link previews go this way.
//! - **Alone** ([`StreamWrite::begin`] … [`StreamWrite::commit`] …
//!   [`Committed::finish`]): its own transaction, for the rare writes that
//!   push something else in order with their events (joins announce the
//!   room to the newcomer first) or act after publishing under the lock.
//!
//! A handler writes its change through [`StreamWrite::tx`] and describes it
//! as a [`RoomEvent`]; the event knows its push, its row and what the
//! history cache keeps, and `sync` rebuilds the same push from the row.
//! Adding a kind of room event is one variant here.
//!
//! Room changes that take no seq (renames, role changes, creating a room)
//! are not stream events: they are announced as `room.updated` /
//! `room.created` and clients refresh them with `room.list`.

use std::collections::HashMap;
use std::sync::Arc;

use leetchat_protocol::Role;
use leetchat_protocol::ServerPush;
use leetchat_protocol::events::{
    LinkPreviewEvent, MemberEvent, MessageDeleted, MessageEdited, MessageEnvelope, PinEvent,
    ReactionEvent,
};
use leetchat_protocol::objects::Message;
use leetchat_protocol::time::{now_ms, rfc3339};
use sqlx::AnyConnection;
use tokio::sync::MutexGuard;

use crate::db::{self, Tx, events::EventRow, events::Names, events::kind};
use crate::error::{AppError, AppResult};
use crate::fanout::{ConnId, PushFrame};
use crate::state::AppState;

/// One event in a room's stream.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// `message.received`: a new message.
    MessageCreated(Message),
    /// `message.edited`: the message after the edit.
    MessageEdited(Message),
    /// `message.deleted`: the tombstone, and when it was deleted.
    MessageDeleted {
        /// The message as a tombstone (no content, no attachments).
        tombstone: Message,
        /// RFC 3339.
        deleted_at: String,
    },
    /// `room.member_joined`: this user joined.
    MemberJoined(String),
    /// `room.member_left`: this user left or was removed.
    MemberLeft(String),
    /// `reaction.added`: `user_id` reacted with `emoji`; `message` as it is after.
    ReactionAdded {
        /// The message with its reactions after the change.
        message: Message,
        /// Who.
        user_id: String,
        /// The emoji.
        emoji: String,
    },
    /// `reaction.removed`: `user_id` took `emoji` back.
    ReactionRemoved {
        /// The message with its reactions after the change.
        message: Message,
        /// Who.
        user_id: String,
        /// The emoji.
        emoji: String,
    },
    /// `message.pinned`.
    Pinned {
        /// The message.
        message_id: String,
        /// Who pinned it.
        user_id: String,
    },
    /// `message.unpinned` (also when a pinned message is deleted: then
    /// `user_id` is who deleted it).
    Unpinned {
        /// The message.
        message_id: String,
        /// Who unpinned it.
        user_id: String,
    },
    /// `message.link_preview` (extension): the message with the preview of
    /// its first link, fetched after it was sent.
    LinkPreview(Message),
}

impl RoomEvent {
    /// The event's name, as its push and its row call it.
    pub fn kind(&self) -> &'static str {
        match self {
            RoomEvent::MessageCreated(_) => kind::CREATED,
            RoomEvent::MessageEdited(_) => kind::EDITED,
            RoomEvent::MessageDeleted { .. } => kind::DELETED,
            RoomEvent::MemberJoined(_) => kind::JOINED,
            RoomEvent::MemberLeft(_) => kind::LEFT,
            RoomEvent::ReactionAdded { .. } => kind::REACTION_ADDED,
            RoomEvent::ReactionRemoved { .. } => kind::REACTION_REMOVED,
            RoomEvent::Pinned { .. } => kind::PINNED,
            RoomEvent::Unpinned { .. } => kind::UNPINNED,
            RoomEvent::LinkPreview(_) => kind::LINK_PREVIEW,
        }
    }

    /// The message the event changed, as it is after the event (what the
    /// recent-history cache keeps).
    fn message(&self) -> Option<&Message> {
        match self {
            RoomEvent::MessageCreated(m)
            | RoomEvent::MessageEdited(m)
            | RoomEvent::LinkPreview(m) => Some(m),
            RoomEvent::MessageDeleted { tombstone, .. } => Some(tombstone),
            RoomEvent::ReactionAdded { message, .. }
            | RoomEvent::ReactionRemoved { message, .. } => Some(message),
            RoomEvent::MemberJoined(_)
            | RoomEvent::MemberLeft(_)
            | RoomEvent::Pinned { .. }
            | RoomEvent::Unpinned { .. } => None,
        }
    }

    /// What the event's row names, so `sync` can rebuild it.
    fn names(&self) -> Names<'_> {
        match self {
            RoomEvent::MessageCreated(m)
            | RoomEvent::MessageEdited(m)
            | RoomEvent::LinkPreview(m) => Names {
                message_id: Some(&m.message_id),
                ..Names::default()
            },
            RoomEvent::MessageDeleted { tombstone, .. } => Names {
                message_id: Some(&tombstone.message_id),
                ..Names::default()
            },
            RoomEvent::MemberJoined(u) | RoomEvent::MemberLeft(u) => Names {
                user_id: Some(u),
                ..Names::default()
            },
            RoomEvent::ReactionAdded {
                message,
                user_id,
                emoji,
            }
            | RoomEvent::ReactionRemoved {
                message,
                user_id,
                emoji,
            } => Names {
                message_id: Some(&message.message_id),
                user_id: Some(user_id),
                detail: Some(emoji),
            },
            RoomEvent::Pinned {
                message_id,
                user_id,
            }
            | RoomEvent::Unpinned {
                message_id,
                user_id,
            } => Names {
                message_id: Some(message_id),
                user_id: Some(user_id),
                detail: None,
            },
        }
    }

    /// The push of this event at `seq` in `room_id`'s stream.
    pub fn push(&self, room_id: &str, seq: i64) -> ServerPush {
        match self {
            RoomEvent::MessageCreated(m) => {
                ServerPush::MessageReceived(MessageEnvelope { message: m.clone() })
            }
            RoomEvent::MessageEdited(m) => ServerPush::MessageEdited(MessageEdited {
                message: m.clone(),
                seq,
            }),
            RoomEvent::MessageDeleted {
                tombstone,
                deleted_at,
            } => ServerPush::MessageDeleted(MessageDeleted {
                room_id: room_id.to_owned(),
                message_id: tombstone.message_id.clone(),
                seq,
                deleted_at: deleted_at.clone(),
            }),
            RoomEvent::MemberJoined(u) => ServerPush::RoomMemberJoined(MemberEvent {
                room_id: room_id.to_owned(),
                user_id: u.clone(),
                seq,
            }),
            RoomEvent::MemberLeft(u) => ServerPush::RoomMemberLeft(MemberEvent {
                room_id: room_id.to_owned(),
                user_id: u.clone(),
                seq,
            }),
            RoomEvent::ReactionAdded {
                message,
                user_id,
                emoji,
            } => ServerPush::ReactionAdded(ReactionEvent {
                room_id: room_id.to_owned(),
                message_id: message.message_id.clone(),
                user_id: user_id.clone(),
                emoji: emoji.clone(),
                seq,
            }),
            RoomEvent::ReactionRemoved {
                message,
                user_id,
                emoji,
            } => ServerPush::ReactionRemoved(ReactionEvent {
                room_id: room_id.to_owned(),
                message_id: message.message_id.clone(),
                user_id: user_id.clone(),
                emoji: emoji.clone(),
                seq,
            }),
            RoomEvent::Pinned {
                message_id,
                user_id,
            } => ServerPush::MessagePinned(PinEvent {
                room_id: room_id.to_owned(),
                message_id: message_id.clone(),
                user_id: user_id.clone(),
                seq,
            }),
            RoomEvent::Unpinned {
                message_id,
                user_id,
            } => ServerPush::MessageUnpinned(PinEvent {
                room_id: room_id.to_owned(),
                message_id: message_id.clone(),
                user_id: user_id.clone(),
                seq,
            }),
            RoomEvent::LinkPreview(m) => ServerPush::MessageLinkPreview(LinkPreviewEvent {
                room_id: room_id.to_owned(),
                message_id: m.message_id.clone(),
                seq,
                link_preview: m.link_preview.clone(),
            }),
        }
    }

    /// Rebuilds a recorded event for `sync` from its row and `messages`, the
    /// messages the replayed rows name as they are now (so an edited message
    /// shows its latest text and a deleted one is a tombstone in every event).
    pub fn replay(row: &EventRow, messages: &HashMap<String, Message>) -> AppResult<RoomEvent> {
        let message = || {
            row.message_id
                .as_ref()
                .and_then(|id| messages.get(id))
                .cloned()
                .ok_or_else(|| {
                    AppError::internal("sync", format!("event {} names no message", row.seq))
                })
        };
        let user = || row.user_id.clone().unwrap_or_default();
        let message_id = || row.message_id.clone().unwrap_or_default();
        let emoji = || row.detail.clone().unwrap_or_default();
        Ok(match row.kind.as_str() {
            kind::CREATED => RoomEvent::MessageCreated(message()?),
            kind::EDITED => RoomEvent::MessageEdited(message()?),
            kind::DELETED => {
                let tombstone = message()?;
                let deleted_at = tombstone
                    .deleted_at
                    .clone()
                    .unwrap_or_else(|| rfc3339(row.created_at));
                RoomEvent::MessageDeleted {
                    tombstone,
                    deleted_at,
                }
            }
            kind::JOINED => RoomEvent::MemberJoined(user()),
            kind::LEFT => RoomEvent::MemberLeft(user()),
            kind::REACTION_ADDED => RoomEvent::ReactionAdded {
                message: message()?,
                user_id: user(),
                emoji: emoji(),
            },
            kind::REACTION_REMOVED => RoomEvent::ReactionRemoved {
                message: message()?,
                user_id: user(),
                emoji: emoji(),
            },
            kind::PINNED => RoomEvent::Pinned {
                message_id: message_id(),
                user_id: user(),
            },
            kind::UNPINNED => RoomEvent::Unpinned {
                message_id: message_id(),
                user_id: user(),
            },
            kind::LINK_PREVIEW => RoomEvent::LinkPreview(message()?),
            other => {
                return Err(AppError::internal(
                    "sync",
                    format!("event {} has an unknown kind {other:?}", row.seq),
                ));
            }
        })
    }
}

/// Where a stream write's statements go: its own transaction (with the
/// room's lock), or the batch transaction of a group commit
/// ([`crate::committer`], which holds the room's lock for the whole batch).
enum Conn<'a> {
    Own { tx: Tx, guard: MutexGuard<'a, ()> },
    Batch(&'a mut AnyConnection),
}

/// Events being appended to one room's stream: the room's lock, and a
/// transaction whose first statement took the room's next seq. Dropping it
/// rolls back and gives every seq it took back.
pub struct StreamWrite<'a> {
    state: &'a AppState,
    room_id: String,
    conn: Conn<'a>,
    /// The seq taken last: the next [`StreamWrite::record`] uses it.
    seq: i64,
    /// Whether `seq` has been recorded (a taken seq left unrecorded would be a gap).
    recorded: bool,
    now: i64,
    started: std::time::Instant,
    events: Vec<(i64, RoomEvent)>,
    /// Messages changed without an event of their own, with the seq that changed them.
    touched: Vec<(i64, Message)>,
    /// The room's members and their roles, read once in this write
    /// ([`StreamWrite::member_roles`]); forgotten when a join or leave is
    /// recorded.
    members: Option<Vec<(String, Role)>>,
}

impl<'a> StreamWrite<'a> {
    /// Locks the room and takes its next seq, in a transaction of its own;
    /// without such a room, the answer a non-member gets
    /// ([`AppError::not_member`]): every caller of a stream write must be a
    /// member, and must not learn whether the room exists.
    ///
    /// A write that is sent often goes through [`write`] instead, which
    /// shares one transaction and one commit with the writes waiting with it.
    pub async fn begin(state: &'a AppState, room_id: &str) -> AppResult<StreamWrite<'a>> {
        let guard = state.lock_room(room_id).await;
        let started = std::time::Instant::now();
        let now = now_ms();
        let mut tx = state.db.begin().await?;
        let Some(seq) = db::rooms::next_seq(&mut tx, room_id, now).await? else {
            return Err(AppError::not_member());
        };
        Ok(StreamWrite::new(
            state,
            room_id,
            Conn::Own { tx, guard },
            seq,
            now,
            started,
        ))
    }

    /// Takes the room's next seq inside a group commit's transaction (the
    /// committer holds the room's lock). `None` without such a room.
    pub(crate) async fn in_batch(
        state: &'a AppState,
        room_id: &str,
        conn: &'a mut AnyConnection,
        started: std::time::Instant,
    ) -> AppResult<Option<StreamWrite<'a>>> {
        let now = now_ms();
        let Some(seq) = db::rooms::next_seq(&mut *conn, room_id, now).await? else {
            return Ok(None);
        };
        Ok(Some(StreamWrite::new(
            state,
            room_id,
            Conn::Batch(conn),
            seq,
            now,
            started,
        )))
    }

    fn new(
        state: &'a AppState,
        room_id: &str,
        conn: Conn<'a>,
        seq: i64,
        now: i64,
        started: std::time::Instant,
    ) -> StreamWrite<'a> {
        StreamWrite {
            state,
            room_id: room_id.to_owned(),
            conn,
            seq,
            recorded: false,
            now,
            started,
            events: Vec::new(),
            touched: Vec::new(),
            members: None,
        }
    }

    /// The server's state.
    pub fn state(&self) -> &'a AppState {
        self.state
    }

    /// The seq the next recorded event takes.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// The write's time (Unix ms), for the rows it writes.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The transaction, for the change itself.
    pub fn tx(&mut self) -> &mut AnyConnection {
        match &mut self.conn {
            Conn::Own { tx, .. } => tx,
            Conn::Batch(conn) => conn,
        }
    }

    /// The room's members with their roles, as this write sees them (read
    /// once, in one statement, and kept until a join or leave is recorded).
    pub async fn member_roles(&mut self) -> AppResult<&[(String, Role)]> {
        if self.members.is_none() {
            let room_id = self.room_id.clone();
            let read = db::rooms::member_roles(self.tx(), &room_id).await?;
            self.members = Some(read);
        }
        Ok(self.members.as_deref().unwrap_or_default())
    }

    /// `user_id`'s role in the room, if a member.
    pub async fn role_of(&mut self, user_id: &str) -> AppResult<Option<Role>> {
        Ok(self
            .member_roles()
            .await?
            .iter()
            .find(|(u, _)| u == user_id)
            .map(|(_, r)| *r))
    }

    /// Takes one more seq for another event of this write (the first came
    /// with [`StreamWrite::begin`]). The one before must be recorded.
    pub async fn take_next(&mut self) -> AppResult<i64> {
        if !self.recorded {
            return Err(AppError::internal(
                "stream write",
                "a seq was taken before the previous one was recorded",
            ));
        }
        let (room_id, now) = (self.room_id.clone(), self.now);
        self.seq = db::rooms::next_seq(self.tx(), &room_id, now)
            .await?
            .ok_or_else(|| AppError::not_found("no such room"))?;
        self.recorded = false;
        Ok(self.seq)
    }

    /// Records `event` as the event that took the current seq: the row
    /// `sync` replays, and the push sent after commit.
    pub async fn record(&mut self, event: RoomEvent) -> AppResult<()> {
        if self.recorded {
            return Err(AppError::internal(
                "stream write",
                "two events were recorded at one seq",
            ));
        }
        let (room_id, seq, now) = (self.room_id.clone(), self.seq, self.now);
        db::events::insert(self.tx(), &room_id, seq, event.kind(), event.names(), now).await?;
        if matches!(event, RoomEvent::MemberJoined(_) | RoomEvent::MemberLeft(_)) {
            self.members = None;
        }
        self.recorded = true;
        self.events.push((self.seq, event));
        Ok(())
    }

    /// A message that changed as a side effect of this write, with no event
    /// of its own (a reply whose preview shows the message just edited):
    /// the recent-history cache gets it after commit, versioned by the
    /// current seq.
    pub fn touched(&mut self, message: Message) {
        self.touched.push((self.seq, message));
    }

    /// Whether anything was recorded: a write that recorded nothing is
    /// undone (its seq goes back).
    pub(crate) fn recorded_any(&self) -> bool {
        !self.events.is_empty()
    }

    /// The write's events, touched messages and the room's members after
    /// it, ready to be published once the transaction commits.
    async fn stage(&mut self) -> AppResult<Staged> {
        if !self.recorded {
            return Err(AppError::internal(
                "stream write",
                "a taken seq was never recorded",
            ));
        }
        let members = match self.members.take() {
            Some(m) => m.into_iter().map(|(u, _)| u).collect(),
            None => {
                let room_id = self.room_id.clone();
                db::rooms::member_ids(self.tx(), &room_id).await?
            }
        };
        Ok(Staged {
            room_id: std::mem::take(&mut self.room_id),
            members,
            events: std::mem::take(&mut self.events),
            touched: std::mem::take(&mut self.touched),
        })
    }

    /// Stages a write of a group commit (see [`StreamWrite::stage`]).
    pub(crate) async fn into_staged(mut self) -> AppResult<Staged> {
        self.stage().await
    }

    /// Commits. Returns the room's members and the lock, still held so the
    /// pushes leave before the room's next event ([`Committed::publish`]).
    pub async fn commit(mut self) -> AppResult<Committed<'a>> {
        let staged = self.stage().await?;
        let Conn::Own { tx, guard } = self.conn else {
            return Err(AppError::internal(
                "stream write",
                "a write of a group commit commits with its batch",
            ));
        };
        tx.commit().await?;
        let state = self.state;
        state
            .metrics
            .db_write_seconds
            .observe(self.started.elapsed().as_secs_f64());
        staged.cache(state).await;
        Ok(Committed {
            state,
            guard,
            staged,
        })
    }
}

/// A stream write's effects once its transaction has committed: what to
/// cache and publish.
pub(crate) struct Staged {
    room_id: String,
    members: Vec<String>,
    events: Vec<(i64, RoomEvent)>,
    touched: Vec<(i64, Message)>,
}

impl Staged {
    /// The room's members after the write.
    pub(crate) fn members(&self) -> &[String] {
        &self.members
    }

    /// After commit and before anyone hears of it: whoever learns of the
    /// change and opens the room reads it back (see cluster::history).
    pub(crate) async fn cache(&self, state: &AppState) {
        for (seq, e) in &self.events {
            if let Some(m) = e.message() {
                state.bus.history_changed(*seq, m).await;
            }
        }
        for (seq, m) in &self.touched {
            state.bus.history_changed(*seq, m).await;
        }
    }

    /// Pushes the recorded events in seq order to the members, and to those
    /// who left in this write (a member learns of its own leave), except
    /// to `exclude`, the connection that asked (it gets the ack).
    pub(crate) fn publish(&mut self, state: &AppState, exclude: Option<ConnId>) {
        let mut recipients = self.members.clone();
        for (_, e) in &self.events {
            if let RoomEvent::MemberLeft(u) = e
                && !recipients.contains(u)
            {
                recipients.push(u.clone());
            }
        }
        let recipients: Arc<[String]> = recipients.into();
        for (seq, e) in self.events.drain(..) {
            let frame = PushFrame::of(&e.push(&self.room_id, seq)).in_stream(&self.room_id, seq);
            state.publish(recipients.clone(), exclude, frame);
        }
    }

    /// The members, once published.
    pub(crate) fn into_members(self) -> Vec<String> {
        self.members
    }
}

/// A committed stream write whose pushes have not all left: it holds the
/// room's lock until dropped.
pub struct Committed<'a> {
    state: &'a AppState,
    #[allow(dead_code, reason = "held: released when the write is dropped")]
    guard: MutexGuard<'a, ()>,
    staged: Staged,
}

impl Committed<'_> {
    /// The room's members after the write.
    pub fn members(&self) -> &[String] {
        self.staged.members()
    }

    /// A push that is not a stream event but must leave in order with them
    /// (say, `room.created` to new members before their joins).
    pub fn push(
        &self,
        recipients: impl Into<Arc<[String]>>,
        exclude: Option<ConnId>,
        push: &ServerPush,
    ) {
        self.state.push(recipients, exclude, push);
    }

    /// Pushes the recorded events in seq order to the members, and to those
    /// who left in this write (a member learns of its own leave), except
    /// to `exclude`, the connection that asked (it gets the ack).
    pub fn publish(&mut self, exclude: Option<ConnId>) {
        self.staged.publish(self.state, exclude);
    }

    /// Publishes (as [`Committed::publish`]), releases the lock, and returns
    /// the room's members.
    pub fn finish(mut self, exclude: Option<ConnId>) -> Vec<String> {
        self.publish(exclude);
        self.staged.into_members()
    }
}
