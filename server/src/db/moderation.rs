//! Room invite links, bans, blocks and reports (protocol 9.8).

use sqlx::{Any, AnyConnection, Executor, FromRow};

use super::{Db, new_id};

/// A room invite link.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct RoomInviteRow {
    /// The secret.
    pub code: String,
    /// The group.
    pub room_id: String,
    /// Who made it.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; `None`: never.
    pub expires_at: Option<i64>,
    /// `None`: unlimited.
    pub max_uses: Option<i64>,
    /// People who joined with it.
    pub uses: i64,
    /// Unix ms when revoked.
    pub revoked_at: Option<i64>,
}

impl RoomInviteRow {
    /// Whether it still lets someone join at `now`.
    pub fn usable(&self, now: i64) -> bool {
        super::invite_usable(
            self.revoked_at,
            self.expires_at,
            self.max_uses,
            self.uses,
            now,
        )
    }
}

const INVITE_COLS: &str =
    "code, room_id, created_by, created_at, expires_at, max_uses, uses, revoked_at";

/// Stores a new invite link.
pub async fn create_invite(conn: &mut AnyConnection, i: &RoomInviteRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO room_invites (code, room_id, created_by, created_at, expires_at, max_uses, uses) \
         VALUES ($1, $2, $3, $4, $5, $6, 0)",
    )
    .bind(&i.code)
    .bind(&i.room_id)
    .bind(&i.created_by)
    .bind(i.created_at)
    .bind(i.expires_at)
    .bind(i.max_uses)
    .execute(conn)
    .await?;
    Ok(())
}

/// An invite by code, whatever its state.
pub async fn invite<'e, E: Executor<'e, Database = Any>>(
    e: E,
    code: &str,
) -> Result<Option<RoomInviteRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {INVITE_COLS} FROM room_invites WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(e)
    .await
}

/// What makes an invite (the row of table or alias `t`) let people in at
/// `now` (a placeholder such as `$2`): not revoked, expired or used up, and
/// its maker still the group's owner or an admin (a link of someone
/// banned, demoted or gone stops working).
fn usable(t: &str, now: &str) -> String {
    format!(
        "{t}.revoked_at IS NULL AND ({t}.expires_at IS NULL OR {t}.expires_at > {now}) \
         AND ({t}.max_uses IS NULL OR {t}.uses < {t}.max_uses) \
         AND EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = {t}.room_id \
                     AND m.user_id = {t}.created_by AND m.role IN ('owner', 'admin'))"
    )
}

/// A group's invites that still let people join, newest first.
pub async fn usable_invites<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    now: i64,
) -> Result<Vec<RoomInviteRow>, sqlx::Error> {
    let cols = INVITE_COLS
        .split(", ")
        .map(|c| format!("i.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query_as(&format!(
        "SELECT {cols} FROM room_invites i WHERE i.room_id = $1 AND {} \
         ORDER BY i.created_at DESC, i.code",
        usable("i", "$2")
    ))
    .bind(room_id)
    .bind(now)
    .fetch_all(e)
    .await
}

/// Revokes an invite; `false` when it was revoked already.
pub async fn revoke_invite(db: &Db, code: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE room_invites SET revoked_at = $2 WHERE code = $1 AND revoked_at IS NULL",
    )
    .bind(code)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Spends one use of an invite to `room_id`, in the join's transaction;
/// `false` when it is unknown, for another room, or no longer usable
/// ([`usable`]). Check and count are one statement on the invite's own
/// row: two joins cannot both take the last use.
pub async fn spend_invite(
    conn: &mut AnyConnection,
    code: &str,
    room_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(&format!(
        "UPDATE room_invites SET uses = uses + 1 WHERE code = $1 AND room_id = $2 AND {}",
        usable("room_invites", "$3")
    ))
    .bind(code)
    .bind(room_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// A ban.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct BanRow {
    /// Who.
    pub user_id: String,
    /// Why.
    pub reason: Option<String>,
    /// By whom.
    pub banned_by: String,
    /// Unix ms.
    pub banned_at: i64,
}

/// Bans `user_id` from the room (a second ban keeps the first's record).
pub async fn ban(
    conn: &mut AnyConnection,
    room_id: &str,
    user_id: &str,
    reason: Option<&str>,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO room_bans (room_id, user_id, reason, banned_by, banned_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, user_id) DO NOTHING",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(reason)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Lifts a ban; `false` when there was none.
pub async fn unban(db: &Db, room_id: &str, user_id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2")
        .bind(room_id)
        .bind(user_id)
        .execute(db.writer())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Which of `user_ids` are banned from the room.
pub async fn banned_among(
    conn: &mut AnyConnection,
    room_id: &str,
    user_ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    super::text_among(
        conn,
        "SELECT user_id FROM room_bans WHERE room_id = $1 AND user_id IN ({in})",
        Some(room_id),
        user_ids,
    )
    .await
}

/// A room's bans, newest first.
pub async fn bans(db: &Db, room_id: &str) -> Result<Vec<BanRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, reason, banned_by, banned_at FROM room_bans WHERE room_id = $1 \
         ORDER BY banned_at DESC, user_id",
    )
    .bind(room_id)
    .fetch_all(db.reader())
    .await
}

/// `blocker` blocks `blocked` (again: nothing changes).
pub async fn block(db: &Db, blocker: &str, blocked: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_blocks (blocker_id, blocked_id, blocked_at) VALUES ($1, $2, $3) \
         ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
    )
    .bind(blocker)
    .bind(blocked)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// `blocker` unblocks `blocked`.
pub async fn unblock(db: &Db, blocker: &str, blocked: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2")
        .bind(blocker)
        .bind(blocked)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// `(blocked user, when)` of everyone `blocker` blocked, newest first.
pub async fn blocks_of(db: &Db, blocker: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT blocked_id, blocked_at FROM user_blocks WHERE blocker_id = $1 \
         ORDER BY blocked_at DESC, blocked_id",
    )
    .bind(blocker)
    .fetch_all(db.reader())
    .await
}

/// Whether `blocker` blocked `blocked`.
pub async fn is_blocked<'e, E: Executor<'e, Database = Any>>(
    e: E,
    blocker: &str,
    blocked: &str,
) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(blocker)
            .bind(blocked)
            .fetch_optional(e)
            .await?;
    Ok(row.is_some())
}

/// Everyone who blocked `user_id`.
pub async fn blockers_of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT blocker_id FROM user_blocks WHERE blocked_id = $1")
            .bind(user_id)
            .fetch_all(e)
            .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// A report, with names for people reading it.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReportRow {
    /// Id.
    pub report_id: String,
    /// The message.
    pub message_id: String,
    /// Its room.
    pub room_id: String,
    /// Its room's name ('' for a direct room).
    pub room_name: String,
    /// Its sender.
    pub sender_id: String,
    /// The sender's login name.
    pub sender_name: String,
    /// Who reported it.
    pub reporter_id: String,
    /// The reporter's login name.
    pub reporter_name: String,
    /// Why.
    pub reason: String,
    /// What the message said when reported.
    pub content: String,
    /// Unix ms.
    pub created_at: i64,
}

/// Stores a report; `false` when this user reported this message already
/// (the first report stays as it was).
#[allow(clippy::too_many_arguments)]
pub async fn report(
    db: &Db,
    message_id: &str,
    room_id: &str,
    sender_id: &str,
    reporter_id: &str,
    reason: &str,
    content: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO reports (report_id, message_id, room_id, sender_id, reporter_id, reason, content, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id, reporter_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(message_id)
    .bind(room_id)
    .bind(sender_id)
    .bind(reporter_id)
    .bind(reason)
    .bind(content)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Reports, newest first.
pub async fn reports(db: &Db, limit: i64) -> Result<Vec<ReportRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.report_id, r.message_id, r.room_id, COALESCE(rm.name, '') AS room_name, \
                r.sender_id, COALESCE(s.user_name, '') AS sender_name, \
                r.reporter_id, COALESCE(p.user_name, '') AS reporter_name, \
                r.reason, r.content, r.created_at \
         FROM reports r \
         LEFT JOIN rooms rm ON rm.room_id = r.room_id \
         LEFT JOIN users s ON s.user_id = r.sender_id \
         LEFT JOIN users p ON p.user_id = r.reporter_id \
         ORDER BY r.created_at DESC, r.report_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.reader())
    .await
}
