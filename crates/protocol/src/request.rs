//! Every request a client may send, tied to its event name and its ack.
//!
//! A request type implements [`Request`]: the server parses `data` into it
//! and answers with its `Ack`; a client sends it and reads the ack back as
//! that type. Adding an event is one type in [`crate::events`] and one line
//! in the table below.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::events::names;
use crate::events::{
    AddMembers, AddReaction, AuthRequest, CreateRoom, DeleteMessage, EditMessage, Empty, History,
    HistoryPage, ListRooms, MessageDeleted, MessageEdited, MessageEnvelope, NotifyDefault,
    PinMessage, Ping, PinsAck, Pong, PresenceGet, PresenceList, ReactionsAck, ReadAck, ReadPointer,
    RegisterPush, RemoveMember, RemoveReaction, RoomEnvelope, RoomList, RoomNotify, SearchMessages,
    SearchResults, SendMessage, SetNotifyDefault, SetRole, SetRoomNotify, SyncRequest,
    SyncResponse, TypingStart, TypingStop, UnpinMessage, UnregisterPush, UpdateRoom,
};
use crate::events::{
    BanList, BanUser, BlockList, BlockUser, CreateInvite, InviteEnvelope, InviteList, JoinRoom,
    ListBans, ListBlocks, ListInvites, ReportMessage, RevokeInvite, UnbanUser, UnblockUser,
};

/// A request: its `data`, the event name it is sent under, and its ack's `data`.
pub trait Request: Serialize + DeserializeOwned + Send + 'static {
    /// The event name, e.g. `message.send`.
    const EVENT: &'static str;
    /// The `data` of a successful ack.
    type Ack: Serialize + DeserializeOwned + Send + 'static;
}

macro_rules! requests {
    ($($req:ty => $ack:ty = $name:path;)*) => {
        $(impl Request for $req {
            const EVENT: &'static str = $name;
            type Ack = $ack;
        })*

        /// Every request's event name.
        pub const REQUEST_EVENTS: &[&str] = &[$($name),*];
    };
}

requests! {
    AuthRequest => Empty = names::AUTH;
    SendMessage => MessageEnvelope = names::MESSAGE_SEND;
    EditMessage => MessageEdited = names::MESSAGE_EDIT;
    DeleteMessage => MessageDeleted = names::MESSAGE_DELETE;
    History => HistoryPage = names::MESSAGE_HISTORY;
    ReadPointer => ReadAck = names::MESSAGE_READ;
    TypingStart => Empty = names::TYPING_START;
    TypingStop => Empty = names::TYPING_STOP;
    CreateRoom => RoomEnvelope = names::ROOM_CREATE;
    ListRooms => RoomList = names::ROOM_LIST;
    UpdateRoom => RoomEnvelope = names::ROOM_UPDATE;
    AddMembers => RoomEnvelope = names::ROOM_MEMBERS_ADD;
    RemoveMember => RoomEnvelope = names::ROOM_MEMBERS_REMOVE;
    SetRole => RoomEnvelope = names::ROOM_MEMBERS_ROLE;
    PresenceGet => PresenceList = names::PRESENCE_GET;
    SyncRequest => SyncResponse = names::SYNC;
    Ping => Pong = names::PING;
    AddReaction => ReactionsAck = names::REACTION_ADD;
    RemoveReaction => ReactionsAck = names::REACTION_REMOVE;
    PinMessage => PinsAck = names::MESSAGE_PIN;
    UnpinMessage => PinsAck = names::MESSAGE_UNPIN;
    SetRoomNotify => RoomNotify = names::ROOM_NOTIFY_SET;
    SetNotifyDefault => NotifyDefault = names::NOTIFY_DEFAULT_SET;
    RegisterPush => Empty = names::PUSH_REGISTER;
    UnregisterPush => Empty = names::PUSH_UNREGISTER;
    SearchMessages => SearchResults = names::MESSAGE_SEARCH;
    CreateInvite => InviteEnvelope = names::ROOM_INVITE_CREATE;
    ListInvites => InviteList = names::ROOM_INVITE_LIST;
    RevokeInvite => Empty = names::ROOM_INVITE_REVOKE;
    JoinRoom => RoomEnvelope = names::ROOM_JOIN;
    BanUser => RoomEnvelope = names::ROOM_BAN;
    UnbanUser => Empty = names::ROOM_UNBAN;
    ListBans => BanList = names::ROOM_BANS;
    BlockUser => BlockList = names::USER_BLOCK;
    UnblockUser => BlockList = names::USER_UNBLOCK;
    ListBlocks => BlockList = names::USER_BLOCKS;
    ReportMessage => Empty = names::MESSAGE_REPORT;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_has_its_own_event_name() {
        let mut names = REQUEST_EVENTS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REQUEST_EVENTS.len());
        assert_eq!(<SendMessage as Request>::EVENT, "message.send");
        assert_eq!(<TypingStop as Request>::EVENT, "typing.stop");
    }

    #[test]
    fn an_empty_ack_reads_whatever_data_came() {
        for v in [
            serde_json::json!({}),
            serde_json::Value::Null,
            serde_json::json!({"x": 1}),
        ] {
            assert_eq!(serde_json::from_value::<Empty>(v).ok(), Some(Empty {}));
        }
        assert_eq!(serde_json::to_string(&Empty {}).ok().as_deref(), Some("{}"));
    }
}
