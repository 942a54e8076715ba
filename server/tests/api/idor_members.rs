//! The member matrix: what a member cannot do through a room she belongs to
//! (point a reply elsewhere, change what others wrote), and a removed
//! member's access ending at once. The scene is the one of [`crate::idor`].

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, direct, send};
use crate::idor::{QUIET, assert_leaks_nothing, listed, mentions, scene, snapshot};

async fn a_reply_cannot_point_into_a_room_the_sender_is_not_in(b: Backend) {
    let mut s = scene(b).await;
    let alices = s.from_alice["messageId"].as_str().unwrap();
    let into_r = s
        .cm
        .fails(
            "message.send",
            json!({"roomId": s.mine, "content": "quoting", "type": "text", "tempId": "q1", "replyTo": alices}),
            "invalid",
        )
        .await;
    assert_leaks_nothing(&into_r, &["hello bob", "secret plans"]);
    // A reply to a message that does not exist reads the same: no existence oracle.
    let nowhere =
        s.cm.fails(
            "message.send",
            json!({"roomId": s.mine, "content": "quoting", "type": "text", "tempId": "q2",
                   "replyTo": uuid::Uuid::new_v4().to_string()}),
            "invalid",
        )
        .await;
    assert_eq!(into_r, nowhere);
    // Nothing was created, in either room.
    s.cc.no_push("message.received", QUIET).await;
    let (history, entry) = snapshot(&mut s.cm, &s.mine).await;
    assert_eq!(entry["lastSeq"], 1, "{entry}");
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    let (_, entry) = snapshot(&mut s.ca, &s.room).await;
    assert_eq!(entry["lastSeq"], 2, "{entry}");
    let got = s.ca.drain(Duration::ZERO).await;
    assert!(got.is_empty(), "{got:?}");

    // A reply inside her own room works, and the same tempId was not burnt.
    let ok =
        s.cm.ok(
            "message.send",
            json!({"roomId": s.mine, "content": "quoting", "type": "text", "tempId": "q1",
                   "replyTo": s.from_mallory["messageId"]}),
        )
        .await;
    assert_eq!(ok["message"]["replyTo"], s.from_mallory["messageId"]);
    assert_eq!(ok["message"]["seq"], 2);
}

async fn members_cannot_edit_or_delete_what_others_wrote(b: Backend) {
    let mut s = scene(b).await;
    let r = s.room.clone();
    let alices = s.from_alice["messageId"].as_str().unwrap().to_owned();
    let bobs = s.from_bob["messageId"].as_str().unwrap().to_owned();
    let before = snapshot(&mut s.ca, &r).await;

    // bob is a plain member of the group.
    s.cb.fails("message.delete", json!({"messageId": alices}), "forbidden")
        .await;
    s.cb.fails(
        "message.edit",
        json!({"messageId": alices, "content": "edited by bob"}),
        "forbidden",
    )
    .await;
    for (event, data) in [
        ("room.update", json!({"roomId": r, "name": "bob's now"})),
        (
            "room.members.add",
            json!({"roomId": r, "userIds": [s.carol.user_id]}),
        ),
        (
            "room.members.remove",
            json!({"roomId": r, "userId": s.alice.user_id}),
        ),
        (
            "room.members.role",
            json!({"roomId": r, "userId": s.alice.user_id, "role": "member"}),
        ),
    ] {
        s.cb.fails(event, data, "forbidden").await;
    }
    // Even the owner may not edit someone else's words.
    s.ca.fails(
        "message.edit",
        json!({"messageId": bobs, "content": "edited by alice"}),
        "forbidden",
    )
    .await;
    let got = s.ca.drain(QUIET).await;
    assert!(got.is_empty(), "alice heard bob's failed attempts: {got:?}");
    let got = s.cb.drain(Duration::ZERO).await;
    assert!(got.is_empty(), "bob heard alice's failed edit: {got:?}");
    assert_eq!(snapshot(&mut s.ca, &r).await, before);
    let got = s.cc.drain(Duration::ZERO).await;
    assert!(got.is_empty(), "carol was not added: {got:?}");

    // In a direct room both are plain members: neither edits nor deletes the other's.
    let d = direct(&mut s.ca, &s.bob).await["roomId"]
        .as_str()
        .unwrap()
        .to_owned();
    s.cb.push("room.created").await;
    let in_d = send(&mut s.ca, &d, "direct words").await;
    s.cb.push("message.received").await;
    let in_d = in_d["messageId"].as_str().unwrap();
    s.cb.fails(
        "message.edit",
        json!({"messageId": in_d, "content": "changed"}),
        "forbidden",
    )
    .await;
    s.cb.fails("message.delete", json!({"messageId": in_d}), "forbidden")
        .await;
    s.ca.no_push("message.edited", QUIET).await;
    let history = s.ca.ok("message.history", json!({"roomId": d})).await;
    assert_eq!(history["messages"][0]["content"], "direct words");
    assert!(
        history["messages"][0]
            .get("editedAt")
            .is_none_or(Value::is_null)
    );
    assert!(
        history["messages"][0]
            .get("deletedAt")
            .is_none_or(Value::is_null)
    );

    // The owner of the group may delete bob's message (the control case).
    let deleted = s.ca.ok("message.delete", json!({"messageId": bobs})).await;
    assert_eq!(deleted["seq"], 3);
    let pushed = s.cb.push("message.deleted").await;
    assert_eq!(pushed["messageId"], json!(bobs));
}

async fn a_removed_member_loses_access_at_once_and_hears_nothing_more_from_the_room(b: Backend) {
    let mut s = scene(b).await;
    let r = s.room.clone();
    let bobs = s.from_bob["messageId"].as_str().unwrap().to_owned();
    let d = direct(&mut s.ca, &s.bob).await["roomId"]
        .as_str()
        .unwrap()
        .to_owned();
    s.cb.push("room.created").await;

    let after =
        s.ca.ok(
            "room.members.remove",
            json!({"roomId": r, "userId": s.bob.user_id}),
        )
        .await;
    let left: Vec<&Value> = after["room"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["userId"])
        .collect();
    assert_eq!(left, [&json!(s.alice.user_id)]);
    let own_leave = s.cb.push("room.member_left").await;
    assert_eq!(
        own_leave,
        json!({"roomId": r, "userId": s.bob.user_id, "seq": 3})
    );

    // At once: no reading, writing, typing or rejoining.
    for (event, data) in [
        ("message.history", json!({"roomId": r})),
        (
            "message.send",
            json!({"roomId": r, "content": "still here?", "type": "text", "tempId": "b-late"}),
        ),
        ("message.read", json!({"roomId": r, "seq": 3})),
        ("typing.start", json!({"roomId": r})),
        (
            "message.edit",
            json!({"messageId": bobs, "content": "edited after leaving"}),
        ),
        ("message.delete", json!({"messageId": bobs})),
        (
            "room.members.add",
            json!({"roomId": r, "userIds": [s.bob.user_id]}),
        ),
    ] {
        s.cb.fails(event, data, "forbidden").await;
    }
    assert!(!listed(&mut s.cb).await.contains(&r));

    // The room goes on without him.
    s.ca.ok("typing.start", json!({"roomId": r})).await;
    let later = send(&mut s.ca, &r, "now that bob is gone").await;
    assert_eq!(later["seq"], 4);
    s.ca.ok(
        "message.edit",
        json!({"messageId": s.from_alice["messageId"], "content": "hello, whoever"}),
    )
    .await;
    // A message in a room he is still in shows his socket is alive and in order.
    send(&mut s.ca, &d, "still friends").await;
    let got = s.cb.push("message.received").await;
    assert_eq!(got["message"]["roomId"], json!(d), "{got}");
    let rest = s.cb.drain(QUIET).await;
    assert!(
        !rest.iter().any(|f| mentions(f, &r)),
        "bob heard from the room after leaving it: {rest:?}"
    );

    // sync gives him nothing of the room, only the error.
    let synced = s.cb.ok("sync", json!({"since": {r.as_str(): 2}})).await;
    let part = &synced["rooms"][r.as_str()];
    assert_eq!(part["error"]["code"], "forbidden", "{synced}");
    assert_eq!(part["events"], json!([]), "{synced}");
    assert!(!synced.to_string().contains("now that bob is gone"));
    assert!(!synced.to_string().contains("hello, whoever"));

    // And alice's side did not change because of his attempts.
    let (history, entry) = snapshot(&mut s.ca, &r).await;
    assert_eq!(entry["lastSeq"], 5, "{entry}");
    let contents: Vec<&Value> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["content"])
        .collect();
    assert_eq!(
        contents,
        [
            &json!("hello, whoever"),
            &json!("hi alice"),
            &json!("now that bob is gone")
        ]
    );
    let heard = s.ca.drain(Duration::ZERO).await;
    assert!(
        !heard
            .iter()
            .any(|f| f["event"] == "message.received" || f["event"] == "typing.user"),
        "{heard:?}"
    );
}

crate::on_both_databases!(
    a_reply_cannot_point_into_a_room_the_sender_is_not_in,
    members_cannot_edit_or_delete_what_others_wrote,
    a_removed_member_loses_access_at_once_and_hears_nothing_more_from_the_room,
);
