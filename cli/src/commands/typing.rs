//! `typing ROOM`: tell a room's members that you are typing.
//!
//! The server drops a typing indicator that is not renewed within 5 s
//! (docs/protocol.md), so this renews it every few seconds until Ctrl-C,
//! SIGTERM or `--for` runs out, then sends `typing.stop`.

use std::time::Duration;

use leetchat_client::Error as ClientError;

use super::tail::shutdown;
use super::{Ctx, ONLINE_WAIT};
use crate::error::{Error, Result};

/// How often `typing.start` is renewed: well inside the server's 5 s expiry.
const RENEW: Duration = Duration::from_secs(3);

/// `typing ROOM [--for SECONDS]`.
pub async fn run(ctx: &Ctx, room: &str, seconds: Option<u64>) -> Result<()> {
    let room = ctx.room_id(room, true).await?;
    ctx.client.start()?;
    if let Err(e) = ctx.client.wait_online(ONLINE_WAIT).await {
        ctx.client.stop().await;
        return Err(match e {
            ClientError::Offline => Error::Offline {
                server: ctx.client.server().to_owned(),
                reason: format!("no live connection within {} s", ONLINE_WAIT.as_secs()),
            },
            e => e.into(),
        });
    }
    let result = typing(ctx, &room, seconds.map(Duration::from_secs)).await;
    // Said even after a failed renewal, so nobody is left seeing "typing…".
    let stopped = ctx.client.set_typing(&room, false).await;
    ctx.client.stop().await;
    result?;
    stopped?;
    ctx.out.result(
        &serde_json::json!({"roomId": room, "typing": false}),
        "stopped typing",
    )
}

/// Keeps the indicator up until a signal or the deadline.
async fn typing(ctx: &Ctx, room: &str, limit: Option<Duration>) -> Result<()> {
    let stop = shutdown();
    tokio::pin!(stop);
    let deadline = async {
        match limit {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    ctx.client.set_typing(room, true).await?;
    ctx.out.note("typing… (Ctrl-C stops)");
    let mut renew = tokio::time::interval(RENEW);
    renew.tick().await;
    loop {
        tokio::select! {
            () = &mut stop => return Ok(()),
            () = &mut deadline => return Ok(()),
            _ = renew.tick() => ctx.client.set_typing(room, true).await?,
        }
    }
}
