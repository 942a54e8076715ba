//! The signed-in session: the tokens, kept fresh.
//!
//! The access token is renewed a quarter of its lifetime before it expires
//! (at most 60 s before). Each refresh rotates the refresh token, and the
//! server revokes a device that presents a spent one, so two processes on
//! one data folder (say `leetchat tail` and `leetchat send`) must never
//! refresh at once: a refresh takes the data folder's [`RefreshLock`],
//! re-reads the stored tokens (another process may have refreshed while it
//! waited), and stores the new tokens before letting go.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use leetchat_protocol::ErrorCode;
use leetchat_protocol::http::AuthResponse;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::api::Api;
use crate::credentials::{CredentialStore, Credentials, RefreshLock};
use crate::error::{Error, Result};

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long before expiry a token is renewed: a quarter of its life, at most 60 s.
fn margin(c: &Credentials) -> u64 {
    (c.access_lifetime / 4).clamp(1, 60)
}

/// The tokens of a sign-in, as they are kept.
pub fn credentials_of(auth: &AuthResponse) -> Credentials {
    let lifetime = auth.expires_in.unwrap_or(900);
    Credentials {
        user_id: auth.user.user_id.clone(),
        user_name: auth.user.user_name.clone(),
        device_id: auth.device_id.clone(),
        access_token: auth.access_token.clone(),
        access_expires_at: unix_now() + lifetime,
        access_lifetime: lifetime,
        refresh_token: auth.refresh_token.clone(),
    }
}

/// The session of one data folder.
pub(crate) struct Session {
    api: Api,
    server: String,
    data_dir: PathBuf,
    store: CredentialStore,
    /// The tokens in use; `None` when signed out.
    current: Mutex<Option<Credentials>>,
    /// The server refused the access token: the next use refreshes it.
    stale: AtomicBool,
}

impl Session {
    /// A session over `store`'s tokens, starting with `current`.
    pub(crate) fn new(
        api: Api,
        server: &str,
        data_dir: PathBuf,
        store: CredentialStore,
        current: Option<Credentials>,
    ) -> Session {
        Session {
            api,
            server: server.to_owned(),
            data_dir,
            store,
            current: Mutex::new(current),
            stale: AtomicBool::new(false),
        }
    }

    /// Where the tokens are kept.
    pub(crate) fn credential_store(&self) -> &CredentialStore {
        &self.store
    }

    /// Keeps the tokens of a new sign-in (stored first, then used).
    pub(crate) async fn start(&self, creds: Credentials) -> Result<()> {
        self.store.save(&self.server, &creds).await?;
        *self.current.lock().await = Some(creds);
        Ok(())
    }

    /// Ends the session here: returns its tokens (to sign out on the server
    /// and forget them).
    pub(crate) async fn take(&self) -> Option<Credentials> {
        self.current.lock().await.take()
    }

    /// Forgets the stored tokens of `user_name`.
    pub(crate) async fn forget(&self, user_name: &str) -> Result<()> {
        self.store.delete(&self.server, user_name).await
    }

    /// Marks the access token as refused: the next use refreshes it.
    pub(crate) fn expire(&self) {
        self.stale.store(true, Ordering::SeqCst);
    }

    /// When the live socket should renew its token.
    pub(crate) async fn renewal_due(&self) -> Instant {
        let s = self.current.lock().await;
        match s.as_ref() {
            Some(c) => {
                let at = c.access_expires_at.saturating_sub(margin(c));
                Instant::now() + Duration::from_secs(at.saturating_sub(unix_now()).max(1))
            }
            None => Instant::now() + Duration::from_secs(3600),
        }
    }

    /// A valid access token, refreshed first when close to expiry (or when
    /// `force`). Refreshes are serialised across processes by a lock file.
    pub(crate) async fn access_token(&self, force: bool) -> Result<String> {
        let mut s = self.current.lock().await;
        let current = s.clone().ok_or(Error::NotSignedIn)?;
        let force = force || self.stale.swap(false, Ordering::SeqCst);
        if !force && current.access_expires_at > unix_now() + margin(&current) {
            return Ok(current.access_token);
        }
        let _lock = RefreshLock::acquire(&self.data_dir).await?;
        let mut c = current.clone();
        if let Some(stored) = self.store.load(&self.server, &current.user_name).await? {
            if stored.access_token != current.access_token
                && stored.access_expires_at > unix_now() + margin(&stored)
            {
                // Another process refreshed while we waited for the lock.
                *s = Some(stored.clone());
                return Ok(stored.access_token);
            }
            c = stored;
        }
        match self.api.refresh(&c.refresh_token).await {
            Ok(r) => {
                let lifetime = r.expires_in.unwrap_or(900);
                let fresh = Credentials {
                    access_token: r.access_token,
                    refresh_token: r.refresh_token,
                    access_expires_at: unix_now() + lifetime,
                    access_lifetime: lifetime,
                    ..c
                };
                self.store.save(&self.server, &fresh).await?;
                let token = fresh.access_token.clone();
                *s = Some(fresh);
                Ok(token)
            }
            Err(Error::Server(b)) if b.code == ErrorCode::Unauthenticated => {
                Err(Error::SignedOut(b.message))
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(lifetime: u64) -> Credentials {
        Credentials {
            user_id: "u".into(),
            user_name: "alice".into(),
            device_id: "d".into(),
            access_token: "a".into(),
            access_expires_at: unix_now() + lifetime,
            access_lifetime: lifetime,
            refresh_token: "r".into(),
        }
    }

    #[test]
    fn tokens_are_renewed_a_quarter_of_their_life_early_but_at_most_a_minute() {
        assert_eq!(margin(&creds(900)), 60);
        assert_eq!(margin(&creds(120)), 30);
        assert_eq!(margin(&creds(2)), 1);
    }

    #[tokio::test]
    async fn a_fresh_token_is_used_as_is_and_no_session_means_not_signed_in() {
        let dir = tempfile::tempdir().expect("dir");
        let store = CredentialStore::File(dir.path().join("credentials.json"));
        let api = Api::new("http://127.0.0.1:9").expect("api");
        let s = Session::new(api, "http://127.0.0.1:9", dir.path().into(), store, None);
        assert!(matches!(
            s.access_token(false).await,
            Err(Error::NotSignedIn)
        ));
        s.start(creds(900)).await.expect("start");
        assert_eq!(s.access_token(false).await.expect("token"), "a");
        assert!(s.renewal_due().await > Instant::now() + Duration::from_secs(700));
        assert!(s.take().await.is_some());
        assert!(matches!(
            s.access_token(false).await,
            Err(Error::NotSignedIn)
        ));
    }
}
