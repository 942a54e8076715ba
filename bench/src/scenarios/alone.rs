//! Scenario 6b, the database alone: the rows one `message.send` writes (the
//! room's next seq, the message with its search words, its event row),
//! written through the server's own `Db` (its pool, its durability: SQLite
//! in WAL with `synchronous = FULL`, PostgreSQL with its default
//! `synchronous_commit = on`) with no server, socket or protocol in front.
//! It is the yardstick for scenario 6 (durable writes through the server),
//! measured in the same run on the same engine, in two ways:
//!
//! - **one transaction per message**, `senders` writers at once: what the
//!   server's send path costs the database today, one commit (one fsync) per
//!   message;
//! - **batched**: `senders` closed-loop writers hand their rows to one
//!   committer, which writes every row waiting when a commit starts (up to
//!   [`BATCH`]) in one transaction: what group commit can reach.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use leetchat_server::config::DatabaseKind;
use leetchat_server::db::{self, Db, events, messages};
use tokio::sync::{mpsc, oneshot};

use crate::client::new_histogram;
use crate::results::{DbAlone, DbAloneRun, Latency};

/// Most rows one batched commit takes.
pub const BATCH: usize = 256;

/// One writer's room and user.
#[derive(Clone)]
struct Writer {
    room_id: String,
    user_id: String,
}

/// Scenario 6b on the database at `url` (made fresh by the caller): each way
/// for `secs`, with `senders` writers.
pub async fn database_alone(url: &str, senders: usize, secs: Duration) -> Result<DbAlone> {
    let db = Arc::new(
        Db::open(url, senders.max(2) as u32)
            .await
            .with_context(|| format!("open {url}"))?,
    );
    let writers = setup(&db, senders).await?;
    let per_message = one_per_commit(&db, &writers, secs).await?;
    let batched = batched(&db, &writers, secs).await?;
    Ok(DbAlone {
        senders,
        per_message,
        batched,
    })
}

/// A user and a group of their own per writer, as the durable scenario has.
async fn setup(db: &Db, senders: usize) -> Result<Vec<Writer>> {
    let now = leetchat_protocol::time::now_ms();
    let mut writers = Vec::with_capacity(senders);
    for i in 0..senders {
        let user =
            db::users::create_account(db, &format!("alone{i}"), "alone", "-", None, false, now)
                .await?
                .map_err(|e| anyhow::anyhow!("user alone{i}: {e:?}"))?;
        let room_id = db::new_id();
        let mut tx = db.begin().await?;
        db::rooms::insert(
            &mut tx,
            &room_id,
            leetchat_protocol::RoomType::Group,
            &format!("alone{i}"),
            "",
            false,
            &user.user_id,
            now,
        )
        .await?;
        db::rooms::add_member(
            &mut tx,
            &room_id,
            &user.user_id,
            leetchat_protocol::Role::Owner,
            now,
        )
        .await?;
        tx.commit().await?;
        writers.push(Writer {
            room_id,
            user_id: user.user_id,
        });
    }
    Ok(writers)
}

/// The rows of one send, in `conn`'s transaction.
async fn write_send(
    conn: &mut sqlx::AnyConnection,
    kind: DatabaseKind,
    w: &Writer,
    n: u64,
) -> Result<()> {
    let now = leetchat_protocol::time::now_ms();
    let seq = db::rooms::next_seq(conn, &w.room_id, now)
        .await?
        .context("the writer's room is gone")?;
    let row = messages::MessageRow {
        message_id: db::new_id(),
        room_id: w.room_id.clone(),
        seq,
        sender_id: w.user_id.clone(),
        temp_id: Some(uuid::Uuid::new_v4().simple().to_string()),
        message_type: "text".into(),
        content: format!("d{n}"),
        reply_to: None,
        created_at: now,
        edited_at: None,
        deleted_at: None,
        mentions_room: 0,
        preview_url: None,
    };
    let words = db::search::words_of(&row.content, &[]);
    messages::insert(conn, kind, &row, &words).await?;
    events::insert(
        conn,
        &w.room_id,
        seq,
        events::kind::CREATED,
        events::Names {
            message_id: Some(&row.message_id),
            ..events::Names::default()
        },
        now,
    )
    .await?;
    Ok(())
}

/// Each writer: begin, its rows, commit, again, until `secs` are over.
async fn one_per_commit(db: &Arc<Db>, writers: &[Writer], secs: Duration) -> Result<DbAloneRun> {
    let t0 = Instant::now();
    let tasks: Vec<_> = writers
        .iter()
        .cloned()
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut h = new_histogram();
                let mut n = 0u64;
                while t0.elapsed() < secs {
                    let s = Instant::now();
                    let mut tx = db.begin().await?;
                    write_send(&mut tx, db.kind, &w, n).await?;
                    tx.commit().await?;
                    let _ = h.record(s.elapsed().as_micros().max(1) as u64);
                    n += 1;
                }
                anyhow::Ok(h)
            })
        })
        .collect();
    let mut all = new_histogram();
    for t in tasks {
        let _ = all.add(t.await??);
    }
    Ok(run(&all, t0.elapsed(), all.len() as f64))
}

/// One row's request to the committer, answered after its commit.
struct Job {
    writer: usize,
    n: u64,
    done: oneshot::Sender<Result<(), String>>,
}

/// Closed-loop writers hand rows to one committer that writes every row
/// waiting when it starts a commit (up to [`BATCH`]) in one transaction.
async fn batched(db: &Arc<Db>, writers: &[Writer], secs: Duration) -> Result<DbAloneRun> {
    let (tx, mut rx) = mpsc::channel::<Job>(writers.len() * 2);
    let committer = {
        let db = db.clone();
        let writers = writers.to_vec();
        tokio::spawn(async move {
            let mut commits = 0u64;
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(j) => batch.push(j),
                        Err(_) => break,
                    }
                }
                let outcome: Result<()> = async {
                    let mut t = db.begin().await?;
                    for j in &batch {
                        write_send(&mut t, db.kind, &writers[j.writer], j.n).await?;
                    }
                    t.commit().await?;
                    Ok(())
                }
                .await;
                commits += 1;
                let outcome = outcome.map_err(|e| format!("{e:#}"));
                for j in batch.drain(..) {
                    let _ = j.done.send(outcome.clone());
                }
            }
            commits
        })
    };
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..writers.len())
        .map(|writer| {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut h = new_histogram();
                let mut n = 0u64;
                while t0.elapsed() < secs {
                    let s = Instant::now();
                    let (done, answer) = oneshot::channel();
                    tx.send(Job { writer, n, done })
                        .await
                        .map_err(|_| anyhow::anyhow!("the committer stopped"))?;
                    answer
                        .await
                        .map_err(|_| anyhow::anyhow!("the committer dropped a row"))?
                        .map_err(|e| anyhow::anyhow!("a batched commit failed: {e}"))?;
                    let _ = h.record(s.elapsed().as_micros().max(1) as u64);
                    n += 1;
                }
                anyhow::Ok(h)
            })
        })
        .collect();
    drop(tx);
    let mut all = new_histogram();
    for t in tasks {
        let _ = all.add(t.await??);
    }
    let elapsed = t0.elapsed();
    let commits = committer.await?;
    Ok(run(&all, elapsed, commits as f64))
}

fn run(h: &Histogram<u64>, elapsed: Duration, commits: f64) -> DbAloneRun {
    let written = h.len();
    DbAloneRun {
        written,
        written_per_s: written as f64 / elapsed.as_secs_f64(),
        mean_batch: if commits > 0.0 {
            written as f64 / commits
        } else {
            0.0
        },
        latency: Latency::of(h),
    }
}
