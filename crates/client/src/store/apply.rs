//! Server objects and events into the store. Every function is idempotent:
//! applying the same thing twice leaves the store as applying it once.

use leetchat_protocol::events::{Presence, Status};
use leetchat_protocol::{LinkPreview, Message, Room, User};
use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use crate::error::Result;
use crate::views::MessageView;

impl Store {
    /// Upserts a room and replaces its member list.
    pub fn apply_room(&self, room: &Room) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO rooms (room_id, room_type, name, description, is_private, created_by, created_at, last_seq, activity_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7)
             ON CONFLICT (room_id) DO UPDATE SET
               name = excluded.name, description = excluded.description,
               is_private = excluded.is_private, last_seq = MAX(rooms.last_seq, excluded.last_seq)",
            params![
                room.room_id,
                room.room_type.as_str(),
                room.name,
                room.description,
                room.is_private,
                room.created_by,
                room.created_at,
                room.last_seq
            ],
        )?;
        super::conversations::store_pins(&tx, &room.room_id, &room.pinned_message_ids)?;
        tx.execute("DELETE FROM members WHERE room_id = ?1", [&room.room_id])?;
        for m in &room.members {
            tx.execute(
                "INSERT INTO members (room_id, user_id, role, joined_at, last_read_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![room.room_id, m.user_id, m.role.as_str(), m.joined_at, m.last_read_seq.unwrap_or(0)],
            )?;
            if let (Some(name), Some(display)) = (&m.user_name, &m.display_name) {
                // The server names every member as it is now, picture too.
                set_user(&tx, &m.user_id, name, display, m.avatar_url.as_deref())?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Sets the caller's own read pointer for a room (from `room.list`).
    pub fn set_my_read(&self, room_id: &str, seq: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE rooms SET my_read_seq = MAX(my_read_seq, ?2) WHERE room_id = ?1",
            params![room_id, seq],
        )?;
        Ok(())
    }

    /// Forgets a room the user left or was removed from (messages included).
    pub fn remove_room(&self, room_id: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM messages WHERE room_id = ?1", [room_id])?;
        tx.execute("DELETE FROM outbox WHERE room_id = ?1", [room_id])?;
        tx.execute("DELETE FROM rooms WHERE room_id = ?1", [room_id])?;
        tx.commit()?;
        Ok(())
    }

    /// Ids of every stored room.
    pub fn room_ids(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT room_id FROM rooms")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The rooms `user_id` is a member of.
    pub fn rooms_with_member(&self, user_id: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT room_id FROM members WHERE user_id = ?1")?;
        let rows = stmt.query_map([user_id], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Stores a user's profile as it is now (`user.updated`): a removed
    /// avatar is removed here too.
    pub fn apply_profile(&self, u: &User) -> Result<()> {
        set_user(
            &self.conn(),
            &u.user_id,
            &u.user_name,
            &u.display_name,
            u.avatar_url.as_deref(),
        )
    }

    /// Upserts users.
    pub fn apply_users(&self, users: &[User]) -> Result<()> {
        let conn = self.conn();
        for u in users {
            upsert_user(
                &conn,
                &u.user_id,
                &u.user_name,
                &u.display_name,
                u.avatar_url.as_deref(),
            )?;
        }
        Ok(())
    }

    /// Upserts a server message (from an ack, a push, sync or history). A
    /// pending local copy with the same tempId becomes the sent message. A
    /// tombstone never comes back to life, an older edit never replaces a
    /// newer one, and local edits still in the outbox are kept. The message
    /// is part of the room's loaded history (stored before as an island, it
    /// joins it): use this for new messages (pushes, acks of sends, sync's
    /// `message.received`) and history pages read from the loaded end.
    pub fn apply_message(&self, m: &Message) -> Result<MessageView> {
        self.upsert_message(m, false)
    }

    /// [`Self::apply_message`] for a message that may lie anywhere in its
    /// room's history (a server search result, the history around one, an
    /// edit of a message never loaded): one not stored yet is stored as an
    /// island, apart from the loaded history, so it never hides a gap (a
    /// stored one keeps its place). [`crate::Error::NotFound`] when the room
    /// is not stored (the user left it).
    pub fn apply_island(&self, m: &Message) -> Result<MessageView> {
        self.upsert_message(m, true)
    }

    /// Islands of a room with seqs in `from..=to` join its loaded history
    /// (a history page just covered them).
    pub fn join_islands(&self, room_id: &str, from: i64, to: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE messages SET island = 0 WHERE room_id = ?1 AND seq BETWEEN ?2 AND ?3 AND island = 1",
            params![room_id, from, to],
        )?;
        Ok(())
    }

    fn upsert_message(&self, m: &Message, island: bool) -> Result<MessageView> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // A search result or history fetched around one may come back after
        // the user left the room (its messages went with it): not kept.
        if island {
            let stored: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM rooms WHERE room_id = ?1",
                    [&m.room_id],
                    |r| r.get(0),
                )
                .optional()?;
            if stored.is_none() {
                return Err(crate::error::Error::NotFound(
                    "that message is in a chat you are not in".into(),
                ));
            }
        }
        let existing: Option<(i64, Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT local_id, edited_at, deleted_at FROM messages
                 WHERE message_id = ?1 OR (temp_id IS NOT NULL AND temp_id = ?2 AND sender_id = ?3)
                 ORDER BY message_id IS NULL LIMIT 1",
                params![m.message_id, m.temp_id, m.sender_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let attachments = serde_json::to_string(&m.attachments)?;
        let local_id = match existing {
            None => {
                tx.execute(
                    "INSERT INTO messages (message_id, room_id, seq, sender_id, temp_id, message_type, content,
                       attachments, reply_to, created_at, edited_at, deleted_at, status, island)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'sent', ?13)",
                    params![
                        m.message_id,
                        m.room_id,
                        m.seq,
                        m.sender_id,
                        m.temp_id,
                        m.message_type.as_str(),
                        m.content,
                        attachments,
                        m.reply_to,
                        m.created_at,
                        m.edited_at,
                        m.deleted_at,
                        island
                    ],
                )?;
                let local_id = tx.last_insert_rowid();
                set_link_preview(&tx, local_id, m.link_preview.as_ref())?;
                local_id
            }
            Some((local_id, edited_at, deleted_at)) => {
                let local_change_pending = has_pending_change(&tx, m)?;
                let older_edit = matches!((&edited_at, &m.edited_at), (Some(mine), Some(theirs)) if theirs < mine)
                    || (edited_at.is_some() && m.edited_at.is_none() && m.deleted_at.is_none());
                let keep_content = local_change_pending
                    || (deleted_at.is_some() && m.deleted_at.is_none())
                    || older_edit;
                // The type too: a file guessed to be an image by its name
                // may turn out not to be one when the server sniffs it.
                // Met again as part of the loaded history (a push, an ack,
                // sync, a history page), an island joins it.
                tx.execute(
                    "UPDATE messages SET message_id = ?2, seq = ?3, status = 'sent', error = NULL,
                       created_at = ?4, reply_to = ?5, message_type = ?6, island = MIN(island, ?7)
                     WHERE local_id = ?1",
                    params![
                        local_id,
                        m.message_id,
                        m.seq,
                        m.created_at,
                        m.reply_to,
                        m.message_type.as_str(),
                        island
                    ],
                )?;
                if !keep_content {
                    tx.execute(
                        "UPDATE messages SET content = ?2, attachments = ?3, edited_at = ?4, deleted_at = ?5
                         WHERE local_id = ?1",
                        params![local_id, m.content, attachments, m.edited_at, m.deleted_at],
                    )?;
                    // A preview fetched after the message was read must not
                    // be undone by a copy read before it: only a newer edit
                    // or a delete takes a preview away.
                    let changed = m.edited_at != edited_at || m.deleted_at.is_some();
                    if m.link_preview.is_some() || changed {
                        set_link_preview(&tx, local_id, m.link_preview.as_ref())?;
                    }
                }
                local_id
            }
        };
        super::conversations::store_snapshot(&tx, local_id, m)?;
        // Replies stored here show what this message says now.
        tx.execute(
            "UPDATE messages SET reply_preview = json_set(reply_preview, '$.content',
               (SELECT substr(o.content, 1, ?3) FROM messages o WHERE o.local_id = ?2))
             WHERE reply_to = ?1 AND reply_preview IS NOT NULL
               AND (SELECT o.deleted_at FROM messages o WHERE o.local_id = ?2) IS NULL",
            params![
                m.message_id,
                local_id,
                leetchat_protocol::REPLY_PREVIEW_CHARS as i64
            ],
        )?;
        tx.execute(
            "UPDATE rooms SET activity_at = MAX(activity_at, ?2) WHERE room_id = ?1",
            params![m.room_id, m.created_at],
        )?;
        tx.commit()?;
        drop(conn);
        self.message_by_local_id(local_id)
    }

    /// A message's link preview arrived (or, replayed by `sync` after an
    /// edit took it away, went): stored as the event says, since events
    /// come in seq order and carry the message's preview as it is now.
    /// Returns the message's view if it is stored.
    pub fn apply_link_preview(
        &self,
        message_id: &str,
        preview: Option<&LinkPreview>,
    ) -> Result<Option<MessageView>> {
        let local: Option<(i64, Option<String>)> = self
            .conn()
            .query_row(
                "SELECT local_id, deleted_at FROM messages WHERE message_id = ?1",
                [message_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((local_id, deleted_at)) = local else {
            return Ok(None);
        };
        let preview = if deleted_at.is_some() { None } else { preview };
        set_link_preview(&self.conn(), local_id, preview)?;
        self.message_by_local_id(local_id).map(Some)
    }

    /// Turns a message into a tombstone. Returns its view if it is stored.
    pub fn apply_deleted(&self, message_id: &str, deleted_at: &str) -> Result<Option<MessageView>> {
        let local: Option<i64> = self
            .conn()
            .query_row(
                "SELECT local_id FROM messages WHERE message_id = ?1",
                [message_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(local_id) = local else {
            return Ok(None);
        };
        let conn = self.conn();
        conn.execute(
            "UPDATE messages SET content = '', attachments = '[]', mentions = '[]', mentions_room = 0,
               link_preview = NULL, deleted_at = COALESCE(deleted_at, ?2) WHERE local_id = ?1",
            params![local_id, deleted_at],
        )?;
        // A deleted message has no reactions; the replies to it show it deleted.
        conn.execute("DELETE FROM reactions WHERE local_id = ?1", [local_id])?;
        conn.execute(
            "UPDATE messages SET reply_preview = json_set(reply_preview, '$.content', '', '$.deletedAt', ?2)
             WHERE reply_to = ?1 AND reply_preview IS NOT NULL",
            params![message_id, deleted_at],
        )?;
        drop(conn);
        self.message_by_local_id(local_id).map(Some)
    }

    /// A member joined (their details arrive with the next `room.list`).
    pub fn apply_member_joined(&self, room_id: &str, user_id: &str, at: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO members (room_id, user_id, role, joined_at) SELECT ?1, ?2, 'member', ?3
             WHERE EXISTS (SELECT 1 FROM rooms WHERE room_id = ?1)
             ON CONFLICT (room_id, user_id) DO NOTHING",
            params![room_id, user_id, at],
        )?;
        Ok(())
    }

    /// A member left.
    pub fn apply_member_left(&self, room_id: &str, user_id: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM members WHERE room_id = ?1 AND user_id = ?2",
            params![room_id, user_id],
        )?;
        Ok(())
    }

    /// A member's read pointer moved (never back).
    pub fn apply_receipt(&self, room_id: &str, user_id: &str, seq: i64, me: &str) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "UPDATE members SET last_read_seq = MAX(last_read_seq, ?3) WHERE room_id = ?1 AND user_id = ?2",
            params![room_id, user_id, seq],
        )?;
        if user_id == me {
            conn.execute(
                "UPDATE rooms SET my_read_seq = MAX(my_read_seq, ?2) WHERE room_id = ?1",
                params![room_id, seq],
            )?;
        }
        Ok(())
    }

    /// A user's presence.
    pub fn apply_presence(&self, p: &Presence) -> Result<()> {
        let status = match p.status {
            Status::Online => "online",
            Status::Offline => "offline",
        };
        self.conn().execute(
            "UPDATE users SET status = ?2, last_seen = COALESCE(?3, last_seen) WHERE user_id = ?1",
            params![p.user_id, status, p.last_seen],
        )?;
        Ok(())
    }

    /// Records that nothing older than what is stored exists for the room.
    pub fn set_has_older(&self, room_id: &str, has_older: bool) -> Result<()> {
        self.conn().execute(
            "UPDATE rooms SET has_older = ?2 WHERE room_id = ?1",
            params![room_id, has_older],
        )?;
        Ok(())
    }
}

/// Stores a user as the server says it is now: unlike [`upsert_user`], no
/// picture means none.
fn set_user(
    conn: &Connection,
    id: &str,
    name: &str,
    display: &str,
    avatar: Option<&str>,
) -> Result<()> {
    upsert_user(conn, id, name, display, avatar)?;
    if avatar.is_none() {
        conn.execute(
            "UPDATE users SET avatar_url = NULL WHERE user_id = ?1",
            [id],
        )?;
    }
    Ok(())
}

fn upsert_user(
    conn: &Connection,
    id: &str,
    name: &str,
    display: &str,
    avatar: Option<&str>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO users (user_id, user_name, display_name, avatar_url) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id) DO UPDATE SET user_name = excluded.user_name,
           display_name = excluded.display_name, avatar_url = COALESCE(excluded.avatar_url, users.avatar_url)",
        params![id, name, display, avatar],
    )?;
    Ok(())
}

/// Whether an edit or delete of this message still waits in the outbox.
fn has_pending_change(conn: &Connection, m: &Message) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE kind IN ('edit', 'delete') AND (temp_id = ?1 OR temp_id = ?2)",
        params![m.message_id, m.temp_id.as_deref().unwrap_or("")],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Stores (or clears) a message's link preview.
fn set_link_preview(conn: &Connection, local_id: i64, preview: Option<&LinkPreview>) -> Result<()> {
    let json = preview.map(serde_json::to_string).transpose()?;
    conn.execute(
        "UPDATE messages SET link_preview = ?2 WHERE local_id = ?1",
        params![local_id, json],
    )?;
    Ok(())
}
