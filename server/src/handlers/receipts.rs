//! `message.read`: the caller's read pointer, and `receipt.updated` to the room.
//!
//! A read pointer takes no seq: receipts are not stream events (a client
//! that missed one gets the pointers with `room.list`).

use leetchat_protocol::ServerPush;
use leetchat_protocol::events::{ReadAck, ReadPointer, ReceiptUpdated};
use leetchat_protocol::time::{now_ms, rfc3339};

use super::require_member;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::session::Session;
use crate::state::AppState;

/// `message.read`: moves the caller's read pointer forward (never back, never
/// past the room's last seq) and tells the room.
pub async fn read(state: &AppState, s: &Session, req: ReadPointer) -> AppResult<ReadAck> {
    if req.seq < 0 {
        return Err(AppError::invalid("seq must not be negative"));
    }
    require_member(state, &req.room_id, &s.user_id).await?;
    let room = db::rooms::row(state.db.reader(), &req.room_id)
        .await?
        .ok_or_else(AppError::not_member)?;
    let target = req.seq.min(room.last_seq);
    let mut conn = state.db.writer().acquire().await?;
    let Some((seq, moved)) =
        db::rooms::advance_read(&mut conn, &req.room_id, &s.user_id, target).await?
    else {
        return Err(AppError::not_member());
    };
    drop(conn);
    if moved {
        let recipients = db::rooms::member_ids(state.db.reader(), &req.room_id).await?;
        let push = ServerPush::ReceiptUpdated(ReceiptUpdated {
            room_id: req.room_id.clone(),
            user_id: s.user_id.clone(),
            seq,
            read_at: rfc3339(now_ms()),
        });
        state.push(recipients, Some(s.conn_id), &push);
        // Devices pushed about the room hear that it was read.
        crate::push::queue_read(state, &s.user_id, &req.room_id, seq).await?;
    }
    Ok(ReadAck {
        room_id: req.room_id,
        seq,
    })
}
