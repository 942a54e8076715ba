//! The HTTP side of the server: sign-up, sign-in, token refresh, sign-out,
//! user search.

use leetchat_protocol::ErrorBody;
use leetchat_protocol::User;
use leetchat_protocol::envelope::HttpError;
use leetchat_protocol::http::{
    AuthResponse, LoginRequest, RefreshRequest, RefreshResponse, RegisterRequest, UsersResponse,
};
use serde::de::DeserializeOwned;

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
        let status = resp.status();
        let text = resp.text().await?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(Error::from);
        }
        match serde_json::from_str::<HttpError>(&text) {
            Ok(e) => Err(Error::Server(e.error)),
            Err(_) => Err(Error::Server(ErrorBody::new(
                leetchat_protocol::ErrorCode::Internal,
                format!("HTTP {status}"),
            ))),
        }
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
        if resp.status().is_success() {
            Ok(())
        } else {
            Self::read::<serde_json::Value>(resp).await.map(|_| ())
        }
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
}
