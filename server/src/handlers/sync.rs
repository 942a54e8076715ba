//! `sync`: exactly what a client missed since its last seq per room.
//!
//! Events are replayed from `room_events` in seq order, each shaped like the
//! push it was ([`RoomEvent::replay`]), with payloads built from the current
//! state (an edited message shows its latest text, a deleted one is a
//! tombstone in every event). So only members get events: a room the caller
//! is not in (any more) answers with an error and nothing else.

use std::collections::{BTreeMap, HashMap};

use leetchat_protocol::events::{SyncEvent, SyncRequest, SyncResponse, SyncRoom};
use leetchat_protocol::objects::Message;
use leetchat_protocol::{ErrorBody, ErrorCode, SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT};
use sqlx::AnyConnection;

use crate::db;
use crate::error::{AppError, AppResult, NOT_MEMBER};
use crate::session::{Session, truncate};
use crate::state::AppState;
use crate::stream::RoomEvent;

/// Most rooms one `sync` may name.
pub const MAX_SYNC_ROOMS: usize = 5000;

/// `sync`.
pub async fn sync(state: &AppState, s: &Session, req: SyncRequest) -> AppResult<SyncResponse> {
    let limit = match req.limit {
        None => i64::from(SYNC_DEFAULT_LIMIT),
        Some(l) if l > 0 => l.min(i64::from(SYNC_MAX_LIMIT)),
        Some(_) => return Err(AppError::invalid("limit must be a positive whole number")),
    };
    if req.since.len() > MAX_SYNC_ROOMS {
        return Err(AppError::invalid(format!(
            "sync at most {MAX_SYNC_ROOMS} rooms at once"
        )));
    }
    if let Some((room, _)) = req.since.iter().find(|(_, seq)| **seq < 0) {
        return Err(AppError::invalid(format!(
            "since[{:?}] must not be negative",
            truncate(room, 64)
        )));
    }
    let _turn = state.read_turn().await?;
    let mut conn = state.db.reader().acquire().await?;
    // The caller's rooms with their current seqs.
    let mine: BTreeMap<String, i64> = db::rooms::seqs_of_user(&mut *conn, &s.user_id)
        .await?
        .into_iter()
        .collect();

    let mut rooms = BTreeMap::new();
    for (room_id, &since) in &req.since {
        let part = if let Some(&last) = mine.get(room_id) {
            let (events, has_more) = if last > since {
                replay(&mut conn, room_id, since, last, limit).await?
            } else {
                (Vec::new(), false)
            };
            SyncRoom {
                events,
                has_more,
                error: None,
            }
        } else {
            // Not a member (any more): nothing of the room, only why. What a
            // former member missed before its leave would be rebuilt from the
            // room as it is now (edits made after the leave included), so it
            // gets none of it; its client forgets the room on this error.
            // The same answer whether or not the room exists.
            let error = ErrorBody::new(ErrorCode::Forbidden, NOT_MEMBER);
            SyncRoom {
                events: Vec::new(),
                has_more: false,
                error: Some(error),
            }
        };
        rooms.insert(room_id.clone(), part);
    }

    let mut new_rooms = Vec::new();
    for id in mine.keys().filter(|id| !req.since.contains_key(*id)) {
        if let Some(room) = db::rooms::load(&mut conn, id).await? {
            new_rooms.push(room);
        }
    }
    Ok(SyncResponse { rooms, new_rooms })
}

/// Events `after < seq <= upto`, at most `limit`, and whether more follow.
async fn replay(
    conn: &mut AnyConnection,
    room_id: &str,
    after: i64,
    upto: i64,
    limit: i64,
) -> AppResult<(Vec<SyncEvent>, bool)> {
    let mut rows = db::events::range(&mut *conn, room_id, after, upto, limit + 1).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let messages: HashMap<String, Message> =
        db::messages::of_events(conn, room_id, after, upto, limit)
            .await?
            .into_iter()
            .map(|m| (m.message_id.clone(), m))
            .collect();
    let events = rows
        .iter()
        .map(|row| {
            let push = RoomEvent::replay(row, &messages)?.push(room_id, row.seq);
            Ok(SyncEvent {
                seq: row.seq,
                event: push.event().to_owned(),
                data: push.data()?,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok((events, has_more))
}
