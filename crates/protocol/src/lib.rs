//! LeetChat wire types: every JSON shape of `docs/protocol.md`, in one place.
//!
//! The server, the client core, the terminal client and the benchmark all speak
//! through these types, so a field renamed here is renamed everywhere at once.
//!
//! Map of the crate:
//! - [`envelope`]: the frames on the native WebSocket (request, ack, push) and
//!   the error body shared with HTTP.
//! - [`objects`]: users, rooms, members, messages, attachments.
//! - [`events`]: the event names and the `data` of every request, ack and push.
//! - [`request`]: every request tied to its event name and ack ([`Request`]).
//! - [`push`]: every push as one enum ([`ServerPush`]).
//! - [`http`]: bodies of the HTTP routes (auth, users, health).
//! - [`search`]: the words of a text and of a search query (protocol 9.7),
//!   the same for the server's index and a client's.
//! - [`text`]: the rule every text on the wire keeps (no U+0000).
//! - [`time`]: wire times (RFC 3339 with milliseconds) to and from Unix ms.
//!
//! Conventions: camelCase JSON fields; times are RFC 3339 UTC strings with
//! milliseconds, kept as `String` in the types and converted by [`time`];
//! optional fields marked `?` in the contract are omitted when absent.

pub mod envelope;
pub mod events;
pub mod http;
pub mod objects;
pub mod push;
pub mod request;
pub mod search;
pub mod text;
pub mod time;

pub use envelope::{
    Ack, BadFrame, ClientFrame, ErrorBody, ErrorCode, FrameProblem, Push, RequestId, ServerFrame,
};
pub use objects::{
    Attachment, LinkPreview, Member, Message, MessageType, Reaction, ReplyPreview, Role, Room,
    RoomType, User, direct_room_id,
};
pub use push::ServerPush;
pub use request::Request;

/// Largest WebSocket frame the contract allows, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Largest message `content`, in Unicode scalar values (characters).
pub const MAX_CONTENT_CHARS: usize = 4000;
/// Default page size of `message.history`.
pub const HISTORY_DEFAULT_LIMIT: u32 = 50;
/// Largest page size of `message.history`; larger requests are capped to it.
pub const HISTORY_MAX_LIMIT: u32 = 100;
/// Default number of events per room returned by `sync`.
pub const SYNC_DEFAULT_LIMIT: u32 = 100;
/// Largest number of events per room returned by `sync`.
pub const SYNC_MAX_LIMIT: u32 = 1000;
/// WebSocket close code for a missing, invalid, expired or revoked token.
pub const CLOSE_UNAUTHENTICATED: u16 = 4401;
/// WebSocket close code for an account that was deactivated or deleted (v1.1).
pub const CLOSE_DEACTIVATED: u16 = 4403;

/// Characters of the replied message a reply preview shows (v1.1).
pub const REPLY_PREVIEW_CHARS: usize = 200;
/// Longest reaction emoji, in bytes of UTF-8 (v1.1).
pub const MAX_EMOJI_BYTES: usize = 32;
/// Most different reactions one user may put on one message (v1.1).
pub const MAX_REACTIONS_PER_USER: usize = 20;
/// Most user ids a reaction lists (its `count` is exact) (v1.1).
pub const REACTION_USERS_LISTED: usize = 100;
/// Most pinned messages in a room (v1.1).
pub const MAX_PINS: usize = 50;
/// Most user ids one message may mention (extension).
pub const MAX_MENTIONS: usize = 100;
