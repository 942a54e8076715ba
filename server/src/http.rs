//! The HTTP routes: auth, user search, health and metrics, plus the
//! extractors that give bad input and bad tokens the contract's error body.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use leetchat_protocol::ErrorCode;
use leetchat_protocol::http::{
    AuthResponse, Health, LoginRequest, RefreshRequest, RefreshResponse, RegisterRequest,
    ServerInfo, UsersResponse,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::{hash_refresh_token, new_refresh_token};
use crate::client_addr::ClientAddr;
use crate::config::Registration;
use crate::db::{self, users::NotCreated, users::Rotation};
use crate::error::{AppError, AppResult};
use crate::ratelimit::Action;
use crate::state::AppState;
use leetchat_protocol::time::{now_ms, rfc3339};

/// Like `axum::Json`, but a bad body is the contract's `invalid` error.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Read as JSON, check every text (see leetchat_protocol::text), then type.
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                return Err(AppError::new(ErrorCode::TooLarge, "request body too large"));
            }
            Err(JsonRejection::BytesRejection(e)) => {
                return Err(AppError::invalid(format!(
                    "the request body could not be read: {}",
                    e.body_text()
                )));
            }
            Err(e) => return Err(AppError::invalid(e.body_text())),
        };
        leetchat_protocol::text::check_value(&value)
            .map_err(|e| AppError::invalid(format!("bad body: {e}")))?;
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|e| AppError::invalid(format!("bad body at {}: {}", e.path(), e.inner())))
    }
}

/// The caller of an HTTP route, from `Authorization: Bearer`, with a live device.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user.
    pub user_id: String,
    /// The device.
    pub device_id: String,
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token =
            bearer(parts).ok_or_else(|| AppError::unauthenticated("missing bearer token"))?;
        let claims = state.auth.verify_access(token)?;
        if !db::users::device_active(&state.db, &claims.sub, &claims.did).await? {
            return Err(AppError::unauthenticated("this device was signed out"));
        }
        Ok(AuthUser {
            user_id: claims.sub,
            device_id: claims.did,
        })
    }
}

/// 3–32 characters: ASCII letters, digits, `_`, `.`, `-`.
pub(crate) fn check_user_name(name: &str) -> AppResult<()> {
    let ok_len = (3..=32).contains(&name.len());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(AppError::invalid(
            "userName must be 3 to 32 characters: letters, digits, '_', '.', '-'",
        ))
    }
}

pub(crate) fn check_password(p: &str) -> AppResult<()> {
    let n = p.chars().count();
    if n < 8 {
        return Err(AppError::invalid("password must be at least 8 characters"));
    }
    if n > 1024 {
        return Err(AppError::invalid(
            "password must be at most 1024 characters",
        ));
    }
    Ok(())
}

fn device_name(name: Option<&str>) -> String {
    let n: String = name.unwrap_or("").trim().chars().take(100).collect();
    if n.is_empty() {
        "unnamed device".to_owned()
    } else {
        n
    }
}

async fn sign_in(
    state: &AppState,
    user: &db::users::UserRow,
    device: Option<&str>,
) -> AppResult<AuthResponse> {
    let (refresh, refresh_hash) = new_refresh_token();
    let now = now_ms();
    let Some(device_id) = db::users::create_device(
        &state.db,
        &user.user_id,
        &user.password_hash,
        &device_name(device),
        &refresh_hash,
        now,
        now + state.auth.refresh_ttl.as_millis() as i64,
    )
    .await?
    else {
        // Deactivated, or the password changed, while this sign-in ran.
        return Err(
            match db::users::by_id(state.db.reader(), &user.user_id).await? {
                Some(u) if u.is_deactivated() => AppError::forbidden(DEACTIVATED),
                _ => AppError::unauthenticated("wrong userName or password"),
            },
        );
    };
    let (access, ttl) = state.auth.issue_access(&user.user_id, &device_id)?;
    Ok(AuthResponse {
        user: user.to_user(),
        access_token: access,
        refresh_token: refresh,
        device_id,
        expires_in: Some(ttl),
    })
}

/// `POST /api/auth/register`: creates the account and signs this device in.
pub async fn register(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> AppResult<(StatusCode, axum::Json<AuthResponse>)> {
    check_user_name(&req.user_name)?;
    check_password(&req.password)?;
    state
        .rate_limit(&client.limit_key(), Action::Register)
        .await?;
    let display = req
        .display_name
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(&req.user_name)
        .to_owned();
    if display.chars().count() > 64 {
        return Err(AppError::invalid(
            "displayName must be at most 64 characters",
        ));
    }
    // Who may register is settled before anything about names is told.
    let invite = match state.config.registration {
        Registration::Open => None,
        Registration::Closed => {
            return Err(AppError::forbidden(
                "this server is not taking new accounts; ask its administrator",
            ));
        }
        Registration::Invite => {
            let code = req
                .invite_token
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    AppError::forbidden("this server takes new accounts by invite only")
                })?;
            if !db::invites::server_invite_usable(&state.db, code, now_ms()).await? {
                return Err(bad_invite());
            }
            Some(code.to_owned())
        }
    };
    if db::users::by_name(&state.db, &req.user_name)
        .await?
        .is_some()
    {
        return Err(AppError::conflict("that userName is taken"));
    }
    let hash = state.auth.hash_password(req.password).await?;
    let user = match db::users::create_account(
        &state.db,
        &req.user_name,
        &display,
        &hash,
        invite.as_deref(),
        false,
        now_ms(),
    )
    .await?
    {
        Ok(user) => user,
        Err(NotCreated::NameTaken) => return Err(AppError::conflict("that userName is taken")),
        Err(NotCreated::BadInvite) => return Err(bad_invite()),
    };
    tracing::info!(user_id = %user.user_id, "registered");
    let resp = sign_in(&state, &user, req.device_name.as_deref()).await?;
    Ok((StatusCode::CREATED, axum::Json(resp)))
}

/// What signing in to a deactivated account answers (after the password).
const DEACTIVATED: &str = "this account has been deactivated by the server's administrator";

/// The one answer for an invite that is unknown, revoked, expired or used
/// up: which of these it is would tell a guesser that a code once existed.
fn bad_invite() -> AppError {
    AppError::forbidden("that invite cannot be used (it may have expired or been used up)")
}

/// `POST /api/auth/login`: a wrong name or password is `unauthenticated`
/// (the same answer, in the same time). Attempts are limited per account and
/// client address, and under a looser ceiling per account: someone guessing
/// from elsewhere does not lock the owner out.
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<axum::Json<AuthResponse>> {
    if req.password.chars().count() > 1024 || req.user_name.len() > 64 {
        return Err(AppError::unauthenticated("wrong userName or password"));
    }
    let account = req.user_name.to_lowercase();
    state
        .rate_limit(&format!("{account} {}", client.limit_key()), Action::Auth)
        .await?;
    state.rate_limit(&account, Action::AuthAccount).await?;
    let user = db::users::by_name(&state.db, &req.user_name).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    if !state.auth.verify_password(req.password, hash).await? {
        return Err(AppError::unauthenticated("wrong userName or password"));
    }
    let user = user.ok_or_else(|| AppError::unauthenticated("wrong userName or password"))?;
    // Only after the password: a deactivated account is not told to strangers.
    if user.is_deactivated() {
        return Err(AppError::forbidden(DEACTIVATED));
    }
    Ok(axum::Json(
        sign_in(&state, &user, req.device_name.as_deref()).await?,
    ))
}

/// `POST /api/auth/refresh`: rotates the refresh token; presenting a spent
/// one revokes its device (and closes its sockets).
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> AppResult<axum::Json<RefreshResponse>> {
    let (new_token, new_hash) = new_refresh_token();
    let now = now_ms();
    let rotation = db::users::rotate_refresh(
        &state.db,
        &hash_refresh_token(&req.refresh_token),
        &new_hash,
        now,
        now + state.auth.refresh_ttl.as_millis() as i64,
    )
    .await?;
    match rotation {
        Rotation::Rotated { user_id, device_id } => {
            let (access, ttl) = state.auth.issue_access(&user_id, &device_id)?;
            Ok(axum::Json(RefreshResponse {
                access_token: access,
                refresh_token: new_token,
                expires_in: Some(ttl),
            }))
        }
        Rotation::Reused { device_id } => {
            tracing::warn!(%device_id, "spent refresh token reused; device revoked");
            close_device_everywhere(&state, &device_id).await;
            Err(AppError::unauthenticated(
                "refresh token already used; this device was signed out",
            ))
        }
        Rotation::Invalid => Err(AppError::unauthenticated(
            "invalid or expired refresh token",
        )),
    }
}

async fn close_device_everywhere(state: &AppState, device_id: &str) {
    if let Ok(Some(user_id)) = db::users::owner_of_device(&state.db, device_id).await {
        state.close_device(
            &user_id,
            device_id,
            leetchat_protocol::CLOSE_UNAUTHENTICATED,
            "device signed out",
        );
    }
}

/// `POST /api/auth/logout`: revokes this device and closes its sockets.
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> AppResult<StatusCode> {
    db::users::revoke_device(&state.db, &user.device_id, now_ms()).await?;
    state.close_device(
        &user.user_id,
        &user.device_id,
        leetchat_protocol::CLOSE_UNAUTHENTICATED,
        "signed out",
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /api/users`.
#[derive(Debug, Deserialize)]
pub struct UserQuery {
    /// Part of a userName or displayName.
    #[serde(default)]
    pub query: String,
    /// At most this many (default 20, max 50).
    pub limit: Option<i64>,
}

/// `GET /api/server`: how registration works here, and the version (no
/// token needed: a sign-up form asks before there is an account).
pub async fn server_info(State(state): State<AppState>) -> axum::Json<ServerInfo> {
    let registration = match state.config.registration {
        Registration::Open => "open",
        Registration::Invite => "invite",
        Registration::Closed => "closed",
    };
    axum::Json(ServerInfo {
        registration: registration.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// `GET /api/push/vapid`: the server's VAPID public key (no token needed:
/// it is public, and a device asks before it subscribes).
pub async fn vapid_key(
    State(state): State<AppState>,
) -> axum::Json<leetchat_protocol::http::VapidKey> {
    axum::Json(leetchat_protocol::http::VapidKey {
        public_key: state.push_service.public_key().to_owned(),
    })
}

/// `GET /api/users?query=`: users whose name contains the query.
pub async fn users(
    State(state): State<AppState>,
    _user: AuthUser,
    q: Result<Query<UserQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<axum::Json<UsersResponse>> {
    let Query(q) = q.map_err(|e| AppError::invalid(e.body_text()))?;
    let query = q.query.trim();
    if query.chars().count() > 64 {
        return Err(AppError::invalid("query must be at most 64 characters"));
    }
    let limit = q.limit.unwrap_or(20);
    if limit <= 0 {
        return Err(AppError::invalid("limit must be a positive whole number"));
    }
    let rows = db::users::search(&state.db, query, limit.min(50)).await?;
    Ok(axum::Json(UsersResponse {
        users: rows.iter().map(db::users::UserRow::to_user).collect(),
    }))
}

/// `GET /health/chat`: database and bus state, connection count.
pub async fn health(State(state): State<AppState>) -> Response {
    let db_up = state.db.ping().await;
    let redis = state.bus.redis_status();
    let body = Health {
        status: if db_up && redis != "down" {
            "healthy"
        } else {
            "degraded"
        }
        .to_owned(),
        db: if db_up { "up" } else { "down" }.to_owned(),
        redis: redis.to_owned(),
        bus: Some(state.bus.name().to_owned()),
        connections: state.hub.connection_count(),
        timestamp: rfc3339(now_ms()),
    };
    let status = if db_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<AppState>) -> Response {
    state
        .metrics
        .connections
        .set(state.hub.connection_count() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Refuses a request whose path or query holds an escaped NUL (`%00`)
/// before any route reads it: no id, name or search may contain one (see
/// `leetchat_protocol::text`), and PostgreSQL cannot take it.
pub async fn refuse_nul(req: Request, next: axum::middleware::Next) -> Response {
    let uri = req.uri();
    let has_nul = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"%00"))
    };
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        return AppError::invalid("the path or query contains a NUL character (%00)")
            .into_response();
    }
    next.run(req).await
}

/// A request with a body that is refused (any 4xx or 5xx) closes its
/// connection after the answer: the body may be left unread (an upload
/// refused for its token, size or rate before it was read), and the
/// connection cannot carry another request behind it. The server then
/// drains what the client still sends while it closes (`serve::Lingering`),
/// so the client reads the answer instead of a reset.
pub async fn close_after_refusal(req: Request, next: axum::middleware::Next) -> Response {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let mut resp = next.run(req).await;
    let status = resp.status();
    if has_body && (status.is_client_error() || status.is_server_error()) {
        resp.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// Any other path: the contract's `not_found` body.
pub async fn fallback() -> AppError {
    AppError::not_found("no such route")
}
