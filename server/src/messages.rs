//! `message.send`, `message.edit`, `message.delete`, `message.history`,
//! `message.read`: the message lifecycle on a room's event stream.

use leetchat_protocol::events::names as ev;
use leetchat_protocol::events::{
    DeleteMessage, Direction, EditMessage, History, HistoryPage, MessageDeleted, MessageEdited,
    MessageEnvelope, ReadAck, ReadPointer, ReceiptUpdated, SendMessage,
};
use leetchat_protocol::{
    HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, MAX_CONTENT_CHARS, Message, MessageType, Role,
};
use serde_json::Value;

use crate::clock::{now_ms, parse_rfc3339, rfc3339};
use crate::cluster::history::{CACHED_MESSAGES, CachedPage};
use crate::db::messages::{MessageRow, Position};
use crate::db::{self, events::kind, new_id};
use crate::dispatch::Session;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::ratelimit::Action;
use crate::state::AppState;
use crate::typing_events;

/// Most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest accepted tempId.
pub const MAX_TEMP_ID: usize = 128;

/// Checks message text: at most 4000 characters; non-blank when `required`.
pub fn check_content(content: &str, required: bool) -> AppResult<()> {
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(AppError::new(
            leetchat_protocol::ErrorCode::TooLarge,
            format!("content is longer than {MAX_CONTENT_CHARS} characters"),
        ));
    }
    if required && content.trim().is_empty() {
        return Err(AppError::invalid("content must not be blank"));
    }
    Ok(())
}

/// The caller's role in a room: `not_found` when the room does not exist,
/// `forbidden` when they are not a member.
pub async fn require_member(state: &AppState, room_id: &str, user_id: &str) -> AppResult<Role> {
    if let Some(role) = db::rooms::role_of(state.db.reader(), room_id, user_id).await? {
        return Ok(role);
    }
    match db::rooms::row(state.db.reader(), room_id).await? {
        Some(_) => Err(AppError::forbidden("you are not a member of this room")),
        None => Err(AppError::not_found("no such room")),
    }
}

/// One event being written to a room's stream: the room's lock, and a
/// transaction whose first statement took the room's next seq (see
/// [`crate::db`]). Dropping it rolls back and gives the seq back.
struct StreamWrite<'a> {
    guard: tokio::sync::MutexGuard<'a, ()>,
    tx: db::Tx,
    seq: i64,
    now: i64,
    started: std::time::Instant,
}

impl<'a> StreamWrite<'a> {
    /// Locks the room and takes its next seq; `not_found` without such a room.
    async fn begin(state: &'a AppState, room_id: &str) -> AppResult<StreamWrite<'a>> {
        let guard = state.lock_room(room_id).await;
        let started = std::time::Instant::now();
        let now = now_ms();
        let mut tx = state.db.begin().await?;
        let Some(seq) = db::rooms::next_seq(&mut tx, room_id, now).await? else {
            return Err(AppError::not_found("no such room"));
        };
        Ok(StreamWrite {
            guard,
            tx,
            seq,
            now,
            started,
        })
    }

    /// Commits; returns the room's members (who get the push) and the lock,
    /// still held so the push leaves before the room's next event.
    async fn commit(
        mut self,
        state: &AppState,
        room_id: &str,
    ) -> AppResult<(Vec<String>, tokio::sync::MutexGuard<'a, ()>)> {
        let recipients = db::rooms::member_ids(&mut *self.tx, room_id).await?;
        self.tx.commit().await?;
        state
            .metrics
            .db_write_seconds
            .observe(self.started.elapsed().as_secs_f64());
        Ok((recipients, self.guard))
    }
}

/// `message.send`: idempotent on (sender, tempId); the ack leaves after commit.
pub async fn send(state: &AppState, s: &Session, req: SendMessage) -> AppResult<MessageEnvelope> {
    let mtype = match MessageType::parse(&req.message_type) {
        Some(MessageType::System) | None => {
            return Err(AppError::invalid("type must be text, image or file"));
        }
        Some(t) => t,
    };
    check_content(&req.content, mtype == MessageType::Text)?;
    if mtype != MessageType::Text && req.attachments.is_empty() {
        return Err(AppError::invalid(
            "image and file messages need attachments",
        ));
    }
    if req.attachments.len() > MAX_ATTACHMENTS {
        return Err(AppError::invalid(format!(
            "at most {MAX_ATTACHMENTS} attachments"
        )));
    }
    if let Some(t) = &req.temp_id
        && (t.is_empty() || t.chars().count() > MAX_TEMP_ID)
    {
        return Err(AppError::invalid(format!(
            "tempId must be 1 to {MAX_TEMP_ID} characters"
        )));
    }

    // A resend of an acked message: answer with the original, create nothing.
    if let Some(t) = &req.temp_id
        && let Some(existing) = original(state, s, t, &req.room_id).await?
    {
        return Ok(MessageEnvelope { message: existing });
    }
    state.rate_limit(&s.user_id, Action::Message).await?;

    let mut w = StreamWrite::begin(state, &req.room_id).await?;
    let (seq, now) = (w.seq, w.now);
    if db::rooms::role_of(&mut *w.tx, &req.room_id, &s.user_id)
        .await?
        .is_none()
    {
        return Err(AppError::forbidden("you are not a member of this room"));
    }
    let mut attachments = Vec::with_capacity(req.attachments.len());
    for f in &req.attachments {
        match db::messages::file_of_uploader(&mut *w.tx, f, &s.user_id).await? {
            Some(file) => attachments.push(file.to_attachment()),
            None => {
                return Err(AppError::forbidden(format!(
                    "attachment {:?} is not a file you uploaded",
                    crate::dispatch::truncate(f, 64)
                )));
            }
        }
    }
    if let Some(r) = &req.reply_to {
        let target = db::messages::row(&mut *w.tx, r).await?;
        if target.is_none_or(|m| m.room_id != req.room_id) {
            return Err(AppError::invalid(
                "replyTo must name a message in this room",
            ));
        }
    }
    let row = MessageRow {
        message_id: new_id(),
        room_id: req.room_id.clone(),
        seq,
        sender_id: s.user_id.clone(),
        temp_id: req.temp_id.clone(),
        message_type: mtype.as_str().to_owned(),
        content: req.content,
        reply_to: req.reply_to,
        created_at: now,
        edited_at: None,
        deleted_at: None,
    };
    if let Err(e) = db::messages::insert(&mut w.tx, &row).await {
        drop(w);
        // Two sends with one tempId raced: the other one won; answer with it.
        if is_unique_violation(&e)
            && let Some(t) = &row.temp_id
            && let Some(existing) = original(state, s, t, &row.room_id).await?
        {
            return Ok(MessageEnvelope { message: existing });
        }
        return Err(e.into());
    }
    db::messages::attach(&mut w.tx, &row.message_id, &req.attachments).await?;
    db::events::insert(
        &mut w.tx,
        &row.room_id,
        seq,
        kind::CREATED,
        Some(&row.message_id),
        None,
        now,
    )
    .await?;
    let (recipients, guard) = w.commit(state, &row.room_id).await?;

    let message = row.into_message(attachments);
    let env = MessageEnvelope { message };
    if let Some(c) = state.bus.cluster() {
        c.history_changed(env.message.seq, &env.message).await;
    }
    state.push_in_stream(
        recipients.clone(),
        Some(s.conn_id),
        (&env.message.room_id, env.message.seq),
        ev::MESSAGE_RECEIVED,
        &env,
    );
    drop(guard);
    typing_events::stopped_by_send(state, &env.message.room_id, s, recipients);
    Ok(env)
}

/// The message this sender already created with `temp_id`, if any. A tempId
/// reused for another room is a client bug worth saying so.
async fn original(
    state: &AppState,
    s: &Session,
    temp_id: &str,
    room_id: &str,
) -> AppResult<Option<Message>> {
    let Some(row) = db::messages::by_temp_id(state.db.reader(), &s.user_id, temp_id).await? else {
        return Ok(None);
    };
    if row.room_id != room_id {
        return Err(AppError::conflict(
            "this tempId was already used for another room",
        ));
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::messages::hydrate(&mut conn, vec![row]).await?.pop())
}

/// Looks a message up and checks the caller belongs to its room (the room is
/// taken from the message, never from the client).
async fn message_for_member(
    state: &AppState,
    s: &Session,
    message_id: &str,
) -> AppResult<(MessageRow, Role)> {
    let Some(m) = db::messages::row(state.db.reader(), message_id).await? else {
        return Err(AppError::not_found("no such message"));
    };
    let role = require_member(state, &m.room_id, &s.user_id).await?;
    Ok((m, role))
}

/// `message.edit`: the sender only; takes a seq; pushed as `message.edited`.
pub async fn edit(state: &AppState, s: &Session, req: EditMessage) -> AppResult<MessageEdited> {
    let (m, _) = message_for_member(state, s, &req.message_id).await?;
    if m.sender_id != s.user_id {
        return Err(AppError::forbidden("only the sender can edit a message"));
    }
    if m.deleted_at.is_some() {
        return Err(AppError::conflict("the message was deleted"));
    }
    check_content(&req.content, m.message_type == "text")?;

    let mut w = StreamWrite::begin(state, &m.room_id).await?;
    let (seq, now) = (w.seq, w.now);
    if db::rooms::role_of(&mut *w.tx, &m.room_id, &s.user_id)
        .await?
        .is_none()
    {
        return Err(AppError::forbidden("you are not a member of this room"));
    }
    if !db::messages::set_content(&mut w.tx, &m.message_id, &req.content, now).await? {
        return Err(AppError::conflict("the message was deleted"));
    }
    db::events::insert(
        &mut w.tx,
        &m.room_id,
        seq,
        kind::EDITED,
        Some(&m.message_id),
        None,
        now,
    )
    .await?;
    let message = db::messages::load(&mut w.tx, &m.message_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such message"))?;
    let (recipients, guard) = w.commit(state, &m.room_id).await?;

    let out = MessageEdited { message, seq };
    if let Some(c) = state.bus.cluster() {
        c.history_changed(seq, &out.message).await;
    }
    state.push_in_stream(
        recipients,
        Some(s.conn_id),
        (&out.message.room_id, seq),
        ev::MESSAGE_EDITED,
        &out,
    );
    drop(guard);
    Ok(out)
}

/// `message.delete`: the sender, or the room's owner/admin; leaves a tombstone.
/// Deleting a deleted message answers with the original deletion.
pub async fn delete(
    state: &AppState,
    s: &Session,
    req: DeleteMessage,
) -> AppResult<MessageDeleted> {
    let (m, role) = message_for_member(state, s, &req.message_id).await?;
    if m.sender_id != s.user_id && !role.can_manage() {
        return Err(AppError::forbidden(
            "only the sender or a room owner/admin can delete a message",
        ));
    }
    if let Some(at) = m.deleted_at {
        return Ok(MessageDeleted {
            seq: deletion_seq(state, &m).await?,
            room_id: m.room_id,
            message_id: m.message_id,
            deleted_at: rfc3339(at),
        });
    }

    let mut w = StreamWrite::begin(state, &m.room_id).await?;
    let (seq, now) = (w.seq, w.now);
    let role_now = db::rooms::role_of(&mut *w.tx, &m.room_id, &s.user_id).await?;
    if !role_now.is_some_and(|r| m.sender_id == s.user_id || r.can_manage()) {
        return Err(AppError::forbidden("you may not delete this message"));
    }
    if !db::messages::tombstone(&mut w.tx, &m.message_id, now).await? {
        // Deleted concurrently: give the seq back and answer with that deletion.
        drop(w);
        let m = db::messages::row(state.db.reader(), &req.message_id)
            .await?
            .ok_or_else(|| AppError::not_found("no such message"))?;
        return Ok(MessageDeleted {
            seq: deletion_seq(state, &m).await?,
            room_id: m.room_id.clone(),
            message_id: m.message_id.clone(),
            deleted_at: rfc3339(m.deleted_at.unwrap_or(now)),
        });
    }
    db::events::insert(
        &mut w.tx,
        &m.room_id,
        seq,
        kind::DELETED,
        Some(&m.message_id),
        None,
        now,
    )
    .await?;
    let (recipients, guard) = w.commit(state, &m.room_id).await?;
    if let Some(c) = state.bus.cluster() {
        let mut t = m.clone();
        t.content = String::new();
        t.deleted_at = Some(now);
        c.history_changed(seq, &t.into_message(Vec::new())).await;
    }

    let out = MessageDeleted {
        room_id: m.room_id,
        message_id: m.message_id,
        seq,
        deleted_at: rfc3339(now),
    };
    state.push_in_stream(
        recipients,
        Some(s.conn_id),
        (&out.room_id, seq),
        ev::MESSAGE_DELETED,
        &out,
    );
    drop(guard);
    Ok(out)
}

async fn deletion_seq(state: &AppState, m: &MessageRow) -> AppResult<i64> {
    let r: Option<(i64,)> = sqlx::query_as(
        "SELECT seq FROM room_events WHERE room_id = $1 AND message_id = $2 AND kind = $3",
    )
    .bind(&m.room_id)
    .bind(&m.message_id)
    .bind(kind::DELETED)
    .fetch_optional(state.db.reader())
    .await?;
    Ok(r.map_or(m.seq, |(s,)| s))
}

/// Reads `limit`: default 50, capped at 100; zero, negative or non-numeric is `invalid`.
fn page_limit(v: Option<&Value>) -> AppResult<i64> {
    match v {
        None | Some(Value::Null) => Ok(i64::from(HISTORY_DEFAULT_LIMIT)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(l) if l > 0 => Ok(l.min(i64::from(HISTORY_MAX_LIMIT))),
            _ => Err(AppError::invalid("limit must be a positive whole number")),
        },
        Some(_) => Err(AppError::invalid("limit must be a positive whole number")),
    }
}

/// Reads a cursor: a seq (number or digits) or an RFC 3339 timestamp.
fn cursor_position(v: Option<&Value>) -> AppResult<Position> {
    let bad = || AppError::invalid("cursor must be a nextCursor, a seq or an RFC 3339 timestamp");
    match v {
        None | Some(Value::Null) => Ok(Position::End),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|s| *s >= 0)
            .map(Position::Seq)
            .ok_or_else(bad),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map(Position::Seq).map_err(|_| bad())
        }
        Some(Value::String(s)) => parse_rfc3339(s).map(Position::Time).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// `message.history`: a page of messages, ascending by seq, on one side of the cursor.
pub async fn history(state: &AppState, s: &Session, req: History) -> AppResult<HistoryPage> {
    let limit = page_limit(req.limit.as_ref())?;
    let pos = cursor_position(req.cursor.as_ref())?;
    require_member(state, &req.room_id, &s.user_id).await?;
    let before = req.direction == Direction::Before;
    if let (Some(c), Position::End, true) = (state.bus.cluster(), pos, before) {
        return newest_page_cached(state, c, &req.room_id, limit).await;
    }
    let mut conn = state.db.reader().acquire().await?;
    let mut rows = db::messages::page(&mut conn, &req.room_id, pos, before, limit).await?;
    let has_more = rows.len() as i64 > limit;
    if has_more {
        if before {
            rows.remove(0);
        } else {
            rows.pop();
        }
    }
    let next_cursor = if before { rows.first() } else { rows.last() }.map(|m| m.seq.to_string());
    let messages = db::messages::hydrate(&mut conn, rows).await?;
    Ok(HistoryPage {
        messages,
        has_more,
        next_cursor,
    })
}

/// The newest page through the cluster's recent-history cache; a miss reads
/// the newest [`CACHED_MESSAGES`] from the database and fills the cache.
async fn newest_page_cached(
    state: &AppState,
    c: &std::sync::Arc<crate::cluster::Cluster>,
    room_id: &str,
    limit: i64,
) -> AppResult<HistoryPage> {
    let want = usize::try_from(limit).unwrap_or(0);
    let page = match c.cached_newest(room_id, want).await {
        Some(p) => {
            state.metrics.history_cache_hits.inc();
            p
        }
        None => {
            state.metrics.history_cache_misses.inc();
            let mut conn = state.db.reader().acquire().await?;
            // The stream seq before the read: the fill is refused if a
            // writer got past it meanwhile.
            let read_seq = db::rooms::row(&mut *conn, room_id)
                .await?
                .map_or(0, |r| r.last_seq);
            let cap = CACHED_MESSAGES as i64;
            let mut rows = db::messages::page(&mut conn, room_id, Position::End, true, cap).await?;
            let complete = rows.len() <= CACHED_MESSAGES;
            if !complete {
                rows.remove(0);
            }
            let newest = db::messages::hydrate(&mut conn, rows).await?;
            drop(conn);
            c.fill_history(room_id, read_seq, &newest, complete).await;
            let start = newest.len().saturating_sub(want);
            CachedPage {
                has_more: start > 0 || !complete,
                messages: newest[start..].to_vec(),
            }
        }
    };
    Ok(HistoryPage {
        next_cursor: page.messages.first().map(|m| m.seq.to_string()),
        messages: page.messages,
        has_more: page.has_more,
    })
}

/// `message.read`: moves the caller's read pointer forward (never back, never
/// past the room's last seq) and tells the room.
pub async fn read(state: &AppState, s: &Session, req: ReadPointer) -> AppResult<ReadAck> {
    if req.seq < 0 {
        return Err(AppError::invalid("seq must not be negative"));
    }
    require_member(state, &req.room_id, &s.user_id).await?;
    let room = db::rooms::row(state.db.reader(), &req.room_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such room"))?;
    let target = req.seq.min(room.last_seq);
    let mut conn = state.db.writer().acquire().await?;
    let Some((seq, moved)) =
        db::rooms::advance_read(&mut conn, &req.room_id, &s.user_id, target).await?
    else {
        return Err(AppError::forbidden("you are not a member of this room"));
    };
    drop(conn);
    if moved {
        let recipients = db::rooms::member_ids(state.db.reader(), &req.room_id).await?;
        let push = ReceiptUpdated {
            room_id: req.room_id.clone(),
            user_id: s.user_id.clone(),
            seq,
            read_at: rfc3339(now_ms()),
        };
        state.push(recipients, Some(s.conn_id), ev::RECEIPT_UPDATED, &push);
    }
    Ok(ReadAck {
        room_id: req.room_id,
        seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits_default_cap_and_reject_nonsense() {
        assert_eq!(page_limit(None).ok(), Some(50));
        assert_eq!(page_limit(Some(&json!(500))).ok(), Some(100));
        assert_eq!(page_limit(Some(&json!(7))).ok(), Some(7));
        for bad in [json!(0), json!(-1), json!("ten"), json!(2.5)] {
            assert!(page_limit(Some(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_are_seqs_or_timestamps() {
        assert!(matches!(cursor_position(None), Ok(Position::End)));
        assert!(matches!(
            cursor_position(Some(&json!("42"))),
            Ok(Position::Seq(42))
        ));
        assert!(matches!(
            cursor_position(Some(&json!(42))),
            Ok(Position::Seq(42))
        ));
        assert!(matches!(
            cursor_position(Some(&json!("2025-11-19T10:30:00Z"))),
            Ok(Position::Time(_))
        ));
        for bad in [json!("yesterday"), json!(-3), json!({}), json!("")] {
            assert!(cursor_position(Some(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_is_limited_in_characters_not_bytes() {
        assert!(check_content(&"é".repeat(4000), true).is_ok());
        assert!(check_content(&"a".repeat(4001), true).is_err());
        assert!(check_content("   ", true).is_err());
        assert!(check_content("", false).is_ok());
    }
}
