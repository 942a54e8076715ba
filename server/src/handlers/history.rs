//! `message.history`: a page of a room's messages on one side of a cursor.
//!
//! On a cluster the newest page (opening a room: by far the most common
//! read) comes from the recent-history cache ([`crate::cluster::history`]).

use leetchat_protocol::events::{Direction, History, HistoryPage};
use leetchat_protocol::time::parse_rfc3339;
use leetchat_protocol::{HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT};
use serde_json::Value;

use super::{page_limit, require_member};
use crate::cluster::history::{CACHED_MESSAGES, CachedPage};
use crate::db::{self, messages::Position};
use crate::error::{AppError, AppResult};
use crate::session::Session;
use crate::state::AppState;

/// Reads a cursor: a seq (number or digits) or an RFC 3339 timestamp.
fn cursor_position(v: Option<&Value>) -> AppResult<Position> {
    let bad = || AppError::invalid("cursor must be a nextCursor, a seq or an RFC 3339 timestamp");
    match v {
        None | Some(Value::Null) => Ok(Position::End),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|s| *s >= 0)
            .map(Position::Seq)
            .ok_or_else(bad),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map(Position::Seq).map_err(|_| bad())
        }
        Some(Value::String(s)) => parse_rfc3339(s).map(Position::Time).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// `message.history`: a page of messages, ascending by seq, on one side of the cursor.
pub async fn history(state: &AppState, s: &Session, req: History) -> AppResult<HistoryPage> {
    let limit = page_limit(req.limit.as_ref(), HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT)?;
    let pos = cursor_position(req.cursor.as_ref())?;
    require_member(state, &req.room_id, &s.user_id).await?;
    let before = req.direction == Direction::Before;
    if matches!(pos, Position::End) && before && state.bus.caches_history() {
        return newest_page_cached(state, &req.room_id, limit).await;
    }
    let mut conn = state.db.reader().acquire().await?;
    let mut rows = db::messages::page(&mut conn, &req.room_id, pos, before, limit).await?;
    let has_more = rows.len() as i64 > limit;
    if has_more {
        if before {
            rows.remove(0);
        } else {
            rows.pop();
        }
    }
    let next_cursor = if before { rows.first() } else { rows.last() }.map(|m| m.seq.to_string());
    let messages = db::messages::hydrate(&mut conn, rows).await?;
    Ok(HistoryPage {
        messages,
        has_more,
        next_cursor,
    })
}

/// The newest page through the recent-history cache; a miss reads the
/// newest [`CACHED_MESSAGES`] from the database and fills the cache.
async fn newest_page_cached(state: &AppState, room_id: &str, limit: i64) -> AppResult<HistoryPage> {
    let want = usize::try_from(limit).unwrap_or(0);
    let page = match state.bus.cached_newest(room_id, want).await {
        Some(p) => {
            state.metrics.history_cache_hits.inc();
            p
        }
        None => {
            state.metrics.history_cache_misses.inc();
            let mut conn = state.db.reader().acquire().await?;
            // The stream seq before the read: the fill is refused if a
            // writer got past it meanwhile.
            let read_seq = db::rooms::row(&mut *conn, room_id)
                .await?
                .map_or(0, |r| r.last_seq);
            let cap = CACHED_MESSAGES as i64;
            let mut rows = db::messages::page(&mut conn, room_id, Position::End, true, cap).await?;
            let complete = rows.len() <= CACHED_MESSAGES;
            if !complete {
                rows.remove(0);
            }
            let newest = db::messages::hydrate(&mut conn, rows).await?;
            drop(conn);
            state
                .bus
                .fill_history(room_id, read_seq, &newest, complete)
                .await;
            let start = newest.len().saturating_sub(want);
            CachedPage {
                has_more: start > 0 || !complete,
                messages: newest[start..].to_vec(),
            }
        }
    };
    Ok(HistoryPage {
        next_cursor: page.messages.first().map(|m| m.seq.to_string()),
        messages: page.messages,
        has_more: page.has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursors_are_seqs_or_timestamps() {
        assert!(matches!(cursor_position(None), Ok(Position::End)));
        assert!(matches!(
            cursor_position(Some(&json!("42"))),
            Ok(Position::Seq(42))
        ));
        assert!(matches!(
            cursor_position(Some(&json!(42))),
            Ok(Position::Seq(42))
        ));
        assert!(matches!(
            cursor_position(Some(&json!("2025-11-19T10:30:00Z"))),
            Ok(Position::Time(_))
        ));
        for bad in [json!("yesterday"), json!(-3), json!({}), json!("")] {
            assert!(cursor_position(Some(&bad)).is_err(), "{bad}");
        }
    }
}
