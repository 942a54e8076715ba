//! Rate limits on every request that writes or pushes, and the limits kept
//! per client address (sign-in attempts, registrations). On the cluster the
//! requests are spread over the nodes (the harness takes turns) and nginx is
//! the peer, so these also show the limits are shared and that the client's
//! address is read through the trusted proxy.

use std::net::IpAddr;
use std::time::Duration;

use leetchat_server::config::RateLimit;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, WsClient, direct, direct_id, group_id, send};

const QUIET: Duration = Duration::from_millis(500);

fn addr(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

fn retry_after(e: &Value) -> u64 {
    e["retryAfterMs"].as_u64().unwrap_or(0)
}

async fn edits_and_deletes_are_rate_limited(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.rate_limits.edit = RateLimit::new(3, 60)).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = direct_id(&mut a, &bob).await;
    let m = send(&mut a, &room, "first").await;
    let id = m["messageId"].as_str().unwrap().to_owned();
    bc.drain(QUIET).await;
    for i in 0..3 {
        a.ok(
            "message.edit",
            json!({"messageId": id, "content": format!("edit {i}")}),
        )
        .await;
    }
    let e = a
        .fails(
            "message.edit",
            json!({"messageId": id, "content": "x".repeat(4000)}),
            "rate_limited",
        )
        .await;
    assert!((1..=60_000).contains(&retry_after(&e)), "{e}");
    // A delete is a change to a sent message too: same budget.
    a.fails("message.delete", json!({"messageId": id}), "rate_limited")
        .await;
    // Bob heard exactly the three edits that were taken.
    let edits = bc.collect("message.edited", QUIET).await;
    assert_eq!(edits.len(), 3, "{edits:?}");
    let history = bc.ok("message.history", json!({"roomId": room})).await;
    assert_eq!(history["messages"][0]["content"], "edit 2");
    assert!(history["messages"][0]["deletedAt"].is_null());
    // Bob's budget is his own.
    let mine = send(&mut bc, &room, "bob's").await;
    bc.ok(
        "message.edit",
        json!({"messageId": mine["messageId"], "content": "bob's, edited"}),
    )
    .await;
}

async fn room_changes_are_rate_limited(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.rate_limits.room_change = RateLimit::new(2, 60)).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    a.ok("room.update", json!({"roomId": room, "name": "one"}))
        .await;
    a.ok(
        "room.members.role",
        json!({"roomId": room, "userId": bob.user_id, "role": "admin"}),
    )
    .await;
    let e = a
        .fails(
            "room.members.add",
            json!({"roomId": room, "userIds": [carol.user_id]}),
            "rate_limited",
        )
        .await;
    assert!(retry_after(&e) > 0, "{e}");
    a.fails(
        "room.members.remove",
        json!({"roomId": room, "userId": bob.user_id}),
        "rate_limited",
    )
    .await;
    a.fails(
        "room.update",
        json!({"roomId": room, "name": "two"}),
        "rate_limited",
    )
    .await;
    // Nothing refused took effect.
    let list = a.ok("room.list", json!({})).await;
    let r = &list["rooms"][0];
    assert_eq!(r["name"], "one");
    let members: Vec<&str> = r["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userId"].as_str().unwrap())
        .collect();
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(!members.contains(&carol.user_id.as_str()));
}

async fn reactions_and_pins_are_rate_limited(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.rate_limits.reaction = RateLimit::new(2, 60);
        c.rate_limits.pin = RateLimit::new(1, 60);
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    let m = send(&mut a, &room, "hi").await;
    let id = &m["messageId"];
    a.ok("reaction.add", json!({"messageId": id, "emoji": "👍"}))
        .await;
    a.ok("reaction.remove", json!({"messageId": id, "emoji": "👍"}))
        .await;
    let e = a
        .fails(
            "reaction.add",
            json!({"messageId": id, "emoji": "🎉"}),
            "rate_limited",
        )
        .await;
    assert!(retry_after(&e) > 0, "{e}");
    a.ok("message.pin", json!({"messageId": id})).await;
    a.fails("message.unpin", json!({"messageId": id}), "rate_limited")
        .await;
    // Nothing refused took effect; bob's budget is his own.
    let mut bc = app.connect(&bob).await;
    let page = bc.ok("message.history", json!({"roomId": room})).await;
    assert_eq!(page["messages"][0]["reactions"], json!([]));
    bc.ok("reaction.add", json!({"messageId": id, "emoji": "🎉"}))
        .await;
    let list = bc.ok("room.list", json!({})).await;
    assert_eq!(list["rooms"][0]["pinnedMessageIds"], json!([id]));
}

async fn reads_syncs_and_new_direct_rooms_are_rate_limited(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.rate_limits.read = RateLimit::new(2, 60);
        c.rate_limits.sync = RateLimit::new(2, 60);
        c.rate_limits.direct = RateLimit::new(1, 3600);
        c.rate_limits.search = RateLimit::new(3, 60);
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let room = direct_id(&mut a, &bob).await;
    // Opening the direct room that exists again is free...
    direct(&mut a, &bob).await;
    // ...a new one is not.
    a.fails(
        "room.create",
        json!({"type": "direct", "memberIds": [carol.user_id]}),
        "rate_limited",
    )
    .await;
    send(&mut a, &room, "hi").await;
    for _ in 0..2 {
        a.ok("message.read", json!({"roomId": room, "seq": 1}))
            .await;
    }
    a.fails(
        "message.read",
        json!({"roomId": room, "seq": 1}),
        "rate_limited",
    )
    .await;
    for _ in 0..2 {
        a.ok("sync", json!({"since": {room.clone(): 0}})).await;
    }
    a.fails("sync", json!({"since": {room.clone(): 0}}), "rate_limited")
        .await;
    // Search is a read, but the costliest one: it has a limit of its own.
    for _ in 0..3 {
        a.ok("message.search", json!({"query": "hi"})).await;
    }
    let e = a
        .fails("message.search", json!({"query": "hi"}), "rate_limited")
        .await;
    assert!(e["retryAfterMs"].as_u64().is_some(), "{e}");
    // Reads that neither write nor push stay free.
    for _ in 0..4 {
        a.ok("message.history", json!({"roomId": room})).await;
        a.ok("room.list", json!({})).await;
    }
}

async fn a_stranger_guessing_from_elsewhere_does_not_lock_the_owner_out(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.rate_limits.auth = RateLimit::new(3, 60);
        c.rate_limits.auth_account = RateLimit::new(8, 60);
    })
    .await;
    app.register("carol").await;
    let wrong = json!({"userName": "carol", "password": "not her password"});
    let right = json!({"userName": "Carol", "password": "password-carol"});
    let stranger = addr("127.0.0.2");
    for _ in 0..3 {
        let (s, body) = app
            .post_from(stranger, "/api/auth/login", &wrong, &[])
            .await;
        assert_eq!(s, 401, "{body}");
    }
    let (s, body) = app
        .post_from(stranger, "/api/auth/login", &wrong, &[])
        .await;
    assert_eq!(s, 429, "the stranger is limited: {body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    // A forged X-Forwarded-For does not give the stranger a new budget.
    let (s, _) = app
        .post_from(
            stranger,
            "/api/auth/login",
            &wrong,
            &[("x-forwarded-for", "198.51.100.77")],
        )
        .await;
    assert_eq!(s, 429, "the header is not the client's to choose");
    // The owner, from her own address, signs in.
    let (s, body) = app
        .post_from(addr("127.0.0.1"), "/api/auth/login", &right, &[])
        .await;
    assert_eq!(s, 200, "the owner is not locked out: {body}");
    // Guessing spread over many addresses still meets the account's ceiling
    // of 8: the stranger's 3 and the owner's 1 count (refused ones do not),
    // four more addresses make 8...
    for i in 3..7 {
        let (s, body) = app
            .post_from(
                addr(&format!("127.0.0.{i}")),
                "/api/auth/login",
                &wrong,
                &[],
            )
            .await;
        assert_eq!(s, 401, "{body}");
    }
    let (s, body) = app
        .post_from(addr("127.0.0.9"), "/api/auth/login", &wrong, &[])
        .await;
    assert_eq!(s, 429, "...and the ninth is over the ceiling: {body}");
}

async fn registration_is_limited_per_client_address(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.rate_limits.register = RateLimit::new(2, 3600)).await;
    let form = |name: &str| json!({"userName": name, "password": "a fine password"});
    let from = addr("127.0.0.2");
    for name in ["reg1", "reg2"] {
        let (s, body) = app
            .post_from(from, "/api/auth/register", &form(name), &[])
            .await;
        assert_eq!(s, 201, "{body}");
    }
    let (s, body) = app
        .post_from(from, "/api/auth/register", &form("reg3"), &[])
        .await;
    assert_eq!(s, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(retry_after(&body["error"]) > 3_000_000, "{body}");
    let (s, _) = app
        .post_from(
            from,
            "/api/auth/register",
            &form("reg3"),
            &[("x-forwarded-for", "203.0.113.50")],
        )
        .await;
    assert_eq!(s, 429, "a forged X-Forwarded-For is not a new address");
    // Nothing was created by the refused attempts, and another address
    // registers that very name.
    let (s, body) = app
        .post_from(addr("127.0.0.3"), "/api/auth/register", &form("reg3"), &[])
        .await;
    assert_eq!(s, 201, "{body}");
    // Bad input is refused before the limit is spent.
    let (s, _) = app
        .post_from(addr("127.0.0.4"), "/api/auth/register", &form("x"), &[])
        .await;
    assert_eq!(s, 400);
    for name in ["reg4", "reg5"] {
        let (s, body) = app
            .post_from(addr("127.0.0.4"), "/api/auth/register", &form(name), &[])
            .await;
        assert_eq!(s, 201, "{body}");
    }
}

/// The limits the harness connects with do not leak between users.
async fn one_users_limit_is_not_anothers(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.rate_limits.edit = RateLimit::new(1, 60)).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc: WsClient = app.connect(&bob).await;
    let room = direct_id(&mut a, &bob).await;
    let ma = send(&mut a, &room, "a").await;
    let mb = send(&mut bc, &room, "b").await;
    a.ok(
        "message.edit",
        json!({"messageId": ma["messageId"], "content": "a2"}),
    )
    .await;
    a.fails(
        "message.edit",
        json!({"messageId": ma["messageId"], "content": "a3"}),
        "rate_limited",
    )
    .await;
    bc.ok(
        "message.edit",
        json!({"messageId": mb["messageId"], "content": "b2"}),
    )
    .await;
}

crate::on_both_databases!(
    edits_and_deletes_are_rate_limited,
    room_changes_are_rate_limited,
    reactions_and_pins_are_rate_limited,
    reads_syncs_and_new_direct_rooms_are_rate_limited,
    a_stranger_guessing_from_elsewhere_does_not_lock_the_owner_out,
    registration_is_limited_per_client_address,
    one_users_limit_is_not_anothers,
);
