//! The objects of the contract: users, rooms, members, messages, attachments.

use serde::{Deserialize, Serialize};

/// `{userId, userName, displayName, avatarUrl?, deactivated?, deleted?}`
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Stable server-generated id.
    pub user_id: String,
    /// Unique login name (compared case-insensitively).
    pub user_name: String,
    /// Name shown to others.
    pub display_name: String,
    /// Optional picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// v1.1: `true` when a server admin deactivated the account (omitted
    /// while it is active).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "ts", ts(as = "Option<bool>", optional))]
    pub deactivated: bool,
    /// Extension: `true` when the account was deleted by its owner (its
    /// name stays taken; it is also `deactivated`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "ts", ts(as = "Option<bool>", optional))]
    pub deleted: bool,
}

/// `direct` (exactly two members, fixed) or `group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomType {
    /// A 1:1 room with id `direct_<min>_<max>`.
    Direct,
    /// A named room with an owner, admins and members.
    Group,
}

impl RoomType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoomType::Direct => "direct",
            RoomType::Group => "group",
        }
    }
}

/// A member's role in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A plain member.
    Member,
    /// May rename the room, add and remove members, delete others' messages.
    Admin,
    /// The group's creator (or the member it passed to); an admin that cannot be removed.
    Owner,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owners and admins manage a group.
    pub fn can_manage(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// `{userId, role, joinedAt}` plus optional extensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The member.
    pub user_id: String,
    /// Their role.
    pub role: Role,
    /// When they joined (RFC 3339).
    pub joined_at: String,
    /// Extension: the member's login name, so clients need no extra lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Extension: the member's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Extension: the member's picture (see `User.avatarUrl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Extension: the member's read pointer, so read states survive being offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_seq: Option<i64>,
}

/// A room with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    /// `direct_<a>_<b>` for direct rooms, a server id for groups.
    pub room_id: String,
    /// `direct` or `group`.
    #[serde(rename = "type")]
    pub room_type: RoomType,
    /// The group's name; for a direct room, empty.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Whether the group is private.
    pub is_private: bool,
    /// The creator's user id.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// The seq of the room's latest event (0 when none).
    pub last_seq: i64,
    /// Current members.
    pub members: Vec<Member>,
    /// v1.1: pinned messages, newest pin first (at most [`crate::MAX_PINS`]).
    #[serde(default)]
    pub pinned_message_ids: Vec<String>,
}

/// A room as `room.list` returns it: the room plus the caller's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomSummary {
    /// The room.
    #[serde(flatten)]
    pub room: Room,
    /// Messages from others after the caller's read pointer, deleted ones excluded.
    pub unread_count: i64,
    /// The room's newest message (possibly a tombstone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
    /// The caller's read pointer.
    pub last_read_seq: i64,
    /// v1.1: the unread messages (as `unreadCount` counts them) that mention
    /// the caller or the whole room.
    #[serde(default)]
    pub mention_count: i64,
    /// v1.1: the caller's notification level for the room (its default
    /// when it has set none).
    #[serde(default)]
    pub notify_level: crate::events::NotifyLevel,
    /// v1.1: muted until then (RFC 3339); `null` when not muted.
    #[serde(default)]
    pub mute_until: Option<String>,
    /// Extension: the level is the caller's default, not one set for the room.
    #[serde(default)]
    pub notify_follows_default: bool,
}

/// `text`, `image`, `file` or `system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// Plain text; needs non-blank content.
    Text,
    /// One or more images; needs attachments.
    Image,
    /// One or more files; needs attachments.
    File,
    /// Written by the server; clients cannot send it.
    System,
}

impl MessageType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::File => "file",
            MessageType::System => "system",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<MessageType> {
        match s {
            "text" => Some(MessageType::Text),
            "image" => Some(MessageType::Image),
            "file" => Some(MessageType::File),
            "system" => Some(MessageType::System),
            _ => None,
        }
    }
}

/// A message, or the tombstone of a deleted one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Server id.
    pub message_id: String,
    /// The room it belongs to.
    pub room_id: String,
    /// The seq of its creation in the room's event stream.
    pub seq: i64,
    /// Who sent it.
    pub sender_id: String,
    /// The sender's idempotency key, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_id: Option<String>,
    /// `text`, `image`, `file` or `system`.
    #[serde(rename = "type")]
    pub message_type: MessageType,
    /// The text; empty once deleted.
    pub content: String,
    /// Files; empty once deleted.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// v1.1: the replied message as it is now (edited, or deleted), with
    /// `replyTo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_preview: Option<ReplyPreview>,
    /// v1.1: reactions, in order of first use.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// v1.1: the members it mentions.
    #[serde(default)]
    pub mentions: Vec<String>,
    /// v1.1: whether it mentions the whole room.
    #[serde(default)]
    pub mentions_room: bool,
    /// Extension (docs/protocol.md 8.13): what the server found at the
    /// message's first link; it may come later, as `message.link_preview`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_preview: Option<LinkPreview>,
    /// RFC 3339.
    pub created_at: String,
    /// Set when edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// Set when deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
}

/// `{messageId, senderId, type, content, deletedAt?}`: what a reply shows of
/// the message it answers, as that message is when the reply is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyPreview {
    /// The replied message.
    pub message_id: String,
    /// Its sender.
    pub sender_id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub message_type: MessageType,
    /// The first [`crate::REPLY_PREVIEW_CHARS`] characters of its content;
    /// empty once it is deleted.
    pub content: String,
    /// Set when it was deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
}

/// `{url, title?, description?, siteName?, image?}`: a link preview
/// (extension, docs/protocol.md 8.13), as the server read the page.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkPreview {
    /// The page (the message's first http(s) link, without its fragment).
    pub url: String,
    /// Its title (at most 200 characters, one line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub title: Option<String>,
    /// Its summary (at most 300 characters, one line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub description: Option<String>,
    /// The site's own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub site_name: Option<String>,
    /// Its picture, re-encoded as a small image and served like an upload
    /// (readable by the members of rooms whose messages show the preview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub image: Option<Attachment>,
}

/// `{emoji, count, userIds}`: one reaction on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    /// The emoji.
    pub emoji: String,
    /// How many users reacted with it (exact).
    pub count: i64,
    /// Who, first to react first, at most [`crate::REACTION_USERS_LISTED`].
    pub user_ids: Vec<String>,
}

/// `{fileId, name, mime, size, width?, height?, url, thumbnailUrl?}`
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// Server id of the upload.
    pub file_id: String,
    /// Sanitised original file name.
    pub name: String,
    /// Type sniffed from the bytes.
    pub mime: String,
    /// Bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: i64,
    /// Pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub width: Option<i64>,
    /// Pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub height: Option<i64>,
    /// Path of the bytes on the server (`/api/files/{fileId}`).
    pub url: String,
    /// Path of the thumbnail, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

/// The id of the direct room between two users: `direct_<min>_<max>`.
pub fn direct_room_id(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("direct_{lo}_{hi}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_room_ids_do_not_depend_on_who_asks() {
        assert_eq!(direct_room_id("b", "a"), "direct_a_b");
        assert_eq!(direct_room_id("a", "b"), "direct_a_b");
    }

    #[test]
    fn tombstones_serialise_with_deleted_at_and_no_optional_fields() {
        let m = Message {
            message_id: "m".into(),
            room_id: "r".into(),
            seq: 3,
            sender_id: "u".into(),
            temp_id: None,
            message_type: MessageType::Text,
            content: String::new(),
            attachments: vec![],
            reply_to: None,
            reply_preview: None,
            reactions: vec![],
            mentions: vec![],
            mentions_room: false,
            link_preview: None,
            created_at: "2025-01-01T00:00:00.000Z".into(),
            edited_at: None,
            deleted_at: Some("2025-01-01T00:00:01.000Z".into()),
        };
        let v = serde_json::to_value(&m).expect("json");
        assert_eq!(v["type"], "text");
        assert_eq!(v["deletedAt"], "2025-01-01T00:00:01.000Z");
        assert!(v.get("tempId").is_none());
        assert_eq!(v["attachments"], serde_json::json!([]));
    }
}
