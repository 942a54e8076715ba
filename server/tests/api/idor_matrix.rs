//! Who may do what, as data: one row per (event, role) with the answer
//! expected, walked for every request event. An event without a row for
//! every role fails the suite, so each new event (v1.1's included) must say
//! who may use it before it can land.
//!
//! Each row runs on a fresh group `G`: owner `O`, admin `A`, members `M`
//! and `M2`, `F` a former member (removed), `X` an outsider who shares no
//! room with them. `M` wrote one message in `G`. A refused row must change
//! nothing anyone can see and push nothing to anyone.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, TestUser, WsClient};

const QUIET: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Owner,
    Admin,
    Member,
    Former,
    Outsider,
}

const ROLES: [Role; 5] = [
    Role::Owner,
    Role::Admin,
    Role::Member,
    Role::Former,
    Role::Outsider,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Acked.
    Allowed,
    /// Refused with this code.
    Refused(&'static str),
    /// Acked, but says nothing of `G` (its entry in `sync` is the
    /// non-member error, `presence.get` leaves its members out).
    Blind,
}

use Expect::{Allowed, Blind, Refused};
use Role::{Admin, Former, Member, Outsider, Owner};

const FORBIDDEN: Expect = Refused("forbidden");

/// The matrix.
const MATRIX: &[(&str, Role, Expect)] = &[
    ("message.send", Owner, Allowed),
    ("message.send", Admin, Allowed),
    ("message.send", Member, Allowed),
    ("message.send", Former, FORBIDDEN),
    ("message.send", Outsider, FORBIDDEN),
    // Editing M's message: only its sender.
    ("message.edit", Owner, FORBIDDEN),
    ("message.edit", Admin, FORBIDDEN),
    ("message.edit", Member, Allowed),
    ("message.edit", Former, FORBIDDEN),
    ("message.edit", Outsider, FORBIDDEN),
    // Deleting M's message: its sender, or the group's owner or an admin.
    ("message.delete", Owner, Allowed),
    ("message.delete", Admin, Allowed),
    ("message.delete", Member, Allowed),
    ("message.delete", Former, FORBIDDEN),
    ("message.delete", Outsider, FORBIDDEN),
    ("message.history", Owner, Allowed),
    ("message.history", Admin, Allowed),
    ("message.history", Member, Allowed),
    ("message.history", Former, FORBIDDEN),
    ("message.history", Outsider, FORBIDDEN),
    ("message.read", Owner, Allowed),
    ("message.read", Admin, Allowed),
    ("message.read", Member, Allowed),
    ("message.read", Former, FORBIDDEN),
    ("message.read", Outsider, FORBIDDEN),
    ("typing.start", Owner, Allowed),
    ("typing.start", Admin, Allowed),
    ("typing.start", Member, Allowed),
    ("typing.start", Former, FORBIDDEN),
    ("typing.start", Outsider, FORBIDDEN),
    ("typing.stop", Owner, Allowed),
    ("typing.stop", Admin, Allowed),
    ("typing.stop", Member, Allowed),
    ("typing.stop", Former, FORBIDDEN),
    ("typing.stop", Outsider, FORBIDDEN),
    // Anyone may start a group of their own.
    ("room.create", Owner, Allowed),
    ("room.create", Admin, Allowed),
    ("room.create", Member, Allowed),
    ("room.create", Former, Allowed),
    ("room.create", Outsider, Allowed),
    ("room.list", Owner, Allowed),
    ("room.list", Admin, Allowed),
    ("room.list", Member, Allowed),
    ("room.list", Former, Blind),
    ("room.list", Outsider, Blind),
    ("room.update", Owner, Allowed),
    ("room.update", Admin, Allowed),
    ("room.update", Member, FORBIDDEN),
    ("room.update", Former, FORBIDDEN),
    ("room.update", Outsider, FORBIDDEN),
    ("room.members.add", Owner, Allowed),
    ("room.members.add", Admin, Allowed),
    ("room.members.add", Member, FORBIDDEN),
    ("room.members.add", Former, FORBIDDEN),
    ("room.members.add", Outsider, FORBIDDEN),
    // Removing M2, a plain member.
    ("room.members.remove", Owner, Allowed),
    ("room.members.remove", Admin, Allowed),
    ("room.members.remove", Member, FORBIDDEN),
    ("room.members.remove", Former, FORBIDDEN),
    ("room.members.remove", Outsider, FORBIDDEN),
    // Making M2 an admin: the owner only.
    ("room.members.role", Owner, Allowed),
    ("room.members.role", Admin, FORBIDDEN),
    ("room.members.role", Member, FORBIDDEN),
    ("room.members.role", Former, FORBIDDEN),
    ("room.members.role", Outsider, FORBIDDEN),
    ("presence.get", Owner, Allowed),
    ("presence.get", Admin, Allowed),
    ("presence.get", Member, Allowed),
    ("presence.get", Former, Blind),
    ("presence.get", Outsider, Blind),
    ("sync", Owner, Allowed),
    ("sync", Admin, Allowed),
    ("sync", Member, Allowed),
    ("sync", Former, Blind),
    ("sync", Outsider, Blind),
    // Reacting to M's message: any member.
    ("reaction.add", Owner, Allowed),
    ("reaction.add", Admin, Allowed),
    ("reaction.add", Member, Allowed),
    ("reaction.add", Former, FORBIDDEN),
    ("reaction.add", Outsider, FORBIDDEN),
    // Taking back a reaction one does not have: acked, changes nothing.
    ("reaction.remove", Owner, Allowed),
    ("reaction.remove", Admin, Allowed),
    ("reaction.remove", Member, Allowed),
    ("reaction.remove", Former, FORBIDDEN),
    ("reaction.remove", Outsider, FORBIDDEN),
    // Pinning in a group: the owner and admins.
    ("message.pin", Owner, Allowed),
    ("message.pin", Admin, Allowed),
    ("message.pin", Member, FORBIDDEN),
    ("message.pin", Former, FORBIDDEN),
    ("message.pin", Outsider, FORBIDDEN),
    // Unpinning what is not pinned: acked by those who may, nothing changes.
    ("message.unpin", Owner, Allowed),
    ("message.unpin", Admin, Allowed),
    ("message.unpin", Member, FORBIDDEN),
    ("message.unpin", Former, FORBIDDEN),
    ("message.unpin", Outsider, FORBIDDEN),
    // One's own notification settings for G: its members.
    ("room.notify.set", Owner, Allowed),
    ("room.notify.set", Admin, Allowed),
    ("room.notify.set", Member, Allowed),
    ("room.notify.set", Former, FORBIDDEN),
    ("room.notify.set", Outsider, FORBIDDEN),
    // One's own default level: anyone, about no room.
    ("notify.default.set", Owner, Allowed),
    ("notify.default.set", Admin, Allowed),
    ("notify.default.set", Member, Allowed),
    ("notify.default.set", Former, Allowed),
    ("notify.default.set", Outsider, Allowed),
    // One's own device's push subscription: anyone, about no room.
    ("push.register", Owner, Allowed),
    ("push.register", Admin, Allowed),
    ("push.register", Member, Allowed),
    ("push.register", Former, Allowed),
    ("push.register", Outsider, Allowed),
    ("push.unregister", Owner, Allowed),
    ("push.unregister", Admin, Allowed),
    ("push.unregister", Member, Allowed),
    ("push.unregister", Former, Allowed),
    ("push.unregister", Outsider, Allowed),
    // Searching every room one is in: a former member or an outsider finds
    // nothing of G (naming G as roomId is forbidden: tests in search.rs).
    ("message.search", Owner, Allowed),
    ("message.search", Admin, Allowed),
    ("message.search", Member, Allowed),
    ("message.search", Former, Blind),
    ("message.search", Outsider, Blind),
    // Invite links to G: its owner and admins make, list and revoke them;
    // a code of G is no business of those outside (not_found, as for a
    // code that does not exist).
    ("room.invite.create", Owner, Allowed),
    ("room.invite.create", Admin, Allowed),
    ("room.invite.create", Member, FORBIDDEN),
    ("room.invite.create", Former, FORBIDDEN),
    ("room.invite.create", Outsider, FORBIDDEN),
    ("room.invite.list", Owner, Allowed),
    ("room.invite.list", Admin, Allowed),
    ("room.invite.list", Member, FORBIDDEN),
    ("room.invite.list", Former, FORBIDDEN),
    ("room.invite.list", Outsider, FORBIDDEN),
    ("room.invite.revoke", Owner, Allowed),
    ("room.invite.revoke", Admin, Allowed),
    ("room.invite.revoke", Member, FORBIDDEN),
    ("room.invite.revoke", Former, Refused("not_found")),
    ("room.invite.revoke", Outsider, Refused("not_found")),
    // A code is the key: whoever holds it joins (members get the room back).
    ("room.join", Owner, Allowed),
    ("room.join", Admin, Allowed),
    ("room.join", Member, Allowed),
    ("room.join", Former, Allowed),
    ("room.join", Outsider, Allowed),
    // Banning M2, lifting the ban on B, the list of bans: owner and admins.
    ("room.ban", Owner, Allowed),
    ("room.ban", Admin, Allowed),
    ("room.ban", Member, FORBIDDEN),
    ("room.ban", Former, FORBIDDEN),
    ("room.ban", Outsider, FORBIDDEN),
    ("room.unban", Owner, Allowed),
    ("room.unban", Admin, Allowed),
    ("room.unban", Member, FORBIDDEN),
    ("room.unban", Former, FORBIDDEN),
    ("room.unban", Outsider, FORBIDDEN),
    ("room.bans", Owner, Allowed),
    ("room.bans", Admin, Allowed),
    ("room.bans", Member, FORBIDDEN),
    ("room.bans", Former, FORBIDDEN),
    ("room.bans", Outsider, FORBIDDEN),
    // One's own blocks: anyone, about no room.
    ("user.block", Owner, Allowed),
    ("user.block", Admin, Allowed),
    ("user.block", Member, Allowed),
    ("user.block", Former, Allowed),
    ("user.block", Outsider, Allowed),
    ("user.unblock", Owner, Allowed),
    ("user.unblock", Admin, Allowed),
    ("user.unblock", Member, Allowed),
    ("user.unblock", Former, Allowed),
    ("user.unblock", Outsider, Allowed),
    ("user.blocks", Owner, Allowed),
    ("user.blocks", Admin, Allowed),
    ("user.blocks", Member, Allowed),
    ("user.blocks", Former, Allowed),
    ("user.blocks", Outsider, Allowed),
    // Reporting M's message: the members of G but M (one's own is invalid).
    ("message.report", Owner, Allowed),
    ("message.report", Admin, Allowed),
    ("message.report", Member, Refused("invalid")),
    ("message.report", Former, FORBIDDEN),
    ("message.report", Outsider, FORBIDDEN),
    ("ping", Owner, Allowed),
    ("ping", Admin, Allowed),
    ("ping", Member, Allowed),
    ("ping", Former, Allowed),
    ("ping", Outsider, Allowed),
];

/// The people, registered once per backend.
struct People {
    o: TestUser,
    a: TestUser,
    m: TestUser,
    m2: TestUser,
    f: TestUser,
    x: TestUser,
    /// Whom `room.members.add` adds (not X: she must stay an outsider).
    newcomer: TestUser,
    /// Banned from every group (B), and whom `user.block` blocks.
    banned: TestUser,
}

/// One fresh group and everyone's sockets.
struct Group {
    id: String,
    /// M's message in it.
    message: String,
    /// An invite link to it, made by the owner.
    invite: String,
    socks: Vec<(Role, WsClient)>,
    /// M2, who only watches (every push to the group reaches her).
    watcher: WsClient,
}

impl People {
    fn of(&self, r: Role) -> &TestUser {
        match r {
            Owner => &self.o,
            Admin => &self.a,
            Member => &self.m,
            Former => &self.f,
            Outsider => &self.x,
        }
    }
}

async fn fresh_group(app: &TestApp, p: &People, n: usize) -> Group {
    let mut owner = app.connect(&p.o).await;
    let ids: Vec<&str> = [&p.a, &p.m, &p.m2, &p.f]
        .iter()
        .map(|u| u.user_id.as_str())
        .collect();
    let id = owner
        .ok(
            "room.create",
            json!({"type": "group", "name": format!("G{n}"), "memberIds": ids}),
        )
        .await["room"]["roomId"]
        .as_str()
        .unwrap()
        .to_owned();
    owner
        .ok(
            "room.members.role",
            json!({"roomId": id, "userId": p.a.user_id, "role": "admin"}),
        )
        .await;
    owner
        .ok(
            "room.members.remove",
            json!({"roomId": id, "userId": p.f.user_id}),
        )
        .await;
    owner
        .ok(
            "room.ban",
            json!({"roomId": id, "userId": p.banned.user_id}),
        )
        .await;
    let invite = owner.ok("room.invite.create", json!({"roomId": id})).await["invite"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut m = app.connect(&p.m).await;
    let message = m
        .ok(
            "message.send",
            json!({"roomId": id, "content": format!("secret {n}"), "type": "text", "tempId": format!("g{n}")}),
        )
        .await["message"]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut socks = vec![(Owner, owner), (Member, m)];
    for r in [Admin, Former, Outsider] {
        socks.push((r, app.connect(p.of(r)).await));
    }
    let watcher = app.connect(&p.m2).await;
    Group {
        id,
        message,
        invite,
        socks,
        watcher,
    }
}

/// The request of `event` as `role` would make it against `g`.
fn request(event: &str, p: &People, g: &Group, n: usize) -> Value {
    let room = &g.id;
    match event {
        "message.send" => {
            json!({"roomId": room, "content": "hello", "type": "text", "tempId": format!("s{n}"), "replyTo": g.message})
        }
        "message.edit" => json!({"messageId": g.message, "content": "changed"}),
        "message.delete" => json!({"messageId": g.message}),
        "message.history" => json!({"roomId": room}),
        "message.read" => json!({"roomId": room, "seq": 1}),
        "typing.start" | "typing.stop" => json!({"roomId": room}),
        "room.create" => json!({"type": "group", "name": "mine", "memberIds": []}),
        "room.list" => json!({}),
        "room.update" => json!({"roomId": room, "name": "renamed"}),
        "room.members.add" => json!({"roomId": room, "userIds": [p.newcomer.user_id]}),
        "room.members.remove" => json!({"roomId": room, "userId": p.m2.user_id}),
        "room.members.role" => {
            json!({"roomId": room, "userId": p.m2.user_id, "role": "admin"})
        }
        "presence.get" => json!({"userIds": [p.o.user_id, p.m.user_id, p.m2.user_id]}),
        "sync" => json!({"since": {room.clone(): 0}}),
        "ping" => json!({}),
        "reaction.add" | "reaction.remove" => json!({"messageId": g.message, "emoji": "👍"}),
        "message.pin" | "message.unpin" => json!({"messageId": g.message}),
        "room.notify.set" => {
            json!({"roomId": room, "level": "mentions", "muteUntil": "2099-01-01T00:00:00.000Z"})
        }
        "notify.default.set" => json!({"level": "none"}),
        "push.register" => json!({
            "endpoint": "http://127.0.0.1:9/push",
            "keys": {"p256dh": crate::harness::P256_POINT, "auth": "AAAAAAAAAAAAAAAAAAAAAA"},
        }),
        "push.unregister" => json!({}),
        "message.search" => json!({"query": "secret"}),
        "room.invite.create" | "room.invite.list" | "room.bans" => json!({"roomId": room}),
        "room.invite.revoke" | "room.join" => json!({"code": g.invite}),
        "room.ban" => json!({"roomId": room, "userId": p.m2.user_id, "reason": "test"}),
        "room.unban" => json!({"roomId": room, "userId": p.banned.user_id}),
        "user.block" | "user.unblock" => json!({"userId": p.banned.user_id}),
        "user.blocks" => json!({}),
        "message.report" => json!({"messageId": g.message, "reason": "spam"}),
        other => panic!("{other} has no request in idor_matrix::request: add one"),
    }
}

/// What the owner sees of `G`: its history and its room.
async fn seen(owner: &mut WsClient, room: &str) -> (Value, Value) {
    let h = owner
        .ok("message.history", json!({"roomId": room, "limit": 100}))
        .await;
    let list = owner.ok("room.list", json!({})).await;
    let entry = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roomId"] == room)
        .cloned()
        .unwrap_or(Value::Null);
    (h["messages"].clone(), entry)
}

/// The answer says nothing of `G`, its members (but the caller) or its text.
fn blind(event: &str, answer: &Value, p: &People, g: &Group, caller: &TestUser) {
    let text = answer.to_string();
    assert!(!text.contains("secret"), "{event}: {text}");
    match event {
        "sync" => {
            let part = &answer["rooms"][&g.id];
            assert_eq!(part["error"]["code"], "forbidden", "{event}: {answer}");
            assert_eq!(part["events"], json!([]), "{answer}");
        }
        "presence.get" => {
            for u in [&p.o, &p.m, &p.m2] {
                if u.user_id != caller.user_id {
                    assert!(
                        !text.contains(&u.user_id),
                        "presence leaks {}: {text}",
                        u.user_name
                    );
                }
            }
        }
        _ => assert!(!text.contains(&g.id), "{event}: {text}"),
    }
}

async fn every_event_answers_every_role_as_the_matrix_says(b: Backend) {
    // Every request event has a row for every role, and no row is for an
    // event that does not exist.
    for event in leetchat_protocol::request::REQUEST_EVENTS {
        if *event == "auth" {
            continue;
        }
        for role in ROLES {
            assert!(
                MATRIX.iter().any(|(e, r, _)| e == event && *r == role),
                "the IDOR matrix has no row for ({event}, {role:?}): say who may use it"
            );
        }
    }
    for (e, _, _) in MATRIX {
        assert!(
            leetchat_protocol::request::REQUEST_EVENTS.contains(e),
            "{e} is in the matrix but is no request event"
        );
    }

    let app = TestApp::spawn(b).await;
    let p = People {
        o: app.register("owner").await,
        a: app.register("admin").await,
        m: app.register("member").await,
        m2: app.register("member2").await,
        f: app.register("former").await,
        x: app.register("outsider").await,
        newcomer: app.register("newcomer").await,
        banned: app.register("banned").await,
    };
    for (n, (event, role, expect)) in MATRIX.iter().enumerate() {
        let mut g = fresh_group(&app, &p, n).await;
        let room = g.id.clone();
        let owner_i = g.socks.iter().position(|(r, _)| *r == Owner).unwrap();
        let before = seen(&mut g.socks[owner_i].1, &room).await;
        // Only the watcher is listened to: she hears every push to the group.
        for (_, s) in g.socks.iter_mut() {
            s.clear();
        }
        g.watcher.drain(QUIET).await;
        let data = request(event, &p, &g, n);
        let i = g.socks.iter().position(|(r, _)| r == role).unwrap();
        let answer = g.socks[i].1.request(event, data.clone()).await;
        let caller = p.of(*role);
        match (expect, &answer) {
            (Allowed, Ok(_)) => {}
            (Blind, Ok(a)) => blind(event, a, &p, &g, caller),
            (Refused(code), Err(e)) => {
                assert_eq!(e["code"], *code, "({event}, {role:?}) {data}: {e}");
                assert!(!e.to_string().contains("secret"), "{e}");
                // Nothing changed, nobody heard anything.
                let heard = g.watcher.drain(QUIET).await;
                assert!(
                    heard.is_empty(),
                    "({event}, {role:?}) was refused but pushed {heard:?}"
                );
                let after = seen(&mut g.socks[owner_i].1, &room).await;
                assert_eq!(
                    after, before,
                    "({event}, {role:?}) was refused but changed the room"
                );
            }
            (want, got) => panic!("({event}, {role:?}) {data}: expected {want:?}, got {got:?}"),
        }
    }
}

crate::on_both_databases!(every_event_answers_every_role_as_the_matrix_says);
