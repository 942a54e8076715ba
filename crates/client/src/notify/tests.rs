//! The notification rule: news, levels and mutes, grouping per room, the
//! once-a-second limit, and withdrawal when read on any device.

use leetchat_protocol::events::NotifyLevel;

use super::*;
use crate::views::{MemberView, RoomCounts};

const ME: &str = "u_me";
const NOW: i64 = 1_763_548_200_000; // 2025-11-19T10:30:00Z
const NOW_TEXT: &str = "2025-11-19T10:30:00.000Z";

fn message(sender: &str, seq: i64, created_at: &str) -> MessageView {
    MessageView {
        local_id: seq,
        message_id: Some(format!("m{seq}")),
        room_id: "r".into(),
        seq: Some(seq),
        sender_id: sender.into(),
        temp_id: None,
        message_type: "text".into(),
        content: format!("**hello** {seq}"),
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
        waiting: None,
        retry_at: None,
        island: false,
    }
}

fn member(id: &str, name: &str) -> MemberView {
    MemberView {
        user_id: id.into(),
        user_name: name.to_lowercase(),
        display_name: name.into(),
        role: "member".into(),
        last_read_seq: 0,
        status: None,
        last_seen: None,
        avatar_url: None,
    }
}

fn room(level: NotifyLevel, mute_until: Option<&str>) -> RoomView {
    RoomView {
        room_id: "r".into(),
        room_type: "group".into(),
        name: "team".into(),
        description: String::new(),
        members: vec![member(ME, "Me"), member("u_b", "Bob")],
        last_seq: 10,
        unread_count: 0,
        my_read_seq: 0,
        last_message: None,
        has_older: false,
        mention_count: 0,
        pinned_message_ids: vec![],
        notify_level: level,
        mute_until: mute_until.map(str::to_owned),
        notify_follows_default: false,
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

fn new(m: MessageView, origin: Origin, read: i64) -> ClientEvent {
    ClientEvent::MessageUpserted {
        message: m,
        change: MessageChange::New,
        origin,
        room: counts(read),
    }
}

fn shown(actions: &[Action]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Show(n) => Some((n.title.clone(), n.body.clone())),
            Action::Withdraw { .. } => None,
        })
        .collect()
}

#[test]
fn live_messages_from_others_notify_and_own_changed_or_deleted_ones_do_not() {
    let r = room(NotifyLevel::All, None);
    let mut n = Notifier::new(ME);
    let a = n.on_event(
        &new(message("u_b", 5, NOW_TEXT), Origin::Live, 0),
        Some(&r),
        Seen::Elsewhere,
        NOW,
    );
    assert_eq!(shown(&a), vec![("Bob in team".into(), "hello 5".into())]);
    let mut n = Notifier::new(ME);
    for ev in [
        new(message(ME, 5, NOW_TEXT), Origin::Live, 0),
        ClientEvent::MessageUpserted {
            message: message("u_b", 5, NOW_TEXT),
            change: MessageChange::Edited,
            origin: Origin::Live,
            room: counts(0),
        },
        new(message("u_b", 5, NOW_TEXT), Origin::History, 0),
        new(message("u_b", 5, NOW_TEXT), Origin::Acked, 0),
        new(
            MessageView {
                deleted_at: Some(NOW_TEXT.into()),
                ..message("u_b", 5, NOW_TEXT)
            },
            Origin::Live,
            0,
        ),
    ] {
        assert!(
            n.on_event(&ev, Some(&r), Seen::Elsewhere, NOW).is_empty(),
            "{ev:?}"
        );
    }
    // Nor when the room is open in the focused window.
    let a = n.on_event(
        &new(message("u_b", 6, NOW_TEXT), Origin::Live, 0),
        Some(&r),
        Seen::Open,
        NOW,
    );
    assert!(a.is_empty());
}

#[test]
fn caught_up_messages_notify_only_when_unread_and_recent() {
    let r = room(NotifyLevel::All, None);
    let recent = "2025-11-19T10:29:30.000Z";
    let mut n = Notifier::new(ME);
    assert_eq!(
        shown(&n.on_event(
            &new(message("u_b", 5, recent), Origin::Sync, 4),
            Some(&r),
            Seen::Elsewhere,
            NOW
        ))
        .len(),
        1
    );
    let mut n = Notifier::new(ME);
    assert!(
        n.on_event(
            &new(message("u_b", 5, recent), Origin::Sync, 5),
            Some(&r),
            Seen::Elsewhere,
            NOW
        )
        .is_empty(),
        "read elsewhere"
    );
    assert!(
        n.on_event(
            &new(
                message("u_b", 5, "2025-11-19T09:00:00.000Z"),
                Origin::Sync,
                0
            ),
            Some(&r),
            Seen::Elsewhere,
            NOW
        )
        .is_empty(),
        "a long gap stays quiet"
    );
}

#[test]
fn levels_and_mutes_decide() {
    let mention = MessageView {
        mentions: vec![ME.into()],
        ..message("u_b", 6, NOW_TEXT)
    };
    let plain = message("u_b", 7, NOW_TEXT);
    let ev = |m: &MessageView| new(m.clone(), Origin::Live, 0);
    let cases = [
        (room(NotifyLevel::Mentions, None), true, false),
        (room(NotifyLevel::None, None), false, false),
        (
            room(NotifyLevel::All, Some("2025-11-19T11:00:00.000Z")),
            false,
            false,
        ),
        (
            room(NotifyLevel::All, Some("2025-11-19T10:00:00.000Z")),
            true,
            true,
        ),
    ];
    for (r, mentions, plains) in cases {
        let mut n = Notifier::new(ME);
        assert_eq!(
            !n.on_event(&ev(&mention), Some(&r), Seen::Elsewhere, NOW)
                .is_empty(),
            mentions,
            "{r:?}"
        );
        let mut n = Notifier::new(ME);
        assert_eq!(
            !n.on_event(&ev(&plain), Some(&r), Seen::Elsewhere, NOW)
                .is_empty(),
            plains,
            "{r:?}"
        );
    }
    // @room counts as a mention.
    let mut n = Notifier::new(ME);
    let all = MessageView {
        mentions_room: true,
        ..message("u_b", 8, NOW_TEXT)
    };
    assert_eq!(
        n.on_event(
            &ev(&all),
            Some(&room(NotifyLevel::Mentions, None)),
            Seen::Elsewhere,
            NOW
        )
        .len(),
        1
    );
}

#[test]
fn a_burst_is_one_notification_per_room_updated_at_most_once_a_second() {
    let r = room(NotifyLevel::All, None);
    let mut n = Notifier::new(ME);
    let mut shows = 0;
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..1_400 {
        let t = NOW + i; // 1,400 messages in 1.4 s
        for a in n.on_event(
            &new(message("u_b", i + 1, NOW_TEXT), Origin::Live, 0),
            Some(&r),
            Seen::Elsewhere,
            t,
        ) {
            if let Action::Show(s) = a {
                shows += 1;
                ids.insert(s.id);
            }
        }
    }
    assert_eq!(shows, 2, "the first, then one a second");
    assert_eq!(ids.len(), 1, "one notification, replaced");
    // When the burst ends, the last state is shown.
    let last = n.due(NOW + 2_500);
    assert_eq!(
        shown(&last),
        vec![(
            "Bob in team".into(),
            "1400 new messages · hello 1400".into()
        )]
    );
    assert!(n.due(NOW + 5_000).is_empty());
}

#[test]
fn reading_on_any_device_withdraws_it_and_only_what_it_covers() {
    let r = room(NotifyLevel::All, None);
    let mut n = Notifier::new(ME);
    n.on_event(
        &new(message("u_b", 5, NOW_TEXT), Origin::Live, 0),
        Some(&r),
        Seen::Elsewhere,
        NOW,
    );
    n.on_event(
        &new(message("u_b", 6, NOW_TEXT), Origin::Live, 0),
        Some(&r),
        Seen::Elsewhere,
        NOW + 2_000,
    );
    // Read up to 5 (another device): 6 still stands.
    let a = n.on_event(
        &ClientEvent::Receipt {
            room_id: "r".into(),
            user_id: ME.into(),
            seq: 5,
            room: counts(5),
        },
        Some(&r),
        Seen::Elsewhere,
        NOW + 3_000,
    );
    assert!(a.is_empty());
    // Someone else's receipt changes nothing.
    let bob_read = ClientEvent::Receipt {
        room_id: "r".into(),
        user_id: "u_b".into(),
        seq: 6,
        room: counts(5),
    };
    assert!(
        n.on_event(&bob_read, Some(&r), Seen::Elsewhere, NOW + 3_000)
            .is_empty()
    );
    let a = n.on_event(
        &ClientEvent::Receipt {
            room_id: "r".into(),
            user_id: ME.into(),
            seq: 6,
            room: counts(6),
        },
        Some(&r),
        Seen::Elsewhere,
        NOW + 4_000,
    );
    assert_eq!(
        a,
        vec![Action::Withdraw {
            id: notification_id("r"),
            room_id: "r".into()
        }]
    );
    // Leaving the room withdraws it too; nothing left to withdraw after.
    n.on_event(
        &new(message("u_b", 7, NOW_TEXT), Origin::Live, 6),
        Some(&r),
        Seen::Elsewhere,
        NOW + 5_000,
    );
    assert_eq!(
        n.on_event(
            &ClientEvent::RoomRemoved {
                room_id: "r".into()
            },
            None,
            Seen::Elsewhere,
            NOW + 6_000
        )
        .len(),
        1
    );
    assert!(n.clear().is_empty());
}

#[test]
fn messages_from_someone_the_user_blocked_never_notify_and_do_again_once_unblocked() {
    let r = room(NotifyLevel::All, None);
    let mut n = Notifier::new(ME);
    n.set_blocked(["u_b".to_owned()].into_iter().collect());
    let mentioned = MessageView {
        mentions_room: true,
        ..message("u_b", 5, NOW_TEXT)
    };
    let a = n.on_event(
        &new(mentioned, Origin::Live, 0),
        Some(&r),
        Seen::Elsewhere,
        NOW,
    );
    assert!(shown(&a).is_empty(), "blocked, even when mentioning: {a:?}");
    n.set_blocked(Default::default());
    let a = n.on_event(
        &new(message("u_b", 6, NOW_TEXT), Origin::Live, 0),
        Some(&r),
        Seen::Elsewhere,
        NOW,
    );
    assert_eq!(shown(&a), vec![("Bob in team".into(), "hello 6".into())]);
}
