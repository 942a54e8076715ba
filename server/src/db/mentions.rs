//! Mentions: the members a message mentions (`messages.mentions_room` says
//! whether it mentions the room), and the counts `room.list` shows.

use std::collections::HashMap;

use sqlx::{Any, AnyConnection, Executor};

use super::{chunked, placeholders};

/// Replaces the message's mentioned members with `user_ids` (in order).
pub async fn set(
    conn: &mut AnyConnection,
    room_id: &str,
    message_id: &str,
    seq: i64,
    user_ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM message_mentions WHERE message_id = $1")
        .bind(message_id)
        .execute(&mut *conn)
        .await?;
    for (position, user_id) in user_ids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO message_mentions (message_id, user_id, position, room_id, seq)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(message_id)
        .bind(user_id)
        .bind(position as i64)
        .bind(room_id)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sets whether the message mentions the whole room.
pub async fn set_room(
    conn: &mut AnyConnection,
    message_id: &str,
    mentions_room: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE messages SET mentions_room = $2 WHERE message_id = $1")
        .bind(message_id)
        .bind(i64::from(mentions_room))
        .execute(conn)
        .await?;
    Ok(())
}

/// The members each message mentions, in order (messages without any are left out).
pub async fn of_messages(
    conn: &mut AnyConnection,
    message_ids: &[&str],
) -> Result<HashMap<String, Vec<String>>, sqlx::Error> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for ids in chunked(message_ids) {
        let sql = format!(
            "SELECT message_id, user_id FROM message_mentions WHERE message_id IN ({}) \
             ORDER BY message_id, position",
            placeholders(ids.len())
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        for (message_id, user_id) in q.fetch_all(&mut *conn).await? {
            out.entry(message_id).or_default().push(user_id);
        }
    }
    Ok(out)
}

/// The caller's unread messages in the room (seq above `after_seq`, from
/// others, not deleted) that mention it or the whole room.
pub async fn unread_count<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    user_id: &str,
    after_seq: i64,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM messages m
         WHERE m.room_id = $1 AND m.seq > $2 AND m.sender_id <> $3 AND m.deleted_at IS NULL
           AND (m.mentions_room = 1 OR EXISTS (
                SELECT 1 FROM message_mentions x
                WHERE x.message_id = m.message_id AND x.user_id = $3))",
    )
    .bind(room_id)
    .bind(after_seq)
    .bind(user_id)
    .fetch_one(e)
    .await?;
    Ok(n)
}
