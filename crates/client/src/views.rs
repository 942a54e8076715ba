//! What UIs show: rooms and messages as read from the store, and the events
//! that tell a UI what changed (per item, never the whole state).
//!
//! Every change reaches a UI exactly once, as an event: a queued send, its
//! ack, a push, a replayed event and a fetched page all come as
//! [`ClientEvent::MessageUpserted`], which says how the change came about
//! ([`Origin`]), what it was ([`MessageChange`]), and the room's counts after
//! it ([`RoomCounts`]), so a UI never re-derives previews or unread numbers.

use leetchat_protocol::events::NotifyLevel;
use leetchat_protocol::{Attachment, LinkPreview};
use serde::Serialize;

/// Where one of the user's messages stands.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// In the outbox, not yet acked.
    Pending,
    /// Acked: stored on the server.
    Sent,
    /// Another member's read pointer has passed it.
    Read,
    /// Refused for good (see `error`).
    Failed,
}

/// Why one of the user's messages waits before it is tried again.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// The server slowed this device down (its rate limit).
    RateLimited,
    /// The server failed; it is tried again after a while.
    ServerError,
}

impl Waiting {
    /// As stored in the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Waiting::RateLimited => "rate_limited",
            Waiting::ServerError => "server_error",
        }
    }

    /// From the outbox's column.
    pub fn parse(s: &str) -> Option<Waiting> {
        match s {
            "rate_limited" => Some(Waiting::RateLimited),
            "server_error" => Some(Waiting::ServerError),
            _ => None,
        }
    }
}

/// A message as a UI shows it.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// Stable local id (also for pending messages).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub local_id: i64,
    /// Server id, once acked.
    pub message_id: Option<String>,
    /// Room.
    pub room_id: String,
    /// Seq, once acked.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub seq: Option<i64>,
    /// Sender.
    pub sender_id: String,
    /// The sender's tempId.
    pub temp_id: Option<String>,
    /// `text`, `image`, `file`, `system`.
    #[serde(rename = "type")]
    pub message_type: String,
    /// Text.
    pub content: String,
    /// Files. While a file waits to be uploaded its `fileId` and `url` are
    /// empty (a local preview: name, guessed type, size).
    pub attachments: Vec<Attachment>,
    /// Replied-to message.
    pub reply_to: Option<String>,
    /// What the replied-to message says now (as last read from the server).
    pub reply_preview: Option<ReplyView>,
    /// Reactions, in order of first use (the user's own pending ones included).
    pub reactions: Vec<ReactionView>,
    /// Members it mentions.
    pub mentions: Vec<String>,
    /// Whether it mentions the whole room.
    pub mentions_room: bool,
    /// What the server found at its first link (it may come a moment after
    /// the message).
    pub link_preview: Option<LinkPreview>,
    /// RFC 3339.
    pub created_at: String,
    /// Set when edited.
    pub edited_at: Option<String>,
    /// Set when deleted (a tombstone).
    pub deleted_at: Option<String>,
    /// Pending, sent, read or failed.
    pub delivery: Delivery,
    /// Why it failed.
    pub error: Option<String>,
    /// A pending message that waits before it is tried (it, or one queued
    /// before it in its room, was refused for a while): why.
    pub waiting: Option<Waiting>,
    /// Until when it waits (Unix ms), with `waiting`.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub retry_at: Option<i64>,
    /// Stored apart from the room's loaded history (a server search result,
    /// or the history around one): a room's message list shows it only when
    /// it shows the history around it.
    pub island: bool,
}

/// The replied-to message, as a reply shows it.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyView {
    /// Its id.
    pub message_id: String,
    /// Its sender.
    pub sender_id: String,
    /// `text`, `image`, `file`, `system`.
    #[serde(rename = "type")]
    pub message_type: String,
    /// Its first 200 characters; empty once deleted.
    pub content: String,
    /// Set once deleted.
    pub deleted_at: Option<String>,
}

/// One reaction on a message, as a UI shows it.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionView {
    /// The emoji.
    pub emoji: String,
    /// How many reacted with it.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: i64,
    /// Who (as far as known: the server lists the first 100).
    pub user_ids: Vec<String>,
    /// Whether the user is among them.
    pub mine: bool,
    /// The user's change to it still waits in the outbox.
    pub pending: bool,
}

/// A member as a UI shows it.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    /// User.
    pub user_id: String,
    /// Login name (empty until known).
    pub user_name: String,
    /// Shown name (empty until known).
    pub display_name: String,
    /// `owner`, `admin`, `member`.
    pub role: String,
    /// Read pointer.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_read_seq: i64,
    /// `online` / `offline` when known.
    pub status: Option<String>,
    /// When last seen.
    pub last_seen: Option<String>,
    /// The member's picture (`/api/files/{fileId}`), when they set one.
    pub avatar_url: Option<String>,
}

/// A room as a UI shows it.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomView {
    /// Id.
    pub room_id: String,
    /// `direct` or `group`.
    #[serde(rename = "type")]
    pub room_type: String,
    /// Group name; for a direct room, the other member's display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Members.
    pub members: Vec<MemberView>,
    /// Latest seq known.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_seq: i64,
    /// Messages from others after the user's read pointer.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unread_count: i64,
    /// The user's read pointer.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub my_read_seq: i64,
    /// Newest message.
    pub last_message: Option<MessageView>,
    /// Older history can still be fetched.
    pub has_older: bool,
    /// Unread messages that mention the user or the room.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub mention_count: i64,
    /// Pinned messages, newest pin first.
    pub pinned_message_ids: Vec<String>,
    /// The user's notification level for the room.
    pub notify_level: NotifyLevel,
    /// Muted until then (RFC 3339); none when not muted.
    pub mute_until: Option<String>,
    /// The level is the user's default, not one set for this room.
    pub notify_follows_default: bool,
}

/// A room's preview and numbers after a change, as the store has them.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomCounts {
    /// The room.
    pub room_id: String,
    /// Latest seq known.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_seq: i64,
    /// The user's read pointer.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub my_read_seq: i64,
    /// Messages from others after the read pointer.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unread_count: i64,
    /// Unread messages that mention the user or the room.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub mention_count: i64,
    /// The newest message (the room list's preview).
    pub last_message: Option<Box<MessageView>>,
}

/// How a message change came about.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Made on this device (queued, or shown at once while it waits).
    Local,
    /// The server answered this device's change (acked or refused).
    Acked,
    /// Pushed by the server as it happened.
    Live,
    /// Replayed while catching up after being away (`sync`).
    Sync,
    /// Part of a page of history fetched from the server.
    History,
}

/// What happened to a message.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChange {
    /// A message was written (or first seen here).
    New,
    /// Its text changed.
    Edited,
    /// It became a tombstone.
    Deleted,
    /// Only where it stands changed: sent, failed, a file uploaded.
    Delivery,
    /// Its reactions changed.
    Reactions,
    /// Its link preview arrived (or went with an edit).
    LinkPreview,
}

/// The connection as a UI banner shows it.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Not connected; waiting before the next attempt.
    Offline,
    /// Opening the socket.
    Connecting,
    /// Connected, catching up with `sync`.
    Syncing,
    /// Caught up and live.
    Online,
    /// The session is gone (signed out or revoked): sign in again.
    SignedOut,
}

/// What changed, for UIs.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ClientEvent {
    /// The connection changed state.
    Connection {
        /// New state.
        state: ConnectionState,
    },
    /// A room was added or changed.
    RoomUpdated {
        /// The room.
        room: RoomView,
    },
    /// The user left or was removed from a room.
    RoomRemoved {
        /// The room.
        room_id: String,
    },
    /// The user's default notification level changed (on this device or
    /// another); every room that follows it came as `RoomUpdated` before.
    NotifyDefault {
        /// The level now.
        level: NotifyLevel,
    },
    /// A message was added or changed (sent, edited, deleted, failed...).
    MessageUpserted {
        /// The message as it is now.
        message: MessageView,
        /// What happened to it.
        change: MessageChange,
        /// How the change came about.
        origin: Origin,
        /// The room's preview and numbers after the change.
        room: RoomCounts,
    },
    /// A pending message was withdrawn before it was sent.
    MessageRemoved {
        /// Room.
        room_id: String,
        /// Its local id.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        local_id: i64,
        /// The room's preview and numbers after it went.
        room: RoomCounts,
    },
    /// Someone started or stopped typing.
    Typing {
        /// Room.
        room_id: String,
        /// Typist.
        user_id: String,
        /// Their name.
        user_name: String,
        /// Started or stopped.
        is_typing: bool,
    },
    /// A member's read pointer moved (the user's own, on another device, too).
    Receipt {
        /// Room.
        room_id: String,
        /// Whose pointer.
        user_id: String,
        /// New pointer.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seq: i64,
        /// The room's numbers after it moved.
        room: RoomCounts,
    },
    /// Someone went online or offline.
    Presence {
        /// User.
        user_id: String,
        /// `online` / `offline`.
        status: String,
        /// When last seen.
        last_seen: Option<String>,
    },
    /// The outbox gave up on an item.
    OutboxFailed {
        /// Room.
        room_id: String,
        /// The item's tempId or target.
        temp_id: String,
        /// Why.
        reason: String,
    },
    /// Bytes of a queued file went to the server. Comes again from 0 if the
    /// upload is retried (after a lost connection, say).
    UploadProgress {
        /// Room of the message the file belongs to.
        room_id: String,
        /// That message's tempId.
        temp_id: String,
        /// The file's name.
        name: String,
        /// Bytes handed to the connection so far.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        sent: u64,
        /// The file's size.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        total: u64,
    },
    /// A catch-up finished: the store holds everything up to now.
    Synced,
}
