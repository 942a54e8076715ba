//! `room.members.add` and `room.members.remove`: joining and leaving a
//! group, each a stream event with its own seq.

use leetchat_protocol::ServerPush;
use leetchat_protocol::events::{AddMembers, RemoveMember, RoomEnvelope};
use leetchat_protocol::{Role, RoomType};

use super::rooms::{
    MAX_MEMBERS, announce_updated, load_room, member_ids, require_manager, require_users,
};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::session::{Session, truncate};
use crate::state::AppState;
use crate::stream::{RoomEvent, StreamWrite};
use crate::typists;

/// `room.members.add`: owner/admin adds users; each join takes a seq.
pub async fn add(state: &AppState, s: &Session, req: AddMembers) -> AppResult<RoomEnvelope> {
    let mut ids = req.user_ids.clone();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::invalid("userIds must name at least one user"));
    }
    if ids.len() > MAX_MEMBERS {
        return Err(AppError::invalid(format!(
            "a group has at most {MAX_MEMBERS} members"
        )));
    }
    require_users(state, &ids).await?;

    let mut w = StreamWrite::begin(state, &req.room_id).await?;
    require_manager(w.tx(), s, &req.room_id).await?;
    let current = db::rooms::member_ids(w.tx(), &req.room_id).await?;
    if current.len() + ids.len() > MAX_MEMBERS {
        return Err(AppError::invalid(format!(
            "a group has at most {MAX_MEMBERS} members"
        )));
    }
    let newcomers: Vec<String> = ids.into_iter().filter(|u| !current.contains(u)).collect();
    // Again under the lock: deactivated since `require_users` looked.
    if let Some(name) = db::users::deactivated_among(w.tx(), &newcomers)
        .await?
        .first()
    {
        return Err(AppError::forbidden(format!(
            "{name}'s account is deactivated"
        )));
    }
    if let Some(banned) = db::moderation::banned_among(w.tx(), &req.room_id, &newcomers)
        .await?
        .first()
    {
        let name = db::users::by_id(state.db.reader(), banned)
            .await?
            .map_or_else(|| truncate(banned, 64), |u| u.user_name);
        return Err(AppError::forbidden(format!(
            "{name} is banned from this group; unban them first"
        )));
    }
    if newcomers.is_empty() {
        // Everyone is in already: nothing happens, the seq goes back.
        drop(w);
        let mut conn = state.db.reader().acquire().await?;
        return Ok(RoomEnvelope {
            room: load_room(&mut conn, &req.room_id).await?,
        });
    }
    for (i, u) in newcomers.iter().enumerate() {
        if i > 0 {
            w.take_next().await?;
        }
        let now = w.now();
        // The read pointer starts at the join's own seq: nothing before is unread.
        db::rooms::add_member(w.tx(), &req.room_id, u, Role::Member, now).await?;
        w.record(RoomEvent::MemberJoined(u.clone())).await?;
    }
    let room = load_room(w.tx(), &req.room_id).await?;
    let done = w.commit().await?;
    // The newcomers learn the room first, then see the joins like everyone.
    done.push(
        newcomers,
        Some(s.conn_id),
        &ServerPush::RoomCreated(RoomEnvelope { room: room.clone() }),
    );
    done.finish(Some(s.conn_id));
    Ok(RoomEnvelope { room })
}

/// `room.members.remove`: owner/admin removes a member, or anyone leaves.
/// An owner who leaves hands the group to the longest-standing admin, or else
/// the longest-standing member.
pub async fn remove(state: &AppState, s: &Session, req: RemoveMember) -> AppResult<RoomEnvelope> {
    let leaving = req.user_id == s.user_id;
    let mut w = StreamWrite::begin(state, &req.room_id).await?;
    let row = db::rooms::row(w.tx(), &req.room_id)
        .await?
        .ok_or_else(AppError::not_member)?;
    let my_role = db::rooms::role_of(w.tx(), &req.room_id, &s.user_id)
        .await?
        .ok_or_else(AppError::not_member)?;
    if row.kind() == RoomType::Direct {
        return Err(AppError::invalid(
            "nobody can leave or be removed from a direct room",
        ));
    }
    let Some(target_role) = db::rooms::role_of(w.tx(), &req.room_id, &req.user_id).await? else {
        return Err(AppError::not_found(
            "that user is not a member of this room",
        ));
    };
    if !leaving {
        let allowed = match my_role {
            Role::Owner => true,
            Role::Admin => target_role == Role::Member,
            Role::Member => false,
        };
        if !allowed {
            return Err(AppError::forbidden(
                "only the owner can remove admins; only owners and admins can remove members",
            ));
        }
    }
    db::rooms::remove_member(w.tx(), &req.room_id, &req.user_id).await?;
    w.record(RoomEvent::MemberLeft(req.user_id.clone())).await?;
    let mut handed_over = false;
    if target_role == Role::Owner {
        let remaining = db::rooms::members(w.tx(), &req.room_id).await?;
        let heir = remaining
            .iter()
            .find(|m| m.role() == Role::Admin)
            .or_else(|| remaining.first());
        if let Some(h) = heir {
            db::rooms::set_role(w.tx(), &req.room_id, &h.user_id, Role::Owner).await?;
            handed_over = true;
        }
    }
    let room = load_room(w.tx(), &req.room_id).await?;
    let mut done = w.commit().await?;
    done.publish(Some(s.conn_id));
    if handed_over {
        announce_updated(state, s, &room);
    }
    drop(done);
    typists::stopped_by_leaving(state, &req.room_id, &req.user_id, member_ids(&room)).await;
    Ok(RoomEnvelope { room })
}
