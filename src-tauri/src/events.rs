//! Client events to the web UI, and desktop notifications.

use leetchat_client::{Client, ClientEvent, Delivery};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::commands::Shell;

/// The Tauri event carrying every `ClientEvent`.
pub const CLIENT_EVENT: &str = "client-event";

/// Forwards the client's events to the UI until the client goes away.
pub fn forward(app: AppHandle, client: Client) {
    let mut rx = client.events();
    let me = client.me().map(|m| m.user_id).unwrap_or_default();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    notify_if_unseen(&app, &client, &me, &event);
                    let _ = app.emit(CLIENT_EVENT, &event);
                }
                // The UI fell behind: a `synced` makes it re-read the store.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let _ = app.emit(CLIENT_EVENT, &ClientEvent::Synced);
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// A desktop notification for a new message from someone else, when the
/// window is unfocused or shows another room.
fn notify_if_unseen(app: &AppHandle, client: &Client, me: &str, event: &ClientEvent) {
    let ClientEvent::MessageUpserted { message } = event else {
        return;
    };
    if message.sender_id == me
        || message.delivery != Delivery::Sent
        || message.deleted_at.is_some()
        || message.edited_at.is_some()
    {
        return;
    }
    // Only fresh arrivals, not history being filled in.
    let fresh = wire_time_ms(&message.created_at).is_some_and(|t| now_ms() - t < 60_000);
    if !fresh {
        return;
    }
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    let shell = app.state::<Shell>();
    if focused && shell.active_room().as_deref() == Some(message.room_id.as_str()) {
        return;
    }
    let room = client.room(&message.room_id).ok().flatten();
    let sender = room
        .as_ref()
        .and_then(|r| r.members.iter().find(|m| m.user_id == message.sender_id))
        .map(|m| {
            if m.display_name.is_empty() {
                m.user_name.clone()
            } else {
                m.display_name.clone()
            }
        })
        .unwrap_or_else(|| "New message".to_owned());
    let title = match &room {
        Some(r) if r.room_type == "group" => format!("{sender} in {}", r.name),
        _ => sender,
    };
    let body = if message.content.is_empty() {
        format!("sent a {}", message.message_type)
    } else {
        message.content.chars().take(200).collect()
    };
    // The room id comes back with a click on it (see `attention`).
    let shown = app
        .notification()
        .builder()
        .id(next_notification_id())
        .title(title)
        .body(body)
        .extra("roomId", &message.room_id)
        .show();
    if let Err(e) = shown {
        tracing::warn!(error = %e, "notification failed");
    }
}

/// A fresh id for each notification, so one never replaces another.
fn next_notification_id() -> i32 {
    static NEXT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Unix ms of an RFC 3339 time.
fn wire_time_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_times_parse_to_unix_ms() {
        assert_eq!(wire_time_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            wire_time_ms("2025-11-19T10:30:00.123Z"),
            Some(1_763_548_200_123)
        );
        assert_eq!(wire_time_ms("garbage"), None);
    }
}
