//! Bodies of the HTTP routes: auth, user search, health.

use serde::{Deserialize, Serialize};

use crate::objects::User;

/// `POST /api/auth/register`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    /// 3–32 characters: letters, digits, `_`, `.`, `-`.
    pub user_name: String,
    /// 8–1024 characters.
    pub password: String,
    /// Shown to others; defaults to the userName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Extension: a name for the device being signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// v1.1: a server invite, needed when the server's registration is
    /// `invite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_token: Option<String>,
}

/// `POST /api/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// The account.
    pub user_name: String,
    /// Its password.
    pub password: String,
    /// A name for the device being signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// Answer of register and login.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// The account.
    pub user: User,
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Long-lived, single-use token for `POST /api/auth/refresh`.
    pub refresh_token: String,
    /// The device this sign-in created.
    pub device_id: String,
    /// Extension: seconds until the access token expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// `POST /api/auth/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    /// The current refresh token.
    pub refresh_token: String,
}

/// Answer of refresh: both tokens are new; the old refresh token is spent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshResponse {
    /// New access token.
    pub access_token: String,
    /// New refresh token.
    pub refresh_token: String,
    /// Extension: seconds until the access token expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// `GET /api/users?query=`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsersResponse {
    /// Matching users.
    pub users: Vec<User>,
}

/// `GET /health/chat`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// `healthy` or `degraded`.
    pub status: String,
    /// `up` or `down`.
    pub db: String,
    /// `up`, `down`, or `disabled` when no Redis is configured.
    pub redis: String,
    /// Extension: which event bus fans out (`in-process` or `redis`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
    /// Open authenticated connections on this node.
    pub connections: u64,
    /// RFC 3339.
    pub timestamp: String,
}

/// `GET /api/push/vapid` (v1.1): the server's VAPID public key (RFC 8292),
/// base64url of the uncompressed P-256 point, for a device to subscribe with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VapidKey {
    /// The key.
    pub public_key: String,
}

/// `GET /api/server` (extension): what a sign-up form needs to know before
/// it asks anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// Who may make an account: `open`, `invite` (with `inviteToken`) or
    /// `closed`.
    pub registration: String,
    /// The server's version.
    pub version: String,
}

/// `PATCH /api/me` (v1.1): what to change of one's profile; absent fields
/// stay as they are. Answered with `{user}` ([`crate::events::UserEnvelope`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProfile {
    /// The name others see (1 to 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// An image the caller uploaded (`POST /api/files`), made the avatar;
    /// `null` removes the avatar.
    #[serde(
        default,
        deserialize_with = "crate::events::notify::absent_null_or",
        skip_serializing_if = "Option::is_none"
    )]
    pub avatar_file_id: Option<Option<String>>,
}

/// `DELETE /api/me` (v1.1): the password confirms it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteAccount {
    /// The account's password.
    pub password: String,
}

/// One signed-in device of the caller (`GET /api/me/devices`, extension).
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    /// The device.
    pub device_id: String,
    /// The name it signed in with.
    pub name: String,
    /// RFC 3339: when it signed in.
    pub created_at: String,
    /// RFC 3339: its last token refresh (absent: none since it signed in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub last_active_at: Option<String>,
    /// Whether it has a connection to the server now.
    pub online: bool,
    /// Whether it is the device asking.
    pub current: bool,
}

/// `GET /api/me/devices` (extension): the caller's signed-in devices,
/// most recently signed in first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceList {
    /// The devices.
    pub devices: Vec<DeviceInfo>,
}
