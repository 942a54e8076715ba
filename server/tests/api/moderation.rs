//! Running a community (protocol 9.8), in groups: invite links, bans,
//! blocks and reports, each with who may and who may not.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, WsClient, direct_id, group_id, send};

const QUIET: Duration = Duration::from_millis(600);

async fn last_seq(c: &mut WsClient, room: &str) -> i64 {
    let rooms = c.ok("room.list", json!({})).await;
    rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roomId"] == room)
        .map_or(-1, |r| r["lastSeq"].as_i64().unwrap())
}

fn members(room: &Value) -> Vec<String> {
    room["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userId"].as_str().unwrap().to_owned())
        .collect()
}

async fn make_admin(c: &mut WsClient, room: &str, user: &str) {
    c.ok(
        "room.members.role",
        json!({"roomId": room, "userId": user, "role": "admin"}),
    )
    .await;
}

async fn invite_links_let_people_in(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut bc2 = app.connect(&app.login("bob").await).await;
    let mut cc = app.connect(&carol).await;
    let mut dc = app.connect(&dave).await;
    let room = group_id(&mut a, "club", &[&carol]).await;

    // Who may make one: the owner and admins; not members, not outsiders,
    // and not in a direct room.
    cc.fails("room.invite.create", json!({"roomId": room}), "forbidden")
        .await;
    dc.fails("room.invite.create", json!({"roomId": room}), "forbidden")
        .await;
    let dm = direct_id(&mut a, &bob).await;
    a.fails("room.invite.create", json!({"roomId": dm}), "invalid")
        .await;
    for bad in [
        json!({"maxUses": 0}),
        json!({"expiresInS": 0}),
        json!({"maxUses": "2"}),
    ] {
        let mut req = bad.clone();
        req["roomId"] = json!(room);
        a.fails("room.invite.create", req, "invalid").await;
    }
    let made = a
        .ok(
            "room.invite.create",
            json!({"roomId": room, "maxUses": 2, "expiresInS": 3600}),
        )
        .await;
    let inv = &made["invite"];
    let code = inv["code"].as_str().unwrap().to_owned();
    assert!(code.len() >= 22, "at least 128 bits: {code}");
    assert_eq!(
        (&inv["roomId"], &inv["uses"], &inv["maxUses"]),
        (&json!(room), &json!(0), &json!(2))
    );
    assert!(inv["expiresAt"].as_str().is_some());

    // Joining takes a seq and tells everyone; the joiner's other device
    // learns the room.
    let before = last_seq(&mut a, &room).await;
    let joined = bc.ok("room.join", json!({"code": code})).await;
    assert!(members(&joined["room"]).contains(&bob.user_id));
    let ev = a.push("room.member_joined").await;
    assert_eq!(
        (&ev["userId"], &ev["seq"]),
        (&json!(bob.user_id), &json!(before + 1))
    );
    // (After the direct room's, made above.)
    while bc2.push("room.created").await["room"]["roomId"] != room {}
    send(&mut bc, &room, "hi all").await;
    // Joining again: the room, no seq, no use.
    let seq = last_seq(&mut a, &room).await;
    bc.ok("room.join", json!({"code": code})).await;
    assert_eq!(last_seq(&mut a, &room).await, seq);
    let listed = a.ok("room.invite.list", json!({"roomId": room})).await;
    assert_eq!(listed["invites"][0]["uses"], 1);
    // The last use, then it is used up.
    dc.ok("room.join", json!({"code": code})).await;
    let eve = app.register("eve").await;
    let mut ec = app.connect(&eve).await;
    let used_up = ec
        .fails("room.join", json!({"code": code}), "not_found")
        .await;
    let listed = a.ok("room.invite.list", json!({"roomId": room})).await;
    assert_eq!(
        listed["invites"],
        json!([]),
        "a used-up invite is not listed"
    );

    // Listing and revoking: owner and admins only; outsiders cannot tell a
    // code exists.
    let second = a.ok("room.invite.create", json!({"roomId": room})).await["invite"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    cc.fails("room.invite.list", json!({"roomId": room}), "forbidden")
        .await;
    ec.fails("room.invite.list", json!({"roomId": room}), "forbidden")
        .await;
    cc.fails("room.invite.revoke", json!({"code": second}), "forbidden")
        .await;
    let outsider = ec
        .fails("room.invite.revoke", json!({"code": second}), "not_found")
        .await;
    let unknown = ec
        .fails(
            "room.join",
            json!({"code": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
            "not_found",
        )
        .await;
    assert_eq!(used_up["message"], unknown["message"]);
    assert_eq!(outsider["message"], unknown["message"]);
    make_admin(&mut a, &room, &carol.user_id).await;
    cc.ok("room.invite.revoke", json!({"code": second})).await;
    let revoked = ec
        .fails("room.join", json!({"code": second}), "not_found")
        .await;
    assert_eq!(revoked["message"], unknown["message"]);
    // An expired one answers the same.
    let brief = a
        .ok(
            "room.invite.create",
            json!({"roomId": room, "expiresInS": 1}),
        )
        .await["invite"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = ec
        .fails("room.join", json!({"code": brief}), "not_found")
        .await;
    assert_eq!(expired["message"], unknown["message"]);
    for bad in [json!({}), json!({"code": 5})] {
        ec.fails("room.join", bad, "invalid").await;
    }
}

async fn bans_remove_and_keep_out(b: Backend) {
    let app = TestApp::spawn(b).await;
    let names = ["alice", "bob", "carol", "dave", "erin"];
    let mut users = Vec::new();
    for n in names {
        users.push(app.register(n).await);
    }
    let [alice, bob, carol, dave, erin] = [0, 1, 2, 3, 4].map(|i| users[i].clone());
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let mut dc = app.connect(&dave).await;
    let mut ec = app.connect(&erin).await;
    let room = group_id(&mut a, "club", &[&bob, &carol, &erin]).await;
    make_admin(&mut a, &room, &bob.user_id).await;
    make_admin(&mut a, &room, &erin.user_id).await;
    let code = a.ok("room.invite.create", json!({"roomId": room})).await["invite"]["code"]
        .as_str()
        .unwrap()
        .to_owned();

    // Who may ban whom.
    cc.fails(
        "room.ban",
        json!({"roomId": room, "userId": dave.user_id}),
        "forbidden",
    )
    .await;
    dc.fails(
        "room.ban",
        json!({"roomId": room, "userId": carol.user_id}),
        "forbidden",
    )
    .await;
    bc.fails(
        "room.ban",
        json!({"roomId": room, "userId": alice.user_id}),
        "forbidden",
    )
    .await;
    bc.fails(
        "room.ban",
        json!({"roomId": room, "userId": erin.user_id}),
        "forbidden",
    )
    .await;
    bc.fails(
        "room.ban",
        json!({"roomId": room, "userId": bob.user_id}),
        "invalid",
    )
    .await;
    bc.fails(
        "room.ban",
        json!({"roomId": room, "userId": "nobody"}),
        "not_found",
    )
    .await;
    let long = "x".repeat(1001);
    bc.fails(
        "room.ban",
        json!({"roomId": room, "userId": carol.user_id, "reason": long}),
        "invalid",
    )
    .await;

    // A member banned: removed with a seq, then kept out.
    let before = last_seq(&mut a, &room).await;
    let acked = bc
        .ok(
            "room.ban",
            json!({"roomId": room, "userId": carol.user_id, "reason": "spam"}),
        )
        .await;
    assert!(!members(&acked["room"]).contains(&carol.user_id));
    let left = a.push("room.member_left").await;
    assert_eq!(
        (&left["userId"], &left["seq"]),
        (&json!(carol.user_id), &json!(before + 1))
    );
    assert_eq!(cc.push("room.member_left").await["userId"], carol.user_id);
    cc.fails(
        "message.send",
        json!({"roomId": room, "content": "let me in", "type": "text", "tempId": "t1"}),
        "forbidden",
    )
    .await;
    cc.fails("room.join", json!({"code": code}), "forbidden")
        .await;
    a.fails(
        "room.members.add",
        json!({"roomId": room, "userIds": [carol.user_id]}),
        "forbidden",
    )
    .await;
    // The owner may ban an admin.
    a.ok("room.ban", json!({"roomId": room, "userId": erin.user_id}))
        .await;
    ec.push("room.member_left").await;
    // Someone outside is banned without a seq, and kept out too.
    let seq = last_seq(&mut a, &room).await;
    a.ok("room.ban", json!({"roomId": room, "userId": dave.user_id}))
        .await;
    assert_eq!(last_seq(&mut a, &room).await, seq, "no seq for an outsider");
    dc.fails("room.join", json!({"code": code}), "forbidden")
        .await;

    // The list, for owner and admins only.
    let bans = a.ok("room.bans", json!({"roomId": room})).await["bans"].clone();
    let banned: Vec<&str> = bans
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["userId"].as_str().unwrap())
        .collect();
    assert_eq!(banned.len(), 3, "{bans}");
    let c_ban = bans
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["userId"] == carol.user_id)
        .unwrap();
    assert_eq!(
        (&c_ban["reason"], &c_ban["bannedBy"]),
        (&json!("spam"), &json!(bob.user_id))
    );
    for c in [&mut cc, &mut dc] {
        c.fails("room.bans", json!({"roomId": room}), "forbidden")
            .await;
        c.fails(
            "room.unban",
            json!({"roomId": room, "userId": carol.user_id}),
            "forbidden",
        )
        .await;
    }

    // Unbanned: may come back by link.
    bc.ok(
        "room.unban",
        json!({"roomId": room, "userId": carol.user_id}),
    )
    .await;
    bc.fails(
        "room.unban",
        json!({"roomId": room, "userId": carol.user_id}),
        "not_found",
    )
    .await;
    let back = cc.ok("room.join", json!({"code": code})).await;
    assert!(members(&back["room"]).contains(&carol.user_id));
}

async fn blocks_keep_a_person_away(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut a2 = app.connect(&app.login("alice").await).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let dm = direct_id(&mut bc, &alice).await;
    let room = group_id(&mut a, "club", &[&bob, &carol]).await;

    a.fails("user.block", json!({"userId": alice.user_id}), "invalid")
        .await;
    a.fails("user.block", json!({"userId": "nobody"}), "not_found")
        .await;
    let list = a.ok("user.block", json!({"userId": bob.user_id})).await;
    assert_eq!(list["blocks"][0]["userId"], bob.user_id);
    assert_eq!(a2.push("user.blocks.updated").await, list);
    // Again: the same list, nothing pushed.
    assert_eq!(
        a.ok("user.block", json!({"userId": bob.user_id})).await["blocks"],
        list["blocks"]
    );
    a2.no_push("user.blocks.updated", QUIET).await;
    assert_eq!(a2.ok("user.blocks", json!({})).await, list);

    // The blocked person cannot open or write into a direct room with the blocker.
    bc.fails(
        "message.send",
        json!({"roomId": dm, "content": "hey", "type": "text", "tempId": "b1"}),
        "forbidden",
    )
    .await;
    bc.fails(
        "room.create",
        json!({"type": "direct", "memberIds": [alice.user_id]}),
        "forbidden",
    )
    .await;
    // The group carries on, but the blocker sees no typing or presence from it.
    a.clear();
    cc.clear();
    bc.ok("typing.start", json!({"roomId": room})).await;
    assert_eq!(cc.push("typing.user").await["userId"], bob.user_id);
    a.no_push("typing.user", QUIET).await;
    let got = a
        .ok(
            "presence.get",
            json!({"userIds": [bob.user_id, carol.user_id]}),
        )
        .await;
    let seen: Vec<&str> = got["presence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["userId"].as_str().unwrap())
        .collect();
    assert_eq!(seen, [carol.user_id.as_str()]);
    bc.close().await;
    assert_eq!(cc.push("presence.update").await["userId"], bob.user_id);
    a.no_push("presence.update", QUIET).await;
    let mut bc = app.connect(&bob).await;
    send(&mut bc, &room, "still in the group").await;

    // Unblocked: back to normal.
    let list = a.ok("user.unblock", json!({"userId": bob.user_id})).await;
    assert_eq!(list["blocks"], json!([]));
    assert_eq!(a2.push("user.blocks.updated").await["blocks"], json!([]));
    send(&mut bc, &dm, "hello again").await;
}

async fn reports_reach_the_admins(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let room = group_id(&mut a, "club", &[&bob]).await;
    let m = send(&mut a, &room, "buy cheap pills").await;
    let id = m["messageId"].as_str().unwrap();

    cc.fails(
        "message.report",
        json!({"messageId": id, "reason": "spam"}),
        "forbidden",
    )
    .await;
    bc.fails(
        "message.report",
        json!({"messageId": "nope", "reason": "spam"}),
        "not_found",
    )
    .await;
    bc.fails(
        "message.report",
        json!({"messageId": id, "reason": "  "}),
        "invalid",
    )
    .await;
    bc.fails("message.report", json!({"messageId": id}), "invalid")
        .await;
    a.fails(
        "message.report",
        json!({"messageId": id, "reason": "mine"}),
        "invalid",
    )
    .await;
    bc.ok("message.report", json!({"messageId": id, "reason": "spam"}))
        .await;
    // Once per user and message; the evidence survives an edit.
    bc.ok(
        "message.report",
        json!({"messageId": id, "reason": "spam again"}),
    )
    .await;
    a.ok(
        "message.edit",
        json!({"messageId": id, "content": "nothing to see"}),
    )
    .await;

    let (code, out, err) = app.admin(&["reports", "--json"], "").await;
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let reports = v["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{v}");
    let r = &reports[0];
    assert_eq!(
        (
            &r["reason"],
            &r["content"],
            &r["senderName"],
            &r["reporterName"],
            &r["roomName"]
        ),
        (
            &json!("spam"),
            &json!("buy cheap pills"),
            &json!("alice"),
            &json!("bob"),
            &json!("club")
        )
    );
    let (code, out, _) = app.admin(&["reports"], "").await;
    assert_eq!(code, 0);
    assert!(
        out.contains("bob reported alice's message in #club"),
        "{out}"
    );
    assert!(out.contains("buy cheap pills"), "{out}");
}

/// The links someone made stop working once they may not manage the group.
async fn a_banned_admins_links_stop_working(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let room = group_id(&mut a, "club", &[&bob]).await;
    make_admin(&mut a, &room, &bob.user_id).await;
    let bobs = bc.ok("room.invite.create", json!({"roomId": room})).await["invite"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let alices = a.ok("room.invite.create", json!({"roomId": room})).await["invite"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        a.ok("room.invite.list", json!({"roomId": room})).await["invites"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    a.ok("room.ban", json!({"roomId": room, "userId": bob.user_id}))
        .await;
    cc.fails("room.join", json!({"code": bobs}), "not_found")
        .await;
    let listed = a.ok("room.invite.list", json!({"roomId": room})).await;
    assert_eq!(listed["invites"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["invites"][0]["code"], alices);
    cc.ok("room.join", json!({"code": alices})).await;
}

crate::on_both_databases!(
    a_banned_admins_links_stop_working,
    invite_links_let_people_in,
    bans_remove_and_keep_out,
    blocks_keep_a_person_away,
    reports_reach_the_admins,
);
