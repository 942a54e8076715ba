//! Reactions and pins in the store: events and snapshots in any order end
//! the same; offline changes queue, and toggling back withdraws them.

use leetchat_protocol::events::{PinsAck, ReactionsAck};
use leetchat_protocol::{Member, Message, MessageType, Reaction, Role, Room, RoomType};

use crate::store::Store;
use crate::store::outbox::{OutboxKind, Payload};
use crate::views::ReactionView;

const ME: &str = "me";

fn room(pins: &[&str], my_role: Role) -> Room {
    Room {
        room_id: "r".into(),
        room_type: RoomType::Group,
        name: "r".into(),
        description: String::new(),
        is_private: false,
        created_by: ME.into(),
        created_at: "2025-01-01T00:00:00.000Z".into(),
        last_seq: 1,
        members: vec![Member {
            user_id: ME.into(),
            role: my_role,
            joined_at: "2025-01-01T00:00:00.000Z".into(),
            user_name: None,
            display_name: None,
            avatar_url: None,
            last_read_seq: None,
        }],
        pinned_message_ids: pins.iter().map(|p| (*p).to_owned()).collect(),
    }
}

fn message(id: &str, seq: i64, reactions: Vec<Reaction>) -> Message {
    Message {
        message_id: id.into(),
        room_id: "r".into(),
        seq,
        sender_id: "other".into(),
        temp_id: None,
        message_type: MessageType::Text,
        content: format!("text of {id}"),
        attachments: vec![],
        reply_to: None,
        reply_preview: None,
        reactions,
        mentions: vec![],
        mentions_room: false,
        link_preview: None,
        created_at: "2025-01-01T00:00:01.000Z".into(),
        edited_at: None,
        deleted_at: None,
    }
}

fn reaction(emoji: &str, users: &[&str]) -> Reaction {
    Reaction {
        emoji: emoji.into(),
        count: users.len() as i64,
        user_ids: users.iter().map(|u| (*u).to_owned()).collect(),
    }
}

fn store() -> Store {
    let s = Store::in_memory().expect("store");
    s.set_meta("user_id", ME).expect("meta");
    s.apply_room(&room(&[], Role::Owner)).expect("room");
    s
}

/// (emoji, count, mine) of the stored message `id`.
fn shown(s: &Store, id: &str) -> Vec<(String, i64, bool)> {
    let m = s.message_by_key(id).expect("message");
    m.reactions
        .iter()
        .map(|r: &ReactionView| (r.emoji.clone(), r.count, r.mine))
        .collect()
}

type Step = (&'static str, &'static str, i64, bool);

/// Applies reaction events (user, emoji, seq, added) in the given order.
fn apply(s: &Store, steps: &[Step]) {
    for (user, emoji, seq, added) in steps {
        s.apply_reaction("m1", user, emoji, *seq, *added)
            .expect("apply");
    }
}

#[test]
fn reaction_events_in_any_order_and_twice_end_the_same() {
    let steps: [Step; 5] = [
        ("bob", "👍", 2, true),
        ("carol", "👍", 3, true),
        ("bob", "🎉", 4, true),
        ("bob", "👍", 5, false),
        ("bob", "👍", 6, true),
    ];
    let expected = vec![("👍".to_owned(), 2, false), ("🎉".to_owned(), 1, false)];
    // Every rotation and the reverse, each applied twice (a push, then sync).
    let mut orders: Vec<Vec<Step>> = (0..steps.len())
        .map(|k| {
            let mut v = steps.to_vec();
            v.rotate_left(k);
            v
        })
        .collect();
    orders.push(steps.iter().rev().copied().collect());
    for order in orders {
        let s = store();
        s.apply_message(&message("m1", 1, vec![])).expect("message");
        apply(&s, &order);
        apply(&s, &order);
        let mut got = shown(&s, "m1");
        got.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(got, want, "order {order:?}");
    }
}

#[test]
fn a_page_read_between_events_changes_nothing_they_decided() {
    let s = store();
    s.apply_message(&message("m1", 1, vec![])).expect("message");
    // Bob took his 👍 back at seq 5; a page read before that still lists it.
    apply(&s, &[("bob", "👍", 5, false)]);
    s.apply_message(&message("m1", 1, vec![reaction("👍", &["bob", "carol"])]))
        .expect("page");
    assert_eq!(shown(&s, "m1"), [("👍".to_owned(), 1, false)]);
    // A newer page without carol's: hers came from a snapshot, so it goes.
    s.apply_message(&message("m1", 1, vec![])).expect("page");
    assert!(shown(&s, "m1").is_empty());
}

#[test]
fn a_reaction_made_offline_and_taken_back_sends_nothing() {
    let s = store();
    s.apply_message(&message("m1", 1, vec![])).expect("message");
    let m = s.enqueue_reaction(ME, "m1", "👍", true).expect("react");
    assert_eq!(
        m.reactions
            .iter()
            .map(|r| (r.mine, r.pending))
            .collect::<Vec<_>>(),
        [(true, true)],
        "shown at once, as pending"
    );
    assert_eq!(s.outbox_len().expect("len"), 1);
    let m = s.enqueue_reaction(ME, "m1", "👍", false).expect("unreact");
    assert!(m.reactions.is_empty());
    assert_eq!(s.outbox_len().expect("len"), 0, "the two cancel out");
    // Reacting twice queues once.
    s.enqueue_reaction(ME, "m1", "🎉", true).expect("react");
    s.enqueue_reaction(ME, "m1", "🎉", true).expect("react");
    assert_eq!(s.outbox_len().expect("len"), 1);
    // Once tried (it may be on the wire), taking it back queues a remove.
    let item = s.outbox_take(i64::MAX).expect("take").expect("item");
    assert_eq!(item.kind(), OutboxKind::React);
    s.enqueue_reaction(ME, "m1", "🎉", false).expect("unreact");
    assert_eq!(s.outbox_len().expect("len"), 2);
    // Bad emoji are refused before anything is queued.
    assert!(s.enqueue_reaction(ME, "m1", "a b", true).is_err());
    assert_eq!(s.outbox_len().expect("len"), 2);
}

#[test]
fn an_ack_settles_the_users_reaction_and_a_refusal_undoes_it() {
    let s = store();
    s.apply_message(&message("m1", 1, vec![reaction("👍", &["bob"])]))
        .expect("message");
    s.enqueue_reaction(ME, "m1", "👍", true).expect("react");
    let item = s.outbox_take(i64::MAX).expect("take").expect("item");
    let ack = ReactionsAck {
        message_id: "m1".into(),
        reactions: vec![reaction("👍", &["bob", ME])],
        seq: Some(2),
    };
    s.reaction_acked(ME, &item, &ack).expect("acked");
    s.outbox_done(item.id).expect("done");
    assert_eq!(shown(&s, "m1"), [("👍".to_owned(), 2, true)]);
    // Replayed by sync later: nothing changes.
    apply(&s, &[(ME, "👍", 2, true)]);
    assert_eq!(shown(&s, "m1"), [("👍".to_owned(), 2, true)]);

    s.enqueue_reaction(ME, "m1", "🎉", true).expect("react");
    let item = s.outbox_take(i64::MAX).expect("take").expect("item");
    s.outbox_fail(&item, "refused").expect("fail");
    assert_eq!(shown(&s, "m1"), [("👍".to_owned(), 2, true)], "undone");
}

#[test]
fn pins_from_rooms_events_and_the_outbox_agree() {
    let s = store();
    for (i, id) in ["m1", "m2", "m3"].iter().enumerate() {
        s.apply_message(&message(id, i as i64 + 1, vec![]))
            .expect("message");
    }
    s.apply_room(&room(&["m2", "m1"], Role::Owner))
        .expect("room");
    let pins = |s: &Store| {
        s.room("r", ME)
            .expect("room")
            .expect("stored")
            .pinned_message_ids
    };
    assert_eq!(pins(&s), ["m2", "m1"]);
    // Unpinned at 9, then the pin at 7 replayed: still unpinned.
    s.apply_pin("r", "m1", 9, false).expect("unpin");
    s.apply_pin("r", "m1", 7, true).expect("replay");
    assert_eq!(pins(&s), ["m2"]);
    // Pinned offline, unpinned again before sending: nothing queued.
    s.enqueue_pin(ME, "m3", true).expect("pin");
    assert_eq!(pins(&s), ["m3", "m2"]);
    s.enqueue_pin(ME, "m3", false).expect("unpin");
    assert_eq!(s.outbox_len().expect("len"), 0);
    assert_eq!(pins(&s), ["m2"]);
    // Queued, tried and acked.
    s.enqueue_pin(ME, "m3", true).expect("pin");
    let item = s.outbox_take(i64::MAX).expect("take").expect("item");
    assert!(matches!(item.payload, Payload::Pin(ref p) if p.pin));
    s.pin_acked(
        &item,
        &PinsAck {
            room_id: "r".into(),
            pinned_message_ids: vec!["m3".into(), "m2".into()],
            seq: Some(10),
        },
    )
    .expect("acked");
    assert_eq!(pins(&s), ["m3", "m2"]);
    // A plain member of a group is told at once, nothing is queued.
    s.outbox_done(item.id).expect("done");
    s.apply_room(&room(&["m3", "m2"], Role::Member))
        .expect("room");
    assert!(s.enqueue_pin(ME, "m1", true).is_err());
    assert_eq!(s.outbox_len().expect("len"), 0);
}

fn preview(title: &str) -> leetchat_protocol::LinkPreview {
    leetchat_protocol::LinkPreview {
        url: "https://example.com/".into(),
        title: Some(title.into()),
        description: None,
        site_name: None,
        image: None,
    }
}

fn preview_title(s: &Store, id: &str) -> Option<String> {
    s.message_by_key(id)
        .expect("message")
        .link_preview
        .and_then(|p| p.title)
}

#[test]
fn a_link_preview_is_not_undone_by_a_copy_read_before_it() {
    let s = store();
    // The message as pushed, then its preview event, then a history page
    // that was read before the preview existed: the preview stays.
    let m = message("m1", 2, vec![]);
    s.apply_message(&m).expect("push");
    s.apply_link_preview("m1", Some(&preview("Docs")))
        .expect("event");
    s.apply_message(&m).expect("stale page");
    assert_eq!(preview_title(&s, "m1").as_deref(), Some("Docs"));
    // A copy that carries it (from the cache) sets it too, in any order.
    let mut with = message("m2", 3, vec![]);
    with.link_preview = Some(preview("Cached"));
    s.apply_message(&with).expect("with preview");
    s.apply_message(&message("m2", 3, vec![]))
        .expect("older copy");
    assert_eq!(preview_title(&s, "m2").as_deref(), Some("Cached"));
}

#[test]
fn an_edit_or_a_replayed_event_without_preview_takes_it_away_and_a_delete_too() {
    let s = store();
    let mut m = message("m1", 2, vec![]);
    s.apply_message(&m).expect("push");
    s.apply_link_preview("m1", Some(&preview("Docs")))
        .expect("event");
    // The edit changed the link: no preview until the next event.
    m.content = "edited".into();
    m.edited_at = Some("2025-01-01T00:00:05.000Z".into());
    s.apply_message(&m).expect("edit");
    assert_eq!(preview_title(&s, "m1"), None);
    s.apply_link_preview("m1", Some(&preview("New")))
        .expect("event");
    assert_eq!(preview_title(&s, "m1").as_deref(), Some("New"));
    // Sync replays an old preview event as the message is now: none.
    s.apply_link_preview("m1", None).expect("replayed");
    assert_eq!(preview_title(&s, "m1"), None);
    s.apply_link_preview("m1", Some(&preview("Again")))
        .expect("event");
    s.apply_deleted("m1", "2025-01-01T00:00:09.000Z")
        .expect("delete");
    assert_eq!(preview_title(&s, "m1"), None);
    // An event for a deleted or unknown message changes nothing.
    s.apply_link_preview("m1", Some(&preview("Late")))
        .expect("late");
    assert_eq!(preview_title(&s, "m1"), None);
    assert!(
        s.apply_link_preview("nope", Some(&preview("x")))
            .expect("unknown")
            .is_none()
    );
}
