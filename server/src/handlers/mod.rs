//! The handlers of the requests on a socket, and the dispatcher: one table
//! from event name to handler, shared by every transport.
//!
//! Each handler takes the request type of its event and returns that
//! event's ack type ([`leetchat_protocol::Request`]), so the table below
//! cannot pair an event with the wrong shapes. Handlers that change a room's
//! stream go through [`crate::stream`]; other pushes through
//! [`AppState::push`].
//!
//! - [`messages`] answers `message.send`, `message.edit`, `message.delete`;
//! - [`history`] answers `message.history`;
//! - [`receipts`] answers `message.read`;
//! - [`rooms`] answers `room.create`, `room.list`, `room.update`, `room.members.role`;
//! - [`members`] answers `room.members.add`, `room.members.remove`;
//! - [`sync`] answers `sync`;
//! - [`presence`] answers `presence.get`;
//! - [`typing`] answers `typing.start`, `typing.stop`.

pub mod history;
pub mod members;
pub mod messages;
pub mod presence;
pub mod receipts;
pub mod rooms;
pub mod sync;
pub mod typing;

use leetchat_protocol::Request;
use leetchat_protocol::Role;
use leetchat_protocol::events::{
    AddMembers, CreateRoom, DeleteMessage, EditMessage, History, ListRooms, Ping, Pong,
    PresenceGet, ReadPointer, RemoveMember, SendMessage, SetRole, SyncRequest, TypingStart,
    TypingStop, UpdateRoom,
};
use leetchat_protocol::request::REQUEST_EVENTS;
use leetchat_protocol::time::{now_ms, rfc3339};
use serde_json::Value;

use crate::db;
use crate::error::{AppError, AppResult};
use crate::session::{Session, parse, truncate};
use crate::state::AppState;

/// Runs the handler of one request type: parses `data`, runs, serialises the ack.
macro_rules! handle {
    ($req:ty, $handler:path, $state:expr, $s:expr, $data:expr) => {{
        let req: $req = parse($data)?;
        let ack: <$req as Request>::Ack = $handler($state, $s, req).await?;
        to_value(ack)
    }};
}

/// Runs one request (`auth` is the connection's, not a handler's). Unknown
/// events are `invalid`.
pub async fn dispatch(state: &AppState, s: &Session, event: &str, data: Value) -> AppResult<Value> {
    match event {
        SendMessage::EVENT => handle!(SendMessage, messages::send, state, s, data),
        EditMessage::EVENT => handle!(EditMessage, messages::edit, state, s, data),
        DeleteMessage::EVENT => handle!(DeleteMessage, messages::delete, state, s, data),
        History::EVENT => handle!(History, history::history, state, s, data),
        ReadPointer::EVENT => handle!(ReadPointer, receipts::read, state, s, data),
        TypingStart::EVENT => handle!(TypingStart, typing::start, state, s, data),
        TypingStop::EVENT => handle!(TypingStop, typing::stop, state, s, data),
        CreateRoom::EVENT => handle!(CreateRoom, rooms::create, state, s, data),
        ListRooms::EVENT => handle!(ListRooms, rooms::list, state, s, data),
        UpdateRoom::EVENT => handle!(UpdateRoom, rooms::update, state, s, data),
        SetRole::EVENT => handle!(SetRole, rooms::set_role, state, s, data),
        AddMembers::EVENT => handle!(AddMembers, members::add, state, s, data),
        RemoveMember::EVENT => handle!(RemoveMember, members::remove, state, s, data),
        PresenceGet::EVENT => handle!(PresenceGet, presence::get, state, s, data),
        SyncRequest::EVENT => handle!(SyncRequest, sync::sync, state, s, data),
        Ping::EVENT => handle!(Ping, ping, state, s, data),
        other => Err(AppError::invalid(format!(
            "unknown event {:?}",
            truncate(other, 64)
        ))),
    }
}

fn to_value(v: impl serde::Serialize) -> AppResult<Value> {
    serde_json::to_value(v).map_err(|e| AppError::internal("serialising an ack", e))
}

/// `ping` (extension): the server's clock.
async fn ping(_: &AppState, _: &Session, _: Ping) -> AppResult<Pong> {
    Ok(Pong {
        server_time: rfc3339(now_ms()),
    })
}

/// Known event names, for metrics labels (anything else is `unknown`).
pub fn metric_name(event: &str) -> &'static str {
    REQUEST_EVENTS
        .iter()
        .find(|k| **k == event)
        .copied()
        .unwrap_or("unknown")
}

/// The caller's role in a room: `not_found` when the room does not exist,
/// `forbidden` when they are not a member.
pub async fn require_member(state: &AppState, room_id: &str, user_id: &str) -> AppResult<Role> {
    if let Some(role) = db::rooms::role_of(state.db.reader(), room_id, user_id).await? {
        return Ok(role);
    }
    match db::rooms::row(state.db.reader(), room_id).await? {
        Some(_) => Err(AppError::forbidden("you are not a member of this room")),
        None => Err(AppError::not_found("no such room")),
    }
}
