//! Messages, history pages and unread counts (attachments: [`super::files`]).
//!
//! A wire message is its row plus what other tables hold about it
//! ([`hydrate`]): attachments, reactions, mentions, the preview of the
//! message it replies to and its link preview, all as they are when it is read.

use std::collections::HashMap;

use leetchat_protocol::{Attachment, Message, MessageType, REPLY_PREVIEW_CHARS, ReplyPreview};
use sqlx::{Any, AnyConnection, Executor, FromRow};

use leetchat_protocol::time::rfc3339;

use crate::config::DatabaseKind;

/// A message row.
#[derive(Debug, Clone, FromRow)]
pub struct MessageRow {
    /// Id.
    pub message_id: String,
    /// Room.
    pub room_id: String,
    /// Seq of creation.
    pub seq: i64,
    /// Sender.
    pub sender_id: String,
    /// Sender's idempotency key.
    pub temp_id: Option<String>,
    /// `text`, `image`, `file`, `system`.
    pub message_type: String,
    /// Text ('' once deleted).
    pub content: String,
    /// Replied-to message.
    pub reply_to: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub edited_at: Option<i64>,
    /// Unix ms.
    pub deleted_at: Option<i64>,
    /// 1 when it mentions the whole room.
    pub mentions_room: i64,
    /// The link whose preview it shows ([`super::previews`]).
    pub preview_url: Option<String>,
}

impl MessageRow {
    /// The wire message with its attachments.
    pub fn into_message(self, attachments: Vec<Attachment>) -> Message {
        Message {
            message_id: self.message_id,
            room_id: self.room_id,
            seq: self.seq,
            sender_id: self.sender_id,
            temp_id: self.temp_id,
            message_type: MessageType::parse(&self.message_type).unwrap_or(MessageType::Text),
            content: self.content,
            attachments: if self.deleted_at.is_some() {
                Vec::new()
            } else {
                attachments
            },
            reply_to: self.reply_to,
            created_at: rfc3339(self.created_at),
            edited_at: self.edited_at.map(rfc3339),
            deleted_at: self.deleted_at.map(rfc3339),
            reply_preview: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            mentions_room: self.mentions_room != 0,
            link_preview: None,
        }
    }

    /// What a reply shows of this message: its first
    /// [`REPLY_PREVIEW_CHARS`] characters, nothing once it is deleted.
    pub fn preview(&self) -> ReplyPreview {
        ReplyPreview {
            message_id: self.message_id.clone(),
            sender_id: self.sender_id.clone(),
            message_type: MessageType::parse(&self.message_type).unwrap_or(MessageType::Text),
            content: if self.deleted_at.is_some() {
                String::new()
            } else {
                self.content.chars().take(REPLY_PREVIEW_CHARS).collect()
            },
            deleted_at: self.deleted_at.map(rfc3339),
        }
    }

    /// Whether this message type can carry attachments (only those are looked up).
    fn may_have_attachments(&self) -> bool {
        self.deleted_at.is_none() && (self.message_type == "image" || self.message_type == "file")
    }
}

pub(super) const MSG_COLS: &str = "message_id, room_id, seq, sender_id, temp_id, message_type, content, reply_to, created_at, edited_at, deleted_at, mentions_room, preview_url";

/// A message by id.
pub async fn row<'e, E: Executor<'e, Database = Any>>(
    e: E,
    message_id: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE message_id = $1"
    ))
    .bind(message_id)
    .fetch_optional(e)
    .await
}

/// The message a sender created with this tempId, if any.
pub async fn by_temp_id<'e, E: Executor<'e, Database = Any>>(
    e: E,
    sender_id: &str,
    temp_id: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE sender_id = $1 AND temp_id = $2"
    ))
    .bind(sender_id)
    .bind(temp_id)
    .fetch_optional(e)
    .await
}

/// Inserts a message row with its words in the search index
/// ([`super::search::words_of`]).
pub async fn insert(
    conn: &mut AnyConnection,
    kind: DatabaseKind,
    m: &MessageRow,
    words: &str,
) -> Result<(), sqlx::Error> {
    let (col, value) = super::search::insert_column(kind);
    let sql = format!(
        "INSERT INTO messages ({MSG_COLS}, {col}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, {value})"
    );
    let mut q = sqlx::query(&sql)
        .bind(&m.message_id)
        .bind(&m.room_id)
        .bind(m.seq)
        .bind(&m.sender_id)
        .bind(&m.temp_id)
        .bind(&m.message_type)
        .bind(&m.content)
        .bind(&m.reply_to)
        .bind(m.created_at)
        .bind(m.edited_at)
        .bind(m.deleted_at)
        .bind(m.mentions_room)
        .bind(&m.preview_url);
    if kind == DatabaseKind::Postgres {
        q = q.bind(words);
    }
    q.execute(&mut *conn).await?;
    super::search::after_insert(conn, kind, &m.message_id, words).await
}

/// Sets new content on a live message.
pub async fn set_content(
    conn: &mut AnyConnection,
    message_id: &str,
    content: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE messages SET content = $2, edited_at = $3 WHERE message_id = $1 AND deleted_at IS NULL",
    )
    .bind(message_id)
    .bind(content)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Turns a live message into a tombstone: content, attachments, mentions and
/// reactions gone (its pin is the caller's: it is a room event).
pub async fn tombstone(
    conn: &mut AnyConnection,
    message_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE messages SET content = '', mentions_room = 0, preview_url = NULL, deleted_at = $2 \
         WHERE message_id = $1 AND deleted_at IS NULL",
    )
    .bind(message_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    for sql in [
        "DELETE FROM message_attachments WHERE message_id = $1",
        "DELETE FROM message_mentions WHERE message_id = $1",
        "DELETE FROM reactions WHERE message_id = $1",
    ] {
        sqlx::query(sql)
            .bind(message_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// Rows to wire messages: attachments where a message can have them, and
/// (a few queries for the whole batch) reactions, mentions and reply previews.
pub async fn hydrate(
    conn: &mut AnyConnection,
    rows: Vec<MessageRow>,
) -> Result<Vec<Message>, sqlx::Error> {
    let live: Vec<&str> = rows
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .map(|r| r.message_id.as_str())
        .collect();
    let mut reactions = super::reactions::of_messages(&mut *conn, &live).await?;
    let mut mentions = super::mentions::of_messages(&mut *conn, &live).await?;
    let replied: Vec<&str> = rows.iter().filter_map(|r| r.reply_to.as_deref()).collect();
    let previews = previews(&mut *conn, &replied).await?;
    let linked: Vec<&str> = rows
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .filter_map(|r| r.preview_url.as_deref())
        .collect();
    let link_previews = if linked.is_empty() {
        HashMap::new()
    } else {
        super::previews::of_urls(&mut *conn, &linked).await?
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let att = if r.may_have_attachments() {
            super::files::attachments(&mut *conn, &r.message_id).await?
        } else {
            Vec::new()
        };
        let id = r.message_id.clone();
        let preview = r.reply_to.as_ref().and_then(|p| previews.get(p)).cloned();
        let link_preview = match (&r.preview_url, r.deleted_at) {
            (Some(u), None) => link_previews.get(u).cloned(),
            _ => None,
        };
        let mut m = r.into_message(att);
        m.link_preview = link_preview;
        m.reply_preview = preview;
        if m.deleted_at.is_none() {
            m.reactions = reactions.remove(&id).unwrap_or_default();
            m.mentions = mentions.remove(&id).unwrap_or_default();
        }
        out.push(m);
    }
    Ok(out)
}

/// The previews of the messages `ids`, as they are now.
async fn previews(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, ReplyPreview>, sqlx::Error> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in super::chunked(&ids) {
        let sql = format!(
            "SELECT {MSG_COLS} FROM messages WHERE message_id IN ({})",
            super::placeholders(chunk.len())
        );
        let mut q = sqlx::query_as::<_, MessageRow>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.insert(row.message_id.clone(), row.preview());
        }
    }
    Ok(out)
}

/// The newest `limit` replies to a message (their previews show it).
pub async fn replies_to(
    conn: &mut AnyConnection,
    message_id: &str,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let rows: Vec<MessageRow> = sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE reply_to = $1 ORDER BY seq DESC LIMIT $2"
    ))
    .bind(message_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    hydrate(conn, rows).await
}

/// The message by id, with attachments.
pub async fn load(
    conn: &mut AnyConnection,
    message_id: &str,
) -> Result<Option<Message>, sqlx::Error> {
    match row(&mut *conn, message_id).await? {
        Some(r) => Ok(hydrate(conn, vec![r]).await?.pop()),
        None => Ok(None),
    }
}

/// The messages named by the room's events `after < seq <= upto` (the
/// first `limit` of them): what a `sync` replay shows, in one query.
pub async fn of_events(
    conn: &mut AnyConnection,
    room_id: &str,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let rows: Vec<MessageRow> = sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE message_id IN (\
           SELECT message_id FROM room_events \
           WHERE room_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4)"
    ))
    .bind(room_id)
    .bind(after)
    .bind(upto)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    hydrate(conn, rows).await
}

/// Where a history page starts.
#[derive(Debug, Clone, Copy)]
pub enum Position {
    /// No cursor: the newest (before) or oldest (after) end.
    End,
    /// Exclusive seq bound.
    Seq(i64),
    /// Exclusive time bound (Unix ms).
    Time(i64),
}

/// Up to `limit + 1` messages on one side of `pos`, ascending by seq.
pub async fn page(
    conn: &mut AnyConnection,
    room_id: &str,
    pos: Position,
    before: bool,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let (cond, bound) = match (pos, before) {
        (Position::End, true) => ("AND seq < $2", i64::MAX),
        (Position::End, false) => ("AND seq > $2", 0),
        (Position::Seq(s), true) => ("AND seq < $2", s),
        (Position::Seq(s), false) => ("AND seq > $2", s),
        (Position::Time(t), true) => ("AND created_at < $2", t),
        (Position::Time(t), false) => ("AND created_at > $2", t),
    };
    let order = if before { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {MSG_COLS} FROM messages WHERE room_id = $1 {cond} ORDER BY seq {order} LIMIT $3"
    );
    let mut rows: Vec<MessageRow> = sqlx::query_as(&sql)
        .bind(room_id)
        .bind(bound)
        .bind(limit + 1)
        .fetch_all(conn)
        .await?;
    if before {
        rows.reverse();
    }
    Ok(rows)
}

/// The room's newest message.
pub async fn latest<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE room_id = $1 ORDER BY seq DESC LIMIT 1"
    ))
    .bind(room_id)
    .fetch_optional(e)
    .await
}

/// Live messages from others after `after_seq`.
pub async fn unread_count<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    user_id: &str,
    after_seq: i64,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM messages
         WHERE room_id = $1 AND seq > $2 AND sender_id <> $3 AND deleted_at IS NULL",
    )
    .bind(room_id)
    .bind(after_seq)
    .bind(user_id)
    .fetch_one(e)
    .await?;
    Ok(n)
}

/// A sender's messages after `after` (`(created_at, message_id)`), oldest
/// first, at most `limit`; with `live_only`, those not deleted.
async fn by_sender<'e, E: Executor<'e, Database = Any>>(
    e: E,
    sender_id: &str,
    after: Option<&(i64, String)>,
    limit: i64,
    live_only: bool,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let (at, id) = after.map_or((i64::MIN, ""), |(t, m)| (*t, m.as_str()));
    let live = if live_only {
        " AND deleted_at IS NULL"
    } else {
        ""
    };
    sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE sender_id = $1{live} \
         AND (created_at > $2 OR (created_at = $2 AND message_id > $3)) \
         ORDER BY created_at, message_id LIMIT $4"
    ))
    .bind(sender_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(e)
    .await
}

/// Every message of a sender, page by page (an export).
pub async fn of_sender<'e, E: Executor<'e, Database = Any>>(
    e: E,
    sender_id: &str,
    after: Option<&(i64, String)>,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    by_sender(e, sender_id, after, limit, false).await
}

/// A sender's messages that are not deleted, page by page (deleting an
/// account).
pub async fn live_of_sender<'e, E: Executor<'e, Database = Any>>(
    e: E,
    sender_id: &str,
    after: Option<&(i64, String)>,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    by_sender(e, sender_id, after, limit, true).await
}
