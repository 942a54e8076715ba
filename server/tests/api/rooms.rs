//! Creating rooms, listing them, renaming, membership changes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, direct, direct_id, group, group_id, send};

const QUIET: Duration = Duration::from_millis(300);

fn member_ids(room: &Value) -> Vec<String> {
    let mut ids: Vec<String> = room["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn role_of(room: &Value, user_id: &str) -> String {
    room["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userId"] == user_id)
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn a_direct_room_has_a_deterministic_id_and_is_created_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = direct(&mut a, &bob).await;
    let (lo, hi) = if alice.user_id < bob.user_id {
        (&alice.user_id, &bob.user_id)
    } else {
        (&bob.user_id, &alice.user_id)
    };
    assert_eq!(room["roomId"], format!("direct_{lo}_{hi}"));
    assert_eq!(room["type"], "direct");
    assert_eq!(room["lastSeq"], 0);
    assert_eq!(role_of(&room, &alice.user_id), "member");
    assert_eq!(role_of(&room, &bob.user_id), "member");
    let pushed = bc.push("room.created").await;
    assert_eq!(pushed["room"]["roomId"], room["roomId"]);

    // Either side asking again gets the same room, and nobody is told twice.
    let again = bc
        .ok(
            "room.create",
            json!({"type": "direct", "memberIds": [alice.user_id]}),
        )
        .await;
    assert_eq!(again["room"]["roomId"], room["roomId"]);
    let with_self = a
        .ok(
            "room.create",
            json!({"type": "direct", "memberIds": [alice.user_id, bob.user_id]}),
        )
        .await;
    assert_eq!(with_self["room"]["roomId"], room["roomId"]);
    a.no_push("room.created", QUIET).await;
    bc.no_push("room.created", QUIET).await;
}

async fn room_creation_checks_its_input(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    for (req, code) in [
        (json!({"type": "direct", "memberIds": []}), "invalid"),
        (
            json!({"type": "direct", "memberIds": [alice.user_id]}),
            "invalid",
        ),
        (
            json!({"type": "direct", "memberIds": [bob.user_id, carol.user_id]}),
            "invalid",
        ),
        (
            json!({"type": "direct", "memberIds": ["no-such-user"]}),
            "not_found",
        ),
        (
            json!({"type": "group", "memberIds": [bob.user_id]}),
            "invalid",
        ),
        (
            json!({"type": "group", "name": "  ", "memberIds": []}),
            "invalid",
        ),
        (
            json!({"type": "group", "name": "x".repeat(101), "memberIds": []}),
            "invalid",
        ),
        (
            json!({"type": "group", "name": "ok", "memberIds": ["ghost"]}),
            "not_found",
        ),
        (
            json!({"type": "channel", "name": "ok", "memberIds": []}),
            "invalid",
        ),
        (
            json!({"type": "group", "name": "ok", "memberIds": "everyone"}),
            "invalid",
        ),
    ] {
        a.fails("room.create", req, code).await;
    }
}

async fn a_group_is_owned_by_its_creator_and_announced_to_its_members(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let ack = a
        .ok(
            "room.create",
            json!({
                "type": "group",
                "name": "Team Chat",
                "description": "Our awesome team",
                "memberIds": [bob.user_id, carol.user_id, bob.user_id],
                "isPrivate": false
            }),
        )
        .await;
    let room = &ack["room"];
    assert_eq!(room["type"], "group");
    assert_eq!(room["name"], "Team Chat");
    assert_eq!(room["description"], "Our awesome team");
    assert_eq!(room["isPrivate"], false);
    assert_eq!(room["createdBy"], alice.user_id.as_str());
    assert_eq!(room["lastSeq"], 0, "creation takes no seq");
    let mut expected = vec![
        alice.user_id.clone(),
        bob.user_id.clone(),
        carol.user_id.clone(),
    ];
    expected.sort();
    assert_eq!(member_ids(room), expected);
    assert_eq!(role_of(room, &alice.user_id), "owner");
    assert_eq!(role_of(room, &bob.user_id), "member");
    for c in [&mut bc, &mut cc] {
        assert_eq!(
            c.push("room.created").await["room"]["roomId"],
            room["roomId"]
        );
    }
    let m = send(&mut bc, room["roomId"].as_str().unwrap(), "hi all").await;
    assert_eq!(m["seq"], 1);
}

async fn group_creation_is_rate_limited(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.rate_limits.room_create = leetchat_server::config::RateLimit::new(2, 3600);
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    group(&mut a, "one", &[]).await;
    group(&mut a, "two", &[]).await;
    let e = a
        .fails(
            "room.create",
            json!({"type": "group", "name": "three", "memberIds": []}),
            "rate_limited",
        )
        .await;
    assert!(
        e["retryAfterMs"].as_u64().is_some_and(|ms| ms > 3_000_000),
        "{e}"
    );
    // Direct rooms are idempotent and not limited.
    direct(&mut a, &bob).await;
}

async fn room_list_shows_unread_counts_last_message_and_read_pointer(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let dm = direct_id(&mut a, &bob).await;
    let g = group_id(&mut a, "g", &[&bob, &carol]).await;
    for i in 0..3 {
        send(&mut a, &dm, &format!("dm {i}")).await;
    }
    let gone = send(&mut a, &g, "to be deleted").await;
    send(&mut a, &g, "group last").await;
    a.ok("message.delete", json!({"messageId": gone["messageId"]}))
        .await;
    send(&mut bc, &g, "bob's own").await;

    let list = bc.ok("room.list", json!({})).await;
    let rooms = list["rooms"].as_array().unwrap();
    assert_eq!(rooms.len(), 2);
    assert_eq!(rooms[0]["roomId"], g.as_str(), "most recently active first");
    let gr = &rooms[0];
    assert_eq!(
        gr["unreadCount"], 1,
        "deleted and own messages do not count: {gr}"
    );
    assert_eq!(gr["lastMessage"]["content"], "bob's own");
    assert_eq!(gr["lastReadSeq"], 0);
    assert_eq!(gr["lastSeq"], 4);
    let dr = &rooms[1];
    assert_eq!(dr["unreadCount"], 3);
    assert_eq!(dr["lastMessage"]["content"], "dm 2");
    bc.ok("message.read", json!({"roomId": dm, "seq": 2})).await;
    let list = bc.ok("room.list", json!({})).await;
    let dr = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roomId"] == dm.as_str())
        .unwrap()
        .clone();
    assert_eq!(dr["unreadCount"], 1);
    assert_eq!(dr["lastReadSeq"], 2);
}

async fn owners_and_admins_rename_groups_and_members_cannot(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room_id = group_id(&mut a, "old", &[&bob]).await;
    bc.fails(
        "room.update",
        json!({"roomId": room_id, "name": "mine"}),
        "forbidden",
    )
    .await;
    let up = a
        .ok(
            "room.update",
            json!({"roomId": room_id, "name": "new", "description": "d"}),
        )
        .await;
    assert_eq!(up["room"]["name"], "new");
    assert_eq!(up["room"]["description"], "d");
    let pushed = bc.push("room.updated").await;
    assert_eq!(pushed["room"]["name"], "new");
    // Make bob an admin (extension), then he may rename.
    a.ok(
        "room.members.role",
        json!({"roomId": room_id, "userId": bob.user_id, "role": "admin"}),
    )
    .await;
    let up = bc
        .ok("room.update", json!({"roomId": room_id, "name": "bob's"}))
        .await;
    assert_eq!(up["room"]["name"], "bob's");
    a.fails(
        "room.update",
        json!({"roomId": room_id, "name": ""}),
        "invalid",
    )
    .await;
    let dm = direct_id(&mut a, &bob).await;
    a.fails("room.update", json!({"roomId": dm, "name": "x"}), "invalid")
        .await;
    a.fails(
        "room.update",
        json!({"roomId": "nope", "name": "x"}),
        "forbidden",
    )
    .await;
}

async fn adding_members_takes_a_seq_per_join_and_tells_everyone(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let room_id = group_id(&mut a, "g", &[&bob]).await;
    send(&mut a, &room_id, "before").await;
    bc.clear();

    bc.fails(
        "room.members.add",
        json!({"roomId": room_id, "userIds": [carol.user_id]}),
        "forbidden",
    )
    .await;
    let ack = a
        .ok(
            "room.members.add",
            json!({"roomId": room_id, "userIds": [carol.user_id, dave.user_id, bob.user_id]}),
        )
        .await;
    assert_eq!(ack["room"]["members"].as_array().unwrap().len(), 4);
    assert_eq!(
        ack["room"]["lastSeq"], 3,
        "two joins, two seqs (bob was already in)"
    );

    let created = cc.push("room.created").await;
    assert_eq!(created["room"]["roomId"], room_id.as_str());
    let joins = bc.collect("room.member_joined", QUIET).await;
    let seqs: Vec<i64> = joins.iter().map(|j| j["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(cc.collect("room.member_joined", QUIET).await.len(), 2);

    // The newcomer reads history from before joining, and nothing counts as unread.
    let page = cc.ok("message.history", json!({"roomId": room_id})).await;
    assert_eq!(page["messages"][0]["content"], "before");
    let list = cc.ok("room.list", json!({})).await;
    assert_eq!(list["rooms"][0]["unreadCount"], 0);

    a.fails(
        "room.members.add",
        json!({"roomId": room_id, "userIds": []}),
        "invalid",
    )
    .await;
    a.fails(
        "room.members.add",
        json!({"roomId": room_id, "userIds": ["ghost"]}),
        "not_found",
    )
    .await;
    let dm = direct_id(&mut a, &bob).await;
    a.fails(
        "room.members.add",
        json!({"roomId": dm, "userIds": [carol.user_id]}),
        "invalid",
    )
    .await;
}

async fn a_removed_member_hears_its_own_leave_and_then_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let room_id = group_id(&mut a, "g", &[&bob, &carol]).await;
    bc.fails(
        "room.members.remove",
        json!({"roomId": room_id, "userId": carol.user_id}),
        "forbidden",
    )
    .await;
    let ack = a
        .ok(
            "room.members.remove",
            json!({"roomId": room_id, "userId": bob.user_id}),
        )
        .await;
    assert_eq!(ack["room"]["members"].as_array().unwrap().len(), 2);
    let left = bc.push("room.member_left").await;
    assert_eq!(
        left,
        json!({"roomId": room_id, "userId": bob.user_id, "seq": 1})
    );
    assert_eq!(cc.push("room.member_left").await["seq"], 1);

    send(&mut a, &room_id, "after bob left").await;
    cc.push("message.received").await;
    bc.no_push("message.received", QUIET).await;
    bc.fails("message.history", json!({"roomId": room_id}), "forbidden")
        .await;
    let list = bc.ok("room.list", json!({})).await;
    assert_eq!(list["rooms"], json!([]));

    // Carol leaves on her own.
    cc.ok(
        "room.members.remove",
        json!({"roomId": room_id, "userId": carol.user_id}),
    )
    .await;
    assert_eq!(
        a.push("room.member_left").await["userId"],
        carol.user_id.as_str()
    );
    a.fails(
        "room.members.remove",
        json!({"roomId": room_id, "userId": carol.user_id}),
        "not_found",
    )
    .await;
    let dm = direct_id(&mut a, &bob).await;
    a.fails(
        "room.members.remove",
        json!({"roomId": dm, "userId": alice.user_id}),
        "invalid",
    )
    .await;
}

async fn an_owner_who_leaves_hands_the_group_over(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let room_id = group_id(&mut a, "g", &[&bob, &carol]).await;
    a.ok(
        "room.members.role",
        json!({"roomId": room_id, "userId": carol.user_id, "role": "admin"}),
    )
    .await;
    // An admin cannot remove the owner, nor another admin.
    cc.fails(
        "room.members.remove",
        json!({"roomId": room_id, "userId": alice.user_id}),
        "forbidden",
    )
    .await;
    bc.fails(
        "room.members.role",
        json!({"roomId": room_id, "userId": bob.user_id, "role": "owner"}),
        "invalid",
    )
    .await;
    cc.fails(
        "room.members.role",
        json!({"roomId": room_id, "userId": bob.user_id, "role": "admin"}),
        "forbidden",
    )
    .await;
    bc.clear();
    cc.clear();
    a.ok(
        "room.members.remove",
        json!({"roomId": room_id, "userId": alice.user_id}),
    )
    .await;
    let updated = bc.push("room.updated").await;
    assert_eq!(
        role_of(&updated["room"], &carol.user_id),
        "owner",
        "the admin inherits"
    );
    let room = cc.ok("room.list", json!({})).await["rooms"][0].clone();
    assert_eq!(role_of(&room, &carol.user_id), "owner");
    assert_eq!(room["members"].as_array().unwrap().len(), 2);
}

crate::on_both_databases!(
    a_direct_room_has_a_deterministic_id_and_is_created_once,
    room_creation_checks_its_input,
    a_group_is_owned_by_its_creator_and_announced_to_its_members,
    group_creation_is_rate_limited,
    room_list_shows_unread_counts_last_message_and_read_pointer,
    owners_and_admins_rename_groups_and_members_cannot,
    adding_members_takes_a_seq_per_join_and_tells_everyone,
    a_removed_member_hears_its_own_leave_and_then_nothing,
    an_owner_who_leaves_hands_the_group_over,
);
