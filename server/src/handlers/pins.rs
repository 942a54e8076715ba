//! `message.pin`, `message.unpin` (protocol 9.4): owners and admins in a
//! group, either member in a direct room. Each change takes the room's next
//! seq; pinning a pinned message or unpinning one that is not changes
//! nothing and answers with the room's pins. Deleting a pinned message
//! unpins it ([`super::messages::delete`]).

use std::sync::Arc;

use leetchat_protocol::events::{PinMessage, PinsAck, UnpinMessage};
use leetchat_protocol::{MAX_PINS, RoomType};

use super::messages::message_for_member;
use crate::committer;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::session::Session;
use crate::state::AppState;
use crate::stream::{RoomEvent, StreamWrite};

/// `message.pin`.
pub async fn pin(state: &AppState, s: &Session, req: PinMessage) -> AppResult<PinsAck> {
    change(state, s, &req.message_id, true).await
}

/// `message.unpin`.
pub async fn unpin(state: &AppState, s: &Session, req: UnpinMessage) -> AppResult<PinsAck> {
    change(state, s, &req.message_id, false).await
}

async fn change(state: &AppState, s: &Session, message_id: &str, pin: bool) -> AppResult<PinsAck> {
    let (m, _) = message_for_member(state, s, message_id).await?;
    let job = Arc::new(PinJob {
        user_id: s.user_id.clone(),
        room_id: m.room_id.clone(),
        message_id: message_id.to_owned(),
        pin,
    });
    let (ack, _) = committer::write(state, &m.room_id, Some(s.conn_id), move |w| {
        let job = job.clone();
        Box::pin(async move { job.write(w).await })
    })
    .await?;
    Ok(ack)
}

/// A pin or unpin, written in a group commit.
struct PinJob {
    user_id: String,
    room_id: String,
    message_id: String,
    pin: bool,
}

impl PinJob {
    /// The change in the write that took its seq; with nothing to change,
    /// records nothing (the seq goes back) and answers with the pins.
    async fn write(&self, w: &mut StreamWrite<'_>) -> AppResult<PinsAck> {
        let (room_id, message_id) = (&self.room_id, &self.message_id);
        let room = db::rooms::row(w.tx(), room_id)
            .await?
            .ok_or_else(AppError::not_member)?;
        let role = w
            .role_of(&self.user_id)
            .await?
            .ok_or_else(AppError::not_member)?;
        if room.kind() == RoomType::Group && !role.can_manage() {
            return Err(AppError::forbidden(
                "only the owner or an admin can pin and unpin in a group",
            ));
        }
        let pins = db::pins::of_room(w.tx(), room_id).await?;
        let pinned = pins.iter().any(|p| p == message_id);
        if pinned == self.pin {
            return Ok(PinsAck {
                room_id: room_id.clone(),
                pinned_message_ids: pins,
                seq: None,
            });
        }
        if self.pin {
            let live = db::messages::row(w.tx(), message_id)
                .await?
                .is_some_and(|r| r.deleted_at.is_none());
            if !live {
                return Err(AppError::conflict("a deleted message cannot be pinned"));
            }
            if pins.len() >= MAX_PINS {
                return Err(AppError::conflict(format!(
                    "a room has at most {MAX_PINS} pinned messages: unpin one first"
                )));
            }
            let seq = w.seq();
            db::pins::add(w.tx(), room_id, message_id, &self.user_id, seq).await?;
            w.record(RoomEvent::Pinned {
                message_id: message_id.clone(),
                user_id: self.user_id.clone(),
            })
            .await?;
        } else {
            db::pins::remove(w.tx(), room_id, message_id).await?;
            w.record(RoomEvent::Unpinned {
                message_id: message_id.clone(),
                user_id: self.user_id.clone(),
            })
            .await?;
        }
        let pinned_message_ids = db::pins::of_room(w.tx(), room_id).await?;
        Ok(PinsAck {
            room_id: room_id.clone(),
            pinned_message_ids,
            seq: Some(w.seq()),
        })
    }
}
