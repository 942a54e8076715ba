//! Every push the server sends, as one typed enum.
//!
//! [`ServerPush`] serialises to the native frame `{"event", "data"}`; a
//! client reads a frame with [`ServerPush::parse`], which ignores events it
//! does not know (a newer server may send more). `sync` replays room events
//! as the same pushes, so a client applies both through one path.

use serde::Serialize;
use serde_json::Value;

use crate::envelope::ErrorBody;
use crate::events::names;
use crate::events::{
    Authenticated, BlockList, LinkPreviewEvent, MemberEvent, MessageDeleted, MessageEdited,
    MessageEnvelope, NotifyDefault, PinEvent, Presence, ReactionEvent, ReceiptUpdated,
    RoomEnvelope, RoomNotify, SyncNeeded, TypingUser, UserEnvelope,
};

macro_rules! pushes {
    ($($(#[$doc:meta])* $variant:ident($ty:ty) = $name:path;)*) => {
        /// A push from the server.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ServerPush {
            $($(#[$doc])* $variant($ty),)*
        }

        impl ServerPush {
            /// Its event name.
            pub fn event(&self) -> &'static str {
                match self {
                    $(ServerPush::$variant(_) => $name,)*
                }
            }

            /// Reads a push's `data` given its event name: `Ok(None)` for an
            /// event this crate does not know, an error for data of the wrong shape.
            pub fn parse(event: &str, data: Value) -> Result<Option<ServerPush>, serde_json::Error> {
                $(if event == $name {
                    return Ok(Some(ServerPush::$variant(serde_json::from_value(data)?)));
                })*
                Ok(None)
            }

            /// Its `data` as JSON.
            pub fn data(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $(ServerPush::$variant(d) => serde_json::to_value(d),)*
                }
            }
        }

        impl Serialize for ServerPush {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(ServerPush::$variant(d) => Frame { event: $name, data: d }.serialize(s),)*
                }
            }
        }

        /// Every push's event name.
        pub const PUSH_EVENTS: &[&str] = &[$($name),*];
    };
}

#[derive(Serialize)]
struct Frame<'a, T> {
    event: &'a str,
    data: &'a T,
}

pushes! {
    /// The socket is authenticated.
    ConnectionAuthenticated(Authenticated) = names::CONNECTION_AUTHENTICATED;
    /// A new message.
    MessageReceived(MessageEnvelope) = names::MESSAGE_RECEIVED;
    /// A message was edited.
    MessageEdited(MessageEdited) = names::MESSAGE_EDITED;
    /// A message was deleted.
    MessageDeleted(MessageDeleted) = names::MESSAGE_DELETED;
    /// A member's read pointer moved.
    ReceiptUpdated(ReceiptUpdated) = names::RECEIPT_UPDATED;
    /// Someone started or stopped typing.
    TypingUser(TypingUser) = names::TYPING_USER;
    /// A user went online or offline.
    PresenceUpdate(Presence) = names::PRESENCE_UPDATE;
    /// A room appeared for this user.
    RoomCreated(RoomEnvelope) = names::ROOM_CREATED;
    /// A room's name, description or roles changed.
    RoomUpdated(RoomEnvelope) = names::ROOM_UPDATED;
    /// A member joined.
    RoomMemberJoined(MemberEvent) = names::ROOM_MEMBER_JOINED;
    /// A member left or was removed.
    RoomMemberLeft(MemberEvent) = names::ROOM_MEMBER_LEFT;
    /// An error for a frame that had no usable id.
    Error(ErrorBody) = names::ERROR;
    /// Events may have been missed: sync every room.
    SyncNeeded(SyncNeeded) = names::SYNC_NEEDED;
    /// Someone reacted (v1.1).
    ReactionAdded(ReactionEvent) = names::REACTION_ADDED;
    /// Someone took a reaction back (v1.1).
    ReactionRemoved(ReactionEvent) = names::REACTION_REMOVED;
    /// A message was pinned (v1.1).
    MessagePinned(PinEvent) = names::MESSAGE_PINNED;
    /// A message was unpinned (v1.1).
    MessageUnpinned(PinEvent) = names::MESSAGE_UNPINNED;
    /// A message's link preview arrived (extension).
    MessageLinkPreview(LinkPreviewEvent) = names::MESSAGE_LINK_PREVIEW;
    /// The user changed a room's notification settings elsewhere (v1.1).
    RoomNotifyUpdated(RoomNotify) = names::ROOM_NOTIFY_UPDATED;
    /// The user changed the default level elsewhere (extension).
    NotifyDefaultUpdated(NotifyDefault) = names::NOTIFY_DEFAULT_UPDATED;
    /// The user's blocked list changed elsewhere (extension).
    UserBlocksUpdated(BlockList) = names::USER_BLOCKS_UPDATED;
    /// Someone who shares a room changed their profile (v1.1).
    UserUpdated(UserEnvelope) = names::USER_UPDATED;
}

impl ServerPush {
    /// For a room event (one that takes a seq in its room's stream): the
    /// room and the seq.
    pub fn stream_position(&self) -> Option<(&str, i64)> {
        match self {
            ServerPush::MessageReceived(m) => Some((&m.message.room_id, m.message.seq)),
            ServerPush::MessageEdited(m) => Some((&m.message.room_id, m.seq)),
            ServerPush::MessageDeleted(d) => Some((&d.room_id, d.seq)),
            ServerPush::RoomMemberJoined(m) | ServerPush::RoomMemberLeft(m) => {
                Some((&m.room_id, m.seq))
            }
            ServerPush::ReactionAdded(r) | ServerPush::ReactionRemoved(r) => {
                Some((&r.room_id, r.seq))
            }
            ServerPush::MessagePinned(p) | ServerPush::MessageUnpinned(p) => {
                Some((&p.room_id, p.seq))
            }
            ServerPush::MessageLinkPreview(p) => Some((&p.room_id, p.seq)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_is_the_native_frame_and_reads_back() {
        let p = ServerPush::RoomMemberJoined(MemberEvent {
            room_id: "r".into(),
            user_id: "u".into(),
            seq: 4,
        });
        let text = serde_json::to_string(&p).expect("json");
        assert_eq!(
            text,
            r#"{"event":"room.member_joined","data":{"roomId":"r","userId":"u","seq":4}}"#
        );
        let v: Value = serde_json::from_str(&text).expect("json");
        let back = ServerPush::parse(v["event"].as_str().expect("event"), v["data"].clone())
            .expect("parses");
        assert_eq!(back, Some(p.clone()));
        assert_eq!(p.stream_position(), Some(("r", 4)));
    }

    #[test]
    fn unknown_events_are_skipped_and_bad_data_is_an_error() {
        assert_eq!(
            ServerPush::parse("future.thing", serde_json::json!({})).ok(),
            Some(None)
        );
        assert!(ServerPush::parse(names::RECEIPT_UPDATED, serde_json::json!({"x": 1})).is_err());
    }

    #[test]
    fn every_push_has_its_own_event_name() {
        let mut names = PUSH_EVENTS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PUSH_EVENTS.len());
    }
}
