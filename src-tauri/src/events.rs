//! Client events to the web UI, and desktop notifications.

use leetchat_client::{
    Client, ClientEvent, Delivery, MessageChange, MessageView, Origin, RoomCounts,
};
use leetchat_protocol::time::{now_ms, parse_rfc3339};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::shell::Shell;

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

/// Whether a message change is news worth a notification: a new message
/// from someone else, pushed live, or caught up after a short gap and still
/// unread (a long catch-up, or history being filled in, stays quiet).
fn is_news(
    me: &str,
    message: &MessageView,
    change: MessageChange,
    origin: Origin,
    room: &RoomCounts,
    now: i64,
) -> bool {
    if change != MessageChange::New
        || message.sender_id == me
        || message.delivery != Delivery::Sent
        || message.deleted_at.is_some()
    {
        return false;
    }
    match origin {
        Origin::Live => true,
        Origin::Sync => {
            let unread = message.seq.is_some_and(|s| s > room.my_read_seq);
            let recent = parse_rfc3339(&message.created_at).is_some_and(|t| now - t < 60_000);
            unread && recent
        }
        Origin::Local | Origin::Acked | Origin::History => false,
    }
}

/// A desktop notification for news (see [`is_news`]), when the window is
/// unfocused or shows another room.
fn notify_if_unseen(app: &AppHandle, client: &Client, me: &str, event: &ClientEvent) {
    let ClientEvent::MessageUpserted {
        message,
        change,
        origin,
        room,
    } = event
    else {
        return;
    };
    if !is_news(me, message, *change, *origin, room, now_ms()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(sender: &str, seq: i64, created_at: &str) -> MessageView {
        MessageView {
            local_id: 1,
            message_id: Some("m".into()),
            room_id: "r".into(),
            seq: Some(seq),
            sender_id: sender.into(),
            temp_id: None,
            message_type: "text".into(),
            content: "hi".into(),
            attachments: vec![],
            reply_to: None,
            reply_preview: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            mentions_room: false,
            link_preview: None,
            created_at: created_at.into(),
            edited_at: None,
            deleted_at: None,
            delivery: Delivery::Sent,
            error: None,
        }
    }

    fn counts(my_read_seq: i64) -> RoomCounts {
        RoomCounts {
            room_id: "r".into(),
            last_seq: 10,
            my_read_seq,
            unread_count: 0,
            mention_count: 0,
            last_message: None,
        }
    }

    const NOW: i64 = 1_763_548_200_000; // 2025-11-19T10:30:00Z

    #[test]
    fn live_messages_from_others_are_news_and_own_or_changed_ones_are_not() {
        let m = message("u_b", 5, "2025-11-19T10:30:00.000Z");
        let read = counts(0);
        assert!(is_news(
            "u_me",
            &m,
            MessageChange::New,
            Origin::Live,
            &read,
            NOW
        ));
        assert!(!is_news(
            "u_b",
            &m,
            MessageChange::New,
            Origin::Live,
            &read,
            NOW
        ));
        assert!(!is_news(
            "u_me",
            &m,
            MessageChange::Edited,
            Origin::Live,
            &read,
            NOW
        ));
        assert!(!is_news(
            "u_me",
            &m,
            MessageChange::New,
            Origin::History,
            &read,
            NOW
        ));
        assert!(!is_news(
            "u_me",
            &m,
            MessageChange::New,
            Origin::Acked,
            &read,
            NOW
        ));
        let mut gone = m.clone();
        gone.deleted_at = Some("2025-11-19T10:30:01.000Z".into());
        assert!(!is_news(
            "u_me",
            &gone,
            MessageChange::New,
            Origin::Live,
            &read,
            NOW
        ));
    }

    #[test]
    fn caught_up_messages_are_news_only_when_unread_and_recent() {
        let m = message("u_b", 5, "2025-11-19T10:29:30.000Z");
        assert!(is_news(
            "u_me",
            &m,
            MessageChange::New,
            Origin::Sync,
            &counts(4),
            NOW
        ));
        assert!(
            !is_news(
                "u_me",
                &m,
                MessageChange::New,
                Origin::Sync,
                &counts(5),
                NOW
            ),
            "read elsewhere"
        );
        let old = message("u_b", 5, "2025-11-19T09:00:00.000Z");
        assert!(
            !is_news(
                "u_me",
                &old,
                MessageChange::New,
                Origin::Sync,
                &counts(0),
                NOW
            ),
            "a long gap stays quiet"
        );
    }
}
