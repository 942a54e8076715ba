//! `push.register` and `push.unregister`: the calling device's Web Push
//! subscription (protocol 9.6). One per device; registering again replaces
//! it; signing the device out removes it.

use leetchat_protocol::events::{Empty, RegisterPush, UnregisterPush};
use leetchat_protocol::time::now_ms;

use crate::db;
use crate::db::push::Subscription;
use crate::error::AppResult;
use crate::session::Session;
use crate::state::AppState;

/// `push.register`: checks the endpoint (https on a public address, or a
/// host the operator allows) and the keys, then stores them for this device.
pub async fn register(state: &AppState, s: &Session, req: RegisterPush) -> AppResult<Empty> {
    state
        .push_service
        .check(&req.endpoint, &req.keys.p256dh, &req.keys.auth)
        .await?;
    db::push::subscribe(
        state.db.writer(),
        &Subscription {
            device_id: s.device_id.clone(),
            user_id: s.user_id.clone(),
            endpoint: req.endpoint,
            p256dh: req.keys.p256dh,
            auth: req.keys.auth,
            previews: i64::from(req.previews.unwrap_or(false)),
        },
        now_ms(),
    )
    .await?;
    Ok(Empty {})
}

/// `push.unregister`: this device is pushed nothing more.
pub async fn unregister(state: &AppState, s: &Session, _: UnregisterPush) -> AppResult<Empty> {
    let mut conn = state.db.writer().acquire().await?;
    db::push::unsubscribe(&mut conn, &s.device_id).await?;
    Ok(Empty {})
}
