//! Reading views for UIs: the room list, pages of a room, search.

use rusqlite::{OptionalExtension, Row, params};

use super::Store;
use crate::error::Result;
use crate::views::{Delivery, MemberView, MessageView, RoomCounts, RoomView, Waiting};

/// A message's columns; the last two say why and until when a pending one
/// waits: the wait of its room's outbox head (only a head is ever held
/// back, and everything queued behind it in the room waits with it).
const MSG_COLS: &str =
    "local_id, message_id, room_id, seq, sender_id, temp_id, message_type, content,
    attachments, reply_to, created_at, edited_at, deleted_at, status, error,
    reply_preview, mentions, mentions_room, link_preview, island,
    CASE WHEN status = 'pending' THEN (SELECT h.waiting FROM outbox h WHERE h.id =
        (SELECT MIN(o.id) FROM outbox o WHERE o.room_id = messages.room_id)) END,
    CASE WHEN status = 'pending' THEN (SELECT h.not_before FROM outbox h WHERE h.id =
        (SELECT MIN(o.id) FROM outbox o WHERE o.room_id = messages.room_id)) END";

fn message_row(r: &Row<'_>) -> rusqlite::Result<MessageView> {
    let status: String = r.get(13)?;
    let attachments: String = r.get(8)?;
    let preview: Option<String> = r.get(15)?;
    let mentions: String = r.get(16)?;
    let link_preview: Option<String> = r.get(18)?;
    let waiting: Option<String> = r.get(20)?;
    Ok(MessageView {
        local_id: r.get(0)?,
        message_id: r.get(1)?,
        room_id: r.get(2)?,
        seq: r.get(3)?,
        sender_id: r.get(4)?,
        temp_id: r.get(5)?,
        message_type: r.get(6)?,
        content: r.get(7)?,
        attachments: serde_json::from_str(&attachments).unwrap_or_default(),
        reply_to: r.get(9)?,
        reply_preview: preview.and_then(|p| serde_json::from_str(&p).ok()),
        reactions: Vec::new(),
        mentions: serde_json::from_str(&mentions).unwrap_or_default(),
        mentions_room: r.get(17)?,
        link_preview: link_preview.and_then(|p| serde_json::from_str(&p).ok()),
        created_at: r.get(10)?,
        edited_at: r.get(11)?,
        deleted_at: r.get(12)?,
        delivery: match status.as_str() {
            "pending" => Delivery::Pending,
            "failed" => Delivery::Failed,
            _ => Delivery::Sent,
        },
        error: r.get(14)?,
        island: r.get::<_, i64>(19)? != 0,
        waiting: waiting.as_deref().and_then(Waiting::parse),
        retry_at: waiting.and(r.get(21)?),
    })
}

impl Store {
    /// Completes message views: reactions, and sent messages marked read
    /// when another member's pointer has passed them.
    fn with_read_marks(
        &self,
        room_id: &str,
        mut msgs: Vec<MessageView>,
    ) -> Result<Vec<MessageView>> {
        let me = self.meta("user_id")?;
        let conn = self.conn();
        let ids: Vec<i64> = msgs.iter().map(|m| m.local_id).collect();
        let mut reactions = super::conversations::reactions_of(&conn, &ids, me.as_deref())?;
        for m in &mut msgs {
            if let Some(r) = reactions.remove(&m.local_id) {
                m.reactions = r;
            }
        }
        let mut stmt = conn.prepare_cached(
            "SELECT m.user_id, m.last_read_seq FROM members m WHERE m.room_id = ?1",
        )?;
        let pointers: Vec<(String, i64)> = stmt
            .query_map([room_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for m in &mut msgs {
            if m.delivery == Delivery::Sent
                && let Some(seq) = m.seq
                && pointers.iter().any(|(u, p)| *u != m.sender_id && *p >= seq)
            {
                m.delivery = Delivery::Read;
            }
        }
        Ok(msgs)
    }

    /// A user's login name, when the store knows the user.
    pub fn user_name_of(&self, user_id: &str) -> Result<Option<String>> {
        Ok(self
            .user(user_id)?
            .map(|u| u.user_name)
            .filter(|n| !n.is_empty()))
    }

    /// A user as the store knows them (from a room's members, a search,
    /// a `user.updated`), when it does.
    pub fn user(&self, user_id: &str) -> Result<Option<leetchat_protocol::User>> {
        use rusqlite::OptionalExtension;
        let user = self
            .conn()
            .query_row(
                "SELECT user_id, user_name, display_name, avatar_url FROM users WHERE user_id = ?1",
                [user_id],
                |r| {
                    Ok(leetchat_protocol::User {
                        user_id: r.get(0)?,
                        user_name: r.get(1)?,
                        display_name: r.get(2)?,
                        avatar_url: r.get(3)?,
                        deactivated: false,
                        deleted: false,
                    })
                },
            )
            .optional()?;
        Ok(user)
    }

    /// A message by local id.
    pub fn message_by_local_id(&self, local_id: i64) -> Result<MessageView> {
        let m = self.conn().query_row(
            &format!("SELECT {MSG_COLS} FROM messages WHERE local_id = ?1"),
            [local_id],
            message_row,
        )?;
        let room = m.room_id.clone();
        Ok(self
            .with_read_marks(&room, vec![m])?
            .pop()
            .expect("one message in, one out"))
    }

    /// A message by server id, tempId or local id.
    pub fn message_by_key(&self, key: &str) -> Result<MessageView> {
        let local_id: i64 = self.conn().query_row(
            "SELECT local_id FROM messages WHERE message_id = ?1 OR temp_id = ?1 OR CAST(local_id AS TEXT) = ?1 LIMIT 1",
            [key],
            |r| r.get(0),
        ).map_err(|_| crate::error::Error::NotFound(format!("no message {key:?} in the local store")))?;
        self.message_by_local_id(local_id)
    }

    /// Up to `limit` messages of a room older than `before_seq` (newest page
    /// when None), ascending, followed by the room's pending messages on the
    /// newest page.
    pub fn messages(
        &self,
        room_id: &str,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageView>> {
        let mut out: Vec<MessageView> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MSG_COLS} FROM messages WHERE room_id = ?1 AND seq IS NOT NULL AND seq < ?2
                   AND island = 0
                 ORDER BY seq DESC LIMIT ?3"
            ))?;
            let rows = stmt.query_map(
                params![room_id, before_seq.unwrap_or(i64::MAX), limit],
                message_row,
            )?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        out.reverse();
        if before_seq.is_none() {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MSG_COLS} FROM messages WHERE room_id = ?1 AND seq IS NULL ORDER BY local_id"
            ))?;
            let rows = stmt.query_map([room_id], message_row)?;
            for r in rows {
                out.push(r?);
            }
        }
        self.with_read_marks(room_id, out)
    }

    /// The user's messages in a room not yet stored on the server (oldest
    /// first), as they stand now.
    pub fn pending_messages(&self, room_id: &str) -> Result<Vec<MessageView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM messages WHERE room_id = ?1 AND status = 'pending' ORDER BY local_id"
        ))?;
        let rows = stmt.query_map([room_id], message_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The name of an attachment, from any stored message carrying it.
    pub fn attachment_name(&self, file_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT json_extract(j.value, '$.name') FROM messages m, json_each(m.attachments) j
                 WHERE json_extract(j.value, '$.fileId') = ?1 LIMIT 1",
                [file_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The oldest stored seq of a room.
    pub fn oldest_seq(&self, room_id: &str) -> Result<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MIN(seq) FROM messages WHERE room_id = ?1 AND island = 0",
            [room_id],
            |r| r.get(0),
        )?)
    }

    /// Stored messages matching `query` (the server's word rules), newest
    /// first; in one room when `room_id` is given. Islands (server search
    /// results, history around them) are searched too; deleted messages
    /// never match.
    pub fn search(
        &self,
        query: &leetchat_protocol::search::Query,
        room_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MessageView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM messages WHERE local_id IN
               (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1)
             AND deleted_at IS NULL AND (?2 IS NULL OR room_id = ?2)
             ORDER BY created_at DESC, local_id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![query.fts5(), room_id, limit], message_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The stored messages of a room with seqs in `from..=to`, islands
    /// included, ascending: the history around a search result.
    pub fn messages_between(&self, room_id: &str, from: i64, to: i64) -> Result<Vec<MessageView>> {
        let out: Vec<MessageView> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MSG_COLS} FROM messages WHERE room_id = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq"
            ))?;
            let rows = stmt.query_map(params![room_id, from, to], message_row)?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        self.with_read_marks(room_id, out)
    }

    /// Up to `limit` messages of a room's loaded history newer than
    /// `after_seq`, ascending.
    pub fn messages_after(
        &self,
        room_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<MessageView>> {
        let out: Vec<MessageView> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MSG_COLS} FROM messages WHERE room_id = ?1 AND seq > ?2 AND island = 0
                 ORDER BY seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![room_id, after_seq, limit], message_row)?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        self.with_read_marks(room_id, out)
    }

    /// Whether a stored message is an island (stored apart from the room's
    /// loaded history).
    pub fn is_island(&self, message_id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT island FROM messages WHERE message_id = ?1",
                [message_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .is_some_and(|i| i != 0))
    }

    /// One room's view.
    pub fn room(&self, room_id: &str, me: &str) -> Result<Option<RoomView>> {
        Ok(self.room_views(me, Some(room_id))?.pop())
    }

    /// Every room, most recently active first.
    pub fn rooms(&self, me: &str) -> Result<Vec<RoomView>> {
        self.room_views(me, None)
    }

    /// Messages from others after `my_read_seq`, deleted ones left out.
    fn unread_count(&self, room_id: &str, my_read_seq: i64, me: &str) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM messages WHERE room_id = ?1 AND seq > ?2 AND sender_id <> ?3 AND deleted_at IS NULL",
            params![room_id, my_read_seq, me],
            |r| r.get(0),
        )?)
    }

    /// A room's preview and numbers (what changes with every message);
    /// zeros for a room that is not stored.
    pub fn room_counts(&self, room_id: &str, me: &str) -> Result<RoomCounts> {
        let row: Option<(i64, i64)> = self
            .conn()
            .query_row(
                "SELECT last_seq, my_read_seq FROM rooms WHERE room_id = ?1",
                [room_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (last_seq, my_read_seq) = row.unwrap_or((0, 0));
        // Its own statement: the connection is locked only while it counts.
        let mention_count =
            super::conversations::mention_count(&self.conn(), room_id, my_read_seq, me)?;
        Ok(RoomCounts {
            room_id: room_id.to_owned(),
            last_seq,
            my_read_seq,
            unread_count: self.unread_count(room_id, my_read_seq, me)?,
            mention_count,
            last_message: self.messages(room_id, None, 1)?.pop().map(Box::new),
        })
    }

    /// Room views: one room, or all of them most recently active first.
    fn room_views(&self, me: &str, only: Option<&str>) -> Result<Vec<RoomView>> {
        type Row = (String, String, String, String, i64, i64, bool);
        let rows: Vec<Row> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT room_id, room_type, name, description, last_seq, my_read_seq, has_older
                 FROM rooms WHERE ?1 IS NULL OR room_id = ?1 ORDER BY activity_at DESC, room_id",
            )?;
            let rows = stmt.query_map([only], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (room_id, room_type, name, description, last_seq, my_read_seq, has_older) in rows {
            let members: Vec<MemberView> = {
                let conn = self.conn();
                let mut stmt = conn.prepare_cached(
                    "SELECT m.user_id, COALESCE(u.user_name, ''), COALESCE(u.display_name, ''), m.role,
                            m.last_read_seq, u.status, u.last_seen, u.avatar_url
                     FROM members m LEFT JOIN users u ON u.user_id = m.user_id
                     WHERE m.room_id = ?1 ORDER BY m.joined_at, m.user_id",
                )?;
                let rows = stmt.query_map([&room_id], |r| {
                    Ok(MemberView {
                        user_id: r.get(0)?,
                        user_name: r.get(1)?,
                        display_name: r.get(2)?,
                        role: r.get(3)?,
                        last_read_seq: r.get(4)?,
                        status: r.get(5)?,
                        last_seen: r.get(6)?,
                        avatar_url: r.get(7)?,
                    })
                })?;
                rows.collect::<std::result::Result<_, _>>()?
            };
            let unread_count = self.unread_count(&room_id, my_read_seq, me)?;
            let mention_count =
                super::conversations::mention_count(&self.conn(), &room_id, my_read_seq, me)?;
            let pinned_message_ids = super::conversations::pins_of(&self.conn(), &room_id)?;
            let last_message = self.messages(&room_id, None, 1)?.pop();
            let settings = self.room_settings(&room_id)?;
            let name = if room_type == "direct" {
                members
                    .iter()
                    .find(|m| m.user_id != me)
                    .map(|m| {
                        if m.display_name.is_empty() {
                            m.user_name.clone()
                        } else {
                            m.display_name.clone()
                        }
                    })
                    .unwrap_or(name)
            } else {
                name
            };
            out.push(RoomView {
                room_id,
                room_type,
                name,
                description,
                members,
                last_seq,
                unread_count,
                my_read_seq,
                last_message,
                has_older,
                mention_count,
                pinned_message_ids,
                notify_level: settings.level,
                mute_until: settings.mute_until,
                notify_follows_default: settings.follows_default,
            });
        }
        Ok(out)
    }
}
