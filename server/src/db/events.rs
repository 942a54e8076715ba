//! The per-room event stream that `sync` replays.
//!
//! A row records which event took which seq; its payload is rebuilt from the
//! current state when replayed, so content deleted later never comes back.

use sqlx::{Any, AnyConnection, Executor, FromRow};

/// The kinds of stream events, named as their pushes.
pub mod kind {
    pub use leetchat_protocol::events::names::{
        MESSAGE_DELETED as DELETED, MESSAGE_EDITED as EDITED, MESSAGE_LINK_PREVIEW as LINK_PREVIEW,
        MESSAGE_PINNED as PINNED, MESSAGE_RECEIVED as CREATED, MESSAGE_UNPINNED as UNPINNED,
        REACTION_ADDED, REACTION_REMOVED, ROOM_MEMBER_JOINED as JOINED, ROOM_MEMBER_LEFT as LEFT,
    };
}

/// An event row.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    /// Room.
    pub room_id: String,
    /// Seq.
    pub seq: i64,
    /// One of [`kind`].
    pub kind: String,
    /// For message events.
    pub message_id: Option<String>,
    /// For member, reaction and pin events: who.
    pub user_id: Option<String>,
    /// For reaction events: the emoji.
    pub detail: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// What an event row names besides its room and seq.
#[derive(Debug, Clone, Copy, Default)]
pub struct Names<'a> {
    /// The message it is about.
    pub message_id: Option<&'a str>,
    /// The user it is about (or who did it).
    pub user_id: Option<&'a str>,
    /// A reaction's emoji.
    pub detail: Option<&'a str>,
}

/// Records the event that took `seq`.
pub async fn insert(
    conn: &mut AnyConnection,
    room_id: &str,
    seq: i64,
    kind: &str,
    names: Names<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO room_events (room_id, seq, kind, message_id, user_id, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(room_id)
    .bind(seq)
    .bind(kind)
    .bind(names.message_id)
    .bind(names.user_id)
    .bind(names.detail)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Events with `after < seq <= upto`, ascending, at most `limit`.
pub async fn range<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT room_id, seq, kind, message_id, user_id, detail, created_at FROM room_events
         WHERE room_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
    )
    .bind(room_id)
    .bind(after)
    .bind(upto)
    .bind(limit)
    .fetch_all(e)
    .await
}

/// The seq of the room's event of `kind` about `message_id`.
pub async fn seq_of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    message_id: &str,
    kind: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let r: Option<(i64,)> = sqlx::query_as(
        "SELECT seq FROM room_events WHERE room_id = $1 AND message_id = $2 AND kind = $3",
    )
    .bind(room_id)
    .bind(message_id)
    .bind(kind)
    .fetch_optional(e)
    .await?;
    Ok(r.map(|(s,)| s))
}
