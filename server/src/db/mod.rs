//! The database: one set of queries for SQLite and PostgreSQL through sqlx's
//! `Any` driver, migrations per engine, and the write path's rules.
//!
//! Queries use `$N` placeholders (both engines accept them), store times as
//! Unix milliseconds and booleans as integers, so one implementation serves
//! both engines and ONE test suite runs against both.
//!
//! Every query of the server is here, one file per table family. The write
//! rule that keeps each room's event stream gapless is
//! [`crate::stream`]'s: a write transaction's first statement bumps
//! `rooms.last_seq` ([`rooms::next_seq`], called only from there).

pub mod events;
pub mod files;
pub mod invites;
pub mod mentions;
pub mod messages;
pub mod moderation;
pub mod notify;
pub mod pins;
pub mod previews;
pub mod push;
pub mod reactions;
pub mod rooms;
pub mod search;
pub mod users;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};

use crate::config::DatabaseKind;

/// A write transaction.
pub type Tx = Transaction<'static, Any>;

/// Migrations embedded at build time, one folder per engine.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Pools for reading and writing. On SQLite all writes go through one
/// connection (SQLite has one writer anyway; a queue beats busy-waiting); on
/// PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    /// Which engine.
    pub kind: DatabaseKind,
    read: AnyPool,
    write: AnyPool,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names no supported engine.
    #[error("unsupported DATABASE_URL (use postgres:// or sqlite:)")]
    UnsupportedUrl,
    /// Connecting failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("cannot apply migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// A pooled PostgreSQL connection idle this long is pinged before it is
/// handed out (see [`Db::open`]).
const PING_IDLE_AFTER: Duration = Duration::from_millis(100);

impl Db {
    /// Opens the database at `url` and applies pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Db, DbError> {
        install_default_drivers();
        let kind = DatabaseKind::of(url).ok_or(DbError::UnsupportedUrl)?;
        // A SQLite file that does not exist yet is created (read-write-create).
        let url = &if kind == DatabaseKind::Sqlite && !url.contains("mode=") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_owned()
        };
        // A request that cannot get a connection this soon fails as retryable
        // (the database is down or saturated) rather than hanging.
        let acquire = Duration::from_secs(3);
        let db = match kind {
            DatabaseKind::Sqlite => {
                let opts = || {
                    AnyPoolOptions::new()
                        .acquire_timeout(acquire)
                        // A SQLite connection is a file handle in this
                        // process: it cannot drop out like a socket, so the
                        // ping (a round trip to its worker thread on every
                        // acquire) buys nothing.
                        .test_before_acquire(false)
                        .after_connect(|conn, _meta| {
                            Box::pin(async move {
                                // FULL: an ack promises the message survives power loss too.
                                conn.execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                                )
                                .await?;
                                Ok(())
                            })
                        })
                };
                let write = opts()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                SQLITE_MIGRATIONS
                    .run(&write)
                    .await
                    .map_err(DbError::Migrate)?;
                let read = opts()
                    .max_connections(max_connections.max(2))
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                Db { kind, read, write }
            }
            DatabaseKind::Postgres => {
                let pool = AnyPoolOptions::new()
                    .acquire_timeout(acquire)
                    // No `SELECT 1` round trip before every acquire (sqlx's
                    // default: one more round trip for every transaction of
                    // every send). Only a connection that sat idle for
                    // PING_IDLE_AFTER is pinged first: after a PostgreSQL
                    // restart every pooled connection is dead, and the pool
                    // drops those cleanly instead of failing a request with
                    // each. Under load connections are reused within
                    // milliseconds and never pinged (faults_postgres.rs).
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for < PING_IDLE_AFTER {
                                return Ok(true);
                            }
                            Ok(sqlx::Connection::ping(conn).await.is_ok())
                        })
                    })
                    .max_connections(max_connections)
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                POSTGRES_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(DbError::Migrate)?;
                Db {
                    kind,
                    read: pool.clone(),
                    write: pool,
                }
            }
        };
        Ok(db)
    }

    /// The pool for reads.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Starts a write transaction. Its first statement must be a write
    /// (see the module docs).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.write.begin().await
    }

    /// The pool for single-statement writes outside a transaction.
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// `SELECT 1` within a second.
    pub async fn ping(&self) -> bool {
        let q = sqlx::query("SELECT 1").execute(&self.read);
        matches!(
            tokio::time::timeout(Duration::from_secs(1), q).await,
            Ok(Ok(_))
        )
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// A new time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Ids per `IN (...)` list: far below SQLite's and PostgreSQL's bind limits.
const IN_LIST_MAX: usize = 500;

/// `ids` in slices small enough for one `IN (...)` list each.
fn chunked<T>(ids: &[T]) -> impl Iterator<Item = &[T]> {
    ids.chunks(IN_LIST_MAX)
}

/// `$1, $2, ..., $n`.
fn placeholders(n: usize) -> String {
    placeholders_from(1, n)
}

/// The first (text) column of the rows of `sql` for every slice of `ids`:
/// `sql` has `{in}` where the `IN (...)` list goes, after `$1` = `key` when
/// there is one. One query per [`chunked`] slice.
async fn text_among(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    key: Option<&str>,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let first = 1 + usize::from(key.is_some());
    let mut out = Vec::new();
    for chunk in chunked(ids) {
        let sql = sql.replace("{in}", &placeholders_from(first, chunk.len()));
        let mut q = sqlx::query_as::<_, (String,)>(&sql);
        if let Some(k) = key {
            q = q.bind(k);
        }
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?.into_iter().map(|(v,)| v));
    }
    Ok(out)
}

/// `$first, ..., $(first + n - 1)`: an `IN` list after `first - 1` other binds.
fn placeholders_from(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an invite (a server's or a room's) still lets someone in at `now`.
pub fn invite_usable(
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    max_uses: Option<i64>,
    uses: i64,
    now: i64,
) -> bool {
    revoked_at.is_none() && expires_at.is_none_or(|e| e > now) && max_uses.is_none_or(|m| uses < m)
}
