//! `presence.get`: the status and last seen of users who share a room with
//! the caller. The announcements are [`crate::presence`].

use leetchat_protocol::events::{Presence, PresenceGet, PresenceList, Status};
use leetchat_protocol::time::rfc3339;

use crate::db;
use crate::error::{AppError, AppResult};
use crate::session::Session;
use crate::state::AppState;

/// Most users one `presence.get` may ask about.
pub const MAX_PRESENCE_QUERY: usize = 1000;

/// `presence.get`: status and last seen of the asked users who share a room
/// with the caller (or are the caller); others, and users the caller
/// blocked, are left out.
pub async fn get(state: &AppState, s: &Session, req: PresenceGet) -> AppResult<PresenceList> {
    if req.user_ids.len() > MAX_PRESENCE_QUERY {
        return Err(AppError::invalid(format!(
            "ask about at most {MAX_PRESENCE_QUERY} users at once"
        )));
    }
    let mut visible = Vec::new();
    let blocked: Vec<String> = db::moderation::blocks_of(&state.db, &s.user_id)
        .await?
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    for id in &req.user_ids {
        if blocked.contains(id) {
            continue;
        }
        if *id == s.user_id || db::rooms::share_a_room(state.db.reader(), &s.user_id, id).await? {
            visible.push(id.clone());
        }
    }
    visible.sort();
    visible.dedup();
    let rows = db::users::last_seen_of(&state.db, &visible).await?;
    let ids: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
    let cluster_view = state.bus.online_anywhere(&ids).await;
    let presence = rows
        .into_iter()
        .enumerate()
        .map(|(i, (user_id, last_seen))| {
            let online = match &cluster_view {
                Some(v) => v.get(i).copied().unwrap_or(false),
                None => state.hub.is_connected(&user_id),
            };
            Presence {
                status: if online {
                    Status::Online
                } else {
                    Status::Offline
                },
                last_seen: last_seen.map(rfc3339),
                user_id,
            }
        })
        .collect();
    Ok(PresenceList { presence })
}
