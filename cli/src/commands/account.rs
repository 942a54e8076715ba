//! `register`, `login`, `logout`, and reading a password without showing it.

use std::io::{BufRead, IsTerminal};

use leetchat_client::Error as ClientError;
use serde_json::json;

use super::Ctx;
use crate::error::{Error, Result};

/// The variable a script sets instead of piping the password in.
const PASSWORD_VAR: &str = "LEETCHAT_PASSWORD";

/// `register USER [--invite CODE]`: creates the account and signs this data folder in.
pub async fn register(
    ctx: &Ctx,
    user: &str,
    display_name: Option<&str>,
    invite: Option<&str>,
) -> Result<()> {
    let password = password()?;
    let me = match ctx
        .client
        .register_with_invite(user, &password, display_name, invite)
        .await
    {
        Ok(me) => me,
        // The server created the account, but the tokens could not be kept
        // (the store was checked first, so this is rare): registering again
        // would fail with "taken"; signing in works.
        Err(ClientError::AccountNotKept(why)) => {
            return Err(Error::TokensNotKept {
                user: user.to_owned(),
                why,
            });
        }
        Err(e) => return Err(e.into()),
    };
    ctx.out.result(
        &me,
        &format!(
            "registered and signed in as {} (user id {})",
            me.user_name, me.user_id
        ),
    )
}

/// `login USER`: signs this data folder in.
pub async fn login(ctx: &Ctx, user: &str) -> Result<()> {
    let password = password()?;
    let me = ctx.client.login(user, &password).await?;
    ctx.out.result(
        &me,
        &format!("signed in as {} (user id {})", me.user_name, me.user_id),
    )
}

/// `logout`: signs out on the server when reachable and forgets the tokens.
pub async fn logout(ctx: &Ctx) -> Result<()> {
    let who = ctx.client.me().map(|m| m.user_name);
    ctx.client.logout().await?;
    let human = match &who {
        Some(name) => format!("signed out {name}"),
        None => "not signed in".to_owned(),
    };
    ctx.out.result(&json!({ "signedOut": who }), &human)
}

/// `profile [--display-name NAME] [--avatar PATH | --no-avatar]`: changes
/// the profile, or shows it when nothing is asked.
pub async fn profile(
    ctx: &Ctx,
    display_name: Option<&str>,
    avatar: Option<Option<&std::path::Path>>,
) -> Result<()> {
    let me = ctx.me()?;
    let user = if display_name.is_none() && avatar.is_none() {
        ctx.client.find_user(&me.user_name).await?
    } else {
        ctx.client.update_profile(display_name, avatar).await?
    };
    let picture = user
        .avatar_url
        .as_deref()
        .map_or_else(|| "no picture".to_owned(), |u| format!("picture {u}"));
    ctx.out.result(
        &user,
        &format!("{} ({}), {picture}", user.display_name, user.user_name),
    )
}

/// `export [--out PATH]`: writes the JSON archive of one's data.
pub async fn export(ctx: &Ctx, out: Option<&std::path::Path>) -> Result<()> {
    let me = ctx.me()?;
    let dest = out.map_or_else(
        || std::path::PathBuf::from(format!("leetchat-export-{}.json", me.user_name)),
        std::path::Path::to_path_buf,
    );
    let size = ctx.client.export_data(&dest).await?;
    ctx.out.result(
        &json!({"path": dest.display().to_string(), "bytes": size}),
        &format!("wrote {} ({size} bytes)", dest.display()),
    )
}

/// `devices [--sign-out ID]`: the account's signed-in devices, or signs
/// one out.
pub async fn devices(ctx: &Ctx, sign_out: Option<&str>) -> Result<()> {
    ctx.me()?;
    if let Some(id) = sign_out {
        ctx.client.sign_out_device(id).await?;
        return ctx
            .out
            .result(&json!({"signedOut": id}), &format!("signed out {id}"));
    }
    let devices = ctx.client.devices().await?;
    if ctx.out.is_json() {
        return ctx.out.json(&json!({ "devices": devices }));
    }
    let offset = ctx.out.offset();
    for d in &devices {
        let mut notes = Vec::new();
        if d.current {
            notes.push("this device".to_owned());
        }
        if d.online {
            notes.push("online".to_owned());
        }
        if let Some(at) = &d.last_active_at {
            notes.push(format!("active {}", crate::output::clock(at, offset)));
        }
        ctx.out.line(&format!(
            "{}\t{}\tsigned in {}\t{}",
            d.device_id,
            d.name,
            crate::output::clock(&d.created_at, offset),
            notes.join(", ")
        ))?;
    }
    Ok(())
}

/// `delete-account`: deletes the account for good (the password confirms).
pub async fn delete_account(ctx: &Ctx) -> Result<()> {
    let me = ctx.me()?;
    let password = password()?;
    ctx.client.delete_account(&password).await?;
    ctx.out.result(
        &json!({"deleted": me.user_name}),
        &format!(
            "deleted the account {}: its messages are gone for everyone, and this device is signed out",
            me.user_name
        ),
    )
}

/// The password: `LEETCHAT_PASSWORD`, else a hidden prompt on a terminal,
/// else one line of standard input (without its line ending).
fn password() -> Result<String> {
    let password = match std::env::var(PASSWORD_VAR) {
        Ok(p) => p,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Error::Password(format!("{PASSWORD_VAR} is not UTF-8")));
        }
        Err(std::env::VarError::NotPresent) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("Password: ").map_err(|e| Error::Password(e.to_string()))?
        }
        Err(std::env::VarError::NotPresent) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::Password(e.to_string()))?;
            let trimmed = line.trim_end_matches(['\n', '\r']).len();
            line.truncate(trimmed);
            line
        }
    };
    if password.is_empty() {
        return Err(Error::Password(format!(
            "no password: set {PASSWORD_VAR} or write it on standard input"
        )));
    }
    Ok(password)
}
