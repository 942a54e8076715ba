//! `rooms`, `dm` and `group`: listing rooms and creating them.

use leetchat_client::{Error as ClientError, RoomView};

use super::{Ctx, ONLINE_WAIT};
use crate::error::{Error, Result};

/// `rooms`: every stored room, after trying to catch up.
pub async fn list(ctx: &Ctx) -> Result<()> {
    ctx.sync_or_note().await?;
    let rooms = ctx.client.rooms()?;
    if rooms.is_empty() && !ctx.out.is_json() {
        ctx.out
            .note("no rooms yet: `leetchat dm USER` or `leetchat group NAME USER...` opens one");
    }
    for r in &rooms {
        ctx.out.room(r)?;
    }
    Ok(())
}

/// `dm USER`: opens (or finds) the direct room with a user.
pub async fn direct(ctx: &Ctx, user: &str) -> Result<()> {
    let other = ctx.client.find_user(user).await?;
    let room = live(ctx, ctx.client.create_direct(&other.user_id)).await?;
    print_room(ctx, &room)
}

/// `group NAME USER...`: creates a group with these users.
pub async fn group(ctx: &Ctx, name: &str, users: &[String]) -> Result<()> {
    let mut ids = Vec::with_capacity(users.len());
    for u in users {
        ids.push(ctx.client.find_user(u).await?.user_id);
    }
    let room = live(ctx, ctx.client.create_group(name, &ids)).await?;
    print_room(ctx, &room)
}

/// `add ROOM USER...`: adds users to a group; prints the group.
pub async fn add(ctx: &Ctx, room: &str, users: &[String]) -> Result<()> {
    let room = ctx.room_id(room, true).await?;
    let mut ids = Vec::with_capacity(users.len());
    for u in users {
        ids.push(ctx.client.find_user(u).await?.user_id);
    }
    let view = live(ctx, ctx.client.add_members(&room, &ids)).await?;
    print_room(ctx, &view)
}

/// The room id first, so `$(leetchat dm bob | cut -f1)` is the id.
fn print_room(ctx: &Ctx, room: &RoomView) -> Result<()> {
    ctx.out
        .result(room, &format!("{}\t{}", room.room_id, room.name))
}

/// Runs a request on the live connection: starts it, waits until it is up,
/// runs `request`, and stops it again.
pub async fn live<T>(
    ctx: &Ctx,
    request: impl Future<Output = leetchat_client::Result<T>>,
) -> Result<T> {
    ctx.client.start()?;
    let result = match ctx.client.wait_online(ONLINE_WAIT).await {
        Ok(()) => request.await.map_err(Error::from),
        Err(ClientError::Offline) => Err(Error::Offline {
            server: ctx.client.server().to_owned(),
            reason: format!("no live connection within {} s", ONLINE_WAIT.as_secs()),
        }),
        Err(e) => Err(e.into()),
    };
    ctx.client.stop().await;
    result
}
