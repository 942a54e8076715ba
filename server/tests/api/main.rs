//! The server's integration suite: the real server on a free port, real
//! sockets, and every test run on both SQLite and PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used)]

mod cluster_env;
mod harness;

mod accounts;
mod auth;
mod concurrency;
mod conversations;
mod faults;
mod faults_postgres;
mod files;
mod frames;
mod fuzz;
mod history_cache;
mod idor;
mod idor_matrix;
mod idor_members;
mod lifecycle;
mod limits;
mod live;
mod messages;
mod moderation;
mod notify;
mod previews;
mod profile;
mod push;
mod rooms;
mod search;
mod slow;
mod sync;
mod text;
