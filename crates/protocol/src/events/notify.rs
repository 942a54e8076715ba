//! Notification settings (protocol 9.5): a level and a mute per user and
//! room, the user's default level (extension), and the one rule that says
//! whether a message notifies, which the server (Web Push) and clients
//! (desktop notifications) share, so they never disagree.

use serde::{Deserialize, Deserializer, Serialize};

/// How much of a room notifies a user.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    /// Every message from someone else (the default).
    #[default]
    All,
    /// Messages that mention the user or the whole room.
    Mentions,
    /// Nothing.
    None,
}

impl NotifyLevel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyLevel::All => "all",
            NotifyLevel::Mentions => "mentions",
            NotifyLevel::None => "none",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<NotifyLevel> {
        match s {
            "all" => Some(NotifyLevel::All),
            "mentions" => Some(NotifyLevel::Mentions),
            "none" => Some(NotifyLevel::None),
            _ => None,
        }
    }
}

/// What `room.notify.set` may ask for: a level, or (extension) `default`,
/// to follow the user's default level again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyChoice {
    /// Every message.
    All,
    /// Mentions only.
    Mentions,
    /// Nothing.
    None,
    /// Extension: the user's default level, whatever it is now or later.
    Default,
}

impl NotifyChoice {
    /// The level chosen, `None` for `default`.
    pub fn level(self) -> Option<NotifyLevel> {
        match self {
            NotifyChoice::All => Some(NotifyLevel::All),
            NotifyChoice::Mentions => Some(NotifyLevel::Mentions),
            NotifyChoice::None => Some(NotifyLevel::None),
            NotifyChoice::Default => None,
        }
    }
}

/// Reads a field that may be absent (outer `None`), `null` (`Some(None)`)
/// or a value.
pub(crate) fn absent_null_or<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `room.notify.set` (v1.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetRoomNotify {
    /// The room.
    pub room_id: String,
    /// `all`, `mentions`, `none`, or (extension) `default`.
    pub level: NotifyChoice,
    /// Absent: the mute stays as it is; `null`: not muted; a time (RFC
    /// 3339): muted until then (a time already past unmutes).
    #[serde(
        default,
        deserialize_with = "absent_null_or",
        skip_serializing_if = "Option::is_none"
    )]
    pub mute_until: Option<Option<String>>,
}

/// Ack of `room.notify.set`, and the push `room.notify.updated` to the
/// user's other connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomNotify {
    /// The room.
    pub room_id: String,
    /// The level in force (the user's default when it follows it).
    pub level: NotifyLevel,
    /// Muted until then (RFC 3339); `null` when not muted.
    pub mute_until: Option<String>,
    /// Extension: the room follows the user's default level.
    #[serde(default)]
    pub follows_default: bool,
}

/// `notify.default.set` (extension): the level of every room the user has
/// not set one for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetNotifyDefault {
    /// The level.
    pub level: NotifyLevel,
}

/// Ack of `notify.default.set`, and the push `notify.default.updated` to
/// the user's other connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyDefault {
    /// The user's default level now.
    pub level: NotifyLevel,
}

/// What the notification rule needs to know about one message for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notifiable {
    /// The user sent it (from any device).
    pub own: bool,
    /// It mentions the user, or the whole room.
    pub mentions_me: bool,
    /// It is deleted already.
    pub deleted: bool,
}

/// Whether a new message notifies a user whose room is at `level`, muted
/// until `mute_until_ms` (Unix ms, `None`: not muted), at `now_ms`: never
/// the user's own, never a deleted one, never while muted; at `mentions`
/// only a mention of the user or the room; nothing at `none`.
pub fn notifies(
    level: NotifyLevel,
    mute_until_ms: Option<i64>,
    now_ms: i64,
    m: Notifiable,
) -> bool {
    if m.own || m.deleted || mute_until_ms.is_some_and(|t| t > now_ms) {
        return false;
    }
    match level {
        NotifyLevel::All => true,
        NotifyLevel::Mentions => m.mentions_me,
        NotifyLevel::None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTHER: Notifiable = Notifiable {
        own: false,
        mentions_me: false,
        deleted: false,
    };
    const MENTION: Notifiable = Notifiable {
        own: false,
        mentions_me: true,
        deleted: false,
    };

    #[test]
    fn levels_mute_and_own_messages_decide() {
        let (all, mentions, none) = (NotifyLevel::All, NotifyLevel::Mentions, NotifyLevel::None);
        assert!(notifies(all, None, 10, OTHER));
        assert!(!notifies(mentions, None, 10, OTHER));
        assert!(notifies(mentions, None, 10, MENTION));
        assert!(!notifies(none, None, 10, MENTION));
        // Muted until later: nothing, not even a mention; a past mute is over.
        assert!(!notifies(all, Some(11), 10, MENTION));
        assert!(notifies(all, Some(10), 10, OTHER));
        let own = Notifiable {
            own: true,
            ..MENTION
        };
        assert!(!notifies(all, None, 10, own));
        let gone = Notifiable {
            deleted: true,
            ..OTHER
        };
        assert!(!notifies(all, None, 10, gone));
    }

    #[test]
    fn a_mute_can_be_absent_null_or_a_time() {
        let absent: SetRoomNotify =
            serde_json::from_str(r#"{"roomId":"r","level":"all"}"#).expect("json");
        assert_eq!(absent.mute_until, None);
        let null: SetRoomNotify =
            serde_json::from_str(r#"{"roomId":"r","level":"mentions","muteUntil":null}"#)
                .expect("json");
        assert_eq!(null.mute_until, Some(None));
        let time: SetRoomNotify = serde_json::from_str(
            r#"{"roomId":"r","level":"default","muteUntil":"2030-01-01T00:00:00.000Z"}"#,
        )
        .expect("json");
        assert_eq!(
            time.mute_until,
            Some(Some("2030-01-01T00:00:00.000Z".into()))
        );
        assert_eq!(time.level.level(), None);
        assert!(serde_json::from_str::<SetRoomNotify>(r#"{"roomId":"r","level":"loud"}"#).is_err());
    }
}
