//! Reactions: one row per (message, emoji, user). A message's reactions are
//! in order of first use: `first_seq` is the seq at which the emoji
//! appeared on the message, kept while anyone still has it, so a reaction
//! keeps its place when the user who started it takes theirs back.

use std::collections::HashMap;

use leetchat_protocol::{REACTION_USERS_LISTED, Reaction};
use sqlx::{Any, AnyConnection, Executor};

use super::{chunked, placeholders};

/// Adds one; `false` when the user already had it (nothing written).
pub async fn add(
    conn: &mut AnyConnection,
    message_id: &str,
    emoji: &str,
    user_id: &str,
    seq: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO reactions (message_id, emoji, user_id, seq, first_seq)
         VALUES ($1, $2, $3, $4, COALESCE(
             (SELECT MIN(first_seq) FROM reactions WHERE message_id = $1 AND emoji = $2), $4))
         ON CONFLICT (message_id, emoji, user_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(emoji)
    .bind(user_id)
    .bind(seq)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes one; `false` when the user did not have it.
pub async fn remove(
    conn: &mut AnyConnection,
    message_id: &str,
    emoji: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3")
            .bind(message_id)
            .bind(emoji)
            .bind(user_id)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether the user has this reaction on the message.
pub async fn has<'e, E: Executor<'e, Database = Any>>(
    e: E,
    message_id: &str,
    emoji: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let r: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
    )
    .bind(message_id)
    .bind(emoji)
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    Ok(r.is_some())
}

/// How many different reactions the user has on the message.
pub async fn count_of_user<'e, E: Executor<'e, Database = Any>>(
    e: E,
    message_id: &str,
    user_id: &str,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM reactions WHERE message_id = $1 AND user_id = $2")
            .bind(message_id)
            .bind(user_id)
            .fetch_one(e)
            .await?;
    Ok(n)
}

/// Removes every reaction of a message (it was deleted).
pub async fn clear(conn: &mut AnyConnection, message_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM reactions WHERE message_id = $1")
        .bind(message_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The reactions of one message.
pub async fn of_message(
    conn: &mut AnyConnection,
    message_id: &str,
) -> Result<Vec<Reaction>, sqlx::Error> {
    let mut all = of_messages(conn, &[message_id]).await?;
    Ok(all.remove(message_id).unwrap_or_default())
}

/// The reactions of each message (messages without any are left out).
pub async fn of_messages(
    conn: &mut AnyConnection,
    message_ids: &[&str],
) -> Result<HashMap<String, Vec<Reaction>>, sqlx::Error> {
    let mut out: HashMap<String, Vec<Reaction>> = HashMap::new();
    for ids in chunked(message_ids) {
        let sql = format!(
            "SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN ({}) \
             ORDER BY message_id, first_seq, seq, user_id",
            placeholders(ids.len())
        );
        let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        for (message_id, emoji, user_id) in q.fetch_all(&mut *conn).await? {
            let list = out.entry(message_id).or_default();
            let r = match list.iter_mut().position(|r| r.emoji == emoji) {
                Some(i) => &mut list[i],
                None => {
                    list.push(Reaction {
                        emoji,
                        count: 0,
                        user_ids: Vec::new(),
                    });
                    list.last_mut().expect("just pushed")
                }
            };
            r.count += 1;
            if r.user_ids.len() < REACTION_USERS_LISTED {
                r.user_ids.push(user_id);
            }
        }
    }
    Ok(out)
}
