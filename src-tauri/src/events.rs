//! Client events to the web UI, and desktop notifications (decided by the
//! client core's [`Notifier`]; shown and withdrawn here).

use leetchat_client::notify::{Action, Notifier, Seen};
use leetchat_client::{Client, ClientEvent};
use leetchat_protocol::time::now_ms;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::shell::Shell;

/// The Tauri event carrying every `ClientEvent`.
pub const CLIENT_EVENT: &str = "client-event";

/// Forwards the client's events to the UI until the client goes away, and
/// shows and withdraws the desktop notifications its [`Notifier`] decides.
pub fn forward(app: AppHandle, client: Client) {
    let mut rx = client.events();
    let me = client.me().map(|m| m.user_id).unwrap_or_default();
    tauri::async_runtime::spawn(async move {
        let mut notifier = Notifier::new(&me);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tokio::select! {
                received = rx.recv() => match received {
                    Ok(event) => {
                        let actions = decide(&app, &client, &mut notifier, &event);
                        perform(&app, actions);
                        let _ = app.emit(CLIENT_EVENT, &event);
                    }
                    // The UI fell behind: a `synced` makes it re-read the store.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let _ = app.emit(CLIENT_EVENT, &ClientEvent::Synced);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        perform(&app, notifier.clear());
                        return;
                    }
                },
                _ = tick.tick() => perform(&app, notifier.due(now_ms())),
            }
        }
    });
}

/// What one event means for the notifications: the room as stored, and
/// whether the user is looking at it (focused window, that room open).
fn decide(
    app: &AppHandle,
    client: &Client,
    notifier: &mut Notifier,
    event: &ClientEvent,
) -> Vec<Action> {
    let room_id = match event {
        ClientEvent::MessageUpserted { message, .. } => Some(message.room_id.as_str()),
        ClientEvent::Receipt { room_id, .. } | ClientEvent::RoomRemoved { room_id } => {
            Some(room_id.as_str())
        }
        ClientEvent::RoomUpdated { room } => Some(room.room_id.as_str()),
        _ => None,
    };
    let Some(room_id) = room_id else {
        return Vec::new();
    };
    let room = client.room(room_id).ok().flatten();
    if matches!(event, ClientEvent::MessageUpserted { .. })
        && let Ok(blocked) = client.blocked()
    {
        notifier.set_blocked(blocked);
    }
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    let seen = if focused && app.state::<Shell>().active_room().as_deref() == Some(room_id) {
        Seen::Open
    } else {
        Seen::Elsewhere
    };
    notifier.on_event(event, room.as_ref(), seen, now_ms())
}

/// Shows and withdraws notifications. A room's notification keeps its id,
/// so a new one replaces it; its room id comes back with a click (see
/// `attention`).
fn perform(app: &AppHandle, actions: Vec<Action>) {
    for action in actions {
        match action {
            Action::Show(n) => {
                let shown = app
                    .notification()
                    .builder()
                    .id(n.id)
                    .title(n.title)
                    .body(n.body)
                    .extra("roomId", &n.room_id)
                    .show();
                if let Err(e) = shown {
                    tracing::warn!(error = %e, "notification failed");
                }
            }
            Action::Withdraw { id, .. } => {
                if let Err(e) = app.notification().remove_active(vec![id]) {
                    tracing::warn!(error = %e, "withdrawing a notification failed");
                }
            }
        }
    }
}

/// Shows, replaces or withdraws a room's notification for a push (see
/// `commands::push_received`).
pub fn show_push(app: &AppHandle, notice: leetchat_client::push::PushNotice) {
    use leetchat_client::push::PushNotice;
    let action = match notice {
        PushNotice::Show {
            id,
            room_id,
            title,
            body,
            ..
        } => Action::Show(leetchat_client::notify::Notice {
            id,
            room_id,
            title,
            body,
            count: 1,
        }),
        PushNotice::Withdraw { id, room_id, .. } => Action::Withdraw { id, room_id },
    };
    perform(app, vec![action]);
}
