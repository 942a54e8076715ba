//! `notify ROOM LEVEL [--mute DURATION | --unmute]` and `notify --default
//! LEVEL`: when rooms notify the user, set once for every device (protocol
//! 9.5); and `read ROOM`, which clears a room's unread count and
//! notifications on every device. Both need the server: settings and read
//! pointers are the server's, so every device agrees the moment they change.

use std::time::Duration;

use leetchat_protocol::events::{NotifyChoice, NotifyLevel};
use leetchat_protocol::time::{now_ms, rfc3339};

use super::Ctx;
use super::rooms::live;
use crate::error::{Error, Result};
use crate::output::notify_summary;

/// "Until I unmute": the furthest time RFC 3339 with four-digit years can say.
pub const FOREVER: &str = "9999-12-31T23:59:59.999Z";

fn choice(level: &str) -> Result<NotifyChoice> {
    match level {
        "all" => Ok(NotifyChoice::All),
        "mentions" => Ok(NotifyChoice::Mentions),
        "none" => Ok(NotifyChoice::None),
        "default" => Ok(NotifyChoice::Default),
        other => Err(Error::Usage(format!(
            "level must be all, mentions, none or default, not {other:?}"
        ))),
    }
}

/// `--mute DURATION` as the time the mute ends.
fn mute_until(duration: &str) -> Result<String> {
    if duration == "forever" {
        return Ok(FOREVER.to_owned());
    }
    let d: Duration = humantime::parse_duration(duration).map_err(|e| {
        Error::Usage(format!(
            "--mute takes a duration such as 1h, 8h or 7d, or forever ({e})"
        ))
    })?;
    let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    Ok(rfc3339(now_ms().saturating_add(ms)))
}

/// `notify ROOM [LEVEL] [--mute D | --unmute]`: without a level, the room's
/// level stays as it is (`default` when it followed the default).
pub async fn set_room(
    ctx: &Ctx,
    room: &str,
    level: Option<&str>,
    mute: Option<&str>,
    unmute: bool,
) -> Result<()> {
    let room_id = ctx.room_id(room, true).await?;
    let current = ctx.client.room(&room_id)?;
    let level = match (level, &current) {
        (Some(l), _) => choice(l)?,
        (None, Some(r)) if r.notify_follows_default => NotifyChoice::Default,
        (None, Some(r)) => choice(r.notify_level.as_str())?,
        (None, None) => NotifyChoice::Default,
    };
    if mute.is_none() && !unmute && level_unchanged(level, current.as_ref()) {
        return Err(Error::Usage(
            "give a level (all, mentions, none, default), --mute DURATION or --unmute".into(),
        ));
    }
    let mute_until = match (mute, unmute) {
        (Some(d), _) => Some(Some(mute_until(d)?)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let room = live(ctx, ctx.client.set_room_notify(&room_id, level, mute_until)).await?;
    ctx.out.result(
        &room,
        &format!("{}: {}", room.name, notify_summary(&room, ctx.out.offset())),
    )
}

fn level_unchanged(level: NotifyChoice, current: Option<&leetchat_client::RoomView>) -> bool {
    match current {
        Some(r) if r.notify_follows_default => level == NotifyChoice::Default,
        Some(r) => level.level() == Some(r.notify_level),
        None => false,
    }
}

/// `notify --default LEVEL`.
pub async fn set_default(ctx: &Ctx, level: &str) -> Result<()> {
    let level = NotifyLevel::parse(level).ok_or_else(|| {
        Error::Usage(format!(
            "the default level must be all, mentions or none, not {level:?}"
        ))
    })?;
    let level = live(ctx, ctx.client.set_notify_default(level)).await?;
    ctx.out.result(
        &serde_json::json!({ "notifyDefault": level }),
        &format!("default: {}", level.as_str()),
    )
}

/// `read ROOM`: the read pointer to the room's newest message.
pub async fn read(ctx: &Ctx, room: &str) -> Result<()> {
    let room_id = ctx.room_id(room, true).await?;
    // Live means caught up: the newest stored message is the server's.
    let result = live(ctx, async {
        let last = ctx.client.room(&room_id)?.map_or(0, |r| r.last_seq);
        ctx.client.mark_read(&room_id, last).await?;
        ctx.client.room(&room_id)
    })
    .await?;
    let Some(room) = result else {
        return Err(Error::Usage(format!("no room {room:?}")));
    };
    ctx.out.result(
        &room,
        &format!(
            "{}: read up to {}, {} unread",
            room.name, room.my_read_seq, room.unread_count
        ),
    )
}
