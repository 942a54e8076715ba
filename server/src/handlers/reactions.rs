//! `reaction.add`, `reaction.remove` (protocol 9.2): each change takes the
//! room's next seq; adding one the caller has, or removing one it has not,
//! changes nothing, takes no seq and answers with the current reactions.

use std::sync::Arc;

use leetchat_protocol::events::{AddReaction, ReactionsAck, RemoveReaction};
use leetchat_protocol::text::check_emoji;
use leetchat_protocol::{MAX_REACTIONS_PER_USER, Message};

use super::messages::{message_for_member, require_member_in};
use crate::committer;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::session::Session;
use crate::state::AppState;
use crate::stream::{RoomEvent, StreamWrite};

/// Whether the request adds or removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Add,
    Remove,
}

/// `reaction.add`.
pub async fn add(state: &AppState, s: &Session, req: AddReaction) -> AppResult<ReactionsAck> {
    react(state, s, &req.message_id, &req.emoji, Change::Add).await
}

/// `reaction.remove`.
pub async fn remove(state: &AppState, s: &Session, req: RemoveReaction) -> AppResult<ReactionsAck> {
    react(state, s, &req.message_id, &req.emoji, Change::Remove).await
}

async fn react(
    state: &AppState,
    s: &Session,
    message_id: &str,
    emoji: &str,
    change: Change,
) -> AppResult<ReactionsAck> {
    check_emoji(emoji).map_err(AppError::invalid)?;
    let (m, _) = message_for_member(state, s, message_id).await?;
    if change == Change::Add && m.deleted_at.is_some() {
        return Err(AppError::conflict("a deleted message takes no reactions"));
    }
    // Nothing to change (the common double click): answer without a write.
    let has = db::reactions::has(state.db.reader(), message_id, emoji, &s.user_id).await?;
    if has == (change == Change::Add) {
        return current(state, message_id).await;
    }

    let job = Arc::new(ReactJob {
        user_id: s.user_id.clone(),
        message_id: message_id.to_owned(),
        emoji: emoji.to_owned(),
        change,
    });
    let (written, _) = committer::write(state, &m.room_id, Some(s.conn_id), move |w| {
        let job = job.clone();
        Box::pin(async move { job.write(w).await })
    })
    .await?;
    match written {
        Some(ack) => Ok(ack),
        // A concurrent request of the same user got there first: the seq
        // went back; answer with what is there.
        None => current(state, message_id).await,
    }
}

/// A checked reaction change, written in a group commit.
struct ReactJob {
    user_id: String,
    message_id: String,
    emoji: String,
    change: Change,
}

impl ReactJob {
    /// The change in the write that took its seq; `None` (and nothing
    /// recorded) when there was nothing to change.
    async fn write(&self, w: &mut StreamWrite<'_>) -> AppResult<Option<ReactionsAck>> {
        let (message_id, emoji, user_id) = (&self.message_id, &self.emoji, &self.user_id);
        require_member_in(w, user_id).await?;
        let changed = match self.change {
            Change::Add => {
                let live = db::messages::row(w.tx(), message_id)
                    .await?
                    .is_some_and(|r| r.deleted_at.is_none());
                if !live {
                    return Err(AppError::conflict("a deleted message takes no reactions"));
                }
                let n = db::reactions::count_of_user(w.tx(), message_id, user_id).await?;
                if n >= MAX_REACTIONS_PER_USER as i64 {
                    return Err(AppError::invalid(format!(
                        "at most {MAX_REACTIONS_PER_USER} different reactions per message"
                    )));
                }
                let seq = w.seq();
                db::reactions::add(w.tx(), message_id, emoji, user_id, seq).await?
            }
            Change::Remove => db::reactions::remove(w.tx(), message_id, emoji, user_id).await?,
        };
        if !changed {
            return Ok(None);
        }
        let message: Message = db::messages::load(w.tx(), message_id)
            .await?
            .ok_or_else(|| AppError::not_found("no such message"))?;
        let reactions = message.reactions.clone();
        let seq = w.seq();
        let (user_id, emoji) = (user_id.clone(), emoji.clone());
        w.record(match self.change {
            Change::Add => RoomEvent::ReactionAdded {
                message,
                user_id,
                emoji,
            },
            Change::Remove => RoomEvent::ReactionRemoved {
                message,
                user_id,
                emoji,
            },
        })
        .await?;
        Ok(Some(ReactionsAck {
            message_id: message_id.clone(),
            reactions,
            seq: Some(seq),
        }))
    }
}

/// The message's reactions as they are.
async fn current(state: &AppState, message_id: &str) -> AppResult<ReactionsAck> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(ReactionsAck {
        message_id: message_id.to_owned(),
        reactions: db::reactions::of_message(&mut conn, message_id).await?,
        seq: None,
    })
}
