//! The LeetChat server: real-time chat over WebSocket and HTTP, on SQLite
//! (embedded default) or PostgreSQL.
//!
//! Map of the crate:
//! - [`config`]: settings from the environment (`--help` lists them).
//! - [`admin`]: `leetchat-server admin`, the operator's commands;
//!   [`account`]: one's own profile, export and account deletion.
//! - [`app`]: `Application::build` / `run_until_stopped`, and `router(state)`.
//! - [`state`]: `AppState`, everything handlers share.
//! - Transports, framing only: [`ws`] (the native WebSocket), [`sio`]
//!   (Socket.IO v4 at `/socket.io/`), [`http`] (auth, users, health,
//!   metrics) and [`files`] (uploads and downloads).
//! - [`connection`]: what every socket does, whatever carries it
//!   (authenticate, renew, attach, one request at a time, the ordered writer).
//! - [`handlers`]: one per request, and the dispatcher that maps event
//!   names to them; [`session`]: who a request runs as.
//! - [`stream`]: the one way to append an event to a room's stream (the
//!   gapless-seq rule, the history cache, the pushes in seq order).
//! - [`db`]: every query, for both engines, and the migrations.
//! - [`fanout`]: this node's connections (`Hub`) and serialised pushes;
//!   [`bus`]: what nodes share, the same on one node and on a cluster;
//!   [`cluster`]: the Redis side of that; [`sequencer`]: pushes in seq
//!   order per connection.
//! - [`presence`]: online/offline and last seen ([`last_seen`] stores it in
//!   batches); [`typists`]: who is typing where.
//! - [`previews`]: link previews, fetched through [`egress`], the one
//!   place the server makes requests to URLs users give it.
//! - [`push`]: Web Push to devices that are not connected (a durable queue,
//!   one node sends each).
//! - [`search_index`]: indexes for search the messages stored before it
//!   existed (the index itself is [`db::search`]).
//! - [`revocations`]: closes sockets of accounts signed out from elsewhere
//!   (deactivated by the admin command, say).
//! - [`auth`], [`ratelimit`], [`metrics`], [`error`].
//!
//! How a message flows: `message.send` arrives on a socket → the transport
//! reads the frame → [`connection`] runs it through [`handlers::dispatch`] →
//! [`handlers::messages::send`] checks it and opens a [`stream::StreamWrite`],
//! which locks the room, takes the next seq, and commits the message with its
//! event row; the write then publishes `message.received` on the bus (each
//! member's other connections) and only then does the ack go back.

pub mod account;
pub mod admin;
pub mod app;
pub mod auth;
pub mod bus;
pub mod client_addr;
pub mod cluster;
pub mod committer;
pub mod config;
pub mod connection;
pub mod db;
pub mod egress;
pub mod error;
pub mod fanout;
pub mod files;
pub mod handlers;
pub mod http;
pub mod last_seen;
pub mod metrics;
pub mod presence;
pub mod previews;
pub mod push;
pub mod ratelimit;
pub mod revocations;
pub mod search_index;
pub mod sequencer;
pub mod serve;
pub mod session;
pub mod sio;
pub mod state;
pub mod stream;
pub mod typists;
pub mod ws;

pub use app::{Application, router};
pub use config::Config;
