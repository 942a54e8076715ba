//! The non-member matrix: every id-taking event as an outsider, and through a room the caller does belong to.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    Backend, TestApp, TestUser, WsClient, direct, direct_id, group, group_id, send,
};

/// How long a test listens to be sure a push did not come.
pub(crate) const QUIET: Duration = Duration::from_millis(500);

/// alice (owner) and bob (member) share the group `room` ("secret plans")
/// with one message from each. mallory is registered and connected but shares
/// no room with them; she has her own direct room `mine` with carol, holding
/// one message of hers. Every socket's buffer is empty when this returns.
pub(crate) struct Scene {
    pub(crate) _app: TestApp,
    pub(crate) alice: TestUser,
    pub(crate) bob: TestUser,
    pub(crate) mallory: TestUser,
    pub(crate) carol: TestUser,
    pub(crate) ca: WsClient,
    pub(crate) cb: WsClient,
    pub(crate) cm: WsClient,
    pub(crate) cc: WsClient,
    pub(crate) room: String,
    pub(crate) mine: String,
    pub(crate) from_alice: Value,
    pub(crate) from_bob: Value,
    pub(crate) from_mallory: Value,
}

pub(crate) async fn scene(b: Backend) -> Scene {
    let app = TestApp::spawn(b).await;
    let mut users = app
        .users(&["alice", "bob", "mallory", "carol"])
        .await
        .into_iter();
    let (alice, mut ca) = users.next().unwrap();
    let (bob, mut cb) = users.next().unwrap();
    let (mallory, mut cm) = users.next().unwrap();
    let (carol, mut cc) = users.next().unwrap();

    let room = group_id(&mut ca, "secret plans", &[&bob]).await;
    cb.push("room.created").await;
    let from_alice = send(&mut ca, &room, "hello bob").await;
    cb.push("message.received").await;
    let from_bob = send(&mut cb, &room, "hi alice").await;
    ca.push("message.received").await;

    let mine = direct_id(&mut cm, &carol).await;
    cc.push("room.created").await;
    let from_mallory = send(&mut cm, &mine, "hey carol").await;
    cc.push("message.received").await;

    for c in [&mut ca, &mut cb, &mut cm, &mut cc] {
        c.clear();
    }
    Scene {
        _app: app,
        alice,
        bob,
        mallory,
        carol,
        ca,
        cb,
        cm,
        cc,
        room,
        mine,
        from_alice,
        from_bob,
        from_mallory,
    }
}

/// What a member sees of a room: its history page and its `room.list` entry.
pub(crate) async fn snapshot(c: &mut WsClient, room_id: &str) -> (Value, Value) {
    let history = c
        .ok("message.history", json!({"roomId": room_id, "limit": 100}))
        .await;
    let list = c.ok("room.list", json!({})).await;
    let entry = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roomId"] == room_id)
        .cloned()
        .unwrap_or_else(|| panic!("{room_id} is not in room.list: {list}"));
    (history, entry)
}

/// The ids of the rooms in a `room.list` answer.
pub(crate) async fn listed(c: &mut WsClient) -> Vec<String> {
    c.ok("room.list", json!({})).await["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["roomId"].as_str().unwrap().to_owned())
        .collect()
}

/// An error carries its code and a message, nothing else, and the message
/// repeats none of the protected text.
pub(crate) fn assert_leaks_nothing(e: &Value, secrets: &[&str]) {
    let fields = e.as_object().unwrap_or_else(|| panic!("error body: {e}"));
    assert!(
        fields.keys().all(|k| k == "code" || k == "message"),
        "an error carries only code and message: {e}"
    );
    let text = e["message"].as_str().unwrap_or_default();
    for s in secrets {
        assert!(!text.contains(s), "the error repeats {s:?}: {e}");
    }
}

/// Does this frame say anything about the room?
pub(crate) fn mentions(frame: &Value, room_id: &str) -> bool {
    frame.to_string().contains(room_id)
}

async fn an_outsider_is_forbidden_every_event_on_a_room_she_is_not_in(b: Backend) {
    let mut s = scene(b).await;
    let r = s.room.clone();
    let alices = s.from_alice["messageId"].as_str().unwrap().to_owned();
    let bobs = s.from_bob["messageId"].as_str().unwrap().to_owned();
    let before = snapshot(&mut s.ca, &r).await;
    assert_eq!(before.1["lastSeq"], 2, "{}", before.1);

    let attempts = [
        (
            "message.send",
            json!({"roomId": r, "content": "let me in", "type": "text", "tempId": "mallory-1"}),
        ),
        (
            "message.send",
            json!({"roomId": r, "content": "a reply", "type": "text", "replyTo": alices}),
        ),
        (
            "message.edit",
            json!({"messageId": alices, "content": "pwned"}),
        ),
        (
            "message.edit",
            json!({"messageId": bobs, "content": "pwned"}),
        ),
        ("message.delete", json!({"messageId": alices})),
        ("message.delete", json!({"messageId": bobs})),
        ("message.history", json!({"roomId": r})),
        (
            "message.history",
            json!({"roomId": r, "direction": "after", "cursor": 0, "limit": 100}),
        ),
        ("message.read", json!({"roomId": r, "seq": 1})),
        ("typing.start", json!({"roomId": r})),
        ("typing.stop", json!({"roomId": r})),
        (
            "room.update",
            json!({"roomId": r, "name": "pwned", "description": "pwned"}),
        ),
        (
            "room.members.add",
            json!({"roomId": r, "userIds": [s.mallory.user_id]}),
        ),
        (
            "room.members.remove",
            json!({"roomId": r, "userId": s.bob.user_id}),
        ),
        (
            "room.members.remove",
            json!({"roomId": r, "userId": s.alice.user_id}),
        ),
        (
            "room.members.remove",
            json!({"roomId": r, "userId": s.mallory.user_id}),
        ),
        (
            "room.members.role",
            json!({"roomId": r, "userId": s.bob.user_id, "role": "admin"}),
        ),
        (
            "room.members.role",
            json!({"roomId": r, "userId": s.alice.user_id, "role": "member"}),
        ),
    ];
    for (event, data) in attempts {
        let e = s.cm.fails(event, data, "forbidden").await;
        assert_leaks_nothing(&e, &["hello bob", "hi alice", "secret plans"]);
    }

    // sync answers, but the room is an error with no events; mallory's own room is fine.
    let synced =
        s.cm.ok(
            "sync",
            json!({"since": {r.as_str(): 0, s.mine.as_str(): 0}}),
        )
        .await;
    let foreign = &synced["rooms"][r.as_str()];
    assert_eq!(foreign["error"]["code"], "forbidden", "{synced}");
    assert_eq!(foreign["events"], json!([]), "{synced}");
    assert_eq!(foreign["hasMore"], false, "{synced}");
    assert_leaks_nothing(
        &foreign["error"],
        &["hello bob", "hi alice", "secret plans"],
    );
    let own = &synced["rooms"][s.mine.as_str()];
    assert!(own.get("error").is_none(), "{synced}");
    assert_eq!(own["events"].as_array().unwrap().len(), 1, "{synced}");
    assert_eq!(
        own["events"][0]["data"]["message"]["messageId"],
        s.from_mallory["messageId"]
    );
    assert_eq!(synced["newRooms"], json!([]), "{synced}");
    // Without naming it, the room is not offered as new either.
    let synced = s.cm.ok("sync", json!({"since": {}})).await;
    let new_rooms: Vec<&Value> = synced["newRooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|room| &room["roomId"])
        .collect();
    assert_eq!(new_rooms, [&json!(s.mine)], "{synced}");
    assert!(!mentions(&synced, &r), "{synced}");

    // Presence: alice and bob share no room with mallory, so they are left out.
    let p = s
        .cm
        .ok(
            "presence.get",
            json!({"userIds": [s.alice.user_id, s.bob.user_id, s.carol.user_id, s.mallory.user_id]}),
        )
        .await;
    let mut seen: Vec<&str> = p["presence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["userId"].as_str().unwrap())
        .collect();
    seen.sort_unstable();
    let mut expected = vec![s.carol.user_id.as_str(), s.mallory.user_id.as_str()];
    expected.sort_unstable();
    assert_eq!(seen, expected, "{p}");
    assert_eq!(listed(&mut s.cm).await, [s.mine.clone()]);

    // None of it reached alice or bob, and the room is exactly as it was.
    for (who, c) in [("alice", &mut s.ca), ("bob", &mut s.cb)] {
        let got = c.drain(QUIET).await;
        assert!(
            got.is_empty(),
            "{who} received pushes caused by mallory: {got:?}"
        );
    }
    assert_eq!(snapshot(&mut s.ca, &r).await, before);
    let (history, entry) = &before;
    let contents: Vec<&Value> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["content"])
        .collect();
    assert_eq!(contents, [&json!("hello bob"), &json!("hi alice")]);
    assert_eq!(entry["name"], "secret plans");
    let members: Vec<(&Value, &Value)> = entry["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (&m["userId"], &m["role"]))
        .collect();
    assert_eq!(members.len(), 2, "{entry}");
    assert!(members.contains(&(&json!(s.alice.user_id), &json!("owner"))));
    assert!(members.contains(&(&json!(s.bob.user_id), &json!("member"))));
    // Nor did carol, who shares a room with mallory, hear anything.
    let got = s.cc.drain(Duration::ZERO).await;
    assert!(got.is_empty(), "{got:?}");
}

/// Who talks with whom must not leak: direct room ids can be computed, so a
/// non-member gets one answer (code and message alike) whether the room was
/// never created or exists without her.
async fn a_non_member_gets_one_answer_whether_or_not_the_room_exists(b: Backend) {
    let mut s = scene(b).await;
    let ghost_room = uuid::Uuid::new_v4().to_string();
    let ghost_message = uuid::Uuid::new_v4().to_string();
    let direct_of = |x: &TestUser, y: &TestUser| {
        let (lo, hi) = if x.user_id < y.user_id {
            (&x.user_id, &y.user_id)
        } else {
            (&y.user_id, &x.user_id)
        };
        format!("direct_{lo}_{hi}")
    };
    // Never created: mallory with alice. Created: alice with bob.
    let ghost_direct = direct_of(&s.mallory, &s.alice);
    let real_direct = direct_id(&mut s.ca, &s.bob).await;
    assert_eq!(real_direct, direct_of(&s.alice, &s.bob));
    let rooms = [
        ghost_room.as_str(),
        ghost_direct.as_str(),
        real_direct.as_str(),
        s.room.as_str(),
    ];
    let mut answers: Vec<(String, Value)> = Vec::new();
    for room in rooms {
        for (event, data) in [
            (
                "message.send",
                json!({"roomId": room, "content": "anyone?", "type": "text", "tempId": format!("t-{room}")}),
            ),
            ("message.history", json!({"roomId": room})),
            ("message.read", json!({"roomId": room, "seq": 1})),
            ("typing.start", json!({"roomId": room})),
            ("typing.stop", json!({"roomId": room})),
            ("room.update", json!({"roomId": room, "name": "mine now"})),
            (
                "room.members.add",
                json!({"roomId": room, "userIds": [s.mallory.user_id]}),
            ),
            (
                "room.members.remove",
                json!({"roomId": room, "userId": s.mallory.user_id}),
            ),
            (
                "room.members.role",
                json!({"roomId": room, "userId": s.carol.user_id, "role": "admin"}),
            ),
        ] {
            let e = s.cm.fails(event, data, "forbidden").await;
            assert_leaks_nothing(&e, &[room]);
            answers.push((event.to_owned(), e));
        }
        let synced = s.cm.ok("sync", json!({"since": {room: 0}})).await;
        let part = &synced["rooms"][room];
        assert_eq!(part["events"], json!([]), "{synced}");
        assert_eq!(part["hasMore"], false, "{synced}");
        answers.push(("sync".to_owned(), part["error"].clone()));
    }
    // Per event, the four rooms got byte-identical answers.
    let per_room = answers.len() / rooms.len();
    for i in 0..per_room {
        let first = &answers[i];
        for r in 1..rooms.len() {
            let other = &answers[r * per_room + i];
            assert_eq!(
                other, first,
                "{} answered differently for {}",
                first.0, rooms[r]
            );
        }
        assert_eq!(first.1["code"], "forbidden", "{first:?}");
    }
    for (event, data) in [
        (
            "message.edit",
            json!({"messageId": ghost_message, "content": "x"}),
        ),
        ("message.delete", json!({"messageId": ghost_message})),
    ] {
        s.cm.fails(event, data, "not_found").await;
    }
    // Unknown users, even through rooms she owns.
    let own_group = group(&mut s.cm, "mallory's", &[&s.carol]).await;
    s.cm.fails(
        "room.members.add",
        json!({"roomId": own_group["roomId"], "userIds": [uuid::Uuid::new_v4().to_string()]}),
        "not_found",
    )
    .await;
    s.cm.fails(
        "room.create",
        json!({"type": "direct", "memberIds": [uuid::Uuid::new_v4().to_string()]}),
        "not_found",
    )
    .await;
    assert!(
        !listed(&mut s.cm).await.contains(&ghost_direct),
        "a failed request created a room"
    );
    // Nothing was created by the attempts on a room that does not exist.
    let (_, entry) = snapshot(&mut s.cm, &s.mine).await;
    assert_eq!(entry["lastSeq"], 1);
    let got = s.ca.drain(QUIET).await;
    assert!(got.is_empty(), "alice heard: {got:?}");
}

async fn a_direct_room_of_two_others_is_closed_to_a_third(b: Backend) {
    let mut s = scene(b).await;
    let d = direct(&mut s.ca, &s.bob).await["roomId"]
        .as_str()
        .unwrap()
        .to_owned();
    s.cb.push("room.created").await;
    let said = send(&mut s.ca, &d, "just between us").await;
    s.cb.push("message.received").await;
    let said_id = said["messageId"].as_str().unwrap();
    let before = snapshot(&mut s.ca, &d).await;

    for (event, data) in [
        (
            "message.send",
            json!({"roomId": d, "content": "hi both", "type": "text", "tempId": "m-d"}),
        ),
        (
            "message.edit",
            json!({"messageId": said_id, "content": "pwned"}),
        ),
        ("message.delete", json!({"messageId": said_id})),
        ("message.history", json!({"roomId": d})),
        ("message.read", json!({"roomId": d, "seq": 1})),
        ("typing.start", json!({"roomId": d})),
        ("typing.stop", json!({"roomId": d})),
        ("room.update", json!({"roomId": d, "name": "ours"})),
        (
            "room.members.add",
            json!({"roomId": d, "userIds": [s.mallory.user_id]}),
        ),
        (
            "room.members.remove",
            json!({"roomId": d, "userId": s.bob.user_id}),
        ),
    ] {
        let e = s.cm.fails(event, data, "forbidden").await;
        assert_leaks_nothing(&e, &["just between us"]);
    }
    let synced = s.cm.ok("sync", json!({"since": {d.as_str(): 0}})).await;
    assert_eq!(
        synced["rooms"][d.as_str()]["error"]["code"],
        "forbidden",
        "{synced}"
    );
    assert_eq!(synced["rooms"][d.as_str()]["events"], json!([]));
    assert!(!synced.to_string().contains("just between us"), "{synced}");
    // Asking for a direct room with alice makes a new room of their own, not that one.
    let own = direct(&mut s.cm, &s.alice).await;
    assert_ne!(own["roomId"], json!(d));
    s.ca.push("room.created").await;

    for (who, c) in [("alice", &mut s.ca), ("bob", &mut s.cb)] {
        let got = c.drain(QUIET).await;
        assert!(
            !got.iter().any(|f| mentions(f, &d)),
            "{who} received pushes about the direct room caused by mallory: {got:?}"
        );
    }
    assert_eq!(snapshot(&mut s.ca, &d).await, before);
}

crate::on_both_databases!(
    an_outsider_is_forbidden_every_event_on_a_room_she_is_not_in,
    a_non_member_gets_one_answer_whether_or_not_the_room_exists,
    a_direct_room_of_two_others_is_closed_to_a_third,
);
