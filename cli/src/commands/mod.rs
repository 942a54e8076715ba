//! The commands, one module per idea, and what they share: the open client,
//! the output, a foreground sync that tells "offline" from real errors, and
//! finding the room a ROOM argument names.

mod account;
mod community;
mod conversations;
mod files;
mod messages;
mod notify;
mod rooms;
mod tail;
mod typing;

use std::path::PathBuf;
use std::time::Duration;

use leetchat_client::{Client, ClientConfig, CredentialStore, Error as ClientError, Me};

use crate::args::{Cli, Command, Credentials, Global};
use crate::error::{Error, Result};
use crate::output::{Names, Output};
use crate::room_arg::{self, Match};

/// How long a command waits for a foreground sync before it counts the
/// server as unreachable (a send stays queued then).
pub const SYNC_WAIT: Duration = Duration::from_secs(10);

/// How long `dm`, `group` and `history` wait for the live connection.
pub const ONLINE_WAIT: Duration = Duration::from_secs(10);

/// Shown in the account's device list.
const DEVICE_NAME: &str = "leetchat (terminal)";

/// What every command works with.
pub struct Ctx {
    /// The client core on the chosen data folder and server.
    pub client: Client,
    /// Where results go.
    pub out: Output,
}

/// Whether a foreground sync reached the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Connected, caught up, outbox flushed.
    Online,
    /// The server could not be reached; why.
    Offline(String),
}

/// Runs the command line.
pub async fn run(cli: Cli, out: Output) -> Result<()> {
    let client = open(&cli.global).await?;
    let ctx = Ctx { client, out };
    match cli.command {
        Command::Register {
            user,
            display_name,
            invite,
        } => account::register(&ctx, &user, display_name.as_deref(), invite.as_deref()).await,
        Command::Login { user } => account::login(&ctx, &user).await,
        Command::Logout => account::logout(&ctx).await,
        Command::Rooms => rooms::list(&ctx).await,
        Command::Dm { user } => rooms::direct(&ctx, &user).await,
        Command::Group { name, users } => rooms::group(&ctx, &name, &users).await,
        Command::Add { room, users } => rooms::add(&ctx, &room, &users).await,
        Command::Invite {
            room,
            uses,
            expires,
            list,
            revoke,
        } => {
            let action = match (revoke.as_deref(), room.as_deref()) {
                (Some(code), _) => community::InviteAction::Revoke(code),
                (None, Some(room)) if list => community::InviteAction::List(room),
                (None, Some(room)) => community::InviteAction::Create {
                    room,
                    uses,
                    expires,
                },
                // clap asks for ROOM unless --revoke is given.
                (None, None) => return Err(Error::Usage("name the group".into())),
            };
            community::invite(&ctx, action).await
        }
        Command::Join { code } => community::join(&ctx, &code).await,
        Command::Profile {
            display_name,
            avatar,
            no_avatar,
        } => {
            let avatar = match (avatar.as_deref(), no_avatar) {
                (Some(p), _) => Some(Some(p)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            account::profile(&ctx, display_name.as_deref(), avatar).await
        }
        Command::Export { out } => account::export(&ctx, out.as_deref()).await,
        Command::Devices { sign_out } => account::devices(&ctx, sign_out.as_deref()).await,
        Command::DeleteAccount => account::delete_account(&ctx).await,
        Command::Ban {
            room,
            user,
            reason,
            list: _,
        } => community::ban(&ctx, &room, user.as_deref(), reason.as_deref()).await,
        Command::Unban { room, user } => community::unban(&ctx, &room, &user).await,
        Command::Block { user, list: _ } => community::block(&ctx, user.as_deref(), true).await,
        Command::Unblock { user } => community::block(&ctx, Some(&user), false).await,
        Command::Report { message, reason } => community::report(&ctx, &message, &reason).await,
        Command::Send {
            room,
            text,
            file: None,
            reply_to,
        } => {
            let text = text.as_deref().unwrap_or_default();
            messages::send(&ctx, &room, text, reply_to.as_deref()).await
        }
        // clap refuses --reply-to with --file.
        Command::Send {
            room,
            text,
            file: Some(path),
            ..
        } => files::send(&ctx, &room, &path, text.as_deref().unwrap_or_default()).await,
        Command::React {
            message,
            emoji,
            remove,
        } => conversations::react(&ctx, &message, &emoji, !remove).await,
        Command::Pin { message } => conversations::pin(&ctx, &message, true).await,
        Command::Unpin { message } => conversations::pin(&ctx, &message, false).await,
        Command::Download {
            message,
            out,
            thumbnail,
        } => files::download(&ctx, &message, out.as_deref(), thumbnail).await,
        Command::History { room, limit } => messages::history(&ctx, &room, limit).await,
        Command::Tail { room } => tail::run(&ctx, &room).await,
        Command::Sync => messages::sync(&ctx).await,
        Command::Search {
            text,
            room,
            remote,
            limit,
            before,
        } => {
            let how = messages::SearchArgs {
                room: room.as_deref(),
                remote,
                limit,
                before: before.as_deref(),
            };
            messages::search(&ctx, &text, how).await
        }
        Command::Edit { message, text } => messages::edit(&ctx, &message, &text).await,
        Command::Delete { message } => messages::delete(&ctx, &message).await,
        Command::Typing { room, seconds } => typing::run(&ctx, &room, seconds).await,
        Command::Read { room } => notify::read(&ctx, &room).await,
        Command::Notify {
            room,
            level,
            mute,
            unmute,
            default,
        } => match (default, room) {
            (Some(level), _) => notify::set_default(&ctx, &level).await,
            (None, Some(room)) => {
                notify::set_room(&ctx, &room, level.as_deref(), mute.as_deref(), unmute).await
            }
            (None, None) => Err(crate::error::Error::Usage(
                "name a room, or give --default LEVEL".into(),
            )),
        },
    }
}

/// The data folder: `--data-dir`, else the platform's (`~/.local/share/leetchat`
/// on Linux, honouring `XDG_DATA_HOME`).
pub fn data_dir(global: &Global) -> Result<PathBuf> {
    match &global.data_dir {
        Some(d) => Ok(d.clone()),
        None => directories::BaseDirs::new()
            .map(|b| b.data_dir().join("leetchat"))
            .ok_or(Error::NoDataDir),
    }
}

async fn open(global: &Global) -> Result<Client> {
    let data_dir = data_dir(global)?;
    let credentials = match global.credentials {
        Credentials::Keyring => CredentialStore::Keyring,
        Credentials::File => CredentialStore::File(data_dir.join("credentials.json")),
    };
    // The store remembers the server it belongs to; `http://h/` and `http://h`
    // must be the same server.
    let server = global.server.trim_end_matches('/').to_owned();
    tracing::debug!(%server, data_dir = %data_dir.display(), "opening the client");
    Ok(Client::open(ClientConfig {
        server,
        data_dir,
        credentials,
        device_name: DEVICE_NAME.into(),
    })
    .await?)
}

impl Ctx {
    /// The signed-in account.
    pub fn me(&self) -> Result<Me> {
        self.client
            .me()
            .ok_or(Error::Client(ClientError::NotSignedIn))
    }

    /// Connects once in the foreground (catch up, flush the outbox), waiting
    /// at most `wait`. An unreachable server is `Reach::Offline`, not an error.
    pub async fn sync(&self, wait: Duration) -> Result<Reach> {
        match tokio::time::timeout(wait, self.client.sync_once()).await {
            Ok(Ok(())) => Ok(Reach::Online),
            Ok(Err(ClientError::Network(reason))) => Ok(Reach::Offline(reason)),
            Ok(Err(ClientError::Offline)) => Ok(Reach::Offline("no connection".into())),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Ok(Reach::Offline(format!(
                "no answer within {} s",
                wait.as_secs()
            ))),
        }
    }

    /// Like [`Ctx::sync`], but says on stderr when it shows stored data only.
    pub async fn sync_or_note(&self) -> Result<Reach> {
        let reach = self.sync(SYNC_WAIT).await?;
        if let Reach::Offline(reason) = &reach {
            tracing::info!(%reason, "sync failed");
            self.out.note("offline: showing stored data");
        }
        Ok(reach)
    }

    /// The names of everyone in the user's rooms.
    pub fn names(&self) -> Result<Names> {
        Ok(Names::of_rooms(&self.client.rooms()?))
    }

    /// The room a ROOM argument names. When no stored room matches and
    /// `may_sync`, syncs once (the room may be new) and looks again.
    pub async fn room_id(&self, arg: &str, may_sync: bool) -> Result<String> {
        let me = self.me()?.user_id;
        let mut found = room_arg::find(&self.client.rooms()?, &me, arg);
        let mut offline = false;
        if found == Match::None && may_sync {
            match self.sync(SYNC_WAIT).await? {
                Reach::Online => found = room_arg::find(&self.client.rooms()?, &me, arg),
                Reach::Offline(_) => offline = true,
            }
        }
        match found {
            Match::Room(id) => Ok(id),
            Match::Ambiguous(ids) => Err(Error::Room(format!(
                "{} groups are named {arg:?}; use a room id: {}",
                ids.len(),
                ids.join(", ")
            ))),
            Match::None => Err(Error::Room(format!(
                "no room {arg:?}: not a room id, a user you have a direct room with, or a group name{}; \
                 `leetchat rooms` lists them",
                if offline {
                    " (offline: only stored rooms were searched)"
                } else {
                    ""
                }
            ))),
        }
    }
}
