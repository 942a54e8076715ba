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
}

impl UserRow {
    /// The wire shape (no hash, no last seen).
    pub fn to_user(&self) -> User {
        User {
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            display_name: self.display_name.clone(),
            avatar_url: self.avatar_url.clone(),
        }
    }
}

const USER_COLS: &str = "user_id, user_name, display_name, avatar_url, password_hash, last_seen";

/// Inserts a user; `Ok(None)` when the name is taken.
pub async fn create(
    db: &Db,
    user_name: &str,
    display_name: &str,
    password_hash: &str,
    now: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    let id = new_id();
    let r = sqlx::query(
        "INSERT INTO users (user_id, user_name, user_name_key, display_name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(user_name)
    .bind(user_name.to_lowercase())
    .bind(display_name)
    .bind(password_hash)
    .bind(now)
    .execute(db.writer())
    .await;
    match r {
        Ok(_) => Ok(Some(UserRow {
            user_id: id,
            user_name: user_name.to_owned(),
            display_name: display_name.to_owned(),
            avatar_url: None,
            password_hash: password_hash.to_owned(),
            last_seen: None,
        })),
        Err(e) if crate::error::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
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

/// Creates a device for a sign-in, with its first refresh token (stored hashed).
pub async fn create_device(
    db: &Db,
    user_id: &str,
    name: &str,
    refresh_hash: &str,
    now: i64,
    refresh_expires_at: i64,
) -> Result<String, sqlx::Error> {
    let device_id = new_id();
    let mut tx = db.begin().await?;
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
    Ok(device_id)
}

/// Whether the device exists, belongs to the user and is not revoked.
pub async fn device_active(db: &Db, user_id: &str, device_id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM devices WHERE device_id = $1 AND user_id = $2 AND revoked_at IS NULL",
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
         WHERE d.device_id = $1 AND d.user_id = $2 AND d.revoked_at IS NULL",
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
    let row: Option<(String, String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT d.device_id, d.user_id, d.revoked_at, t.used_at
         FROM refresh_tokens t JOIN devices d ON d.device_id = t.device_id
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
    tx.commit().await?;
    Ok(Rotation::Rotated { user_id, device_id })
}
