//! Group commit: stream writes that arrive while a commit is in flight are
//! written in the next single transaction, and pay for one commit (one
//! fsync) together.
//!
//! A write is a job ([`write`]): the code that would run inside its own
//! [`StreamWrite`], handed to a lane of this node's committer. A lane is a
//! task that takes every job waiting (up to [`MAX_BATCH`]) and runs them one
//! after another in one transaction:
//!
//! 1. **Room locks first**: the lane takes the room lock of every job's room
//!    before the transaction starts, so the batch publishes each room's
//!    events in seq order, as a lone [`StreamWrite`] does. It waits for at
//!    most one lock, holding none (that of the job passed over most often,
//!    so a busy room is not starved); a lock another writer holds defers
//!    that room's jobs to the next batch. Jobs run sorted by room (stable),
//!    so two nodes' batches take PostgreSQL's row locks of rooms in one
//!    order.
//! 2. **Each job takes its own gapless seq** as its first statement and
//!    writes its rows. A job that fails (a non-member, a tempId that raced)
//!    or records nothing must leave nothing behind: the transaction is
//!    rolled back and the batch run again without it, this time with a
//!    savepoint per job, so further bad jobs are rolled back alone and a
//!    batch costs at most one run over. Its seq goes back and no other job
//!    fails with it. Its answer is final only if it saw no uncommitted
//!    write of its own room; otherwise it runs again in the next batch.
//!    Jobs are plain functions of their [`StreamWrite`], so running one
//!    again writes the same thing.
//! 3. **One commit**; then, in order, the recent-history cache and the
//!    pushes of every job, then the room locks are released, then each job
//!    gets its answer, so its ack always follows the commit and its pushes.
//!    A failed commit (or begin) fails every job of the batch, and only
//!    those, with the database's error (retryable when the cause is).
//!
//! SQLite has one writer, so it has one lane; PostgreSQL has several, each
//! a connection, and a room always goes to the same lane.

use std::any::Any;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Weak;
use std::time::Instant;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::config::DatabaseKind;
use crate::error::{AppError, AppResult};
use crate::fanout::ConnId;
use crate::state::{AppState, Inner};
use crate::stream::{Staged, StreamWrite};

/// Most jobs in one transaction.
pub const MAX_BATCH: usize = 256;

/// Jobs waiting for a lane, beyond which a writer waits to hand its job over.
const LANE_QUEUE: usize = 4096;

/// Most lanes on PostgreSQL (each holds a connection while it commits).
const MAX_LANES: usize = 4;

/// What a job's function returns, type-erased.
type Output = Box<dyn Any + Send>;

/// A job's function, type-erased ([`Erased`]).
trait Run: Send + Sync {
    fn run<'w, 'a>(&'w self, w: &'w mut StreamWrite<'a>) -> BoxFuture<'w, AppResult<Output>>;
}

/// A job's function with its output boxed.
struct Erased<F, T>(F, PhantomData<fn() -> T>);

impl<F, T> Run for Erased<F, T>
where
    F: for<'w, 'a> Fn(&'w mut StreamWrite<'a>) -> BoxFuture<'w, AppResult<T>> + Send + Sync,
    T: Send + 'static,
{
    fn run<'w, 'a>(&'w self, w: &'w mut StreamWrite<'a>) -> BoxFuture<'w, AppResult<Output>> {
        let f = (self.0)(w);
        Box::pin(async move { f.await.map(|v| Box::new(v) as Output) })
    }
}

/// A stream write waiting for its batch.
struct Job {
    room_id: String,
    /// The connection that asked (it gets the ack, not the push).
    exclude: Option<ConnId>,
    run: Box<dyn Run>,
    done: oneshot::Sender<AppResult<(Output, Vec<String>)>>,
    /// When the lane took it (its order of arrival).
    arrival: u64,
    /// How many batches went without it (its room's lock was held).
    deferrals: u32,
}

/// The lanes of this node's committer.
#[derive(Debug)]
pub struct Committer {
    lanes: Vec<mpsc::Sender<Job>>,
    /// The lanes' receiving ends until [`Committer::start`] spawns them.
    waiting: std::sync::Mutex<Vec<mpsc::Receiver<Job>>>,
    started: std::sync::Once,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("room_id", &self.room_id)
            .finish()
    }
}

impl Committer {
    /// A committer for `kind`, with a pool of `max_connections`.
    pub fn new(kind: DatabaseKind, max_connections: u32) -> Committer {
        let n = match kind {
            DatabaseKind::Sqlite => 1,
            DatabaseKind::Postgres => (max_connections as usize / 4).clamp(1, MAX_LANES),
        };
        let (lanes, waiting) = (0..n).map(|_| mpsc::channel(LANE_QUEUE)).unzip();
        Committer {
            lanes,
            waiting: std::sync::Mutex::new(waiting),
            started: std::sync::Once::new(),
        }
    }

    /// Spawns the lanes (once). They hold the state weakly: they end when
    /// the state is gone and their queues are empty.
    fn start(&self, state: &AppState) {
        self.started.call_once(|| {
            let receivers = std::mem::take(
                &mut *self
                    .waiting
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            for rx in receivers {
                tokio::spawn(run_lane(state.downgrade(), rx));
            }
        });
    }
}

/// Writes to `room_id`'s stream in the next group commit: `f` runs inside
/// a [`StreamWrite`] that has taken the room's next seq, exactly as it
/// would after [`StreamWrite::begin`], and must record at least one event
/// (recording none undoes its writes: its seq goes back, and `f`'s answer
/// is returned with no members). Returns `f`'s answer and the room's
/// members once the batch has committed and its pushes have gone (except to
/// `exclude`). Without such a room, the answer a non-member gets.
///
/// `f` may run more than once (when another job of its batch fails, the
/// batch is run again without it): it must depend only on its arguments
/// and what it reads through `w`.
pub async fn write<T, F>(
    state: &AppState,
    room_id: &str,
    exclude: Option<ConnId>,
    f: F,
) -> AppResult<(T, Vec<String>)>
where
    F: for<'w, 'a> Fn(&'w mut StreamWrite<'a>) -> BoxFuture<'w, AppResult<T>>
        + Send
        + Sync
        + 'static,
    T: Send + 'static,
{
    let committer = &state.committer;
    committer.start(state);
    let (done, answer) = oneshot::channel();
    let job = Job {
        room_id: room_id.to_owned(),
        exclude,
        run: Box::new(Erased(f, PhantomData)),
        done,
        arrival: 0,
        deferrals: 0,
    };
    let lane = &committer.lanes[state.room_lock_index(room_id) % committer.lanes.len()];
    if lane.send(job).await.is_err() {
        return Err(interrupted());
    }
    let (value, members) = answer.await.map_err(|_| interrupted())??;
    match value.downcast::<T>() {
        Ok(v) => Ok((*v, members)),
        Err(_) => Err(AppError::internal(
            "group commit",
            "a job's answer has another type",
        )),
    }
}

/// The answer when a write's batch ended without answering it (the server
/// is stopping, or the batch failed in a way it could not report).
fn interrupted() -> AppError {
    AppError {
        retryable: true,
        ..AppError::new(
            leetchat_protocol::ErrorCode::Internal,
            "the write was interrupted before it was confirmed; retry",
        )
    }
}

/// One lane: batches until the state is gone.
async fn run_lane(state: Weak<Inner>, mut rx: mpsc::Receiver<Job>) {
    let mut waiting: VecDeque<Job> = VecDeque::new();
    let mut arrivals = 0u64;
    let mut arrive = |mut job: Job, waiting: &mut VecDeque<Job>| {
        arrivals += 1;
        job.arrival = arrivals;
        waiting.push_back(job);
    };
    loop {
        if waiting.is_empty() {
            match rx.recv().await {
                Some(job) => arrive(job, &mut waiting),
                None => return,
            }
        }
        while waiting.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => arrive(job, &mut waiting),
                Err(_) => break,
            }
        }
        let Some(state) = AppState::upgrade(&state) else {
            return;
        };
        let n = waiting.len().min(MAX_BATCH);
        let mut jobs: Vec<Job> = waiting.drain(..n).collect();
        // Stable: a room's jobs keep the order they came in.
        jobs.sort_by(|a, b| a.room_id.cmp(&b.room_id));
        // A bug that panics outside a job must not end the lane: the
        // batch's writers are told their write was interrupted (their
        // answers are dropped), and later writes go on.
        let deferred = AssertUnwindSafe(run_batch(&state, jobs))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                tracing::error!("a group commit panicked");
                Vec::new()
            });
        for job in deferred.into_iter().rev() {
            waiting.push_front(job);
        }
    }
}

/// What became of a job in a batch.
enum Outcome {
    /// Still to be written.
    Pending,
    /// Settled without being written: its error, or its answer when it
    /// recorded nothing. Final: it was decided on committed rows only.
    Settled(AppResult<Output>),
    /// It failed or recorded nothing after a write of its room earlier in
    /// the batch, which is not committed yet: it runs again in the next
    /// batch, after that write's fate is known.
    Later,
}

/// A job's writes, done in the batch's transaction and not yet committed.
struct Done {
    index: usize,
    value: Output,
    staged: Staged,
}

/// How one run of a batch's transaction ended.
enum Attempt {
    /// Committed (or nothing was left to commit).
    Committed(Vec<Done>),
    /// A job failed and the transaction was rolled back; run the batch
    /// again without it.
    Again,
    /// The transaction could not begin or commit.
    Failed(AppError),
}

/// Takes the room locks of a batch's jobs: those it gets run now, the
/// others are returned for the next batch. The lane waits for at most one
/// lock, holding none: the lock of the job deferred most often (then the
/// oldest) if any was deferred, so a room whose lock lone writers keep
/// busy is not passed over for ever; else only when no lock was free.
async fn lock_rooms<'s>(
    state: &'s AppState,
    jobs: Vec<Job>,
) -> (
    HashMap<usize, tokio::sync::MutexGuard<'s, ()>>,
    Vec<Job>,
    Vec<Job>,
) {
    let mut held = HashMap::new();
    let first = jobs
        .iter()
        .filter(|j| j.deferrals > 0)
        .min_by_key(|j| (std::cmp::Reverse(j.deferrals), j.arrival))
        .map(|j| state.room_lock_index(&j.room_id));
    if let Some(i) = first {
        held.insert(i, state.room_lock_at(i).lock().await);
    }
    let mut busy = HashSet::new();
    let (mut batch, mut deferred) = (Vec::with_capacity(jobs.len()), Vec::new());
    for job in jobs {
        let i = state.room_lock_index(&job.room_id);
        let free = match held.entry(i) {
            Entry::Occupied(_) => true,
            Entry::Vacant(_) if busy.contains(&i) => false,
            Entry::Vacant(slot) => match state.room_lock_at(i).try_lock() {
                Ok(guard) => {
                    slot.insert(guard);
                    true
                }
                Err(_) => {
                    busy.insert(i);
                    false
                }
            },
        };
        if free {
            batch.push(job);
        } else {
            deferred.push(job);
        }
    }
    if batch.is_empty()
        && let Some(i) = deferred
            .iter()
            .min_by_key(|j| j.arrival)
            .map(|j| state.room_lock_index(&j.room_id))
    {
        held.insert(i, state.room_lock_at(i).lock().await);
        let (now, later) = deferred
            .into_iter()
            .partition(|j| state.room_lock_index(&j.room_id) == i);
        (batch, deferred) = (now, later);
    }
    for job in &mut deferred {
        job.deferrals += 1;
    }
    (held, batch, deferred)
}

/// Runs one batch; returns the jobs for the next (their room's lock was
/// held by another writer, or their outcome hung on a write of this one).
async fn run_batch(state: &AppState, jobs: Vec<Job>) -> Vec<Job> {
    let (held, batch, mut deferred) = lock_rooms(state, jobs).await;
    let started = Instant::now();
    let mut outcomes: Vec<Outcome> = batch.iter().map(|_| Outcome::Pending).collect();
    // The first run has no savepoints (two statements more per write). A
    // job that fails in it costs one run more, and that run rolls back to a
    // savepoint per job instead, so any number of bad jobs cost it at most
    // one run over.
    let mut savepoints = false;
    let result = loop {
        match attempt(state, &batch, &mut outcomes, started, savepoints).await {
            Attempt::Again => savepoints = true,
            Attempt::Committed(done) => break Ok(done),
            Attempt::Failed(e) => break Err(e),
        }
    };
    let mut written: Vec<Option<(Output, Vec<String>)>> = batch.iter().map(|_| None).collect();
    let failed = match result {
        Ok(done) => {
            let elapsed = started.elapsed().as_secs_f64();
            if !done.is_empty() {
                state.metrics.commit_batch_writes.observe(done.len() as f64);
            }
            let (answers, mut staged): (Vec<(usize, Output)>, Vec<Staged>) = done
                .into_iter()
                .map(|d| ((d.index, d.value), d.staged))
                .unzip();
            for st in &staged {
                st.cache(state).await;
            }
            for ((index, value), mut st) in answers.into_iter().zip(staged.drain(..)) {
                state.metrics.db_write_seconds.observe(elapsed);
                st.publish(state, batch[index].exclude);
                written[index] = Some((value, st.into_members()));
            }
            None
        }
        Err(e) => Some(e),
    };
    drop(held);
    for ((job, outcome), written) in batch.into_iter().zip(outcomes).zip(written) {
        let answer = match (outcome, written, &failed) {
            (_, Some(w), _) => Ok(w),
            (Outcome::Settled(r), None, _) => r.map(|v| (v, Vec::new())),
            (Outcome::Later, None, _) => {
                deferred.push(job);
                continue;
            }
            (Outcome::Pending, None, Some(e)) => Err(copy(e)),
            (Outcome::Pending, None, None) => Err(AppError::internal(
                "group commit",
                "a job was neither written nor settled",
            )),
        };
        let _ = job.done.send(answer);
    }
    deferred
}

/// Runs a statement of the batch's own (a savepoint).
async fn batch_statement(conn: &mut sqlx::AnyConnection, sql: &str) -> AppResult<()> {
    sqlx::query(sql).execute(conn).await?;
    Ok(())
}

/// One run of the batch's transaction over the jobs still pending; with
/// `savepoints`, a job that fails is rolled back alone and the run goes on.
async fn attempt(
    state: &AppState,
    batch: &[Job],
    outcomes: &mut [Outcome],
    started: Instant,
    savepoints: bool,
) -> Attempt {
    let mut tx = match state.db.begin().await {
        Ok(tx) => tx,
        Err(e) => return Attempt::Failed(e.into()),
    };
    let mut done: Vec<Done> = Vec::new();
    for (index, job) in batch.iter().enumerate() {
        if !matches!(outcomes[index], Outcome::Pending) {
            continue;
        }
        if savepoints && let Err(e) = batch_statement(&mut tx, "SAVEPOINT job").await {
            return Attempt::Failed(e);
        }
        let ran = run_job(state, job, &mut tx, started).await;
        let settled = match ran {
            Ran::Written(value, staged) => {
                if savepoints
                    && let Err(e) = batch_statement(&mut tx, "RELEASE SAVEPOINT job").await
                {
                    return Attempt::Failed(e);
                }
                done.push(Done {
                    index,
                    value,
                    staged,
                });
                continue;
            }
            // No such room: nothing was written, the others go on.
            Ran::NoRoom => {
                outcomes[index] = Outcome::Settled(Err(AppError::not_member()));
                if savepoints
                    && let Err(e) = batch_statement(&mut tx, "RELEASE SAVEPOINT job").await
                {
                    return Attempt::Failed(e);
                }
                continue;
            }
            Ran::Settled(r) => r,
        };
        // What it saw included an earlier write of its room that is not
        // committed yet: its answer waits for that write's fate.
        let after_own_room = done.iter().any(|d| batch[d.index].room_id == job.room_id);
        outcomes[index] = if after_own_room {
            Outcome::Later
        } else {
            Outcome::Settled(settled)
        };
        if !savepoints {
            return Attempt::Again;
        }
        if batch_statement(&mut tx, "ROLLBACK TO SAVEPOINT job")
            .await
            .is_err()
        {
            return Attempt::Again;
        }
        if let Err(e) = batch_statement(&mut tx, "RELEASE SAVEPOINT job").await {
            return Attempt::Failed(e);
        }
    }
    if done.is_empty() {
        return Attempt::Committed(done);
    }
    match tx.commit().await {
        Ok(()) => Attempt::Committed(done),
        Err(e) => Attempt::Failed(e.into()),
    }
}

/// How one job's run in the batch's transaction went.
enum Ran {
    /// Written: its answer and what to publish after the commit.
    Written(Output, Staged),
    /// There is no such room (nothing was written).
    NoRoom,
    /// Failed, or recorded nothing: its writes must be undone.
    Settled(AppResult<Output>),
}

/// Runs `job` in the batch's transaction.
async fn run_job(
    state: &AppState,
    job: &Job,
    conn: &mut sqlx::AnyConnection,
    started: Instant,
) -> Ran {
    let mut w = match StreamWrite::in_batch(state, &job.room_id, conn, started).await {
        Ok(Some(w)) => w,
        Ok(None) => return Ran::NoRoom,
        Err(e) => return Ran::Settled(Err(e)),
    };
    // A job that panics fails alone: the lane serves every later write.
    let ran = AssertUnwindSafe(async { job.run.run(&mut w).await })
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(AppError::internal("group commit", "a write panicked")));
    match ran {
        Ok(value) if w.recorded_any() => match w.into_staged().await {
            Ok(staged) => Ran::Written(value, staged),
            Err(e) => Ran::Settled(Err(e)),
        },
        settled => Ran::Settled(settled),
    }
}

/// The same error again, for every job of a failed batch.
fn copy(e: &AppError) -> AppError {
    AppError {
        code: e.code,
        message: e.message.clone(),
        retry_after_ms: e.retry_after_ms,
        retryable: e.retryable,
    }
}
