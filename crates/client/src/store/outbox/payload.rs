//! What an outbox item carries: a send (with its files' upload work), an
//! edit or a delete, typed; and the requests they become.

use std::path::PathBuf;

use leetchat_protocol::Attachment;
use leetchat_protocol::events::{DeleteMessage, EditMessage, SendMessage};
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
}

impl Payload {
    pub(crate) fn parse(kind: &str, json: &str) -> Result<Payload> {
        Ok(match kind {
            "edit" => Payload::Edit(serde_json::from_str(json)?),
            "delete" => Payload::Delete(serde_json::from_str(json)?),
            _ => Payload::Send(serde_json::from_str(json)?),
        })
    }

    pub(crate) fn to_json(&self) -> Result<String> {
        Ok(match self {
            Payload::Send(p) => serde_json::to_string(p)?,
            Payload::Edit(p) => serde_json::to_string(p)?,
            Payload::Delete(p) => serde_json::to_string(p)?,
        })
    }

    /// Its kind.
    pub fn kind(&self) -> OutboxKind {
        match self {
            Payload::Send(_) => OutboxKind::Send,
            Payload::Edit(_) => OutboxKind::Edit,
            Payload::Delete(_) => OutboxKind::Delete,
        }
    }

    /// The text to restore when an edit or delete is refused.
    pub(crate) fn previous(&self) -> Option<&str> {
        match self {
            Payload::Send(_) => None,
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

/// The request an edit or delete becomes once its message has a server id.
pub fn change_request(item: &OutboxItem, message_id: String) -> Option<ChangeRequest> {
    match &item.payload {
        Payload::Send(_) => None,
        Payload::Edit(e) => Some(ChangeRequest::Edit(EditMessage {
            message_id,
            content: e.content.clone(),
        })),
        Payload::Delete(_) => Some(ChangeRequest::Delete(DeleteMessage { message_id })),
    }
}

/// An edit or delete on the wire.
#[derive(Debug, Clone)]
pub enum ChangeRequest {
    /// `message.edit`.
    Edit(EditMessage),
    /// `message.delete`.
    Delete(DeleteMessage),
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
