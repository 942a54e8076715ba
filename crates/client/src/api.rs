//! The HTTP side of the server: sign-up, sign-in, token refresh, sign-out,
//! user search, and file upload and download.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use leetchat_protocol::envelope::HttpError;
use leetchat_protocol::http::{
    AuthResponse, LoginRequest, RefreshRequest, RefreshResponse, RegisterRequest, UsersResponse,
};
use leetchat_protocol::{Attachment, ErrorBody, ErrorCode, User};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};

/// An HTTP client for one server.
#[derive(Debug, Clone)]
pub struct Api {
    base: url::Url,
    http: reqwest::Client,
}

impl Api {
    /// A client for the server at `base` (http:// or https://).
    pub fn new(base: &str) -> Result<Api> {
        let base = url::Url::parse(base)
            .map_err(|e| Error::Invalid(format!("bad server URL {base:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Invalid(
                "the server URL must start with http:// or https://".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()?;
        Ok(Api { base, http })
    }

    /// The server's base URL.
    pub fn base(&self) -> &url::Url {
        &self.base
    }

    /// The WebSocket URL (`ws://host/ws`).
    pub fn ws_url(&self) -> String {
        let mut u = self.base.clone();
        let scheme = if u.scheme() == "https" { "wss" } else { "ws" };
        let _ = u.set_scheme(scheme);
        u.set_path("/ws");
        u.to_string()
    }

    fn url(&self, path: &str) -> String {
        let mut u = self.base.clone();
        u.set_path(path);
        u.to_string()
    }

    async fn read<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
        if resp.status().is_success() {
            let text = resp.text().await?;
            return serde_json::from_str(&text).map_err(Error::from);
        }
        Err(Error::Server(Self::error_body(resp).await))
    }

    /// An answer without a body (204): `Ok`, or the error it carries.
    async fn done(resp: reqwest::Response) -> Result<()> {
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(Error::Server(Self::error_body(resp).await))
        }
    }

    /// The error a failed answer carries: the contract's `{"error": {...}}`
    /// body, or, when a proxy or a body-limit layer answered in its own words,
    /// one made from the status. A 429 without `retryAfterMs` takes the wait
    /// from its `Retry-After` header (whole seconds).
    async fn error_body(resp: reqwest::Response) -> ErrorBody {
        let status = resp.status();
        let retry_after_s = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = resp.text().await.unwrap_or_default();
        let mut body = match serde_json::from_str::<HttpError>(&text) {
            Ok(e) => e.error,
            Err(_) => ErrorBody::new(code_of_status(status), format!("HTTP {status}")),
        };
        if body.code == ErrorCode::RateLimited && body.retry_after_ms.is_none() {
            body.retry_after_ms = retry_after_s.map(|s| s * 1000);
        }
        body
    }

    /// `POST /api/auth/register`.
    pub async fn register(&self, req: &RegisterRequest) -> Result<AuthResponse> {
        Self::read(
            self.http
                .post(self.url("/api/auth/register"))
                .json(req)
                .send()
                .await?,
        )
        .await
    }

    /// `POST /api/auth/login`.
    pub async fn login(&self, req: &LoginRequest) -> Result<AuthResponse> {
        Self::read(
            self.http
                .post(self.url("/api/auth/login"))
                .json(req)
                .send()
                .await?,
        )
        .await
    }

    /// `POST /api/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> Result<RefreshResponse> {
        let req = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        Self::read(
            self.http
                .post(self.url("/api/auth/refresh"))
                .json(&req)
                .send()
                .await?,
        )
        .await
    }

    /// `POST /api/auth/logout`.
    pub async fn logout(&self, access_token: &str) -> Result<()> {
        let resp = self
            .http
            .post(self.url("/api/auth/logout"))
            .bearer_auth(access_token)
            .send()
            .await?;
        Self::done(resp).await
    }

    /// `PATCH /api/me`: the caller's profile as it is after the change.
    pub async fn update_profile(
        &self,
        access_token: &str,
        req: &leetchat_protocol::http::UpdateProfile,
    ) -> Result<User> {
        let resp = self
            .http
            .patch(self.url("/api/me"))
            .bearer_auth(access_token)
            .json(req)
            .send()
            .await?;
        Ok(Self::read::<leetchat_protocol::events::UserEnvelope>(resp)
            .await?
            .user)
    }

    /// `GET /api/me/export`: the archive's bytes (JSON).
    pub async fn export(&self, access_token: &str) -> Result<Vec<u8>> {
        let resp = self
            .http
            .get(self.url("/api/me/export"))
            .bearer_auth(access_token)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(Error::Server(Self::error_body(resp).await));
        }
        Ok(resp.bytes().await?.to_vec())
    }

    /// `GET /api/me/devices`.
    pub async fn devices(
        &self,
        access_token: &str,
    ) -> Result<Vec<leetchat_protocol::http::DeviceInfo>> {
        let resp = self
            .http
            .get(self.url("/api/me/devices"))
            .bearer_auth(access_token)
            .send()
            .await?;
        Ok(Self::read::<leetchat_protocol::http::DeviceList>(resp)
            .await?
            .devices)
    }

    /// `DELETE /api/me/devices/{deviceId}`.
    pub async fn sign_out_device(&self, access_token: &str, device_id: &str) -> Result<()> {
        let resp = self
            .http
            .delete(self.url(&format!("/api/me/devices/{device_id}")))
            .bearer_auth(access_token)
            .send()
            .await?;
        Self::done(resp).await
    }

    /// `DELETE /api/me`.
    pub async fn delete_account(&self, access_token: &str, password: &str) -> Result<()> {
        let resp = self
            .http
            .delete(self.url("/api/me"))
            .bearer_auth(access_token)
            .json(&leetchat_protocol::http::DeleteAccount {
                password: password.to_owned(),
            })
            .send()
            .await?;
        Self::done(resp).await
    }

    /// `GET /api/users?query=`.
    pub async fn users(&self, access_token: &str, query: &str) -> Result<Vec<User>> {
        let resp = self
            .http
            .get(self.url("/api/users"))
            .query(&[("query", query)])
            .bearer_auth(access_token)
            .send()
            .await?;
        Ok(Self::read::<UsersResponse>(resp).await?.users)
    }

    /// `POST /api/files`: uploads the file at `path` as `name` (multipart
    /// field `file`), streaming it from disk. `progress(sent, total)` is
    /// called as the bytes are handed to the connection.
    ///
    /// A file that cannot be read is [`Error::File`]; a refusal is
    /// [`Error::Server`] (`too_large`, `invalid`, `rate_limited` with its
    /// wait, ...); anything else is [`Error::Network`].
    pub async fn upload(
        &self,
        access_token: &str,
        path: &Path,
        name: &str,
        progress: impl Fn(u64, u64) + Send + Sync + 'static,
    ) -> Result<Attachment> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::File(format!("{}: {e}", path.display())))?;
        let total = file
            .metadata()
            .await
            .map_err(|e| Error::File(format!("{}: {e}", path.display())))?
            .len();
        let mut sent = 0u64;
        progress(0, total);
        let stream =
            tokio_util::io::ReaderStream::with_capacity(file, UPLOAD_CHUNK).map(move |chunk| {
                if let Ok(bytes) = &chunk {
                    sent += bytes.len() as u64;
                    progress(sent, total);
                }
                chunk
            });
        let part =
            reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), total)
                .file_name(name.to_owned())
                .mime_str(crate::files::mime_of_name(name))
                .map_err(|e| Error::Invalid(e.to_string()))?;
        let form = reqwest::multipart::Form::new().part("file", part);
        let resp = self
            .http
            .post(self.url("/api/files"))
            .bearer_auth(access_token)
            .multipart(form)
            .timeout(transfer_timeout(total))
            .send()
            .await?;
        Ok(Self::read::<Uploaded>(resp).await?.attachment)
    }

    /// `GET /api/files/{fileId}` (or its `/thumbnail`): streams the bytes
    /// into `dest`, which is created or truncated. Returns the byte count.
    pub async fn download(
        &self,
        access_token: &str,
        file_id: &str,
        thumbnail: bool,
        dest: &Path,
    ) -> Result<u64> {
        let mut path = format!("/api/files/{file_id}");
        if thumbnail {
            path.push_str("/thumbnail");
        }
        let mut resp = self
            .http
            .get(self.url(&path))
            .bearer_auth(access_token)
            .timeout(Duration::from_secs(3600))
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(Error::Server(Self::error_body(resp).await));
        }
        let mut out = tokio::fs::File::create(dest)
            .await
            .map_err(|e| Error::File(format!("{}: {e}", dest.display())))?;
        let mut written = 0u64;
        let deadline =
            tokio::time::Instant::now() + transfer_timeout(resp.content_length().unwrap_or(0));
        loop {
            let chunk = tokio::time::timeout_at(deadline, resp.chunk())
                .await
                .map_err(|_| Error::Network(format!("downloading {file_id} timed out")))??;
            let Some(chunk) = chunk else { break };
            out.write_all(&chunk)
                .await
                .map_err(|e| Error::File(format!("{}: {e}", dest.display())))?;
            written += chunk.len() as u64;
        }
        out.sync_all()
            .await
            .map_err(|e| Error::File(format!("{}: {e}", dest.display())))?;
        Ok(written)
    }
}

/// Bytes read from disk per upload chunk (and so per progress call).
const UPLOAD_CHUNK: usize = 64 * 1024;

/// The answer of `POST /api/files`.
#[derive(Deserialize)]
struct Uploaded {
    attachment: Attachment,
}

/// How long a transfer of `size` bytes may take: the usual request timeout
/// plus one second per 32 KiB, so a big file on a slow link is not cut off
/// while a dead one still ends.
fn transfer_timeout(size: u64) -> Duration {
    Duration::from_secs(20 + size / (32 * 1024))
}

/// The error code a status stands for, when the body does not say.
fn code_of_status(status: reqwest::StatusCode) -> ErrorCode {
    match status.as_u16() {
        400 => ErrorCode::Invalid,
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::TooLarge,
        429 => ErrorCode::RateLimited,
        _ => ErrorCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_follow_the_http_scheme() {
        assert_eq!(
            Api::new("http://h:3001").expect("url").ws_url(),
            "ws://h:3001/ws"
        );
        assert_eq!(
            Api::new("https://chat.example").expect("url").ws_url(),
            "wss://chat.example/ws"
        );
        assert!(Api::new("ftp://x").is_err());
    }

    #[test]
    fn a_bare_status_stands_for_its_contract_code() {
        assert_eq!(
            code_of_status(reqwest::StatusCode::PAYLOAD_TOO_LARGE),
            ErrorCode::TooLarge
        );
        assert_eq!(
            code_of_status(reqwest::StatusCode::TOO_MANY_REQUESTS),
            ErrorCode::RateLimited
        );
        assert_eq!(
            code_of_status(reqwest::StatusCode::BAD_GATEWAY),
            ErrorCode::Internal
        );
    }
}
