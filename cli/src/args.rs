//! The command line: global options every command takes, and the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `leetchat`: a scriptable terminal client for LeetChat.
#[derive(Debug, Parser)]
#[command(
    name = "leetchat",
    version,
    about = "LeetChat in the terminal: scriptable, works offline, one JSON value per line with --json.",
    long_about = "LeetChat in the terminal: scriptable, works offline, one JSON value per line with --json.\n\n\
Messages are kept in a local store and sent through a durable outbox, so `send` works \
without a connection (the message goes out with the next `sync`, `send` or `tail`). \
Passwords are read from LEETCHAT_PASSWORD or from standard input, never from arguments."
)]
pub struct Cli {
    /// Where and how to connect.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The server's base URL.
    #[arg(
        long,
        global = true,
        env = "LEETCHAT_SERVER",
        default_value = "http://localhost:3001"
    )]
    pub server: String,

    /// Folder for the local store (one account per folder).
    /// [default: the platform data folder, e.g. ~/.local/share/leetchat]
    #[arg(long, global = true, env = "LEETCHAT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Where sign-in tokens are kept: the OS keyring, or a 0600 file in the data folder.
    #[arg(
        long,
        global = true,
        env = "LEETCHAT_CREDENTIALS",
        value_enum,
        default_value_t = Credentials::Keyring
    )]
    pub credentials: Credentials,

    /// Machine-readable output: one JSON value per line.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Where tokens are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Credentials {
    /// The OS keyring (Keychain, Credential Manager, Secret Service).
    Keyring,
    /// `credentials.json` (mode 0600) in the data folder: an explicit opt-in.
    File,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account and sign in (password from LEETCHAT_PASSWORD or stdin).
    Register {
        /// Login name.
        user: String,
        /// Name shown to others (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// A server invite (servers that register by invite only ask for one).
        /// Codes may begin with `-`.
        #[arg(long, allow_hyphen_values = true)]
        invite: Option<String>,
    },
    /// Sign in (password from LEETCHAT_PASSWORD or stdin).
    Login {
        /// Login name.
        user: String,
    },
    /// Sign out and forget this device's tokens.
    Logout,
    /// List rooms: name, type, unread count, last message, room id.
    Rooms,
    /// Open (or find) the direct room with a user; prints its room id.
    Dm {
        /// The other user's login name.
        user: String,
    },
    /// Create a group with some users; prints its room id.
    Group {
        /// The group's name.
        name: String,
        /// Login names of the other members.
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Add users to a group (its owner or admins); they see its history.
    Add {
        /// The group: its id or its name.
        room: String,
        /// Login names of the users to add.
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Make an invite link to a group (its owner or admins) and print its
    /// code; with --list, the group's usable links; with --revoke, end one.
    Invite {
        /// The group: its id or its name (omit with --revoke).
        #[arg(required_unless_present = "revoke")]
        room: Option<String>,
        /// How many people may join with it (default: no limit).
        #[arg(long, conflicts_with_all = ["list", "revoke"])]
        uses: Option<u32>,
        /// How long it lasts: 30m, 12h, 7d (default: until revoked).
        #[arg(long, value_parser = parse_duration, conflicts_with_all = ["list", "revoke"])]
        expires: Option<std::time::Duration>,
        /// List the group's usable links instead.
        #[arg(long, conflicts_with = "revoke")]
        list: bool,
        /// Revoke this code (or link) instead.
        #[arg(
            long,
            value_name = "CODE",
            conflicts_with = "room",
            allow_hyphen_values = true
        )]
        revoke: Option<String>,
    },
    /// Join a group with an invite code or link; prints its room id.
    Join {
        /// The code, or a link that holds it (it may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        code: String,
    },
    /// Ban a user from a group (its owner or admins): a member is removed,
    /// and nobody banned can be added or join again. With --list, the bans.
    Ban {
        /// The group: its id or its name.
        room: String,
        /// Login name.
        #[arg(required_unless_present = "list")]
        user: Option<String>,
        /// Why (the group's owner and admins see it).
        #[arg(long, conflicts_with = "list")]
        reason: Option<String>,
        /// List the group's bans instead.
        #[arg(long, conflicts_with = "user")]
        list: bool,
    },
    /// Lift a ban.
    Unban {
        /// The group: its id or its name.
        room: String,
        /// Login name.
        user: String,
    },
    /// Block a user: they cannot message you directly, and you see no
    /// typing or presence of theirs. With --list, whom you block.
    Block {
        /// Login name.
        #[arg(required_unless_present = "list")]
        user: Option<String>,
        /// List whom you block instead.
        #[arg(long, conflicts_with = "user")]
        list: bool,
    },
    /// Unblock a user.
    Unblock {
        /// Login name.
        user: String,
    },
    /// Report a message to the server's administrators.
    Report {
        /// Message id, tempId or local id.
        message: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Show your profile, or change your display name and picture.
    Profile {
        /// The name others see.
        #[arg(long)]
        display_name: Option<String>,
        /// A picture (png, jpeg, gif, webp); the server crops it square.
        #[arg(long, value_name = "PATH", conflicts_with = "no_avatar")]
        avatar: Option<PathBuf>,
        /// Remove your picture.
        #[arg(long)]
        no_avatar: bool,
    },
    /// List your signed-in devices; with --sign-out, sign one out.
    Devices {
        /// Sign this device out (its id from the list).
        #[arg(long, value_name = "DEVICE_ID")]
        sign_out: Option<String>,
    },
    /// Download everything the server keeps about you (profile, devices,
    /// rooms, blocks, your messages) as one JSON file.
    Export {
        /// Where to write it [default: leetchat-export-USER.json here].
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Delete your account for good: your messages become "deleted" for
    /// everyone, every device is signed out, and the name stays taken.
    /// Asks for your password (or LEETCHAT_PASSWORD, or stdin).
    DeleteAccount,
    /// Send a text message, or a file with an optional caption (queued when
    /// offline). `@name` mentions that member, `@room` everyone in the room.
    Send {
        /// Room id, a user name (their direct room) or a group name.
        room: String,
        /// The message (with --file: the caption, optional).
        #[arg(required_unless_present = "file")]
        text: Option<String>,
        /// A file to send: png, jpeg, gif and webp go as images, anything
        /// else as a file. It is copied first, so it may be moved at once.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Answer this message (message id, tempId or local id).
        #[arg(long, value_name = "MESSAGE", conflicts_with = "file")]
        reply_to: Option<String>,
    },
    /// React to a message with an emoji, or take the reaction back.
    React {
        /// Message id, tempId or local id.
        message: String,
        /// The emoji (1 to 32 bytes, no spaces).
        emoji: String,
        /// Take your reaction back instead.
        #[arg(long)]
        remove: bool,
    },
    /// Pin a message in its room (a group's owner or admins; anyone in a direct room).
    Pin {
        /// Message id, tempId or local id.
        message: String,
    },
    /// Unpin a message.
    Unpin {
        /// Message id, tempId or local id.
        message: String,
    },
    /// Save a message's first attachment and print where it went.
    Download {
        /// Message id, tempId or local id.
        message: String,
        /// Where to save it: a file, or a folder to put it in under its own
        /// name [default: the data folder's download cache].
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// The image's thumbnail instead of the full file.
        #[arg(long)]
        thumbnail: bool,
    },
    /// Show a room's latest messages.
    History {
        /// Room id, a user name (their direct room) or a group name.
        room: String,
        /// How many messages.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Mark everything in a room as read, on every device (their unread
    /// counts and notifications clear).
    Read {
        /// Room id, a user name (their direct room) or a group name.
        room: String,
    },
    /// Follow a room live until Ctrl-C.
    Tail {
        /// Room id, a user name (their direct room) or a group name.
        room: String,
    },
    /// Connect once: send what is queued, catch up, and exit.
    Sync,
    /// Search messages: those stored here, and with --remote every
    /// message you may see on the server.
    Search {
        /// Words to find: every one must occur, the last also as the start
        /// of a word; case and accents do not matter.
        text: String,
        /// Only this room (id, a user name for the direct room, or a group name).
        #[arg(long)]
        room: Option<String>,
        /// Ask the server too (results stored here are merged in; the
        /// stored ones alone when it cannot be reached). Not `--server`:
        /// that is the server's URL, taken by every command.
        #[arg(long)]
        remote: bool,
        /// How many results (at most 50).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=50))]
        limit: u32,
        /// Older results: the cursor a --remote search printed.
        #[arg(long, requires = "remote")]
        before: Option<String>,
    },
    /// Edit one of your messages.
    Edit {
        /// Message id, tempId or local id.
        message: String,
        /// The new text.
        text: String,
    },
    /// Delete a message.
    Delete {
        /// Message id, tempId or local id.
        message: String,
    },
    /// Show the room's members that you are typing, until Ctrl-C (or for
    /// --for seconds); then tell them you stopped.
    Typing {
        /// Room id, a user name (their direct room) or a group name.
        room: String,
        /// Stop after this many seconds instead of waiting for Ctrl-C.
        #[arg(long = "for", value_name = "SECONDS")]
        seconds: Option<u64>,
    },
    /// Set when a room notifies you, on every device: `all` messages, only
    /// `mentions`, `none`, or your `default`; and mute it for a while.
    /// With `--default`, set the default level of rooms you have set none for.
    Notify {
        /// Room id, a user name or a group name (omit with --default).
        #[arg(required_unless_present = "default")]
        room: Option<String>,
        /// all, mentions, none or default (with --default: all, mentions or none).
        level: Option<String>,
        /// Mute for a while (`1h`, `8h`, `7d`) or `forever`; no notification until then.
        #[arg(long, value_name = "DURATION", conflicts_with = "unmute")]
        mute: Option<String>,
        /// End a mute.
        #[arg(long)]
        unmute: bool,
        /// Set the default level instead of one room's.
        #[arg(long, value_name = "LEVEL", conflicts_with_all = ["room", "level", "mute", "unmute"])]
        default: Option<String>,
    },
}

/// A duration such as `30m`, `12h`, `7d` (at least a second).
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("expected a duration such as 30m, 12h or 7d, got {s:?}: {e}"))?;
    if d.as_secs() == 0 {
        return Err("the duration must be at least a second".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::{Cli, Command};

    /// Invite codes are base64url, so one in 32 issued by older servers
    /// begins with `-`; it must still be taken as the code, not an option.
    #[test]
    fn invite_codes_that_begin_with_a_dash_are_values() {
        let cli = Cli::try_parse_from(["leetchat", "register", "alice", "--invite", "-U8fs"])
            .expect("register --invite -U8fs parses");
        assert!(matches!(cli.command, Command::Register { invite: Some(c), .. } if c == "-U8fs"));
        let cli = Cli::try_parse_from(["leetchat", "join", "-U8fs"]).expect("join -U8fs parses");
        assert!(matches!(cli.command, Command::Join { code } if code == "-U8fs"));
        let cli = Cli::try_parse_from(["leetchat", "invite", "--revoke", "-U8fs"])
            .expect("invite --revoke -U8fs parses");
        assert!(matches!(cli.command, Command::Invite { revoke: Some(c), .. } if c == "-U8fs"));
    }
}
