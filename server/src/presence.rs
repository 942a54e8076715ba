//! Online/offline presence and last seen.
//!
//! A user is online while any of their devices is connected. The first
//! connection and the last disconnection are announced with `presence.update`
//! to users who share a direct room or a group of at most
//! `PRESENCE_GROUP_LIMIT` members with them (members of larger groups ask
//! with `presence.get`, [`crate::handlers::presence`]), and `lastSeen` is
//! stored when the last one goes away.

use leetchat_protocol::ServerPush;
use leetchat_protocol::events::{Presence, Status};
use leetchat_protocol::time::{now_ms, rfc3339};

use crate::db;
use crate::state::AppState;

/// A connection of the user was registered on this node; `first_here` when
/// it is their only one on this node. Announces them online if it is their
/// first anywhere (as far as the cluster, or this node alone, can tell).
pub async fn connected(state: &AppState, user_id: &str, first_here: bool) {
    if !first_here {
        return;
    }
    if state.bus.user_connected(user_id).await {
        went_online(state, user_id).await;
    }
}

/// A connection of the user went away; `last_here` when it was their last
/// on this node; `stored` when their last seen was already stored at that
/// time. Announces them offline if they have no connection left anywhere.
pub async fn disconnected(state: &AppState, user_id: &str, last_here: bool, stored: Option<i64>) {
    if !last_here {
        return;
    }
    if state.bus.user_disconnected(user_id).await {
        match stored {
            Some(at) => announce_offline(state, user_id, at).await,
            None => went_offline(state, user_id).await,
        }
    }
}

/// Announces that the user's first device connected.
pub async fn went_online(state: &AppState, user_id: &str) {
    announce(state, user_id, Status::Online, None).await;
}

/// Stores last seen and announces that the user's last device went away.
pub async fn went_offline(state: &AppState, user_id: &str) {
    went_offline_at(state, user_id, now_ms()).await;
}

/// Like [`went_offline`] with a known last-seen time (a dead node's last beat).
pub async fn went_offline_at(state: &AppState, user_id: &str, at_ms: i64) {
    record_last_seen(state, [user_id], at_ms).await;
    announce_offline(state, user_id, at_ms).await;
}

/// Announces that the user's last device went away at `last_seen_ms`, which
/// is already stored.
pub async fn announce_offline(state: &AppState, user_id: &str, last_seen_ms: i64) {
    announce(state, user_id, Status::Offline, Some(rfc3339(last_seen_ms))).await;
}

/// Stores these users' last seen time (in one batch, with others being
/// stored).
pub async fn record_last_seen<'a>(
    state: &AppState,
    user_ids: impl IntoIterator<Item = &'a str>,
    at_ms: i64,
) {
    state.last_seen.record(user_ids, at_ms).await;
}

async fn announce(state: &AppState, user_id: &str, status: Status, last_seen: Option<String>) {
    let limit = state.config.presence_group_limit;
    let contacts = match db::rooms::contacts_of(state.db.reader(), user_id, limit).await {
        Ok(mut c) => {
            // Whoever blocked the user does not see it come and go.
            match db::moderation::blockers_of(state.db.reader(), user_id).await {
                Ok(blockers) => c.retain(|u| !blockers.contains(u)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot look up blocks for presence");
                    return;
                }
            }
            c
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up contacts for presence");
            return;
        }
    };
    let last_seen = match last_seen {
        Some(t) => Some(t),
        None => db::users::by_id(state.db.reader(), user_id)
            .await
            .ok()
            .flatten()
            .and_then(|u| u.last_seen)
            .map(rfc3339),
    };
    let p = Presence {
        user_id: user_id.to_owned(),
        status,
        last_seen,
    };
    state.push(contacts, None, &ServerPush::PresenceUpdate(p));
}
