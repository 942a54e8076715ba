//! Desktop notifications: which changes make one, and what it says. The
//! shell (the app) only shows and withdraws what [`Notifier`] decides, so
//! the rule is the same on every platform and tested without a desktop.
//!
//! - A message notifies when it is news (new, from someone else, sent; live,
//!   or caught up within a minute and still unread) and the room's level and
//!   mute allow it (the protocol's one rule,
//!   [`leetchat_protocol::events::notifies`], which the server's Web Push
//!   follows too): never the user's own from another device, nothing while
//!   muted, at `mentions` only a mention of the user or the room, and
//!   nothing from someone the user blocked (protocol 9.8).
//! - One notification per room: a new one replaces it with the count and
//!   the latest message, at most once a second per room (a burst of a
//!   thousand messages is a handful of updates; the last state is shown
//!   when the burst ends, see [`Notifier::due`]).
//! - It is withdrawn when the room is read up to it, on any device (the
//!   user's read pointer comes back as a receipt or with the room).

use std::collections::HashMap;

use leetchat_protocol::events::{Notifiable, notifies};
use leetchat_protocol::time::parse_rfc3339;

use crate::markdown;
use crate::views::{ClientEvent, Delivery, MessageChange, MessageView, Origin, RoomView};

/// Least time between two updates of one room's notification.
pub const UPDATE_EVERY_MS: i64 = 1_000;
/// How long after it was sent a message caught up by `sync` is still news.
pub const CATCH_UP_NEWS_MS: i64 = 60_000;
/// Characters of the latest message a notification shows.
pub const BODY_CHARS: usize = 200;

/// A room's notification id: the same in every process, so a notification
/// shown for a push (the app may have been started for it alone) is the one
/// the running app replaces or withdraws. Positive, never 0.
pub fn notification_id(room_id: &str) -> i32 {
    // FNV-1a, 32 bits.
    let mut h: u32 = 0x811c_9dc5;
    for b in room_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    i32::try_from(h & 0x7fff_ffff).unwrap_or(1).max(1)
}

/// A notification's title: `Bob`, or `Bob in team` for a group.
pub(crate) fn title(sender: &str, room: Option<&RoomView>) -> String {
    match room {
        Some(r) if r.room_type == "group" => format!("{sender} in {}", r.name),
        _ => sender.to_owned(),
    }
}

/// A notification to show (or to update: same `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The room's notification id (stable while the app runs).
    pub id: i32,
    /// The room (a click on the notification opens it).
    pub room_id: String,
    /// `Bob`, or `Bob in team`.
    pub title: String,
    /// The latest message, after `3 new messages · ` when there are several.
    pub body: String,
    /// Unread messages it stands for.
    pub count: u32,
}

/// What the shell should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Show or update a notification.
    Show(Notice),
    /// Take a room's notification back (it was read).
    Withdraw {
        /// The notification.
        id: i32,
        /// Its room.
        room_id: String,
    },
}

/// One room's notification.
#[derive(Debug, Clone)]
struct Shown {
    id: i32,
    count: u32,
    /// The newest seq it stands for.
    seq: i64,
    /// When it was last shown (unix ms); `None`: never yet.
    shown_at: Option<i64>,
    /// What to show next, when an update was held back.
    pending: Option<Notice>,
}

/// Decides the notifications of one signed-in user.
#[derive(Debug, Default)]
pub struct Notifier {
    me: String,
    rooms: HashMap<String, Shown>,
    /// People the user blocked: their messages never notify.
    blocked: std::collections::HashSet<String>,
}

/// Where the user is looking, which a notification must not interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The window is focused and shows this room.
    Open,
    /// Anything else.
    Elsewhere,
}

impl Notifier {
    /// The notifier of `me`.
    pub fn new(me: &str) -> Notifier {
        Notifier {
            me: me.to_owned(),
            ..Notifier::default()
        }
    }

    /// Everyone the user blocked (the store's list, [`crate::Client::blocked`]):
    /// their messages make no notification, in any room.
    pub fn set_blocked(&mut self, blocked: std::collections::HashSet<String>) {
        self.blocked = blocked;
    }

    fn id_of(&mut self, room_id: &str) -> i32 {
        notification_id(room_id)
    }

    /// What `event` changes. `room` is the event's room as the store has it
    /// (its settings and members); `seen` where the user is looking.
    pub fn on_event(
        &mut self,
        event: &ClientEvent,
        room: Option<&RoomView>,
        seen: Seen,
        now: i64,
    ) -> Vec<Action> {
        match event {
            ClientEvent::MessageUpserted {
                message,
                change,
                origin,
                room: counts,
            } => {
                let mut out = self.read_up_to(&message.room_id, counts.my_read_seq);
                if let Some(room) = room
                    && seen == Seen::Elsewhere
                    && !self.blocked.contains(&message.sender_id)
                    && self.is_news(message, *change, *origin, counts.my_read_seq, now)
                    && self.allowed(message, room, now)
                {
                    out.extend(self.add(message, room, now));
                }
                out
            }
            ClientEvent::Receipt {
                room_id,
                user_id,
                seq,
                ..
            } if *user_id == self.me => self.read_up_to(room_id, *seq),
            ClientEvent::RoomUpdated { room } => self.read_up_to(&room.room_id, room.my_read_seq),
            ClientEvent::RoomRemoved { room_id } => self.withdraw(room_id),
            _ => Vec::new(),
        }
    }

    /// Updates held back for the once-a-second limit that are due now.
    pub fn due(&mut self, now: i64) -> Vec<Action> {
        let mut out = Vec::new();
        for s in self.rooms.values_mut() {
            if s.shown_at.is_none_or(|t| now - t >= UPDATE_EVERY_MS)
                && let Some(n) = s.pending.take()
            {
                s.shown_at = Some(now);
                out.push(Action::Show(n));
            }
        }
        out
    }

    /// Every notification shown, taken back (sign-out).
    pub fn clear(&mut self) -> Vec<Action> {
        let rooms: Vec<String> = self.rooms.keys().cloned().collect();
        rooms.iter().flat_map(|r| self.withdraw(r)).collect()
    }

    /// News: a new message from someone else, sent, not deleted; pushed
    /// live, or caught up after a short gap and unread.
    fn is_news(
        &self,
        m: &MessageView,
        change: MessageChange,
        origin: Origin,
        my_read_seq: i64,
        now: i64,
    ) -> bool {
        if change != MessageChange::New
            || m.sender_id == self.me
            || m.delivery != Delivery::Sent
            || m.deleted_at.is_some()
        {
            return false;
        }
        match origin {
            Origin::Live => true,
            Origin::Sync => {
                let unread = m.seq.is_some_and(|s| s > my_read_seq);
                let recent =
                    parse_rfc3339(&m.created_at).is_some_and(|t| now - t < CATCH_UP_NEWS_MS);
                unread && recent
            }
            Origin::Local | Origin::Acked | Origin::History => false,
        }
    }

    /// The room's level and mute allow it.
    fn allowed(&self, m: &MessageView, room: &RoomView, now: i64) -> bool {
        let mute = room.mute_until.as_deref().and_then(parse_rfc3339);
        let mentions_me = m.mentions_room || m.mentions.contains(&self.me);
        notifies(
            room.notify_level,
            mute,
            now,
            Notifiable {
                own: m.sender_id == self.me,
                mentions_me,
                deleted: m.deleted_at.is_some(),
            },
        )
    }

    fn add(&mut self, m: &MessageView, room: &RoomView, now: i64) -> Vec<Action> {
        let id = self.id_of(&room.room_id);
        let sender = room
            .members
            .iter()
            .find(|x| x.user_id == m.sender_id)
            .map(|x| {
                if x.display_name.is_empty() {
                    x.user_name.clone()
                } else {
                    x.display_name.clone()
                }
            })
            .unwrap_or_else(|| "Someone".to_owned());
        let title = title(&sender, Some(room));
        let latest = {
            let text = markdown::one_line(&m.content);
            if text.is_empty() {
                match m.message_type.as_str() {
                    "image" => "sent a picture".to_owned(),
                    _ => "sent a file".to_owned(),
                }
            } else {
                text.chars().take(BODY_CHARS).collect()
            }
        };
        let s = self.rooms.entry(room.room_id.clone()).or_insert(Shown {
            id,
            count: 0,
            seq: 0,
            shown_at: None,
            pending: None,
        });
        s.count += 1;
        s.seq = s.seq.max(m.seq.unwrap_or(0));
        let body = if s.count > 1 {
            format!("{} new messages · {latest}", s.count)
        } else {
            latest
        };
        let notice = Notice {
            id,
            room_id: room.room_id.clone(),
            title,
            body,
            count: s.count,
        };
        if s.shown_at.is_some_and(|t| now - t < UPDATE_EVERY_MS) {
            s.pending = Some(notice);
            return Vec::new();
        }
        s.shown_at = Some(now);
        s.pending = None;
        vec![Action::Show(notice)]
    }

    /// The user's read pointer in a room is `seq`: a notification it covers goes.
    fn read_up_to(&mut self, room_id: &str, seq: i64) -> Vec<Action> {
        match self.rooms.get(room_id) {
            Some(s) if s.seq <= seq => self.withdraw(room_id),
            _ => Vec::new(),
        }
    }

    fn withdraw(&mut self, room_id: &str) -> Vec<Action> {
        match self.rooms.remove(room_id) {
            Some(s) if s.shown_at.is_some() => vec![Action::Withdraw {
                id: s.id,
                room_id: room_id.to_owned(),
            }],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
