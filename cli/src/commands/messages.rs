//! `send`, `edit`, `delete`, `history`, `search` and `sync`.
//!
//! Changes go to the durable outbox first (so they survive a closed laptop),
//! then one foreground sync tries to deliver them. An unreachable server is
//! not an error: the change stays queued for the next connection.

use std::time::Duration;

use leetchat_client::{ClientEvent, Delivery, Draft, Error as ClientError, MessageView};
use leetchat_protocol::MessageType;
use serde_json::json;
use tokio::sync::broadcast;

use super::rooms::live;
use super::{Ctx, Reach, SYNC_WAIT};
use crate::error::{Error, Result};

/// What `send`, `edit` and `delete` say when the server is out of reach.
pub const QUEUED: &str = "queued (offline): will be sent on the next connection";

/// `sync` may take longer than a send: it catches up every room.
const SYNC_COMMAND_WAIT: Duration = Duration::from_secs(60);

/// `send ROOM TEXT [--reply-to MESSAGE]`: `@name` mentions that member of
/// the room, `@room` (or `@everyone`) the whole room.
pub async fn send(ctx: &Ctx, room: &str, text: &str, reply_to: Option<&str>) -> Result<()> {
    let room = ctx.room_id(room, true).await?;
    if let Some(key) = reply_to {
        super::conversations::target(ctx, key).await?;
    }
    let (mentions, mentions_room) = super::conversations::mentions_in(ctx, &room, text)?;
    let draft = Draft {
        content: text.to_owned(),
        reply_to: reply_to.map(str::to_owned),
        mentions,
        mentions_room,
    };
    let queued = ctx.client.send_draft(&room, &draft, MessageType::Text)?;
    let reach = deliver(ctx, SYNC_WAIT).await?;
    let m = ctx.client.store().message_by_local_id(queued.local_id)?;
    settle(ctx, &m, &reach, "sent")
}

/// `edit MESSAGE TEXT`.
pub async fn edit(ctx: &Ctx, key: &str, text: &str) -> Result<()> {
    let target = ctx.client.store().message_by_key(key)?;
    let mut events = ctx.client.events();
    let (mentions, _) = super::conversations::mentions_in(ctx, &target.room_id, text)?;
    let edited = ctx.client.edit_with_mentions(key, text, Some(&mentions))?;
    let reach = deliver(ctx, SYNC_WAIT).await?;
    if let Some(reason) = refusal(&mut events, &target) {
        return Err(Error::Refused(format!(
            "the server refused the edit: {reason}"
        )));
    }
    let m = ctx.client.store().message_by_local_id(edited.local_id)?;
    settle(ctx, &m, &reach, "edited")
}

/// `delete MESSAGE`.
pub async fn delete(ctx: &Ctx, key: &str) -> Result<()> {
    let target = ctx.client.store().message_by_key(key)?;
    let mut events = ctx.client.events();
    ctx.client.delete(key)?;
    let withdrawn = drain(&mut events).into_iter().any(|e| {
        matches!(e, ClientEvent::MessageRemoved { local_id, .. } if local_id == target.local_id)
    });
    if withdrawn {
        // It had never been sent: it is simply gone, nothing to deliver.
        return ctx.out.result(
            &json!({"localId": target.local_id, "withdrawn": true}),
            "deleted (it had not been sent yet)",
        );
    }
    let reach = deliver(ctx, SYNC_WAIT).await?;
    if let Some(reason) = refusal(&mut events, &target) {
        return Err(Error::Refused(format!(
            "the server refused the delete: {reason}"
        )));
    }
    let m = ctx.client.store().message_by_local_id(target.local_id)?;
    settle(ctx, &m, &reach, "deleted")
}

/// Tries to deliver the outbox now, waiting at most `wait`; an error other
/// than "unreachable" is reported with a reminder that the change is still
/// queued.
pub(super) async fn deliver(ctx: &Ctx, wait: Duration) -> Result<Reach> {
    ctx.sync(wait).await.inspect_err(|_| {
        ctx.out.note(
            "the change is kept in the outbox; `leetchat sync` sends it once the problem is fixed",
        );
    })
}

/// Reports where a change stands after a delivery attempt.
pub(super) fn settle(ctx: &Ctx, m: &MessageView, reach: &Reach, done: &str) -> Result<()> {
    match (m.delivery, reach) {
        (Delivery::Failed, _) => {
            if ctx.out.is_json() {
                ctx.out.json(m)?;
            }
            Err(Error::Refused(format!(
                "the server refused the message: {}",
                m.error.as_deref().unwrap_or("no reason given")
            )))
        }
        (_, Reach::Offline(reason)) => {
            tracing::info!(%reason, "server unreachable; the change stays queued");
            if ctx.out.is_json() {
                ctx.out.note(QUEUED);
                ctx.out.json(m)
            } else {
                ctx.out.line(QUEUED)
            }
        }
        (Delivery::Pending, Reach::Online) => {
            let note = "queued: the server asked to wait; will be sent on the next connection";
            if ctx.out.is_json() {
                ctx.out.note(note);
                ctx.out.json(m)
            } else {
                ctx.out.line(note)
            }
        }
        (Delivery::Sent | Delivery::Read, Reach::Online) => ctx.out.result(m, done),
    }
}

/// Every event received so far.
pub(super) fn drain(events: &mut broadcast::Receiver<ClientEvent>) -> Vec<ClientEvent> {
    let mut out = Vec::new();
    loop {
        match events.try_recv() {
            Ok(e) => out.push(e),
            Err(broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => return out,
        }
    }
}

/// Why the server refused a queued edit or delete of `target`, if it did.
/// (A refused edit or delete is undone in the store, so the message alone
/// does not tell.)
pub(super) fn refusal(
    events: &mut broadcast::Receiver<ClientEvent>,
    target: &MessageView,
) -> Option<String> {
    drain(events).into_iter().find_map(|e| match e {
        ClientEvent::OutboxFailed {
            temp_id, reason, ..
        } if Some(&temp_id) == target.message_id.as_ref()
            || Some(&temp_id) == target.temp_id.as_ref() =>
        {
            Some(reason)
        }
        _ => None,
    })
}

/// `history ROOM --limit N`.
pub async fn history(ctx: &Ctx, room: &str, limit: u32) -> Result<()> {
    let reach = ctx.sync_or_note().await?;
    let room = ctx.room_id(room, false).await?;
    let want = i64::from(limit);
    if reach == Reach::Online && numbered(ctx, &room, want)? < want {
        let has_older = ctx.client.room(&room)?.is_some_and(|r| r.has_older);
        if has_older {
            match live(ctx, fill(ctx, &room, want)).await {
                Ok(()) => {}
                Err(Error::Offline { .. } | Error::Client(ClientError::Offline)) => {
                    ctx.out.note("offline: older messages could not be fetched");
                }
                Err(e) => return Err(e),
            }
        }
    }
    let names = ctx.names()?;
    for m in ctx.client.messages(&room, None, want)? {
        ctx.out.message(&m, &names)?;
    }
    Ok(())
}

/// How many of the newest `want` stored messages the server has numbered.
fn numbered(ctx: &Ctx, room: &str, want: i64) -> Result<i64> {
    let stored = ctx.client.messages(room, None, want)?;
    Ok(stored.iter().filter(|m| m.seq.is_some()).count() as i64)
}

/// Fetches older pages until `want` messages are stored or none are left.
async fn fill(ctx: &Ctx, room: &str, want: i64) -> leetchat_client::Result<()> {
    loop {
        let have = ctx
            .client
            .messages(room, None, want)?
            .iter()
            .filter(|m| m.seq.is_some())
            .count() as i64;
        let more = ctx.client.room(room)?.is_some_and(|r| r.has_older);
        if have >= want || !more {
            return Ok(());
        }
        let page = u32::try_from(want - have).unwrap_or(u32::MAX);
        if ctx.client.load_older(room, page).await? == 0 {
            return Ok(());
        }
    }
}

/// How `search` searches.
pub struct SearchArgs<'a> {
    /// Only this room.
    pub room: Option<&'a str>,
    /// Ask the server too.
    pub remote: bool,
    /// Results per page.
    pub limit: u32,
    /// A cursor from an earlier page.
    pub before: Option<&'a str>,
}

/// `search TEXT [--room ROOM] [--remote]`: the store's matches, newest
/// first; with `--remote` the server's merged in.
pub async fn search(ctx: &Ctx, text: &str, how: SearchArgs<'_>) -> Result<()> {
    let room = match how.room {
        Some(r) => Some(ctx.room_id(r, how.remote).await?),
        None => None,
    };
    let (hits, next) = if how.remote {
        let page = match live(
            ctx,
            ctx.client
                .search_messages(text, room.as_deref(), how.before, how.limit),
        )
        .await
        {
            Ok(page) => {
                if !page.from_server {
                    ctx.out
                        .note("the server could not be reached: showing stored messages only");
                }
                page
            }
            Err(Error::Offline { reason, .. }) if how.before.is_none() => {
                ctx.out
                    .note(&format!("offline ({reason}): showing stored messages only"));
                let hits = ctx.client.search(text, room.as_deref(), how.limit)?;
                leetchat_client::SearchPage {
                    results: hits,
                    next_cursor: None,
                    from_server: false,
                }
            }
            Err(e) => return Err(e),
        };
        (page.results, page.next_cursor)
    } else {
        (ctx.client.search(text, room.as_deref(), how.limit)?, None)
    };
    let rooms = ctx.client.rooms()?;
    let names = crate::output::Names::of_rooms(&rooms);
    if hits.is_empty() && !ctx.out.is_json() {
        ctx.out.note(if how.remote {
            "no message matches"
        } else {
            "no stored message matches (--remote searches everything on the server)"
        });
    }
    for m in &hits {
        if ctx.out.is_json() {
            ctx.out.json(m)?;
        } else {
            let room = rooms
                .iter()
                .find(|r| r.room_id == m.room_id)
                .map_or(m.room_id.as_str(), |r| r.name.as_str());
            ctx.out.line(&format!(
                "{room}  {}",
                crate::output::message_line(m, &names, ctx.out.offset())
            ))?;
        }
    }
    if let Some(c) = next {
        ctx.out.note(&format!("more: --remote --before {c}"));
    }
    Ok(())
}

/// `sync`: connect, send the outbox, catch up, exit.
pub async fn sync(ctx: &Ctx) -> Result<()> {
    let mut events = ctx.client.events();
    match ctx.sync(SYNC_COMMAND_WAIT).await? {
        Reach::Online => {
            let mut refused = 0;
            for e in drain(&mut events) {
                if let ClientEvent::OutboxFailed {
                    room_id,
                    temp_id,
                    reason,
                } = e
                {
                    refused += 1;
                    ctx.out
                        .note(&format!("refused: {temp_id} in {room_id}: {reason}"));
                }
            }
            let left = ctx.client.outbox_len()?;
            ctx.out.result(
                &json!({"synced": true, "outbox": left, "refused": refused}),
                &format!("synced; outbox: {left} left"),
            )?;
            if refused > 0 {
                return Err(Error::Refused(format!(
                    "the server refused {refused} queued change(s), listed above"
                )));
            }
            Ok(())
        }
        Reach::Offline(reason) => Err(Error::Offline {
            server: ctx.client.server().to_owned(),
            reason: format!(
                "{reason}; outbox: {} left for the next connection",
                ctx.client.outbox_len()?
            ),
        }),
    }
}
