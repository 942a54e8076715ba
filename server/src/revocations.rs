//! Closes the sockets of devices signed out behind the server's back.
//!
//! Deactivating an account, resetting its password or deleting it signs
//! every device of it out in the database, and `leetchat-server admin` does
//! that from another process, with no socket to any node. So each node
//! looks, every [`POLL`] (half a second), for accounts whose devices were signed out in the
//! last [`WINDOW`] and closes those devices' sockets it holds: 4403 for a
//! deactivated account, 4401 otherwise. A socket that authenticated just
//! before the sign-out is caught on the next look, and new sign-ins (new
//! devices) are untouched. The window also covers clocks that disagree
//! between the admin command's machine and a node by less than it.

use std::time::Duration;

use leetchat_protocol::time::now_ms;

use crate::db;
use crate::state::AppState;

/// How often a node looks.
pub const POLL: Duration = Duration::from_millis(500);
/// How far back it looks.
const WINDOW: Duration = Duration::from_secs(600);

/// Starts the look-out; it ends with the server.
pub fn spawn(state: &AppState) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if state.hub.connection_count() == 0 {
                continue;
            }
            if let Err(e) = close_revoked(&state).await {
                tracing::debug!(error = %e, "cannot look for signed-out accounts");
            }
        }
    })
}

/// One look: closes this node's sockets of devices signed out recently.
pub async fn close_revoked(state: &AppState) -> Result<(), sqlx::Error> {
    let since = now_ms() - WINDOW.as_millis() as i64;
    for (user_id, deactivated) in db::users::recently_revoked(&state.db, since).await? {
        let devices = state.hub.devices_of(&user_id);
        if devices.is_empty() {
            continue;
        }
        let (code, reason) = if deactivated {
            (
                leetchat_protocol::CLOSE_DEACTIVATED,
                "this account has been deactivated",
            )
        } else {
            (
                leetchat_protocol::CLOSE_UNAUTHENTICATED,
                "signed out everywhere",
            )
        };
        for device in db::users::revoked_among(&state.db, &user_id, &devices).await? {
            tracing::info!(%user_id, %device, code, "closing a signed-out device's sockets");
            state.hub.close_device(&user_id, &device, code, reason);
        }
    }
    Ok(())
}
