//! Who a request runs as, and what every handler does with its input:
//! parsing `data` into the request type, and echoing untrusted text in errors.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::fanout::ConnId;

/// Who is asking, on which connection.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user_id: String,
    /// Their login name (for typing pushes).
    pub user_name: String,
    /// The device of the token.
    pub device_id: String,
    /// The connection (excluded from the pushes its requests cause).
    pub conn_id: ConnId,
}

/// Parses a request's `data`, turning serde's complaint into `invalid`
/// naming the field.
pub fn parse<T: DeserializeOwned>(data: Value) -> AppResult<T> {
    leetchat_protocol::text::check_value(&data)
        .map_err(|e| AppError::invalid(format!("bad data: {e}")))?;
    serde_path_to_error::deserialize(data).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            AppError::invalid(format!("bad data: {}", e.inner()))
        } else {
            AppError::invalid(format!("bad data at {path}: {}", e.inner()))
        }
    })
}

/// At most `n` characters of `s`, for echoing untrusted input in errors.
pub fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
