//! Notification levels and mutes (protocol 9.5): set on one device, known
//! on every device at once, private to the user, and the user's own reads
//! reaching the user's other devices.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, WsClient, group_id, send};

const QUIET: Duration = Duration::from_millis(300);

async fn entry(c: &mut WsClient, room: &str) -> (Value, Value) {
    let list = c.ok("room.list", json!({})).await;
    let r = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roomId"] == room)
        .cloned()
        .unwrap();
    (r, list["notifyDefault"].clone())
}

async fn a_level_and_mute_set_on_one_device_reach_the_others_and_no_one_else(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let alice_phone = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut desk = app.connect(&alice).await;
    let mut phone = app.connect(&alice_phone).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut desk, "g", &[&bob]).await;

    // The default: everything, following the user's default.
    let (r, default) = entry(&mut phone, &room).await;
    assert_eq!(default, "all");
    assert_eq!(r["notifyLevel"], "all");
    assert_eq!(r["muteUntil"], Value::Null);
    assert_eq!(r["notifyFollowsDefault"], true);

    let until = "2099-01-01T00:00:00.000Z";
    let ack = desk
        .ok(
            "room.notify.set",
            json!({"roomId": room, "level": "mentions", "muteUntil": until}),
        )
        .await;
    assert_eq!(
        ack,
        json!({"roomId": room, "level": "mentions", "muteUntil": until, "followsDefault": false})
    );
    assert_eq!(phone.push("room.notify.updated").await, ack);
    desk.no_push("room.notify.updated", QUIET).await;
    bc.no_push("room.notify.updated", QUIET).await;
    let (r, _) = entry(&mut phone, &room).await;
    assert_eq!(r["notifyLevel"], "mentions");
    assert_eq!(r["muteUntil"], until);
    // Bob's settings are his own.
    let (r, _) = entry(&mut bc, &room).await;
    assert_eq!(r["notifyLevel"], "all");
    assert_eq!(r["muteUntil"], Value::Null);

    // Absent muteUntil keeps the mute; null lifts it; a past time too.
    let ack = phone
        .ok("room.notify.set", json!({"roomId": room, "level": "none"}))
        .await;
    assert_eq!(ack["level"], "none");
    assert_eq!(ack["muteUntil"], until);
    assert_eq!(desk.push("room.notify.updated").await, ack);
    let ack = phone
        .ok(
            "room.notify.set",
            json!({"roomId": room, "level": "none", "muteUntil": null}),
        )
        .await;
    assert_eq!(ack["muteUntil"], Value::Null);
    let ack = phone
        .ok(
            "room.notify.set",
            json!({"roomId": room, "level": "all", "muteUntil": "2001-01-01T00:00:00.000Z"}),
        )
        .await;
    assert_eq!(ack["muteUntil"], Value::Null, "a time already past unmutes");

    // The default level: rooms that follow it change with it.
    phone
        .ok(
            "room.notify.set",
            json!({"roomId": room, "level": "default"}),
        )
        .await;
    let ack = desk
        .ok("notify.default.set", json!({"level": "mentions"}))
        .await;
    assert_eq!(ack, json!({"level": "mentions"}));
    assert_eq!(
        phone.push("notify.default.updated").await,
        json!({"level": "mentions"})
    );
    bc.no_push("notify.default.updated", QUIET).await;
    let (r, default) = entry(&mut phone, &room).await;
    assert_eq!(default, "mentions");
    assert_eq!(r["notifyLevel"], "mentions");
    assert_eq!(r["notifyFollowsDefault"], true);
    // A room set on its own keeps its level when the default changes.
    phone
        .ok("room.notify.set", json!({"roomId": room, "level": "all"}))
        .await;
    desk.ok("notify.default.set", json!({"level": "none"}))
        .await;
    let (r, _) = entry(&mut phone, &room).await;
    assert_eq!(r["notifyLevel"], "all");
    assert_eq!(r["notifyFollowsDefault"], false);
}

async fn bad_settings_are_refused_and_strangers_learn_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let mut a = app.connect(&alice).await;
    let mut e = app.connect(&eve).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    for bad in [
        json!({"roomId": room, "level": "loud"}),
        json!({"roomId": room}),
        json!({"roomId": room, "level": "all", "muteUntil": "tomorrow"}),
        json!({"roomId": room, "level": "all", "muteUntil": 5}),
    ] {
        a.fails("room.notify.set", bad, "invalid").await;
    }
    a.fails("notify.default.set", json!({"level": "default"}), "invalid")
        .await;
    // A room she is not in, and one that does not exist: the same answer.
    let here = e
        .fails(
            "room.notify.set",
            json!({"roomId": room, "level": "none"}),
            "forbidden",
        )
        .await;
    let nowhere = e
        .fails(
            "room.notify.set",
            json!({"roomId": "no-such-room", "level": "none"}),
            "forbidden",
        )
        .await;
    assert_eq!(here["message"], nowhere["message"]);
}

async fn a_read_on_one_device_reaches_the_users_other_devices(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let alice_phone = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut desk = app.connect(&alice).await;
    let mut phone = app.connect(&alice_phone).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut bc, "g", &[&alice]).await;
    let m = send(&mut bc, &room, "hi @alice").await;
    let seq = m["seq"].as_i64().unwrap();
    desk.ok("message.read", json!({"roomId": room, "seq": seq}))
        .await;
    let r = phone.push("receipt.updated").await;
    assert_eq!(r["userId"], alice.user_id.as_str());
    assert_eq!(r["seq"], seq);
    let (entry, _) = entry(&mut phone, &room).await;
    assert_eq!(entry["unreadCount"], 0);
    assert_eq!(entry["mentionCount"], 0);
}

crate::on_both_databases!(
    a_level_and_mute_set_on_one_device_reach_the_others_and_no_one_else,
    bad_settings_are_refused_and_strangers_learn_nothing,
    a_read_on_one_device_reaches_the_users_other_devices,
);
