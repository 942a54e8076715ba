//! Notification settings in the store (protocol 9.5), as the server last
//! said them: each room's level (NULL: the user's default) and mute, and
//! the default itself. `room.list` writes them all; `room.notify.updated`
//! and `notify.default.updated` pushes change them as other devices do.

use leetchat_protocol::events::{NotifyLevel, RoomNotify};
use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::Result;

/// The meta key of the user's default level.
const DEFAULT_KEY: &str = "notify_default";

/// A room's settings as a UI needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSettings {
    /// The level in force.
    pub level: NotifyLevel,
    /// Muted until then (RFC 3339).
    pub mute_until: Option<String>,
    /// The level is the user's default.
    pub follows_default: bool,
}

impl Store {
    /// Stores what the server says of a room's settings.
    pub fn set_room_notify(&self, n: &RoomNotify) -> Result<()> {
        let level = (!n.follows_default).then(|| n.level.as_str());
        self.conn().execute(
            "UPDATE rooms SET notify_level = ?2, mute_until = ?3 WHERE room_id = ?1",
            params![n.room_id, level, n.mute_until],
        )?;
        Ok(())
    }

    /// Stores the user's default level.
    pub fn set_notify_default(&self, level: NotifyLevel) -> Result<()> {
        self.set_meta(DEFAULT_KEY, level.as_str())
    }

    /// The user's default level (`all` until the server says otherwise).
    pub fn notify_default(&self) -> Result<NotifyLevel> {
        Ok(self
            .meta(DEFAULT_KEY)?
            .as_deref()
            .and_then(NotifyLevel::parse)
            .unwrap_or_default())
    }

    /// A room's settings (the defaults for a room that is not stored).
    pub fn room_settings(&self, room_id: &str) -> Result<RoomSettings> {
        let default = self.notify_default()?;
        let row: Option<(Option<String>, Option<String>)> = self
            .conn()
            .query_row(
                "SELECT notify_level, mute_until FROM rooms WHERE room_id = ?1",
                [room_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (level, mute_until) = row.unwrap_or((None, None));
        let set = level.as_deref().and_then(NotifyLevel::parse);
        Ok(RoomSettings {
            level: set.unwrap_or(default),
            mute_until,
            follows_default: set.is_none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_room() -> Store {
        let s = Store::in_memory().expect("store");
        s.conn()
            .execute(
                "INSERT INTO rooms (room_id, room_type, name, description, is_private, created_by, created_at, last_seq, activity_at)
                 VALUES ('r', 'group', 'r', '', 0, 'me', '', 0, '')",
                [],
            )
            .expect("room");
        s
    }

    #[test]
    fn a_room_follows_the_default_until_it_is_set_and_again_after() {
        let s = store_with_room();
        assert_eq!(s.room_settings("r").unwrap().level, NotifyLevel::All);
        s.set_notify_default(NotifyLevel::Mentions).unwrap();
        let r = s.room_settings("r").unwrap();
        assert_eq!((r.level, r.follows_default), (NotifyLevel::Mentions, true));
        s.set_room_notify(&RoomNotify {
            room_id: "r".into(),
            level: NotifyLevel::None,
            mute_until: Some("2099-01-01T00:00:00.000Z".into()),
            follows_default: false,
        })
        .unwrap();
        s.set_notify_default(NotifyLevel::All).unwrap();
        let r = s.room_settings("r").unwrap();
        assert_eq!((r.level, r.follows_default), (NotifyLevel::None, false));
        assert_eq!(r.mute_until.as_deref(), Some("2099-01-01T00:00:00.000Z"));
        s.set_room_notify(&RoomNotify {
            room_id: "r".into(),
            level: NotifyLevel::All,
            mute_until: None,
            follows_default: true,
        })
        .unwrap();
        s.set_notify_default(NotifyLevel::Mentions).unwrap();
        let r = s.room_settings("r").unwrap();
        assert_eq!((r.level, r.follows_default), (NotifyLevel::Mentions, true));
        assert_eq!(r.mute_until, None);
    }
}
