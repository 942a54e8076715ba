//! One's own account over HTTP (protocol 9.8): `PATCH /api/me` (display
//! name and avatar), `GET /api/me/export` (a JSON archive of one's data) and
//! `DELETE /api/me` (deleting the account, confirmed by its password).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leetchat_protocol::ServerPush;
use leetchat_protocol::events::UserEnvelope;
use leetchat_protocol::http::{DeleteAccount, DeviceInfo, DeviceList, UpdateProfile};
use leetchat_protocol::time::{now_ms, rfc3339};
use serde_json::{Value, json};

use crate::db;
use crate::error::{AppError, AppResult};
use crate::handlers::rooms::MAX_MEMBERS;
use crate::http::{ApiJson, AuthUser};
use crate::ratelimit::Action;
use crate::state::AppState;

/// Longest display name.
pub const MAX_DISPLAY_NAME: usize = 64;

/// Messages read per query while exporting or deleting.
const BATCH: i64 = 500;

/// Tells everyone who shares a room with the user, and the user's own
/// devices, how the user looks now.
async fn announce(state: &AppState, user_id: &str) -> AppResult<leetchat_protocol::User> {
    let user = db::users::by_id(state.db.reader(), user_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such user"))?
        .to_user();
    let mut to = db::rooms::contacts_of(state.db.reader(), user_id, MAX_MEMBERS as u32).await?;
    to.push(user_id.to_owned());
    state.push(
        to,
        None,
        &ServerPush::UserUpdated(UserEnvelope { user: user.clone() }),
    );
    Ok(user)
}

/// `PATCH /api/me`: a new display name and/or avatar; answers `{user}` and
/// pushes `user.updated` to everyone who shares a room with the caller.
pub async fn update(
    State(state): State<AppState>,
    me: AuthUser,
    ApiJson(req): ApiJson<UpdateProfile>,
) -> AppResult<axum::Json<UserEnvelope>> {
    state.rate_limit(&me.user_id, Action::Settings).await?;
    let display = match req.display_name.as_deref().map(str::trim) {
        Some("") => return Err(AppError::invalid("displayName cannot be empty")),
        Some(d) if d.chars().count() > MAX_DISPLAY_NAME => {
            return Err(AppError::invalid(format!(
                "displayName must be at most {MAX_DISPLAY_NAME} characters"
            )));
        }
        other => other,
    };
    let avatar = match &req.avatar_file_id {
        None => None,
        Some(None) => Some(None),
        Some(Some(source)) => Some(Some(
            crate::files::make_avatar(&state, &me.user_id, source).await?,
        )),
    };
    let avatar_ref = avatar.as_ref().map(|a| {
        a.as_ref()
            .map(|f| (f.file_id.as_str(), f.to_attachment().url))
    });
    db::users::set_profile(
        &state.db,
        &me.user_id,
        display,
        avatar_ref
            .as_ref()
            .map(|a| a.as_ref().map(|(id, url)| (*id, url.as_str()))),
    )
    .await?;
    let user = announce(&state, &me.user_id).await?;
    Ok(axum::Json(UserEnvelope { user }))
}

/// `GET /api/me/export`: the caller's profile, devices, rooms, blocks and
/// own messages (with their attachments' URLs), as one JSON document.
pub async fn export(State(state): State<AppState>, me: AuthUser) -> AppResult<Response> {
    state.rate_limit(&me.user_id, Action::Export).await?;
    let user = db::users::by_id(state.db.reader(), &me.user_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such user"))?;
    let mut conn = state.db.reader().acquire().await?;
    let mut rooms = Vec::new();
    for room_id in db::rooms::ids_of_user(&mut *conn, &me.user_id).await? {
        let Some(room) = db::rooms::load(&mut conn, &room_id).await? else {
            continue;
        };
        let mine = room.members.iter().find(|m| m.user_id == me.user_id);
        rooms.push(json!({
            "roomId": room.room_id,
            "type": room.room_type,
            "name": room.name,
            "description": room.description,
            "role": mine.map(|m| m.role),
            "joinedAt": mine.map(|m| m.joined_at.clone()),
            "members": room.members.len(),
        }));
    }
    let mut messages: Vec<Value> = Vec::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = db::messages::of_sender(&mut *conn, &me.user_id, after.as_ref(), BATCH).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.created_at, last.message_id.clone()));
        let full = page.len() as i64 == BATCH;
        for m in db::messages::hydrate(&mut conn, page).await? {
            messages.push(json!({
                "messageId": m.message_id,
                "roomId": m.room_id,
                "seq": m.seq,
                "type": m.message_type,
                "content": m.content,
                "attachments": m.attachments,
                "replyTo": m.reply_to,
                "createdAt": m.created_at,
                "editedAt": m.edited_at,
                "deletedAt": m.deleted_at,
            }));
        }
        if !full {
            break;
        }
    }
    drop(conn);
    let devices: Vec<Value> = db::users::devices_of(&state.db, &me.user_id)
        .await?
        .into_iter()
        .map(|d| {
            json!({
                "deviceId": d.device_id,
                "name": d.name,
                "createdAt": rfc3339(d.created_at),
                "lastActiveAt": d.last_active_at.map(rfc3339),
                "signedOutAt": d.revoked_at.map(rfc3339),
            })
        })
        .collect();
    let blocks: Vec<Value> = db::moderation::blocks_of(&state.db, &me.user_id)
        .await?
        .into_iter()
        .map(|(u, at)| json!({"userId": u, "blockedAt": rfc3339(at)}))
        .collect();
    let archive = json!({
        "format": "leetchat-export-1",
        "exportedAt": rfc3339(now_ms()),
        "server": {"version": env!("CARGO_PKG_VERSION")},
        "user": {
            "userId": user.user_id,
            "userName": user.user_name,
            "displayName": user.display_name,
            "avatarUrl": user.avatar_url,
            "createdAt": rfc3339(user.created_at),
            "lastSeen": user.last_seen.map(rfc3339),
        },
        "devices": devices,
        "rooms": rooms,
        "blocks": blocks,
        "messages": messages,
    });
    let body = serde_json::to_vec_pretty(&archive)
        .map_err(|e| AppError::internal("writing the export", e))?;
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"leetchat-export-{}.json\"",
        user.user_name
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `GET /api/me/devices`: the caller's signed-in devices, newest first,
/// each with whether it is online and whether it is the one asking.
pub async fn devices(
    State(state): State<AppState>,
    me: AuthUser,
) -> AppResult<axum::Json<DeviceList>> {
    let mut devices = Vec::new();
    for d in db::users::devices_of(&state.db, &me.user_id).await? {
        if d.revoked_at.is_some() {
            continue;
        }
        let online = state
            .bus
            .device_online(&state.hub, &me.user_id, &d.device_id)
            .await
            .unwrap_or(false);
        devices.push(DeviceInfo {
            current: d.device_id == me.device_id,
            device_id: d.device_id,
            name: d.name,
            created_at: rfc3339(d.created_at),
            last_active_at: d.last_active_at.map(rfc3339),
            online,
        });
    }
    Ok(axum::Json(DeviceList { devices }))
}

/// `DELETE /api/me/devices/{deviceId}`: signs one of the caller's devices
/// out (its tokens stop working, its sockets close with 4401 on every
/// node). One that is not the caller's, or already signed out, is
/// `not_found`.
pub async fn sign_out_device(
    State(state): State<AppState>,
    me: AuthUser,
    axum::extract::Path(device_id): axum::extract::Path<String>,
) -> AppResult<StatusCode> {
    state.rate_limit(&me.user_id, Action::Settings).await?;
    if !db::users::device_active(&state.db, &me.user_id, &device_id).await? {
        return Err(AppError::not_found("no such signed-in device"));
    }
    db::users::revoke_device(&state.db, &device_id, now_ms()).await?;
    state.close_device(
        &me.user_id,
        &device_id,
        leetchat_protocol::CLOSE_UNAUTHENTICATED,
        "signed out from another device",
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/me {password}`: deletes the caller's account. Every device
/// is signed out (sockets close with 4403 on every node), each own message
/// becomes a tombstone through the normal delete path (a `message.deleted`
/// with a seq, so every device and `sync` see it), and the user is shown
/// as deleted; the name is never given to anyone else. A wrong password is
/// `forbidden` (not 401: the token is fine, and clients take 401 to mean
/// "refresh").
pub async fn delete(
    State(state): State<AppState>,
    me: AuthUser,
    ApiJson(req): ApiJson<DeleteAccount>,
) -> AppResult<StatusCode> {
    state
        .rate_limit(&format!("delete {}", me.user_id), Action::Auth)
        .await?;
    let user = db::users::by_id(state.db.reader(), &me.user_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such user"))?;
    if req.password.chars().count() > 1024
        || !state
            .auth
            .verify_password(req.password, Some(user.password_hash.clone()))
            .await?
    {
        return Err(AppError::forbidden(
            "the password is wrong; the account was not deleted",
        ));
    }
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    db::users::mark_deleted(&mut tx, &me.user_id, now).await?;
    tx.commit().await?;
    // This node's sockets of the account at once; other nodes' within a
    // second (crate::revocations).
    for device in state.hub.devices_of(&me.user_id) {
        state.hub.close_device(
            &me.user_id,
            &device,
            leetchat_protocol::CLOSE_DEACTIVATED,
            "this account was deleted",
        );
    }
    tracing::info!(user_id = %me.user_id, "account deleted");
    // In a task of its own: a client that hangs up does not stop it
    // halfway (and a restart finishes what a crash cut short).
    let task = {
        let state = state.clone();
        let user_id = me.user_id.clone();
        tokio::spawn(async move {
            let done = tombstone_all(&state, &user_id).await;
            let _ = announce(&state, &user_id).await;
            done
        })
    };
    task.await
        .map_err(|e| AppError::internal("deleting an account's messages", e))??;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes every live message of `user_id`, one stream write each, oldest
/// first.
async fn tombstone_all(state: &AppState, user_id: &str) -> AppResult<()> {
    let mut after: Option<(i64, String)> = None;
    loop {
        let page =
            db::messages::live_of_sender(state.db.reader(), user_id, after.as_ref(), BATCH).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some((last.created_at, last.message_id.clone()));
        for m in &page {
            crate::handlers::messages::tombstone(state, m, user_id, None, false).await?;
        }
    }
}

/// Finishes, in the background, deletions a restart cut short: their
/// messages become tombstones like the rest. Which they are is asked while
/// the server starts (before it accepts connections), so the question
/// costs nothing once it serves.
pub async fn resume_unfinished_deletions(state: &AppState) {
    let users = match db::users::deletions_unfinished(&state.db).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for unfinished account deletions");
            return;
        }
    };
    if users.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        for user_id in users {
            tracing::info!(%user_id, "finishing an account deletion");
            if let Err(e) = tombstone_all(&state, &user_id).await {
                tracing::warn!(%user_id, error = %e.message, "cannot finish an account deletion");
            }
        }
    });
}
