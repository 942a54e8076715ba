//! The durable outbox: sends, edits and deletes made by the user, stored
//! before anything goes on the wire, sent in order per room, and removed only
//! when the server has acked them (or refused them for good).
//!
//! A send that has not been attempted yet can still be edited or deleted in
//! place; once attempted it may be on the wire, so later changes queue behind it.

use std::path::PathBuf;

use leetchat_protocol::{Attachment, MessageType};
use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::{Store, now_ms};
use crate::error::{Error, Result};
use crate::views::MessageView;

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

impl OutboxKind {
    fn parse(s: &str) -> OutboxKind {
        match s {
            "edit" => OutboxKind::Edit,
            "delete" => OutboxKind::Delete,
            _ => OutboxKind::Send,
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
    /// Send, edit or delete.
    pub kind: OutboxKind,
    /// The send's tempId, or the target's tempId or message id.
    pub temp_id: String,
    /// What to send (and what to restore when refused).
    pub payload: Value,
    /// Tries so far (including the current one).
    pub attempts: i64,
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
        content: &str,
        message_type: MessageType,
        reply_to: Option<&str>,
    ) -> Result<MessageView> {
        let payload = json!({
            "roomId": room_id,
            "content": content,
            "type": message_type.as_str(),
            "tempId": new_temp_id(),
            "replyTo": reply_to,
        });
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
        let payload = json!({
            "roomId": room_id,
            "content": content,
            "type": message_type.as_str(),
            "tempId": temp_id,
            "replyTo": null,
            "files": files.iter().map(|f| json!({
                "path": f.path,
                "name": f.name,
                "fileId": null,
                "attachment": null,
            })).collect::<Vec<_>>(),
        });
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

    /// Stores the pending message a `message.send` payload describes and
    /// queues the payload, in one transaction.
    fn enqueue_send_payload(
        &self,
        me: &str,
        payload: Value,
        attachments: &[Attachment],
    ) -> Result<MessageView> {
        let text = |k: &str| payload[k].as_str().map(str::to_owned);
        let (room_id, temp_id, content, message_type) = (
            text("roomId").unwrap_or_default(),
            text("tempId").unwrap_or_default(),
            text("content").unwrap_or_default(),
            text("type").unwrap_or_default(),
        );
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let known: Option<i64> = tx
            .query_row("SELECT 1 FROM rooms WHERE room_id = ?1", [&room_id], |r| {
                r.get(0)
            })
            .optional()?;
        if known.is_none() {
            return Err(Error::NotFound(format!(
                "no room {room_id:?} in the local store"
            )));
        }
        tx.execute(
            "INSERT INTO messages (room_id, sender_id, temp_id, message_type, content, attachments, reply_to, created_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending')",
            params![
                room_id,
                me,
                temp_id,
                message_type,
                content,
                serde_json::to_string(attachments)?,
                text("replyTo"),
                crate::views::rfc3339(now)
            ],
        )?;
        let local_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO outbox (room_id, kind, temp_id, payload, created_at) VALUES (?1, 'send', ?2, ?3, ?4)",
            params![room_id, temp_id, payload.to_string(), now],
        )?;
        tx.commit()?;
        drop(conn);
        self.message_by_local_id(local_id)
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
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT temp_id, payload FROM outbox WHERE id = ?1",
                [item_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((temp_id, payload)) = row else {
            return Ok(None);
        };
        let mut payload: Value = serde_json::from_str(&payload)?;
        let Some(entry) = payload.get_mut("files").and_then(|f| f.get_mut(index)) else {
            return Err(Error::Invalid(format!(
                "outbox item {item_id} has no file {index}"
            )));
        };
        entry["fileId"] = json!(attachment.file_id);
        entry["attachment"] = serde_json::to_value(attachment)?;
        tx.execute(
            "UPDATE outbox SET payload = ?2 WHERE id = ?1",
            params![item_id, payload.to_string()],
        )?;
        let message: Option<(i64, String)> = tx
            .query_row(
                "SELECT local_id, attachments FROM messages WHERE temp_id = ?1 AND message_id IS NULL",
                [&temp_id],
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
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT temp_id, payload FROM outbox WHERE id = ?1",
                [item_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((temp_id, payload)) = row else {
            return Ok(());
        };
        let mut payload: Value = serde_json::from_str(&payload)?;
        if let Some(files) = payload.get_mut("files").and_then(Value::as_array_mut) {
            for f in files {
                f["fileId"] = Value::Null;
                f["attachment"] = Value::Null;
            }
        }
        payload["reuploaded"] = json!(true);
        tx.execute(
            "UPDATE outbox SET payload = ?2 WHERE id = ?1",
            params![item_id, payload.to_string()],
        )?;
        let shown: Option<(i64, String)> = tx
            .query_row(
                "SELECT local_id, attachments FROM messages WHERE temp_id = ?1 AND message_id IS NULL",
                [&temp_id],
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
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, room_id, kind, temp_id, payload, attempts FROM outbox ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, room_id, kind, temp_id, payload, attempts) = row?;
            out.push(OutboxItem {
                id,
                room_id,
                kind: OutboxKind::parse(&kind),
                temp_id,
                payload: serde_json::from_str(&payload)?,
                attempts,
            });
        }
        Ok(out)
    }

    /// Edits one of the user's messages locally and queues the edit. A send
    /// not yet attempted is changed in place instead.
    pub fn enqueue_edit(&self, me: &str, key: &str, content: &str) -> Result<MessageView> {
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
        let unsent: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, payload FROM outbox WHERE kind = 'send' AND temp_id = ?1 AND attempts = 0",
                [&temp],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let now = now_ms();
        if let Some((id, payload)) = unsent {
            let mut p: Value = serde_json::from_str(&payload)?;
            p["content"] = json!(content);
            tx.execute(
                "UPDATE outbox SET payload = ?2 WHERE id = ?1",
                params![id, p.to_string()],
            )?;
            tx.execute(
                "UPDATE messages SET content = ?2 WHERE local_id = ?1",
                params![t.local_id, content],
            )?;
        } else {
            let target = t.message_id.clone().unwrap_or(temp);
            let payload = json!({"content": content, "previous": t.content});
            tx.execute(
                "INSERT INTO outbox (room_id, kind, temp_id, payload, created_at) VALUES (?1, 'edit', ?2, ?3, ?4)",
                params![t.room_id, target, payload.to_string(), now],
            )?;
            tx.execute(
                "UPDATE messages SET content = ?2, edited_at = ?3 WHERE local_id = ?1",
                params![t.local_id, content, crate::views::rfc3339(now)],
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
        let dropped = tx.execute(
            "DELETE FROM outbox WHERE kind = 'send' AND temp_id = ?1 AND attempts = 0",
            [&temp],
        )?;
        if dropped > 0 {
            tx.execute("DELETE FROM outbox WHERE temp_id = ?1", [&temp])?;
            tx.execute("DELETE FROM messages WHERE local_id = ?1", [t.local_id])?;
            tx.commit()?;
            return Ok(None);
        }
        let now = now_ms();
        let target = t.message_id.clone().unwrap_or(temp);
        let payload = json!({"previous": t.content});
        tx.execute(
            "INSERT INTO outbox (room_id, kind, temp_id, payload, created_at) VALUES (?1, 'delete', ?2, ?3, ?4)",
            params![t.room_id, target, payload.to_string(), now],
        )?;
        tx.execute(
            "UPDATE messages SET content = '', deleted_at = ?2 WHERE local_id = ?1",
            params![t.local_id, crate::views::rfc3339(now)],
        )?;
        tx.commit()?;
        drop(conn);
        self.message_by_local_id(t.local_id).map(Some)
    }

    /// Takes the next item that may go now: the head of some room's queue
    /// whose wait is over. Counts the attempt.
    pub fn outbox_take(&self, now: i64) -> Result<Option<OutboxItem>> {
        let conn = self.conn();
        let item = conn
            .query_row(
                "SELECT id, room_id, kind, temp_id, payload, attempts FROM outbox o
                 WHERE id = (SELECT MIN(id) FROM outbox h WHERE h.room_id = o.room_id) AND not_before <= ?1
                 ORDER BY id LIMIT 1",
                [now],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, room_id, kind, temp_id, payload, attempts)) = item else {
            return Ok(None);
        };
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1",
            [id],
        )?;
        Ok(Some(OutboxItem {
            id,
            room_id,
            kind: OutboxKind::parse(&kind),
            temp_id,
            payload: serde_json::from_str(&payload)?,
            attempts: attempts + 1,
        }))
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
    pub fn outbox_defer(&self, id: i64, not_before: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET not_before = ?2 WHERE id = ?1",
            params![id, not_before],
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
        let Some(local_id) = local else {
            return Ok(None);
        };
        let conn = self.conn();
        match item.kind {
            OutboxKind::Send => {
                conn.execute(
                    "UPDATE messages SET status = 'failed', error = ?2 WHERE local_id = ?1",
                    params![local_id, reason],
                )?;
                // Changes queued behind a send that will never exist go too.
                conn.execute("DELETE FROM outbox WHERE temp_id = ?1", [&item.temp_id])?;
            }
            OutboxKind::Edit | OutboxKind::Delete => {
                // Undo the optimistic change; a failed edit of a message the
                // server deleted meanwhile leaves the tombstone alone.
                if let Some(prev) = item.payload.get("previous").and_then(Value::as_str) {
                    let sql = match item.kind {
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

#[cfg(test)]
mod tests {
    use leetchat_protocol::{Room, RoomType};

    use super::*;
    use crate::store::SeqOutcome;

    fn store_with_rooms(rooms: &[&str]) -> Store {
        let s = Store::in_memory().expect("store");
        for r in rooms {
            s.apply_room(&Room {
                room_id: (*r).into(),
                room_type: RoomType::Group,
                name: (*r).into(),
                description: String::new(),
                is_private: false,
                created_by: "me".into(),
                created_at: "2025-01-01T00:00:00.000Z".into(),
                last_seq: 0,
                members: vec![],
            })
            .expect("room");
        }
        s
    }

    #[test]
    fn items_go_out_in_order_per_room_and_a_deferred_head_holds_only_its_room() {
        let s = store_with_rooms(&["a", "b"]);
        let a1 = s
            .enqueue_send("me", "a", "a1", MessageType::Text, None)
            .expect("send");
        s.enqueue_send("me", "a", "a2", MessageType::Text, None)
            .expect("send");
        s.enqueue_send("me", "b", "b1", MessageType::Text, None)
            .expect("send");
        let first = s.outbox_take(0).expect("take").expect("item");
        assert_eq!(first.payload["content"], "a1");
        // Rate limited: room a waits, room b goes on.
        s.outbox_defer(first.id, 10_000).expect("defer");
        let next = s.outbox_take(5_000).expect("take").expect("item");
        assert_eq!(next.payload["content"], "b1");
        s.outbox_done(next.id).expect("done");
        assert!(
            s.outbox_take(5_000).expect("take").is_none(),
            "a2 waits behind a1"
        );
        assert_eq!(s.outbox_next_due().expect("due"), Some(10_000));
        let again = s.outbox_take(10_000).expect("take").expect("item");
        assert_eq!(
            again.payload["tempId"],
            a1.temp_id.clone().expect("temp id").as_str()
        );
        assert_eq!(again.attempts, 2, "the retry keeps its tempId and counts");
    }

    #[test]
    fn an_unsent_message_is_changed_in_place_and_a_tried_one_queues_the_change() {
        let s = store_with_rooms(&["a"]);
        let m = s
            .enqueue_send("me", "a", "draft", MessageType::Text, None)
            .expect("send");
        let t = m.temp_id.clone().expect("temp");
        s.enqueue_edit("me", &t, "better").expect("edit");
        assert_eq!(s.outbox_len().expect("len"), 1);
        let item = s.outbox_take(0).expect("take").expect("item");
        assert_eq!(item.payload["content"], "better");
        // Now it may be on the wire: a further edit queues behind it.
        s.enqueue_edit("me", &t, "best").expect("edit");
        assert_eq!(s.outbox_len().expect("len"), 2);
        assert!(
            s.enqueue_edit("someone else", &t, "x").is_err(),
            "only the sender edits"
        );
        // Deleting an untried send withdraws it entirely.
        let m2 = s
            .enqueue_send("me", "a", "oops", MessageType::Text, None)
            .expect("send");
        assert!(
            s.enqueue_delete(&m2.temp_id.expect("temp"))
                .expect("delete")
                .is_none()
        );
        assert_eq!(s.outbox_len().expect("len"), 2);
    }

    #[test]
    fn seqs_advance_only_without_gaps_and_replays_change_nothing() {
        let s = store_with_rooms(&["r"]);
        assert_eq!(s.note_seq("r", 1).expect("seq"), SeqOutcome::Next);
        assert_eq!(s.note_seq("r", 1).expect("seq"), SeqOutcome::Seen);
        assert_eq!(
            s.note_seq("r", 3).expect("seq"),
            SeqOutcome::Gap { synced: 1 }
        );
        assert_eq!(
            s.synced_seq("r").expect("seq"),
            Some(1),
            "a gap does not move the pointer"
        );
        s.set_synced("r", 3).expect("synced");
        assert_eq!(s.note_seq("r", 4).expect("seq"), SeqOutcome::Next);
        assert_eq!(s.note_seq("nope", 1).expect("seq"), SeqOutcome::UnknownRoom);
    }
}
