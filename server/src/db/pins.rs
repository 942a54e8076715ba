//! Pinned messages: one row per (room, message); `seq` is the pin event's,
//! so the newest pin comes first.

use sqlx::{Any, AnyConnection, Executor};

/// Pins; `false` when it was pinned already (nothing written).
pub async fn add(
    conn: &mut AnyConnection,
    room_id: &str,
    message_id: &str,
    user_id: &str,
    seq: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO pins (room_id, message_id, pinned_by, seq) VALUES ($1, $2, $3, $4)
         ON CONFLICT (room_id, message_id) DO NOTHING",
    )
    .bind(room_id)
    .bind(message_id)
    .bind(user_id)
    .bind(seq)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Unpins; `false` when it was not pinned.
pub async fn remove(
    conn: &mut AnyConnection,
    room_id: &str,
    message_id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM pins WHERE room_id = $1 AND message_id = $2")
        .bind(room_id)
        .bind(message_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The room's pinned message ids, newest pin first.
pub async fn of_room<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT message_id FROM pins WHERE room_id = $1 ORDER BY seq DESC")
            .bind(room_id)
            .fetch_all(e)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
