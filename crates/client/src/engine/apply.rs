//! What the server's pushes (live, or replayed by `sync`) and history pages
//! do to the store, and the events that tell UIs.
//!
//! Applying is idempotent (see [`crate::store::apply`]): a push seen twice,
//! a replay of an event already applied, or a page overlapping stored
//! messages changes nothing the second time.

use leetchat_protocol::events::{HistoryPage, Status};
use leetchat_protocol::time::{now_ms, rfc3339};
use leetchat_protocol::{Room, ServerPush};

use super::Engine;
use crate::error::Result;
use crate::store::{SeqOutcome, Store};
use crate::views::{ClientEvent, MessageChange, MessageView, Origin};

/// The event for a message that changed, with its room's numbers after it.
pub(crate) fn message_event(
    store: &Store,
    me: &str,
    message: MessageView,
    change: MessageChange,
    origin: Origin,
) -> Result<ClientEvent> {
    let room = store.room_counts(&message.room_id, me)?;
    Ok(ClientEvent::MessageUpserted {
        message,
        change,
        origin,
        room,
    })
}

/// Stores a history page's messages; a page going back records whether
/// older ones exist. Returns the events for UIs.
pub(crate) fn history_page(
    store: &Store,
    me: &str,
    room_id: &str,
    page: &HistoryPage,
    origin: Origin,
) -> Result<Vec<ClientEvent>> {
    let mut views = Vec::with_capacity(page.messages.len());
    for m in &page.messages {
        views.push(store.apply_message(m)?);
    }
    // The page is every message between its ends: islands there (search
    // results met on the way back) are loaded history now.
    let seqs = page.messages.iter().map(|m| m.seq);
    if let (Some(lo), Some(hi)) = (seqs.clone().min(), seqs.max()) {
        store.join_islands(room_id, lo, hi)?;
    }
    let mut events = Vec::with_capacity(views.len());
    for mut view in views {
        view.island = false;
        events.push(message_event(store, me, view, MessageChange::New, origin)?);
    }
    store.set_has_older(room_id, page.has_more)?;
    Ok(events)
}

/// Which of a pair of pushes (`*.added` / `*.removed`, pinned / unpinned) came.
enum PushKind {
    Added,
    Other,
}

impl Engine {
    /// Tells UIs a message changed.
    pub(super) fn message_changed(
        &mut self,
        view: MessageView,
        change: MessageChange,
        origin: Origin,
    ) -> Result<()> {
        let e = message_event(&self.store, &self.me, view, change, origin)?;
        self.events.push(e);
        Ok(())
    }

    /// Records a room event's seq; a jump schedules a sync of the room.
    pub(super) fn seq(&mut self, room_id: &str, seq: i64) -> Result<()> {
        match self.store.note_seq(room_id, seq)? {
            SeqOutcome::Next | SeqOutcome::Seen => {}
            SeqOutcome::Gap { .. } | SeqOutcome::UnknownRoom => {
                self.gaps.insert(room_id.to_owned());
            }
        }
        Ok(())
    }

    /// Applies a push (`origin`: live, or replayed by `sync`).
    pub(super) fn apply_push(&mut self, push: ServerPush, origin: Origin) -> Result<()> {
        let store = self.store.clone();
        let push_kind = match &push {
            ServerPush::ReactionAdded(_) | ServerPush::MessagePinned(_) => PushKind::Added,
            _ => PushKind::Other,
        };
        match push {
            ServerPush::MessageReceived(m) => {
                let view = store.apply_message(&m.message)?;
                self.seq(&m.message.room_id, m.message.seq)?;
                self.message_changed(view, MessageChange::New, origin)?;
            }
            ServerPush::MessageEdited(m) => {
                // An edit of a message never loaded here is stored as an
                // island: it must not pass for the end of the loaded history.
                let view = store.apply_island(&m.message)?;
                self.seq(&m.message.room_id, m.seq)?;
                self.message_changed(view, MessageChange::Edited, origin)?;
                self.replies_changed(&m.message.message_id, origin)?;
            }
            ServerPush::MessageDeleted(d) => {
                let view = store.apply_deleted(&d.message_id, &d.deleted_at)?;
                self.seq(&d.room_id, d.seq)?;
                if let Some(view) = view {
                    self.message_changed(view, MessageChange::Deleted, origin)?;
                }
                self.replies_changed(&d.message_id, origin)?;
            }
            ServerPush::RoomMemberJoined(m) => {
                if m.user_id == self.me {
                    self.membership.joins += 1;
                }
                // Someone this device never saw (joined by an invite link):
                // their name comes with the room list, asked for again.
                if m.user_id != self.me && store.user_name_of(&m.user_id)?.is_none() {
                    self.relist = true;
                }
                store.apply_member_joined(&m.room_id, &m.user_id, &rfc3339(now_ms()))?;
                self.seq(&m.room_id, m.seq)?;
                self.room_changed(&m.room_id)?;
            }
            ServerPush::RoomMemberLeft(m) => {
                // A leave older than what the store knows of the room (a
                // `room.created` of being added back overtook it) is past.
                let stale = m.user_id == self.me
                    && store
                        .room_last_seq(&m.room_id)?
                        .is_some_and(|last| last > m.seq);
                if stale {
                    tracing::debug!(room = %m.room_id, seq = m.seq, "an older leave after a newer join: ignored");
                } else if m.user_id == self.me {
                    self.membership.leaves += 1;
                    store.remove_room(&m.room_id)?;
                    self.gaps.remove(&m.room_id);
                    self.events
                        .push(ClientEvent::RoomRemoved { room_id: m.room_id });
                } else {
                    store.apply_member_left(&m.room_id, &m.user_id)?;
                    self.seq(&m.room_id, m.seq)?;
                    self.room_changed(&m.room_id)?;
                }
            }
            ServerPush::RoomCreated(r) => {
                self.membership.joins += 1;
                self.absorb_room(&r.room)?;
            }
            ServerPush::RoomUpdated(r) => self.absorb_room(&r.room)?,
            ServerPush::ReceiptUpdated(r) => {
                store.apply_receipt(&r.room_id, &r.user_id, r.seq, &self.me)?;
                let room = store.room_counts(&r.room_id, &self.me)?;
                self.events.push(ClientEvent::Receipt {
                    room_id: r.room_id,
                    user_id: r.user_id,
                    seq: r.seq,
                    room,
                });
            }
            ServerPush::TypingUser(t) => self.events.push(ClientEvent::Typing {
                room_id: t.room_id,
                user_id: t.user_id,
                user_name: t.user_name,
                is_typing: t.is_typing,
            }),
            ServerPush::PresenceUpdate(p) => {
                store.apply_presence(&p)?;
                self.events.push(ClientEvent::Presence {
                    user_id: p.user_id,
                    status: match p.status {
                        Status::Online => "online".into(),
                        Status::Offline => "offline".into(),
                    },
                    last_seen: p.last_seen,
                });
            }
            ServerPush::Error(body) => {
                tracing::warn!(code = %body.code, message = %body.message, "server reported an error");
            }
            // Another device of the user blocked or unblocked someone.
            ServerPush::UserBlocksUpdated(list) => store.set_blocked(&list)?,
            // A new name or picture: every room it is in shows it.
            ServerPush::UserUpdated(u) => {
                store.apply_profile(&u.user)?;
                for room_id in store.rooms_with_member(&u.user.user_id)? {
                    self.room_changed(&room_id)?;
                }
            }
            ServerPush::SyncNeeded(n) => {
                // The server may have missed events for us: sync every room.
                tracing::info!(reason = %n.reason, "server asks for a sync");
                self.gaps.extend(store.room_ids()?);
            }
            ServerPush::ReactionAdded(r) | ServerPush::ReactionRemoved(r) => {
                let added = matches!(push_kind, PushKind::Added);
                let view =
                    store.apply_reaction(&r.message_id, &r.user_id, &r.emoji, r.seq, added)?;
                self.seq(&r.room_id, r.seq)?;
                if let Some(view) = view {
                    self.message_changed(view, MessageChange::Reactions, origin)?;
                }
            }
            ServerPush::MessagePinned(p) | ServerPush::MessageUnpinned(p) => {
                let pinned = matches!(push_kind, PushKind::Added);
                store.apply_pin(&p.room_id, &p.message_id, p.seq, pinned)?;
                self.seq(&p.room_id, p.seq)?;
                self.room_changed(&p.room_id)?;
            }
            ServerPush::RoomNotifyUpdated(n) => {
                store.set_room_notify(&n)?;
                self.room_changed(&n.room_id)?;
            }
            ServerPush::NotifyDefaultUpdated(d) => {
                store.set_notify_default(d.level)?;
                // Every room that follows the default changed with it.
                for room_id in store.room_ids()? {
                    self.room_changed(&room_id)?;
                }
                self.events
                    .push(ClientEvent::NotifyDefault { level: d.level });
            }
            ServerPush::MessageLinkPreview(p) => {
                let view = store.apply_link_preview(&p.message_id, p.link_preview.as_ref())?;
                self.seq(&p.room_id, p.seq)?;
                if let Some(view) = view {
                    self.message_changed(view, MessageChange::LinkPreview, origin)?;
                }
            }
            ServerPush::ConnectionAuthenticated(_) => {}
        }
        Ok(())
    }

    /// The replies to a message that changed show it in their previews.
    pub(super) fn replies_changed(&mut self, message_id: &str, origin: Origin) -> Result<()> {
        for view in self.store.replies_to(message_id)? {
            self.message_changed(view, MessageChange::Edited, origin)?;
        }
        Ok(())
    }

    pub(super) fn room_changed(&mut self, room_id: &str) -> Result<()> {
        if let Some(room) = self.store.room(room_id, &self.me)? {
            self.events.push(ClientEvent::RoomUpdated { room });
        }
        Ok(())
    }

    /// Stores a room from the server. A room seen for the first time starts
    /// its stream at the room's current seq and gets its newest page fetched;
    /// a known room behind the server's seq gets synced.
    pub(super) fn absorb_room(&mut self, room: &Room) -> Result<()> {
        let known = self.store.synced_seq(&room.room_id)?.is_some();
        self.store.apply_room(room)?;
        // The user's own read pointer comes with the room (a room the user
        // was added back to starts read up to where the server says).
        if let Some(seq) = room
            .members
            .iter()
            .find(|m| m.user_id == self.me)
            .and_then(|m| m.last_read_seq)
        {
            self.store.set_my_read(&room.room_id, seq)?;
        }
        if known {
            if self.store.synced_seq(&room.room_id)?.unwrap_or(0) < room.last_seq {
                self.gaps.insert(room.room_id.clone());
            }
        } else {
            self.store.set_synced(&room.room_id, room.last_seq)?;
            self.fresh.insert(room.room_id.clone());
        }
        self.room_changed(&room.room_id)
    }
}
