//! `invite`, `join`, `ban`, `unban`, `block`, `unblock` and `report`:
//! running a group and keeping people away (protocol 9.8). Each needs the
//! server: offline, they say so and change nothing.

use std::time::Duration;

use serde_json::json;

use super::Ctx;
use super::conversations::target;
use super::rooms::live;
use crate::error::{Error, Result};
use crate::output::clock;

/// What `invite` does.
pub enum InviteAction<'a> {
    /// Make a link to ROOM.
    Create {
        /// The group.
        room: &'a str,
        /// How many may join with it.
        uses: Option<u32>,
        /// How long it lasts.
        expires: Option<Duration>,
    },
    /// List ROOM's usable links.
    List(&'a str),
    /// Revoke a code.
    Revoke(&'a str),
}

/// `invite ROOM [--uses N] [--expires 7d]`, `invite ROOM --list`,
/// `invite --revoke CODE`.
pub async fn invite(ctx: &Ctx, action: InviteAction<'_>) -> Result<()> {
    match action {
        InviteAction::Create {
            room,
            uses,
            expires,
        } => {
            let room_id = ctx.room_id(room, true).await?;
            let invite = live(
                ctx,
                ctx.client
                    .create_invite(&room_id, uses, expires.map(|d| d.as_secs().max(1))),
            )
            .await?;
            ctx.out.result(&invite, &invite.code)?;
            if !ctx.out.is_json() {
                ctx.out
                    .note(&format!("others join with: leetchat join {}", invite.code));
            }
            Ok(())
        }
        InviteAction::List(room) => {
            let room_id = ctx.room_id(room, true).await?;
            let invites = live(ctx, ctx.client.invites(&room_id)).await?;
            if ctx.out.is_json() {
                return ctx.out.json(&json!({ "invites": invites }));
            }
            if invites.is_empty() {
                ctx.out.note("no usable invite links");
            }
            let offset = ctx.out.offset();
            for i in &invites {
                let uses = match i.max_uses {
                    Some(m) => format!("{}/{m} uses", i.uses),
                    None => format!("{} uses", i.uses),
                };
                let until = i.expires_at.as_deref().map_or_else(
                    || "no expiry".to_owned(),
                    |e| format!("until {}", clock(e, offset)),
                );
                ctx.out.line(&format!("{}\t{uses}\t{until}", i.code))?;
            }
            Ok(())
        }
        InviteAction::Revoke(code) => {
            let code = leetchat_client::invite_code(code)
                .ok_or_else(|| Error::Usage("that is not an invite code or link".into()))?;
            live(ctx, ctx.client.revoke_invite(&code)).await?;
            ctx.out
                .result(&json!({ "revoked": code }), &format!("revoked {code}"))
        }
    }
}

/// `join CODE_OR_LINK`: joins the group; prints its id and name.
pub async fn join(ctx: &Ctx, code: &str) -> Result<()> {
    let room = live(ctx, ctx.client.join_room(code)).await?;
    ctx.out
        .result(&room, &format!("{}\t{}", room.room_id, room.name))
}

/// `ban ROOM USER [--reason TEXT]`, or `ban ROOM --list`.
pub async fn ban(ctx: &Ctx, room: &str, user: Option<&str>, reason: Option<&str>) -> Result<()> {
    let room_id = ctx.room_id(room, true).await?;
    let Some(user) = user else {
        let bans = live(ctx, ctx.client.bans(&room_id)).await?;
        if ctx.out.is_json() {
            return ctx.out.json(&json!({ "bans": bans }));
        }
        if bans.is_empty() {
            ctx.out.note("nobody is banned");
        }
        let offset = ctx.out.offset();
        for b in &bans {
            let who = ctx.client.user_name_of(&b.user_id);
            let by = ctx.client.user_name_of(&b.banned_by);
            let why = b.reason.as_deref().unwrap_or("");
            ctx.out.line(&format!(
                "{who}\tby {by} {}\t{why}",
                clock(&b.banned_at, offset)
            ))?;
        }
        return Ok(());
    };
    let target = ctx.client.find_user(user).await?;
    live(ctx, ctx.client.ban(&room_id, &target.user_id, reason)).await?;
    ctx.out.result(
        &json!({"roomId": room_id, "userId": target.user_id, "banned": true}),
        &format!("banned {} from the group", target.user_name),
    )
}

/// `unban ROOM USER`.
pub async fn unban(ctx: &Ctx, room: &str, user: &str) -> Result<()> {
    let room_id = ctx.room_id(room, true).await?;
    let target = ctx.client.find_user(user).await?;
    live(ctx, ctx.client.unban(&room_id, &target.user_id)).await?;
    ctx.out.result(
        &json!({"roomId": room_id, "userId": target.user_id, "banned": false}),
        &format!("{} may join again", target.user_name),
    )
}

/// `block USER`, `unblock USER`, or `block --list`.
pub async fn block(ctx: &Ctx, user: Option<&str>, block: bool) -> Result<()> {
    let Some(user) = user else {
        let blocks = live(ctx, ctx.client.blocks()).await?;
        if ctx.out.is_json() {
            return ctx.out.json(&json!({ "blocks": blocks }));
        }
        if blocks.is_empty() {
            ctx.out.note("you block nobody");
        }
        let offset = ctx.out.offset();
        for b in &blocks {
            let who = ctx.client.user_name_of(&b.user_id);
            ctx.out
                .line(&format!("{who}\tsince {}", clock(&b.blocked_at, offset)))?;
        }
        return Ok(());
    };
    let target = ctx.client.find_user(user).await?;
    let blocks = if block {
        live(ctx, ctx.client.block(&target.user_id)).await?
    } else {
        live(ctx, ctx.client.unblock(&target.user_id)).await?
    };
    let human = if block {
        format!(
            "blocked {}: they cannot message you directly, and you see no typing or presence from them",
            target.user_name
        )
    } else {
        format!("unblocked {}", target.user_name)
    };
    ctx.out.result(&json!({ "blocks": blocks }), &human)
}

/// `report MESSAGE REASON`.
pub async fn report(ctx: &Ctx, key: &str, reason: &str) -> Result<()> {
    let m = target(ctx, key).await?;
    let Some(id) = m.message_id.clone() else {
        return Err(Error::Usage(
            "that message has not reached the server yet; only sent messages can be reported"
                .into(),
        ));
    };
    live(ctx, ctx.client.report(&id, reason)).await?;
    ctx.out.result(
        &json!({"messageId": id, "reported": true}),
        "reported to the server's administrators",
    )
}
