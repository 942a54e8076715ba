//! Getting the user back to the chat: a click on a desktop notification opens
//! its room, and the total of unread messages shows on the window.
//!
//! - Click: each notification carries its room id (`extra.roomId`). The
//!   notification plugin reports a click on the notification itself as the
//!   action `tap` where the platform tells it (Linux and the BSDs: servers of
//!   the Desktop Notifications Specification that support the `default`
//!   action, such as GNOME Shell, KDE Plasma and dunst; Windows: while the toast
//!   is on screen; macOS). The shell then raises the window and emits
//!   [`OPEN_ROOM`] for the UI to open the room. Where the server reports no
//!   click (e.g. xfce4-notifyd, or a notification moved to the Windows Action
//!   Center), clicking does only what the server itself does.
//! - Unread: the UI sends the total with `set_unread`. The window title
//!   becomes "(3) LeetChat" everywhere; where the platform has a badge
//!   (macOS dock; Linux docks and taskbars that implement the Unity
//!   `LauncherEntry` API for the app's `.desktop` file, such as KDE Plasma and
//!   Ubuntu's dock; iOS) the count shows there too. Windows has no count badge
//!   (Tauri offers only an overlay icon there), so the title is all it gets.

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::ActionPerformed;

/// The Tauri event telling the UI to open a room (its payload: [`OpenRoom`]).
pub const OPEN_ROOM: &str = "open-room";

/// The app's name in the window title.
const TITLE: &str = "LeetChat";

/// Payload of [`OPEN_ROOM`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OpenRoom {
    /// The room to open.
    pub room_id: String,
}

/// The room a notification action should open: a click on the notification
/// itself (`tap`) that carries a room id. Other actions open nothing.
pub fn room_to_open(action: &ActionPerformed) -> Option<String> {
    if action.action_id() != "tap" {
        return None;
    }
    action
        .notification()?
        .extra()
        .get("roomId")?
        .as_str()
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// Listens for clicks on the app's notifications (desktop and mobile).
pub fn listen_for_clicks(app: &AppHandle) {
    use tauri_plugin_notification::NotificationExt;
    let handle = app.clone();
    let registered = app.notification().on_action(move |action| {
        let room = room_to_open(action);
        tracing::debug!(action = action.action_id(), ?room, "notification action");
        if let Some(room_id) = room {
            open_room(&handle, room_id);
        }
    });
    if let Err(e) = registered {
        tracing::warn!(error = %e, "notification clicks will not open rooms");
    }
}

/// Raises the window and asks the UI to open `room_id`.
fn open_room(app: &AppHandle, room_id: String) {
    raise(app);
    let _ = app.emit(OPEN_ROOM, OpenRoom { room_id });
}

/// Brings the window to the front (a notification clicked, the app started
/// again while it runs).
pub fn raise(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        #[cfg(desktop)]
        {
            let _ = w.unminimize();
            let _ = w.show();
        }
        let _ = w.set_focus();
    }
}

/// The window title for `unread` unread messages.
pub fn unread_title(unread: u32) -> String {
    match unread {
        0 => TITLE.to_owned(),
        1..=999 => format!("({unread}) {TITLE}"),
        _ => format!("(999+) {TITLE}"),
    }
}

/// Shows the total of unread messages on the window: its title, and its
/// badge where the platform has one.
pub fn show_unread(app: &AppHandle, unread: u32) {
    let Some(w) = app.get_webview_window("main") else {
        return;
    };
    #[cfg(desktop)]
    if let Err(e) = w.set_title(&unread_title(unread)) {
        tracing::debug!(error = %e, "could not set the window title");
    }
    #[cfg(not(any(windows, target_os = "android")))]
    if let Err(e) = w.set_badge_count((unread > 0).then_some(i64::from(unread))) {
        tracing::debug!(error = %e, "could not set the badge count");
    }
    // Android has neither a window title nor a badge count to set.
    #[cfg(any(windows, target_os = "android"))]
    let _ = (w, unread);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(json: serde_json::Value) -> ActionPerformed {
        serde_json::from_value(json).expect("an ActionPerformed")
    }

    /// What the plugin reports for a click, with the data the shell gave the notification.
    fn click(action_id: &str, extra: serde_json::Value) -> ActionPerformed {
        action(serde_json::json!({
            "actionId": action_id,
            "inputValue": null,
            "notification": { "id": 7, "title": "bob", "body": "hi", "extra": extra },
        }))
    }

    #[test]
    fn a_click_on_the_notification_opens_its_room() {
        assert_eq!(
            room_to_open(&click("tap", serde_json::json!({"roomId": "r1"}))),
            Some("r1".to_owned())
        );
    }

    #[test]
    fn other_actions_and_notifications_without_a_room_open_nothing() {
        assert_eq!(
            room_to_open(&click("dismiss", serde_json::json!({"roomId": "r1"}))),
            None
        );
        assert_eq!(room_to_open(&click("tap", serde_json::json!({}))), None);
        assert_eq!(
            room_to_open(&click("tap", serde_json::json!({"roomId": ""}))),
            None
        );
        assert_eq!(
            room_to_open(&click("tap", serde_json::json!({"roomId": 5}))),
            None
        );
        assert_eq!(
            room_to_open(&action(serde_json::json!({"actionId": "tap"}))),
            None
        );
    }

    #[test]
    fn the_title_counts_unread_messages() {
        assert_eq!(unread_title(0), "LeetChat");
        assert_eq!(unread_title(1), "(1) LeetChat");
        assert_eq!(unread_title(42), "(42) LeetChat");
        assert_eq!(unread_title(999), "(999) LeetChat");
        assert_eq!(unread_title(1000), "(999+) LeetChat");
    }
}
