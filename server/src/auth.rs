//! Passwords (argon2id), access tokens (JWT, HS256 pinned) and refresh tokens.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// Issuer and audience of our tokens.
const ISSUER: &str = "leetchat";
const AUDIENCE: &str = "leetchat";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The device the token was issued to.
    pub did: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
}

/// Signs and checks tokens and passwords.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Access token lifetime.
    pub access_ttl: Duration,
    /// Refresh token lifetime.
    pub refresh_ttl: Duration,
    argon: Argon2<'static>,
    /// argon2 needs 19 MiB and a core for ~tens of ms: bound how many run at once.
    hashing: Arc<Semaphore>,
    /// A real hash to verify against when the user does not exist, so a wrong
    /// name takes as long as a wrong password.
    dummy_hash: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

/// argon2id with OWASP's parameters (19 MiB, t=2, p=1).
fn argon() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password on this thread (the admin command; the server uses
/// [`Auth::hash_password`]).
pub fn hash_password_here(password: &str) -> Result<String, String> {
    argon()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

impl Auth {
    /// Keys from `secret`; argon2id with OWASP's parameters (19 MiB, t=2, p=1).
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // We issue and check our own tokens with one clock.
        validation.leeway = 0;
        let argon = argon();
        let dummy_hash = argon
            .hash_password(
                b"leetchat-dummy-password",
                &SaltString::generate(&mut OsRng),
            )
            .map(|h| h.to_string())
            .unwrap_or_default();
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
        Auth {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
            argon,
            hashing: Arc::new(Semaphore::new(permits)),
            dummy_hash,
        }
    }

    /// Hashes a password on the blocking pool.
    pub async fn hash_password(&self, password: String) -> AppResult<String> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| AppError::internal("hash semaphore closed", e))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || {
            argon
                .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
                .map(|h| h.to_string())
        })
        .await
        .map_err(|e| AppError::internal("hash task failed", e))?
        .map_err(|e| AppError::internal("hashing failed", e))
    }

    /// Checks a password against a stored hash (or a dummy when `hash` is None).
    pub async fn verify_password(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| AppError::internal("hash semaphore closed", e))?;
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let argon = self.argon.clone();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|h| argon.verify_password(password.as_bytes(), &h).is_ok())
                .unwrap_or(false)
        })
        .await
        .map_err(|e| AppError::internal("verify task failed", e))?;
        Ok(ok && exists)
    }

    /// A signed access token for this user and device; returns it and its lifetime in seconds.
    pub fn issue_access(&self, user_id: &str, device_id: &str) -> AppResult<(String, u64)> {
        let now = unix_now();
        let ttl = self.access_ttl.as_secs().max(1);
        let claims = Claims {
            sub: user_id.to_owned(),
            did: device_id.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + ttl,
        };
        let token = jsonwebtoken::encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &self.encoding,
        )
        .map_err(|e| AppError::internal("signing failed", e))?;
        Ok((token, ttl))
    }

    /// Checks an access token's signature, algorithm, issuer, audience and expiry.
    pub fn verify_access(&self, token: &str) -> Result<Claims, AppError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    AppError::unauthenticated("token expired")
                }
                _ => AppError::unauthenticated("invalid token"),
            })?;
        // The library accepts a token during its `exp` second; we treat `exp`
        // as the end, the same instant a connection on it is closed.
        if claims.exp <= unix_now() {
            return Err(AppError::unauthenticated("token expired"));
        }
        Ok(claims)
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A new opaque refresh token and the hash to store.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// The stored form of a refresh token.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(ttl: u64) -> Auth {
        Auth::new(
            &[7u8; 32],
            Duration::from_secs(ttl),
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn tokens_verify_only_with_our_key_and_algorithm() {
        let a = auth(60);
        let (t, ttl) = a.issue_access("u1", "d1").expect("issue");
        assert_eq!(ttl, 60);
        let c = a.verify_access(&t).expect("valid");
        assert_eq!((c.sub.as_str(), c.did.as_str()), ("u1", "d1"));
        let other = Auth::new(&[8u8; 32], Duration::from_secs(60), Duration::from_secs(60));
        assert!(other.verify_access(&t).is_err());
        // alg=none must never pass
        let parts: Vec<&str> = t.split('.').collect();
        let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(
            a.verify_access(&format!("{none_header}.{}.", parts[1]))
                .is_err()
        );
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let a = auth(60);
        let h = a.hash_password("correct horse".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(
            a.verify_password("correct horse".into(), Some(h.clone()))
                .await
                .expect("v")
        );
        assert!(!a.verify_password("wrong".into(), Some(h)).await.expect("v"));
        assert!(!a.verify_password("x".into(), None).await.expect("v"));
    }

    #[test]
    fn refresh_tokens_are_stored_hashed() {
        let (t, h) = new_refresh_token();
        assert_ne!(t, h);
        assert_eq!(hash_refresh_token(&t), h);
        assert_eq!(h.len(), 64);
    }
}
