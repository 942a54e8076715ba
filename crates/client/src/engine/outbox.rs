//! The outbox on the wire: each item that may go becomes a request (or,
//! for a file send, first an upload per file), and its answer is applied.
//!
//! - **Acked**: the local copy becomes the server's (id, seq), then the item
//!   leaves the outbox. If the client dies in between, the item is sent
//!   again with the same tempId and the server answers with the original.
//! - **Refused**: `rate_limited` defers the item by `retryAfterMs`;
//!   `internal` defers it, longer after each attempt (up to 64 s); either
//!   way the room's unsent messages are shown again with why and until when
//!   they wait (a send held back by the rate limit may still be withdrawn);
//!   `unauthenticated` ends the connection (the token is refreshed); any
//!   other refusal is final: a send is marked failed (with the changes
//!   queued behind it dropped), an edit or delete is undone locally.
//! - **Files**: each file without a `fileId` is uploaded first, and its
//!   `fileId` stored at once, so a crash or a refusal after the upload never
//!   uploads it twice. A send whose files were uploaded on an earlier attempt
//!   and is refused with `forbidden` or `not_found` (the server removes
//!   uploads no message carries after a while) uploads them again, once.

use std::path::PathBuf;

use leetchat_protocol::events::{
    MessageDeleted, MessageEdited, MessageEnvelope, PinsAck, ReactionsAck,
};
use leetchat_protocol::{Attachment, ErrorBody, ErrorCode};
use serde_json::Value;

use super::{Engine, Purpose, Step};
use crate::error::{Error, Result};
use crate::store::outbox::{ChangeRequest, OutboxItem, OutboxKind, Payload, change_request};
use crate::views::{ClientEvent, MessageChange, Origin, Waiting};

/// A file of a queued send to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// The room of the message.
    pub room_id: String,
    /// The message's tempId.
    pub temp_id: String,
    /// The copy to upload.
    pub path: PathBuf,
    /// The name to upload it under.
    pub name: String,
}

/// A file send being prepared: its item, and which file is uploading.
#[derive(Debug)]
pub(super) struct FileSend {
    item: OutboxItem,
    /// Some file already had its `fileId` when this attempt began.
    earlier_uploads: bool,
    /// The file being uploaded.
    uploading: Option<usize>,
}

impl Engine {
    /// The next outbox step, if an item may go now.
    pub(super) fn outbox_step(&mut self, now: i64) -> Result<Option<Step>> {
        if self.file_send.is_some() {
            return self.file_send_step().map(Some);
        }
        while let Some(item) = self.store.outbox_take(now)? {
            if let Some(files) = item.files() {
                let earlier_uploads = files.iter().any(|f| f.file_id.is_some());
                self.file_send = Some(FileSend {
                    item,
                    earlier_uploads,
                    uploading: None,
                });
                return self.file_send_step().map(Some);
            }
            match &item.payload {
                Payload::Send(p) => {
                    let req = p.request();
                    let purpose = Purpose::Outbox {
                        item: Box::new(item),
                        earlier_uploads: false,
                    };
                    return self.request(&req, purpose).map(Some);
                }
                Payload::Edit(_) | Payload::Delete(_) | Payload::React(_) | Payload::Pin(_) => {
                    let Some(id) = self.store.server_id_of(&item.temp_id)? else {
                        self.fail(&item, "the message was never sent")?;
                        continue;
                    };
                    let purpose = |item| Purpose::Outbox {
                        item: Box::new(item),
                        earlier_uploads: false,
                    };
                    return match change_request(&item, id) {
                        Some(ChangeRequest::Edit(req)) => self.request(&req, purpose(item)),
                        Some(ChangeRequest::Delete(req)) => self.request(&req, purpose(item)),
                        Some(ChangeRequest::React(req)) => self.request(&req, purpose(item)),
                        Some(ChangeRequest::Unreact(req)) => self.request(&req, purpose(item)),
                        Some(ChangeRequest::Pin(req)) => self.request(&req, purpose(item)),
                        Some(ChangeRequest::Unpin(req)) => self.request(&req, purpose(item)),
                        None => Err(Error::Protocol("an edit that is not an edit".into())),
                    }
                    .map(Some);
                }
            }
        }
        Ok(None)
    }

    /// The file send in progress: its next upload, or the send itself.
    fn file_send_step(&mut self) -> Result<Step> {
        let Some(fs) = self.file_send.as_mut() else {
            return Ok(Step::Idle);
        };
        let files = fs.item.files().unwrap_or_default();
        if let Some(index) = files.iter().position(|f| f.file_id.is_none()) {
            let f = &files[index];
            fs.uploading = Some(index);
            return Ok(Step::Upload(Upload {
                room_id: fs.item.room_id.clone(),
                temp_id: fs.item.temp_id.clone(),
                path: f.path.clone(),
                name: f.name.clone(),
            }));
        }
        let Some(fs) = self.file_send.take() else {
            return Ok(Step::Idle);
        };
        let Payload::Send(p) = &fs.item.payload else {
            return Err(Error::Protocol("a file send that is not a send".into()));
        };
        let req = p.request();
        self.request(
            &req,
            Purpose::Outbox {
                item: Box::new(fs.item),
                earlier_uploads: fs.earlier_uploads,
            },
        )
    }

    /// The upload the last [`Step::Upload`] asked for finished. A network
    /// failure comes back as the error (the connection retries later, with
    /// the same tempId); refusals are the item's.
    pub fn on_uploaded(&mut self, result: Result<Attachment>) -> Result<()> {
        let Some(mut fs) = self.file_send.take() else {
            return Ok(());
        };
        let index = fs.uploading.take().unwrap_or_default();
        match result {
            Ok(attachment) => {
                if let Some(view) =
                    self.store
                        .outbox_file_uploaded(fs.item.id, index, &attachment)?
                {
                    self.message_changed(view, MessageChange::Delivery, Origin::Local)?;
                }
                if let Payload::Send(p) = &mut fs.item.payload
                    && let Some(f) = p.files.as_mut().and_then(|f| f.get_mut(index))
                {
                    f.file_id = Some(attachment.file_id.clone());
                    f.attachment = Some(attachment);
                }
                self.file_send = Some(fs);
                Ok(())
            }
            Err(Error::Server(body)) => self.refused(&fs.item, body),
            Err(Error::File(why)) => {
                self.fail(&fs.item, &format!("the file to send cannot be read: {why}"))
            }
            Err(e) => Err(e),
        }
    }

    /// The answer to an outbox item's request.
    pub(super) fn outbox_answered(
        &mut self,
        item: OutboxItem,
        earlier_uploads: bool,
        outcome: std::result::Result<Value, ErrorBody>,
    ) -> Result<()> {
        match outcome {
            Ok(ack) => self.acked(&item, ack),
            Err(body) if earlier_uploads => self.refused_after_earlier_uploads(&item, body),
            Err(body) => self.refused(&item, body),
        }
    }

    fn acked(&mut self, item: &OutboxItem, ack: Value) -> Result<()> {
        let store = self.store.clone();
        match item.kind() {
            OutboxKind::Send => {
                let m: MessageEnvelope = serde_json::from_value(ack)?;
                let view = store.apply_message(&m.message)?;
                self.seq(&m.message.room_id, m.message.seq)?;
                self.message_changed(view, MessageChange::Delivery, Origin::Acked)?;
            }
            OutboxKind::Edit => {
                let m: MessageEdited = serde_json::from_value(ack)?;
                // The edited message keeps its place (it may be an island).
                let view = store.apply_island(&m.message)?;
                self.seq(&m.message.room_id, m.seq)?;
                self.message_changed(view, MessageChange::Edited, Origin::Acked)?;
                self.replies_changed(&m.message.message_id, Origin::Acked)?;
            }
            OutboxKind::Delete => {
                let d: MessageDeleted = serde_json::from_value(ack)?;
                if let Some(view) = store.apply_deleted(&d.message_id, &d.deleted_at)? {
                    self.message_changed(view, MessageChange::Deleted, Origin::Acked)?;
                }
                self.seq(&item.room_id, d.seq)?;
                self.replies_changed(&d.message_id, Origin::Acked)?;
            }
            OutboxKind::React => {
                let a: ReactionsAck = serde_json::from_value(ack)?;
                let me = self.me.clone();
                if let Some(view) = store.reaction_acked(&me, item, &a)? {
                    self.message_changed(view, MessageChange::Reactions, Origin::Acked)?;
                }
                if let Some(seq) = a.seq {
                    self.seq(&item.room_id, seq)?;
                }
            }
            OutboxKind::Pin => {
                let a: PinsAck = serde_json::from_value(ack)?;
                store.pin_acked(item, &a)?;
                if let Some(seq) = a.seq {
                    self.seq(&item.room_id, seq)?;
                }
                self.room_changed(&item.room_id)?;
            }
        }
        store.outbox_done(item.id)?;
        self.forget_file_copies(item);
        Ok(())
    }

    /// A send that is acked or refused needs its files' copies no more.
    fn forget_file_copies(&self, item: &OutboxItem) {
        if item.files().is_some() {
            crate::files::remove_outbox_copies(&self.data_dir, &item.temp_id);
        }
    }

    /// A refusal of an item (see the module docs).
    fn refused(&mut self, item: &OutboxItem, body: ErrorBody) -> Result<()> {
        let now = leetchat_protocol::time::now_ms();
        let (until, why) = match body.code {
            ErrorCode::RateLimited => (
                now + body.retry_after_ms.unwrap_or(1000) as i64,
                Waiting::RateLimited,
            ),
            ErrorCode::Internal => (
                now + (1000i64 << item.attempts.clamp(0, 6)),
                Waiting::ServerError,
            ),
            ErrorCode::Unauthenticated => return Err(Error::TokenRefused),
            _ => return self.fail(item, &body.message),
        };
        self.store.outbox_defer(item.id, until, why)?;
        // Every unsent message of the room waits with it: say why, and until when.
        for view in self.store.pending_messages(&item.room_id)? {
            self.message_changed(view, MessageChange::Delivery, Origin::Acked)?;
        }
        Ok(())
    }

    /// A `message.send` whose files were uploaded on an earlier attempt was
    /// refused. When the refusal may mean the server no longer has them
    /// (`forbidden` or `not_found`), the fileIds are forgotten and the files
    /// uploaded again, once; anything else is an ordinary refusal.
    fn refused_after_earlier_uploads(&mut self, item: &OutboxItem, body: ErrorBody) -> Result<()> {
        let may_be_expired = matches!(body.code, ErrorCode::Forbidden | ErrorCode::NotFound);
        let reuploaded = matches!(&item.payload, Payload::Send(p) if p.reuploaded);
        if may_be_expired && !reuploaded {
            tracing::info!(temp_id = %item.temp_id, reason = %body.message,
                "a queued file's upload was refused at send; uploading it again");
            return self.store.outbox_forget_uploads(item.id);
        }
        self.refused(item, body)
    }

    /// Gives up on an item for good.
    pub(super) fn fail(&mut self, item: &OutboxItem, reason: &str) -> Result<()> {
        tracing::warn!(temp_id = %item.temp_id, %reason, "outbox item refused");
        if let Some(view) = self.store.outbox_fail(item, reason)? {
            // A send is marked failed; an edit or delete is undone.
            let change = match item.kind() {
                OutboxKind::Send => MessageChange::Delivery,
                OutboxKind::Edit | OutboxKind::Delete => MessageChange::Edited,
                OutboxKind::React | OutboxKind::Pin => MessageChange::Reactions,
            };
            self.message_changed(view, change, Origin::Acked)?;
        }
        if item.kind() == OutboxKind::Pin {
            self.room_changed(&item.room_id)?;
        }
        self.forget_file_copies(item);
        self.events.push(ClientEvent::OutboxFailed {
            room_id: item.room_id.clone(),
            temp_id: item.temp_id.clone(),
            reason: reason.to_owned(),
        });
        Ok(())
    }
}
