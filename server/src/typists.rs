//! Who is typing where, with server-side expiry, and the `typing.user`
//! pushes that say someone stopped without saying so.
//!
//! A `typing.start` lasts [`TYPING_TTL`] unless renewed; the sweeper (see
//! [`crate::app`]) pushes `isTyping: false` for entries that run out, and so
//! do a send, leaving the room, and disconnecting. The requests themselves
//! are [`crate::handlers::typing`].

use std::time::Duration;

use dashmap::DashMap;
use leetchat_protocol::ServerPush;
use leetchat_protocol::events::TypingUser;
use tokio::time::Instant;

use crate::db;
use crate::fanout::ConnId;
use crate::session::Session;
use crate::state::AppState;

/// How long a `typing.start` lasts without renewal.
pub const TYPING_TTL: Duration = Duration::from_secs(5);

/// A typist who stopped: `(room_id, user_id, user_name)`.
pub type Stopped = (String, String, String);

#[derive(Debug)]
struct Entry {
    expires: Instant,
    conn: ConnId,
    user_name: String,
}

/// The typing table of this node.
#[derive(Debug, Default)]
pub struct Typists {
    entries: DashMap<(String, String), Entry>,
}

impl Typists {
    /// Marks the user as typing; `true` when they were not already.
    pub fn start(&self, room_id: &str, user_id: &str, user_name: &str, conn: ConnId) -> bool {
        let entry = Entry {
            expires: Instant::now() + TYPING_TTL,
            conn,
            user_name: user_name.to_owned(),
        };
        self.entries
            .insert((room_id.to_owned(), user_id.to_owned()), entry)
            .is_none()
    }

    /// Clears the user's typing in a room; `true` when they were typing.
    pub fn stop(&self, room_id: &str, user_id: &str) -> bool {
        self.entries
            .remove(&(room_id.to_owned(), user_id.to_owned()))
            .is_some()
    }

    /// Removes and returns entries that ran out.
    pub fn expire(&self) -> Vec<Stopped> {
        self.take(|_, e| e.expires <= Instant::now())
    }

    /// Removes and returns the entries a connection started.
    pub fn clear_conn(&self, conn: ConnId) -> Vec<Stopped> {
        self.take(|_, e| e.conn == conn)
    }

    fn take(&self, pred: impl Fn(&(String, String), &Entry) -> bool) -> Vec<Stopped> {
        let keys: Vec<(String, String)> = self
            .entries
            .iter()
            .filter(|e| pred(e.key(), e.value()))
            .map(|e| e.key().clone())
            .collect();
        keys.into_iter()
            .filter_map(|k| {
                self.entries
                    .remove_if(&k, |k, e| pred(k, e))
                    .map(|((room, user), e)| (room, user, e.user_name))
            })
            .collect()
    }
}

/// The push that says `user_id` (`user_name`) is or is not typing in `room_id`.
pub fn typing_push(room_id: &str, user_id: &str, user_name: &str, is_typing: bool) -> ServerPush {
    ServerPush::TypingUser(TypingUser {
        room_id: room_id.to_owned(),
        user_id: user_id.to_owned(),
        user_name: user_name.to_owned(),
        is_typing,
    })
}

/// A send ends the sender's typing in that room (`members`: its members).
pub fn stopped_by_send(state: &AppState, room_id: &str, s: &Session, members: Vec<String>) {
    if state.typing.stop(room_id, &s.user_id) {
        state.push(
            members,
            Some(s.conn_id),
            &typing_push(room_id, &s.user_id, &s.user_name, false),
        );
    }
}

/// A member who left a room stops typing there (`members`: those who stay).
pub async fn stopped_by_leaving(
    state: &AppState,
    room_id: &str,
    user_id: &str,
    members: Vec<String>,
) {
    if !state.typing.stop(room_id, user_id) {
        return;
    }
    let user_name = match db::users::by_id(state.db.reader(), user_id).await {
        Ok(u) => u.map(|u| u.user_name).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot announce a typing stop");
            return;
        }
    };
    state.push(
        members,
        None,
        &typing_push(room_id, user_id, &user_name, false),
    );
}

/// Pushes `isTyping: false` for typists who stopped without saying so.
pub async fn announce_stopped(state: &AppState, stopped: Vec<Stopped>) {
    for (room_id, user_id, user_name) in stopped {
        match db::rooms::member_ids(state.db.reader(), &room_id).await {
            Ok(members) => state.push(
                members,
                None,
                &typing_push(&room_id, &user_id, &user_name, false),
            ),
            Err(e) => tracing::warn!(error = %e, "cannot announce a typing stop"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn typing_runs_out_after_five_silent_seconds() {
        let t = Typists::default();
        assert!(t.start("r", "u", "alice", 1));
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(!t.start("r", "u", "alice", 1), "renewal is not a new start");
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(t.expire().is_empty(), "renewed 3 s ago");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(t.expire(), vec![("r".into(), "u".into(), "alice".into())]);
        assert!(!t.stop("r", "u"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_disconnect_clears_only_that_connections_typing() {
        let t = Typists::default();
        t.start("r1", "u", "alice", 1);
        t.start("r2", "v", "bob", 2);
        assert_eq!(t.clear_conn(1).len(), 1);
        assert!(t.stop("r2", "v"));
    }
}
