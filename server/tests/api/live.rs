//! Presence, last seen, typing indicators and multi-device behaviour.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, TestApp, direct, direct_id, group_id, send};

const QUIET: Duration = Duration::from_millis(300);

async fn presence_follows_the_first_and_last_device_and_stores_last_seen(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let stranger = app.register("stranger").await;
    let mut a = app.connect(&alice).await;
    direct(&mut a, &bob).await;
    let mut s = app.connect(&stranger).await;

    let bob_phone = app.connect(&bob).await;
    let on = a.push("presence.update").await;
    assert_eq!(on["userId"], bob.user_id.as_str());
    assert_eq!(on["status"], "online");
    let laptop = app.login("bob").await;
    let bob_laptop = app.connect(&laptop).await;
    a.no_push("presence.update", QUIET).await;

    let p = a
        .ok(
            "presence.get",
            json!({"userIds": [bob.user_id, stranger.user_id]}),
        )
        .await;
    let list = p["presence"].as_array().unwrap();
    assert_eq!(list.len(), 1, "users who share no room are left out: {p}");
    assert_eq!(list[0]["status"], "online");

    bob_phone.close().await;
    a.no_push("presence.update", QUIET).await;
    bob_laptop.close().await;
    let off = a.push("presence.update").await;
    assert_eq!(off["status"], "offline");
    let last_seen = off["lastSeen"]
        .as_str()
        .expect("lastSeen when going offline")
        .to_owned();

    let p = a
        .ok("presence.get", json!({"userIds": [bob.user_id]}))
        .await;
    assert_eq!(p["presence"][0]["status"], "offline");
    assert_eq!(p["presence"][0]["lastSeen"], last_seen.as_str());
    // Presence is only told to people who share a room.
    s.no_push("presence.update", QUIET).await;
    a.fails("presence.get", json!({"userIds": "bob"}), "invalid")
        .await;
}

async fn presence_is_pushed_in_direct_rooms_and_small_groups_and_asked_for_in_big_ones(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.presence_group_limit = 3).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let mut a = app.connect(&alice).await;
    // A group of three (at the limit) and one of four (above it).
    group_id(&mut a, "small", &[&bob, &carol]).await;
    group_id(&mut a, "big", &[&bob, &carol, &dave]).await;

    // Dave shares only the big group with Alice: no pushes about him...
    let d = app.connect(&dave).await;
    a.no_push("presence.update", QUIET).await;
    // ...but she can ask.
    let p = a
        .ok("presence.get", json!({"userIds": [dave.user_id]}))
        .await;
    assert_eq!(p["presence"][0]["status"], "online", "{p}");
    // Carol shares the small group with her: pushed.
    let c = app.connect(&carol).await;
    let on = a.push("presence.update").await;
    assert_eq!(on["userId"], carol.user_id.as_str());
    assert_eq!(on["status"], "online");

    d.close().await;
    a.no_push("presence.update", QUIET).await;
    let p = a
        .ok("presence.get", json!({"userIds": [dave.user_id]}))
        .await;
    assert_eq!(p["presence"][0]["status"], "offline", "{p}");
    assert!(p["presence"][0]["lastSeen"].is_string(), "{p}");
    c.close().await;
    let off = a.push("presence.update").await;
    assert_eq!(off["userId"], carol.user_id.as_str());
    assert_eq!(off["status"], "offline");
    assert!(off["lastSeen"].is_string(), "{off}");
}

async fn typing_is_pushed_once_and_stops_on_stop_send_disconnect_or_silence(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room_id = direct_id(&mut a, &bob).await;

    assert_eq!(
        a.ok("typing.start", json!({"roomId": room_id})).await,
        json!({})
    );
    let t = bc.push("typing.user").await;
    assert_eq!(
        t,
        json!({"roomId": room_id, "userId": alice.user_id, "userName": "alice", "isTyping": true})
    );
    a.ok("typing.start", json!({"roomId": room_id})).await;
    bc.no_push("typing.user", QUIET).await;
    a.ok("typing.stop", json!({"roomId": room_id})).await;
    assert_eq!(bc.push("typing.user").await["isTyping"], false);

    // Sending stops typing.
    a.ok("typing.start", json!({"roomId": room_id})).await;
    assert_eq!(bc.push("typing.user").await["isTyping"], true);
    send(&mut a, &room_id, "done typing").await;
    assert_eq!(bc.push("typing.user").await["isTyping"], false);

    // Silence stops typing after 5 s.
    a.ok("typing.start", json!({"roomId": room_id})).await;
    assert_eq!(bc.push("typing.user").await["isTyping"], true);
    let started = std::time::Instant::now();
    let stop = bc.push_within("typing.user", Duration::from_secs(8)).await;
    assert_eq!(stop["isTyping"], false);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(4500) && waited < Duration::from_millis(6500),
        "{waited:?}"
    );

    // Disconnecting stops typing.
    a.ok("typing.start", json!({"roomId": room_id})).await;
    assert_eq!(bc.push("typing.user").await["isTyping"], true);
    a.close().await;
    assert_eq!(bc.push("typing.user").await["isTyping"], false);
}

async fn every_device_of_a_member_gets_the_room_events(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let bob2 = app.login("bob").await;
    let mut a = app.connect(&alice).await;
    let mut b1 = app.connect(&bob).await;
    let mut b2 = app.connect(&bob2).await;
    let room_id = group_id(&mut a, "g", &[&bob]).await;
    b1.push("room.created").await;
    b2.push("room.created").await;

    // Bob sends from his phone: his laptop sees it, his phone has the ack.
    let m = send(&mut b1, &room_id, "from phone").await;
    assert_eq!(b2.push("message.received").await["message"], m);
    assert_eq!(a.push("message.received").await["message"], m);
    b1.no_push("message.received", QUIET).await;
    // A read on one device moves the other device's badge too.
    b1.ok("message.read", json!({"roomId": room_id, "seq": 1}))
        .await;
    assert_eq!(
        b2.push("receipt.updated").await["userId"],
        bob.user_id.as_str()
    );
    let list = b2.ok("room.list", json!({})).await;
    assert_eq!(list["rooms"][0]["lastReadSeq"], 1);
}

crate::on_both_databases!(
    presence_follows_the_first_and_last_device_and_stores_last_seen,
    presence_is_pushed_in_direct_rooms_and_small_groups_and_asked_for_in_big_ones,
    typing_is_pushed_once_and_stops_on_stop_send_disconnect_or_silence,
    every_device_of_a_member_gets_the_room_events,
);
