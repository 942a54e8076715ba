//! Users, devices and refresh tokens.

use leetchat_protocol::User;
use sqlx::{AnyPool, FromRow};

use super::{Db, new_id};

/// A user row.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    /// Id.
    pub user_id: String,
    /// Login name as typed at sign-up.
    pub user_name: String,
    /// Shown name.
    pub display_name: String,
    /// Picture.
    pub avatar_url: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When the user's last device went away.
    pub last_seen: Option<i64>,
    /// 1: a server admin.
    pub is_admin: i64,
    /// When a server admin deactivated the account.
    pub deactivated_at: Option<i64>,
    /// When the account was made.
    pub created_at: i64,
    /// When its owner deleted it.
    pub deleted_at: Option<i64>,
}

impl UserRow {
    /// The wire shape (no hash, no last seen).
    pub fn to_user(&self) -> User {
        User {
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            display_name: self.display_name.clone(),
            avatar_url: self.avatar_url.clone(),
            deactivated: self.deactivated_at.is_some(),
            deleted: self.deleted_at.is_some(),
        }
    }

    /// Whether a server admin deactivated the account.
    pub fn is_deactivated(&self) -> bool {
        self.deactivated_at.is_some()
    }
}

const USER_COLS: &str = "user_id, user_name, display_name, avatar_url, password_hash, last_seen, \
                         is_admin, deactivated_at, created_at, deleted_at";

/// Why an account could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotCreated {
    /// The userName is taken (in any case).
    NameTaken,
    /// The server invite is unknown, revoked, expired or used up.
    BadInvite,
}

/// Makes an account. With `invite`, spends one use of that server invite
/// in the same transaction: a taken name gives the use back.
pub async fn create_account(
    db: &Db,
    user_name: &str,
    display_name: &str,
    password_hash: &str,
    invite: Option<&str>,
    is_admin: bool,
    now: i64,
) -> Result<Result<UserRow, NotCreated>, sqlx::Error> {
    let id = new_id();
    let mut tx = db.begin().await?;
    if let Some(code) = invite
        && !super::invites::spend_server_invite(&mut tx, code, now).await?
    {
        tx.rollback().await?;
        return Ok(Err(NotCreated::BadInvite));
    }
    let r = sqlx::query(
        "INSERT INTO users (user_id, user_name, user_name_key, display_name, password_hash, \
         created_at, is_admin, invite_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(user_name)
    .bind(user_name.to_lowercase())
    .bind(display_name)
    .bind(password_hash)
    .bind(now)
    .bind(i64::from(is_admin))
    .bind(invite)
    .execute(&mut *tx)
    .await;
    match r {
        Ok(_) => {}
        Err(e) if crate::error::is_unique_violation(&e) => {
            tx.rollback().await?;
            return Ok(Err(NotCreated::NameTaken));
        }
        Err(e) => return Err(e),
    }
    tx.commit().await?;
    Ok(Ok(UserRow {
        user_id: id,
        user_name: user_name.to_owned(),
        display_name: display_name.to_owned(),
        avatar_url: None,
        password_hash: password_hash.to_owned(),
        last_seen: None,
        is_admin: i64::from(is_admin),
        deactivated_at: None,
        created_at: now,
        deleted_at: None,
    }))
}

/// Every account, by name (for `leetchat-server admin list-users`).
pub async fn all(db: &Db) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLS} FROM users ORDER BY user_name_key"
    ))
    .fetch_all(db.reader())
    .await
}

/// Makes the account a server admin, or not. Whether it changed.
pub async fn set_admin(db: &Db, user_id: &str, admin: bool) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET is_admin = $2 WHERE user_id = $1 AND is_admin <> $2")
        .bind(user_id)
        .bind(i64::from(admin))
        .execute(db.writer())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Server admins that are not deactivated.
pub async fn active_admin_count(db: &Db) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND deactivated_at IS NULL")
            .fetch_one(db.reader())
            .await?;
    Ok(n)
}

/// Signs every device of the account out, in `tx`: devices revoked,
/// refresh tokens and push subscriptions gone, and the time noted so every
/// node closes those devices' sockets (see [`recently_revoked`]).
pub async fn revoke_all_devices(
    tx: &mut super::Tx,
    user_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let devices: Vec<(String,)> =
        sqlx::query_as("SELECT device_id FROM devices WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user_id)
            .fetch_all(&mut **tx)
            .await?;
    sqlx::query("UPDATE devices SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    for (device_id,) in &devices {
        sqlx::query("DELETE FROM refresh_tokens WHERE device_id = $1")
            .bind(device_id)
            .execute(&mut **tx)
            .await?;
        super::push::unsubscribe(tx, device_id).await?;
    }
    sqlx::query("UPDATE users SET sessions_revoked_at = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deactivates the account and signs all its devices out. `false` when it
/// was deactivated already.
pub async fn deactivate(db: &Db, user_id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE users SET deactivated_at = $2 WHERE user_id = $1 AND deactivated_at IS NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    revoke_all_devices(&mut tx, user_id, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Lets a deactivated account sign in again. `false` when it was active
/// (or deleted: a deleted account stays away).
pub async fn reactivate(db: &Db, user_id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE users SET deactivated_at = NULL \
         WHERE user_id = $1 AND deactivated_at IS NOT NULL AND deleted_at IS NULL",
    )
    .bind(user_id)
    .execute(db.writer())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Sets a new password and signs every device out.
pub async fn reset_password(
    db: &Db,
    user_id: &str,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
    revoke_all_devices(&mut tx, user_id, now).await?;
    tx.commit().await
}

/// Accounts whose devices were all signed out at once since `since` (Unix
/// ms), with whether each is deactivated.
pub async fn recently_revoked(db: &Db, since: i64) -> Result<Vec<(String, bool)>, sqlx::Error> {
    let rows: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT user_id, deactivated_at FROM users WHERE sessions_revoked_at >= $1")
            .bind(since)
            .fetch_all(db.reader())
            .await?;
    Ok(rows.into_iter().map(|(u, d)| (u, d.is_some())).collect())
}

/// Which of `device_ids` of the user are signed out.
pub async fn revoked_among(
    db: &Db,
    user_id: &str,
    device_ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    super::text_among(
        &mut conn,
        "SELECT device_id FROM devices WHERE user_id = $1 AND revoked_at IS NOT NULL \
         AND device_id IN ({in})",
        Some(user_id),
        device_ids,
    )
    .await
}

/// The user with this login name (any case).
pub async fn by_name(db: &Db, user_name: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLS} FROM users WHERE user_name_key = $1"
    ))
    .bind(user_name.to_lowercase())
    .fetch_optional(db.reader())
    .await
}

/// The user with this id.
pub async fn by_id(pool: &AnyPool, user_id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {USER_COLS} FROM users WHERE user_id = $1"))
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// Users whose name or display name contains `query` (case-insensitive), by name.
pub async fn search(db: &Db, query: &str, limit: i64) -> Result<Vec<UserRow>, sqlx::Error> {
    // Escape LIKE wildcards so a search for "_" finds underscores, not everyone.
    let escaped = query
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    sqlx::query_as(&format!(
        "SELECT {USER_COLS} FROM users
         WHERE user_name_key LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\'
         ORDER BY CASE WHEN user_name_key = $2 THEN 0 ELSE 1 END, user_name_key
         LIMIT $3"
    ))
    .bind(pattern)
    .bind(query.to_lowercase())
    .bind(limit)
    .fetch_all(db.reader())
    .await
}

/// Records when each user's last device went away, in one transaction.
pub async fn set_last_seen_many(db: &Db, rows: &[(&str, i64)]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    for (user_id, at) in rows {
        sqlx::query("UPDATE users SET last_seen = $2 WHERE user_id = $1")
            .bind(*user_id)
            .bind(*at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// `(user_id, last_seen)` of these users.
pub async fn last_seen_of(
    db: &Db,
    user_ids: &[String],
) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
    let mut out = Vec::with_capacity(user_ids.len());
    for id in user_ids {
        let row: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT user_id, last_seen FROM users WHERE user_id = $1")
                .bind(id)
                .fetch_optional(db.reader())
                .await?;
        out.extend(row);
    }
    Ok(out)
}

/// Creates a device for a sign-in, with its first refresh token (stored
/// hashed); `None` when the account was deactivated, or its password
/// changed from `password_hash`, since the caller read it. The check takes
/// the user's row lock first, so a deactivation or a password reset is
/// either seen here or signs this device out after it.
pub async fn create_device(
    db: &Db,
    user_id: &str,
    password_hash: &str,
    name: &str,
    refresh_hash: &str,
    now: i64,
    refresh_expires_at: i64,
) -> Result<Option<String>, sqlx::Error> {
    let device_id = new_id();
    let mut tx = db.begin().await?;
    let still = sqlx::query(
        "UPDATE users SET user_id = user_id \
         WHERE user_id = $1 AND deactivated_at IS NULL AND password_hash = $2",
    )
    .bind(user_id)
    .bind(password_hash)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if still == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    sqlx::query(
        "INSERT INTO devices (device_id, user_id, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&device_id)
    .bind(user_id)
    .bind(name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(refresh_hash)
    .bind(&device_id)
    .bind(now)
    .bind(refresh_expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(device_id))
}

/// Whether the device exists, belongs to the user and is not revoked.
pub async fn device_active(db: &Db, user_id: &str, device_id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM devices d JOIN users u ON u.user_id = d.user_id \
         WHERE d.device_id = $1 AND d.user_id = $2 AND d.revoked_at IS NULL \
         AND u.deactivated_at IS NULL",
    )
    .bind(device_id)
    .bind(user_id)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.is_some())
}

/// The name of `user_id` when `device_id` is one of their devices and not
/// signed out: what a new connection checks, in one round trip.
pub async fn active_device_user(
    db: &Db,
    user_id: &str,
    device_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT u.user_name FROM devices d JOIN users u ON u.user_id = d.user_id \
         WHERE d.device_id = $1 AND d.user_id = $2 AND d.revoked_at IS NULL \
         AND u.deactivated_at IS NULL",
    )
    .bind(device_id)
    .bind(user_id)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map(|(name,)| name))
}

/// The user a device belongs to.
pub async fn owner_of_device(db: &Db, device_id: &str) -> Result<Option<String>, sqlx::Error> {
    let r: Option<(String,)> = sqlx::query_as("SELECT user_id FROM devices WHERE device_id = $1")
        .bind(device_id)
        .fetch_optional(db.reader())
        .await?;
    Ok(r.map(|(u,)| u))
}

/// A user's shown name.
pub async fn display_name_of<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    e: E,
    user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT display_name FROM users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(e)
            .await?;
    Ok(row.map(|(n,)| n))
}

/// Revokes a device and deletes its refresh tokens and push subscription.
pub async fn revoke_device(db: &Db, device_id: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE devices SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL")
        .bind(device_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM refresh_tokens WHERE device_id = $1")
        .bind(device_id)
        .execute(&mut *tx)
        .await?;
    // A signed-out device is pushed nothing more.
    super::push::unsubscribe(&mut tx, device_id).await?;
    tx.commit().await
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// Spent the old token, stored the new one: `(user_id, device_id)`.
    Rotated {
        /// The account.
        user_id: String,
        /// The device.
        device_id: String,
    },
    /// The token was already spent: the device has been revoked.
    Reused {
        /// The revoked device.
        device_id: String,
    },
    /// Unknown, expired, or its device is revoked.
    Invalid,
}

/// Spends `old_hash` and stores `new_hash` in one transaction.
pub async fn rotate_refresh(
    db: &Db,
    old_hash: &str,
    new_hash: &str,
    now: i64,
    new_expires_at: i64,
) -> Result<Rotation, sqlx::Error> {
    let mut tx = db.begin().await?;
    // Spend first: this is the write that takes the lock, and it makes two
    // concurrent refreshes with one token see each other.
    let spent = sqlx::query(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(old_hash)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // A device of a deactivated account counts as signed out.
    let row: Option<(String, String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT d.device_id, d.user_id, COALESCE(d.revoked_at, u.deactivated_at), t.used_at
         FROM refresh_tokens t JOIN devices d ON d.device_id = t.device_id
         JOIN users u ON u.user_id = d.user_id
         WHERE t.token_hash = $1",
    )
    .bind(old_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((device_id, user_id, revoked_at, _used_at)) = row else {
        tx.rollback().await?;
        return Ok(Rotation::Invalid);
    };
    if revoked_at.is_some() {
        tx.rollback().await?;
        return Ok(Rotation::Invalid);
    }
    if spent == 0 {
        // Either expired or already spent. A spent token presented again means
        // it leaked (or the client is confused): revoke the whole device.
        let expired: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NULL",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        if expired.is_some() {
            tx.rollback().await?;
            return Ok(Rotation::Invalid);
        }
        sqlx::query("UPDATE devices SET revoked_at = $2 WHERE device_id = $1")
            .bind(&device_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE device_id = $1")
            .bind(&device_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Rotation::Reused { device_id });
    }
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(new_hash)
    .bind(&device_id)
    .bind(now)
    .bind(new_expires_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE devices SET last_active_at = $2 WHERE device_id = $1")
        .bind(&device_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Rotation::Rotated { user_id, device_id })
}

/// Sets the shown name and, with `avatar`, the avatar (`Some(None)`
/// removes it; `Some(Some((file_id, url)))` sets it). A replaced avatar is
/// no one's any more: the upload sweeper removes it
/// ([`super::files::unattached_before`]).
pub async fn set_profile(
    db: &Db,
    user_id: &str,
    display_name: Option<&str>,
    avatar: Option<Option<(&str, &str)>>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET display_name = COALESCE($2, display_name) WHERE user_id = $1")
        .bind(user_id)
        .bind(display_name)
        .execute(&mut *tx)
        .await?;
    if let Some(avatar) = avatar {
        sqlx::query("UPDATE users SET avatar_file_id = $2, avatar_url = $3 WHERE user_id = $1")
            .bind(user_id)
            .bind(avatar.map(|a| a.0))
            .bind(avatar.map(|a| a.1))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Whether `file_id` is someone's avatar (every signed-in user may read it).
pub async fn is_avatar(db: &Db, file_id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM users WHERE avatar_file_id = $1")
        .bind(file_id)
        .fetch_optional(db.reader())
        .await?;
    Ok(row.is_some())
}

/// Marks the account deleted, in `tx`: no password works, the name and
/// picture go, every device is signed out; the row (and so the name) stays.
pub async fn mark_deleted(tx: &mut super::Tx, user_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET deleted_at = $2, deactivated_at = COALESCE(deactivated_at, $2), \
         display_name = 'Deleted user', password_hash = '', avatar_url = NULL, \
         avatar_file_id = NULL, is_admin = 0 WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    revoke_all_devices(tx, user_id, now).await
}

/// A device as its owner sees it.
#[derive(Debug, Clone, FromRow)]
pub struct DeviceRow {
    /// Id.
    pub device_id: String,
    /// The name it signed in with.
    pub name: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of its last token refresh.
    pub last_active_at: Option<i64>,
    /// Unix ms when it was signed out.
    pub revoked_at: Option<i64>,
}

/// Every device of the user (signed out ones too), newest first.
pub async fn devices_of(db: &Db, user_id: &str) -> Result<Vec<DeviceRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, name, created_at, last_active_at, revoked_at FROM devices \
         WHERE user_id = $1 ORDER BY created_at DESC, device_id",
    )
    .bind(user_id)
    .fetch_all(db.reader())
    .await
}

/// Deleted accounts some of whose messages are not tombstones yet (a
/// deletion a restart cut short).
pub async fn deletions_unfinished(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT u.user_id FROM users u WHERE u.deleted_at IS NOT NULL AND EXISTS \
         (SELECT 1 FROM messages m WHERE m.sender_id = u.user_id AND m.deleted_at IS NULL)",
    )
    .fetch_all(db.reader())
    .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// Which of `user_ids` are deactivated, read in the caller's transaction.
pub async fn deactivated_among(
    conn: &mut sqlx::AnyConnection,
    user_ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    super::text_among(
        conn,
        "SELECT user_name FROM users WHERE deactivated_at IS NOT NULL AND user_id IN ({in})",
        None,
        user_ids,
    )
    .await
}
