//! `room.notify.set` and `notify.default.set`: the caller's notification
//! settings. They are the user's own, not the room's: they take no seq, and
//! go to the user's other connections (every device) as
//! `room.notify.updated` / `notify.default.updated`, so all of them notify
//! alike at once.

use leetchat_protocol::ServerPush;
use leetchat_protocol::events::{
    NotifyDefault, NotifyLevel, RoomNotify, SetNotifyDefault, SetRoomNotify,
};
use leetchat_protocol::time::{now_ms, parse_rfc3339, rfc3339};

use crate::db;
use crate::db::notify::RoomSetting;
use crate::error::{AppError, AppResult};
use crate::session::{Session, truncate};
use crate::state::AppState;

/// What a room's setting means for the user: the level in force, the mute.
pub fn room_notify(
    room_id: &str,
    setting: RoomSetting,
    default: NotifyLevel,
    now: i64,
) -> RoomNotify {
    RoomNotify {
        room_id: room_id.to_owned(),
        level: setting.level.unwrap_or(default),
        mute_until: setting.mute_until.filter(|t| *t > now).map(rfc3339),
        follows_default: setting.level.is_none(),
    }
}

/// `room.notify.set`: a level (or the default) and, when given, a mute.
pub async fn set_room(state: &AppState, s: &Session, req: SetRoomNotify) -> AppResult<RoomNotify> {
    let now = now_ms();
    let mute = match &req.mute_until {
        None => None,
        Some(None) => Some(None),
        Some(Some(t)) => {
            let until = parse_rfc3339(t).ok_or_else(|| {
                AppError::invalid(format!(
                    "muteUntil must be an RFC 3339 time, got {:?}",
                    truncate(t, 64)
                ))
            })?;
            // A time already past unmutes.
            Some((until > now).then_some(until))
        }
    };
    let level = req.level.level();
    if !db::notify::set_room(state.db.writer(), &req.room_id, &s.user_id, level, mute).await? {
        return Err(AppError::not_member());
    }
    let setting = db::notify::of_member(state.db.writer(), &req.room_id, &s.user_id)
        .await?
        .ok_or_else(AppError::not_member)?;
    let default = db::notify::default_of(state.db.writer(), &s.user_id).await?;
    let ack = room_notify(&req.room_id, setting, default, now);
    state.push(
        vec![s.user_id.clone()],
        Some(s.conn_id),
        &ServerPush::RoomNotifyUpdated(ack.clone()),
    );
    Ok(ack)
}

/// `notify.default.set` (extension): the level of every room without one.
pub async fn set_default(
    state: &AppState,
    s: &Session,
    req: SetNotifyDefault,
) -> AppResult<NotifyDefault> {
    db::notify::set_default(state.db.writer(), &s.user_id, req.level).await?;
    let ack = NotifyDefault { level: req.level };
    state.push(
        vec![s.user_id.clone()],
        Some(s.conn_id),
        &ServerPush::NotifyDefaultUpdated(ack),
    );
    Ok(ack)
}
