//! `message.search` (protocol 9.7): the caller's matching messages, newest
//! first, over the rooms it is a member of now (or the one it names).

use leetchat_protocol::events::{
    SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, SearchHit, SearchMessages, SearchResults,
};
use leetchat_protocol::search::Query;

use super::{page_limit, require_member};
use crate::db::{
    self,
    search::{Before, Scope},
};
use crate::error::{AppError, AppResult};
use crate::session::Session;
use crate::state::AppState;

/// `message.search`: one page of results and the cursor of the next.
pub async fn search(
    state: &AppState,
    s: &Session,
    req: SearchMessages,
) -> AppResult<SearchResults> {
    let query = Query::parse(&req.query).map_err(|e| AppError::invalid(e.to_string()))?;
    let limit = page_limit(req.limit.as_ref(), SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT)?;
    let before = match req.before.as_deref() {
        None => Before::Newest,
        Some(c) => Before::parse(state.db.kind, c)
            .ok_or_else(|| AppError::invalid("before must be a nextCursor of message.search"))?,
    };
    let scope = match &req.room_id {
        Some(room) => {
            // A clear `forbidden` for a room one is not in; the query checks
            // again as it runs.
            require_member(state, room, &s.user_id).await?;
            Scope::Room {
                room,
                user: &s.user_id,
            }
        }
        None => Scope::MemberOf(&s.user_id),
    };
    let mut conn = state.db.reader().acquire().await?;
    let mut hits =
        db::search::search(&mut conn, state.db.kind, &query, scope, &before, limit + 1).await?;
    let more = hits.len() as i64 > limit;
    hits.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if more {
        hits.last().map(|(_, c)| c.clone())
    } else {
        None
    };
    let rows = hits.into_iter().map(|(r, _)| r).collect();
    let messages = db::messages::hydrate(&mut conn, rows).await?;
    Ok(SearchResults {
        results: messages
            .into_iter()
            .map(|message| SearchHit { message })
            .collect(),
        next_cursor,
    })
}
