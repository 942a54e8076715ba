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
//! - [`typing`] answers `typing.start`, `typing.stop`;
//! - [`reactions`] answers `reaction.add`, `reaction.remove`;
//! - [`pins`] answers `message.pin`, `message.unpin`;
//! - [`notify`] answers `room.notify.set`, `notify.default.set`;
//! - [`push`] answers `push.register`, `push.unregister`;
//! - [`search`] answers `message.search`;
//! - [`community`] answers `room.invite.create`, `room.invite.list`,
//!   `room.invite.revoke`, `room.join`, `room.ban`, `room.unban`, `room.bans`;
//! - [`safety`] answers `user.block`, `user.unblock`, `user.blocks`,
//!   `message.report`.

pub mod community;
pub mod history;
pub mod members;
pub mod messages;
pub mod notify;
pub mod pins;
pub mod presence;
pub mod push;
pub mod reactions;
pub mod receipts;
pub mod rooms;
pub mod safety;
pub mod search;
pub mod sync;
pub mod typing;

use leetchat_protocol::Request;
use leetchat_protocol::Role;
use leetchat_protocol::events::{
    AddMembers, AddReaction, CreateRoom, DeleteMessage, EditMessage, History, ListRooms,
    PinMessage, Ping, Pong, PresenceGet, ReadPointer, RegisterPush, RemoveMember, RemoveReaction,
    SearchMessages, SendMessage, SetNotifyDefault, SetRole, SetRoomNotify, SyncRequest,
    TypingStart, TypingStop, UnpinMessage, UnregisterPush, UpdateRoom,
};
use leetchat_protocol::events::{
    BanUser, BlockUser, CreateInvite, JoinRoom, ListBans, ListBlocks, ListInvites, ReportMessage,
    RevokeInvite, UnbanUser, UnblockUser,
};
use leetchat_protocol::request::REQUEST_EVENTS;
use leetchat_protocol::time::{now_ms, rfc3339};
use serde_json::Value;

use crate::db;
use crate::error::{AppError, AppResult};
use crate::ratelimit::Action;
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

/// How a request counts against the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A read: it neither writes nor pushes to anyone else.
    Free,
    /// Counted before its handler runs.
    Each(Action),
    /// Counted by its handler, only when the request would write: a resend
    /// of an acked message or opening a direct room that exists are free.
    InHandler(&'static [Action]),
    /// Pushes at most once per counted request of that action, so it needs
    /// no budget of its own (a `typing.stop` ends one counted `typing.start`;
    /// refusing it would leave the indicator up).
    Follows(Action),
}

/// The limit of every request. The dispatcher refuses an event without a
/// row here, so a new event cannot be served before its limit is decided.
pub fn limit_of(event: &str) -> Option<Limit> {
    Some(match event {
        SendMessage::EVENT => Limit::InHandler(&[Action::Message]),
        EditMessage::EVENT | DeleteMessage::EVENT => Limit::Each(Action::Edit),
        ReadPointer::EVENT => Limit::Each(Action::Read),
        TypingStart::EVENT => Limit::Each(Action::Typing),
        TypingStop::EVENT => Limit::Follows(Action::Typing),
        CreateRoom::EVENT => Limit::InHandler(&[Action::RoomCreate, Action::Direct]),
        UpdateRoom::EVENT | SetRole::EVENT | AddMembers::EVENT | RemoveMember::EVENT => {
            Limit::Each(Action::RoomChange)
        }
        SyncRequest::EVENT => Limit::Each(Action::Sync),
        AddReaction::EVENT | RemoveReaction::EVENT => Limit::Each(Action::Reaction),
        PinMessage::EVENT | UnpinMessage::EVENT => Limit::Each(Action::Pin),
        SetRoomNotify::EVENT
        | SetNotifyDefault::EVENT
        | RegisterPush::EVENT
        | UnregisterPush::EVENT => Limit::Each(Action::Settings),
        SearchMessages::EVENT => Limit::Each(Action::Search),
        CreateInvite::EVENT
        | RevokeInvite::EVENT
        | JoinRoom::EVENT
        | BanUser::EVENT
        | UnbanUser::EVENT => Limit::Each(Action::RoomChange),
        BlockUser::EVENT | UnblockUser::EVENT => Limit::Each(Action::Settings),
        ReportMessage::EVENT => Limit::Each(Action::Report),
        ListInvites::EVENT | ListBans::EVENT | ListBlocks::EVENT => Limit::Free,
        History::EVENT | ListRooms::EVENT | PresenceGet::EVENT | Ping::EVENT => Limit::Free,
        _ => return None,
    })
}

/// Runs one request (`auth` is the connection's, not a handler's): its rate
/// limit first, then its handler. Unknown events are `invalid`.
pub async fn dispatch(state: &AppState, s: &Session, event: &str, data: Value) -> AppResult<Value> {
    let Some(limit) = limit_of(event) else {
        return Err(AppError::invalid(format!(
            "unknown event {:?}",
            truncate(event, 64)
        )));
    };
    if let Limit::Each(action) = limit {
        state.rate_limit(&s.user_id, action).await?;
    }
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
        AddReaction::EVENT => handle!(AddReaction, reactions::add, state, s, data),
        RemoveReaction::EVENT => handle!(RemoveReaction, reactions::remove, state, s, data),
        PinMessage::EVENT => handle!(PinMessage, pins::pin, state, s, data),
        UnpinMessage::EVENT => handle!(UnpinMessage, pins::unpin, state, s, data),
        SetRoomNotify::EVENT => handle!(SetRoomNotify, notify::set_room, state, s, data),
        SetNotifyDefault::EVENT => handle!(SetNotifyDefault, notify::set_default, state, s, data),
        RegisterPush::EVENT => handle!(RegisterPush, push::register, state, s, data),
        UnregisterPush::EVENT => handle!(UnregisterPush, push::unregister, state, s, data),
        SearchMessages::EVENT => handle!(SearchMessages, search::search, state, s, data),
        CreateInvite::EVENT => handle!(CreateInvite, community::create_invite, state, s, data),
        ListInvites::EVENT => handle!(ListInvites, community::list_invites, state, s, data),
        RevokeInvite::EVENT => handle!(RevokeInvite, community::revoke_invite, state, s, data),
        JoinRoom::EVENT => handle!(JoinRoom, community::join, state, s, data),
        BanUser::EVENT => handle!(BanUser, community::ban, state, s, data),
        UnbanUser::EVENT => handle!(UnbanUser, community::unban, state, s, data),
        ListBans::EVENT => handle!(ListBans, community::bans, state, s, data),
        BlockUser::EVENT => handle!(BlockUser, safety::block, state, s, data),
        UnblockUser::EVENT => handle!(UnblockUser, safety::unblock, state, s, data),
        ListBlocks::EVENT => handle!(ListBlocks, safety::blocks, state, s, data),
        ReportMessage::EVENT => handle!(ReportMessage, safety::report, state, s, data),
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

/// Reads a page size: `default` when absent, capped at `max`; zero,
/// negative or non-numeric is `invalid`.
pub(crate) fn page_limit(v: Option<&Value>, default: u32, max: u32) -> AppResult<i64> {
    let bad = || AppError::invalid("limit must be a positive whole number");
    match v {
        None | Some(Value::Null) => Ok(i64::from(default)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(l) if l > 0 => Ok(l.min(i64::from(max))),
            _ => Err(bad()),
        },
        Some(_) => Err(bad()),
    }
}

/// The user with this id; `not_found` naming the id when there is none.
pub(crate) async fn user_or_not_found(
    state: &AppState,
    user_id: &str,
) -> AppResult<db::users::UserRow> {
    db::users::by_id(state.db.reader(), user_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no user {:?}", truncate(user_id, 64))))
}

/// The caller's role in a room; [`AppError::not_member`] when they are not a
/// member, whether or not the room exists.
pub async fn require_member(state: &AppState, room_id: &str, user_id: &str) -> AppResult<Role> {
    db::rooms::role_of(state.db.reader(), room_id, user_id)
        .await?
        .ok_or_else(AppError::not_member)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_cap_and_reject_nonsense() {
        use serde_json::json;
        assert_eq!(page_limit(None, 50, 100).ok(), Some(50));
        assert_eq!(page_limit(Some(&json!(500)), 50, 100).ok(), Some(100));
        assert_eq!(page_limit(Some(&json!(7)), 20, 50).ok(), Some(7));
        assert_eq!(page_limit(Some(&Value::Null), 20, 50).ok(), Some(20));
        for bad in [json!(0), json!(-1), json!("ten"), json!(2.5)] {
            assert!(page_limit(Some(&bad), 50, 100).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_request_event_has_a_rate_limit_row() {
        for event in REQUEST_EVENTS {
            if *event == <leetchat_protocol::events::AuthRequest as Request>::EVENT {
                continue;
            }
            assert!(
                limit_of(event).is_some(),
                "{event} has no row in handlers::limit_of: decide how it is rate-limited"
            );
        }
        assert_eq!(limit_of("no.such.event"), None);
    }
}
