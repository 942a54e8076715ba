//! The engine driven with frames written by hand: no server, no socket.
//!
//! Each test plays the server: it takes the engine's next step, checks the
//! frame asked for, and answers with the frame the server would send.

use std::sync::Arc;

use leetchat_protocol::{ClientFrame, MessageType};
use serde_json::{Value, json};

use super::{Engine, Received, Step};
use crate::error::Error;
use crate::store::Store;
use crate::store::outbox::Draft;
use crate::views::{ClientEvent, Delivery, MessageChange, Origin, Waiting};

const ME: &str = "u_me";
const NOW: i64 = 1_000_000;

/// The server's rate limit, asking to wait a minute.
fn slowed_for_a_minute() -> Value {
    json!({"code": "rate_limited", "message": "slow down", "retryAfterMs": 60000})
}

fn room(id: &str, last_seq: i64) -> Value {
    json!({
        "roomId": id, "type": "group", "name": id, "description": "",
        "isPrivate": false, "createdBy": ME, "createdAt": "2026-01-01T00:00:00.000Z",
        "lastSeq": last_seq,
        "members": [
            {"userId": ME, "role": "owner", "joinedAt": "2026-01-01T00:00:00.000Z"},
            {"userId": "u_b", "role": "member", "joinedAt": "2026-01-01T00:00:00.000Z"}
        ]
    })
}

fn summary(id: &str, last_seq: i64, last_read_seq: i64) -> Value {
    let mut r = room(id, last_seq);
    r["unreadCount"] = json!(0);
    r["lastReadSeq"] = json!(last_read_seq);
    r
}

fn message(room: &str, seq: i64, id: &str, sender: &str, content: &str) -> Value {
    json!({
        "messageId": id, "roomId": room, "seq": seq, "senderId": sender,
        "type": "text", "content": content, "attachments": [],
        "createdAt": "2026-01-01T00:00:01.000Z"
    })
}

fn attachment(id: &str) -> Value {
    json!({"fileId": id, "name": "a.png", "mime": "image/png", "size": 3, "url": format!("/api/files/{id}")})
}

struct Harness {
    store: Arc<Store>,
    engine: Engine,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        let store = Arc::new(Store::in_memory().expect("store"));
        let dir = tempfile::tempdir().expect("dir");
        let engine = Engine::new(store.clone(), ME, dir.path().to_owned());
        Harness {
            store,
            engine,
            _dir: dir,
        }
    }

    /// A harness whose store already knows `rooms` (id, synced seq), as after
    /// an earlier connection.
    fn with_rooms(rooms: &[(&str, i64)]) -> Harness {
        let h = Harness::new();
        for (id, seq) in rooms {
            h.store
                .apply_room(&serde_json::from_value(room(id, *seq)).expect("room"))
                .expect("apply");
            h.store.set_synced(id, *seq).expect("synced");
        }
        h
    }

    fn step(&mut self) -> Step {
        self.engine.next_step(NOW).expect("step")
    }

    /// The next step must be a request for `event`: its frame.
    fn expect_request(&mut self, event: &str) -> ClientFrame {
        match self.step() {
            Step::Send(f) if f.event == event => f,
            other => panic!("expected a {event} request, got {other:?}"),
        }
    }

    fn ack(&mut self, frame: &ClientFrame, data: Value) -> Received {
        let text = json!({"ack": frame.id, "ok": true, "data": data}).to_string();
        self.engine.on_frame(&text).expect("ack applies")
    }

    fn refuse(&mut self, frame: &ClientFrame, error: Value) -> Received {
        let text = json!({"ack": frame.id, "ok": false, "error": error}).to_string();
        self.engine.on_frame(&text).expect("refusal applies")
    }

    fn push(&mut self, event: &str, data: Value) {
        let text = json!({"event": event, "data": data}).to_string();
        self.engine.on_frame(&text).expect("push applies");
    }

    /// Answers the connect's `room.list` with `rooms`.
    fn list(&mut self, rooms: Vec<Value>) {
        let f = self.expect_request("room.list");
        self.ack(&f, json!({"rooms": rooms}));
    }

    /// Answers a `sync` with nothing missing in every room it asks about.
    fn sync_nothing(&mut self) -> Vec<String> {
        let f = self.expect_request("sync");
        let asked: Vec<String> = f.data["since"]
            .as_object()
            .expect("since")
            .keys()
            .cloned()
            .collect();
        let rooms: serde_json::Map<String, Value> = asked
            .iter()
            .map(|r| (r.clone(), json!({"events": [], "hasMore": false})))
            .collect();
        self.ack(&f, json!({"rooms": rooms, "newRooms": []}));
        asked
    }

    /// Connects with `rooms` known to the server and nothing missed: ends live.
    fn connect(&mut self, rooms: Vec<Value>) {
        self.list(rooms);
        if self.store.room_ids().expect("ids").is_empty() {
            assert!(matches!(self.step(), Step::CaughtUp));
            return;
        }
        self.sync_nothing();
        loop {
            match self.step() {
                Step::Send(f) if f.event == "message.history" => {
                    self.ack(&f, json!({"messages": [], "hasMore": false}));
                }
                Step::CaughtUp => break,
                other => panic!("unexpected step while connecting: {other:?}"),
            }
        }
        assert!(self.engine.is_live());
        self.engine.take_events();
    }

    /// Deleting the sent-but-unacked `temp` cannot withdraw it (the server
    /// may have it): it becomes a tombstone, and a delete is queued behind
    /// the send.
    fn deleting_is_a_delete_after_the_send(&self, temp: &str) {
        let v = self
            .store
            .enqueue_delete(temp)
            .unwrap()
            .expect("a tombstone, not a withdrawal");
        assert!(v.deleted_at.is_some());
        assert_eq!(
            self.store.outbox_len().unwrap(),
            2,
            "the send, then its delete"
        );
    }

    fn send(&self, room: &str, text: &str) -> String {
        let v = self
            .store
            .enqueue_send(ME, room, &Draft::text(text), MessageType::Text)
            .expect("enqueue");
        v.temp_id.expect("temp id")
    }
}

#[test]
fn a_connect_lists_rooms_then_syncs_the_stored_ones_then_flushes_then_is_caught_up() {
    let mut h = Harness::with_rooms(&[("r1", 4)]);
    let temp = h.send("r1", "queued while offline");
    h.list(vec![summary("r1", 6, 3)]);
    // The stored room is synced from where it stopped, before the outbox.
    let f = h.expect_request("sync");
    assert_eq!(f.data["since"], json!({"r1": 4}));
    let events = json!([
        {"seq": 5, "event": "message.received", "data": {"message": message("r1", 5, "m5", "u_b", "five")}},
        {"seq": 6, "event": "message.received", "data": {"message": message("r1", 6, "m6", "u_b", "six")}}
    ]);
    h.ack(
        &f,
        json!({"rooms": {"r1": {"events": events, "hasMore": false}}, "newRooms": []}),
    );
    assert_eq!(h.store.synced_seq("r1").unwrap(), Some(6));
    // The read pointer from room.list is stored.
    assert_eq!(h.store.room_counts("r1", ME).unwrap().my_read_seq, 3);
    // Then the outbox: the queued send with its tempId.
    let f = h.expect_request("message.send");
    assert_eq!(f.data["tempId"], json!(temp));
    assert_eq!(f.data["content"], json!("queued while offline"));
    let mut sent = message("r1", 7, "m7", ME, "queued while offline");
    sent["tempId"] = json!(temp);
    h.ack(&f, json!({"message": sent}));
    assert!(matches!(h.step(), Step::CaughtUp));
    assert!(h.engine.is_live());
    assert!(matches!(h.step(), Step::Idle));
    assert_eq!(h.store.outbox_len().unwrap(), 0);
    let v = h.store.message_by_key(&temp).unwrap();
    assert_eq!(v.delivery, Delivery::Sent);
    assert_eq!(v.seq, Some(7));
    // Events: the synced messages (origin Sync) and the delivery (Acked).
    let events = h.engine.take_events();
    let origins: Vec<(Origin, MessageChange)> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::MessageUpserted { change, origin, .. } => Some((*origin, *change)),
            _ => None,
        })
        .collect();
    assert_eq!(
        origins,
        vec![
            (Origin::Sync, MessageChange::New),
            (Origin::Sync, MessageChange::New),
            (Origin::Acked, MessageChange::Delivery)
        ]
    );
}

#[test]
fn a_room_seen_first_starts_at_its_seq_and_gets_its_newest_page() {
    let mut h = Harness::new();
    h.list(vec![summary("r1", 40, 40)]);
    // Nothing stored before: the new room is synced from its current seq.
    let f = h.expect_request("sync");
    assert_eq!(f.data["since"], json!({"r1": 40}));
    h.ack(
        &f,
        json!({"rooms": {"r1": {"events": [], "hasMore": false}}, "newRooms": []}),
    );
    let f = h.expect_request("message.history");
    assert_eq!(f.data["roomId"], json!("r1"));
    h.ack(
        &f,
        json!({"messages": [message("r1", 40, "m40", "u_b", "newest")], "hasMore": true}),
    );
    assert!(matches!(h.step(), Step::CaughtUp));
    let events = h.engine.take_events();
    assert!(events.iter().any(|e| matches!(e,
        ClientEvent::MessageUpserted { origin: Origin::History, message, room, .. }
            if message.content == "newest" && room.unread_count == 0)));
}

#[test]
fn a_seq_jump_schedules_a_sync_of_that_room_only() {
    let mut h = Harness::with_rooms(&[("r1", 1), ("r2", 1)]);
    h.connect(vec![summary("r1", 1, 1), summary("r2", 1, 1)]);
    h.push(
        "message.received",
        json!({"message": message("r1", 2, "m2", "u_b", "next")}),
    );
    assert!(matches!(h.step(), Step::Idle), "no gap: nothing to ask");
    h.push(
        "message.received",
        json!({"message": message("r1", 5, "m5", "u_b", "after a hole")}),
    );
    let f = h.expect_request("sync");
    assert_eq!(
        f.data["since"],
        json!({"r1": 2}),
        "from the last seq in order"
    );
    let events = json!([
        {"seq": 3, "event": "message.received", "data": {"message": message("r1", 3, "m3", "u_b", "three")}},
        {"seq": 4, "event": "message.deleted", "data": {"messageId": "m2", "roomId": "r1", "seq": 4, "deletedAt": "2026-01-01T00:00:02.000Z"}}
    ]);
    h.ack(
        &f,
        json!({"rooms": {"r1": {"events": events, "hasMore": false}}, "newRooms": []}),
    );
    assert!(matches!(h.step(), Step::Idle));
    assert!(h.store.message_by_key("m3").is_ok());
    assert!(h.store.message_by_key("m2").unwrap().deleted_at.is_some());
    // The live push past the hole was stored too.
    let counts = h.store.room_counts("r1", ME).unwrap();
    assert_eq!(
        counts.unread_count, 2,
        "m3 and m5, the tombstone excluded: {counts:?}"
    );
}

#[test]
fn a_link_preview_push_moves_the_seq_and_says_what_changed() {
    let mut h = Harness::with_rooms(&[("r1", 1)]);
    h.connect(vec![summary("r1", 1, 1)]);
    h.push(
        "message.received",
        json!({"message": message("r1", 2, "m2", "u_b", "see https://example.com")}),
    );
    h.engine.take_events();
    h.push(
        "message.link_preview",
        json!({"roomId": "r1", "messageId": "m2", "seq": 3,
               "linkPreview": {"url": "https://example.com/", "title": "Example"}}),
    );
    assert!(matches!(h.step(), Step::Idle), "seq 3 follows 2: no sync");
    let events = h.engine.take_events();
    let changed = events.iter().find_map(|e| match e {
        ClientEvent::MessageUpserted {
            message, change, ..
        } => Some((message.clone(), *change)),
        _ => None,
    });
    let (m, change) = changed.expect("an upsert");
    assert_eq!(change, MessageChange::LinkPreview);
    assert_eq!(
        m.link_preview.and_then(|p| p.title).as_deref(),
        Some("Example")
    );
    assert_eq!(h.store.synced_seq("r1").unwrap(), Some(3));
}

#[test]
fn notification_settings_from_another_device_change_the_rooms_views() {
    let mut h = Harness::with_rooms(&[("r1", 1), ("r2", 1)]);
    let mut listed = summary("r1", 1, 1);
    listed["notifyLevel"] = json!("mentions");
    listed["notifyFollowsDefault"] = json!(false);
    let mut follows = summary("r2", 1, 1);
    follows["notifyFollowsDefault"] = json!(true);
    h.list(vec![listed, follows]);
    assert_eq!(
        h.store.room_settings("r1").unwrap().level,
        leetchat_protocol::events::NotifyLevel::Mentions
    );
    h.sync_nothing();
    while !matches!(h.step(), Step::CaughtUp) {}
    h.engine.take_events();
    h.push(
        "room.notify.updated",
        json!({"roomId": "r1", "level": "none", "muteUntil": "2099-01-01T00:00:00.000Z", "followsDefault": false}),
    );
    let events = h.engine.take_events();
    let room = events
        .iter()
        .find_map(|e| match e {
            ClientEvent::RoomUpdated { room } => Some(room.clone()),
            _ => None,
        })
        .expect("the room changed");
    assert_eq!(room.notify_level.as_str(), "none");
    assert_eq!(room.mute_until.as_deref(), Some("2099-01-01T00:00:00.000Z"));
    // The default moves every room that follows it.
    h.push("notify.default.updated", json!({"level": "mentions"}));
    let events = h.engine.take_events();
    let r2 = events.iter().find_map(|e| match e {
        ClientEvent::RoomUpdated { room } if room.room_id == "r2" => Some(room.clone()),
        _ => None,
    });
    assert_eq!(r2.expect("r2 changed").notify_level.as_str(), "mentions");
    assert!(events.iter().any(
        |e| matches!(e, ClientEvent::NotifyDefault { level } if level.as_str() == "mentions")
    ));
}

#[test]
fn a_sync_answer_older_than_being_added_back_does_not_forget_the_room() {
    let mut h = Harness::with_rooms(&[("r1", 3)]);
    h.connect(vec![summary("r1", 3, 3)]);
    // A hole: a sync of r1 goes out.
    h.push(
        "message.received",
        json!({"message": message("r1", 5, "m5", "u_b", "after a hole")}),
    );
    let f = h.expect_request("sync");
    // Meanwhile the user left on another device and was added back: the
    // leave, then the room again, arrive before the answer.
    h.push(
        "room.member_left",
        json!({"roomId": "r1", "userId": ME, "seq": 6}),
    );
    assert!(h.store.synced_seq("r1").unwrap().is_none());
    h.push("room.created", json!({"room": room("r1", 7)}));
    h.push(
        "room.member_joined",
        json!({"roomId": "r1", "userId": ME, "seq": 7}),
    );
    // The answer was made while the user was out.
    h.ack(
        &f,
        json!({"rooms": {"r1": {"events": [], "hasMore": false, "error": {"code": "forbidden", "message": "not a member"}}}, "newRooms": []}),
    );
    assert!(
        h.store.synced_seq("r1").unwrap().is_some(),
        "the room the user is in again stays"
    );
    // It is asked about again.
    let again = h.expect_request("sync");
    assert!(again.data["since"].get("r1").is_some());
}

#[test]
fn a_leave_that_arrives_after_a_newer_add_back_is_past() {
    let mut h = Harness::with_rooms(&[("r1", 3)]);
    h.connect(vec![summary("r1", 3, 3)]);
    // Added back at seq 9 (the room says so), then the old leave of seq 8.
    h.push("room.created", json!({"room": room("r1", 9)}));
    h.push(
        "room.member_left",
        json!({"roomId": "r1", "userId": ME, "seq": 8}),
    );
    assert!(h.store.synced_seq("r1").unwrap().is_some());
    assert!(h.store.room("r1", ME).unwrap().is_some());
    // A leave newer than all the store knows is one.
    h.push(
        "room.member_left",
        json!({"roomId": "r1", "userId": ME, "seq": 10}),
    );
    assert!(h.store.room("r1", ME).unwrap().is_none());
}

#[test]
fn a_sync_with_more_asks_again_from_where_it_stopped() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.list(vec![summary("r1", 3, 0)]);
    let f = h.expect_request("sync");
    let events = json!([
        {"seq": 1, "event": "message.received", "data": {"message": message("r1", 1, "m1", "u_b", "1")}}
    ]);
    h.ack(
        &f,
        json!({"rooms": {"r1": {"events": events, "hasMore": true}}, "newRooms": []}),
    );
    let f = h.expect_request("sync");
    assert_eq!(f.data["since"], json!({"r1": 1}));
}

#[test]
fn a_room_the_user_lost_while_away_is_forgotten() {
    let mut h = Harness::with_rooms(&[("gone", 2)]);
    h.list(vec![]);
    let f = h.expect_request("sync");
    assert_eq!(f.data["since"], json!({"gone": 2}));
    let left = json!([{"seq": 3, "event": "room.member_left", "data": {"roomId": "gone", "userId": ME, "seq": 3}}]);
    h.ack(
        &f,
        json!({"rooms": {"gone": {"events": left, "hasMore": false,
            "error": {"code": "forbidden", "message": "not a member"}}}, "newRooms": []}),
    );
    assert!(h.store.room_ids().unwrap().is_empty());
    assert!(
        h.engine
            .take_events()
            .iter()
            .any(|e| matches!(e, ClientEvent::RoomRemoved { room_id } if room_id == "gone"))
    );
}

#[test]
fn a_rate_limited_send_waits_and_goes_again_with_the_same_temp_id() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.connect(vec![summary("r1", 0, 0)]);
    let temp = h.send("r1", "hello");
    let f = h.expect_request("message.send");
    let behind = h.send("r1", "queued behind it");
    h.engine.take_events();
    h.refuse(
        &f,
        json!({"code": "rate_limited", "message": "slow down", "retryAfterMs": 2500}),
    );
    assert!(matches!(h.step(), Step::Idle));
    let due = h.engine.next_due().unwrap().expect("deferred");
    assert!(due >= NOW + 2500, "deferred by retryAfterMs");
    // Both unsent messages are shown again: waiting for the rate limit, until `due`.
    let shown: Vec<(Option<String>, Option<Waiting>, Option<i64>)> = h
        .engine
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::MessageUpserted {
                message,
                change: MessageChange::Delivery,
                ..
            } => Some((message.temp_id, message.waiting, message.retry_at)),
            _ => None,
        })
        .collect();
    let waits = (Some(Waiting::RateLimited), Some(due));
    assert_eq!(
        shown,
        vec![
            (Some(temp.clone()), waits.0, waits.1),
            (Some(behind.clone()), waits.0, waits.1)
        ]
    );
    let v = h.store.message_by_key(&temp).unwrap();
    assert_eq!(
        (v.delivery, v.waiting, v.retry_at),
        (Delivery::Pending, waits.0, waits.1)
    );
    let f = match h.engine.next_step(due).unwrap() {
        Step::Send(f) => f,
        other => panic!("the send goes again when due: {other:?}"),
    };
    assert_eq!(f.event, "message.send");
    assert_eq!(f.data["tempId"], json!(temp), "same idempotency key");
    // Tried again: no longer waiting.
    let v = h.store.message_by_key(&temp).unwrap();
    assert_eq!((v.waiting, v.retry_at), (None, None));
}

#[test]
fn a_send_held_back_by_the_rate_limit_can_be_withdrawn_and_one_in_flight_cannot() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.connect(vec![summary("r1", 0, 0)]);
    let temp = h.send("r1", "hello");
    let f = h.expect_request("message.send");
    // In flight: it may be on the server, so deleting it is a delete after it.
    let behind = h.send("r1", "second");
    assert!(
        h.store.enqueue_delete(&behind).unwrap().is_none(),
        "never tried: withdrawn"
    );
    h.refuse(&f, slowed_for_a_minute());
    // Held back by the rate limit: the server answered that it has none.
    assert!(
        h.store.enqueue_delete(&temp).unwrap().is_none(),
        "withdrawn"
    );
    assert_eq!(h.store.outbox_len().unwrap(), 0);
    assert!(
        h.store.message_by_key(&temp).is_err(),
        "gone from the store"
    );

    // A server error does not say the server has none: a delete follows the send.
    let temp = h.send("r1", "third");
    let f = h.expect_request("message.send");
    h.refuse(&f, json!({"code": "internal", "message": "oops"}));
    h.deleting_is_a_delete_after_the_send(&temp);
}

#[test]
fn a_send_whose_earlier_attempt_went_unanswered_is_not_withdrawn_after_a_rate_limit() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.connect(vec![summary("r1", 0, 0)]);
    let temp = h.send("r1", "lost, then slowed down");
    let _lost = h.expect_request("message.send");
    // The connection drops with the send in flight: the server may still be
    // committing it. The next connection sends it again and is slowed down.
    h.engine.abandon();
    h.engine = Engine::new(h.store.clone(), ME, h._dir.path().to_owned());
    h.list(vec![summary("r1", 0, 0)]);
    h.sync_nothing();
    let f = h.expect_request("message.send");
    assert_eq!(f.data["tempId"], json!(temp));
    h.refuse(&f, slowed_for_a_minute());
    h.deleting_is_a_delete_after_the_send(&temp);
}

#[test]
fn a_permanent_refusal_fails_the_send_and_drops_the_changes_behind_it() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.connect(vec![summary("r1", 0, 0)]);
    let temp = h.send("r1", "too long");
    let f = h.expect_request("message.send");
    // While the send is in flight, the user queues an edit of it.
    h.store
        .enqueue_edit(ME, &temp, "edited", None)
        .expect("edit");
    assert_eq!(h.store.outbox_len().unwrap(), 2);
    h.refuse(
        &f,
        json!({"code": "invalid", "message": "content too long"}),
    );
    let v = h.store.message_by_key(&temp).unwrap();
    assert_eq!(v.delivery, Delivery::Failed);
    assert_eq!(v.error.as_deref(), Some("content too long"));
    assert_eq!(h.store.outbox_len().unwrap(), 0, "the edit went with it");
    assert!(matches!(h.step(), Step::Idle));
    assert!(h.engine.take_events().iter().any(|e| matches!(e,
        ClientEvent::OutboxFailed { temp_id, reason, .. } if *temp_id == temp && reason == "content too long")));
}

#[test]
fn an_edit_of_a_sent_message_goes_to_its_server_id_and_a_refusal_undoes_it() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.connect(vec![summary("r1", 0, 0)]);
    let temp = h.send("r1", "first");
    let f = h.expect_request("message.send");
    let mut sent = message("r1", 1, "m1", ME, "first");
    sent["tempId"] = json!(temp);
    h.ack(&f, json!({"message": sent.clone()}));

    h.store
        .enqueue_edit(ME, &temp, "second", None)
        .expect("edit");
    let f = h.expect_request("message.edit");
    assert_eq!(f.data["messageId"], json!("m1"));
    assert_eq!(f.data["content"], json!("second"));
    let mut edited = sent.clone();
    edited["content"] = json!("second");
    edited["editedAt"] = json!("2026-01-01T00:00:05.000Z");
    h.ack(&f, json!({"message": edited, "seq": 2}));
    assert_eq!(h.store.message_by_key("m1").unwrap().content, "second");
    assert_eq!(h.store.synced_seq("r1").unwrap(), Some(2));

    h.store.enqueue_edit(ME, "m1", "third", None).expect("edit");
    assert_eq!(h.store.message_by_key("m1").unwrap().content, "third");
    let f = h.expect_request("message.edit");
    h.refuse(
        &f,
        json!({"code": "forbidden", "message": "no longer a member"}),
    );
    assert_eq!(
        h.store.message_by_key("m1").unwrap().content,
        "second",
        "undone"
    );
}

#[test]
fn a_file_send_uploads_each_file_then_sends_their_ids() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.connect(vec![summary("r1", 0, 0)]);
    let temp = crate::store::outbox::new_temp_id();
    let files = ["a.png", "b.png"].map(|n| crate::store::outbox::QueuedFile {
        path: format!("/copies/{n}").into(),
        name: n.into(),
        size: 3,
        mime: "image/png".into(),
    });
    h.store
        .enqueue_file_send(ME, "r1", "", MessageType::Image, &temp, &files)
        .expect("enqueue");
    for (n, id) in [("a.png", "f_a"), ("b.png", "f_b")] {
        match h.step() {
            Step::Upload(u) => {
                assert_eq!(u.name, n);
                assert_eq!(u.temp_id, temp);
            }
            other => panic!("expected the upload of {n}: {other:?}"),
        }
        h.engine
            .on_uploaded(Ok(serde_json::from_value(attachment(id)).unwrap()))
            .unwrap();
    }
    let f = h.expect_request("message.send");
    assert_eq!(f.data["attachments"], json!(["f_a", "f_b"]));
    assert_eq!(f.data["type"], json!("image"));
}

#[test]
fn a_send_refused_after_earlier_uploads_uploads_again_once() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.connect(vec![summary("r1", 0, 0)]);
    let temp = crate::store::outbox::new_temp_id();
    let file = crate::store::outbox::QueuedFile {
        path: "/copies/a.png".into(),
        name: "a.png".into(),
        size: 3,
        mime: "image/png".into(),
    };
    h.store
        .enqueue_file_send(ME, "r1", "", MessageType::Image, &temp, &[file])
        .expect("enqueue");
    assert!(matches!(h.step(), Step::Upload(_)));
    h.engine
        .on_uploaded(Ok(serde_json::from_value(attachment("f_old")).unwrap()))
        .unwrap();
    // The connection drops before the send: the next connection finds the
    // fileId stored, and does not upload again.
    let f = h.expect_request("message.send");
    h.engine.abandon();
    drop(f);
    let mut h2 = Harness {
        engine: Engine::new(h.store.clone(), ME, h._dir.path().to_owned()),
        store: h.store.clone(),
        _dir: tempfile::tempdir().unwrap(),
    };
    h2.list(vec![summary("r1", 0, 0)]);
    h2.sync_nothing();
    let f = h2.expect_request("message.send");
    assert_eq!(f.data["attachments"], json!(["f_old"]), "uploaded once");
    // The server dropped the unclaimed upload meanwhile.
    h2.refuse(&f, json!({"code": "not_found", "message": "no such file"}));
    assert!(matches!(h2.step(), Step::Upload(_)), "uploads again");
    h2.engine
        .on_uploaded(Ok(serde_json::from_value(attachment("f_new")).unwrap()))
        .unwrap();
    let f = h2.expect_request("message.send");
    assert_eq!(f.data["attachments"], json!(["f_new"]));
    // A second such refusal is final.
    h2.refuse(&f, json!({"code": "not_found", "message": "no such file"}));
    assert_eq!(
        h2.store.message_by_key(&temp).unwrap().delivery,
        Delivery::Failed
    );
}

#[test]
fn an_unauthenticated_refusal_ends_the_connection_and_keeps_the_item() {
    let mut h = Harness::with_rooms(&[("r1", 0)]);
    h.connect(vec![summary("r1", 0, 0)]);
    h.send("r1", "hi");
    let f = h.expect_request("message.send");
    let text = json!({"ack": f.id, "ok": false, "error": {"code": "unauthenticated", "message": "expired"}})
        .to_string();
    assert!(matches!(h.engine.on_frame(&text), Err(Error::TokenRefused)));
    assert_eq!(h.store.outbox_len().unwrap(), 1);
}

#[test]
fn an_api_request_ack_carrying_a_room_is_stored_like_a_push() {
    let mut h = Harness::new();
    h.connect(vec![]);
    let f = h
        .engine
        .command("room.create", json!({"type": "group", "name": "new"}));
    match h.ack(&f, json!({"room": room("r_new", 0)})) {
        Received::Command(Ok(v)) => assert_eq!(v["room"]["roomId"], json!("r_new")),
        other => panic!("the caller gets the ack: {other:?}"),
    }
    assert_eq!(h.store.room_ids().unwrap(), vec!["r_new".to_owned()]);
    // A refusal goes to the caller as the server's error.
    let f = h.engine.command("room.create", json!({"type": "group"}));
    match h.refuse(
        &f,
        json!({"code": "invalid", "message": "a group needs a name"}),
    ) {
        Received::Command(Err(Error::Server(body))) => {
            assert_eq!(body.message, "a group needs a name")
        }
        other => panic!("the caller gets the refusal: {other:?}"),
    }
}

#[test]
fn sync_needed_syncs_every_room() {
    let mut h = Harness::with_rooms(&[("r1", 1), ("r2", 1)]);
    h.connect(vec![summary("r1", 1, 1), summary("r2", 1, 1)]);
    h.push("sync.needed", json!({"reason": "bus lagged"}));
    let asked = h.sync_nothing();
    assert_eq!(asked, vec!["r1".to_owned(), "r2".to_owned()]);
}

#[test]
fn a_push_of_an_unknown_event_is_ignored_and_an_ack_of_nothing_is_other() {
    let mut h = Harness::new();
    h.connect(vec![]);
    h.push("future.event", json!({"anything": 1}));
    let text = json!({"ack": 999, "ok": true, "data": {}}).to_string();
    assert!(matches!(h.engine.on_frame(&text).unwrap(), Received::Other));
    assert!(h.engine.on_frame("not json").is_err());
}

#[test]
fn a_second_step_while_a_request_is_in_flight_is_an_error() {
    let mut h = Harness::new();
    let _f = h.expect_request("room.list");
    assert!(h.engine.next_step(NOW).is_err());
}

#[test]
fn the_blocked_list_is_kept_from_its_answer_a_block_and_the_push_to_other_devices() {
    use std::collections::HashSet;
    let mut h = Harness::new();
    h.connect(vec![]);
    let ids = |h: &Harness| h.store.blocked().expect("blocked");
    assert!(ids(&h).is_empty());
    let f = h.engine.command("user.blocks", json!({}));
    h.ack(
        &f,
        json!({"blocks": [{"userId": "u_b", "blockedAt": "2026-01-01T00:00:00Z"}]}),
    );
    assert_eq!(ids(&h), HashSet::from(["u_b".to_owned()]));
    let f = h.engine.command("user.block", json!({"userId": "u_c"}));
    h.ack(
        &f,
        json!({"blocks": [
            {"userId": "u_c", "blockedAt": "2026-01-02T00:00:00Z"},
            {"userId": "u_b", "blockedAt": "2026-01-01T00:00:00Z"}
        ]}),
    );
    assert_eq!(ids(&h), HashSet::from(["u_b".to_owned(), "u_c".to_owned()]));
    // Unblocked on another device.
    h.push(
        "user.blocks.updated",
        json!({"blocks": [{"userId": "u_c", "blockedAt": "2026-01-02T00:00:00Z"}]}),
    );
    assert_eq!(ids(&h), HashSet::from(["u_c".to_owned()]));
    // A refusal keeps what was known.
    let f = h
        .engine
        .command("user.unblock", json!({"userId": "nobody"}));
    h.refuse(&f, json!({"code": "not_found", "message": "no such user"}));
    assert_eq!(ids(&h), HashSet::from(["u_c".to_owned()]));
}

#[test]
fn someone_unknown_joining_asks_for_the_room_list_again_for_their_name() {
    let mut h = Harness::with_rooms(&[("r1", 3)]);
    h.connect(vec![summary("r1", 3, 3)]);
    h.store
        .apply_users(&[serde_json::from_value(
            json!({"userId": "u_known", "userName": "known", "displayName": "Known"}),
        )
        .expect("user")])
        .expect("users");
    h.push(
        "room.member_joined",
        json!({"roomId": "r1", "userId": "u_known", "seq": 4}),
    );
    assert!(matches!(h.step(), Step::Idle), "a known name needs nothing");
    h.push(
        "room.member_joined",
        json!({"roomId": "r1", "userId": "u_new", "seq": 5}),
    );
    let mut listed = summary("r1", 5, 3);
    listed["members"]
        .as_array_mut()
        .expect("members")
        .push(json!({"userId": "u_new", "role": "member", "joinedAt": "2026-01-01T00:00:00.000Z", "userName": "newbie", "displayName": "New Person"}));
    let f = h.expect_request("room.list");
    h.ack(&f, json!({"rooms": [listed]}));
    assert_eq!(
        h.store.user_name_of("u_new").unwrap().as_deref(),
        Some("newbie")
    );
}

/// The outbox against a model server, over random sends, lost acks (the
/// server committed, the ack never came, the client reconnected and synced),
/// rate limits and outages: every queued send reaches the server exactly
/// once, and the store ends with the server's messages and seqs.
mod outbox_properties {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone, Copy)]
    enum Answer {
        Ack,
        LoseAck,
        RateLimited,
        Internal,
    }

    #[derive(Default)]
    struct Server {
        /// Messages per room, in seq order.
        rooms: BTreeMap<String, Vec<Value>>,
        by_temp: HashMap<String, Value>,
    }

    impl Server {
        /// `message.send` as the server does it: a known tempId answers
        /// with the original.
        fn send(&mut self, data: &Value) -> Value {
            let temp = data["tempId"].as_str().expect("tempId").to_owned();
            if let Some(m) = self.by_temp.get(&temp) {
                return m.clone();
            }
            let room = data["roomId"].as_str().expect("roomId").to_owned();
            let list = self.rooms.entry(room.clone()).or_default();
            let seq = list.len() as i64 + 1;
            let mut m = message(
                &room,
                seq,
                &format!("{room}-m{seq}"),
                ME,
                data["content"].as_str().unwrap_or(""),
            );
            m["tempId"] = json!(temp);
            list.push(m.clone());
            self.by_temp.insert(temp, m.clone());
            m
        }

        fn last_seq(&self, room: &str) -> i64 {
            self.rooms.get(room).map_or(0, |l| l.len() as i64)
        }
    }

    /// A fresh connection: room.list, then sync from what the store has,
    /// answered from the server's rooms, then whatever history it asks.
    fn reconnect(h: &mut Harness, server: &Server) {
        h.engine = Engine::new(h.store.clone(), ME, h._dir.path().to_owned());
        let rooms = ["r0", "r1"]
            .iter()
            .map(|r| summary(r, server.last_seq(r), 0))
            .collect();
        h.list(rooms);
        loop {
            match h.step() {
                Step::Send(f) if f.event == "sync" => {
                    let mut out = serde_json::Map::new();
                    for (room, since) in f.data["since"].as_object().expect("since") {
                        let since = since.as_i64().expect("seq");
                        let events: Vec<Value> = server
                            .rooms
                            .get(room)
                            .map(|l| {
                                l.iter()
                                    .filter(|m| m["seq"].as_i64().unwrap_or(0) > since)
                                    .map(|m| json!({"seq": m["seq"], "event": "message.received", "data": {"message": m}}))
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.insert(room.clone(), json!({"events": events, "hasMore": false}));
                    }
                    h.ack(&f, json!({"rooms": out, "newRooms": []}));
                }
                Step::Send(f) if f.event == "message.history" => {
                    h.ack(&f, json!({"messages": [], "hasMore": false}));
                }
                Step::Send(f) => {
                    // The outbox starts flushing while catching up: leave it
                    // for the main loop by abandoning and asking again.
                    h.engine.abandon();
                    let _ = f;
                    break;
                }
                Step::CaughtUp => break,
                other => panic!("unexpected while connecting: {other:?}"),
            }
        }
    }

    fn answers() -> impl Strategy<Value = Vec<Answer>> {
        prop::collection::vec(
            prop_oneof![
                4 => Just(Answer::Ack),
                2 => Just(Answer::LoseAck),
                1 => Just(Answer::RateLimited),
                1 => Just(Answer::Internal),
            ],
            0..24,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn every_queued_send_reaches_the_server_exactly_once(
            sends in prop::collection::vec((0usize..2, "[a-z]{1,8}"), 1..10),
            answers in answers(),
        ) {
            let mut h = Harness::with_rooms(&[("r0", 0), ("r1", 0)]);
            let mut server = Server::default();
            let temps: Vec<String> = sends.iter().map(|(r, text)| h.send(&format!("r{r}"), text)).collect();
            reconnect(&mut h, &server);
            let mut answers = answers.into_iter();
            let mut now = NOW;
            let mut steps = 0;
            loop {
                steps += 1;
                prop_assert!(steps < 1000, "the outbox never drained");
                match h.engine.next_step(now).expect("step") {
                    Step::Send(f) if f.event == "message.send" => {
                        match answers.next().unwrap_or(Answer::Ack) {
                            Answer::Ack => {
                                let m = server.send(&f.data);
                                h.ack(&f, json!({"message": m}));
                            }
                            Answer::LoseAck => {
                                server.send(&f.data);
                                h.engine.abandon();
                                reconnect(&mut h, &server);
                            }
                            Answer::RateLimited => {
                                h.refuse(&f, json!({"code": "rate_limited", "message": "slow down", "retryAfterMs": 1500}));
                            }
                            Answer::Internal => {
                                h.refuse(&f, json!({"code": "internal", "message": "database unreachable", "retryable": true}));
                            }
                        }
                    }
                    Step::Send(f) if f.event == "sync" || f.event == "message.history" => {
                        // Gaps revealed by acks: nothing more to tell.
                        if f.event == "sync" {
                            let rooms: serde_json::Map<String, Value> = f.data["since"].as_object().expect("since").keys()
                                .map(|r| (r.clone(), json!({"events": [], "hasMore": false}))).collect();
                            h.ack(&f, json!({"rooms": rooms, "newRooms": []}));
                        } else {
                            h.ack(&f, json!({"messages": [], "hasMore": false}));
                        }
                    }
                    Step::CaughtUp => {}
                    Step::Idle => {
                        if h.store.outbox_len().expect("len") == 0 {
                            break;
                        }
                        now = h.engine.next_due().expect("due").unwrap_or(now + 1000).max(now + 1);
                    }
                    other => prop_assert!(false, "unexpected step {:?}", other),
                }
            }
            // Exactly once on the server, in the order queued per room.
            prop_assert_eq!(server.by_temp.len(), temps.len());
            for (room, list) in &server.rooms {
                let want: Vec<&str> = sends.iter().filter(|(r, _)| format!("r{r}") == *room).map(|(_, t)| t.as_str()).collect();
                let got: Vec<&str> = list.iter().map(|m| m["content"].as_str().unwrap_or("")).collect();
                prop_assert_eq!(got, want, "room {}", room);
            }
            // The store agrees: every send delivered with the server's seq.
            for t in &temps {
                let v = h.store.message_by_key(t).expect("stored");
                let m = &server.by_temp[t];
                prop_assert_eq!(v.delivery, Delivery::Sent);
                prop_assert_eq!(v.seq, m["seq"].as_i64());
                prop_assert_eq!(v.message_id.as_deref(), m["messageId"].as_str());
            }
            for room in ["r0", "r1"] {
                let page = h.store.messages(room, None, 100).expect("page");
                prop_assert_eq!(page.len() as i64, server.last_seq(room), "one row per message in {}", room);
            }
        }
    }
}
