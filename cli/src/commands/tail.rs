//! `tail ROOM`: follow a room live until Ctrl-C or SIGTERM.
//!
//! The client core keeps the connection up (reconnecting with backoff after a
//! server restart and catching up what was missed); this loop only prints.
//! The same message can be reported more than once (the push, then a
//! catch-up), so a message is printed again only when what it shows changed.

use std::collections::{HashMap, HashSet};

use leetchat_client::{
    ClientEvent, ConnectionState, Delivery, Error as ClientError, MessageChange, MessageView,
    Origin,
};
use tokio::sync::broadcast::error::RecvError;

use super::Ctx;
use crate::error::{Error, Result};
use crate::output::{Names, message_line};

/// How many stored messages are shown before going live.
const BACKLOG: i64 = 10;

/// `tail ROOM`.
pub async fn run(ctx: &Ctx, room: &str) -> Result<()> {
    ctx.sync_or_note().await?;
    let room = ctx.room_id(room, false).await?;
    let me = ctx.me()?.user_id;
    // Subscribed before the connection starts, so nothing is missed.
    let mut events = ctx.client.events();
    // Held so the core's state channel always has a reader: with none, the
    // core's `watch::Sender::send` fails without storing the state, and the
    // state-change events after the first "online" are never emitted.
    let _state = ctx.client.connection_state();
    let mut names = ctx.names()?;
    let mut shown = Shown::default();
    for m in ctx.client.messages(&room, None, BACKLOG)? {
        shown.is_new(&m);
        if ctx.out.is_json() {
            let counts = ctx.client.store().room_counts(&room, &me)?;
            ctx.out.json(&ClientEvent::MessageUpserted {
                message: m,
                change: MessageChange::New,
                origin: Origin::History,
                room: counts,
            })?;
        } else {
            ctx.out.message(&m, &names)?;
        }
    }
    ctx.client.start()?;
    let mut banner = Banner::default();
    let mut typing: HashSet<String> = HashSet::new();
    let stop = shutdown();
    tokio::pin!(stop);
    let result = loop {
        let event = tokio::select! {
            () = &mut stop => break Ok(()),
            e = events.recv() => e,
        };
        let event = match event {
            Ok(e) => e,
            Err(RecvError::Lagged(n)) => {
                ctx.out.note(&format!(
                    "({n} updates skipped while busy; `leetchat history` shows everything)"
                ));
                continue;
            }
            Err(RecvError::Closed) => break Ok(()),
        };
        match &event {
            ClientEvent::MessageUpserted { message, .. } if message.room_id == room => {
                if !shown.is_new(message) {
                    continue;
                }
                typing.remove(&message.sender_id);
                if names.name(&message.sender_id) == message.sender_id {
                    names = ctx.names()?;
                }
                if ctx.out.is_json() {
                    ctx.out.json(&event)?;
                } else {
                    ctx.out.message(message, &names)?;
                }
            }
            ClientEvent::Connection { state } => {
                if ctx.out.is_json() {
                    ctx.out.json(&event)?;
                } else if let Some(text) = banner.change(*state) {
                    ctx.out.note(text);
                }
                if *state == ConnectionState::SignedOut {
                    break Err(Error::Client(ClientError::SignedOut(
                        "the session ended".into(),
                    )));
                }
            }
            ClientEvent::Typing {
                room_id,
                user_id,
                user_name,
                is_typing,
            } if *room_id == room && *user_id != me => {
                let changed = if *is_typing {
                    typing.insert(user_id.clone())
                } else {
                    typing.remove(user_id)
                };
                if ctx.out.is_json() {
                    if changed {
                        ctx.out.json(&event)?;
                    }
                } else if changed && *is_typing {
                    ctx.out.note(&format!("{user_name} is typing…"));
                }
            }
            ClientEvent::RoomUpdated { room: r } if r.room_id == room => {
                let before = names.clone();
                names = ctx.names()?;
                if ctx.out.is_json() {
                    ctx.out.json(&event)?;
                } else {
                    pins_changed(ctx, &before, &names, &room)?;
                }
            }
            ClientEvent::RoomRemoved { room_id } if *room_id == room => {
                break Err(Error::Room(format!("you are no longer a member of {room}")));
            }
            ClientEvent::OutboxFailed {
                room_id, reason, ..
            } if *room_id == room => {
                ctx.out
                    .note(&format!("a queued change was refused: {reason}"));
            }
            _ => {}
        }
    };
    ctx.client.stop().await;
    result
}

/// Says which messages were pinned or unpinned since `before`.
fn pins_changed(ctx: &Ctx, before: &Names, now: &Names, room: &str) -> Result<()> {
    for m in ctx.client.messages(room, None, BACKLOG)? {
        let (was, is) = (before.is_pinned(&m), now.is_pinned(&m));
        if was != is {
            let what = if is { "pinned" } else { "unpinned" };
            ctx.out.line(&format!(
                "({what}) {}",
                message_line(&m, now, ctx.out.offset())
            ))?;
        }
    }
    Ok(())
}

/// What each printed message showed, to print a message again only when
/// that changes (an edit, a deletion, a failure, a reaction, its quote).
#[derive(Debug, Default)]
struct Shown(HashMap<i64, Look>);

/// What a printed message line showed: text, edited, deleted, failed,
/// reactions, and its reply's quote.
type Look = (String, bool, bool, bool, String, Option<(String, bool)>);

impl Shown {
    /// Records `m`; true when it shows something not printed yet.
    fn is_new(&mut self, m: &MessageView) -> bool {
        let look = (
            m.content.clone(),
            m.edited_at.is_some(),
            m.deleted_at.is_some(),
            m.delivery == Delivery::Failed,
            m.reactions
                .iter()
                .map(|r| format!("{}:{}:{}", r.emoji, r.count, r.mine))
                .collect::<Vec<_>>()
                .join(" "),
            m.reply_preview
                .as_ref()
                .map(|p| (p.content.clone(), p.deleted_at.is_some())),
        );
        self.0.insert(m.local_id, look.clone()) != Some(look)
    }
}

/// The connection banner: "offline", "reconnecting…", "online", each said
/// once per change however many attempts the backoff makes meanwhile.
#[derive(Debug, Default)]
struct Banner {
    /// The last thing said.
    said: Option<&'static str>,
}

impl Banner {
    /// What to say for a new connection state, if anything.
    fn change(&mut self, state: ConnectionState) -> Option<&'static str> {
        let text = match (state, self.said) {
            (ConnectionState::Online, _) => "online",
            (ConnectionState::SignedOut, _) => "signed out: run `leetchat login USER`",
            (ConnectionState::Connecting, None) => "connecting…",
            (ConnectionState::Connecting | ConnectionState::Syncing, Some("offline")) => {
                "reconnecting…"
            }
            // Still trying: the banner already says so.
            (ConnectionState::Offline, Some("reconnecting…")) => return None,
            (ConnectionState::Offline, _) => "offline",
            _ => return None,
        };
        if self.said == Some(text) {
            return None;
        }
        self.said = Some(text);
        Some(text)
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
pub(super) fn shutdown() -> impl std::future::Future<Output = ()> {
    // The handlers are installed now, not at the first poll: a SIGTERM that
    // arrives before the caller first waits must still stop it cleanly.
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut int, mut term) = signals;
            let int = async {
                match int.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let term = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = int => {}
                () = term => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_announced_once_however_many_attempts_it_takes() {
        let mut b = Banner::default();
        let said: Vec<&str> = [
            ConnectionState::Connecting,
            ConnectionState::Syncing,
            ConnectionState::Online,
            ConnectionState::Offline,
            ConnectionState::Connecting,
            ConnectionState::Offline,
            ConnectionState::Connecting,
            ConnectionState::Offline,
            ConnectionState::Connecting,
            ConnectionState::Syncing,
            ConnectionState::Online,
        ]
        .into_iter()
        .filter_map(|s| b.change(s))
        .collect();
        assert_eq!(
            said,
            [
                "connecting…",
                "online",
                "offline",
                "reconnecting…",
                "online"
            ]
        );
    }
}
