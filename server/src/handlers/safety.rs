//! `user.block`, `user.unblock`, `user.blocks` and `message.report`
//! (protocol 9.8): what one person does to keep someone away, and to tell
//! the server's admins.
//!
//! A block is the blocker's own state: it takes no room seq and goes to the
//! blocker's other devices as `user.blocks.updated`. Its effects are kept
//! where they happen: a direct room ([`super::rooms`], [`super::messages`]),
//! typing ([`super::typing`]), presence ([`crate::presence`],
//! [`super::presence`]) and Web Push ([`crate::push`]).

use leetchat_protocol::ServerPush;
use leetchat_protocol::events::{
    Block, BlockList, BlockUser, Empty, ListBlocks, ReportMessage, UnblockUser,
};
use leetchat_protocol::time::{now_ms, rfc3339};

use super::community::check_reason;
use super::messages::message_for_member;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::session::Session;
use crate::state::AppState;

/// Most users one person may block.
pub const MAX_BLOCKS: usize = 10_000;

/// The other member of a direct room, when `me` is one of its two.
pub(crate) fn direct_peer<'a>(room_id: &'a str, me: &str) -> Option<&'a str> {
    let (a, b) = room_id.strip_prefix("direct_")?.split_once('_')?;
    if a == me {
        Some(b)
    } else if b == me {
        Some(a)
    } else {
        None
    }
}

async fn block_list(state: &AppState, user_id: &str) -> AppResult<BlockList> {
    let blocks = db::moderation::blocks_of(&state.db, user_id)
        .await?
        .into_iter()
        .map(|(user_id, at)| Block {
            user_id,
            blocked_at: rfc3339(at),
        })
        .collect();
    Ok(BlockList { blocks })
}

/// Tells the caller's other devices.
fn announce(state: &AppState, s: &Session, list: &BlockList) {
    state.push(
        vec![s.user_id.clone()],
        Some(s.conn_id),
        &ServerPush::UserBlocksUpdated(list.clone()),
    );
}

/// `user.block`: acks the caller's blocked list (blocking again changes
/// nothing).
pub async fn block(state: &AppState, s: &Session, req: BlockUser) -> AppResult<BlockList> {
    if req.user_id == s.user_id {
        return Err(AppError::invalid("you cannot block yourself"));
    }
    super::user_or_not_found(state, &req.user_id).await?;
    let before = db::moderation::blocks_of(&state.db, &s.user_id).await?;
    if before.iter().any(|(u, _)| *u == req.user_id) {
        return block_list(state, &s.user_id).await;
    }
    if before.len() >= MAX_BLOCKS {
        return Err(AppError::invalid(format!(
            "you can block at most {MAX_BLOCKS} users"
        )));
    }
    db::moderation::block(&state.db, &s.user_id, &req.user_id, now_ms()).await?;
    let list = block_list(state, &s.user_id).await?;
    announce(state, s, &list);
    Ok(list)
}

/// `user.unblock`: acks the caller's blocked list.
pub async fn unblock(state: &AppState, s: &Session, req: UnblockUser) -> AppResult<BlockList> {
    let was = db::moderation::is_blocked(state.db.reader(), &s.user_id, &req.user_id).await?;
    if !was {
        return block_list(state, &s.user_id).await;
    }
    db::moderation::unblock(&state.db, &s.user_id, &req.user_id).await?;
    let list = block_list(state, &s.user_id).await?;
    announce(state, s, &list);
    Ok(list)
}

/// `user.blocks`.
pub async fn blocks(state: &AppState, s: &Session, _: ListBlocks) -> AppResult<BlockList> {
    block_list(state, &s.user_id).await
}

/// `message.report`: a member of the message's room reports it to the
/// server's admins (`leetchat-server admin reports`). One report per user
/// and message: reporting again acks and keeps the first.
pub async fn report(state: &AppState, s: &Session, req: ReportMessage) -> AppResult<Empty> {
    let Some(reason) = check_reason(Some(&req.reason))? else {
        return Err(AppError::invalid(
            "say what is wrong with the message (reason)",
        ));
    };
    let (m, _) = message_for_member(state, s, &req.message_id).await?;
    if m.sender_id == s.user_id {
        return Err(AppError::invalid("you cannot report your own message"));
    }
    let created = db::moderation::report(
        &state.db,
        &m.message_id,
        &m.room_id,
        &m.sender_id,
        &s.user_id,
        &reason,
        &m.content,
        now_ms(),
    )
    .await?;
    if created {
        tracing::info!(message_id = %m.message_id, reporter = %s.user_id, "message reported");
    }
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_of_a_direct_room_is_the_other_id() {
        assert_eq!(direct_peer("direct_a1_b2", "a1"), Some("b2"));
        assert_eq!(direct_peer("direct_a1_b2", "b2"), Some("a1"));
        assert_eq!(direct_peer("direct_a1_b2", "c3"), None);
        assert_eq!(direct_peer("0193-group", "a1"), None);
    }
}
