//! The LeetChat server: real-time chat over WebSocket and HTTP, on SQLite
//! (embedded default) or PostgreSQL.
//!
//! Map of the crate:
//! - [`config`]: settings from the environment (`--help` lists them).
//! - [`app`]: `Application::build` / `run_until_stopped`, and `router(state)`.
//! - [`state`]: `AppState`, everything handlers share.
//! - [`ws`]: the native WebSocket transport (auth, read loop, writer, heartbeat).
//! - [`sio`]: the Socket.IO v4 transport at `/socket.io/`, over the same core.
//! - [`cluster`]: several nodes on Redis (fan-out, presence, rate limits,
//!   recent-history cache); [`sequencer`] keeps pushes in seq order per
//!   connection.
//! - [`http`]: HTTP routes (auth, users, health, metrics) and extractors.
//! - [`files`]: uploads and downloads (type sniffing, image thumbnails, storage).
//! - [`dispatch`]: one dispatcher from event name to handler, for every transport.
//! - [`messages`], [`rooms`], [`sync`], [`presence`], [`typing_events`]: the handlers;
//!   [`last_seen`] stores last-seen times in batches.
//! - [`db`]: queries for both engines, migrations, the gapless-seq write rule.
//! - [`fanout`]: the connection registry (`Hub`) and the event `Bus`.
//! - [`auth`]: argon2id passwords, JWT access tokens, refresh tokens.
//! - [`ratelimit`], [`typing`], [`metrics`], [`clock`], [`error`].
//!
//! How a message flows: `message.send` arrives on a socket → `dispatch` →
//! `messages::send` takes the room's lock, and in one transaction takes the
//! room's next seq, inserts the message and its event row, and commits; then it
//! publishes `message.received` on the bus (each member's other connections)
//! and only then returns the ack to the sender.

pub mod app;
pub mod auth;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod db;
pub mod dispatch;
pub mod error;
pub mod fanout;
pub mod files;
pub mod http;
pub mod last_seen;
pub mod messages;
pub mod metrics;
pub mod presence;
pub mod ratelimit;
pub mod rooms;
pub mod sequencer;
pub mod sio;
pub mod state;
pub mod sync;
pub mod typing;
pub mod typing_events;
pub mod ws;

pub use app::{Application, router};
pub use config::Config;
