//! `message.search` (protocol 9.7): messages the caller may see that match
//! words, newest first.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::objects::Message;

/// Default page size of `message.search`.
pub const SEARCH_DEFAULT_LIMIT: u32 = 20;
/// Largest page size of `message.search`; larger requests are capped to it.
pub const SEARCH_MAX_LIMIT: u32 = 50;

/// `message.search`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchMessages {
    /// What the user typed: words, the last one also as a prefix.
    pub query: String,
    /// Only this room (the caller must be a member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    /// A `nextCursor` from the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Page size (default 20, capped at 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Value>,
}

/// One result of `message.search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// The message as it is now.
    pub message: Message,
}

/// Ack of `message.search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    /// Newest first.
    pub results: Vec<SearchHit>,
    /// Where the next (older) page starts; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
