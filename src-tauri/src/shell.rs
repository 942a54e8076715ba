//! What the shell keeps between commands: the signed-in client, the room on
//! screen, and the accounts on this device (one data folder per server and
//! account, and the last sign-in remembered for the next start).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use leetchat_client::{Client, ClientConfig, CredentialStore};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};

use crate::events;

/// What a new account is made with, besides its name and password.
#[derive(Debug, Clone, Copy, Default)]
pub struct Registration<'a> {
    /// The name others see (default: the user name).
    pub display_name: Option<&'a str>,
    /// A server invite (servers that register by invite only need one).
    pub invite: Option<&'a str>,
}

/// The shell's state.
#[derive(Default)]
pub struct Shell {
    client: tokio::sync::Mutex<Option<Client>>,
    active_room: Mutex<Option<String>>,
}

/// The signed-in account, for the UI.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Id.
    pub user_id: String,
    /// Login name.
    pub user_name: String,
    /// The server.
    pub server: String,
}

/// The last sign-in, remembered between runs (no secrets: tokens are in the keyring).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LastAccount {
    server: String,
    user_name: String,
    /// The user chose to keep this account's tokens in a 0600 file (there
    /// was no OS keyring).
    #[serde(default)]
    file_store: bool,
}

/// How an error from a missing OS keyring starts, so the UI can offer the
/// file store instead (ui/src/tauri.ts has the same text).
pub const NO_KEYRING: &str = "no OS keyring:";

/// How the error starts when sign-up created the account but its tokens
/// could not be kept: the UI offers the file store and then signs in to the
/// account instead of registering it again (ui/src/tauri.ts has the same
/// text).
pub const NOT_KEPT: &str = "no OS keyring (account created):";

/// An error as the UI shows it.
pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A client error as the UI shows it; a missing keyring is marked with
/// [`NO_KEYRING`], an account created without kept tokens with [`NOT_KEPT`].
fn client_err(e: leetchat_client::Error) -> String {
    match e {
        // Only a desktop has a file store to offer instead.
        leetchat_client::Error::NoKeyring(why) if !cfg!(mobile) => format!("{NO_KEYRING} {why}"),
        leetchat_client::Error::AccountNotKept(why) if !cfg!(mobile) => format!("{NOT_KEPT} {why}"),
        other => other.to_string(),
    }
}

/// Mobile builds before the platform stores kept tokens in
/// `credentials.json` in the account's folder: moves them into the
/// platform's store and deletes the file (a refresh token in plain JSON).
async fn move_old_mobile_tokens(data_dir: &Path, server: &str, user_name: &str) {
    let path = data_dir.join("credentials.json");
    if !cfg!(mobile) || !path.exists() {
        return;
    }
    let old = CredentialStore::File(path.clone());
    match old.load(server, user_name).await {
        Ok(Some(c)) => {
            if let Err(e) = CredentialStore::Keyring.save(server, &c).await {
                tracing::warn!(error = %e, "cannot move the stored sign-in into the platform's store; keeping the file");
                return;
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "unreadable old credentials file; removing it"),
    }
    if let Err(e) = std::fs::remove_file(&path) {
        tracing::warn!(error = %e, "cannot remove the old credentials file");
    }
}

/// The app's data folder.
pub fn app_dir(app: &AppHandle) -> Result<PathBuf, String> {
    app.path().app_data_dir().map_err(err)
}

impl Shell {
    /// The room the UI shows, if any.
    pub fn active_room(&self) -> Option<String> {
        self.active_room
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sets the room the UI shows.
    pub fn set_active_room(&self, room_id: Option<String>) {
        *self.active_room.lock().unwrap_or_else(|p| p.into_inner()) = room_id;
    }

    /// The signed-in client.
    pub async fn client(&self) -> Result<Client, String> {
        self.client
            .lock()
            .await
            .clone()
            .ok_or_else(|| "not signed in".to_owned())
    }

    /// Resumes the last account, if its tokens are still there.
    pub async fn resume(&self, app: &AppHandle) -> Result<Option<Account>, String> {
        let Ok(bytes) = std::fs::read(last_account_file(app)?) else {
            return Ok(None);
        };
        let last: LastAccount = serde_json::from_slice(&bytes).map_err(err)?;
        let client = open(app, &last.server, &last.user_name, last.file_store).await?;
        if client.me().is_none() {
            return Ok(None);
        }
        self.activate(app, client, last.file_store).await.map(Some)
    }

    /// Signs in (or registers, with what [`Registration`] gives) and starts the connection. Tokens go to the
    /// OS keyring, or with `file_store` (which the user agreed to after a
    /// [`NO_KEYRING`] error) to a 0600 file in the account's folder.
    pub async fn sign_in(
        &self,
        app: &AppHandle,
        server: &str,
        user_name: &str,
        password: &str,
        register: Option<Registration<'_>>,
        file_store: bool,
    ) -> Result<Account, String> {
        let server = server.trim().trim_end_matches('/');
        let client = open(app, server, user_name, file_store).await?;
        match register {
            Some(r) => {
                client
                    .register_with_invite(user_name, password, r.display_name, r.invite)
                    .await
            }
            None => client.login(user_name, password).await,
        }
        .map_err(client_err)?;
        self.activate(app, client, file_store).await
    }

    /// Deletes the account on the server (the password confirms it); this
    /// device is then signed out like [`Shell::sign_out`]. A wrong password
    /// changes nothing.
    pub async fn delete_account(&self, app: &AppHandle, password: &str) -> Result<(), String> {
        let client = self.client().await?;
        client.delete_account(password).await.map_err(err)?;
        self.client.lock().await.take();
        let _ = std::fs::remove_file(last_account_file(app)?);
        Ok(())
    }

    /// Signs this device out, forgets its tokens and the last sign-in.
    pub async fn sign_out(&self, app: &AppHandle) -> Result<(), String> {
        if let Some(c) = self.client.lock().await.take() {
            c.logout().await.map_err(err)?;
        }
        let _ = std::fs::remove_file(last_account_file(app)?);
        Ok(())
    }

    /// Makes `client` the signed-in one: events to the UI, connection
    /// started, remembered for the next start.
    async fn activate(
        &self,
        app: &AppHandle,
        client: Client,
        file_store: bool,
    ) -> Result<Account, String> {
        let me = client.me().ok_or("not signed in")?;
        events::forward(app.clone(), client.clone());
        client.start().map_err(err)?;
        let account = Account {
            user_id: me.user_id,
            user_name: me.user_name,
            server: client.server().to_owned(),
        };
        let last = LastAccount {
            server: account.server.clone(),
            user_name: account.user_name.clone(),
            file_store,
        };
        std::fs::create_dir_all(app_dir(app)?).map_err(err)?;
        std::fs::write(
            last_account_file(app)?,
            serde_json::to_vec(&last).map_err(err)?,
        )
        .map_err(err)?;
        if let Some(old) = self.client.lock().await.replace(client) {
            old.stop().await;
        }
        Ok(account)
    }
}

fn last_account_file(app: &AppHandle) -> Result<PathBuf, String> {
    Ok(app_dir(app)?.join("last-account.json"))
}

/// Where tokens are kept. Mobile: the platform's store (the iOS Keychain;
/// on Android, SharedPreferences encrypted with an Android Keystore key).
/// Desktop: the OS keyring, or a 0600 file when `LEETCHAT_CREDENTIALS=file`
/// or when the user agreed to one because there is no keyring.
fn credentials(data_dir: &Path, file_store: bool) -> CredentialStore {
    if cfg!(mobile) {
        CredentialStore::Keyring
    } else if file_store {
        CredentialStore::File(data_dir.join("credentials.json"))
    } else {
        CredentialStore::from_env(data_dir)
    }
}

/// The data folder of one server and account, named safely.
fn account_folder(server: &str, user_name: &str) -> String {
    format!("{server}-{user_name}")
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn open(
    app: &AppHandle,
    server: &str,
    user_name: &str,
    file_store: bool,
) -> Result<Client, String> {
    let data_dir = app_dir(app)?
        .join("accounts")
        .join(account_folder(server, user_name));
    move_old_mobile_tokens(&data_dir, server, user_name).await;
    Client::open(ClientConfig {
        server: server.to_owned(),
        credentials: credentials(&data_dir, file_store),
        data_dir,
        device_name: format!("LeetChat app ({})", std::env::consts::OS),
    })
    .await
    .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_folders_are_one_safe_name_per_server_and_account() {
        assert_eq!(
            account_folder("http://Chat.example:8080", "Alice"),
            "http___chat.example_8080-alice"
        );
        assert_ne!(
            account_folder("http://a", "b"),
            account_folder("http://b", "b")
        );
        assert!(!account_folder("http://x/../..", "../y").contains('/'));
    }
}
