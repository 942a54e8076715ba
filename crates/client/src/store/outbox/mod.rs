//! The durable outbox: sends, edits, deletes, reactions and pins made by the user, stored
//! before anything goes on the wire, sent in order per room, and removed only
//! when the server has acked them (or refused them for good).
//!
//! A send that has not been attempted yet can still be edited or deleted in
//! place; once attempted it may be on the wire, so later changes queue behind it.

//!
//! - [`payload`]: what each item carries, typed (the stored JSON is the
//!   same as earlier versions wrote).

mod payload;
#[cfg(test)]
mod tests;

use leetchat_protocol::time::{now_ms, rfc3339};
use leetchat_protocol::{Attachment, MessageType};
use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::{Error, Result};
use crate::views::{MessageView, Waiting};

pub use payload::*;

/// A local message, found by server id or by the sender's tempId.
struct Target {
    local_id: i64,
    message_id: Option<String>,
    temp_id: Option<String>,
    room_id: String,
    sender_id: String,
    content: String,
    deleted: bool,
}

/// Reads an outbox row.
fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, String, String, i64)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_item(row: (i64, String, String, String, String, i64)) -> Result<OutboxItem> {
    let (id, room_id, kind, temp_id, payload, attempts) = row;
    Ok(OutboxItem {
        id,
        room_id,
        temp_id,
        payload: Payload::parse(&kind, &payload)?,
        attempts,
    })
}

impl Store {
    fn target(&self, key: &str) -> Result<Target> {
        self.conn()
            .query_row(
                "SELECT local_id, message_id, temp_id, room_id, sender_id, content, deleted_at IS NOT NULL
                 FROM messages WHERE message_id = ?1 OR temp_id = ?1 OR CAST(local_id AS TEXT) = ?1 LIMIT 1",
                [key],
                |r| {
                    Ok(Target {
                        local_id: r.get(0)?,
                        message_id: r.get(1)?,
                        temp_id: r.get(2)?,
                        room_id: r.get(3)?,
                        sender_id: r.get(4)?,
                        content: r.get(5)?,
                        deleted: r.get(6)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("no message {key:?} in the local store")))
    }

    /// Queues a message and stores it as pending; returns it at once
    /// (optimistic send).
    pub fn enqueue_send(
        &self,
        me: &str,
        room_id: &str,
        draft: &Draft,
        message_type: MessageType,
    ) -> Result<MessageView> {
        let payload = SendPayload {
            room_id: room_id.to_owned(),
            content: draft.content.clone(),
            message_type: message_type.as_str().to_owned(),
            temp_id: new_temp_id(),
            reply_to: draft.reply_to.clone(),
            mentions: draft.mentions.clone(),
            mentions_room: draft.mentions_room,
            files: None,
            reuploaded: false,
        };
        self.enqueue_send_payload(me, payload, &[])
    }

    /// Queues a message whose files must be uploaded first, and stores it as
    /// pending with a local preview of each file. `temp_id` (from
    /// [`new_temp_id`]) also names the files' copies, so it is chosen before
    /// they are made. The payload's `files` list is the upload work: each
    /// entry gets its `fileId` as soon as its upload succeeds.
    pub fn enqueue_file_send(
        &self,
        me: &str,
        room_id: &str,
        content: &str,
        message_type: MessageType,
        temp_id: &str,
        files: &[QueuedFile],
    ) -> Result<MessageView> {
        let payload = SendPayload {
            room_id: room_id.to_owned(),
            content: content.to_owned(),
            message_type: message_type.as_str().to_owned(),
            temp_id: temp_id.to_owned(),
            reply_to: None,
            mentions: Vec::new(),
            mentions_room: false,
            files: Some(
                files
                    .iter()
                    .map(|f| QueuedUpload {
                        path: f.path.clone(),
                        name: f.name.clone(),
                        file_id: None,
                        attachment: None,
                    })
                    .collect(),
            ),
            reuploaded: false,
        };
        let previews: Vec<Attachment> = files
            .iter()
            .map(|f| Attachment {
                file_id: String::new(),
                name: f.name.clone(),
                mime: f.mime.clone(),
                size: i64::try_from(f.size).unwrap_or(i64::MAX),
                width: None,
                height: None,
                url: String::new(),
                thumbnail_url: None,
            })
            .collect();
        self.enqueue_send_payload(me, payload, &previews)
    }

    /// Stores the pending message a send describes and queues the send, in
    /// one transaction.
    fn enqueue_send_payload(
        &self,
        me: &str,
        payload: SendPayload,
        attachments: &[Attachment],
    ) -> Result<MessageView> {
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let known: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM rooms WHERE room_id = ?1",
                [&payload.room_id],
                |r| r.get(0),
            )
            .optional()?;
        if known.is_none() {
            return Err(Error::NotFound(format!(
                "no room {:?} in the local store",
                payload.room_id
            )));
        }
        // The replied message as stored here, until the server's preview comes.
        let preview: Option<String> = match &payload.reply_to {
            Some(r) => tx
                .query_row(
                    "SELECT message_id, sender_id, message_type, substr(content, 1, 200), deleted_at
                     FROM messages WHERE message_id = ?1 AND room_id = ?2",
                    params![r, payload.room_id],
                    |row| {
                        Ok(crate::views::ReplyView {
                            message_id: row.get(0)?,
                            sender_id: row.get(1)?,
                            message_type: row.get(2)?,
                            content: row.get(3)?,
                            deleted_at: row.get(4)?,
                        })
                    },
                )
                .optional()?
                .map(|p| serde_json::to_string(&p))
                .transpose()?,
            None => None,
        };
        tx.execute(
            "INSERT INTO messages (room_id, sender_id, temp_id, message_type, content, attachments, reply_to,
               created_at, status, reply_preview, mentions, mentions_room)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11)",
            params![
                payload.room_id,
                me,
                payload.temp_id,
                payload.message_type,
                payload.content,
                serde_json::to_string(attachments)?,
                payload.reply_to,
                rfc3339(now),
                preview,
                serde_json::to_string(&payload.mentions)?,
                payload.mentions_room
            ],
        )?;
        let local_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO outbox (room_id, kind, temp_id, payload, created_at) VALUES (?1, 'send', ?2, ?3, ?4)",
            params![
                payload.room_id,
                payload.temp_id,
                serde_json::to_string(&payload)?,
                now
            ],
        )?;
        tx.commit()?;
        drop(conn);
        self.message_by_local_id(local_id)
    }

    /// Changes a queued send's payload in one transaction; `None` when the
    /// item is gone or is not a send.
    fn update_send<T>(
        tx: &rusqlite::Transaction<'_>,
        item_id: i64,
        change: impl FnOnce(&mut SendPayload) -> Result<T>,
    ) -> Result<Option<(SendPayload, T)>> {
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT kind, payload FROM outbox WHERE id = ?1",
                [item_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((kind, json)) = row else {
            return Ok(None);
        };
        let Payload::Send(mut p) = Payload::parse(&kind, &json)? else {
            return Ok(None);
        };
        let out = change(&mut p)?;
        tx.execute(
            "UPDATE outbox SET payload = ?2 WHERE id = ?1",
            params![item_id, serde_json::to_string(&p)?],
        )?;
        Ok(Some((p, out)))
    }

    /// Records that file `index` of the queued send `item_id` was uploaded:
    /// its `fileId` goes into the outbox payload at once (so a crash before
    /// the send does not upload it again), and the pending message shows the
    /// server's attachment instead of the local preview. Returns the message.
    pub fn outbox_file_uploaded(
        &self,
        item_id: i64,
        index: usize,
        attachment: &Attachment,
    ) -> Result<Option<MessageView>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let updated = Self::update_send(&tx, item_id, |p| {
            let entry = p
                .files
                .as_mut()
                .and_then(|f| f.get_mut(index))
                .ok_or_else(|| {
                    Error::Invalid(format!("outbox item {item_id} has no file {index}"))
                })?;
            entry.file_id = Some(attachment.file_id.clone());
            entry.attachment = Some(attachment.clone());
            Ok(())
        })?;
        let Some((payload, ())) = updated else {
            return Ok(None);
        };
        let message: Option<(i64, String)> = tx
            .query_row(
                "SELECT local_id, attachments FROM messages WHERE temp_id = ?1 AND message_id IS NULL",
                [&payload.temp_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let mut local = None;
        if let Some((local_id, shown)) = message {
            let mut shown: Vec<Attachment> = serde_json::from_str(&shown).unwrap_or_default();
            if let Some(slot) = shown.get_mut(index) {
                *slot = attachment.clone();
                tx.execute(
                    "UPDATE messages SET attachments = ?2 WHERE local_id = ?1",
                    params![local_id, serde_json::to_string(&shown)?],
                )?;
            }
            local = Some(local_id);
        }
        tx.commit()?;
        drop(conn);
        local.map(|id| self.message_by_local_id(id)).transpose()
    }

    /// Forgets the fileIds of a queued send so its files are uploaded again
    /// (the server no longer had them), and marks it so this happens once.
    /// The pending message shows local previews again meanwhile.
    pub fn outbox_forget_uploads(&self, item_id: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let updated = Self::update_send(&tx, item_id, |p| {
            for f in p.files.iter_mut().flatten() {
                f.file_id = None;
                f.attachment = None;
            }
            p.reuploaded = true;
            Ok(())
        })?;
        let Some((payload, ())) = updated else {
            return Ok(());
        };
        // The refusal answered the attempt.
        tx.execute(
            "UPDATE outbox SET unanswered = MAX(unanswered - 1, 0) WHERE id = ?1",
            [item_id],
        )?;
        let shown: Option<(i64, String)> = tx
            .query_row(
                "SELECT local_id, attachments FROM messages WHERE temp_id = ?1 AND message_id IS NULL",
                [&payload.temp_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((local_id, shown)) = shown {
            let mut shown: Vec<Attachment> = serde_json::from_str(&shown).unwrap_or_default();
            for a in &mut shown {
                a.file_id.clear();
                a.url.clear();
                a.thumbnail_url = None;
            }
            tx.execute(
                "UPDATE messages SET attachments = ?2 WHERE local_id = ?1",
                params![local_id, serde_json::to_string(&shown)?],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every queued item, in queue order (for UIs and tests; nothing is taken).
    pub fn outbox_items(&self) -> Result<Vec<OutboxItem>> {
        let rows: Vec<_> = {
            let conn = self.conn();
            let mut stmt = conn.prepare(
                "SELECT id, room_id, kind, temp_id, payload, attempts FROM outbox ORDER BY id",
            )?;
            let rows = stmt.query_map([], item_row)?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        rows.into_iter().map(to_item).collect()
    }

    /// Edits one of the user's messages locally and queues the edit. A send
    /// not yet attempted is changed in place instead.
    pub fn enqueue_edit(
        &self,
        me: &str,
        key: &str,
        content: &str,
        mentions: Option<&[String]>,
    ) -> Result<MessageView> {
        let t = self.target(key)?;
        if t.sender_id != me {
            return Err(Error::Invalid(
                "only your own messages can be edited".into(),
            ));
        }
        if t.deleted {
            return Err(Error::Invalid("the message was deleted".into()));
        }
        let temp = t.temp_id.clone().unwrap_or_default();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let unsent: Option<i64> = tx
            .query_row(
                "SELECT id FROM outbox WHERE kind = 'send' AND temp_id = ?1 AND attempts = 0",
                [&temp],
                |r| r.get(0),
            )
            .optional()?;
        let now = now_ms();
        if let Some(id) = unsent {
            Self::update_send(&tx, id, |p| {
                p.content = content.to_owned();
                if let Some(m) = mentions {
                    p.mentions = m.to_vec();
                }
                Ok(())
            })?;
            tx.execute(
                "UPDATE messages SET content = ?2 WHERE local_id = ?1",
                params![t.local_id, content],
            )?;
        } else {
            let target = t.message_id.clone().unwrap_or(temp);
            let payload = Payload::Edit(EditPayload {
                content: content.to_owned(),
                previous: t.content.clone(),
                mentions: mentions.map(<[String]>::to_vec),
            });
            tx.execute(
                "INSERT INTO outbox (room_id, kind, temp_id, payload, created_at) VALUES (?1, 'edit', ?2, ?3, ?4)",
                params![t.room_id, target, payload.to_json()?, now],
            )?;
            tx.execute(
                "UPDATE messages SET content = ?2, edited_at = ?3 WHERE local_id = ?1",
                params![t.local_id, content, rfc3339(now)],
            )?;
        }
        if let Some(m) = mentions {
            tx.execute(
                "UPDATE messages SET mentions = ?2 WHERE local_id = ?1",
                params![t.local_id, serde_json::to_string(m)?],
            )?;
        }
        tx.commit()?;
        drop(conn);
        self.message_by_local_id(t.local_id)
    }

    /// Deletes one of the user's messages (or, as a room admin, anyone's)
    /// locally and queues the delete. A send not yet attempted is simply
    /// dropped: `Ok(None)` then means the message is gone entirely.
    pub fn enqueue_delete(&self, key: &str) -> Result<Option<MessageView>> {
        let t = self.target(key)?;
        if t.deleted {
            return self.message_by_local_id(t.local_id).map(Some);
        }
        let temp = t.temp_id.clone().unwrap_or_default();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Withdrawn if the server cannot have it: never tried, or held back
        // by the rate limit with every attempt answered (the server answers
        // a resend with the original before it applies the limit, so that
        // answer means it had none; an attempt lost with its connection may
        // still be committing; and while the wait lasts the item is not
        // taken again).
        let dropped = tx.execute(
            "DELETE FROM outbox WHERE kind = 'send' AND temp_id = ?1
             AND (attempts = 0 OR (waiting = 'rate_limited' AND not_before > ?2 AND unanswered = 0))",
            params![&temp, now_ms()],
        )?;
        if dropped > 0 {
            tx.execute("DELETE FROM outbox WHERE temp_id = ?1", [&temp])?;
            tx.execute("DELETE FROM messages WHERE local_id = ?1", [t.local_id])?;
            tx.commit()?;
            return Ok(None);
        }
        let now = now_ms();
        let target = t.message_id.clone().unwrap_or(temp);
        let payload = Payload::Delete(DeletePayload {
            previous: t.content.clone(),
        });
        tx.execute(
            "INSERT INTO outbox (room_id, kind, temp_id, payload, created_at) VALUES (?1, 'delete', ?2, ?3, ?4)",
            params![t.room_id, target, payload.to_json()?, now],
        )?;
        tx.execute(
            "UPDATE messages SET content = '', deleted_at = ?2 WHERE local_id = ?1",
            params![t.local_id, rfc3339(now)],
        )?;
        tx.commit()?;
        drop(conn);
        self.message_by_local_id(t.local_id).map(Some)
    }

    /// Takes the next item that may go now: the head of some room's queue
    /// whose wait is over. Counts the attempt.
    pub fn outbox_take(&self, now: i64) -> Result<Option<OutboxItem>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT id, room_id, kind, temp_id, payload, attempts FROM outbox o
                 WHERE id = (SELECT MIN(id) FROM outbox h WHERE h.room_id = o.room_id) AND not_before <= ?1
                 ORDER BY id LIMIT 1",
                [now],
                item_row,
            )
            .optional()?;
        let Some(row) = row else {
            return Ok(None);
        };
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, unanswered = unanswered + 1, waiting = NULL
             WHERE id = ?1",
            [row.0],
        )?;
        let mut item = to_item(row)?;
        item.attempts += 1;
        Ok(Some(item))
    }

    /// When the next deferred item becomes due (unix ms), if any is waiting.
    pub fn outbox_next_due(&self) -> Result<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MIN(not_before) FROM outbox o WHERE id = (SELECT MIN(id) FROM outbox h WHERE h.room_id = o.room_id)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Items waiting.
    pub fn outbox_len(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?)
    }

    /// The server acked the item.
    pub fn outbox_done(&self, id: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Try the item again no earlier than `not_before` (unix ms).
    pub fn outbox_defer(&self, id: i64, not_before: i64, why: Waiting) -> Result<()> {
        // A refusal answers the attempt in flight.
        self.conn().execute(
            "UPDATE outbox SET not_before = ?2, waiting = ?3, unanswered = MAX(unanswered - 1, 0)
             WHERE id = ?1",
            params![id, not_before, why.as_str()],
        )?;
        Ok(())
    }

    /// The server refused the item for good: drop it, mark a send failed, and
    /// undo an edit or delete. Returns the message as it now stands.
    pub fn outbox_fail(&self, item: &OutboxItem, reason: &str) -> Result<Option<MessageView>> {
        self.outbox_done(item.id)?;
        let local: Option<i64> = self
            .conn()
            .query_row(
                "SELECT local_id FROM messages WHERE message_id = ?1 OR temp_id = ?1 LIMIT 1",
                [&item.temp_id],
                |r| r.get(0),
            )
            .optional()?;
        if matches!(item.kind(), OutboxKind::React | OutboxKind::Pin) {
            return self.undo_conversation_change(item, local);
        }
        let Some(local_id) = local else {
            return Ok(None);
        };
        let conn = self.conn();
        match item.kind() {
            OutboxKind::Send => {
                conn.execute(
                    "UPDATE messages SET status = 'failed', error = ?2 WHERE local_id = ?1",
                    params![local_id, reason],
                )?;
                // Changes queued behind a send that will never exist go too.
                conn.execute("DELETE FROM outbox WHERE temp_id = ?1", [&item.temp_id])?;
            }
            OutboxKind::React | OutboxKind::Pin => {}
            kind @ (OutboxKind::Edit | OutboxKind::Delete) => {
                // Undo the optimistic change; a failed edit of a message the
                // server deleted meanwhile leaves the tombstone alone.
                if let Some(prev) = item.payload.previous() {
                    let sql = match kind {
                        OutboxKind::Edit => {
                            "UPDATE messages SET content = ?2 WHERE local_id = ?1 AND deleted_at IS NULL"
                        }
                        _ => {
                            "UPDATE messages SET content = ?2, deleted_at = NULL WHERE local_id = ?1"
                        }
                    };
                    conn.execute(sql, params![local_id, prev])?;
                }
            }
        }
        drop(conn);
        self.message_by_local_id(local_id).map(Some)
    }

    /// The server id of a message known by tempId or id (None while unsent).
    pub fn server_id_of(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT message_id FROM messages WHERE message_id = ?1 OR temp_id = ?1 LIMIT 1",
                [key],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }
}
