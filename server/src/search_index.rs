//! Indexes, in the background, the messages stored before the search index
//! existed (an upgrade from a version without search): newest first, in small
//! batches with pauses, so sends on the same database are barely slowed.
//! Until it is done, search finds the newest old messages and every new one;
//! the server logs when it starts and finishes. On a cluster every node
//! takes part, each locking its own batch.

use std::time::{Duration, Instant};

use crate::db;
use crate::state::AppState;

/// Messages per batch (one transaction).
const BATCH: i64 = 200;
/// Pause between batches: sends get the writer in between.
const PAUSE: Duration = Duration::from_millis(10);
/// Pause after a failed batch (the database is down, say).
const RETRY: Duration = Duration::from_secs(5);

/// Starts the indexer; it stops when everything is indexed or at shutdown.
pub fn spawn(state: &AppState) {
    let state = state.clone();
    state.tasks.clone().spawn(async move {
        let left = match db::search::unindexed(&state.db).await {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "search index: cannot count unindexed messages");
                0
            }
        };
        state.metrics.search_unindexed.set(left);
        tracing::info!(messages = left, "search index: indexing older messages");
        let started = Instant::now();
        let mut done: u64 = 0;
        loop {
            let pause = match db::search::index_older(&state.db, BATCH).await {
                Ok(0) => {
                    // A batch of rows another node holds locked also reads 0:
                    // done only when none are left at all.
                    match db::search::unindexed(&state.db).await {
                        Ok(0) => break,
                        Ok(n) => {
                            state.metrics.search_unindexed.set(n);
                            RETRY
                        }
                        Err(_) => RETRY,
                    }
                }
                Ok(n) => {
                    done += n;
                    let n = i64::try_from(n).unwrap_or(i64::MAX);
                    state
                        .metrics
                        .search_unindexed
                        .dec_by(n.min(state.metrics.search_unindexed.get()));
                    PAUSE
                }
                Err(e) => {
                    tracing::warn!(error = %e, "search index: a batch failed; retrying");
                    RETRY
                }
            };
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
        state.metrics.search_unindexed.set(0);
        tracing::info!(
            messages = done,
            seconds = started.elapsed().as_secs(),
            "search index: older messages indexed"
        );
    });
}
