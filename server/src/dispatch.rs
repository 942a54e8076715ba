//! One dispatcher for every transport: an authenticated request in, its ack
//! data (or error) out. Handlers publish pushes themselves.

use leetchat_protocol::events::names as ev;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::fanout::ConnId;
use crate::state::AppState;
use crate::{messages, presence, rooms, sync, typing_events};

/// Who is asking, on which connection.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user_id: String,
    /// Their login name (for typing pushes).
    pub user_name: String,
    /// The device of the token.
    pub device_id: String,
    /// The connection (excluded from the pushes its requests cause).
    pub conn_id: ConnId,
}

/// Parses a request's `data`, turning serde's complaint into `invalid`.
pub fn parse<T: DeserializeOwned>(data: Value) -> AppResult<T> {
    serde_path_to_error::deserialize(data).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            AppError::invalid(format!("bad data: {}", e.inner()))
        } else {
            AppError::invalid(format!("bad data at {path}: {}", e.inner()))
        }
    })
}

/// Runs one request. Unknown events are `invalid`.
pub async fn dispatch(state: &AppState, s: &Session, event: &str, data: Value) -> AppResult<Value> {
    let out = match event {
        ev::MESSAGE_SEND => to_value(messages::send(state, s, parse(data)?).await?),
        ev::MESSAGE_EDIT => to_value(messages::edit(state, s, parse(data)?).await?),
        ev::MESSAGE_DELETE => to_value(messages::delete(state, s, parse(data)?).await?),
        ev::MESSAGE_HISTORY => to_value(messages::history(state, s, parse(data)?).await?),
        ev::MESSAGE_READ => to_value(messages::read(state, s, parse(data)?).await?),
        ev::TYPING_START => to_value(typing_events::start(state, s, parse(data)?).await?),
        ev::TYPING_STOP => to_value(typing_events::stop(state, s, parse(data)?).await?),
        ev::ROOM_CREATE => to_value(rooms::create(state, s, parse(data)?).await?),
        ev::ROOM_LIST => to_value(rooms::list(state, s).await?),
        ev::ROOM_UPDATE => to_value(rooms::update(state, s, parse(data)?).await?),
        ev::ROOM_MEMBERS_ADD => to_value(rooms::add_members(state, s, parse(data)?).await?),
        ev::ROOM_MEMBERS_REMOVE => to_value(rooms::remove_member(state, s, parse(data)?).await?),
        ev::ROOM_MEMBERS_ROLE => to_value(rooms::set_role(state, s, parse(data)?).await?),
        ev::PRESENCE_GET => to_value(presence::get(state, s, parse(data)?).await?),
        ev::SYNC => to_value(sync::sync(state, s, parse(data)?).await?),
        ev::PING => {
            Ok(serde_json::json!({ "serverTime": crate::clock::rfc3339(crate::clock::now_ms()) }))
        }
        other => Err(AppError::invalid(format!(
            "unknown event {:?}",
            truncate(other, 64)
        ))),
    }?;
    Ok(out)
}

fn to_value(v: impl serde::Serialize) -> AppResult<Value> {
    serde_json::to_value(v).map_err(|e| AppError::internal("serialising an ack", e))
}

/// At most `n` characters of `s`, for echoing untrusted input in errors.
pub fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Known event names, for metrics labels (anything else is `unknown`).
pub fn metric_name(event: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        ev::AUTH,
        ev::MESSAGE_SEND,
        ev::MESSAGE_EDIT,
        ev::MESSAGE_DELETE,
        ev::MESSAGE_HISTORY,
        ev::MESSAGE_READ,
        ev::TYPING_START,
        ev::TYPING_STOP,
        ev::ROOM_CREATE,
        ev::ROOM_LIST,
        ev::ROOM_UPDATE,
        ev::ROOM_MEMBERS_ADD,
        ev::ROOM_MEMBERS_REMOVE,
        ev::ROOM_MEMBERS_ROLE,
        ev::PRESENCE_GET,
        ev::SYNC,
        ev::PING,
    ];
    KNOWN
        .iter()
        .find(|k| **k == event)
        .copied()
        .unwrap_or("unknown")
}
