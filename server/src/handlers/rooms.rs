//! `room.create`, `room.list`, `room.update`, `room.members.role`: rooms and
//! the changes to them that take no seq.
//!
//! Creating a room takes no seq (its first message is seq 1); renames and
//! role changes are announced as `room.updated` and are not stream events.
//! Joins and leaves are ([`super::members`]).

use leetchat_protocol::ServerPush;
use leetchat_protocol::events::{
    CreateRoom, ListRooms, RoomEnvelope, RoomList, SetRole, UpdateRoom,
};
use leetchat_protocol::objects::RoomSummary;
use leetchat_protocol::time::now_ms;
use leetchat_protocol::{Role, Room, RoomType, direct_room_id};
use sqlx::AnyConnection;

use crate::db::{self, new_id};
use crate::error::{AppError, AppResult};
use crate::ratelimit::Action;
use crate::session::Session;
use crate::state::AppState;

/// Longest group name.
pub const MAX_NAME: usize = 100;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 1000;
/// Most members of a group.
pub const MAX_MEMBERS: usize = 10_000;

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("a group needs a name"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(AppError::invalid(format!(
            "name is longer than {MAX_NAME} characters"
        )));
    }
    Ok(name.to_owned())
}

fn check_description(d: &str) -> AppResult<String> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::invalid(format!(
            "description is longer than {MAX_DESCRIPTION} characters"
        )));
    }
    Ok(d.trim().to_owned())
}

/// Every id must name an existing user.
pub(super) async fn require_users(state: &AppState, ids: &[String]) -> AppResult<()> {
    for id in ids {
        let u = super::user_or_not_found(state, id).await?;
        if u.is_deactivated() {
            return Err(AppError::forbidden(format!(
                "{}'s account is deactivated",
                u.user_name
            )));
        }
    }
    Ok(())
}

pub(super) async fn load_room(conn: &mut AnyConnection, room_id: &str) -> AppResult<Room> {
    db::rooms::load(conn, room_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such room"))
}

/// `room.create`: direct rooms are idempotent; groups are owned by their creator.
pub async fn create(state: &AppState, s: &Session, req: CreateRoom) -> AppResult<RoomEnvelope> {
    let mut others: Vec<String> = req
        .member_ids
        .iter()
        .filter(|id| **id != s.user_id)
        .cloned()
        .collect();
    others.sort();
    others.dedup();
    match req.room_type {
        RoomType::Direct => {
            let [other] = others.as_slice() else {
                return Err(AppError::invalid(
                    "a direct room needs exactly one other member in memberIds",
                ));
            };
            require_users(state, std::slice::from_ref(other)).await?;
            if db::moderation::is_blocked(state.db.reader(), other, &s.user_id).await? {
                return Err(AppError::forbidden(
                    "this person does not take messages from you",
                ));
            }
            create_direct(state, s, other).await
        }
        RoomType::Group => {
            let name = check_name(req.name.as_deref().unwrap_or(""))?;
            let description = check_description(req.description.as_deref().unwrap_or(""))?;
            if others.len() + 1 > MAX_MEMBERS {
                return Err(AppError::invalid(format!(
                    "a group has at most {MAX_MEMBERS} members"
                )));
            }
            require_users(state, &others).await?;
            state.rate_limit(&s.user_id, Action::RoomCreate).await?;
            let room_id = new_id();
            let now = now_ms();
            let mut tx = state.db.begin().await?;
            db::rooms::insert(
                &mut tx,
                &room_id,
                RoomType::Group,
                &name,
                &description,
                req.is_private.unwrap_or(false),
                &s.user_id,
                now,
            )
            .await?;
            db::rooms::add_member(&mut tx, &room_id, &s.user_id, Role::Owner, now).await?;
            for m in &others {
                db::rooms::add_member(&mut tx, &room_id, m, Role::Member, now).await?;
            }
            let room = load_room(&mut tx, &room_id).await?;
            tx.commit().await?;
            announce_created(state, s, &room);
            Ok(RoomEnvelope { room })
        }
    }
}

async fn create_direct(state: &AppState, s: &Session, other: &str) -> AppResult<RoomEnvelope> {
    let room_id = direct_room_id(&s.user_id, other);
    if db::rooms::row(state.db.reader(), &room_id).await?.is_none() {
        state.rate_limit(&s.user_id, Action::Direct).await?;
    }
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let created = db::rooms::insert(
        &mut tx,
        &room_id,
        RoomType::Direct,
        "",
        "",
        true,
        &s.user_id,
        now,
    )
    .await?;
    if created {
        db::rooms::add_member(&mut tx, &room_id, &s.user_id, Role::Member, now).await?;
        db::rooms::add_member(&mut tx, &room_id, other, Role::Member, now).await?;
    }
    let room = load_room(&mut tx, &room_id).await?;
    tx.commit().await?;
    if created {
        announce_created(state, s, &room);
    }
    Ok(RoomEnvelope { room })
}

fn announce_created(state: &AppState, s: &Session, room: &Room) {
    let push = ServerPush::RoomCreated(RoomEnvelope { room: room.clone() });
    state.push(member_ids(room), Some(s.conn_id), &push);
}

/// The ids of a room's members.
pub(super) fn member_ids(room: &Room) -> Vec<String> {
    room.members.iter().map(|m| m.user_id.clone()).collect()
}

/// `room.list`: the caller's rooms with unread counts, newest activity first.
pub async fn list(state: &AppState, s: &Session, _: ListRooms) -> AppResult<RoomList> {
    let ids = db::rooms::ids_of_user(state.db.reader(), &s.user_id).await?;
    let mut conn = state.db.reader().acquire().await?;
    let notify_default = db::notify::default_of(&mut *conn, &s.user_id).await?;
    let now = now_ms();
    let mut rooms = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(row) = db::rooms::row(&mut *conn, &id).await? else {
            continue;
        };
        let members = db::rooms::members(&mut *conn, &id).await?;
        let last_read_seq = members
            .iter()
            .find(|m| m.user_id == s.user_id)
            .map_or(0, |m| m.last_read_seq);
        let unread_count =
            db::messages::unread_count(&mut *conn, &id, &s.user_id, last_read_seq).await?;
        let mention_count =
            db::mentions::unread_count(&mut *conn, &id, &s.user_id, last_read_seq).await?;
        let pins = db::pins::of_room(&mut *conn, &id).await?;
        let last_message = match db::messages::latest(&mut *conn, &id).await? {
            Some(m) => db::messages::hydrate(&mut conn, vec![m]).await?.pop(),
            None => None,
        };
        let setting = db::notify::of_member(&mut *conn, &id, &s.user_id)
            .await?
            .unwrap_or(db::notify::RoomSetting {
                level: None,
                mute_until: None,
            });
        let notify = super::notify::room_notify(&id, setting, notify_default, now);
        rooms.push(RoomSummary {
            room: db::rooms::to_room(row, &members, pins),
            unread_count,
            last_message,
            last_read_seq,
            mention_count,
            notify_level: notify.level,
            mute_until: notify.mute_until,
            notify_follows_default: notify.follows_default,
        });
    }
    Ok(RoomList {
        rooms,
        notify_default,
    })
}

/// A group the caller manages (owner or admin), checked inside the write.
pub(super) async fn require_manager(
    tx: &mut AnyConnection,
    s: &Session,
    room_id: &str,
) -> AppResult<Role> {
    let row = db::rooms::row(&mut *tx, room_id)
        .await?
        .ok_or_else(AppError::not_member)?;
    let role = db::rooms::role_of(&mut *tx, room_id, &s.user_id)
        .await?
        .ok_or_else(AppError::not_member)?;
    if row.kind() == RoomType::Direct {
        return Err(AppError::invalid("direct rooms cannot be changed"));
    }
    if !role.can_manage() {
        return Err(AppError::forbidden(
            "only the owner or an admin can do this",
        ));
    }
    Ok(role)
}

/// `room.update`: owner/admin renames or redescribes a group.
pub async fn update(state: &AppState, s: &Session, req: UpdateRoom) -> AppResult<RoomEnvelope> {
    let name = req.name.as_deref().map(check_name).transpose()?;
    let description = req
        .description
        .as_deref()
        .map(check_description)
        .transpose()?;
    let mut tx = state.db.begin().await?;
    // First statement writes (see crate::db); rolled back if not allowed.
    if !db::rooms::update_info(
        &mut tx,
        &req.room_id,
        name.as_deref(),
        description.as_deref(),
    )
    .await?
    {
        return Err(AppError::not_member());
    }
    require_manager(&mut tx, s, &req.room_id).await?;
    let room = load_room(&mut tx, &req.room_id).await?;
    tx.commit().await?;
    announce_updated(state, s, &room);
    Ok(RoomEnvelope { room })
}

/// `room.updated` to the room's members (not to the connection that asked).
pub(super) fn announce_updated(state: &AppState, s: &Session, room: &Room) {
    let push = ServerPush::RoomUpdated(RoomEnvelope { room: room.clone() });
    state.push(member_ids(room), Some(s.conn_id), &push);
}

/// `room.members.role` (extension): the owner makes a member an admin or a
/// plain member, or hands ownership over (becoming an admin).
pub async fn set_role(state: &AppState, s: &Session, req: SetRole) -> AppResult<RoomEnvelope> {
    if req.user_id == s.user_id {
        return Err(AppError::invalid("you cannot change your own role"));
    }
    let mut tx = state.db.begin().await?;
    if !db::rooms::update_info(&mut tx, &req.room_id, None, None).await? {
        return Err(AppError::not_member());
    }
    let role = require_manager(&mut tx, s, &req.room_id).await?;
    if role != Role::Owner {
        return Err(AppError::forbidden("only the owner can change roles"));
    }
    if !db::rooms::set_role(&mut tx, &req.room_id, &req.user_id, req.role).await? {
        return Err(AppError::not_found(
            "that user is not a member of this room",
        ));
    }
    if req.role == Role::Owner {
        db::rooms::set_role(&mut tx, &req.room_id, &s.user_id, Role::Admin).await?;
    }
    let room = load_room(&mut tx, &req.room_id).await?;
    tx.commit().await?;
    announce_updated(state, s, &room);
    Ok(RoomEnvelope { room })
}
