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

/// Why a text frame is not a request. The frame's `id` is kept when it had
/// a usable one, so the refusal can still be its ack.
#[derive(Debug, Clone, PartialEq)]
pub struct BadFrame {
    /// The frame's id, if it named one.
    pub id: Option<RequestId>,
    /// What is wrong with it.
    pub problem: FrameProblem,
}

/// What is wrong with a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameProblem {
    /// Over [`crate::MAX_FRAME_BYTES`].
    TooLarge,
    /// Not JSON (serde's explanation).
    Malformed(String),
    /// No `event` string.
    NoEvent,
}

impl ClientFrame {
    /// Reads a native text frame. Anything past [`crate::MAX_FRAME_BYTES`]
    /// is refused before it is parsed (only its id is looked for); `data`
    /// defaults to `{}`; an `id` that is neither a number nor a string is
    /// treated as absent.
    pub fn parse(text: &str) -> Result<ClientFrame, BadFrame> {
        if text.len() > crate::MAX_FRAME_BYTES {
            #[derive(Deserialize)]
            struct IdOnly {
                id: Option<RequestId>,
            }
            let id = serde_json::from_str::<IdOnly>(text).ok().and_then(|f| f.id);
            return Err(BadFrame {
                id,
                problem: FrameProblem::TooLarge,
            });
        }
        let v: Value = serde_json::from_str(text).map_err(|e| BadFrame {
            id: None,
            problem: FrameProblem::Malformed(e.to_string()),
        })?;
        let id = match v.get("id") {
            Some(Value::Number(n)) => Some(RequestId::Number(n.clone())),
            Some(Value::String(s)) => Some(RequestId::String(s.clone())),
            _ => None,
        };
        let Some(event) = v.get("event").and_then(Value::as_str) else {
            return Err(BadFrame {
                id,
                problem: FrameProblem::NoEvent,
            });
        };
        Ok(ClientFrame {
            event: event.to_owned(),
            data: v.get("data").cloned().unwrap_or_else(empty_object),
            id,
        })
    }

    /// The frame of a typed request.
    pub fn request<R: crate::request::Request>(
        id: RequestId,
        req: &R,
    ) -> Result<ClientFrame, serde_json::Error> {
        Ok(ClientFrame {
            id: Some(id),
            event: R::EVENT.to_owned(),
            data: serde_json::to_value(req)?,
        })
    }
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

impl Ack {
    /// A successful ack carrying `data`.
    pub fn ok(id: RequestId, data: Value) -> Ack {
        Ack {
            ack: id,
            ok: true,
            data: Some(data),
            error: None,
        }
    }

    /// A refusal.
    pub fn refusal(id: RequestId, error: ErrorBody) -> Ack {
        Ack {
            ack: id,
            ok: false,
            data: None,
            error: Some(error),
        }
    }

    /// The ack's outcome: its data read as `T`, or the server's reason.
    /// An ack that says `ok: false` without a reason reads as `internal`.
    pub fn into_result<T: serde::de::DeserializeOwned>(
        self,
    ) -> Result<Result<T, ErrorBody>, serde_json::Error> {
        if self.ok {
            serde_json::from_value(self.data.unwrap_or(Value::Null)).map(Ok)
        } else {
            Ok(Err(self.error.unwrap_or_else(|| {
                ErrorBody::new(ErrorCode::Internal, "refused without a reason")
            })))
        }
    }
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

impl ServerFrame {
    /// Reads a text frame from the server: an ack when it has `ack`, else a push.
    pub fn parse(text: &str) -> Result<ServerFrame, serde_json::Error> {
        let v: Value = serde_json::from_str(text)?;
        if v.get("ack").is_some() {
            serde_json::from_value(v).map(ServerFrame::Ack)
        } else {
            serde_json::from_value(v).map(ServerFrame::Push)
        }
    }
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
    fn a_bad_frame_keeps_its_id_where_it_had_one() {
        let e = ClientFrame::parse(r#"{"id":3,"event":7}"#).expect_err("no event");
        assert_eq!(e.id, Some(RequestId::from(3)));
        assert_eq!(e.problem, FrameProblem::NoEvent);
        let e = ClientFrame::parse("{nope").expect_err("not json");
        assert!(matches!(e.problem, FrameProblem::Malformed(_)) && e.id.is_none());
        let big = format!(
            r#"{{"id":"x","event":"a","data":"{}"}}"#,
            "y".repeat(70_000)
        );
        let e = ClientFrame::parse(&big).expect_err("too large");
        assert_eq!(
            (e.id, e.problem),
            (Some(RequestId::String("x".into())), FrameProblem::TooLarge)
        );
        let f = ClientFrame::parse(r#"{"id":true,"event":"ping"}"#).expect("a frame");
        assert_eq!((f.id, f.data), (None, serde_json::json!({})));
    }

    #[test]
    fn server_frames_are_acks_or_pushes() {
        let a =
            ServerFrame::parse(r#"{"ack":1,"ok":false,"error":{"code":"invalid","message":"m"}}"#)
                .expect("ack");
        let ServerFrame::Ack(a) = a else {
            panic!("not an ack")
        };
        let r: Result<Value, ErrorBody> = a.into_result().expect("reads");
        assert_eq!(r.map_err(|e| e.code), Err(ErrorCode::Invalid));
        assert!(matches!(
            ServerFrame::parse(r#"{"event":"x","data":{}}"#),
            Ok(ServerFrame::Push(_))
        ));
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
