//! `typing.start` / `typing.stop` and the `typing.user` pushes, including the
//! server-side stops (expiry, send, disconnect).

use std::sync::Arc;

use leetchat_protocol::events::names as ev;
use leetchat_protocol::events::{RoomRef, TypingUser};
use serde_json::{Value, json};

use crate::db;
use crate::dispatch::Session;
use crate::error::AppResult;
use crate::messages::require_member;
use crate::ratelimit::Action;
use crate::state::AppState;
use crate::typing::Stopped;

fn push(state: &AppState, recipients: Arc<[String]>, exclude: Option<u64>, t: TypingUser) {
    state.push(recipients, exclude, ev::TYPING_USER, &t);
}

/// `typing.start`: pushes `isTyping: true` once; renewals only extend it.
pub async fn start(state: &AppState, s: &Session, req: RoomRef) -> AppResult<Value> {
    require_member(state, &req.room_id, &s.user_id).await?;
    state.rate_limit(&s.user_id, Action::Typing).await?;
    if state
        .typing
        .start(&req.room_id, &s.user_id, &s.user_name, s.conn_id)
    {
        let members = db::rooms::member_ids(state.db.reader(), &req.room_id).await?;
        push(
            state,
            members.into(),
            Some(s.conn_id),
            typing_user(&req.room_id, s, true),
        );
    }
    Ok(json!({}))
}

/// `typing.stop`.
pub async fn stop(state: &AppState, s: &Session, req: RoomRef) -> AppResult<Value> {
    require_member(state, &req.room_id, &s.user_id).await?;
    if state.typing.stop(&req.room_id, &s.user_id) {
        let members = db::rooms::member_ids(state.db.reader(), &req.room_id).await?;
        push(
            state,
            members.into(),
            Some(s.conn_id),
            typing_user(&req.room_id, s, false),
        );
    }
    Ok(json!({}))
}

/// A send ends typing in that room.
pub fn stopped_by_send(state: &AppState, room_id: &str, s: &Session, members: Vec<String>) {
    if state.typing.stop(room_id, &s.user_id) {
        push(
            state,
            members.into(),
            Some(s.conn_id),
            typing_user(room_id, s, false),
        );
    }
}

fn typing_user(room_id: &str, s: &Session, is_typing: bool) -> TypingUser {
    TypingUser {
        room_id: room_id.to_owned(),
        user_id: s.user_id.clone(),
        user_name: s.user_name.clone(),
        is_typing,
    }
}

/// Pushes `isTyping: false` for typists who stopped without saying so.
pub async fn announce_stopped(state: &AppState, stopped: Vec<Stopped>) {
    for (room_id, user_id, user_name) in stopped {
        match db::rooms::member_ids(state.db.reader(), &room_id).await {
            Ok(members) => push(
                state,
                members.into(),
                None,
                TypingUser {
                    room_id,
                    user_id,
                    user_name,
                    is_typing: false,
                },
            ),
            Err(e) => tracing::warn!(error = %e, "cannot announce a typing stop"),
        }
    }
}
