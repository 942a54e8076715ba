//! Notification settings: each member's level and mute for a room (NULL
//! level: the user's default), and the user's default level.

use leetchat_protocol::events::NotifyLevel;
use sqlx::{Any, Executor, FromRow};

/// A member's notification settings for one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomSetting {
    /// The level set for the room; `None`: the user's default.
    pub level: Option<NotifyLevel>,
    /// Unix ms; `None`: not muted.
    pub mute_until: Option<i64>,
}

#[derive(FromRow)]
struct SettingRow {
    notify_level: Option<String>,
    mute_until: Option<i64>,
}

/// The caller's settings for a room, `None` when not a member.
pub async fn of_member<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    user_id: &str,
) -> Result<Option<RoomSetting>, sqlx::Error> {
    let row: Option<SettingRow> = sqlx::query_as(
        "SELECT notify_level, mute_until FROM room_members WHERE room_id = $1 AND user_id = $2",
    )
    .bind(room_id)
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    Ok(row.map(|r| RoomSetting {
        level: r.notify_level.as_deref().and_then(NotifyLevel::parse),
        mute_until: r.mute_until,
    }))
}

/// Sets a member's level (`None`: follow the default) and, when `mute` is
/// given, its mute. `false` when the user is not a member.
pub async fn set_room<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    user_id: &str,
    level: Option<NotifyLevel>,
    mute: Option<Option<i64>>,
) -> Result<bool, sqlx::Error> {
    let level = level.map(NotifyLevel::as_str);
    let r = match mute {
        Some(until) => {
            sqlx::query(
                "UPDATE room_members SET notify_level = $3, mute_until = $4
                 WHERE room_id = $1 AND user_id = $2",
            )
            .bind(room_id)
            .bind(user_id)
            .bind(level)
            .bind(until)
            .execute(e)
            .await?
        }
        None => {
            sqlx::query(
                "UPDATE room_members SET notify_level = $3 WHERE room_id = $1 AND user_id = $2",
            )
            .bind(room_id)
            .bind(user_id)
            .bind(level)
            .execute(e)
            .await?
        }
    };
    Ok(r.rows_affected() == 1)
}

/// The user's default level.
pub async fn default_of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: &str,
) -> Result<NotifyLevel, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT notify_default FROM users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(e)
            .await?;
    Ok(row
        .and_then(|(l,)| NotifyLevel::parse(&l))
        .unwrap_or_default())
}

/// Sets the user's default level.
pub async fn set_default<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: &str,
    level: NotifyLevel,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET notify_default = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(level.as_str())
        .execute(e)
        .await?;
    Ok(())
}
