//! Tauri commands: each a few lines over `leetchat_client::Client`.
//!
//! Errors reach the UI as their message. Tokens never leave Rust: the UI
//! only ever sees users, rooms and messages.

use std::path::PathBuf;
use std::sync::Mutex;

use leetchat_client::{Client, ClientConfig, CredentialStore, MessageView, RoomView};
use leetchat_protocol::User;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, State};

use crate::events;

/// What the shell keeps: the signed-in client and the room on screen.
#[derive(Default)]
pub struct Shell {
    client: tokio::sync::Mutex<Option<Client>>,
    active_room: Mutex<Option<String>>,
}

impl Shell {
    /// The room the UI shows, if any.
    pub fn active_room(&self) -> Option<String> {
        self.active_room
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn client(&self) -> Result<Client, String> {
        self.client
            .lock()
            .await
            .clone()
            .ok_or_else(|| "not signed in".to_owned())
    }
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
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn app_dir(app: &AppHandle) -> Result<PathBuf, String> {
    app.path().app_data_dir().map_err(err)
}

/// Where tokens are kept. Desktop: the OS keyring, or a 0600 file when
/// `LEETCHAT_CREDENTIALS=file`. Mobile: a file in the app's private storage,
/// which the OS sandbox protects (the keyring crate has no Android/iOS store).
fn credentials(data_dir: &std::path::Path) -> CredentialStore {
    if cfg!(mobile) {
        CredentialStore::File(data_dir.join("credentials.json"))
    } else {
        CredentialStore::from_env(data_dir)
    }
}

/// One data folder per server and account.
fn account_dir(app: &AppHandle, server: &str, user_name: &str) -> Result<PathBuf, String> {
    let safe: String = format!("{server}-{user_name}")
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(app_dir(app)?.join("accounts").join(safe))
}

async fn open(app: &AppHandle, server: &str, user_name: &str) -> Result<Client, String> {
    let data_dir = account_dir(app, server, user_name)?;
    Client::open(ClientConfig {
        server: server.to_owned(),
        credentials: credentials(&data_dir),
        data_dir,
        device_name: format!("LeetChat app ({})", std::env::consts::OS),
    })
    .await
    .map_err(err)
}

async fn activate(app: &AppHandle, shell: &Shell, client: Client) -> Result<Account, String> {
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
    };
    let dir = app_dir(app)?;
    std::fs::create_dir_all(&dir).map_err(err)?;
    std::fs::write(
        dir.join("last-account.json"),
        serde_json::to_vec(&last).map_err(err)?,
    )
    .map_err(err)?;
    if let Some(old) = shell.client.lock().await.replace(client) {
        old.stop().await;
    }
    Ok(account)
}

/// `session`: resumes the last account, if its tokens are still there.
#[tauri::command]
pub async fn session(app: AppHandle, shell: State<'_, Shell>) -> Result<Option<Account>, String> {
    let Ok(bytes) = std::fs::read(app_dir(&app)?.join("last-account.json")) else {
        return Ok(None);
    };
    let last: LastAccount = serde_json::from_slice(&bytes).map_err(err)?;
    let client = open(&app, &last.server, &last.user_name).await?;
    if client.me().is_none() {
        return Ok(None);
    }
    activate(&app, &shell, client).await.map(Some)
}

/// `sign_in`: signs in (or registers) and starts the connection.
#[tauri::command]
pub async fn sign_in(
    app: AppHandle,
    shell: State<'_, Shell>,
    server: String,
    user_name: String,
    password: String,
    register: bool,
    display_name: Option<String>,
) -> Result<Account, String> {
    let server = server.trim().trim_end_matches('/').to_owned();
    let client = open(&app, &server, &user_name).await?;
    if register {
        client
            .register(&user_name, &password, display_name.as_deref())
            .await
            .map_err(err)?;
    } else {
        client.login(&user_name, &password).await.map_err(err)?;
    }
    activate(&app, &shell, client).await
}

/// `sign_out`: signs this device out and forgets its tokens.
#[tauri::command]
pub async fn sign_out(app: AppHandle, shell: State<'_, Shell>) -> Result<(), String> {
    if let Some(c) = shell.client.lock().await.take() {
        c.logout().await.map_err(err)?;
    }
    let _ = std::fs::remove_file(app_dir(&app)?.join("last-account.json"));
    Ok(())
}

/// `rooms`: every room, most recently active first (from the local store).
#[tauri::command]
pub async fn rooms(shell: State<'_, Shell>) -> Result<Vec<RoomView>, String> {
    shell.client().await?.rooms().map_err(err)
}

/// `messages`: a page of a room (newest when `before_seq` is absent).
#[tauri::command]
pub async fn messages(
    shell: State<'_, Shell>,
    room_id: String,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<MessageView>, String> {
    shell
        .client()
        .await?
        .messages(&room_id, before_seq, limit.clamp(1, 500))
        .map_err(err)
}

/// `send_text`: queues a message; it shows at once as pending.
#[tauri::command]
pub async fn send_text(
    shell: State<'_, Shell>,
    room_id: String,
    content: String,
) -> Result<MessageView, String> {
    shell
        .client()
        .await?
        .send_text(&room_id, &content)
        .map_err(err)
}

/// `edit_message`: edits one of the user's messages.
#[tauri::command]
pub async fn edit_message(
    shell: State<'_, Shell>,
    key: String,
    content: String,
) -> Result<MessageView, String> {
    shell.client().await?.edit(&key, &content).map_err(err)
}

/// `delete_message`: deletes a message.
#[tauri::command]
pub async fn delete_message(shell: State<'_, Shell>, key: String) -> Result<(), String> {
    shell.client().await?.delete(&key).map_err(err)
}

/// `load_older`: fetches the next older page of a room.
#[tauri::command]
pub async fn load_older(shell: State<'_, Shell>, room_id: String) -> Result<usize, String> {
    shell
        .client()
        .await?
        .load_older(&room_id, 50)
        .await
        .map_err(err)
}

/// `mark_read`: moves the read pointer.
#[tauri::command]
pub async fn mark_read(shell: State<'_, Shell>, room_id: String, seq: i64) -> Result<(), String> {
    shell
        .client()
        .await?
        .mark_read(&room_id, seq)
        .await
        .map_err(err)
}

/// `set_typing`: starts or stops the typing indicator.
#[tauri::command]
pub async fn set_typing(
    shell: State<'_, Shell>,
    room_id: String,
    typing: bool,
) -> Result<(), String> {
    shell
        .client()
        .await?
        .set_typing(&room_id, typing)
        .await
        .map_err(err)
}

/// `search_users`: users whose name contains `query`.
#[tauri::command]
pub async fn search_users(shell: State<'_, Shell>, query: String) -> Result<Vec<User>, String> {
    shell
        .client()
        .await?
        .search_users(&query)
        .await
        .map_err(err)
}

/// `create_direct`: opens (or finds) the direct room with a user.
#[tauri::command]
pub async fn create_direct(shell: State<'_, Shell>, user_id: String) -> Result<RoomView, String> {
    shell
        .client()
        .await?
        .create_direct(&user_id)
        .await
        .map_err(err)
}

/// `create_group`: creates a group.
#[tauri::command]
pub async fn create_group(
    shell: State<'_, Shell>,
    name: String,
    member_ids: Vec<String>,
) -> Result<RoomView, String> {
    shell
        .client()
        .await?
        .create_group(&name, &member_ids)
        .await
        .map_err(err)
}

/// `set_active_room`: the room on screen (no notifications for it while focused).
#[tauri::command]
pub fn set_active_room(shell: State<'_, Shell>, room_id: Option<String>) {
    *shell.active_room.lock().unwrap_or_else(|p| p.into_inner()) = room_id;
}

/// `set_unread`: the total of unread messages, for the window title and badge.
#[tauri::command]
pub fn set_unread(app: AppHandle, count: u32) {
    crate::attention::show_unread(&app, count);
}

/// `send_file`: queues a file message (uploaded by the connection, with
/// `upload_progress` events).
#[tauri::command]
pub async fn send_file(
    shell: State<'_, Shell>,
    room_id: String,
    path: String,
    caption: String,
) -> Result<MessageView, String> {
    shell
        .client()
        .await?
        .send_file(&room_id, std::path::Path::new(&path), &caption)
        .await
        .map_err(err)
}

/// Largest pasted blob accepted over IPC (uploads are limited by the server too).
const MAX_PASTE_BYTES: usize = 25 * 1024 * 1024;

/// `send_file_bytes`: queues pasted bytes (e.g. an image from the clipboard) as a file.
#[tauri::command]
pub async fn send_file_bytes(
    app: AppHandle,
    shell: State<'_, Shell>,
    room_id: String,
    name: String,
    bytes: Vec<u8>,
    caption: String,
) -> Result<MessageView, String> {
    queue_bytes(&app, &shell, &room_id, &name, &bytes, &caption).await
}

/// What `paste_clipboard_image` answers when the clipboard holds no image
/// (the UI ignores this one quietly: the paste simply had nothing to send).
pub const NO_CLIPBOARD_IMAGE: &str = "no image on the clipboard";

/// `paste_clipboard_image`: queues the image on the OS clipboard as a PNG
/// named `name`, like `send_file_bytes`. For webviews whose paste event
/// carries no image file (WebKitGTK on Linux); fails with
/// [`NO_CLIPBOARD_IMAGE`] when there is no image to paste.
#[tauri::command]
pub async fn paste_clipboard_image(
    app: AppHandle,
    shell: State<'_, Shell>,
    room_id: String,
    name: String,
    caption: String,
) -> Result<MessageView, String> {
    let reader = app.clone();
    // Off the main thread (reading can wait on the clipboard's owner) and off
    // the async workers (decoding and encoding a big image takes a while).
    let png = tokio::task::spawn_blocking(move || clipboard_png(&reader))
        .await
        .map_err(err)??;
    let name = if name.to_ascii_lowercase().ends_with(".png") {
        name
    } else {
        format!("{name}.png")
    };
    queue_bytes(&app, &shell, &room_id, &name, &png, &caption).await
}

/// The clipboard's image, encoded as PNG.
fn clipboard_png(app: &AppHandle) -> Result<Vec<u8>, String> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let image = app.clipboard().read_image().map_err(|e| {
        tracing::debug!("reading an image from the clipboard: {e}");
        NO_CLIPBOARD_IMAGE.to_owned()
    })?;
    encode_png(image.width(), image.height(), image.rgba())
}

/// RGBA pixels (`width`×`height`, 4 bytes each) as a PNG file.
fn encode_png(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    if width == 0 || height == 0 {
        return Err(NO_CLIPBOARD_IMAGE.to_owned());
    }
    if u64::from(width) * u64::from(height) * 4 != rgba.len() as u64 {
        return Err(format!(
            "the clipboard image is malformed ({width}×{height} with {} bytes)",
            rgba.len()
        ));
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(rgba, width, height, image::ExtendedColorType::Rgba8)
        .map_err(|e| format!("could not encode the clipboard image as PNG: {e}"))?;
    Ok(png)
}

/// Writes `bytes` to a temporary file named after `name` and queues it as a
/// file message (the shared path of pasted data).
async fn queue_bytes(
    app: &AppHandle,
    shell: &Shell,
    room_id: &str,
    name: &str,
    bytes: &[u8],
    caption: &str,
) -> Result<MessageView, String> {
    if bytes.is_empty() || bytes.len() > MAX_PASTE_BYTES {
        return Err(format!(
            "pasted data must be between 1 byte and {MAX_PASTE_BYTES} bytes"
        ));
    }
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // A folder of its own, so the file (whose name becomes the attachment's)
    // is called exactly `name`.
    let dir = app_dir(app)?
        .join("pasted")
        .join(format!("{}-{unique}", std::process::id()));
    tokio::fs::create_dir_all(&dir).await.map_err(err)?;
    let name = if safe.is_empty() {
        "pasted".to_owned()
    } else {
        safe
    };
    let path = dir.join(name);
    let sent = match tokio::fs::write(&path, bytes).await {
        // send_file copies it into the outbox folder, so the temporary can go.
        Ok(()) => match shell.client().await {
            Ok(client) => client.send_file(room_id, &path, caption).await.map_err(err),
            Err(e) => Err(e),
        },
        Err(e) => Err(err(e)),
    };
    let _ = tokio::fs::remove_dir_all(&dir).await;
    sent
}

/// `file_path`: the local path of an attachment (downloaded once, then cached),
/// for the asset protocol.
#[tauri::command]
pub async fn file_path(
    shell: State<'_, Shell>,
    file_id: String,
    thumbnail: bool,
) -> Result<String, String> {
    let p = shell
        .client()
        .await?
        .download(&file_id, thumbnail)
        .await
        .map_err(err)?;
    Ok(p.to_string_lossy().into_owned())
}

/// `save_file`: copies an attachment into the user's Downloads folder.
#[tauri::command]
pub async fn save_file(
    app: AppHandle,
    shell: State<'_, Shell>,
    file_id: String,
) -> Result<String, String> {
    let client = shell.client().await?;
    let cached = client.download(&file_id, false).await.map_err(err)?;
    let name = client
        .store()
        .attachment_name(&file_id)
        .ok()
        .flatten()
        .unwrap_or_else(|| file_id.clone());
    let safe: String = name
        .chars()
        .filter(|c| !matches!(c, '/' | '\\' | '\0'))
        .collect();
    let dir = app.path().download_dir().map_err(err)?;
    tokio::fs::create_dir_all(&dir).await.map_err(err)?;
    let mut dest = dir.join(&safe);
    let mut n = 1;
    while tokio::fs::try_exists(&dest).await.unwrap_or(false) {
        dest = dir.join(format!("{n}-{safe}"));
        n += 1;
    }
    tokio::fs::copy(&cached, &dest).await.map_err(err)?;
    Ok(dest.to_string_lossy().into_owned())
}

/// `pick_files`: the native file picker; the chosen paths (none if cancelled).
#[tauri::command]
pub async fn pick_files(app: AppHandle) -> Result<Vec<String>, String> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().pick_files(move |paths| {
        let _ = tx.send(paths.unwrap_or_default());
    });
    let paths = rx.await.map_err(err)?;
    Ok(paths
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipboard_pixels_become_a_png_of_the_same_picture() {
        let (w, h) = (3u32, 2u32);
        let rgba: Vec<u8> = (0..w * h * 4).map(|i| (i * 10) as u8).collect();
        let png = encode_png(w, h, &rgba).expect("encodes");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let back = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .expect("decodes")
            .to_rgba8();
        assert_eq!(back.dimensions(), (w, h));
        assert_eq!(back.into_raw(), rgba);
    }

    #[test]
    fn an_empty_or_malformed_clipboard_image_is_refused() {
        assert_eq!(
            encode_png(0, 0, &[]).expect_err("empty"),
            NO_CLIPBOARD_IMAGE
        );
        assert!(encode_png(2, 2, &[0; 15]).is_err());
    }
}
