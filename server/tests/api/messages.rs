//! Sending, editing, deleting, history pages and read receipts.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, direct, direct_id, group, group_id, send};

const QUIET: Duration = Duration::from_millis(300);

async fn a_sent_message_is_acked_and_reaches_every_other_connection_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let alice_laptop = app.login("alice").await;
    let mut a1 = app.connect(&alice).await;
    let mut a2 = app.connect(&alice_laptop).await;
    let mut b1 = app.connect(&bob).await;
    let room = direct(&mut a1, &bob).await;
    let room_id = room["roomId"].as_str().unwrap();
    b1.push("room.created").await;
    a2.push("room.created").await;

    let ack = a1
        .ok(
            "message.send",
            json!({"roomId": room_id, "content": "Hello!", "type": "text", "tempId": "temp_123"}),
        )
        .await;
    let m = &ack["message"];
    assert_eq!(m["seq"], 1, "the first message of a new room is seq 1");
    assert_eq!(m["content"], "Hello!");
    assert_eq!(m["tempId"], "temp_123");
    assert_eq!(m["senderId"], alice.user_id.as_str());
    assert_eq!(m["type"], "text");
    assert_eq!(m["attachments"], json!([]));
    assert!(m["createdAt"].as_str().unwrap().ends_with('Z'));

    for c in [&mut b1, &mut a2] {
        let got = c.push("message.received").await;
        assert_eq!(
            &got["message"], m,
            "pushes carry the same message as the ack"
        );
        c.no_push("message.received", QUIET).await;
    }
    a1.no_push("message.received", QUIET).await;
}

async fn resending_with_the_same_temp_id_returns_the_original_and_creates_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room_id = direct_id(&mut a, &bob).await;
    let req = json!({"roomId": room_id, "content": "once", "type": "text", "tempId": "t-1"});
    let first = a.ok("message.send", req.clone()).await;
    // Same tempId from another connection of the same user (e.g. after a lost ack).
    let mut a_again = app.connect(&alice).await;
    let second = a_again.ok("message.send", req.clone()).await;
    assert_eq!(first, second);
    bc.push("message.received").await;
    bc.no_push("message.received", QUIET).await;
    let page = a.ok("message.history", json!({"roomId": room_id})).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    // The same tempId in another room is a client bug.
    let carol = app.register("carol").await;
    let other = direct_id(&mut a, &carol).await;
    a.fails(
        "message.send",
        json!({"roomId": other, "content": "x", "type": "text", "tempId": "t-1"}),
        "conflict",
    )
    .await;
}

async fn concurrent_resends_with_one_temp_id_create_one_message(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(app.connect(&alice).await);
    }
    let req = json!({"roomId": room_id, "content": "race", "type": "text", "tempId": "same"});
    let acks = futures_util::future::join_all(
        clients
            .iter_mut()
            .map(|c| c.ok("message.send", req.clone())),
    )
    .await;
    let ids: std::collections::BTreeSet<&str> = acks
        .iter()
        .map(|a| a["message"]["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "one message for one tempId: {acks:?}");
    let page = a.ok("message.history", json!({"roomId": room_id})).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    let rooms = a.ok("room.list", json!({})).await;
    assert_eq!(rooms["rooms"][0]["lastSeq"], 1, "no seq was burnt");
}

async fn invalid_messages_are_refused_with_the_contract_codes(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"roomId": room_id, "content": "   ", "type": "text"}),
            "invalid",
        ),
        (
            json!({"roomId": room_id, "content": "x".repeat(4001), "type": "text"}),
            "too_large",
        ),
        (
            json!({"roomId": room_id, "content": "hi", "type": "system"}),
            "invalid",
        ),
        (
            json!({"roomId": room_id, "content": "hi", "type": "sticker"}),
            "invalid",
        ),
        (
            json!({"roomId": room_id, "content": "", "type": "image"}),
            "invalid",
        ),
        (
            json!({"roomId": room_id, "content": "", "type": "file", "attachments": ["nope"]}),
            "forbidden",
        ),
        (
            json!({"roomId": room_id, "content": "hi", "type": "text", "tempId": ""}),
            "invalid",
        ),
        (
            json!({"roomId": room_id, "content": "hi", "type": "text", "replyTo": "no-such"}),
            "invalid",
        ),
        (json!({"content": "hi", "type": "text"}), "invalid"),
        (
            json!({"roomId": "no-such-room", "content": "hi", "type": "text"}),
            "forbidden",
        ),
    ];
    for (req, code) in cases {
        a.fails("message.send", req, code).await;
    }
    let ok = a
        .ok(
            "message.send",
            json!({"roomId": room_id, "content": "é".repeat(4000), "type": "text"}),
        )
        .await;
    assert_eq!(ok["message"]["seq"], 1, "refused sends took no seq");
    let reply = a
        .ok(
            "message.send",
            json!({"roomId": room_id, "content": "re", "replyTo": ok["message"]["messageId"]}),
        )
        .await;
    assert_eq!(reply["message"]["replyTo"], ok["message"]["messageId"]);
    assert_eq!(reply["message"]["type"], "text", "type defaults to text");
}

async fn only_the_sender_edits_and_each_edit_takes_a_seq(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group(&mut a, "team", &[&bob]).await;
    let room_id = room["roomId"].as_str().unwrap();
    let m = send(&mut a, room_id, "first draft").await;
    bc.push("message.received").await;
    let mid = m["messageId"].as_str().unwrap();

    let edited = a
        .ok(
            "message.edit",
            json!({"messageId": mid, "content": "final"}),
        )
        .await;
    assert_eq!(edited["message"]["content"], "final");
    assert_eq!(
        edited["message"]["seq"], 1,
        "a message keeps the seq of its creation"
    );
    assert_eq!(edited["seq"], 2);
    assert!(edited["message"]["editedAt"].is_string());
    let push = bc.push("message.edited").await;
    assert_eq!(push["seq"], 2);
    assert_eq!(push["message"]["content"], "final");

    // Bob is the group's plain member: he may not edit alice's message, even as admin.
    bc.fails(
        "message.edit",
        json!({"messageId": mid, "content": "hijack"}),
        "forbidden",
    )
    .await;
    a.fails(
        "message.edit",
        json!({"messageId": mid, "content": ""}),
        "invalid",
    )
    .await;
    a.fails(
        "message.edit",
        json!({"messageId": "nope", "content": "x"}),
        "not_found",
    )
    .await;
    a.fails(
        "message.edit",
        json!({"messageId": mid, "content": "x".repeat(4001)}),
        "too_large",
    )
    .await;
    a.ok("message.delete", json!({"messageId": mid})).await;
    a.fails(
        "message.edit",
        json!({"messageId": mid, "content": "zombie"}),
        "conflict",
    )
    .await;
}

async fn deleting_leaves_a_tombstone_for_the_sender_or_a_room_admin(b: Backend) {
    let app = TestApp::spawn(b).await;
    let owner = app.register("owner").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut o = app.connect(&owner).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let room_id = group_id(&mut o, "g", &[&bob, &carol]).await;
    let by_bob = send(&mut bc, &room_id, "bob's").await;
    let by_carol = send(&mut cc, &room_id, "carol's").await;

    // A plain member cannot delete another's message; the sender can; the owner can.
    cc.fails(
        "message.delete",
        json!({"messageId": by_bob["messageId"]}),
        "forbidden",
    )
    .await;
    let d1 = bc
        .ok("message.delete", json!({"messageId": by_bob["messageId"]}))
        .await;
    assert_eq!(d1["messageId"], by_bob["messageId"]);
    assert_eq!(d1["seq"], 3);
    assert!(d1["deletedAt"].is_string());
    let d2 = o
        .ok(
            "message.delete",
            json!({"messageId": by_carol["messageId"]}),
        )
        .await;
    assert_eq!(d2["seq"], 4);
    let again = bc
        .ok("message.delete", json!({"messageId": by_bob["messageId"]}))
        .await;
    assert_eq!(again, d1, "deleting twice answers with the first deletion");

    let pushes = cc.collect("message.deleted", QUIET).await;
    assert_eq!(pushes.len(), 2, "{pushes:?}");
    assert_eq!(pushes[0]["roomId"], room_id.as_str());
    assert_eq!(pushes[0]["seq"], 3);

    let page = o.ok("message.history", json!({"roomId": room_id})).await;
    let msgs = page["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "tombstones stay in history");
    for m in msgs {
        assert_eq!(m["content"], "");
        assert_eq!(m["attachments"], json!([]));
        assert!(m["deletedAt"].is_string());
    }
}

async fn history_pages_by_cursor_in_both_directions(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    let mut sent = Vec::new();
    for i in 1..=7 {
        sent.push(send(&mut a, &room_id, &format!("m{i}")).await);
        // distinct millisecond timestamps, for the timestamp cursors below
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let seqs = |page: &Value| -> Vec<i64> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    let p1 = a
        .ok("message.history", json!({"roomId": room_id, "limit": 3}))
        .await;
    assert_eq!(seqs(&p1), [5, 6, 7], "newest page, ascending");
    assert_eq!(p1["hasMore"], true);
    let p2 = a
        .ok(
            "message.history",
            json!({"roomId": room_id, "limit": 3, "cursor": p1["nextCursor"]}),
        )
        .await;
    assert_eq!(seqs(&p2), [2, 3, 4]);
    let p3 = a
        .ok(
            "message.history",
            json!({"roomId": room_id, "limit": 3, "cursor": p2["nextCursor"]}),
        )
        .await;
    assert_eq!(seqs(&p3), [1]);
    assert_eq!(p3["hasMore"], false);

    let f1 = a
        .ok(
            "message.history",
            json!({"roomId": room_id, "limit": 4, "direction": "after"}),
        )
        .await;
    assert_eq!(
        seqs(&f1),
        [1, 2, 3, 4],
        "after without cursor starts at the oldest"
    );
    assert_eq!(f1["hasMore"], true);
    let f2 = a
        .ok(
            "message.history",
            json!({"roomId": room_id, "limit": 4, "direction": "after", "cursor": f1["nextCursor"]}),
        )
        .await;
    assert_eq!(seqs(&f2), [5, 6, 7]);
    assert_eq!(f2["hasMore"], false);

    // RFC 3339 timestamps work as cursors.
    let t4 = sent[3]["createdAt"].as_str().unwrap();
    let before_t4 = a
        .ok(
            "message.history",
            json!({"roomId": room_id, "cursor": t4, "limit": 100}),
        )
        .await;
    assert_eq!(seqs(&before_t4), [1, 2, 3]);
    let after_t4 = a
        .ok(
            "message.history",
            json!({"roomId": room_id, "cursor": t4, "direction": "after"}),
        )
        .await;
    assert_eq!(seqs(&after_t4), [5, 6, 7]);
    let future = a
        .ok(
            "message.history",
            json!({"roomId": room_id, "cursor": "2999-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(seqs(&future), [1, 2, 3, 4, 5, 6, 7]);
    let all = a
        .ok("message.history", json!({"roomId": room_id, "limit": 1000}))
        .await;
    assert_eq!(
        seqs(&all).len(),
        7,
        "limits above 100 are capped, not refused"
    );

    for bad in [
        json!({"limit": 0}),
        json!({"limit": -5}),
        json!({"limit": "ten"}),
        json!({"cursor": "last tuesday"}),
        json!({"direction": "sideways"}),
    ] {
        let mut req = bad.clone();
        req["roomId"] = json!(room_id);
        a.fails("message.history", req, "invalid").await;
    }
}

async fn history_pages_of_fifty_by_default_and_a_hundred_at_most(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    for i in 0..120 {
        a.ok(
            "message.send",
            json!({"roomId": room_id, "content": format!("{i}")}),
        )
        .await;
    }
    let p = a.ok("message.history", json!({"roomId": room_id})).await;
    assert_eq!(p["messages"].as_array().unwrap().len(), 50);
    let p = a
        .ok("message.history", json!({"roomId": room_id, "limit": 500}))
        .await;
    assert_eq!(p["messages"].as_array().unwrap().len(), 100);
    assert_eq!(p["messages"][0]["seq"], 21);
    assert_eq!(p["hasMore"], true);
}

async fn read_pointers_only_move_forward_and_are_announced(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room_id = direct_id(&mut a, &bob).await;
    for i in 0..3 {
        send(&mut a, &room_id, &format!("m{i}")).await;
    }
    let ack = bc
        .ok("message.read", json!({"roomId": room_id, "seq": 2}))
        .await;
    assert_eq!(ack, json!({"roomId": room_id, "seq": 2}));
    let r = a.push("receipt.updated").await;
    assert_eq!(r["roomId"], room_id.as_str());
    assert_eq!(r["userId"], bob.user_id.as_str());
    assert_eq!(r["seq"], 2);
    assert!(r["readAt"].is_string());

    let back = bc
        .ok("message.read", json!({"roomId": room_id, "seq": 1}))
        .await;
    assert_eq!(back["seq"], 2, "the pointer never moves back");
    a.no_push("receipt.updated", QUIET).await;
    let past = bc
        .ok("message.read", json!({"roomId": room_id, "seq": 99}))
        .await;
    assert_eq!(past["seq"], 3, "the pointer stops at the room's last seq");
    bc.fails(
        "message.read",
        json!({"roomId": room_id, "seq": -1}),
        "invalid",
    )
    .await;

    let list = bc.ok("room.list", json!({})).await;
    assert_eq!(list["rooms"][0]["lastReadSeq"], 3);
    assert_eq!(list["rooms"][0]["unreadCount"], 0);
}

crate::on_both_databases!(
    a_sent_message_is_acked_and_reaches_every_other_connection_once,
    resending_with_the_same_temp_id_returns_the_original_and_creates_nothing,
    concurrent_resends_with_one_temp_id_create_one_message,
    invalid_messages_are_refused_with_the_contract_codes,
    only_the_sender_edits_and_each_edit_takes_a_seq,
    deleting_leaves_a_tombstone_for_the_sender_or_a_room_admin,
    history_pages_by_cursor_in_both_directions,
    history_pages_of_fifty_by_default_and_a_hundred_at_most,
    read_pointers_only_move_forward_and_are_announced,
);
