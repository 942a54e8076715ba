//! LeetChat client core: an offline-first store, a durable outbox and a
//! connection that resumes without gaps. The app, the terminal client and the
//! benchmark all stand on it.
//!
//! Map of the crate:
//! - [`client`]: `Client`, the API for UIs (reads from the store, writes
//!   through the outbox, requests over the live connection, typed events).
//! - [`store`]: the SQLite store (rusqlite, WAL, numbered migrations, FTS5).
//! - [`engine`]: the connection's logic without the socket (sans-I/O):
//!   catching up with `sync`, the outbox on the wire, applying pushes.
//! - [`connection`]: the socket and timers that drive the engine: connect,
//!   stay live, reconnect with [`backoff`].
//! - `session` (private): the tokens, refreshed once per data folder at a time.
//! - [`api`]: HTTP (sign-up, sign-in, refresh, sign-out, user search, file
//!   upload and download).
//! - [`files`]: local files: copies of queued uploads, the download cache.
//! - [`credentials`]: tokens in the OS keyring, or a 0600 file on request.
//! - [`views`]: what UIs show, and the events that say what changed.
//! - [`notify`]: which messages make a desktop notification, grouped per
//!   room and taken back once the room is read on any device.
//! - [`markdown`]: message text as plain text, where none is rendered.
//!
//! The guarantees: a message is in the outbox (on disk) before anything goes
//! on the wire, leaves it only when the server acked it, and is retried with
//! the same `tempId`, so the server never stores it twice; every event the
//! server numbered is applied exactly once, in order, because a jump in seq
//! makes the connection `sync` the hole before going on.

pub mod api;
pub mod backoff;
pub mod client;
pub mod connection;
pub mod credentials;
pub mod engine;
pub mod error;
pub mod files;
pub mod markdown;
pub mod notify;
pub mod push;
mod session;
mod shared;
pub mod store;
pub mod views;

pub use client::community::invite_code;
pub use client::{Client, ClientConfig, Me, MessageContext, SearchPage};
pub use credentials::CredentialStore;
pub use error::{Error, Result};
pub use store::outbox::Draft;
pub use views::{
    ClientEvent, ConnectionState, Delivery, MessageChange, MessageView, Origin, RoomCounts,
    RoomView,
};
