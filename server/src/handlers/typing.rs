//! `typing.start` / `typing.stop`. The table of who is typing, and the stops
//! the server announces itself, are [`crate::typists`].

use leetchat_protocol::events::{Empty, TypingStart, TypingStop};

use super::require_member;
use crate::db;
use crate::error::AppResult;
use crate::session::Session;
use crate::state::AppState;
use crate::typists::typing_push;

/// `typing.start`: pushes `isTyping: true` once; renewals only extend it.
pub async fn start(state: &AppState, s: &Session, req: TypingStart) -> AppResult<Empty> {
    require_member(state, &req.room_id, &s.user_id).await?;
    if state
        .typing
        .start(&req.room_id, &s.user_id, &s.user_name, s.conn_id)
    {
        let mut members = db::rooms::member_ids(state.db.reader(), &req.room_id).await?;
        // Whoever blocked the typist does not see it type.
        let blockers = db::moderation::blockers_of(state.db.reader(), &s.user_id).await?;
        members.retain(|m| !blockers.contains(m));
        let push = typing_push(&req.room_id, &s.user_id, &s.user_name, true);
        state.push(members, Some(s.conn_id), &push);
    }
    Ok(Empty {})
}

/// `typing.stop`.
pub async fn stop(state: &AppState, s: &Session, req: TypingStop) -> AppResult<Empty> {
    require_member(state, &req.room_id, &s.user_id).await?;
    if state.typing.stop(&req.room_id, &s.user_id) {
        let members = db::rooms::member_ids(state.db.reader(), &req.room_id).await?;
        let push = typing_push(&req.room_id, &s.user_id, &s.user_name, false);
        state.push(members, Some(s.conn_id), &push);
    }
    Ok(Empty {})
}
