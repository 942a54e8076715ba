//! The server's one error type: it maps to the wire error codes, logs internal
//! causes once, and never sends them to clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leetchat_protocol::envelope::HttpError;
use leetchat_protocol::{ErrorBody, ErrorCode};

/// The message of [`AppError::not_member`].
pub const NOT_MEMBER: &str = "you are not a member of this room, or it does not exist";

/// A failed request, as the client will see it.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    /// The wire code.
    pub code: ErrorCode,
    /// Safe to show to the client.
    pub message: String,
    /// With `rate_limited`.
    pub retry_after_ms: Option<u64>,
    /// With `internal`: nothing was committed and the request may be retried.
    pub retryable: bool,
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// An error with a code and a client-safe message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            retry_after_ms: None,
            retryable: false,
        }
    }

    /// `invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    /// `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// `forbidden`, the one answer to a caller who is not a member of a room,
    /// whether or not the room exists: who talks with whom (direct room ids
    /// can be computed) does not leak through the error.
    pub fn not_member() -> Self {
        Self::forbidden(NOT_MEMBER)
    }

    /// `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// `unauthenticated`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// `rate_limited` with the wait.
    pub fn rate_limited(action: &str, retry_after_ms: u64) -> Self {
        AppError {
            retry_after_ms: Some(retry_after_ms.max(1)),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("too many {action} requests; retry in {retry_after_ms} ms"),
            )
        }
    }

    /// `internal`: logs `cause` here, once, and tells the client only that it failed.
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Self::new(ErrorCode::Internal, "internal error")
    }

    /// The wire body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            retry_after_ms: self.retry_after_ms,
            retryable: self.retryable.then_some(true),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // Connection-level failures mean the database was unreachable: nothing
        // was committed and the client may retry the same request.
        // So do a deadlock and a serialization failure: PostgreSQL undid the
        // transaction (in a group commit, only the write that met it fails;
        // the others are written without it).
        let retryable = match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(d) => matches!(d.code().as_deref(), Some("40P01" | "40001")),
            _ => false,
        };
        tracing::error!(error = %e, retryable, "database error");
        AppError {
            retryable,
            ..AppError::new(
                ErrorCode::Internal,
                if retryable {
                    "database unavailable; nothing was saved, retry later"
                } else {
                    "internal error"
                },
            )
        }
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        // serde's messages name the field and the expected type; they carry no secrets.
        AppError::invalid(e.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = if self.code == ErrorCode::Internal && self.retryable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::from_u16(self.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        };
        let mut resp = (status, axum::Json(HttpError { error: self.body() })).into_response();
        if let Some(ms) = self.retry_after_ms
            && let Ok(v) = axum::http::HeaderValue::from_str(&ms.div_ceil(1000).to_string())
        {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Is this database error a unique-constraint violation?
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                // the Any driver does not always carry the kind; fall back to codes
                || matches!(d.code().as_deref(), Some("23505") | Some("2067") | Some("1555"))
                || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}
