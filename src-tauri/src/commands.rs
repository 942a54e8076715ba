//! Tauri commands: each a few lines over `leetchat_client::Client` (the
//! logic lives in the client core), the shell's state ([`crate::shell`]) or
//! its file handling ([`crate::files`]). The list of them is in `lib.rs`.
//!
//! Errors reach the UI as their message. Tokens never leave Rust: the UI
//! only ever sees users, rooms and messages.

use leetchat_client::{MessageContext, MessageView, RoomView, SearchPage};
use leetchat_protocol::events::{Ban, Block, NotifyChoice, NotifyLevel, RoomInvite};
use leetchat_protocol::http::DeviceInfo;
use leetchat_protocol::{Role, User};
use tauri::{AppHandle, Manager as _, State};

use crate::files;
use crate::shell::{Account, Shell, err};

type Res<T> = Result<T, String>;

/// `session`: resumes the last account, if its tokens are still there.
#[tauri::command]
pub async fn session(app: AppHandle, shell: State<'_, Shell>) -> Res<Option<Account>> {
    shell.resume(&app).await
}

/// What Settings → About shows of the app itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct About {
    /// The app's version.
    pub version: &'static str,
    /// Its license (SPDX).
    pub license: &'static str,
}

/// `about`: the app's version and license.
#[tauri::command]
pub fn about() -> About {
    About {
        version: env!("CARGO_PKG_VERSION"),
        license: env!("CARGO_PKG_LICENSE"),
    }
}

/// `suggested_server`: the server address the sign-in form should suggest
/// ([`crate::launch`]), if any.
#[tauri::command]
pub fn suggested_server(app: AppHandle) -> Option<crate::launch::SuggestedServer> {
    use tauri_plugin_deep_link::DeepLinkExt as _;
    // The link the app was opened with (macOS hands it over this way; on
    // Linux and Windows it is also on the command line).
    let mut args: Vec<String> = app
        .deep_link()
        .get_current()
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.to_string())
        .collect();
    args.extend(std::env::args().skip(1));
    let env = std::env::var("LEETCHAT_SERVER").ok();
    let config = app
        .path()
        .app_config_dir()
        .ok()
        .and_then(|dir| std::fs::read_to_string(dir.join(crate::launch::CONFIG_FILE)).ok());
    crate::launch::suggested_server(&args, env.as_deref(), config.as_deref())
}

/// `sign_in`: signs in (or registers, with an optional server invite) and
/// starts the connection.
#[tauri::command]
#[allow(clippy::too_many_arguments)] // Tauri passes each argument by name, as the UI sends them.
pub async fn sign_in(
    app: AppHandle,
    shell: State<'_, Shell>,
    server: String,
    user_name: String,
    password: String,
    register: bool,
    display_name: Option<String>,
    invite: Option<String>,
    use_file_store: Option<bool>,
) -> Res<Account> {
    let register = register.then_some(crate::shell::Registration {
        display_name: display_name.as_deref(),
        invite: invite.as_deref().map(str::trim).filter(|i| !i.is_empty()),
    });
    shell
        .sign_in(
            &app,
            &server,
            &user_name,
            &password,
            register,
            use_file_store.unwrap_or(false),
        )
        .await
}

/// `sign_out`: signs this device out and forgets its tokens.
#[tauri::command]
pub async fn sign_out(app: AppHandle, shell: State<'_, Shell>) -> Res<()> {
    shell.sign_out(&app).await
}

/// `rooms`: every room, most recently active first (from the local store).
#[tauri::command]
pub async fn rooms(shell: State<'_, Shell>) -> Res<Vec<RoomView>> {
    shell.client().await?.rooms().map_err(err)
}

/// `messages`: a page of a room (newest when `before_seq` is absent).
#[tauri::command]
pub async fn messages(
    shell: State<'_, Shell>,
    room_id: String,
    before_seq: Option<i64>,
    limit: i64,
) -> Res<Vec<MessageView>> {
    let client = shell.client().await?;
    client
        .messages(&room_id, before_seq, limit.clamp(1, 500))
        .map_err(err)
}

/// `message`: one stored message (by server id, tempId or local id), or
/// null when this device does not have it.
#[tauri::command]
pub async fn message(shell: State<'_, Shell>, key: String) -> Res<Option<MessageView>> {
    match shell.client().await?.message(&key) {
        Ok(m) => Ok(Some(m)),
        Err(leetchat_client::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(err(e)),
    }
}

/// `send_text`: queues a message; it shows at once as pending.
#[tauri::command]
pub async fn send_text(
    shell: State<'_, Shell>,
    room_id: String,
    content: String,
) -> Res<MessageView> {
    let client = shell.client().await?;
    client.send_text(&room_id, &content).map_err(err)
}

/// `edit_message`: edits one of the user's messages.
#[tauri::command]
pub async fn edit_message(
    shell: State<'_, Shell>,
    key: String,
    content: String,
) -> Res<MessageView> {
    shell.client().await?.edit(&key, &content).map_err(err)
}

/// `delete_message`: deletes a message.
#[tauri::command]
pub async fn delete_message(shell: State<'_, Shell>, key: String) -> Res<()> {
    shell.client().await?.delete(&key).map_err(err)
}

/// `load_older`: fetches the next older page of a room.
#[tauri::command]
pub async fn load_older(shell: State<'_, Shell>, room_id: String) -> Res<usize> {
    let client = shell.client().await?;
    client.load_older(&room_id, 50).await.map_err(err)
}

/// `mark_read`: moves the read pointer.
#[tauri::command]
pub async fn mark_read(shell: State<'_, Shell>, room_id: String, seq: i64) -> Res<()> {
    let client = shell.client().await?;
    client.mark_read(&room_id, seq).await.map_err(err)
}

/// `set_typing`: starts or stops the typing indicator.
#[tauri::command]
pub async fn set_typing(shell: State<'_, Shell>, room_id: String, typing: bool) -> Res<()> {
    let client = shell.client().await?;
    client.set_typing(&room_id, typing).await.map_err(err)
}

/// `search_users`: users whose name contains `query`.
#[tauri::command]
pub async fn search_users(shell: State<'_, Shell>, query: String) -> Res<Vec<User>> {
    let client = shell.client().await?;
    client.search_users(&query).await.map_err(err)
}

/// `search_messages`: a page of message search, the store's and the
/// server's results merged (the store's alone when offline).
#[tauri::command]
pub async fn search_messages(
    shell: State<'_, Shell>,
    query: String,
    room_id: Option<String>,
    before: Option<String>,
    limit: u32,
) -> Res<SearchPage> {
    let client = shell.client().await?;
    client
        .search_messages(&query, room_id.as_deref(), before.as_deref(), limit)
        .await
        .map_err(err)
}

/// `message_context`: a stored message (a search result) with up to
/// `around` messages on each side, fetched when not stored.
#[tauri::command]
pub async fn message_context(
    shell: State<'_, Shell>,
    message_id: String,
    around: u32,
) -> Res<MessageContext> {
    let client = shell.client().await?;
    client
        .message_context(&message_id, around)
        .await
        .map_err(err)
}

/// `create_direct`: opens (or finds) the direct room with a user.
#[tauri::command]
pub async fn create_direct(shell: State<'_, Shell>, user_id: String) -> Res<RoomView> {
    let client = shell.client().await?;
    client.create_direct(&user_id).await.map_err(err)
}

/// `create_group`: creates a group.
#[tauri::command]
pub async fn create_group(
    shell: State<'_, Shell>,
    name: String,
    member_ids: Vec<String>,
) -> Res<RoomView> {
    let client = shell.client().await?;
    client.create_group(&name, &member_ids).await.map_err(err)
}

/// `set_active_room`: the room on screen (no notifications for it while focused).
#[tauri::command]
pub fn set_active_room(shell: State<'_, Shell>, room_id: Option<String>) {
    shell.set_active_room(room_id);
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
) -> Res<MessageView> {
    let client = shell.client().await?;
    let path = std::path::Path::new(&path);
    client
        .send_file(&room_id, path, &caption)
        .await
        .map_err(err)
}

/// `send_file_bytes`: queues pasted bytes (e.g. an image from the clipboard)
/// as a file named `name`.
#[tauri::command]
pub async fn send_file_bytes(
    app: AppHandle,
    shell: State<'_, Shell>,
    room_id: String,
    name: String,
    bytes: Vec<u8>,
    caption: String,
) -> Res<MessageView> {
    let client = shell.client().await?;
    files::queue_bytes(&app, &client, &room_id, &name, &bytes, &caption).await
}

/// `clipboard_image`: the image on the OS clipboard as PNG bytes (an
/// `ArrayBuffer` in the UI), which the UI shows before sending it with
/// `send_file_bytes`. For webviews whose paste event carries no image file
/// (WebKitGTK on Linux); fails with [`files::NO_CLIPBOARD_IMAGE`] when there
/// is no image to paste.
#[tauri::command]
pub async fn clipboard_image(app: AppHandle) -> Res<tauri::ipc::Response> {
    files::clipboard_image(&app)
        .await
        .map(tauri::ipc::Response::new)
}

/// `file_preview`: a file's name, size and (for a picture) a small copy, to
/// show before it is sent.
#[tauri::command]
pub async fn file_preview(path: String) -> Res<files::FilePreview> {
    files::preview(std::path::Path::new(&path)).await
}

/// `file_path`: the local path of an attachment (downloaded once, then
/// cached), for the asset protocol.
#[tauri::command]
pub async fn file_path(shell: State<'_, Shell>, file_id: String, thumbnail: bool) -> Res<String> {
    let client = shell.client().await?;
    let p = client.download(&file_id, thumbnail).await.map_err(err)?;
    Ok(p.to_string_lossy().into_owned())
}

/// `save_file`: copies an attachment into the user's Downloads folder.
#[tauri::command]
pub async fn save_file(app: AppHandle, shell: State<'_, Shell>, file_id: String) -> Res<String> {
    let client = shell.client().await?;
    let dest = files::save_to_downloads(&app, &client, &file_id).await?;
    Ok(dest.to_string_lossy().into_owned())
}

/// `pick_files`: the native file picker; the chosen paths (none if cancelled).
#[tauri::command]
pub async fn pick_files(app: AppHandle) -> Res<Vec<String>> {
    files::pick(&app).await
}

/// `send_message`: queues a text message with its reply and mentions.
#[tauri::command]
pub async fn send_message(
    shell: State<'_, Shell>,
    room_id: String,
    content: String,
    reply_to: Option<String>,
    mentions: Vec<String>,
    mentions_room: bool,
) -> Res<MessageView> {
    let draft = leetchat_client::Draft {
        content,
        reply_to,
        mentions,
        mentions_room,
    };
    let client = shell.client().await?;
    client
        .send_draft(&room_id, &draft, leetchat_protocol::MessageType::Text)
        .map_err(err)
}

/// `react`: adds (or takes back) the user's reaction to a message.
#[tauri::command]
pub async fn react(
    shell: State<'_, Shell>,
    key: String,
    emoji: String,
    add: bool,
) -> Res<MessageView> {
    shell.client().await?.react(&key, &emoji, add).map_err(err)
}

/// `set_room_notify`: a room's notification level (`all`, `mentions`,
/// `none`, `default`) and, when `change_mute`, its mute (`mute_until`: an
/// RFC 3339 time, or none to unmute); every device of the user follows.
#[tauri::command]
pub async fn set_room_notify(
    shell: State<'_, Shell>,
    room_id: String,
    level: String,
    mute_until: Option<String>,
    change_mute: bool,
) -> Res<RoomView> {
    let level: NotifyChoice = serde_json::from_value(serde_json::Value::String(level))
        .map_err(|_| "level must be all, mentions, none or default".to_owned())?;
    let mute = change_mute.then_some(mute_until);
    shell
        .client()
        .await?
        .set_room_notify(&room_id, level, mute)
        .await
        .map_err(err)
}

/// `notify_default`: the user's default notification level.
#[tauri::command]
pub async fn notify_default(shell: State<'_, Shell>) -> Res<NotifyLevel> {
    shell.client().await?.notify_default().map_err(err)
}

/// `set_notify_default`: the level of every room the user set none for.
#[tauri::command]
pub async fn set_notify_default(shell: State<'_, Shell>, level: NotifyLevel) -> Res<NotifyLevel> {
    shell
        .client()
        .await?
        .set_notify_default(level)
        .await
        .map_err(err)
}

/// `pin_message`: pins or unpins a message; the room as it now stands.
#[tauri::command]
pub async fn pin_message(shell: State<'_, Shell>, key: String, pin: bool) -> Res<RoomView> {
    shell.client().await?.pin(&key, pin).map_err(err)
}

/// `open_link`: opens an http(s) or mailto link from a message in the
/// system's browser or mail program, never in the app's window.
#[tauri::command]
pub fn open_link(app: AppHandle, url: String) -> Res<()> {
    use tauri_plugin_opener::OpenerExt;
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    if !(lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:"))
    {
        return Err(format!("only http, https and mailto links open: {u:?}"));
    }
    app.opener()
        .open_url(u, None::<&str>)
        .map_err(|e| e.to_string())
}

/// `push_register`: registers the endpoint the platform's push distributor
/// gave this device (UnifiedPush on Android; an APNs gateway's on iOS),
/// so that the server pushes it while the app is not connected. Called by
/// the native side when the distributor hands out (or changes) an endpoint.
#[tauri::command]
pub async fn push_register(shell: State<'_, Shell>, endpoint: String, previews: bool) -> Res<()> {
    shell
        .client()
        .await?
        .register_push(&endpoint, previews)
        .await
        .map_err(err)
}

/// `push_unregister`: the server pushes this device nothing more.
#[tauri::command]
pub async fn push_unregister(shell: State<'_, Shell>) -> Res<()> {
    shell.client().await?.unregister_push().await.map_err(err)
}

/// `push_received`: a push the distributor delivered (its body, base64):
/// opened with this device's keys, then shown, replaced or withdrawn as
/// the room's notification (the same id the running app uses).
#[tauri::command]
pub async fn push_received(app: AppHandle, shell: State<'_, Shell>, body: String) -> Res<()> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let trimmed = body.trim();
    let bytes = STANDARD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
        .map_err(|_| "the push body is not base64".to_owned())?;
    let notice = shell.client().await?.open_push(&bytes).map_err(err)?;
    crate::events::show_push(&app, notice);
    Ok(())
}

// ---- running a community (protocol 9.8): profile, account, groups -------

/// `profile`: the signed-in user as this device knows them.
#[tauri::command]
pub async fn profile(shell: State<'_, Shell>) -> Res<User> {
    shell.client().await?.profile().map_err(err)
}

/// `update_profile`: a new display name and/or picture. `avatar_path` is a
/// local image (the server crops it square); `remove_avatar` takes the
/// picture away. Everyone who shares a room sees the change.
#[tauri::command]
pub async fn update_profile(
    shell: State<'_, Shell>,
    display_name: Option<String>,
    avatar_path: Option<String>,
    remove_avatar: bool,
) -> Res<User> {
    let display_name = display_name.as_deref().map(str::trim);
    if display_name == Some("") {
        return Err("a display name cannot be empty".to_owned());
    }
    let avatar = match (avatar_path.as_deref(), remove_avatar) {
        (Some(p), _) => Some(Some(std::path::Path::new(p))),
        (None, true) => Some(None),
        (None, false) => None,
    };
    shell
        .client()
        .await?
        .update_profile(display_name, avatar)
        .await
        .map_err(err)
}

/// `known_users`: the users this device knows among `user_ids` (members
/// of shared rooms, people found by a search); unknown ones are left out.
#[tauri::command]
pub async fn known_users(shell: State<'_, Shell>, user_ids: Vec<String>) -> Res<Vec<User>> {
    let client = shell.client().await?;
    let mut users = Vec::with_capacity(user_ids.len());
    for id in &user_ids {
        if let Some(u) = client.known_user(id).map_err(err)? {
            users.push(u);
        }
    }
    Ok(users)
}

/// `blocks`: everyone the user blocked, newest first.
#[tauri::command]
pub async fn blocks(shell: State<'_, Shell>) -> Res<Vec<Block>> {
    shell.client().await?.blocks().await.map_err(err)
}

/// `block`: blocks (or, with `block` false, unblocks) a user; the list
/// as it now stands.
#[tauri::command]
pub async fn block(shell: State<'_, Shell>, user_id: String, block: bool) -> Res<Vec<Block>> {
    let client = shell.client().await?;
    if block {
        client.block(&user_id).await.map_err(err)
    } else {
        client.unblock(&user_id).await.map_err(err)
    }
}

/// `devices`: the account's signed-in devices (this one marked `current`).
#[tauri::command]
pub async fn devices(shell: State<'_, Shell>) -> Res<Vec<DeviceInfo>> {
    shell.client().await?.devices().await.map_err(err)
}

/// `sign_out_device`: signs another of the account's devices out.
#[tauri::command]
pub async fn sign_out_device(shell: State<'_, Shell>, device_id: String) -> Res<()> {
    shell
        .client()
        .await?
        .sign_out_device(&device_id)
        .await
        .map_err(err)
}

/// `export_data`: saves the account's data (a JSON archive) in the
/// Downloads folder; resolves to where.
#[tauri::command]
pub async fn export_data(app: AppHandle, shell: State<'_, Shell>) -> Res<String> {
    let client = shell.client().await?;
    let me = client.me().ok_or("not signed in")?;
    let today = time::OffsetDateTime::now_utc().date();
    let name = format!("leetchat-{}-{today}.json", me.user_name);
    let dest = files::free_download_path(&app, &name).await?;
    client.export_data(&dest).await.map_err(err)?;
    Ok(dest.to_string_lossy().into_owned())
}

/// `delete_account`: deletes the account on the server (the password
/// confirms it) and signs this device out.
#[tauri::command]
pub async fn delete_account(app: AppHandle, shell: State<'_, Shell>, password: String) -> Res<()> {
    shell.delete_account(&app, &password).await
}

/// `update_room`: a group's new name and/or description (owner/admin).
#[tauri::command]
pub async fn update_room(
    shell: State<'_, Shell>,
    room_id: String,
    name: Option<String>,
    description: Option<String>,
) -> Res<RoomView> {
    shell
        .client()
        .await?
        .update_room(&room_id, name.as_deref(), description.as_deref())
        .await
        .map_err(err)
}

/// `add_members`: adds people to a group (owner/admin).
#[tauri::command]
pub async fn add_members(
    shell: State<'_, Shell>,
    room_id: String,
    user_ids: Vec<String>,
) -> Res<RoomView> {
    shell
        .client()
        .await?
        .add_members(&room_id, &user_ids)
        .await
        .map_err(err)
}

/// `remove_member`: removes a member (owner/admin), or leaves the group
/// when it is the user.
#[tauri::command]
pub async fn remove_member(shell: State<'_, Shell>, room_id: String, user_id: String) -> Res<()> {
    shell
        .client()
        .await?
        .remove_member(&room_id, &user_id)
        .await
        .map_err(err)
}

/// `set_member_role`: `admin` or `member`, or `owner` to hand the group over.
#[tauri::command]
pub async fn set_member_role(
    shell: State<'_, Shell>,
    room_id: String,
    user_id: String,
    role: String,
) -> Res<RoomView> {
    let role: Role = serde_json::from_value(serde_json::Value::String(role))
        .map_err(|_| "role must be owner, admin or member".to_owned())?;
    shell
        .client()
        .await?
        .set_role(&room_id, &user_id, role)
        .await
        .map_err(err)
}

/// `create_invite`: a new invite link to a group (owner/admin).
#[tauri::command]
pub async fn create_invite(
    shell: State<'_, Shell>,
    room_id: String,
    max_uses: Option<u32>,
    expires_in_s: Option<u64>,
) -> Res<RoomInvite> {
    shell
        .client()
        .await?
        .create_invite(&room_id, max_uses, expires_in_s)
        .await
        .map_err(err)
}

/// `invites`: a group's usable invite links (owner/admin).
#[tauri::command]
pub async fn invites(shell: State<'_, Shell>, room_id: String) -> Res<Vec<RoomInvite>> {
    shell.client().await?.invites(&room_id).await.map_err(err)
}

/// `revoke_invite`: an invite link stops working.
#[tauri::command]
pub async fn revoke_invite(shell: State<'_, Shell>, code: String) -> Res<()> {
    shell
        .client()
        .await?
        .revoke_invite(&code)
        .await
        .map_err(err)
}

/// `join_room`: joins a group with an invite code or a link holding one.
#[tauri::command]
pub async fn join_room(shell: State<'_, Shell>, code: String) -> Res<RoomView> {
    shell.client().await?.join_room(&code).await.map_err(err)
}

/// `ban`: bans someone from a group (removing them), or with `ban` false
/// lets them back in (owner/admin).
#[tauri::command]
pub async fn ban(
    shell: State<'_, Shell>,
    room_id: String,
    user_id: String,
    ban: bool,
    reason: Option<String>,
) -> Res<()> {
    let client = shell.client().await?;
    if ban {
        let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        client.ban(&room_id, &user_id, reason).await.map_err(err)
    } else {
        client.unban(&room_id, &user_id).await.map_err(err)
    }
}

/// `bans`: a group's bans, newest first (owner/admin).
#[tauri::command]
pub async fn bans(shell: State<'_, Shell>, room_id: String) -> Res<Vec<Ban>> {
    shell.client().await?.bans(&room_id).await.map_err(err)
}

/// `report`: reports a message to the server's admins.
#[tauri::command]
pub async fn report(shell: State<'_, Shell>, message_id: String, reason: String) -> Res<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("say what is wrong with the message".to_owned());
    }
    shell
        .client()
        .await?
        .report(&message_id, reason)
        .await
        .map_err(err)
}

#[cfg(test)]
mod tests {
    #[test]
    fn about_is_this_build() {
        let a = super::about();
        assert_eq!(a.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(a.license, "MIT");
    }
}
