//! Search (protocol 9.7): the store's results at once, the server's when it
//! can be reached, merged; and a result opened with the history around it.
//!
//! The store and the server fold words alike ([`leetchat_protocol::search`]),
//! so a query finds the same messages in both. The server's results are
//! stored (as islands when they lie outside the history loaded so far, see
//! [`crate::store::apply`]), so a result found on a fresh device can be
//! opened, offline too, with the history around it.

use leetchat_protocol::events::{Direction, History, SEARCH_MAX_LIMIT, SearchMessages};
use leetchat_protocol::search::Query;
use serde::Serialize;

use super::Client;
use crate::error::{Error, Result};
use crate::views::MessageView;

/// One page of search results.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    /// Newest first.
    pub results: Vec<MessageView>,
    /// Where the next (older) page starts, from the server; none on the
    /// last page, or when the server was not asked.
    pub next_cursor: Option<String>,
    /// Whether the server answered: false means these are the stored
    /// messages only (offline, or the server could not be reached).
    pub from_server: bool,
}

/// A message with the history around it, as a room view shows it.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageContext {
    /// The room.
    pub room_id: String,
    /// The message asked for.
    pub message_id: String,
    /// Ascending by seq, the message among them.
    pub messages: Vec<MessageView>,
    /// The room has older messages than these.
    pub has_older: bool,
    /// The room has newer messages than these that are not part of them
    /// (false: these reach the room's loaded history or its newest message).
    pub has_newer: bool,
}

impl Client {
    /// Stored messages matching `query` (the server's word rules: every
    /// word, the last also as a prefix), newest first. Instant and offline.
    pub fn search(
        &self,
        query: &str,
        room_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        let q = Query::parse(query).map_err(|e| Error::Invalid(e.to_string()))?;
        self.inner.store.search(&q, room_id, i64::from(limit))
    }

    /// Searches the server and the store. The first page (`before` None)
    /// holds the server's results and the stored messages it cannot know
    /// yet (still in the outbox); later pages are the server's. When the
    /// server cannot be reached the first page is the store's results
    /// (`from_server` false) and a later page is [`Error::Offline`].
    pub async fn search_messages(
        &self,
        query: &str,
        room_id: Option<&str>,
        before: Option<&str>,
        limit: u32,
    ) -> Result<SearchPage> {
        let limit = limit.clamp(1, SEARCH_MAX_LIMIT);
        let local = match before {
            None => self.search(query, room_id, limit)?,
            // Validated like a first page's query, then left to the server.
            Some(_) => Query::parse(query)
                .map(|_| Vec::new())
                .map_err(|e| Error::Invalid(e.to_string()))?,
        };
        let req = SearchMessages {
            query: query.to_owned(),
            room_id: room_id.map(str::to_owned),
            before: before.map(str::to_owned),
            limit: Some(limit.into()),
        };
        let ack = match self.call(&req).await {
            Ok(ack) => ack,
            Err(Error::Offline | Error::Network(_)) if before.is_none() => {
                return Ok(SearchPage {
                    results: local,
                    next_cursor: None,
                    from_server: false,
                });
            }
            Err(e) => return Err(e),
        };
        let mut results = Vec::with_capacity(ack.results.len() + 1);
        for hit in &ack.results {
            match self.inner.store.apply_island(&hit.message) {
                Ok(view) => results.push(view),
                // The user left (or has not heard of) its room meanwhile.
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        // Sends still in the outbox match here and not yet there.
        results.extend(local.into_iter().filter(|m| m.message_id.is_none()));
        results.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(SearchPage {
            results,
            next_cursor: ack.next_cursor,
            from_server: true,
        })
    }

    /// A stored message (a search result, say) with up to `around` messages
    /// on each side. A message in the room's loaded history is answered
    /// from the store; one stored apart from it (an island) has the history
    /// around it fetched from the server and stored, and when that reaches
    /// the loaded history (or the newest message) the two become one.
    pub async fn message_context(&self, message_id: &str, around: u32) -> Result<MessageContext> {
        let store = &self.inner.store;
        let m = store.message_by_key(message_id)?;
        let (Some(seq), Some(id)) = (m.seq, m.message_id.clone()) else {
            return Err(Error::Invalid(
                "the message is not sent yet: it is at the end of its room".into(),
            ));
        };
        let room_id = m.room_id.clone();
        let n = i64::from(around.max(1));
        if !m.island {
            let mut messages = store.messages(&room_id, Some(seq + 1), n + 1)?;
            let after = store.messages_after(&room_id, seq, n)?;
            let has_older = messages.len() as i64 > n
                || store
                    .room(&room_id, &self.my_id()?)?
                    .is_some_and(|r| r.has_older);
            let has_newer = after.len() as i64 == n;
            messages.extend(after);
            return Ok(MessageContext {
                room_id,
                message_id: id,
                messages,
                has_older,
                has_newer,
            });
        }
        let older = self
            .call(&History {
                room_id: room_id.clone(),
                cursor: Some((seq + 1).into()),
                // The message itself and `n` before it.
                limit: Some((n + 1).into()),
                direction: Direction::Before,
            })
            .await?;
        let newer = self
            .call(&History {
                room_id: room_id.clone(),
                cursor: Some(seq.into()),
                limit: Some(n.into()),
                direction: Direction::After,
            })
            .await?;
        for msg in older.messages.iter().chain(&newer.messages) {
            store.apply_island(msg)?;
        }
        let lo = older.messages.iter().map(|m| m.seq).min().unwrap_or(seq);
        let hi = newer.messages.iter().map(|m| m.seq).max().unwrap_or(seq);
        // Everything from `lo` up is stored when the newer page reached the
        // newest message or the loaded history: one history again.
        let loaded_from = store.oldest_seq(&room_id)?;
        let joined = !newer.has_more || loaded_from.is_some_and(|l| hi >= l);
        if joined {
            store.join_islands(&room_id, lo, i64::MAX)?;
        }
        Ok(MessageContext {
            messages: store.messages_between(&room_id, lo, hi)?,
            room_id,
            message_id: id,
            has_older: older.has_more,
            has_newer: !joined,
        })
    }
}
