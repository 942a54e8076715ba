//! The `data` of the v1.1 conversation requests and pushes (protocol 9.1-9.4:
//! reactions and pins) and of link previews (extension, docs/protocol.md 8.13).

use serde::{Deserialize, Serialize};

use crate::objects::{LinkPreview, Reaction};

// ---------------------------------------------------------------- requests

/// `reaction.add` (v1.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddReaction {
    /// The message.
    pub message_id: String,
    /// The emoji ([`crate::text::check_emoji`]).
    pub emoji: String,
}

/// `reaction.remove` (v1.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveReaction {
    /// The message.
    pub message_id: String,
    /// The emoji.
    pub emoji: String,
}

/// `message.pin` (v1.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinMessage {
    /// The message.
    pub message_id: String,
}

/// `message.unpin` (v1.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnpinMessage {
    /// The message.
    pub message_id: String,
}

// ---------------------------------------------------------------- acks and pushes

/// Ack of `reaction.add` / `reaction.remove`: the message's reactions after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionsAck {
    /// The message.
    pub message_id: String,
    /// Its reactions now, in order of first use.
    pub reactions: Vec<Reaction>,
    /// Extension: the seq of the event this request made; absent when it
    /// changed nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

/// Pushes `reaction.added` / `reaction.removed` (v1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionEvent {
    /// The room.
    pub room_id: String,
    /// The message.
    pub message_id: String,
    /// Who reacted (or took it back).
    pub user_id: String,
    /// The emoji.
    pub emoji: String,
    /// The seq of the event.
    pub seq: i64,
}

/// Ack of `message.pin` / `message.unpin`: the room's pins after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinsAck {
    /// The room.
    pub room_id: String,
    /// Newest pin first.
    pub pinned_message_ids: Vec<String>,
    /// Extension: the seq of the event this request made; absent when it
    /// changed nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

/// Pushes `message.pinned` / `message.unpinned` (v1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinEvent {
    /// The room.
    pub room_id: String,
    /// The message.
    pub message_id: String,
    /// Who pinned or unpinned it (for an unpin by deletion: who deleted it).
    pub user_id: String,
    /// The seq of the event.
    pub seq: i64,
}

/// Push `message.link_preview` (extension): the preview of a message's
/// first link, once the server has fetched it. `sync` replays it with the
/// message as it is now (no `linkPreview` once an edit or delete took it away).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkPreviewEvent {
    /// The room.
    pub room_id: String,
    /// The message.
    pub message_id: String,
    /// The seq of the event.
    pub seq: i64,
    /// The preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_preview: Option<LinkPreview>,
}
