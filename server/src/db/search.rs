//! The search index (protocol 9.7): one query per engine.
//!
//! A message's words ([`leetchat_protocol::search`]: folded for case and
//! accents, language-neutral) are written with the message, in the same
//! transaction, and replaced by an edit or dropped by a delete in theirs, so
//! a search never sees text a message no longer has.
//!
//! - **SQLite**: a contentless FTS5 table, `message_search`, whose rowid is
//!   the message's `search_rowid` (growing with each message, so the FTS
//!   index walks newest first without sorting). The last word is a prefix
//!   term, served by FTS5's prefix indexes.
//! - **PostgreSQL**: `messages.search`, a `tsvector` of the same words (no
//!   stemming, no stop words) under a GIN index; the last word a `:*` prefix
//!   lexeme. Newest first is `created_at DESC, message_id DESC`.
//!
//! Messages stored before the index existed are indexed in the background
//! ([`index_older`], run by [`crate::search_index`]), newest first.

use leetchat_protocol::Attachment;
use leetchat_protocol::search::{Query, index_words};
use sqlx::{AnyConnection, FromRow};

use super::messages::{MSG_COLS, MessageRow};
use crate::config::DatabaseKind;

/// The words a message is found by, joined with spaces: its text and its
/// attachments' names. None once it is deleted.
pub fn words_of(content: &str, attachments: &[Attachment]) -> String {
    let texts = std::iter::once(content).chain(attachments.iter().map(|a| a.name.as_str()));
    index_words(texts).join(" ")
}

/// The column and value a message insert adds for the index
/// ([`super::messages::insert`]); PostgreSQL's value reads the words from
/// bind `$14`.
pub(super) fn insert_column(kind: DatabaseKind) -> (&'static str, &'static str) {
    match kind {
        DatabaseKind::Sqlite => (
            "search_rowid",
            "(SELECT COALESCE(MAX(search_rowid), 0) + 1 FROM messages WHERE search_rowid IS NOT NULL)",
        ),
        DatabaseKind::Postgres => ("search", "array_to_tsvector(string_to_array($14, ' '))"),
    }
}

/// After a message insert: SQLite's FTS row (PostgreSQL's words went in
/// with the row).
pub(super) async fn after_insert(
    conn: &mut AnyConnection,
    kind: DatabaseKind,
    message_id: &str,
    words: &str,
) -> Result<(), sqlx::Error> {
    if kind == DatabaseKind::Sqlite && !words.is_empty() {
        sqlx::query(
            "INSERT INTO message_search (rowid, words) \
             SELECT search_rowid, $2 FROM messages WHERE message_id = $1",
        )
        .bind(message_id)
        .bind(words)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Replaces a message's words after an edit (`Some`), or drops them after a
/// delete (`None`). A message the background indexer has not reached yet is
/// left to it (it reads the message as it is then).
pub async fn reindex(
    conn: &mut AnyConnection,
    kind: DatabaseKind,
    message_id: &str,
    words: Option<&str>,
) -> Result<(), sqlx::Error> {
    match kind {
        DatabaseKind::Sqlite => {
            let rowid: Option<(Option<i64>,)> =
                sqlx::query_as("SELECT search_rowid FROM messages WHERE message_id = $1")
                    .bind(message_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some((Some(rowid),)) = rowid else {
                return Ok(());
            };
            sqlx::query("DELETE FROM message_search WHERE rowid = $1")
                .bind(rowid)
                .execute(&mut *conn)
                .await?;
            if let Some(w) = words.filter(|w| !w.is_empty()) {
                sqlx::query("INSERT INTO message_search (rowid, words) VALUES ($1, $2)")
                    .bind(rowid)
                    .bind(w)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        DatabaseKind::Postgres => {
            sqlx::query(
                "UPDATE messages SET search = array_to_tsvector(string_to_array($2, ' ')) \
                 WHERE message_id = $1",
            )
            .bind(message_id)
            .bind(words.unwrap_or(""))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// Where a page of results starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Before {
    /// The newest match.
    Newest,
    /// SQLite: below this FTS rowid.
    Rowid(i64),
    /// PostgreSQL: older than this (created_at, message_id).
    Key(i64, String),
}

impl Before {
    /// Reads a `nextCursor` of this engine; None when it is not one.
    pub fn parse(kind: DatabaseKind, cursor: &str) -> Option<Before> {
        match kind {
            DatabaseKind::Sqlite => {
                let n = cursor.strip_prefix('s')?;
                (!n.starts_with('+')).then_some(())?;
                n.parse().ok().map(Before::Rowid)
            }
            DatabaseKind::Postgres => {
                let (t, id) = cursor.strip_prefix('p')?.split_once('.')?;
                if t.starts_with('+') || id.is_empty() || id.len() > 64 {
                    return None;
                }
                Some(Before::Key(t.parse().ok()?, id.to_owned()))
            }
        }
    }
}

/// A match: the message row and the cursor just past it.
#[derive(Debug, FromRow)]
struct Hit {
    #[sqlx(flatten)]
    row: MessageRow,
    search_rowid: Option<i64>,
}

/// Which rooms a search covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The rooms `user` is a member of now.
    MemberOf(&'a str),
    /// One room, if `user` is a member of it at the time of the search
    /// (checked in the query itself: a removal just before finds nothing).
    Room {
        /// The room.
        room: &'a str,
        /// Who searches.
        user: &'a str,
    },
}

/// Up to `limit` live messages matching `query` in `scope`, newest first,
/// starting after `before`, each with the cursor that continues after it.
pub async fn search(
    conn: &mut AnyConnection,
    kind: DatabaseKind,
    query: &Query,
    scope: Scope<'_>,
    before: &Before,
    limit: i64,
) -> Result<Vec<(MessageRow, String)>, sqlx::Error> {
    // The bind after the others (SQLite's last is $4, PostgreSQL's $5).
    let last = match kind {
        DatabaseKind::Sqlite => 5,
        DatabaseKind::Postgres => 6,
    };
    let (scope_sql, scope_bind, member) = match (scope, kind) {
        (Scope::Room { room, user }, _) => (
            format!(
                "m.room_id = $2 AND EXISTS (SELECT 1 FROM room_members rm \
                 WHERE rm.room_id = $2 AND rm.user_id = ${last})"
            ),
            room,
            Some(user),
        ),
        (Scope::MemberOf(user), DatabaseKind::Sqlite) => (
            "m.room_id IN (SELECT room_id FROM room_members WHERE user_id = $2)".to_owned(),
            user,
            None,
        ),
        // The rooms as a list computed once: as a join, PostgreSQL ran the
        // word lookup once per room (0.5-0.7 s at 1M messages in 50 rooms,
        // instead of 3-14 ms).
        (Scope::MemberOf(user), DatabaseKind::Postgres) => (
            "m.room_id = ANY(ARRAY(SELECT room_id FROM room_members WHERE user_id = $2))"
                .to_owned(),
            user,
            None,
        ),
    };
    let cols = MSG_COLS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let hits: Vec<Hit> = match kind {
        DatabaseKind::Sqlite => {
            let bound = match before {
                Before::Rowid(r) => *r,
                _ => i64::MAX,
            };
            let sql = format!(
                "SELECT {cols}, m.search_rowid FROM message_search s \
                 JOIN messages m ON m.search_rowid = s.rowid \
                 WHERE message_search MATCH $1 AND s.rowid < $3 AND m.deleted_at IS NULL AND {scope_sql} \
                 ORDER BY s.rowid DESC LIMIT $4"
            );
            let mut q = sqlx::query_as(&sql)
                .bind(query.fts5())
                .bind(scope_bind)
                .bind(bound)
                .bind(limit);
            if let Some(user) = member {
                q = q.bind(user);
            }
            q.fetch_all(conn).await?
        }
        DatabaseKind::Postgres => {
            let (t, id) = match before {
                Before::Key(t, id) => (*t, id.as_str()),
                _ => (i64::MAX, ""),
            };
            let sql = format!(
                "SELECT {cols}, NULL::BIGINT AS search_rowid FROM messages m \
                 WHERE m.search @@ $1::tsquery AND (m.created_at, m.message_id) < ($3, $4) AND m.deleted_at IS NULL AND {scope_sql} \
                 ORDER BY m.created_at DESC, m.message_id DESC LIMIT $5"
            );
            // Planned for each query, with its words: a common word is best
            // found by walking the time index newest first, a rare one through
            // the GIN index, and a prepared statement's generic plan (used
            // after a few runs) cannot know which one it has.
            let mut q = sqlx::query_as(&sql)
                .persistent(false)
                .bind(tsquery(query))
                .bind(scope_bind)
                .bind(t)
                .bind(id)
                .bind(limit);
            if let Some(user) = member {
                q = q.bind(user);
            }
            q.fetch_all(conn).await?
        }
    };
    Ok(hits
        .into_iter()
        .map(|h| {
            let cursor = match h.search_rowid {
                Some(r) => format!("s{r}"),
                None => format!("p{}.{}", h.row.created_at, h.row.message_id),
            };
            (h.row, cursor)
        })
        .collect())
}

/// The tsquery, in its text form (cast with `::tsquery`, which applies no
/// dictionary: the lexemes are the words as folded here).
fn tsquery(q: &Query) -> String {
    let mut terms: Vec<String> = q.whole.iter().map(|w| format!("'{w}'")).collect();
    terms.push(format!("'{}':*", q.prefix));
    terms.join(" & ")
}

/// A message the background indexer reads.
#[derive(Debug, FromRow)]
struct Unindexed {
    message_id: String,
    message_type: String,
    content: String,
    deleted_at: Option<i64>,
}

/// Indexes up to `batch` messages stored before the index existed, newest
/// first; the number indexed (0: none left). A message edited or deleted
/// between the read and the write is read again by the next batch.
pub async fn index_older(db: &super::Db, batch: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let lock = match db.kind {
        // The writer connection is SQLite's only one: the batch is atomic
        // with respect to sends, edits and deletes anyway.
        DatabaseKind::Sqlite => "",
        // Several nodes share the work without waiting on each other.
        DatabaseKind::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    let unset = match db.kind {
        DatabaseKind::Sqlite => "search_rowid IS NULL",
        DatabaseKind::Postgres => "search IS NULL",
    };
    let rows: Vec<Unindexed> = sqlx::query_as(&format!(
        "SELECT message_id, message_type, content, deleted_at FROM messages \
         WHERE {unset} ORDER BY created_at DESC, message_id DESC LIMIT $1 {lock}"
    ))
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    let mut done = 0;
    for r in &rows {
        let words = if r.deleted_at.is_some() {
            String::new()
        } else if r.message_type == "image" || r.message_type == "file" {
            let att = super::files::attachments(&mut *tx, &r.message_id).await?;
            words_of(&r.content, &att)
        } else {
            words_of(&r.content, &[])
        };
        let r2 = match db.kind {
            DatabaseKind::Sqlite => {
                sqlx::query(
                    "UPDATE messages SET search_rowid = \
                       (SELECT COALESCE(MIN(search_rowid), 0) - 1 FROM messages WHERE search_rowid IS NOT NULL) \
                     WHERE message_id = $1 AND search_rowid IS NULL",
                )
                .bind(&r.message_id)
                .execute(&mut *tx)
                .await?
            }
            DatabaseKind::Postgres => {
                sqlx::query(
                    "UPDATE messages SET search = array_to_tsvector(string_to_array($2, ' ')) \
                     WHERE message_id = $1 AND search IS NULL",
                )
                .bind(&r.message_id)
                .bind(&words)
                .execute(&mut *tx)
                .await?
            }
        };
        if r2.rows_affected() == 1 {
            done += 1;
            after_insert(&mut tx, db.kind, &r.message_id, &words).await?;
        }
    }
    tx.commit().await?;
    Ok(done)
}

/// How many messages are not indexed yet.
pub async fn unindexed(db: &super::Db) -> Result<i64, sqlx::Error> {
    let unset = match db.kind {
        DatabaseKind::Sqlite => "search_rowid IS NULL",
        DatabaseKind::Postgres => "search IS NULL",
    };
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM messages WHERE {unset}"))
        .fetch_one(db.reader())
        .await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsqueries_quote_every_word() {
        let q = Query::parse("Deploy the SERV").unwrap();
        assert_eq!(tsquery(&q), "'deploy' & 'the' & 'serv':*");
        assert_eq!(tsquery(&Query::parse("café").unwrap()), "'cafe':*");
    }

    #[test]
    fn cursors_belong_to_their_engine() {
        use DatabaseKind::*;
        assert_eq!(Before::parse(Sqlite, "s42"), Some(Before::Rowid(42)));
        assert_eq!(Before::parse(Sqlite, "s-7"), Some(Before::Rowid(-7)));
        assert_eq!(
            Before::parse(Postgres, "p1700000000000.0190a-b"),
            Some(Before::Key(1_700_000_000_000, "0190a-b".into()))
        );
        for bad in ["", "s", "sx", "s+1", "p1.x", "42", "p.x", "p1."] {
            assert_eq!(Before::parse(Sqlite, bad), None, "{bad}");
        }
        for bad in ["", "p", "p12", "px.y", "p+1.x", "p1.", "s42"] {
            assert_eq!(Before::parse(Postgres, bad), None, "{bad}");
        }
    }

    #[test]
    fn attachment_names_are_words_too() {
        let a = Attachment {
            file_id: "f".into(),
            name: "Quarterly-Report.pdf".into(),
            mime: "application/pdf".into(),
            size: 1,
            width: None,
            height: None,
            url: String::new(),
            thumbnail_url: None,
        };
        assert_eq!(
            words_of("see the report", &[a]),
            "see the report quarterly pdf"
        );
    }
}
