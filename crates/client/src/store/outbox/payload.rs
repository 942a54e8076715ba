//! What an outbox item carries: a send (with its files' upload work), an
//! edit, a delete, a reaction or a pin, typed; and the requests they become.

use std::path::PathBuf;

use leetchat_protocol::Attachment;
use leetchat_protocol::events::{
    AddReaction, DeleteMessage, EditMessage, PinMessage, RemoveReaction, SendMessage, UnpinMessage,
};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What an outbox item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    /// `message.send`.
    Send,
    /// `message.edit`.
    Edit,
    /// `message.delete`.
    Delete,
    /// `reaction.add` or `reaction.remove`.
    React,
    /// `message.pin` or `message.unpin`.
    Pin,
}

/// A message to send, as the user wrote it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    /// The text.
    pub content: String,
    /// The message it answers (server id, tempId or local id).
    pub reply_to: Option<String>,
    /// User ids of the members it mentions.
    pub mentions: Vec<String>,
    /// Whether it mentions the whole room.
    pub mentions_room: bool,
}

impl Draft {
    /// Just text.
    pub fn text(content: &str) -> Draft {
        Draft {
            content: content.to_owned(),
            ..Draft::default()
        }
    }
}

/// A queued send, as stored (the JSON of the `payload` column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendPayload {
    /// The room.
    pub room_id: String,
    /// The text (a caption for files).
    #[serde(default)]
    pub content: String,
    /// `text`, `image` or `file` (for files, a guess until uploaded).
    #[serde(rename = "type")]
    pub message_type: String,
    /// The idempotency key the send keeps across retries.
    pub temp_id: String,
    /// The message it answers.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Members it mentions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Whether it mentions the room.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_room: bool,
    /// Files to upload first, when it is a file message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<QueuedUpload>>,
    /// The files were uploaded again once already (after the server lost them).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reuploaded: bool,
}

impl SendPayload {
    /// The `message.send` request: with files, their fileIds as attachments
    /// and the type the server's sniffed types say.
    pub fn request(&self) -> SendMessage {
        let files = self.files.as_deref().unwrap_or_default();
        let mimes: Option<Vec<&str>> = files
            .iter()
            .map(|f| f.attachment.as_ref().map(|a| a.mime.as_str()))
            .collect();
        let message_type = match mimes {
            // Without every type known (an older payload), the queued guess stands.
            Some(m) if !files.is_empty() => crate::files::message_type_of(m).as_str().to_owned(),
            _ => self.message_type.clone(),
        };
        SendMessage {
            room_id: self.room_id.clone(),
            content: self.content.clone(),
            message_type,
            temp_id: Some(self.temp_id.clone()),
            attachments: files.iter().filter_map(|f| f.file_id.clone()).collect(),
            reply_to: self.reply_to.clone(),
            mentions: self.mentions.clone(),
            mentions_room: self.mentions_room,
        }
    }
}

/// A file of a queued send: where its copy is, and its upload once done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedUpload {
    /// The private copy (see `files::copy_into_outbox`).
    pub path: PathBuf,
    /// The name it is sent under.
    pub name: String,
    /// Set as soon as its upload succeeded.
    #[serde(default)]
    pub file_id: Option<String>,
    /// The server's answer to the upload.
    #[serde(default)]
    pub attachment: Option<Attachment>,
}

/// A queued edit: the new text, and the text to restore if it is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditPayload {
    /// The new text.
    pub content: String,
    /// The text before (restored when refused).
    #[serde(default)]
    pub previous: String,
    /// The members it mentions after the edit (absent: unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<String>>,
}

/// A queued reaction: added or taken back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReactPayload {
    /// The emoji.
    pub emoji: String,
    /// Added (true) or taken back.
    pub add: bool,
}

/// A queued pin or unpin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinPayload {
    /// Pin (true) or unpin.
    pub pin: bool,
}

/// A queued delete: the text to restore if it is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletePayload {
    /// The text before (restored when refused).
    #[serde(default)]
    pub previous: String,
}

/// What an outbox item carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A send.
    Send(SendPayload),
    /// An edit.
    Edit(EditPayload),
    /// A delete.
    Delete(DeletePayload),
    /// A reaction.
    React(ReactPayload),
    /// A pin.
    Pin(PinPayload),
}

impl Payload {
    pub(crate) fn parse(kind: &str, json: &str) -> Result<Payload> {
        Ok(match kind {
            "edit" => Payload::Edit(serde_json::from_str(json)?),
            "delete" => Payload::Delete(serde_json::from_str(json)?),
            "react" => Payload::React(serde_json::from_str(json)?),
            "pin" => Payload::Pin(serde_json::from_str(json)?),
            _ => Payload::Send(serde_json::from_str(json)?),
        })
    }

    pub(crate) fn to_json(&self) -> Result<String> {
        Ok(match self {
            Payload::Send(p) => serde_json::to_string(p)?,
            Payload::Edit(p) => serde_json::to_string(p)?,
            Payload::Delete(p) => serde_json::to_string(p)?,
            Payload::React(p) => serde_json::to_string(p)?,
            Payload::Pin(p) => serde_json::to_string(p)?,
        })
    }

    /// Its kind.
    pub fn kind(&self) -> OutboxKind {
        match self {
            Payload::Send(_) => OutboxKind::Send,
            Payload::Edit(_) => OutboxKind::Edit,
            Payload::Delete(_) => OutboxKind::Delete,
            Payload::React(_) => OutboxKind::React,
            Payload::Pin(_) => OutboxKind::Pin,
        }
    }

    /// The text to restore when an edit or delete is refused.
    pub(crate) fn previous(&self) -> Option<&str> {
        match self {
            Payload::Send(_) | Payload::React(_) | Payload::Pin(_) => None,
            Payload::Edit(e) => Some(&e.previous),
            Payload::Delete(d) => Some(&d.previous),
        }
    }
}

/// One queued change.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    /// Queue position.
    pub id: i64,
    /// The room (items of one room go out in order).
    pub room_id: String,
    /// The send's tempId, or the target's tempId or message id.
    pub temp_id: String,
    /// What to send (and what to restore when refused).
    pub payload: Payload,
    /// Tries so far (including the current one).
    pub attempts: i64,
}

impl OutboxItem {
    /// Send, edit or delete.
    pub fn kind(&self) -> OutboxKind {
        self.payload.kind()
    }

    /// A send with files to upload first.
    pub fn files(&self) -> Option<&[QueuedUpload]> {
        match &self.payload {
            Payload::Send(p) => p.files.as_deref(),
            _ => None,
        }
    }
}

/// The request an edit, delete, reaction or pin becomes once its message
/// has a server id.
pub fn change_request(item: &OutboxItem, message_id: String) -> Option<ChangeRequest> {
    match &item.payload {
        Payload::Send(_) => None,
        Payload::Edit(e) => Some(ChangeRequest::Edit(EditMessage {
            message_id,
            content: e.content.clone(),
            mentions: e.mentions.clone(),
            mentions_room: None,
        })),
        Payload::Delete(_) => Some(ChangeRequest::Delete(DeleteMessage { message_id })),
        Payload::React(r) if r.add => Some(ChangeRequest::React(AddReaction {
            message_id,
            emoji: r.emoji.clone(),
        })),
        Payload::React(r) => Some(ChangeRequest::Unreact(RemoveReaction {
            message_id,
            emoji: r.emoji.clone(),
        })),
        Payload::Pin(p) if p.pin => Some(ChangeRequest::Pin(PinMessage { message_id })),
        Payload::Pin(_) => Some(ChangeRequest::Unpin(UnpinMessage { message_id })),
    }
}

/// An edit or delete on the wire.
#[derive(Debug, Clone)]
pub enum ChangeRequest {
    /// `message.edit`.
    Edit(EditMessage),
    /// `message.delete`.
    Delete(DeleteMessage),
    /// `reaction.add`.
    React(AddReaction),
    /// `reaction.remove`.
    Unreact(RemoveReaction),
    /// `message.pin`.
    Pin(PinMessage),
    /// `message.unpin`.
    Unpin(UnpinMessage),
}

/// A file a queued send uploads first.
#[derive(Debug, Clone)]
pub struct QueuedFile {
    /// The private copy to upload (see `files::copy_into_outbox`).
    pub path: PathBuf,
    /// The name it is sent under (the original file's name).
    pub name: String,
    /// Its size, for the local preview.
    pub size: u64,
    /// The type its name suggests, for the local preview.
    pub mime: String,
}

/// A fresh tempId for a send.
pub fn new_temp_id() -> String {
    format!("tmp-{}", uuid::Uuid::now_v7())
}
