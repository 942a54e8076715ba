//! The offline store (SQLite through rusqlite, WAL): users, rooms, members,
//! messages, receipts, per-room seqs and the outbox.
//!
//! Everything a UI shows is read from here, so a cold start with no network
//! shows the room list and recent history at once. Writes from the server are
//! idempotent (upserts keyed by server ids and tempIds), so replays and
//! duplicates change nothing. Several processes may share one store (WAL).
//!
//! - [`apply`]: server objects and events into the store.
//! - [`conversations`]: reactions, pins, mentions and reply previews (v1.1).
//! - [`outbox`]: the durable queue of sends, edits and deletes.
//! - [`read`]: views for UIs (room list, pages, search).

pub mod apply;
pub mod conversations;
pub mod notify;
pub mod outbox;
pub mod read;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};

/// Numbered migrations, applied in order, each in its own transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_create_store.sql")),
    (2, include_str!("../../migrations/0002_unread_index.sql")),
    (3, include_str!("../../migrations/0003_conversations.sql")),
    (4, include_str!("../../migrations/0004_link_previews.sql")),
    (5, include_str!("../../migrations/0005_notifications.sql")),
    (6, include_str!("../../migrations/0006_search.sql")),
    (7, include_str!("../../migrations/0007_outbox_waits.sql")),
];

/// The SQL functions the schema uses (its search triggers): registered on
/// every connection before anything else runs on it.
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "leetchat_words",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let content: String = ctx.get::<Option<String>>(0)?.unwrap_or_default();
            let attachments: String = ctx.get::<Option<String>>(1)?.unwrap_or_default();
            Ok(search_words(&content, &attachments))
        },
    )
}

/// The words a stored message is found by: its text and its attachments'
/// names (the JSON the store keeps), folded as the server folds them.
pub(crate) fn search_words(content: &str, attachments_json: &str) -> String {
    let names: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(attachments_json)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a.get("name").and_then(|n| n.as_str()).map(str::to_owned))
        .collect();
    let texts = std::iter::once(content).chain(names.iter().map(String::as_str));
    leetchat_protocol::search::index_words(texts).join(" ")
}

/// The meta key of the blocked list (a JSON array of user ids).
const BLOCKED_KEY: &str = "blocked_users";

/// The store. Cheap operations behind one connection; safe to share.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

/// What a room event's seq means for the room's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOutcome {
    /// The next one: applied, and the room's synced seq moved.
    Next,
    /// Already seen (a replay): applying it again changed nothing.
    Seen,
    /// Something between the synced seq and this one is missing: sync from there.
    Gap {
        /// The last seq applied without gaps.
        synced: i64,
    },
    /// The room is not in the store.
    UnknownRoom,
}

impl Store {
    /// Opens (creating) the store at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Store(format!("{}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)?;
        register_functions(&conn)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let store = Store {
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    /// An in-memory store (tests).
    pub fn in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        register_functions(&conn)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let store = Store {
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The connection, locked.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        for (version, sql) in MIGRATIONS {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let done: Option<i64> = tx
                .query_row(
                    "SELECT version FROM schema_migrations WHERE version = ?1",
                    [version],
                    |r| r.get(0),
                )
                .optional()?;
            if done.is_none() {
                tx.execute_batch(sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, datetime('now'))",
                    [version],
                )?;
            }
            tx.commit()?;
        }
        Ok(())
    }

    /// A value from the meta table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a value in the meta table.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Everyone the user blocked, as last heard from the server (its
    /// `user.blocks` after each connect, a block or unblock, the push to
    /// the user's other devices): notifications skip their messages.
    pub fn blocked(&self) -> Result<std::collections::HashSet<String>> {
        let ids: Vec<String> = match self.meta(BLOCKED_KEY)? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(ids.into_iter().collect())
    }

    /// Keeps the list of everyone the user blocked (see [`Store::blocked`]).
    pub fn set_blocked(&self, list: &leetchat_protocol::events::BlockList) -> Result<()> {
        let ids: Vec<&str> = list.blocks.iter().map(|b| b.user_id.as_str()).collect();
        self.set_meta(BLOCKED_KEY, &serde_json::to_string(&ids)?)
    }

    /// Removes a value from the meta table.
    pub fn delete_meta(&self, key: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Records that the event `seq` of `room_id` was applied.
    pub fn note_seq(&self, room_id: &str, seq: i64) -> Result<SeqOutcome> {
        let conn = self.conn();
        let synced: Option<i64> = conn
            .query_row(
                "SELECT synced_seq FROM rooms WHERE room_id = ?1",
                [room_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(synced) = synced else {
            return Ok(SeqOutcome::UnknownRoom);
        };
        conn.execute(
            "UPDATE rooms SET last_seq = MAX(last_seq, ?2) WHERE room_id = ?1",
            params![room_id, seq],
        )?;
        if seq <= synced {
            return Ok(SeqOutcome::Seen);
        }
        if seq == synced + 1 {
            conn.execute(
                "UPDATE rooms SET synced_seq = ?2 WHERE room_id = ?1",
                params![room_id, seq],
            )?;
            return Ok(SeqOutcome::Next);
        }
        Ok(SeqOutcome::Gap { synced })
    }

    /// Sets the room's synced seq (after `sync` returned everything up to `seq`).
    pub fn set_synced(&self, room_id: &str, seq: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE rooms SET synced_seq = MAX(synced_seq, ?2), last_seq = MAX(last_seq, ?2) WHERE room_id = ?1",
            params![room_id, seq],
        )?;
        Ok(())
    }

    /// `{roomId: syncedSeq}` for every stored room: what `sync` resumes from.
    pub fn sync_positions(&self) -> Result<std::collections::BTreeMap<String, i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT room_id, synced_seq FROM rooms")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The newest seq the store knows of a room (`None`: not stored).
    pub fn room_last_seq(&self, room_id: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT last_seq FROM rooms WHERE room_id = ?1",
                [room_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Up to where a room's stream has been applied here (`None`: not stored).
    pub fn synced_seq(&self, room_id: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT synced_seq FROM rooms WHERE room_id = ?1",
                [room_id],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_reopen_cleanly() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.db");
        let s = Store::open(&path).expect("open");
        s.set_meta("k", "v").expect("set");
        drop(s);
        let s = Store::open(&path).expect("reopen");
        assert_eq!(s.meta("k").expect("get").as_deref(), Some("v"));
    }

    /// A store from before search had the server's word rules is indexed
    /// anew when it is opened (deleted messages left out).
    #[test]
    fn an_older_store_is_searchable_after_the_upgrade() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
            )
            .expect("table");
            for (version, sql) in &MIGRATIONS[..5] {
                conn.execute_batch(sql).expect("migration");
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?1, 'then')",
                    [version],
                )
                .expect("record");
            }
            for (i, (content, deleted)) in [
                ("Rendez-vous au Café", None),
                ("cafe gone", Some("2024-01-01T00:00:00.000Z")),
            ]
            .into_iter()
            .enumerate()
            {
                conn.execute(
                    "INSERT INTO messages (message_id, room_id, seq, sender_id, message_type, content,
                       created_at, deleted_at, status)
                     VALUES (?1, 'r', ?2, 'u', 'text', ?3, '2024-01-01T00:00:00.000Z', ?4, 'sent')",
                    params![format!("m{i}"), i as i64 + 1, content, deleted],
                )
                .expect("message");
            }
        }
        let s = Store::open(&path).expect("upgrade");
        let q = leetchat_protocol::search::Query::parse("CAFE").expect("query");
        let hits = s.search(&q, None, 10).expect("search");
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].content, "Rendez-vous au Café");
        assert!(!hits[0].island);
    }

    /// The unread count, taken after every applied event, reads the index
    /// alone (no table lookup per unread message).
    #[test]
    fn unread_counts_come_from_an_index_alone() {
        let s = Store::in_memory().expect("store");
        let plan: Vec<String> = {
            let conn = s.conn();
            let mut stmt = conn
                .prepare(
                    "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM messages WHERE room_id = ?1 AND seq > ?2 \
                     AND sender_id <> ?3 AND deleted_at IS NULL",
                )
                .expect("plan");
            stmt.query_map(rusqlite::params!["r", 0, "me"], |r| r.get::<_, String>(3))
                .expect("rows")
                .collect::<std::result::Result<_, _>>()
                .expect("plan rows")
        };
        assert!(
            plan.iter()
                .any(|p| p.contains("COVERING INDEX messages_unread")),
            "{plan:?}"
        );
    }
}

/// The apply path over random histories: whatever order, however often,
/// from live pushes or from sync, a message ends as its newest version, and
/// a deleted one stays a tombstone.
#[cfg(test)]
mod properties {
    use super::Store;
    use leetchat_protocol::{Message, Room};
    use proptest::prelude::*;
    use serde_json::json;

    /// One thing the server may tell about message `m`: its state after `v`
    /// edits, its tombstone, or a `message.deleted` push.
    #[derive(Debug, Clone)]
    enum Told {
        Version(usize, usize),
        Tombstone(usize),
        Deleted(usize),
    }

    fn room() -> Room {
        serde_json::from_value(json!({
            "roomId": "r", "type": "group", "name": "r", "description": "", "isPrivate": false,
            "createdBy": "u_a", "createdAt": "2026-01-01T00:00:00.000Z", "lastSeq": 0,
            "members": [{"userId": "u_a", "role": "owner", "joinedAt": "2026-01-01T00:00:00.000Z"}]
        }))
        .expect("room")
    }

    fn version(m: usize, v: usize) -> Message {
        let mut j = json!({
            "messageId": format!("m{m}"), "roomId": "r", "seq": m as i64 + 1, "senderId": "u_a",
            "type": "text", "content": format!("m{m} v{v}"), "attachments": [],
            "createdAt": "2026-01-01T00:00:01.000Z"
        });
        if v > 0 {
            j["editedAt"] = json!(format!("2026-01-01T00:00:{:02}.000Z", 10 + v));
        }
        serde_json::from_value(j).expect("message")
    }

    fn tombstone(m: usize, edits: usize) -> Message {
        let mut t = version(m, edits);
        t.content = String::new();
        t.deleted_at = Some("2026-01-01T00:00:59.000Z".into());
        t
    }

    /// Islands: apart from the loaded history until met as part of it, and
    /// never kept for a room that is not stored.
    #[test]
    fn an_island_joins_the_loaded_history_when_a_push_or_page_brings_it() {
        let store = Store::in_memory().expect("store");
        store.apply_room(&room()).expect("room");
        store.apply_message(&version(9, 0)).expect("newest");
        // The device is behind (the server is at 12); a search finds 12.
        let found = store.apply_island(&version(11, 0)).expect("found");
        assert!(found.island);
        let loaded = |s: &Store| -> Vec<Option<i64>> {
            s.messages("r", None, 50)
                .expect("page")
                .iter()
                .map(|m| m.seq)
                .collect()
        };
        assert_eq!(loaded(&store), vec![Some(10)]);
        assert_eq!(store.oldest_seq("r").expect("oldest"), Some(10));
        // An edit of it keeps it apart; catching up (sync: 11, then 12) joins it.
        assert!(store.apply_island(&version(11, 1)).expect("edit").island);
        store.apply_message(&version(10, 0)).expect("11");
        let caught_up = store.apply_message(&version(11, 1)).expect("12");
        assert!(!caught_up.island);
        assert_eq!(loaded(&store), vec![Some(10), Some(11), Some(12)]);
        // A room the user left keeps nothing.
        let mut elsewhere = version(5, 0);
        elsewhere.room_id = "gone".into();
        assert!(matches!(
            store.apply_island(&elsewhere),
            Err(crate::error::Error::NotFound(_))
        ));
    }

    /// Up to 4 messages, each edited up to 4 times and maybe deleted; all
    /// of what the server could say about them, shuffled, some twice.
    fn histories() -> impl Strategy<Value = (Vec<(usize, bool)>, Vec<Told>)> {
        prop::collection::vec((0usize..5, any::<bool>()), 1..5)
            .prop_flat_map(|msgs| {
                let mut told = Vec::new();
                for (m, (edits, deleted)) in msgs.iter().enumerate() {
                    for v in 0..=*edits {
                        told.push(Told::Version(m, v));
                    }
                    if *deleted {
                        told.push(Told::Tombstone(m));
                        told.push(Told::Deleted(m));
                    }
                }
                let len = told.len();
                (Just(msgs), Just(told), prop::collection::vec(0..len, 0..6))
            })
            .prop_flat_map(|(msgs, mut told, dups)| {
                let extra: Vec<Told> = dups.iter().map(|&i| told[i].clone()).collect();
                told.extend(extra);
                (Just(msgs), Just(told).prop_shuffle())
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_order_of_pushes_and_sync_ends_in_the_newest_state((msgs, told) in histories()) {
            let store = Store::in_memory().expect("store");
            store.apply_room(&room()).expect("room");
            // A message the store has never seen may be deleted first: the
            // push finds nothing, and the message comes later as a tombstone.
            for t in &told {
                match t {
                    Told::Version(m, v) => {
                        let edits = msgs[*m].0;
                        store.apply_message(&version(*m, (*v).min(edits))).expect("apply");
                    }
                    Told::Tombstone(m) => {
                        store.apply_message(&tombstone(*m, msgs[*m].0)).expect("apply");
                    }
                    Told::Deleted(m) => {
                        store
                            .apply_deleted(&format!("m{m}"), "2026-01-01T00:00:59.000Z")
                            .expect("apply");
                    }
                }
            }
            for (m, (edits, deleted)) in msgs.iter().enumerate() {
                let got = store.message_by_key(&format!("m{m}")).expect("stored");
                prop_assert_eq!(got.seq, Some(m as i64 + 1));
                if *deleted {
                    prop_assert!(got.deleted_at.is_some(), "m{} came back to life", m);
                    prop_assert_eq!(&got.content, "");
                } else {
                    prop_assert_eq!(got.content, format!("m{m} v{edits}"), "m{} is not at its newest edit", m);
                    prop_assert!(got.deleted_at.is_none());
                }
            }
            let page = store.messages("r", None, 100).expect("page");
            prop_assert_eq!(page.len(), msgs.len(), "one row per message");
        }
    }
}
