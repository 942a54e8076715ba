//! Frames on the native WebSocket and the error body shared with HTTP.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The client-chosen id of a request, echoed in its ack (a number or a string).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A JSON number, echoed exactly as sent.
    Number(serde_json::Number),
    /// A JSON string.
    String(String),
}

impl From<u64> for RequestId {
    fn from(n: u64) -> Self {
        RequestId::Number(n.into())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// A client request: `{"id": 17, "event": "message.send", "data": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientFrame {
    /// With an id the server answers exactly once with an [`Ack`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    /// The event name, e.g. `message.send`.
    pub event: String,
    /// The event's payload; `{}` when absent.
    #[serde(default = "empty_object")]
    pub data: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// The server's answer to a request that carried an id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ack {
    /// The id of the request this answers.
    pub ack: RequestId,
    /// Whether the request succeeded.
    pub ok: bool,
    /// The result on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The reason on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// A server push: `{"event": "message.received", "data": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Push<T = Value> {
    /// The event name.
    pub event: String,
    /// The event's payload.
    pub data: T,
}

/// Any frame the server sends, for clients that read the socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerFrame {
    /// An answer to a request.
    Ack(Ack),
    /// A push.
    Push(Push),
}

/// The machine-readable reason of a failure, the same on WebSocket and HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No valid credentials (HTTP 401, WebSocket close 4401).
    Unauthenticated,
    /// Authenticated, but not allowed to do this (403).
    Forbidden,
    /// The object does not exist, or the caller may not know it exists (404).
    NotFound,
    /// The request is malformed or a field is out of range (400).
    Invalid,
    /// Too many requests of this kind; retry after `retryAfterMs` (429).
    RateLimited,
    /// The request conflicts with existing state, e.g. a taken userName (409).
    Conflict,
    /// The frame, body or file is larger than allowed (413).
    TooLarge,
    /// The server failed; the request may be retried (500/503).
    Internal,
}

impl ErrorCode {
    /// The wire name, e.g. `rate_limited`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Invalid => "invalid",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status that carries this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Invalid => 400,
            ErrorCode::RateLimited => 429,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::Internal => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"code", "message", "retryAfterMs"?}`: the error inside acks, `error` pushes
/// and HTTP error bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The machine-readable reason.
    pub code: ErrorCode,
    /// A human-readable explanation, safe to show (never an internal cause).
    pub message: String,
    /// With `rate_limited`: how long to wait before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// With a retryable `internal` error (e.g. the database is unreachable):
    /// `true` means nothing was committed and the same request may be retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

impl ErrorBody {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            code,
            message: message.into(),
            retry_after_ms: None,
            retryable: None,
        }
    }
}

/// The body of every HTTP error: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpError {
    /// The error.
    pub error: ErrorBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_round_trip_as_numbers_or_strings() {
        let f: ClientFrame = serde_json::from_str(r#"{"id":17,"event":"x"}"#).expect("frame");
        assert_eq!(f.id, Some(RequestId::from(17)));
        assert_eq!(f.data, serde_json::json!({}));
        let f: ClientFrame =
            serde_json::from_str(r#"{"id":"a-1","event":"x","data":{"k":1}}"#).expect("frame");
        assert_eq!(f.id, Some(RequestId::String("a-1".into())));
        let ack = Ack {
            ack: RequestId::from(17),
            ok: true,
            data: Some(serde_json::json!({})),
            error: None,
        };
        assert_eq!(
            serde_json::to_string(&ack).expect("json"),
            r#"{"ack":17,"ok":true,"data":{}}"#
        );
    }

    #[test]
    fn error_codes_use_the_contract_names() {
        let body = ErrorBody {
            retry_after_ms: Some(1200),
            ..ErrorBody::new(ErrorCode::RateLimited, "slow down")
        };
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            serde_json::json!({"code":"rate_limited","message":"slow down","retryAfterMs":1200})
        );
        assert_eq!(ErrorCode::NotFound.as_str(), "not_found");
        assert_eq!(ErrorCode::TooLarge.http_status(), 413);
    }
}
