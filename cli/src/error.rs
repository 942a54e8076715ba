//! What can make a command fail, one variant per step.

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a command failed. Every variant's message is what the user reads
/// after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client core refused or failed.
    #[error(transparent)]
    Client(#[from] leetchat_client::Error),
    /// The data folder could not be determined.
    #[error("no home folder to put the data in: pass --data-dir or set LEETCHAT_DATA_DIR")]
    NoDataDir,
    /// The password could not be read.
    #[error("reading the password: {0}")]
    Password(String),
    /// The account was created but its tokens could not be stored.
    #[error(
        "the account {user:?} was created, but its tokens could not be kept: {why}\n\
         sign in with `leetchat login {user}` once they can"
    )]
    TokensNotKept {
        /// The new account's name.
        user: String,
        /// The credential store's complaint.
        why: String,
    },
    /// A ROOM argument matched no stored room, or several.
    #[error("{0}")]
    Room(String),
    /// A message has no attachment to download, or not yet.
    #[error("{0}")]
    Attachment(String),
    /// The server refused a queued change.
    #[error("{0}")]
    Refused(String),
    /// The command needs the server and it cannot be reached.
    #[error("offline: cannot reach {server} ({reason})")]
    Offline {
        /// The server tried.
        server: String,
        /// What went wrong.
        reason: String,
    },
    /// An argument has a value the command cannot use.
    #[error("{0}")]
    Usage(String),
    /// Writing to stdout failed (a closed pipe ends the program quietly).
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    /// Output could not be serialised.
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}
