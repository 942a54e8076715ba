//! `sync`: a client that was away gets exactly what it missed, in order.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, direct_id, group_id, send};

fn events(resp: &Value, room_id: &str) -> Vec<Value> {
    resp["rooms"][room_id]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn sync_returns_exactly_the_missed_events_in_seq_order(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let room_id = group_id(&mut a, "g", &[&bob]).await;
    let m1 = send(&mut a, &room_id, "one").await;
    // Bob saw up to seq 1, then went offline.
    let m2 = send(&mut a, &room_id, "two").await;
    a.ok(
        "message.edit",
        json!({"messageId": m1["messageId"], "content": "one (edited)"}),
    )
    .await;
    a.ok("message.delete", json!({"messageId": m2["messageId"]}))
        .await;
    a.ok(
        "room.members.add",
        json!({"roomId": room_id, "userIds": [carol.user_id]}),
    )
    .await;
    send(&mut a, &room_id, "three").await;

    let mut bc = app.connect(&bob).await;
    let resp = bc.ok("sync", json!({"since": {room_id.clone(): 1}})).await;
    let ev = events(&resp, &room_id);
    let kinds: Vec<(i64, &str)> = ev
        .iter()
        .map(|e| (e["seq"].as_i64().unwrap(), e["event"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            (2, "message.received"),
            (3, "message.edited"),
            (4, "message.deleted"),
            (5, "room.member_joined"),
            (6, "message.received"),
        ]
    );
    assert_eq!(resp["rooms"][&room_id]["hasMore"], false);
    // Payloads are shaped like the pushes, from the current state: the deleted
    // message's text is gone from every event that carries it.
    assert_eq!(ev[0]["data"]["message"]["content"], "");
    assert!(ev[0]["data"]["message"]["deletedAt"].is_string());
    assert_eq!(ev[1]["data"]["seq"], 3);
    assert_eq!(ev[1]["data"]["message"]["content"], "one (edited)");
    assert_eq!(ev[2]["data"]["messageId"], m2["messageId"]);
    assert_eq!(ev[2]["data"]["roomId"], room_id.as_str());
    assert_eq!(
        ev[3]["data"],
        json!({"roomId": room_id, "userId": carol.user_id, "seq": 5})
    );
    assert_eq!(ev[4]["data"]["message"]["content"], "three");

    let none = bc.ok("sync", json!({"since": {room_id.clone(): 6}})).await;
    assert_eq!(events(&none, &room_id), Vec::<Value>::new());
}

async fn sync_pages_with_has_more_and_reports_new_rooms(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    for i in 0..25 {
        send(&mut a, &room_id, &format!("{i}")).await;
    }
    let g = group_id(&mut a, "later", &[&bob]).await;
    let mut bc = app.connect(&bob).await;
    let mut seen = Vec::new();
    let mut since = 0;
    loop {
        let resp = bc
            .ok(
                "sync",
                json!({"since": {room_id.clone(): since}, "limit": 10}),
            )
            .await;
        let ev = events(&resp, &room_id);
        seen.extend(ev.iter().map(|e| e["seq"].as_i64().unwrap()));
        since = *seen.last().unwrap();
        let new_rooms: Vec<&str> = resp["newRooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["roomId"].as_str().unwrap())
            .collect();
        assert_eq!(new_rooms, [g.as_str()], "rooms not asked about are listed");
        if resp["rooms"][&room_id]["hasMore"] == false {
            break;
        }
        assert_eq!(ev.len(), 10);
    }
    assert_eq!(
        seen,
        (1..=25).collect::<Vec<i64>>(),
        "gapless, no duplicates"
    );

    let empty = bc.ok("sync", json!({})).await;
    assert_eq!(empty["newRooms"].as_array().unwrap().len(), 2);
    for bad in [
        json!({"since": {room_id.clone(): -1}}),
        json!({"limit": 0}),
        json!({"since": []}),
    ] {
        bc.fails("sync", bad, "invalid").await;
    }
    let capped = bc
        .ok(
            "sync",
            json!({"since": {room_id.clone(): 0}, "limit": 5000}),
        )
        .await;
    assert_eq!(events(&capped, &room_id).len(), 25);
}

async fn a_removed_member_gets_nothing_of_the_room_not_even_later_edits(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = group_id(&mut a, "g", &[&bob]).await;
    let seen = send(&mut a, &room_id, "seen by bob").await;
    a.ok(
        "room.members.remove",
        json!({"roomId": room_id, "userId": bob.user_id}),
    )
    .await;
    // After bob is gone: an edit of what he saw, and a new message.
    a.ok(
        "message.edit",
        json!({"messageId": seen["messageId"], "content": "rewritten after bob left"}),
    )
    .await;
    send(&mut a, &room_id, "secret").await;

    let mut bc = app.connect(&bob).await;
    let mut answer = Value::Null;
    for since in [0, 1] {
        let resp = bc
            .ok("sync", json!({"since": {room_id.clone(): since}}))
            .await;
        let part = &resp["rooms"][&room_id];
        assert_eq!(part["error"]["code"], "forbidden", "{resp}");
        assert_eq!(part["events"], json!([]), "{resp}");
        assert_eq!(part["hasMore"], false, "{resp}");
        let text = resp.to_string();
        assert!(
            !text.contains("rewritten"),
            "an edit made after the leave leaked: {text}"
        );
        assert!(!text.contains("secret"), "{text}");
        answer = part["error"].clone();
    }
    let unknown = bc.ok("sync", json!({"since": {"no-such-room": 0}})).await;
    // The same answer as for a room that exists without the caller.
    assert_eq!(unknown["rooms"]["no-such-room"]["error"], answer);
}

async fn a_client_that_reconnects_and_syncs_misses_nothing_and_sees_nothing_twice(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    let mut bc = app.connect(&bob).await;
    let mut last = 0;
    let mut got: Vec<i64> = Vec::new();
    for round in 0..3 {
        for i in 0..5 {
            send(&mut a, &room_id, &format!("r{round} m{i}")).await;
        }
        // Live pushes while connected...
        for p in bc
            .collect("message.received", Duration::from_millis(300))
            .await
        {
            let s = p["message"]["seq"].as_i64().unwrap();
            assert_eq!(s, last + 1, "pushes arrive in seq order without gaps");
            last = s;
            got.push(s);
        }
        // ...then offline while more is sent, then back with sync.
        bc.close().await;
        for i in 0..5 {
            send(&mut a, &room_id, &format!("r{round} offline {i}")).await;
        }
        bc = app.connect(&bob).await;
        let resp = bc
            .ok("sync", json!({"since": {room_id.clone(): last}}))
            .await;
        for e in events(&resp, &room_id) {
            let s = e["seq"].as_i64().unwrap();
            assert_eq!(s, last + 1);
            last = s;
            got.push(s);
        }
    }
    assert_eq!(got, (1..=30).collect::<Vec<i64>>());
}

crate::on_both_databases!(
    sync_returns_exactly_the_missed_events_in_seq_order,
    sync_pages_with_has_more_and_reports_new_rooms,
    a_removed_member_gets_nothing_of_the_room_not_even_later_edits,
    a_client_that_reconnects_and_syncs_misses_nothing_and_sees_nothing_twice,
);
