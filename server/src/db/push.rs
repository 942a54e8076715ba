//! Web Push: subscriptions (one per device), the durable queue of pushes,
//! what each device was pushed about, and the server's own keys.

use sqlx::{Any, AnyConnection, Executor, FromRow};

use crate::config::DatabaseKind;

/// A device's subscription.
#[derive(Debug, Clone, FromRow)]
pub struct Subscription {
    /// The device.
    pub device_id: String,
    /// Its user.
    pub user_id: String,
    /// The push service's endpoint.
    pub endpoint: String,
    /// base64url of the device's P-256 public key.
    pub p256dh: String,
    /// base64url of its auth secret.
    pub auth: String,
    /// 1: payloads may carry a preview.
    pub previews: i64,
}

/// A server key by name (`vapid_private`).
pub async fn server_key<'e, E: Executor<'e, Database = Any>>(
    e: E,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM server_keys WHERE name = $1")
        .bind(name)
        .fetch_optional(e)
        .await?;
    Ok(row.map(|(v,)| v))
}

/// Stores a server key unless one of that name exists (the first node to
/// start makes it; the others read it).
pub async fn keep_server_key<'e, E: Executor<'e, Database = Any>>(
    e: E,
    name: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(value)
    .execute(e)
    .await?;
    Ok(())
}

/// Stores (or replaces) a device's subscription.
pub async fn subscribe<'e, E: Executor<'e, Database = Any>>(
    e: E,
    s: &Subscription,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO push_subscriptions (device_id, user_id, endpoint, p256dh, auth, previews, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh,
           auth = excluded.auth, previews = excluded.previews, created_at = excluded.created_at",
    )
    .bind(&s.device_id)
    .bind(&s.user_id)
    .bind(&s.endpoint)
    .bind(&s.p256dh)
    .bind(&s.auth)
    .bind(s.previews)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

/// Removes a device's subscription and everything queued for it.
pub async fn unsubscribe(conn: &mut AnyConnection, device_id: &str) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM push_queue WHERE device_id = $1",
        "DELETE FROM push_pushed WHERE device_id = $1",
        "DELETE FROM push_subscriptions WHERE device_id = $1",
    ] {
        sqlx::query(sql).bind(device_id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A device's subscription.
pub async fn subscription<'e, E: Executor<'e, Database = Any>>(
    e: E,
    device_id: &str,
) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, user_id, endpoint, p256dh, auth, previews
         FROM push_subscriptions WHERE device_id = $1",
    )
    .bind(device_id)
    .fetch_optional(e)
    .await
}

/// A subscribed device of a member of a room, with what decides whether a
/// message notifies its user.
#[derive(Debug, Clone, FromRow)]
pub struct Recipient {
    /// The device.
    pub device_id: String,
    /// Its user.
    pub user_id: String,
    /// The level set for the room (`None`: the user's default).
    pub notify_level: Option<String>,
    /// Unix ms.
    pub mute_until: Option<i64>,
    /// The user's default level.
    pub notify_default: String,
    /// 1: previews wanted.
    pub previews: i64,
}

/// The subscribed devices of the room's members but `sender`.
pub async fn recipients(
    conn: &mut AnyConnection,
    room_id: &str,
    sender: &str,
) -> Result<Vec<Recipient>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.device_id, s.user_id, m.notify_level, m.mute_until, u.notify_default, s.previews
         FROM push_subscriptions s
         JOIN room_members m ON m.user_id = s.user_id AND m.room_id = $1
         JOIN users u ON u.user_id = s.user_id
         WHERE s.user_id <> $2",
    )
    .bind(room_id)
    .bind(sender)
    .fetch_all(conn)
    .await
}

/// A queued push.
#[derive(Debug, Clone, FromRow)]
pub struct Queued {
    /// Id.
    pub push_id: String,
    /// To which device.
    pub device_id: String,
    /// About which room.
    pub room_id: String,
    /// The message's seq (or the read pointer's).
    pub seq: i64,
    /// The payload (JSON), before encryption.
    pub body: String,
    /// `high` or `normal`.
    pub urgency: String,
    /// The Topic header.
    pub topic: String,
    /// Tries so far.
    pub attempts: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// Queues a push (in the write that decided it).
pub async fn enqueue(conn: &mut AnyConnection, q: &Queued, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO push_queue (push_id, device_id, room_id, seq, body, urgency, topic, attempts, next_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)",
    )
    .bind(&q.push_id)
    .bind(&q.device_id)
    .bind(&q.room_id)
    .bind(q.seq)
    .bind(&q.body)
    .bind(&q.urgency)
    .bind(&q.topic)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes up to `limit` due pushes for this node until `until`: no other
/// node takes them meanwhile (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite
/// has one writer).
pub async fn claim<'e, E: Executor<'e, Database = Any>>(
    e: E,
    kind: DatabaseKind,
    now: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<Queued>, sqlx::Error> {
    let lock = match kind {
        DatabaseKind::Postgres => "FOR UPDATE SKIP LOCKED",
        DatabaseKind::Sqlite => "",
    };
    let sql = format!(
        "UPDATE push_queue SET claimed_until = $1 WHERE push_id IN (
           SELECT push_id FROM push_queue
           WHERE next_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)
           ORDER BY next_at LIMIT $3 {lock})
         RETURNING push_id, device_id, room_id, seq, body, urgency, topic, attempts, created_at"
    );
    sqlx::query_as(&sql)
        .bind(until)
        .bind(now)
        .bind(limit)
        .fetch_all(e)
        .await
}

/// The user's read pointer in a room; `None` when not a member.
pub async fn read_seq<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: &str,
    room_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT last_read_seq FROM room_members WHERE room_id = $1 AND user_id = $2",
    )
    .bind(room_id)
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    Ok(row.map(|(s,)| s))
}

/// Whether the message at `seq` in the room is there and not deleted.
pub async fn message_stands<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    seq: i64,
) -> Result<bool, sqlx::Error> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT deleted_at FROM messages WHERE room_id = $1 AND seq = $2")
            .bind(room_id)
            .bind(seq)
            .fetch_optional(e)
            .await?;
    Ok(matches!(row, Some((None,))))
}

/// A push is done (sent, or given up).
pub async fn done<'e, E: Executor<'e, Database = Any>>(
    e: E,
    push_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM push_queue WHERE push_id = $1")
        .bind(push_id)
        .execute(e)
        .await?;
    Ok(())
}

/// A push to try again at `next_at`.
pub async fn retry<'e, E: Executor<'e, Database = Any>>(
    e: E,
    push_id: &str,
    attempts: i64,
    next_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE push_queue SET attempts = $2, next_at = $3, claimed_until = NULL WHERE push_id = $1",
    )
    .bind(push_id)
    .bind(attempts)
    .bind(next_at)
    .execute(e)
    .await?;
    Ok(())
}

/// Notes that a device was pushed about a room up to `seq`.
pub async fn mark_pushed<'e, E: Executor<'e, Database = Any>>(
    e: E,
    device_id: &str,
    room_id: &str,
    seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO push_pushed (device_id, room_id, seq) VALUES ($1, $2, $3)
         ON CONFLICT (device_id, room_id) DO UPDATE SET seq = CASE WHEN excluded.seq > push_pushed.seq THEN excluded.seq ELSE push_pushed.seq END",
    )
    .bind(device_id)
    .bind(room_id)
    .bind(seq)
    .execute(e)
    .await?;
    Ok(())
}

/// The user's devices that were pushed about a room; their notes of it go.
pub async fn take_pushed(
    conn: &mut AnyConnection,
    user_id: &str,
    room_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT p.device_id FROM push_pushed p
         JOIN push_subscriptions s ON s.device_id = p.device_id
         WHERE s.user_id = $1 AND p.room_id = $2",
    )
    .bind(user_id)
    .bind(room_id)
    .fetch_all(&mut *conn)
    .await?;
    for (d,) in &rows {
        sqlx::query("DELETE FROM push_pushed WHERE device_id = $1 AND room_id = $2")
            .bind(d)
            .bind(room_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.into_iter().map(|(d,)| d).collect())
}
