//! Event names and the `data` of every request, ack and push.
//!
//! Request types accept unknown fields (newer clients may send more) and reject
//! wrong types, so a bad field becomes an `invalid` error naming it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::objects::{Message, Room, RoomSummary, RoomType};

mod community;
mod conversations;
pub(crate) mod notify;
mod push;
mod search;
pub use community::*;
pub use conversations::*;
pub use notify::*;
pub use push::*;
pub use search::*;

/// Event names, as they appear in frames.
pub mod names {
    /// Client → server: authenticate a socket opened without a bearer header
    /// (also renews the token of an authenticated socket).
    pub const AUTH: &str = "auth";
    /// Send a message.
    pub const MESSAGE_SEND: &str = "message.send";
    /// Edit one's own message.
    pub const MESSAGE_EDIT: &str = "message.edit";
    /// Delete a message.
    pub const MESSAGE_DELETE: &str = "message.delete";
    /// Page through a room's messages.
    pub const MESSAGE_HISTORY: &str = "message.history";
    /// Move one's read pointer.
    pub const MESSAGE_READ: &str = "message.read";
    /// Start typing.
    pub const TYPING_START: &str = "typing.start";
    /// Stop typing.
    pub const TYPING_STOP: &str = "typing.stop";
    /// Create a room.
    pub const ROOM_CREATE: &str = "room.create";
    /// List one's rooms.
    pub const ROOM_LIST: &str = "room.list";
    /// Rename or describe a group.
    pub const ROOM_UPDATE: &str = "room.update";
    /// Add members to a group.
    pub const ROOM_MEMBERS_ADD: &str = "room.members.add";
    /// Remove a member from a group, or leave it.
    pub const ROOM_MEMBERS_REMOVE: &str = "room.members.remove";
    /// Extension: change a member's role (owner only).
    pub const ROOM_MEMBERS_ROLE: &str = "room.members.role";
    /// Ask for users' presence.
    pub const PRESENCE_GET: &str = "presence.get";
    /// Catch up on what was missed.
    pub const SYNC: &str = "sync";
    /// Extension: application-level ping, answered with an ack.
    pub const PING: &str = "ping";
    /// v1.1: react to a message.
    pub const REACTION_ADD: &str = "reaction.add";
    /// v1.1: take one's reaction back.
    pub const REACTION_REMOVE: &str = "reaction.remove";
    /// v1.1: pin a message in its room.
    pub const MESSAGE_PIN: &str = "message.pin";
    /// v1.1: unpin a message.
    pub const MESSAGE_UNPIN: &str = "message.unpin";
    /// v1.1: a room's notification level and mute, for the caller.
    pub const ROOM_NOTIFY_SET: &str = "room.notify.set";
    /// Extension: the caller's default notification level.
    pub const NOTIFY_DEFAULT_SET: &str = "notify.default.set";
    /// v1.1: the calling device's Web Push subscription.
    pub const PUSH_REGISTER: &str = "push.register";
    /// v1.1: the calling device's subscription goes.
    pub const PUSH_UNREGISTER: &str = "push.unregister";
    /// v1.1: search the messages one may see.
    pub const MESSAGE_SEARCH: &str = "message.search";
    /// v1.1: make an invite link to a group.
    pub const ROOM_INVITE_CREATE: &str = "room.invite.create";
    /// v1.1: a group's invite links.
    pub const ROOM_INVITE_LIST: &str = "room.invite.list";
    /// v1.1: revoke an invite link.
    pub const ROOM_INVITE_REVOKE: &str = "room.invite.revoke";
    /// v1.1: join a group with an invite's code.
    pub const ROOM_JOIN: &str = "room.join";
    /// v1.1: ban someone from a group.
    pub const ROOM_BAN: &str = "room.ban";
    /// v1.1: lift a ban.
    pub const ROOM_UNBAN: &str = "room.unban";
    /// v1.1: a group's bans.
    pub const ROOM_BANS: &str = "room.bans";
    /// v1.1: block a user.
    pub const USER_BLOCK: &str = "user.block";
    /// v1.1: unblock a user.
    pub const USER_UNBLOCK: &str = "user.unblock";
    /// v1.1: the users one blocked.
    pub const USER_BLOCKS: &str = "user.blocks";
    /// v1.1: report a message to the server's admins.
    pub const MESSAGE_REPORT: &str = "message.report";

    /// Server → client: the socket is authenticated.
    pub const CONNECTION_AUTHENTICATED: &str = "connection.authenticated";
    /// A new message.
    pub const MESSAGE_RECEIVED: &str = "message.received";
    /// A message was edited.
    pub const MESSAGE_EDITED: &str = "message.edited";
    /// A message was deleted.
    pub const MESSAGE_DELETED: &str = "message.deleted";
    /// A member's read pointer moved.
    pub const RECEIPT_UPDATED: &str = "receipt.updated";
    /// Someone started or stopped typing.
    pub const TYPING_USER: &str = "typing.user";
    /// A user went online or offline.
    pub const PRESENCE_UPDATE: &str = "presence.update";
    /// A room appeared for this user (created, or the user was added).
    pub const ROOM_CREATED: &str = "room.created";
    /// A room's name, description or member roles changed.
    pub const ROOM_UPDATED: &str = "room.updated";
    /// A member joined.
    pub const ROOM_MEMBER_JOINED: &str = "room.member_joined";
    /// A member left or was removed.
    pub const ROOM_MEMBER_LEFT: &str = "room.member_left";
    /// An error for a frame that had no usable id.
    pub const ERROR: &str = "error";
    /// Extension: events may have been missed; call `sync` for every room.
    pub const SYNC_NEEDED: &str = "sync.needed";
    /// v1.1: someone reacted.
    pub const REACTION_ADDED: &str = "reaction.added";
    /// v1.1: someone took a reaction back.
    pub const REACTION_REMOVED: &str = "reaction.removed";
    /// v1.1: a message was pinned.
    pub const MESSAGE_PINNED: &str = "message.pinned";
    /// v1.1: a message was unpinned (also when it was deleted).
    pub const MESSAGE_UNPINNED: &str = "message.unpinned";
    /// Extension: a message's link preview arrived.
    pub const MESSAGE_LINK_PREVIEW: &str = "message.link_preview";
    /// v1.1: the user changed a room's notification settings on another device.
    pub const ROOM_NOTIFY_UPDATED: &str = "room.notify.updated";
    /// Extension: the user changed the default level on another device.
    pub const NOTIFY_DEFAULT_UPDATED: &str = "notify.default.updated";
    /// Extension: the user's blocked list changed on another device.
    pub const USER_BLOCKS_UPDATED: &str = "user.blocks.updated";
    /// v1.1: someone who shares a room changed their profile.
    pub const USER_UPDATED: &str = "user.updated";
}

// ---------------------------------------------------------------- requests

/// `auth`: `{token}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    /// An access token.
    pub token: String,
}

/// `message.send`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    /// Target room.
    pub room_id: String,
    /// Text (may be empty for image/file messages).
    #[serde(default)]
    pub content: String,
    /// `text` (default), `image` or `file`.
    #[serde(rename = "type", default = "default_type")]
    pub message_type: String,
    /// The sender's idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_id: Option<String>,
    /// Ids of files the sender uploaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Id of a message in the same room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// v1.1: user ids it mentions (non-members are dropped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// v1.1: whether it mentions the whole room.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_room: bool,
}

fn default_type() -> String {
    "text".to_owned()
}

/// `message.edit`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditMessage {
    /// The message to edit.
    pub message_id: String,
    /// Its new text.
    pub content: String,
    /// v1.1: the user ids it mentions after the edit; absent: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<String>>,
    /// v1.1: whether it mentions the room after the edit; absent: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions_room: Option<bool>,
}

/// `message.delete`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteMessage {
    /// The message to delete.
    pub message_id: String,
}

/// Paging direction of `message.history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Older than the cursor (default).
    #[default]
    Before,
    /// Newer than the cursor.
    After,
}

/// `message.history`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    /// The room.
    pub room_id: String,
    /// A `nextCursor` from an earlier page, a seq, or an RFC 3339 timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Value>,
    /// Page size (default 50, capped at 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Value>,
    /// `before` (default) or `after`.
    #[serde(default)]
    pub direction: Direction,
}

/// `message.read`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadPointer {
    /// The room.
    pub room_id: String,
    /// Everything up to this seq has been read.
    pub seq: i64,
}

/// `typing.start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingStart {
    /// The room.
    pub room_id: String,
}

/// `typing.stop`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingStop {
    /// The room.
    pub room_id: String,
}

/// `room.list`: no fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListRooms {}

/// `ping` (extension): no fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ping {}

/// `room.create`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRoom {
    /// `direct` or `group`.
    #[serde(rename = "type")]
    pub room_type: RoomType,
    /// A group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A group's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The other members (the creator is added anyway).
    #[serde(default)]
    pub member_ids: Vec<String>,
    /// Whether the group is private.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
}

/// `room.update`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRoom {
    /// The group.
    pub room_id: String,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `room.members.add`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddMembers {
    /// The group.
    pub room_id: String,
    /// Users to add.
    pub user_ids: Vec<String>,
}

/// `room.members.remove`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveMember {
    /// The group.
    pub room_id: String,
    /// The member to remove (oneself to leave).
    pub user_id: String,
}

/// `room.members.role` (extension).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetRole {
    /// The group.
    pub room_id: String,
    /// The member.
    pub user_id: String,
    /// `admin` or `member` (ownership passes with `owner`).
    pub role: crate::objects::Role,
}

/// `presence.get`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceGet {
    /// Users to ask about.
    pub user_ids: Vec<String>,
}

/// `sync`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRequest {
    /// The last seq the client has per room.
    #[serde(default)]
    pub since: BTreeMap<String, i64>,
    /// Events per room (default 100, max 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

// ---------------------------------------------------------------- acks and pushes

/// `{}`: the ack of requests that answer nothing (`auth`, `typing.*`).
/// Reads any value, so an ack without `data` is still one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Empty {})
    }
}

/// Ack of `ping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pong {
    /// The server's clock (RFC 3339).
    pub server_time: String,
}

/// Push `sync.needed` (extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncNeeded {
    /// Why events may have been missed.
    #[serde(default)]
    pub reason: String,
}

/// `{message}`: ack of `message.send`/`message.edit`, push `message.received`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEnvelope {
    /// The message.
    pub message: Message,
}

/// Push `message.edited`: `{message, seq}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEdited {
    /// The message after the edit.
    pub message: Message,
    /// The seq of the edit event.
    pub seq: i64,
}

/// Ack of `message.delete` and push `message.deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDeleted {
    /// The room (always present in the push; also in the ack as an extension).
    pub room_id: String,
    /// The deleted message.
    pub message_id: String,
    /// The seq of the delete event.
    pub seq: i64,
    /// When.
    pub deleted_at: String,
}

/// Ack of `message.history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// Ascending by seq.
    pub messages: Vec<Message>,
    /// More messages exist in the direction asked.
    pub has_more: bool,
    /// Continues in the direction asked (the edge seq, as a string); null on an empty page.
    pub next_cursor: Option<String>,
}

/// Ack of `message.read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadAck {
    /// The room.
    pub room_id: String,
    /// The read pointer after the request (never lower than before).
    pub seq: i64,
}

/// Push `receipt.updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptUpdated {
    /// The room.
    pub room_id: String,
    /// Whose pointer moved.
    pub user_id: String,
    /// The new pointer.
    pub seq: i64,
    /// When.
    pub read_at: String,
}

/// Push `typing.user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingUser {
    /// The room.
    pub room_id: String,
    /// The typist.
    pub user_id: String,
    /// Their name.
    pub user_name: String,
    /// Started (true) or stopped (false).
    pub is_typing: bool,
}

/// `online` or `offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At least one device connected.
    Online,
    /// No device connected.
    Offline,
}

/// An entry of `presence.get` and the push `presence.update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    /// The user.
    pub user_id: String,
    /// Online or offline.
    pub status: Status,
    /// When the last device went away (null if never connected).
    pub last_seen: Option<String>,
}

/// Ack of `presence.get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceList {
    /// One entry per asked user who shares a room with the caller (or is the caller).
    pub presence: Vec<Presence>,
}

/// `{room}`: ack of room requests, pushes `room.created` and `room.updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomEnvelope {
    /// The room.
    pub room: Room,
}

/// Ack of `room.list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomList {
    /// The caller's rooms, most recently active first.
    pub rooms: Vec<RoomSummary>,
    /// Extension: the caller's default notification level (rooms that
    /// follow it say `notifyFollowsDefault`).
    #[serde(default)]
    pub notify_default: NotifyLevel,
}

/// Pushes `room.member_joined` / `room.member_left`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberEvent {
    /// The room.
    pub room_id: String,
    /// Who joined or left.
    pub user_id: String,
    /// The seq of the event.
    pub seq: i64,
}

/// Push `connection.authenticated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authenticated {
    /// The user.
    pub user_id: String,
    /// The device of the token.
    pub device_id: String,
    /// The server's clock (RFC 3339).
    pub server_time: String,
}

/// One event of a `sync` answer: the push it was, with its seq on top.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncEvent {
    /// The event's seq.
    pub seq: i64,
    /// The push's event name.
    pub event: String,
    /// The push's data.
    pub data: Value,
}

/// A room's part of a `sync` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRoom {
    /// Events after the given seq, ascending.
    pub events: Vec<SyncEvent>,
    /// More events follow; ask again from the last seq.
    pub has_more: bool,
    /// Extension: set when the caller may not read this room (not a member,
    /// or no longer one); `events` is then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::envelope::ErrorBody>,
}

/// Ack of `sync`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    /// Per room asked.
    pub rooms: BTreeMap<String, SyncRoom>,
    /// Rooms the caller belongs to that were not asked about.
    pub new_rooms: Vec<Room>,
}
