//! The client core's error type, one variant per step that can fail.

use leetchat_protocol::ErrorBody;

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The local store failed.
    #[error("local store: {0}")]
    Store(String),
    /// The server answered with an error.
    #[error("server refused: {} ({})", .0.message, .0.code)]
    Server(ErrorBody),
    /// The server could not be reached.
    #[error("cannot reach the server: {0}")]
    Network(String),
    /// The server refused the access token mid-connection: it is refreshed
    /// and the connection made again.
    #[error("the server refused the access token")]
    TokenRefused,
    /// The request needs a live connection and there is none.
    #[error("offline: this needs a connection to the server")]
    Offline,
    /// No account is signed in on this data folder.
    #[error("not signed in: run `leetchat login USER` (or register) first")]
    NotSignedIn,
    /// The session was revoked or expired for good.
    #[error("signed out by the server: {0}; sign in again")]
    SignedOut(String),
    /// Tokens could not be kept or read.
    #[error("credentials: {0}")]
    Credentials(String),
    /// There is no OS keyring to keep tokens in (no Secret Service running,
    /// say): a UI may offer the 0600 file store instead.
    #[error("credentials: {0}")]
    NoKeyring(String),
    /// The account was created, but this device could not keep its tokens
    /// (their store refused them after it had been checked): the account and
    /// its password work, so sign in to it (elsewhere, or with another place
    /// for the tokens) rather than registering again.
    #[error(
        "the account was created, but this device could not keep its sign-in ({0}); sign in to it"
    )]
    AccountNotKept(String),
    /// Something local was not found.
    #[error("{0}")]
    NotFound(String),
    /// A bad request made locally.
    #[error("{0}")]
    Invalid(String),
    /// A local file (to send, or a download being saved) could not be read
    /// or written.
    #[error("file: {0}")]
    File(String),
    /// A reply did not have the expected shape.
    #[error("unexpected reply: {0}")]
    Protocol(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Protocol(e.to_string())
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error::Network(e.to_string())
    }
}
