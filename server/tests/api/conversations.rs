//! v1.1 conversations (protocol 9.1-9.4): replies, reactions, mentions and
//! pins, on every backend, live and through `sync`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, WsClient, direct_id, group_id, send};

const QUIET: Duration = Duration::from_millis(150);

fn events(resp: &Value, room_id: &str) -> Vec<Value> {
    resp["rooms"][room_id]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn kinds(evs: &[Value]) -> Vec<(i64, String)> {
    evs.iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn newest(c: &mut WsClient, room: &str) -> Vec<Value> {
    c.ok("message.history", json!({"roomId": room})).await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

fn find<'a>(messages: &'a [Value], id: &Value) -> &'a Value {
    messages
        .iter()
        .find(|m| m["messageId"] == *id)
        .unwrap_or_else(|| panic!("{id} not in {messages:?}"))
}

async fn room_entry(c: &mut WsClient, room: &str) -> Value {
    let list = c.ok("room.list", json!({})).await;
    list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roomId"] == room)
        .cloned()
        .unwrap()
}

async fn last_seq(c: &mut WsClient, room: &str) -> i64 {
    room_entry(c, room).await["lastSeq"].as_i64().unwrap()
}

async fn replies_show_the_replied_message_as_it_is_now(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    let other = group_id(&mut a, "other", &[&bob]).await;
    let original = send(&mut a, &room, &"x".repeat(300)).await;
    let elsewhere = send(&mut a, &other, "elsewhere").await;

    // replyTo must name a message of the same room.
    for bad in [elsewhere["messageId"].clone(), json!("no-such-message")] {
        bc.fails(
            "message.send",
            json!({"roomId": room, "content": "re", "type": "text", "tempId": format!("bad-{bad}"), "replyTo": bad}),
            "invalid",
        )
        .await;
    }

    let reply = bc
        .ok(
            "message.send",
            json!({"roomId": room, "content": "a reply", "type": "text", "tempId": "r1", "replyTo": original["messageId"]}),
        )
        .await["message"]
        .clone();
    assert_eq!(reply["replyTo"], original["messageId"]);
    let p = &reply["replyPreview"];
    assert_eq!(p["messageId"], original["messageId"]);
    assert_eq!(p["senderId"], alice.user_id.as_str());
    assert_eq!(p["type"], "text");
    assert_eq!(
        p["content"].as_str().unwrap().chars().count(),
        200,
        "the preview is the first 200 characters"
    );
    let pushed = a.push("message.received").await;
    assert_eq!(
        pushed["message"]["replyPreview"], reply["replyPreview"],
        "the push carries the preview too"
    );

    // The newest page first (on a cluster it is now in the recent-history cache)...
    let page = newest(&mut a, &room).await;
    assert_eq!(find(&page, &reply["messageId"])["replyPreview"], *p);

    // ...then the original is edited: every read shows the edit.
    a.ok(
        "message.edit",
        json!({"messageId": original["messageId"], "content": "edited original"}),
    )
    .await;
    for c in [&mut a, &mut bc] {
        let page = newest(c, &room).await;
        assert_eq!(
            find(&page, &reply["messageId"])["replyPreview"]["content"],
            "edited original"
        );
        let resp = c.ok("sync", json!({"since": {room.clone(): 0}})).await;
        let replayed = events(&resp, &room)
            .into_iter()
            .find(|e| {
                e["event"] == "message.received"
                    && e["data"]["message"]["messageId"] == reply["messageId"]
            })
            .unwrap();
        assert_eq!(
            replayed["data"]["message"]["replyPreview"]["content"],
            "edited original"
        );
    }

    // Deleted: the preview keeps who and what type, loses the content.
    a.ok(
        "message.delete",
        json!({"messageId": original["messageId"]}),
    )
    .await;
    let page = newest(&mut bc, &room).await;
    let p = &find(&page, &reply["messageId"])["replyPreview"];
    assert_eq!(p["content"], "");
    assert!(p["deletedAt"].is_string(), "{p}");

    // A reply to a deleted message is still accepted (it may have been
    // written offline before the delete): nothing is lost.
    let late = bc
        .ok(
            "message.send",
            json!({"roomId": room, "content": "late reply", "type": "text", "tempId": "r2", "replyTo": original["messageId"]}),
        )
        .await["message"]
        .clone();
    assert!(late["replyPreview"]["deletedAt"].is_string(), "{late}");
}

async fn reactions_take_a_seq_each_and_reach_offline_members(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob, &carol]).await;
    let m = send(&mut a, &room, "react to me").await;
    let id = m["messageId"].clone();
    let before = last_seq(&mut a, &room).await;
    let carol_synced = before;

    // Validation.
    for bad in [
        json!(""),
        json!(" "),
        json!("👍 "),
        json!("a\u{7}"),
        json!("😀".repeat(9)),
        json!(5),
    ] {
        bc.fails(
            "reaction.add",
            json!({"messageId": id, "emoji": bad}),
            "invalid",
        )
        .await;
    }
    bc.fails(
        "reaction.add",
        json!({"messageId": "no-such-message", "emoji": "👍"}),
        "not_found",
    )
    .await;

    let ack = bc
        .ok("reaction.add", json!({"messageId": id, "emoji": "👍"}))
        .await;
    assert_eq!(ack["messageId"], id);
    assert_eq!(ack["seq"], before + 1, "the ack names its event's seq");
    assert_eq!(
        ack["reactions"],
        json!([{"emoji": "👍", "count": 1, "userIds": [bob.user_id]}])
    );
    let pushed = a.push("reaction.added").await;
    assert_eq!(
        pushed,
        json!({"roomId": room, "messageId": id, "userId": bob.user_id, "emoji": "👍", "seq": before + 1})
    );

    // The same add again: nothing changes, no seq, no push.
    let again = bc
        .ok("reaction.add", json!({"messageId": id, "emoji": "👍"}))
        .await;
    assert_eq!(again["reactions"], ack["reactions"]);
    assert!(again.get("seq").is_none(), "no event, no seq: {again}");
    a.no_push("reaction.added", QUIET).await;
    assert_eq!(last_seq(&mut a, &room).await, before + 1);

    a.ok("reaction.add", json!({"messageId": id, "emoji": "🎉"}))
        .await;
    let ack = a
        .ok("reaction.add", json!({"messageId": id, "emoji": "👍"}))
        .await;
    // Order of first use (kept when the first reactor takes theirs back);
    // exact counts; who.
    assert_eq!(
        ack["reactions"],
        json!([
            {"emoji": "👍", "count": 2, "userIds": [bob.user_id, alice.user_id]},
            {"emoji": "🎉", "count": 1, "userIds": [alice.user_id]},
        ])
    );
    let removed = bc
        .ok("reaction.remove", json!({"messageId": id, "emoji": "👍"}))
        .await;
    assert_eq!(
        removed["reactions"][0],
        json!({"emoji": "👍", "count": 1, "userIds": [alice.user_id]})
    );
    let seq_after = last_seq(&mut a, &room).await;
    assert_eq!(seq_after, before + 4);
    // Removing what one does not have: nothing.
    bc.ok("reaction.remove", json!({"messageId": id, "emoji": "👍"}))
        .await;
    bc.ok("reaction.remove", json!({"messageId": id, "emoji": "🙃"}))
        .await;
    assert_eq!(last_seq(&mut a, &room).await, seq_after);

    // Messages carry their reactions wherever they are read.
    let page = newest(&mut bc, &room).await;
    assert_eq!(find(&page, &id)["reactions"], removed["reactions"]);

    // Carol was offline for all of it: sync replays every change in order.
    let mut cc = app.connect(&carol).await;
    let resp = cc
        .ok("sync", json!({"since": {room.clone(): carol_synced}}))
        .await;
    let evs = events(&resp, &room);
    assert_eq!(
        kinds(&evs),
        [
            (before + 1, "reaction.added".to_owned()),
            (before + 2, "reaction.added".to_owned()),
            (before + 3, "reaction.added".to_owned()),
            (before + 4, "reaction.removed".to_owned()),
        ]
    );
    assert_eq!(
        evs[3]["data"],
        json!({"roomId": room, "messageId": id, "userId": bob.user_id, "emoji": "👍", "seq": before + 4})
    );

    // At most 20 different reactions per user per message.
    let m2 = send(&mut a, &room, "many").await;
    for i in 0..20 {
        bc.ok(
            "reaction.add",
            json!({"messageId": m2["messageId"], "emoji": format!("e{i}")}),
        )
        .await;
    }
    let e = bc
        .fails(
            "reaction.add",
            json!({"messageId": m2["messageId"], "emoji": "e20"}),
            "invalid",
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("20"), "{e}");
    // Others still may.
    a.ok(
        "reaction.add",
        json!({"messageId": m2["messageId"], "emoji": "e20"}),
    )
    .await;

    // A deleted message takes none, and its reactions are gone.
    a.ok("message.delete", json!({"messageId": id})).await;
    bc.fails(
        "reaction.add",
        json!({"messageId": id, "emoji": "👍"}),
        "conflict",
    )
    .await;
    let page = newest(&mut bc, &room).await;
    assert_eq!(find(&page, &id)["reactions"], json!([]));
}

async fn concurrent_reactions_are_counted_exactly(b: Backend) {
    let app = TestApp::spawn(b).await;
    let owner = app.register("owner").await;
    let mut o = app.connect(&owner).await;
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(app.register(&format!("fan{i}")).await);
    }
    let refs: Vec<&crate::harness::TestUser> = people.iter().collect();
    let room = group_id(&mut o, "fans", &refs).await;
    let m = send(&mut o, &room, "vote").await;
    let id = m["messageId"].clone();
    let start = last_seq(&mut o, &room).await;

    let mut socks = Vec::new();
    for p in &people {
        socks.push(app.connect(p).await);
    }
    // Everyone adds 👍 and 🎉 at once, twice each (the repeats change nothing).
    let tasks: Vec<_> = socks
        .into_iter()
        .map(|mut c| {
            let id = id.clone();
            tokio::spawn(async move {
                for emoji in ["👍", "🎉", "👍", "🎉"] {
                    c.ok("reaction.add", json!({"messageId": id, "emoji": emoji}))
                        .await;
                }
                c
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let page = newest(&mut o, &room).await;
    let reactions = find(&page, &id)["reactions"].as_array().unwrap().clone();
    assert_eq!(reactions.len(), 2, "{reactions:?}");
    for r in &reactions {
        assert_eq!(r["count"], 12, "{r}");
        assert_eq!(r["userIds"].as_array().unwrap().len(), 12, "{r}");
    }
    // One seq per real change, none for the repeats, no gaps.
    let resp = o.ok("sync", json!({"since": {room.clone(): start}})).await;
    let evs = events(&resp, &room);
    assert_eq!(evs.len(), 24);
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["seq"].as_i64().unwrap(), start + 1 + i as i64);
        assert_eq!(e["event"], "reaction.added");
    }
}

async fn mentions_are_kept_for_members_and_counted_until_read(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let stranger = app.register("stranger").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob, &carol]).await;

    let m1 = a
        .ok(
            "message.send",
            json!({"roomId": room, "content": "@bob @stranger hi", "type": "text", "tempId": "m1",
                   "mentions": [bob.user_id, stranger.user_id, bob.user_id]}),
        )
        .await["message"]
        .clone();
    assert_eq!(
        m1["mentions"],
        json!([bob.user_id]),
        "non-members dropped, each once"
    );
    assert_eq!(m1["mentionsRoom"], false);
    let m2 = a
        .ok(
            "message.send",
            json!({"roomId": room, "content": "@room hello", "type": "text", "tempId": "m2", "mentionsRoom": true}),
        )
        .await["message"]
        .clone();
    assert_eq!(m2["mentionsRoom"], true);
    send(&mut a, &room, "no mention").await;
    // Bob's own mention of himself does not count for him.
    bc.ok(
        "message.send",
        json!({"roomId": room, "content": "me @bob", "type": "text", "tempId": "b1", "mentions": [bob.user_id]}),
    )
    .await;
    let r = room_entry(&mut bc, &room).await;
    assert_eq!(r["mentionCount"], 2, "{r}");
    assert_eq!(r["unreadCount"], 3, "{r}");
    // Alice's own room mention is not hers to read; bob's mentions only bob.
    let r = room_entry(&mut a, &room).await;
    assert_eq!(r["mentionCount"], 0, "{r}");

    // An edit that drops the mention drops it from the count; one that
    // keeps the fields out leaves them as they were.
    let e = a
        .ok(
            "message.edit",
            json!({"messageId": m1["messageId"], "content": "hi", "mentions": []}),
        )
        .await;
    assert_eq!(e["message"]["mentions"], json!([]));
    assert_eq!(room_entry(&mut bc, &room).await["mentionCount"], 1);
    let e = a
        .ok(
            "message.edit",
            json!({"messageId": m2["messageId"], "content": "@room hello again"}),
        )
        .await;
    assert_eq!(
        e["message"]["mentionsRoom"], true,
        "absent fields: unchanged"
    );
    assert_eq!(room_entry(&mut bc, &room).await["mentionCount"], 1);
    // Mentioned again by an edit.
    a.ok(
        "message.edit",
        json!({"messageId": m1["messageId"], "content": "@bob hi", "mentions": [bob.user_id]}),
    )
    .await;
    assert_eq!(room_entry(&mut bc, &room).await["mentionCount"], 2);
    // Deleted: not counted.
    a.ok("message.delete", json!({"messageId": m2["messageId"]}))
        .await;
    assert_eq!(room_entry(&mut bc, &room).await["mentionCount"], 1);
    // Read: nothing left.
    let seq = last_seq(&mut bc, &room).await;
    bc.ok("message.read", json!({"roomId": room, "seq": seq}))
        .await;
    let r = room_entry(&mut bc, &room).await;
    assert_eq!(
        (r["mentionCount"].clone(), r["unreadCount"].clone()),
        (json!(0), json!(0))
    );
    // History carries the mentions.
    let page = newest(&mut bc, &room).await;
    assert_eq!(
        find(&page, &m1["messageId"])["mentions"],
        json!([bob.user_id])
    );

    // Too many ids is a clear error.
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    a.fails(
        "message.send",
        json!({"roomId": room, "content": "x", "type": "text", "tempId": "many", "mentions": many}),
        "invalid",
    )
    .await;
}

async fn pins_follow_roles_and_deleting_a_pinned_message_unpins_it(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob, &carol]).await;
    let m1 = send(&mut bc, &room, "one").await;
    let m2 = send(&mut bc, &room, "two").await;
    let carol_synced = last_seq(&mut a, &room).await;

    // A plain member of a group may not pin.
    bc.fails(
        "message.pin",
        json!({"messageId": m1["messageId"]}),
        "forbidden",
    )
    .await;
    bc.fails("message.pin", json!({"messageId": "nope"}), "not_found")
        .await;
    let ack = a
        .ok("message.pin", json!({"messageId": m1["messageId"]}))
        .await;
    assert_eq!(ack["roomId"], room.as_str());
    assert_eq!(ack["pinnedMessageIds"], json!([m1["messageId"]]));
    let p = bc.push("message.pinned").await;
    assert_eq!(p["messageId"], m1["messageId"]);
    assert_eq!(p["userId"], alice.user_id.as_str());
    let pin_seq = p["seq"].as_i64().unwrap();
    assert_eq!(ack["seq"], pin_seq);
    // Pinning again changes nothing.
    let seq = last_seq(&mut a, &room).await;
    a.ok("message.pin", json!({"messageId": m1["messageId"]}))
        .await;
    assert_eq!(last_seq(&mut a, &room).await, seq);
    let ack = a
        .ok("message.pin", json!({"messageId": m2["messageId"]}))
        .await;
    assert_eq!(
        ack["pinnedMessageIds"],
        json!([m2["messageId"], m1["messageId"]]),
        "newest pin first"
    );
    assert_eq!(
        room_entry(&mut bc, &room).await["pinnedMessageIds"],
        ack["pinnedMessageIds"]
    );

    // Deleting a pinned message unpins it: message.deleted, then
    // message.unpinned at the next seq.
    bc.clear();
    let del = bc
        .ok("message.delete", json!({"messageId": m2["messageId"]}))
        .await;
    let del_seq = del["seq"].as_i64().unwrap();
    let unpinned = a.push("message.unpinned").await;
    assert_eq!(
        unpinned,
        json!({"roomId": room, "messageId": m2["messageId"], "userId": bob.user_id, "seq": del_seq + 1})
    );
    assert_eq!(
        room_entry(&mut a, &room).await["pinnedMessageIds"],
        json!([m1["messageId"]])
    );
    a.fails(
        "message.pin",
        json!({"messageId": m2["messageId"]}),
        "conflict",
    )
    .await;
    a.ok("message.unpin", json!({"messageId": m1["messageId"]}))
        .await;

    // Carol, offline, gets it all from sync.
    let mut cc = app.connect(&carol).await;
    let resp = cc
        .ok("sync", json!({"since": {room.clone(): carol_synced}}))
        .await;
    let got: Vec<String> = kinds(&events(&resp, &room))
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    assert_eq!(
        got,
        [
            "message.pinned",
            "message.pinned",
            "message.deleted",
            "message.unpinned",
            "message.unpinned"
        ]
    );
    assert_eq!(events(&resp, &room)[0]["seq"], pin_seq);

    // In a direct room either member may pin.
    let d = direct_id(&mut a, &bob).await;
    let dm = send(&mut a, &d, "direct").await;
    bc.ok("message.pin", json!({"messageId": dm["messageId"]}))
        .await;
    a.ok("message.unpin", json!({"messageId": dm["messageId"]}))
        .await;
}

async fn a_room_keeps_at_most_fifty_pins(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "g", &[]).await;
    let mut ids = Vec::new();
    for i in 0..51 {
        ids.push(send(&mut a, &room, &format!("m{i}")).await["messageId"].clone());
    }
    for id in &ids[..50] {
        a.ok("message.pin", json!({"messageId": id})).await;
    }
    let e = a
        .fails("message.pin", json!({"messageId": ids[50]}), "conflict")
        .await;
    assert!(e["message"].as_str().unwrap().contains("50"), "{e}");
    a.ok("message.unpin", json!({"messageId": ids[0]})).await;
    a.ok("message.pin", json!({"messageId": ids[50]})).await;
}

crate::on_both_databases!(
    replies_show_the_replied_message_as_it_is_now,
    reactions_take_a_seq_each_and_reach_offline_members,
    concurrent_reactions_are_counted_exactly,
    mentions_are_kept_for_members_and_counted_until_read,
    pins_follow_roles_and_deleting_a_pinned_message_unpins_it,
    a_room_keeps_at_most_fifty_pins,
);
