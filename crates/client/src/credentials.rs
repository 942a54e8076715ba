//! Where tokens live: the OS keyring (default), or a 0600 file when asked for
//! explicitly. One entry per server and account, so several accounts and
//! servers coexist on one machine.
//!
//! Refreshing rotates the refresh token, and presenting a spent one revokes
//! the device. Two processes sharing an account (say `leetchat tail` and
//! `leetchat send`) must therefore never refresh at once: refreshes hold a
//! lock file in the data folder and re-read the stored tokens first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The tokens of one signed-in device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// The account.
    pub user_id: String,
    /// Its login name.
    pub user_name: String,
    /// The device this sign-in created.
    pub device_id: String,
    /// Short-lived JWT.
    pub access_token: String,
    /// When it expires (unix seconds).
    pub access_expires_at: u64,
    /// Its lifetime in seconds (to renew it well before it runs out).
    #[serde(default = "default_lifetime")]
    pub access_lifetime: u64,
    /// Single-use refresh token.
    pub refresh_token: String,
}

fn default_lifetime() -> u64 {
    900
}

/// Where credentials are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialStore {
    /// The OS keyring: the Keychain on macOS and iOS, Windows Credential
    /// Manager, the Secret Service (GNOME Keyring, KWallet) on Linux, and on
    /// Android SharedPreferences encrypted with a key in the Android Keystore.
    Keyring,
    /// A JSON file with mode 0600 (explicit opt-in only).
    File(PathBuf),
}

const SERVICE: &str = "leetchat";

fn account_key(server: &str, user_name: &str) -> String {
    format!(
        "{}@{}",
        user_name.to_lowercase(),
        server.trim_end_matches('/')
    )
}

/// The keyring entry [`CredentialStore::check`] writes and removes.
const PROBE: &str = "leetchat-availability-probe";

impl CredentialStore {
    /// `LEETCHAT_CREDENTIALS=file` picks the file store in `data_dir`;
    /// anything else (or unset) the keyring.
    pub fn from_env(data_dir: &Path) -> CredentialStore {
        match std::env::var("LEETCHAT_CREDENTIALS").as_deref() {
            Ok("file") => CredentialStore::File(data_dir.join("credentials.json")),
            _ => CredentialStore::Keyring,
        }
    }

    /// Fails early, with the explanation, when tokens could not be kept
    /// (no keyring available, a locked one, or an unwritable file): it
    /// writes and removes a probe, since a store that reads may still refuse
    /// a write, and sign-up must not create an account whose tokens then
    /// have nowhere to go.
    pub async fn check(&self) -> Result<()> {
        match self {
            CredentialStore::File(path) => {
                read_file(path)?;
                let dir = path.parent().unwrap_or(Path::new("."));
                let err = |e: std::io::Error| Error::Credentials(format!("{}: {e}", dir.display()));
                std::fs::create_dir_all(dir).map_err(err)?;
                let probe = dir.join(format!(".leetchat-probe-{}", std::process::id()));
                std::fs::write(&probe, b"probe").map_err(err)?;
                std::fs::remove_file(&probe).map_err(err)
            }
            CredentialStore::Keyring => {
                keyring_call(|| {
                    os::set(PROBE, "probe")?;
                    os::delete(PROBE)
                })
                .await
            }
        }
    }

    /// The stored credentials of an account on a server.
    pub async fn load(&self, server: &str, user_name: &str) -> Result<Option<Credentials>> {
        let key = account_key(server, user_name);
        match self {
            CredentialStore::File(path) => Ok(read_file(path)?.remove(&key)),
            CredentialStore::Keyring => {
                let secret = keyring_call(move || os::get(&key)).await?;
                match secret {
                    Some(s) => Ok(Some(serde_json::from_str(&s)?)),
                    None => Ok(None),
                }
            }
        }
    }

    /// Stores (replacing) an account's credentials.
    pub async fn save(&self, server: &str, c: &Credentials) -> Result<()> {
        let key = account_key(server, &c.user_name);
        match self {
            CredentialStore::File(path) => {
                let mut all = read_file(path)?;
                all.insert(key, c.clone());
                write_file(path, &all)
            }
            CredentialStore::Keyring => {
                let secret = serde_json::to_string(c)?;
                keyring_call(move || os::set(&key, &secret)).await
            }
        }
    }

    /// Forgets an account's credentials.
    pub async fn delete(&self, server: &str, user_name: &str) -> Result<()> {
        let key = account_key(server, user_name);
        match self {
            CredentialStore::File(path) => {
                let mut all = read_file(path)?;
                all.remove(&key);
                write_file(path, &all)
            }
            CredentialStore::Keyring => keyring_call(move || os::delete(&key)).await,
        }
    }
}

/// Why the OS store refused, and whether it is missing altogether.
#[derive(Debug)]
struct OsError {
    unavailable: bool,
    message: String,
}

/// The OS store, one secret per key: the keyring crate on desktops and iOS,
/// the keyring ecosystem's Android store on Android.
#[cfg(not(target_os = "android"))]
mod os {
    use super::{OsError, SERVICE};

    fn err(e: keyring::Error) -> OsError {
        OsError {
            unavailable: matches!(
                e,
                keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_)
            ),
            message: e.to_string(),
        }
    }

    pub fn get(key: &str) -> Result<Option<String>, OsError> {
        match keyring::Entry::new(SERVICE, key)
            .map_err(err)?
            .get_password()
        {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    pub fn set(key: &str, secret: &str) -> Result<(), OsError> {
        keyring::Entry::new(SERVICE, key)
            .map_err(err)?
            .set_password(secret)
            .map_err(err)
    }

    pub fn delete(key: &str) -> Result<(), OsError> {
        match keyring::Entry::new(SERVICE, key)
            .map_err(err)?
            .delete_credential()
        {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }
}

#[cfg(target_os = "android")]
mod os {
    use std::sync::{Arc, OnceLock};

    use super::{OsError, SERVICE};

    fn err(e: keyring_core::Error) -> OsError {
        OsError {
            unavailable: matches!(
                e,
                keyring_core::Error::PlatformFailure(_) | keyring_core::Error::NoStorageAccess(_)
            ),
            message: e.to_string(),
        }
    }

    /// The store, made once (it needs the app's Context, which the
    /// platform set up before any Rust code runs).
    fn store() -> Result<&'static Arc<keyring_core::CredentialStore>, OsError> {
        static STORE: OnceLock<Arc<keyring_core::CredentialStore>> = OnceLock::new();
        if let Some(s) = STORE.get() {
            return Ok(s);
        }
        let s = android_native_keyring_store::Store::new().map_err(err)?;
        Ok(STORE.get_or_init(|| s))
    }

    fn entry(key: &str) -> Result<keyring_core::Entry, OsError> {
        keyring_core::Entry::new_in_store(store()?, SERVICE, key).map_err(err)
    }

    pub fn get(key: &str) -> Result<Option<String>, OsError> {
        match entry(key)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    pub fn set(key: &str, secret: &str) -> Result<(), OsError> {
        entry(key)?.set_password(secret).map_err(err)
    }

    pub fn delete(key: &str) -> Result<(), OsError> {
        match entry(key)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }
}

/// Runs an OS-store call off the async runtime and explains a missing store
/// ([`Error::NoKeyring`], which a UI may answer by offering the file store).
async fn keyring_call<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, OsError> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Credentials(e.to_string()))?
        .map_err(|e| {
            if e.unavailable {
                Error::NoKeyring(format!(
                    "no OS keyring is available ({}). On Linux a Secret Service (GNOME Keyring, KWallet) \
                     must be running. To keep tokens in a 0600 file in the data folder instead, \
                     set LEETCHAT_CREDENTIALS=file (or pass --credentials file).",
                    e.message
                ))
            } else {
                Error::Credentials(e.message)
            }
        })
}

fn read_file(path: &Path) -> Result<BTreeMap<String, Credentials>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Error::Credentials(format!("{} is unreadable: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Error::Credentials(format!("{}: {e}", path.display()))),
    }
}

fn write_file(path: &Path, all: &BTreeMap<String, Credentials>) -> Result<()> {
    use std::io::Write;
    let err = |e: std::io::Error| Error::Credentials(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(err)?;
    f.write_all(&serde_json::to_vec_pretty(all)?).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// An exclusive lock on the data folder's `session.lock`, held while tokens
/// are refreshed.
pub struct RefreshLock {
    _file: std::fs::File,
}

impl RefreshLock {
    /// Blocks (off the runtime) until the lock is held.
    pub async fn acquire(data_dir: &Path) -> Result<RefreshLock> {
        let path = data_dir.join("session.lock");
        tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| Error::Credentials(format!("{}: {e}", path.display())))?;
            // Released when the file is closed (the lock is dropped).
            file.lock()
                .map_err(|e| Error::Credentials(format!("{}: {e}", path.display())))?;
            Ok(RefreshLock { _file: file })
        })
        .await
        .map_err(|e| Error::Credentials(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(name: &str) -> Credentials {
        Credentials {
            user_id: "u".into(),
            user_name: name.into(),
            device_id: "d".into(),
            access_token: "a".into(),
            access_expires_at: 1,
            access_lifetime: 900,
            refresh_token: "r".into(),
        }
    }

    #[tokio::test]
    async fn the_file_store_keeps_accounts_apart_with_0600() {
        let dir = tempfile::tempdir().expect("dir");
        let store = CredentialStore::File(dir.path().join("credentials.json"));
        store.save("http://a", &creds("alice")).await.expect("save");
        store.save("http://b", &creds("alice")).await.expect("save");
        store.save("http://a", &creds("bob")).await.expect("save");
        assert_eq!(
            store.load("http://a", "ALICE").await.expect("load"),
            Some(creds("alice"))
        );
        store.delete("http://a", "alice").await.expect("delete");
        assert_eq!(store.load("http://a", "alice").await.expect("load"), None);
        assert!(
            store
                .load("http://b", "alice")
                .await
                .expect("load")
                .is_some()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("credentials.json"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
