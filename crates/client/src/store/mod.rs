//! The offline store (SQLite through rusqlite, WAL): users, rooms, members,
//! messages, receipts, per-room seqs and the outbox.
//!
//! Everything a UI shows is read from here, so a cold start with no network
//! shows the room list and recent history at once. Writes from the server are
//! idempotent (upserts keyed by server ids and tempIds), so replays and
//! duplicates change nothing. Several processes may share one store (WAL).
//!
//! - [`apply`]: server objects and events into the store.
//! - [`outbox`]: the durable queue of sends, edits and deletes.
//! - [`read`]: views for UIs (room list, pages, search).

pub mod apply;
pub mod outbox;
pub mod read;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};

/// Numbered migrations, applied in order, each in its own transaction.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../../migrations/0001_create_store.sql"))];

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

    /// The room's synced seq.
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
}
