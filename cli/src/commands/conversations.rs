//! `react`, `pin`, `unpin`, and `@name` mentions for `send` and `edit`.
//!
//! Like sends, reactions and pins go to the durable outbox first and are
//! delivered by one foreground sync; offline they stay queued (a reaction
//! taken back before it was sent is simply withdrawn).

use leetchat_client::{Error as ClientError, MessageView};
use serde_json::json;

use super::messages::{QUEUED, deliver, drain, refusal};
use super::{Ctx, Reach, SYNC_WAIT};
use crate::error::{Error, Result};

/// Words after `@` that mention the whole room rather than one member.
const ROOM_WORDS: [&str; 3] = ["room", "everyone", "all"];

/// The members of `room_id` that `text` mentions as `@userName` (case does
/// not matter), each once in order, and whether it mentions the room
/// (`@room`, `@everyone`, `@all`). An `@word` naming nobody stays plain text.
pub fn mentions_in(ctx: &Ctx, room_id: &str, text: &str) -> Result<(Vec<String>, bool)> {
    let members = ctx
        .client
        .room(room_id)?
        .map(|r| r.members)
        .unwrap_or_default();
    let mut ids: Vec<String> = Vec::new();
    let mut room = false;
    for word in mentioned_words(text) {
        if ROOM_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
            room = true;
        } else if let Some(m) = members
            .iter()
            .find(|m| !m.user_name.is_empty() && m.user_name.eq_ignore_ascii_case(word))
            && !ids.contains(&m.user_id)
        {
            ids.push(m.user_id.clone());
        }
    }
    Ok((ids, room))
}

/// The words written as `@word` (letters, digits, `_`, `-`, `.`; a trailing
/// `.` is punctuation), not counting e-mail addresses (`a@b`).
fn mentioned_words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices('@') {
        let after_word = i > 0 && {
            let prev = text[..i].chars().next_back().unwrap_or(' ');
            prev.is_alphanumeric() || prev == '_'
        };
        if after_word {
            continue;
        }
        let rest = &text[i + 1..];
        let end = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(rest.len(), |(j, _)| j);
        let word = rest[..end].trim_end_matches('.');
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// The stored message `key` names; when it is not stored yet (it arrived
/// since the last sync), syncs once and looks again.
pub async fn target(ctx: &Ctx, key: &str) -> Result<MessageView> {
    match ctx.client.store().message_by_key(key) {
        Err(ClientError::NotFound(_)) => {
            ctx.sync(SYNC_WAIT).await?;
            Ok(ctx.client.store().message_by_key(key)?)
        }
        other => Ok(other?),
    }
}

/// `react MESSAGE EMOJI [--remove]`.
pub async fn react(ctx: &Ctx, key: &str, emoji: &str, add: bool) -> Result<()> {
    let target = target(ctx, key).await?;
    let mut events = ctx.client.events();
    let m = ctx.client.react(key, emoji, add)?;
    let reach = deliver(ctx, SYNC_WAIT).await?;
    if let Some(reason) = refusal(&mut events, &target) {
        return Err(Error::Refused(format!(
            "the server refused the reaction: {reason}"
        )));
    }
    let m = ctx.client.store().message_by_local_id(m.local_id)?;
    let done = if add { "reacted" } else { "reaction removed" };
    report(ctx, &reach, &m, &format!("{done}: {emoji}"))
}

/// `pin MESSAGE` / `unpin MESSAGE`.
pub async fn pin(ctx: &Ctx, key: &str, pin: bool) -> Result<()> {
    let target = target(ctx, key).await?;
    let mut events = ctx.client.events();
    ctx.client.pin(key, pin)?;
    let reach = deliver(ctx, SYNC_WAIT).await?;
    if let Some(reason) = refusal(&mut events, &target) {
        return Err(Error::Refused(format!(
            "the server refused to {}: {reason}",
            if pin { "pin" } else { "unpin" }
        )));
    }
    let _ = drain(&mut events);
    let room = ctx
        .client
        .room(&target.room_id)?
        .map(|r| r.pinned_message_ids)
        .unwrap_or_default();
    let value = json!({"roomId": target.room_id, "pinnedMessageIds": room});
    report(ctx, &reach, &value, if pin { "pinned" } else { "unpinned" })
}

/// Prints where a queued change stands: done, or queued while offline.
fn report<T: serde::Serialize>(ctx: &Ctx, reach: &Reach, value: &T, done: &str) -> Result<()> {
    match reach {
        Reach::Offline(reason) => {
            tracing::info!(%reason, "server unreachable; the change stays queued");
            if ctx.out.is_json() {
                ctx.out.note(QUEUED);
                ctx.out.json(value)
            } else {
                ctx.out.line(QUEUED)
            }
        }
        Reach::Online => ctx.out.result(value, done),
    }
}

#[cfg(test)]
mod tests {
    use super::mentioned_words;

    #[test]
    fn mentions_are_at_words_not_addresses() {
        assert_eq!(
            mentioned_words("@bob, see @Carol_2. and mail x@example.com @room!"),
            ["bob", "Carol_2", "room"]
        );
        assert_eq!(mentioned_words("@ alone, @@bob"), ["bob"]);
        assert!(mentioned_words("no mentions").is_empty());
    }
}
