//! Room invite links (`room.invite.create`, `room.invite.list`,
//! `room.invite.revoke`, `room.join`) and bans (`room.ban`, `room.unban`,
//! `room.bans`), protocol 9.8.
//!
//! A join and a ban each lock the room's row first (a join through its
//! stream write, a ban of someone who is not a member through a no-op
//! update), so a ban and a join racing on different nodes are ordered: a
//! banned user never gets in.

use leetchat_protocol::Role;
use leetchat_protocol::ServerPush;
use leetchat_protocol::events::{
    Ban, BanList, BanUser, CreateInvite, Empty, InviteEnvelope, InviteList, JoinRoom, ListBans,
    ListInvites, MAX_REASON_CHARS, RevokeInvite, RoomEnvelope, RoomInvite, UnbanUser,
};
use leetchat_protocol::time::{now_ms, rfc3339};

use super::rooms::{MAX_MEMBERS, load_room, member_ids, require_manager};
use crate::db::{self, moderation::RoomInviteRow};
use crate::error::{AppError, AppResult};
use crate::session::Session;
use crate::state::AppState;
use crate::stream::{RoomEvent, StreamWrite};
use crate::typists;

/// Longest an invite may last: a year.
pub const MAX_INVITE_SECONDS: u64 = 365 * 24 * 3600;
/// Most uses an invite may be given.
pub const MAX_INVITE_USES: u32 = 100_000;
/// Most usable invites one group may have at once.
pub const MAX_INVITES_PER_ROOM: usize = 100;

/// The one answer for a code that is unknown, revoked, expired, used up or
/// of a room the caller may not manage: which it is would tell a guesser
/// that a code once existed.
fn no_such_invite() -> AppError {
    AppError::not_found("no such invite (it may have expired, been used up or been revoked)")
}

fn to_wire(i: &RoomInviteRow) -> RoomInvite {
    RoomInvite {
        code: i.code.clone(),
        room_id: i.room_id.clone(),
        uses: u32::try_from(i.uses).unwrap_or(u32::MAX),
        max_uses: i.max_uses.map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
        expires_at: i.expires_at.map(rfc3339),
        created_by: Some(i.created_by.clone()),
        created_at: Some(rfc3339(i.created_at)),
    }
}

/// `room.invite.create`: the owner or an admin of a group makes a link.
pub async fn create_invite(
    state: &AppState,
    s: &Session,
    req: CreateInvite,
) -> AppResult<InviteEnvelope> {
    if req.max_uses == Some(0) || req.max_uses.is_some_and(|m| m > MAX_INVITE_USES) {
        return Err(AppError::invalid(format!(
            "maxUses must be 1 to {MAX_INVITE_USES}"
        )));
    }
    if req.expires_in_s == Some(0) || req.expires_in_s.is_some_and(|e| e > MAX_INVITE_SECONDS) {
        return Err(AppError::invalid(format!(
            "expiresInS must be 1 to {MAX_INVITE_SECONDS} (a year)"
        )));
    }
    let now = now_ms();
    // At most a year (checked above), so this cannot overflow.
    let expires_at = req
        .expires_in_s
        .map(|e| now + i64::try_from(e).unwrap_or(0) * 1000);
    let mut tx = state.db.begin().await?;
    // The room's row lock first: the count and the insert are one step.
    if !db::rooms::update_info(&mut tx, &req.room_id, None, None).await? {
        return Err(AppError::not_member());
    }
    require_manager(&mut tx, s, &req.room_id).await?;
    if db::moderation::usable_invites(&mut *tx, &req.room_id, now)
        .await?
        .len()
        >= MAX_INVITES_PER_ROOM
    {
        return Err(AppError::invalid(format!(
            "a group has at most {MAX_INVITES_PER_ROOM} invite links at once; revoke one first"
        )));
    }
    let invite = RoomInviteRow {
        code: db::invites::new_code(),
        room_id: req.room_id.clone(),
        created_by: s.user_id.clone(),
        created_at: now,
        expires_at,
        max_uses: req.max_uses.map(i64::from),
        uses: 0,
        revoked_at: None,
    };
    db::moderation::create_invite(&mut tx, &invite).await?;
    tx.commit().await?;
    Ok(InviteEnvelope {
        invite: to_wire(&invite),
    })
}

/// The caller must own or be an admin of the group now (a read; writes
/// check under the room's lock instead).
async fn manager_now(state: &AppState, s: &Session, room_id: &str) -> AppResult<Role> {
    let mut conn = state.db.reader().acquire().await?;
    require_manager(&mut conn, s, room_id).await
}

/// `room.invite.list`: the group's usable invites, for its owner and admins.
pub async fn list_invites(
    state: &AppState,
    s: &Session,
    req: ListInvites,
) -> AppResult<InviteList> {
    manager_now(state, s, &req.room_id).await?;
    let invites = db::moderation::usable_invites(state.db.reader(), &req.room_id, now_ms()).await?;
    Ok(InviteList {
        invites: invites.iter().map(to_wire).collect(),
    })
}

/// `room.invite.revoke`: the owner or an admin of the invite's group
/// revokes it. A code the caller cannot manage is `not_found`, like one
/// that does not exist; revoking a revoked one again is fine.
pub async fn revoke_invite(state: &AppState, s: &Session, req: RevokeInvite) -> AppResult<Empty> {
    let Some(invite) = db::moderation::invite(state.db.reader(), req.code.trim()).await? else {
        return Err(no_such_invite());
    };
    let role = db::rooms::role_of(state.db.reader(), &invite.room_id, &s.user_id).await?;
    match role {
        None => return Err(no_such_invite()),
        Some(r) if !r.can_manage() => {
            return Err(AppError::forbidden(
                "only the owner or an admin can revoke invites",
            ));
        }
        Some(_) => {}
    }
    db::moderation::revoke_invite(&state.db, &invite.code, now_ms()).await?;
    Ok(Empty {})
}

/// `room.join`: joins the invite's group (a `room.member_joined` with a
/// seq). Already a member: the room, and nothing happens.
pub async fn join(state: &AppState, s: &Session, req: JoinRoom) -> AppResult<RoomEnvelope> {
    let code = req.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(no_such_invite());
    }
    let Some(invite) = db::moderation::invite(state.db.reader(), code).await? else {
        return Err(no_such_invite());
    };
    let room_id = invite.room_id.clone();
    if db::rooms::role_of(state.db.reader(), &room_id, &s.user_id)
        .await?
        .is_some()
    {
        let mut conn = state.db.reader().acquire().await?;
        return Ok(RoomEnvelope {
            room: load_room(&mut conn, &room_id).await?,
        });
    }
    if !invite.usable(now_ms()) {
        return Err(no_such_invite());
    }
    let mut w = StreamWrite::begin(state, &room_id).await?;
    // Checked again under the room's lock: a ban or a join may have landed.
    if db::rooms::role_of(w.tx(), &room_id, &s.user_id)
        .await?
        .is_some()
    {
        drop(w);
        let mut conn = state.db.reader().acquire().await?;
        return Ok(RoomEnvelope {
            room: load_room(&mut conn, &room_id).await?,
        });
    }
    let me = std::slice::from_ref(&s.user_id);
    if !db::moderation::banned_among(w.tx(), &room_id, me)
        .await?
        .is_empty()
    {
        return Err(AppError::forbidden("you are banned from this group"));
    }
    if db::rooms::member_ids(w.tx(), &room_id).await?.len() >= MAX_MEMBERS {
        return Err(AppError::invalid(format!(
            "the group is full ({MAX_MEMBERS} members)"
        )));
    }
    let now = w.now();
    if !db::moderation::spend_invite(w.tx(), code, &room_id, now).await? {
        return Err(no_such_invite());
    }
    db::rooms::add_member(w.tx(), &room_id, &s.user_id, Role::Member, now).await?;
    w.record(RoomEvent::MemberJoined(s.user_id.clone())).await?;
    let room = load_room(w.tx(), &room_id).await?;
    let done = w.commit().await?;
    // The joiner's other devices learn the room first, then see the join.
    done.push(
        vec![s.user_id.clone()],
        Some(s.conn_id),
        &ServerPush::RoomCreated(RoomEnvelope { room: room.clone() }),
    );
    done.finish(Some(s.conn_id));
    Ok(RoomEnvelope { room })
}

/// A reason as given: trimmed, at most [`MAX_REASON_CHARS`], empty is none.
pub(super) fn check_reason(reason: Option<&str>) -> AppResult<Option<String>> {
    let Some(r) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid(format!(
            "reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(Some(r.to_owned()))
}

/// `room.ban`: the owner or an admin bans someone from a group. A member is
/// removed (a `room.member_left` with a seq); anyone banned is kept out of
/// `room.members.add` and `room.join`. Nobody bans the owner; only the
/// owner bans admins.
pub async fn ban(state: &AppState, s: &Session, req: BanUser) -> AppResult<RoomEnvelope> {
    let reason = check_reason(req.reason.as_deref())?;
    if req.user_id == s.user_id {
        return Err(AppError::invalid("you cannot ban yourself"));
    }
    // Someone who is a member leaves with a seq; someone who is not is
    // banned without one. Which it is is decided under the room's lock; a
    // join in between sends us round again.
    for _ in 0..3 {
        let mut w = StreamWrite::begin(state, &req.room_id).await?;
        let my_role = require_manager(w.tx(), s, &req.room_id).await?;
        let target = db::rooms::role_of(w.tx(), &req.room_id, &req.user_id).await?;
        match target {
            Some(Role::Owner) => return Err(AppError::forbidden("nobody can ban the owner")),
            Some(Role::Admin) if my_role != Role::Owner => {
                return Err(AppError::forbidden("only the owner can ban an admin"));
            }
            _ => {}
        }
        let Some(_) = target else {
            drop(w);
            if ban_outsider(state, s, &req, reason.as_deref()).await? {
                let mut conn = state.db.reader().acquire().await?;
                return Ok(RoomEnvelope {
                    room: load_room(&mut conn, &req.room_id).await?,
                });
            }
            continue;
        };
        let now = w.now();
        db::moderation::ban(
            w.tx(),
            &req.room_id,
            &req.user_id,
            reason.as_deref(),
            &s.user_id,
            now,
        )
        .await?;
        db::rooms::remove_member(w.tx(), &req.room_id, &req.user_id).await?;
        w.record(RoomEvent::MemberLeft(req.user_id.clone())).await?;
        let room = load_room(w.tx(), &req.room_id).await?;
        let mut done = w.commit().await?;
        done.publish(Some(s.conn_id));
        drop(done);
        typists::stopped_by_leaving(state, &req.room_id, &req.user_id, member_ids(&room)).await;
        return Ok(RoomEnvelope { room });
    }
    Err(AppError {
        retryable: true,
        ..AppError::new(
            leetchat_protocol::ErrorCode::Internal,
            "the member list kept changing; nothing was saved, retry",
        )
    })
}

/// Bans someone who is not a member, with the room's row locked and no seq.
/// `false` when they became a member meanwhile.
async fn ban_outsider(
    state: &AppState,
    s: &Session,
    req: &BanUser,
    reason: Option<&str>,
) -> AppResult<bool> {
    super::user_or_not_found(state, &req.user_id).await?;
    let mut tx = state.db.begin().await?;
    // The no-op update takes the row lock a join takes.
    if !db::rooms::update_info(&mut tx, &req.room_id, None, None).await? {
        return Err(AppError::not_member());
    }
    require_manager(&mut tx, s, &req.room_id).await?;
    if db::rooms::role_of(&mut *tx, &req.room_id, &req.user_id)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    db::moderation::ban(
        &mut tx,
        &req.room_id,
        &req.user_id,
        reason,
        &s.user_id,
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// `room.unban`: lifts a ban (the user may be added or join again). No ban
/// is `not_found`.
pub async fn unban(state: &AppState, s: &Session, req: UnbanUser) -> AppResult<Empty> {
    manager_now(state, s, &req.room_id).await?;
    if !db::moderation::unban(&state.db, &req.room_id, &req.user_id).await? {
        return Err(AppError::not_found(
            "that user is not banned from this group",
        ));
    }
    Ok(Empty {})
}

/// `room.bans`: a group's bans, for its owner and admins.
pub async fn bans(state: &AppState, s: &Session, req: ListBans) -> AppResult<BanList> {
    manager_now(state, s, &req.room_id).await?;
    let bans = db::moderation::bans(&state.db, &req.room_id)
        .await?
        .into_iter()
        .map(|b| Ban {
            user_id: b.user_id,
            reason: b.reason,
            banned_by: b.banned_by,
            banned_at: rfc3339(b.banned_at),
        })
        .collect();
    Ok(BanList { bans })
}
