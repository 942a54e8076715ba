//! Scenario 11 (`--only search`): `message.search` over a room set of many
//! messages, on the embedded server (SQLite) and on PostgreSQL.
//!
//! The messages are written straight into the database (through the API it
//! would take hours), without their words, like a database from before the
//! index existed; the server is then started again and indexes them in the
//! background, which is timed. Then each query is asked many times over one
//! socket (first page, 20 results) and its latency recorded; the index's
//! size is read from the database; and the send path is timed (one sender,
//! each send waiting for its ack) on the empty database and again with the
//! full index in place, on this server and, when given
//! (`--before-server-bin`), on a server from before search existed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::json;

use super::{Target, bar};
use crate::client::{Conn, Totals, User, new_histogram};
use crate::results::{Latency, SearchEngine, SearchQuery, SendCost};

/// Sizes of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct SearchPlan {
    /// Messages written into the database.
    pub messages: i64,
    /// Over how many groups (the searcher is in all of them).
    pub rooms: usize,
    /// Requests per query.
    pub requests: usize,
    /// Sends timed, before and after.
    pub sends: usize,
}

/// The words of the seeded texts: pseudo-words of two or three syllables,
/// drawn with a skew (some are common, most are rare), and marker words at
/// known frequencies the queries ask for.
const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "be", "do", "fa", "gu", "hi", "jo", "pe", "su",
];
/// (word, one message in N has it).
pub const MARKERS: [(&str, u64); 3] = [("meeting", 10), ("harbor", 100), ("zephyr", 10_000)];
/// In the oldest message only: the background index reaches it last.
const OLDEST: &str = "genesis";

/// The queries timed: (label, query).
const QUERIES: [(&str, &str); 6] = [
    ("one word in 10% of messages", "meeting"),
    ("one word in 1%", "harbor"),
    ("one word in 0.01%", "zephyr"),
    ("a prefix (harb*, 1%)", "harb"),
    ("two words (10% and 1%: 0.1% have both)", "meeting harbor"),
    ("two words (10% and 0.01%)", "meeting zephyr"),
];

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn vocabulary() -> Vec<String> {
    let mut v = Vec::new();
    for a in SYLLABLES {
        for b in SYLLABLES {
            v.push(format!("{a}{b}"));
            for c in SYLLABLES {
                v.push(format!("{a}{b}{c}"));
            }
        }
    }
    v
}

/// The text of seeded message `i` (0 is the oldest).
fn text(i: i64, rng: &mut Rng, vocab: &[String]) -> String {
    let n = 6 + rng.below(9);
    let mut words: Vec<&str> = Vec::with_capacity(n as usize + 3);
    for _ in 0..n {
        // Squared: low indexes (common words) far more often than high ones.
        let u = rng.below(1 << 20) as f64 / f64::from(1 << 20);
        let k = ((u * u) * vocab.len() as f64) as usize;
        words.push(&vocab[k.min(vocab.len() - 1)]);
    }
    for (w, every) in MARKERS {
        if rng.below(every) == 0 {
            let at = rng.below(words.len() as u64) as usize;
            words.insert(at, w);
        }
    }
    if i == 0 {
        words.push(OLDEST);
    }
    words.join(" ")
}

/// One seeded message: (room index, text).
struct Seeded {
    room: usize,
    text: String,
}

fn seeded(plan: &SearchPlan) -> Vec<Seeded> {
    let vocab = vocabulary();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..plan.messages)
        .map(|i| Seeded {
            room: rng.below(plan.rooms as u64) as usize,
            text: text(i, &mut rng, &vocab),
        })
        .collect()
}

/// Where the messages go.
pub enum Store<'a> {
    /// The embedded server's SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database (its URL).
    Postgres(&'a str),
}

/// What the scenario needs of the harness: a server it can stop and start
/// again on the same data.
pub trait Servers {
    /// Starts (or starts again) the server on the same data.
    async fn start(&mut self) -> Result<()>;
    /// Stops it at once.
    fn kill(&mut self);
    /// The running server.
    fn target(&self) -> Target<'_>;
}

/// Runs the scenario on one engine.
pub async fn run(
    name: &str,
    servers: &mut impl Servers,
    store: Store<'_>,
    plan: &SearchPlan,
    quiet: bool,
) -> Result<SearchEngine> {
    servers.start().await?;
    let t = servers.target();
    let users = super::users(&t, "search", 2, quiet).await?;
    let searcher = &users[0];
    let start = Instant::now();
    let mut c = connect(&t, searcher, start).await?;
    let mut rooms = Vec::with_capacity(plan.rooms + 1);
    for i in 0..=plan.rooms {
        let r = c
            .call(
                "room.create",
                json!({"type": "group", "name": format!("search {i}"), "memberIds": [users[1].user_id]}),
            )
            .await?;
        rooms.push(r["room"]["roomId"].as_str().context("roomId")?.to_owned());
    }
    // The last room takes the timed sends; the others the seeded messages.
    let send_room = rooms.pop().context("a room")?;
    let send_empty = send_cost(&mut c, &send_room, plan.sends, "empty").await?;
    c.finish().await;
    drop(t);
    servers.kill();

    let b = bar(
        1,
        &format!("{name}: seed {} messages", plan.messages),
        quiet,
    );
    let t0 = Instant::now();
    let msgs = seeded(plan);
    match &store {
        Store::Sqlite(path) => seed_sqlite(path, &rooms, &searcher.user_id, &msgs)?,
        Store::Postgres(url) => seed_postgres(url, &rooms, &searcher.user_id, &msgs)?,
    }
    let seed_s = t0.elapsed().as_secs_f64();
    b.finish_and_clear();
    let expect: Vec<usize> = MARKERS
        .iter()
        .map(|(w, _)| {
            msgs.iter()
                .filter(|m| m.text.split(' ').any(|x| x == *w))
                .count()
        })
        .collect();
    drop(msgs);

    // Started again, the server indexes what it finds unindexed.
    let b = bar(1, &format!("{name}: index in the background"), quiet);
    let t0 = Instant::now();
    servers.start().await?;
    let t = servers.target();
    let mut c = connect(&t, searcher, start).await?;
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let r = c.call("message.search", json!({"query": OLDEST})).await?;
        if r["results"].as_array().is_some_and(|a| a.len() == 1) && unindexed(&t).await? == 0 {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the background index did not finish within an hour"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let index_s = t0.elapsed().as_secs_f64();
    b.finish_and_clear();
    if let Store::Postgres(url) = &store {
        // As autovacuum would after so many new rows: planner statistics.
        psql(url, "ANALYZE messages")?;
    }

    // Every match of the rare word, page by page: none missing, none twice.
    let (w, _) = MARKERS[2];
    let found = all_results(&mut c, w).await?;
    ensure!(
        found == expect[2],
        "{name}: {w:?} found {found} times, seeded {}",
        expect[2]
    );

    let b = bar(
        (QUERIES.len() * plan.requests) as u64,
        &format!("{name}: queries"),
        quiet,
    );
    let mut queries = Vec::with_capacity(QUERIES.len());
    for (label, q) in QUERIES {
        let mut h = new_histogram();
        let mut first_page = 0;
        for _ in 0..plan.requests {
            let s = Instant::now();
            let r = c
                .call("message.search", json!({"query": q, "limit": 20}))
                .await?;
            let _ = h.record(s.elapsed().as_micros().max(1) as u64);
            first_page = r["results"].as_array().map_or(0, Vec::len);
            b.inc(1);
        }
        queries.push(SearchQuery {
            label: label.to_owned(),
            query: q.to_owned(),
            first_page,
            latency: Latency::of(&h),
        });
    }
    b.finish_and_clear();
    let send_full = send_cost(&mut c, &send_room, plan.sends, "indexed").await?;
    c.finish().await;
    drop(t);
    servers.kill();
    let (index_bytes, table_bytes) = match &store {
        Store::Sqlite(path) => sqlite_sizes(path)?,
        Store::Postgres(url) => postgres_sizes(url)?,
    };
    Ok(SearchEngine {
        name: name.to_owned(),
        messages: plan.messages,
        rooms: plan.rooms,
        seed_s,
        index_s,
        index_bytes,
        table_bytes,
        marker_counts: MARKERS
            .iter()
            .zip(&expect)
            .map(|((w, _), n)| ((*w).to_owned(), *n))
            .collect(),
        queries,
        send_empty,
        send_indexed: send_full,
        send_before_search: None,
    })
}

/// The send path alone (for a server from before search): `plan.sends`
/// sends on an empty database.
pub async fn send_cost_alone(
    servers: &mut impl Servers,
    plan: &SearchPlan,
    quiet: bool,
) -> Result<SendCost> {
    servers.start().await?;
    let t = servers.target();
    let users = super::users(&t, "before", 2, quiet).await?;
    let mut c = connect(&t, &users[0], Instant::now()).await?;
    let r = c
        .call(
            "room.create",
            json!({"type": "group", "name": "sends", "memberIds": [users[1].user_id]}),
        )
        .await?;
    let room = r["room"]["roomId"].as_str().context("roomId")?.to_owned();
    let cost = send_cost(&mut c, &room, plan.sends, "before").await?;
    c.finish().await;
    Ok(cost)
}

async fn connect(t: &Target<'_>, u: &User, start: Instant) -> Result<Conn> {
    Conn::connect(
        &t.ws(0),
        &u.token,
        start,
        1,
        std::sync::Arc::new(Totals::default()),
        false,
    )
    .await
}

/// Every result of `query`, paged 50 at a time.
async fn all_results(c: &mut Conn, query: &str) -> Result<usize> {
    let mut n = 0;
    let mut before: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut req = json!({"query": query, "limit": 50});
        if let Some(b) = &before {
            req["before"] = json!(b);
        }
        let r = c.call("message.search", req).await?;
        for hit in r["results"].as_array().context("results")? {
            let id = hit["message"]["messageId"].as_str().context("id")?;
            ensure!(seen.insert(id.to_owned()), "{id} came twice");
            n += 1;
        }
        match r["nextCursor"].as_str() {
            Some(c) => before = Some(c.to_owned()),
            None => return Ok(n),
        }
    }
}

/// `n` sends, one after another, each waiting for its ack.
pub async fn send_cost(c: &mut Conn, room: &str, n: usize, tag: &str) -> Result<SendCost> {
    let mut h = new_histogram();
    let t0 = Instant::now();
    for i in 0..n {
        let s = Instant::now();
        c.call(
            "message.send",
            json!({"roomId": room, "type": "text", "tempId": format!("{tag}-{i}"),
                   "content": format!("timed send {i} about the harbor meeting")}),
        )
        .await?;
        let _ = h.record(s.elapsed().as_micros().max(1) as u64);
    }
    Ok(SendCost {
        sends: n,
        per_s: n as f64 / t0.elapsed().as_secs_f64(),
        ack: Latency::of(&h),
    })
}

/// The server's `leetchat_search_unindexed_messages`.
async fn unindexed(t: &Target<'_>) -> Result<u64> {
    let text = reqwest::get(format!("{}/metrics", t.url(0)))
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix("leetchat_search_unindexed_messages "))
        .and_then(|v| v.trim().parse().ok())
        .context("no leetchat_search_unindexed_messages in /metrics")
}

/// Each room's next seq (after what creating it took).
fn next_seqs(last: Vec<(String, i64)>, rooms: &[String]) -> Result<Vec<i64>> {
    rooms
        .iter()
        .map(|r| {
            last.iter()
                .find(|(id, _)| id == r)
                .map(|(_, s)| s + 1)
                .with_context(|| format!("room {r} not in the database"))
        })
        .collect()
}

const T0_MS: i64 = 1_700_000_000_000;

fn seed_sqlite(path: &Path, rooms: &[String], sender: &str, msgs: &[Seeded]) -> Result<()> {
    let mut db = rusqlite::Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(10))?;
    let last: Vec<(String, i64)> = {
        let mut st = db.prepare("SELECT room_id, last_seq FROM rooms")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut seq = next_seqs(last, rooms)?;
    let tx = db.transaction()?;
    {
        let mut m = tx.prepare(
            "INSERT INTO messages (message_id, room_id, seq, sender_id, message_type, content, created_at)
             VALUES (?1, ?2, ?3, ?4, 'text', ?5, ?6)",
        )?;
        let mut e = tx.prepare(
            "INSERT INTO room_events (room_id, seq, kind, message_id, created_at)
             VALUES (?1, ?2, 'message.received', ?3, ?4)",
        )?;
        for (i, s) in msgs.iter().enumerate() {
            let id = format!("seed-{i:08}");
            let at = T0_MS + i as i64 * 1000;
            m.execute(rusqlite::params![
                id,
                rooms[s.room],
                seq[s.room],
                sender,
                s.text,
                at
            ])?;
            e.execute(rusqlite::params![rooms[s.room], seq[s.room], id, at])?;
            seq[s.room] += 1;
        }
        let mut u = tx.prepare("UPDATE rooms SET last_seq = ?2 WHERE room_id = ?1")?;
        for (r, next) in rooms.iter().zip(&seq) {
            u.execute(rusqlite::params![r, next - 1])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn seed_postgres(url: &str, rooms: &[String], sender: &str, msgs: &[Seeded]) -> Result<()> {
    let out = psql_out(url, "SELECT room_id || ' ' || last_seq FROM rooms")?;
    let last: Vec<(String, i64)> = out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(r, s)| Ok((r.to_owned(), s.trim().parse()?)))
        .collect::<Result<_>>()?;
    let mut seq = next_seqs(last, rooms)?;
    let mut m = String::with_capacity(msgs.len() * 100);
    let mut e = String::with_capacity(msgs.len() * 80);
    for (i, s) in msgs.iter().enumerate() {
        let id = format!("seed-{i:08}");
        let at = T0_MS + i as i64 * 1000;
        let room = &rooms[s.room];
        let n = seq[s.room];
        m.push_str(&format!(
            "{id}\t{room}\t{n}\t{sender}\ttext\t{}\t{at}\n",
            s.text
        ));
        e.push_str(&format!("{room}\t{n}\tmessage.received\t{id}\t{at}\n"));
        seq[s.room] += 1;
    }
    copy(
        url,
        "COPY messages (message_id, room_id, seq, sender_id, message_type, content, created_at) FROM STDIN",
        &m,
    )?;
    copy(
        url,
        "COPY room_events (room_id, seq, kind, message_id, created_at) FROM STDIN",
        &e,
    )?;
    for (r, next) in rooms.iter().zip(&seq) {
        psql(
            url,
            &format!(
                "UPDATE rooms SET last_seq = {} WHERE room_id = '{r}'",
                next - 1
            ),
        )?;
    }
    Ok(())
}

/// Bytes of (the search index, the messages table without it).
fn sqlite_sizes(path: &Path) -> Result<(Option<u64>, Option<u64>)> {
    let db = rusqlite::Connection::open(path)?;
    let size = |sql: &str| -> Option<u64> {
        db.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
            .ok()
            .flatten()
            .and_then(|n| u64::try_from(n).ok())
    };
    Ok((
        size(
            "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'message_search%' \
             OR name IN ('messages_by_search_rowid', 'messages_not_indexed')",
        ),
        size("SELECT SUM(pgsize) FROM dbstat WHERE name = 'messages'"),
    ))
}

fn postgres_sizes(url: &str) -> Result<(Option<u64>, Option<u64>)> {
    let out = psql_out(
        url,
        "SELECT pg_relation_size('messages_search') + pg_relation_size('messages_by_time') \
           + pg_relation_size('messages_not_indexed') \
           + (SELECT COALESCE(SUM(pg_column_size(search)), 0) FROM messages), \
         pg_table_size('messages') - (SELECT COALESCE(SUM(pg_column_size(search)), 0) FROM messages)",
    )?;
    let mut it = out.trim().split('|').map(|v| v.trim().parse::<u64>().ok());
    Ok((it.next().flatten(), it.next().flatten()))
}

fn psql(url: &str, sql: &str) -> Result<()> {
    psql_out(url, sql).map(|_| ())
}

fn psql_out(url: &str, sql: &str) -> Result<String> {
    let out = Command::new("psql")
        .args([url, "-qtAc", sql])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn copy(url: &str, sql: &str, data: &str) -> Result<()> {
    let mut child = Command::new("psql")
        .args([url, "-qc", sql])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running psql")?;
    child
        .stdin
        .take()
        .context("psql stdin")?
        .write_all(data.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("psql COPY: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}
