//! `leetchat-server admin <command>`: accounts and server invites, run by
//! the operator on the configured database (SQLite or PostgreSQL), also
//! while nodes run. A change that signs devices out (deactivation, a
//! password reset) is seen by every node within half a second
//! ([`crate::revocations`]), which closes those devices' sockets.
//!
//! Output is text for people, or one JSON document with `--json`. A problem
//! is one line on standard error naming it, and exit status 1.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use leetchat_protocol::time::{now_ms, rfc3339};
use serde_json::{Value, json};

use crate::config::{Config, DatabaseKind, parse_duration};
use crate::db::{self, Db, invites::ServerInvite, users::NotCreated, users::UserRow};

/// The sub-commands of `leetchat-server`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Administer accounts and server invites on the configured database
    /// (DATABASE_URL or DATA_DIR, as the server uses them; also while it runs).
    Admin(AdminArgs),
}

/// `leetchat-server admin`.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminArgs {
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// What `leetchat-server admin` does.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AdminCommand {
    /// Make an account. The password is asked for twice on a terminal, or
    /// read from the first line of standard input.
    CreateUser {
        /// Its login name (3-32 letters, digits, '_', '.', '-').
        user_name: String,
        /// The name others see (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// Make it a server admin.
        #[arg(long)]
        admin: bool,
    },
    /// List every account: its role, status and when it was last seen.
    ListUsers,
    /// Make an account a server admin.
    Promote {
        /// Login name.
        user_name: String,
    },
    /// Make a server admin an ordinary account.
    Demote {
        /// Login name.
        user_name: String,
    },
    /// Deactivate an account: every device is signed out, its sockets
    /// close within 2 s, and it cannot sign in; its messages stay.
    Deactivate {
        /// Login name.
        user_name: String,
    },
    /// Let a deactivated account sign in again.
    Reactivate {
        /// Login name.
        user_name: String,
    },
    /// Set a new password (asked for, or read from standard input) and sign
    /// every device of the account out.
    ResetPassword {
        /// Login name.
        user_name: String,
    },
    /// Server invites, for REGISTRATION=invite.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Messages members reported, newest first, with what each said when
    /// it was reported.
    Reports {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// `leetchat-server admin invite`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum InviteCommand {
    /// Make a server invite and print its code.
    Create {
        /// How many accounts it may make (default: no limit).
        #[arg(long)]
        uses: Option<u32>,
        /// How long it lasts, e.g. 7d, 12h, 3600 (default: until revoked).
        #[arg(long, value_parser = parse_duration)]
        expires: Option<Duration>,
        /// A note for yourself (who it is for).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List server invites, newest first.
    List,
    /// Revoke a server invite: it makes no more accounts.
    Revoke {
        /// The invite's code.
        code: String,
    },
}

/// A problem the operator is told about.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No account has that name.
    #[error("no account is named {0:?} (see `leetchat-server admin list-users`)")]
    UnknownUser(String),
    /// No invite has that code.
    #[error("no server invite has the code {0:?} (see `leetchat-server admin invite list`)")]
    UnknownInvite(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// The database.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Opening the database.
    #[error(transparent)]
    Open(#[from] db::DbError),
    /// Reading a password.
    #[error("cannot read the password: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs one admin command; what it prints goes to `out`.
pub async fn run(config: &Config, args: &AdminArgs, out: &mut dyn Write) -> Result<(), AdminError> {
    let url = config.database_url();
    if DatabaseKind::of(&url) == Some(DatabaseKind::Sqlite) {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let db = Db::open(&url, 2).await?;
    if !args.json {
        eprintln!("database: {}", describe(&url));
    }
    let r = run_on(&db, args, out).await;
    db.close().await;
    r
}

/// Where the database is, without a password.
fn describe(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.scheme().starts_with("postgres") => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or(url)
            .to_owned(),
    }
}

async fn run_on(db: &Db, args: &AdminArgs, out: &mut dyn Write) -> Result<(), AdminError> {
    let json = args.json;
    match &args.command {
        AdminCommand::CreateUser {
            user_name,
            display_name,
            admin,
        } => {
            crate::http::check_user_name(user_name).map_err(|e| AdminError::Invalid(e.message))?;
            let display = display_name
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .unwrap_or(user_name);
            if display.chars().count() > 64 {
                return Err(AdminError::Invalid(
                    "--display-name must be at most 64 characters".into(),
                ));
            }
            if db::users::by_name(db, user_name).await?.is_some() {
                return Err(AdminError::Invalid(format!(
                    "the name {user_name:?} is taken"
                )));
            }
            let hash = new_password_hash()?;
            let user = match db::users::create_account(
                db,
                user_name,
                display,
                &hash,
                None,
                *admin,
                now_ms(),
            )
            .await?
            {
                Ok(u) => u,
                Err(NotCreated::NameTaken) | Err(NotCreated::BadInvite) => {
                    return Err(AdminError::Invalid(format!(
                        "the name {user_name:?} is taken"
                    )));
                }
            };
            if json {
                print_json(out, json!({"user": user_json(&user)}))?;
            } else {
                let role = if *admin { "server admin" } else { "account" };
                writeln!(
                    out,
                    "created {role} {} (id {})",
                    user.user_name, user.user_id
                )?;
            }
        }
        AdminCommand::ListUsers => {
            let users = db::users::all(db).await?;
            if json {
                let list: Vec<Value> = users.iter().map(user_json).collect();
                print_json(out, json!({"users": list}))?;
            } else {
                let rows: Vec<[String; 5]> = users
                    .iter()
                    .map(|u| {
                        [
                            u.user_name.clone(),
                            u.display_name.clone(),
                            if u.is_admin != 0 { "admin" } else { "member" }.into(),
                            if u.is_deactivated() {
                                "deactivated"
                            } else {
                                "active"
                            }
                            .into(),
                            u.last_seen.map_or_else(|| "-".into(), rfc3339),
                        ]
                    })
                    .collect();
                table(
                    out,
                    ["NAME", "DISPLAY NAME", "ROLE", "STATUS", "LAST SEEN"],
                    &rows,
                )?;
                writeln!(out, "{} accounts", users.len())?;
            }
        }
        AdminCommand::Promote { user_name } | AdminCommand::Demote { user_name } => {
            let promote = matches!(args.command, AdminCommand::Promote { .. });
            let user = user_named(db, user_name).await?;
            let changed = db::users::set_admin(db, &user.user_id, promote).await?;
            let user = user_named(db, user_name).await?;
            if json {
                print_json(out, json!({"user": user_json(&user), "changed": changed}))?;
            } else {
                let now = if promote {
                    "a server admin"
                } else {
                    "not a server admin"
                };
                let was = if changed { "is now" } else { "was already" };
                writeln!(out, "{} {was} {now}", user.user_name)?;
                if !promote && db::users::active_admin_count(db).await? == 0 {
                    writeln!(
                        out,
                        "note: no active server admin is left (make one with `leetchat-server admin promote NAME`)"
                    )?;
                }
            }
        }
        AdminCommand::Deactivate { user_name } => {
            let user = user_named(db, user_name).await?;
            let changed = db::users::deactivate(db, &user.user_id, now_ms()).await?;
            let user = user_named(db, user_name).await?;
            if json {
                print_json(out, json!({"user": user_json(&user), "changed": changed}))?;
            } else if changed {
                writeln!(
                    out,
                    "deactivated {}: every device is signed out and its connections close within 2 s",
                    user.user_name
                )?;
            } else {
                writeln!(out, "{} was already deactivated", user.user_name)?;
            }
        }
        AdminCommand::Reactivate { user_name } => {
            let user = user_named(db, user_name).await?;
            let changed = db::users::reactivate(db, &user.user_id).await?;
            let user = user_named(db, user_name).await?;
            if json {
                print_json(out, json!({"user": user_json(&user), "changed": changed}))?;
            } else if changed {
                writeln!(out, "reactivated {}: it can sign in again", user.user_name)?;
            } else {
                writeln!(out, "{} was not deactivated", user.user_name)?;
            }
        }
        AdminCommand::ResetPassword { user_name } => {
            let user = user_named(db, user_name).await?;
            let hash = new_password_hash()?;
            db::users::reset_password(db, &user.user_id, &hash, now_ms()).await?;
            if json {
                print_json(out, json!({"user": user_json(&user)}))?;
            } else {
                writeln!(
                    out,
                    "set a new password for {}; every device of it is signed out",
                    user.user_name
                )?;
            }
        }
        AdminCommand::Invite(InviteCommand::Create {
            uses,
            expires,
            note,
        }) => {
            if *uses == Some(0) {
                return Err(AdminError::Invalid("--uses must be at least 1".into()));
            }
            let now = now_ms();
            let expires_at = match expires {
                Some(d) => Some(
                    i64::try_from(d.as_millis())
                        .ok()
                        .and_then(|ms| now.checked_add(ms))
                        .filter(|at| *at < 253_402_300_800_000) // the year 9999
                        .ok_or_else(|| AdminError::Invalid("--expires is too far away".into()))?,
                ),
                None => None,
            };
            let invite = ServerInvite {
                code: db::invites::new_code(),
                created_by: None,
                created_at: now,
                expires_at,
                max_uses: uses.map(i64::from),
                uses: 0,
                revoked_at: None,
                note: note.trim().to_owned(),
            };
            db::invites::create_server_invite(db, &invite).await?;
            if json {
                print_json(out, json!({"invite": invite_json(&invite, now)}))?;
            } else {
                writeln!(out, "{}", invite.code)?;
                eprintln!(
                    "a server invite for {}, {}: sign-up takes it as the invite code (REGISTRATION=invite)",
                    uses.map_or_else(
                        || "any number of accounts".into(),
                        |n| format!("{n} account{}", if n == 1 { "" } else { "s" })
                    ),
                    invite.expires_at.map_or_else(
                        || "until revoked".into(),
                        |e| format!("until {}", rfc3339(e))
                    )
                );
            }
        }
        AdminCommand::Invite(InviteCommand::List) => {
            let now = now_ms();
            let invites = db::invites::server_invites(db).await?;
            if json {
                let list: Vec<Value> = invites.iter().map(|i| invite_json(i, now)).collect();
                print_json(out, json!({"invites": list}))?;
            } else {
                let rows: Vec<[String; 5]> = invites
                    .iter()
                    .map(|i| {
                        [
                            i.code.clone(),
                            match i.max_uses {
                                Some(m) => format!("{}/{m}", i.uses),
                                None => i.uses.to_string(),
                            },
                            i.expires_at.map_or_else(|| "never".into(), rfc3339),
                            invite_status(i, now).into(),
                            i.note.clone(),
                        ]
                    })
                    .collect();
                table(out, ["CODE", "USES", "EXPIRES", "STATUS", "NOTE"], &rows)?;
            }
        }
        AdminCommand::Reports { limit } => {
            let reports = db::moderation::reports(db, i64::from((*limit).max(1))).await?;
            if json {
                let list: Vec<Value> = reports
                    .iter()
                    .map(|r| {
                        json!({
                            "reportId": r.report_id,
                            "messageId": r.message_id,
                            "roomId": r.room_id,
                            "roomName": r.room_name,
                            "senderId": r.sender_id,
                            "senderName": r.sender_name,
                            "reporterId": r.reporter_id,
                            "reporterName": r.reporter_name,
                            "reason": r.reason,
                            "content": r.content,
                            "createdAt": rfc3339(r.created_at),
                        })
                    })
                    .collect();
                print_json(out, json!({"reports": list}))?;
            } else if reports.is_empty() {
                writeln!(out, "no reports")?;
            } else {
                for r in &reports {
                    let room = if r.room_name.is_empty() {
                        "a direct room".to_owned()
                    } else {
                        format!("#{}", r.room_name)
                    };
                    writeln!(
                        out,
                        "{}  {} reported {}'s message in {room} (message {})",
                        rfc3339(r.created_at),
                        r.reporter_name,
                        r.sender_name,
                        r.message_id
                    )?;
                    writeln!(out, "  reason:  {}", one_line(&r.reason, 200))?;
                    writeln!(out, "  message: {}", one_line(&r.content, 200))?;
                }
            }
        }
        AdminCommand::Invite(InviteCommand::Revoke { code }) => {
            let code = code.trim();
            if db::invites::server_invite(db, code).await?.is_none() {
                return Err(AdminError::UnknownInvite(code.to_owned()));
            }
            let changed = db::invites::revoke_server_invite(db, code, now_ms()).await?;
            if json {
                print_json(out, json!({"code": code, "changed": changed}))?;
            } else if changed {
                writeln!(out, "revoked {code}")?;
            } else {
                writeln!(out, "{code} was already revoked")?;
            }
        }
    }
    Ok(())
}

async fn user_named(db: &Db, name: &str) -> Result<UserRow, AdminError> {
    db::users::by_name(db, name)
        .await?
        .ok_or_else(|| AdminError::UnknownUser(name.to_owned()))
}

/// Reads a new password (twice on a terminal; else the first line of
/// standard input), checks it, and hashes it.
fn new_password_hash() -> Result<String, AdminError> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(AdminError::Invalid("the two passwords differ".into()));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    crate::http::check_password(&password).map_err(|e| AdminError::Invalid(e.message))?;
    crate::auth::hash_password_here(&password).map_err(AdminError::Invalid)
}

fn user_json(u: &UserRow) -> Value {
    json!({
        "userId": u.user_id,
        "userName": u.user_name,
        "displayName": u.display_name,
        "admin": u.is_admin != 0,
        "deactivated": u.is_deactivated(),
        "createdAt": rfc3339(u.created_at),
        "lastSeen": u.last_seen.map(rfc3339),
    })
}

fn invite_status(i: &ServerInvite, now: i64) -> &'static str {
    if i.revoked_at.is_some() {
        "revoked"
    } else if i.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else if i.max_uses.is_some_and(|m| i.uses >= m) {
        "used up"
    } else {
        "usable"
    }
}

fn invite_json(i: &ServerInvite, now: i64) -> Value {
    json!({
        "code": i.code,
        "uses": i.uses,
        "maxUses": i.max_uses,
        "expiresAt": i.expires_at.map(rfc3339),
        "createdAt": rfc3339(i.created_at),
        "status": invite_status(i, now),
        "note": i.note,
    })
}

/// `s` on one line, cut to `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

fn print_json(out: &mut dyn Write, v: Value) -> std::io::Result<()> {
    writeln!(out, "{v:#}")
}

/// Columns padded to their widest cell.
fn table<const N: usize>(
    out: &mut dyn Write,
    head: [&str; N],
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut widths = head.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(head.to_vec()))?;
    for r in rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}
