//! The upload step of a queued file send: each file without a `fileId` goes
//! to `POST /api/files` before the `message.send` that attaches it.
//!
//! A `fileId` is written into the outbox payload the moment its upload
//! succeeds, so a crash (or a refused or lost send) after the upload never
//! uploads the file again: the retry sends the message with the same tempId
//! and the same fileIds. While a file uploads, the socket is still read, so
//! pushes are applied and the server's pings answered.

use std::path::PathBuf;

use futures_util::StreamExt;
use leetchat_protocol::{Attachment, ErrorBody, ErrorCode};
use serde_json::{Value, json};

use super::Conn;
use crate::error::{Error, Result};
use crate::files;
use crate::store::outbox::OutboxItem;
use crate::views::ClientEvent;

/// What the flush should do with a queued file send.
pub(super) enum Prepared {
    /// Every file is on the server: send this `message.send` data.
    Send {
        /// The `message.send` data.
        data: Value,
        /// Some file was uploaded on an earlier attempt: the server may have
        /// removed it meanwhile (uploads no message carries expire).
        earlier_uploads: bool,
    },
    /// The item was refused or deferred (and dealt with); go on.
    Handled,
}

impl Conn {
    /// Uploads the files of a queued send that have no `fileId` yet and
    /// builds its `message.send`: the fileIds as `attachments`, and the type
    /// from the server's sniffed types (`image` when all are images, else
    /// `file`).
    ///
    /// A refusal (`too_large`, `invalid`, ...) fails the message for good, a
    /// rate limit defers it, a file that cannot be read fails it; a network
    /// error is returned, so the connection retries later with the same tempId.
    pub(super) async fn prepare_file_send(&mut self, item: &OutboxItem) -> Result<Prepared> {
        let entries = item.payload["files"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut ids = Vec::with_capacity(entries.len());
        let mut mimes: Vec<Option<String>> = Vec::with_capacity(entries.len());
        let mut earlier_uploads = false;
        for (index, entry) in entries.iter().enumerate() {
            if let Some(id) = entry["fileId"].as_str() {
                earlier_uploads = true;
                ids.push(id.to_owned());
                mimes.push(entry["attachment"]["mime"].as_str().map(str::to_owned));
                continue;
            }
            let attachment = match self.upload_one(item, entry).await {
                Ok(a) => a,
                Err(Error::Server(body)) => {
                    self.refused(item, body)?;
                    return Ok(Prepared::Handled);
                }
                Err(Error::File(why)) => {
                    self.fail(item, &format!("the file to send cannot be read: {why}"))?;
                    return Ok(Prepared::Handled);
                }
                Err(e) => return Err(e),
            };
            if let Some(view) =
                self.inner
                    .store
                    .outbox_file_uploaded(item.id, index, &attachment)?
            {
                self.inner
                    .emit(ClientEvent::MessageUpserted { message: view });
            }
            ids.push(attachment.file_id);
            mimes.push(Some(attachment.mime));
        }
        let mut data = item.payload.clone();
        if let Some(fields) = data.as_object_mut() {
            // Local bookkeeping, not for the wire.
            fields.remove("files");
            fields.remove("reuploaded");
        }
        data["attachments"] = json!(ids);
        // Without every type known (an older payload), the queued guess stands.
        if let Some(mimes) = mimes.into_iter().collect::<Option<Vec<String>>>() {
            data["type"] = json!(files::message_type_of(mimes.iter().map(String::as_str)).as_str());
        }
        Ok(Prepared::Send {
            data,
            earlier_uploads,
        })
    }

    /// A `message.send` whose files were uploaded on an earlier attempt was
    /// refused. When the refusal may mean the server no longer has them
    /// (`forbidden` or `not_found`: an upload no message carried expired
    /// while the send waited), the fileIds are forgotten and the files
    /// uploaded again, once; anything else is an ordinary refusal.
    pub(super) fn refused_after_earlier_uploads(
        &mut self,
        item: &OutboxItem,
        body: ErrorBody,
    ) -> Result<()> {
        let may_be_expired = matches!(body.code, ErrorCode::Forbidden | ErrorCode::NotFound);
        if may_be_expired && item.payload["reuploaded"] != true {
            tracing::info!(temp_id = %item.temp_id, reason = %body.message,
                "a queued file's upload was refused at send; uploading it again");
            return self.inner.store.outbox_forget_uploads(item.id);
        }
        self.refused(item, body)
    }

    /// Uploads one file of a queued send, reporting progress and keeping the
    /// socket read meanwhile.
    async fn upload_one(&mut self, item: &OutboxItem, entry: &Value) -> Result<Attachment> {
        let path = PathBuf::from(entry["path"].as_str().unwrap_or_default());
        let name = entry["name"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| "file".into());
        let token = self.inner.access_token(false).await?;
        let inner = self.inner.clone();
        let (room_id, temp_id, shown_name) =
            (item.room_id.clone(), item.temp_id.clone(), name.clone());
        let progress = move |sent, total| {
            inner.emit(ClientEvent::UploadProgress {
                room_id: room_id.clone(),
                temp_id: temp_id.clone(),
                name: shown_name.clone(),
                sent,
                total,
            });
        };
        let api = self.inner.api.clone();
        let upload = async move { api.upload(&token, &path, &name, progress).await };
        tokio::pin!(upload);
        loop {
            tokio::select! {
                r = &mut upload => return r,
                frame = self.ws.next() => {
                    // No request is in flight, so nothing here is an ack.
                    self.handle_incoming(frame)?;
                }
            }
        }
    }
}
