//! One's own account (protocol 9.8): the profile (display name, a square
//! avatar) and who hears of a change, the export of one's data, and
//! deleting the account.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::files::{png, upload};
use crate::harness::{Backend, Closed, TestApp, TestUser, direct_id, group_id, send};

const QUIET: Duration = Duration::from_millis(600);

async fn patch_me(app: &TestApp, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = app.http.patch(app.url("/api/me")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn delete_me(app: &TestApp, user: &TestUser, password: &str) -> (u16, Value) {
    let resp = app
        .http
        .delete(app.url("/api/me"))
        .bearer_auth(&user.access_token)
        .json(&json!({ "password": password }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn profiles_reach_everyone_who_shares_a_room(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a2 = app.connect(&app.login("alice").await).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let mut a = app.connect(&alice).await;
    group_id(&mut a, "club", &[&bob]).await;
    let t = Some(alice.access_token.as_str());

    // Bad input changes nothing.
    for bad in [
        json!({"displayName": "   "}),
        json!({"displayName": "x".repeat(65)}),
        json!({"displayName": 7}),
        json!({"avatarFileId": 7}),
        json!({"avatarFileId": "no-such-file"}),
    ] {
        let (status, body) = patch_me(&app, t, &bad).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid")),
            "{bad}"
        );
    }
    assert_eq!(
        patch_me(&app, None, &json!({"displayName": "A"})).await.0,
        401
    );
    // Someone else's image, and a file that is no image, are refused.
    let (_, bobs) = upload(&app, Some(&bob.access_token), "b.png", png(40, 40)).await;
    let (_, text) = upload(&app, t, "notes.txt", b"just some words".to_vec()).await;
    for id in [&bobs["attachment"]["fileId"], &text["attachment"]["fileId"]] {
        let (status, _) = patch_me(&app, t, &json!({ "avatarFileId": id })).await;
        assert_eq!(status, 400, "{id}");
    }

    // A name: everyone who shares a room hears of it, and the other device.
    let (status, body) = patch_me(&app, t, &json!({"displayName": "  Alice A  "})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["displayName"], "Alice A");
    let heard = bc.push("user.updated").await;
    assert_eq!(
        (&heard["user"]["userId"], &heard["user"]["displayName"]),
        (&json!(alice.user_id), &json!("Alice A"))
    );
    assert_eq!(
        a2.push("user.updated").await["user"]["displayName"],
        "Alice A"
    );
    cc.no_push("user.updated", QUIET).await;

    // A picture: made square, readable by every signed-in user.
    let (_, pic) = upload(&app, t, "me.png", png(300, 120)).await;
    let (status, body) = patch_me(
        &app,
        t,
        &json!({"avatarFileId": pic["attachment"]["fileId"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let url = body["user"]["avatarUrl"].as_str().unwrap().to_owned();
    assert_eq!(body["user"]["displayName"], "Alice A", "the name stays");
    assert_eq!(bc.push("user.updated").await["user"]["avatarUrl"], url);
    // Rooms name their members with their pictures too.
    let rooms = bc.ok("room.list", json!({})).await;
    let members = rooms["rooms"][0]["members"].as_array().unwrap().clone();
    let her = members
        .iter()
        .find(|m| m["userId"] == alice.user_id)
        .unwrap();
    assert_eq!(her["avatarUrl"], url);
    for reader in [&bob, &carol] {
        let resp = app
            .http
            .get(app.url(&url))
            .bearer_auth(&reader.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{}", reader.user_name);
        let bytes = resp.bytes().await.unwrap();
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (256, 256));
    }
    assert_eq!(app.get(&url, None).await.0, 401);
    let (_, found) = app
        .get("/api/users?query=alice", Some(&carol.access_token))
        .await;
    assert_eq!(found["users"][0]["avatarUrl"], url);

    // Taken away again.
    let (status, body) = patch_me(&app, t, &json!({"avatarFileId": null})).await;
    assert_eq!(status, 200);
    assert!(body["user"].get("avatarUrl").is_none(), "{body}");
    assert!(
        bc.push("user.updated").await["user"]
            .get("avatarUrl")
            .is_none()
    );
}

async fn an_export_holds_ones_own_data_only(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "club", &[&bob]).await;
    let dm = direct_id(&mut a, &bob).await;
    send(&mut a, &room, "alice in the club").await;
    send(&mut a, &dm, "alice to bob").await;
    let gone = send(&mut a, &dm, "said and taken back").await;
    a.ok("message.delete", json!({"messageId": gone["messageId"]}))
        .await;
    send(&mut bc, &room, "bob's own words").await;
    let (_, pic) = upload(&app, Some(&alice.access_token), "p.png", png(20, 20)).await;
    a.ok(
        "message.send",
        json!({"roomId": room, "content": "", "type": "image", "tempId": "img",
               "attachments": [pic["attachment"]["fileId"]]}),
    )
    .await;
    a.ok("user.block", json!({"userId": bob.user_id})).await;

    let resp = app
        .http
        .get(app.url("/api/me/export"))
        .bearer_auth(&alice.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("attachment") && disposition.contains("alice"),
        "{disposition}"
    );
    let x: Value = resp.json().await.unwrap();
    assert_eq!(x["user"]["userName"], "alice");
    assert_eq!(x["rooms"].as_array().unwrap().len(), 2);
    assert_eq!(x["blocks"][0]["userId"], bob.user_id);
    assert_eq!(x["devices"].as_array().unwrap().len(), 1);
    let msgs = x["messages"].as_array().unwrap();
    let texts: Vec<&str> = msgs
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["alice in the club", "alice to bob", "", ""], "{x}");
    assert!(
        msgs[2]["deletedAt"].is_string(),
        "a deleted one is a tombstone"
    );
    assert!(
        msgs[3]["attachments"][0]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("/api/files/")),
        "{}",
        msgs[3]
    );
    assert!(!x.to_string().contains("bob's own words"));
    assert_eq!(app.get("/api/me/export", None).await.0, 401);
}

async fn deleting_an_account_tombstones_its_messages_everywhere(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "club", &[&bob]).await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(send(&mut a, &room, text).await["messageId"].clone());
    }
    a.ok("message.pin", json!({"messageId": ids[0]})).await;
    let kept = send(&mut bc, &room, "bob stays").await;
    bc.clear();

    // The wrong password: nothing happens.
    let (status, body) = delete_me(&app, &alice, "not-her-password").await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    a.ok("ping", json!({})).await;

    let mut sockets = app.sockets_on_every_node(&alice).await;
    let since = Instant::now();
    let (status, _) = delete_me(&app, &alice, "password-alice").await;
    assert_eq!(status, 204);
    for s in &mut sockets {
        match s.closed().await {
            Closed::Frame(code, _) => assert_eq!(code, 4403),
            Closed::Eof => panic!("closed without a frame"),
        }
    }
    assert!(
        since.elapsed() < Duration::from_secs(10),
        "{:?}",
        since.elapsed()
    );

    // Every message is a tombstone, as a delete with its own seq.
    let deleted: Vec<Value> = {
        let mut got = Vec::new();
        while got.len() < 3 {
            got.push(bc.push("message.deleted").await);
        }
        got
    };
    let mut seqs: Vec<i64> = deleted.iter().map(|d| d["seq"].as_i64().unwrap()).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 3);
    assert_eq!(bc.push("message.unpinned").await["messageId"], ids[0]);
    let page = bc
        .ok("message.history", json!({"roomId": room, "limit": 10}))
        .await;
    for m in page["messages"].as_array().unwrap() {
        if m["messageId"] == kept["messageId"] {
            assert_eq!(m["content"], "bob stays");
        } else {
            assert_eq!(
                (m["content"].as_str(), m["deletedAt"].is_string()),
                (Some(""), true),
                "{m}"
            );
        }
    }
    let synced = bc.ok("sync", json!({"since": {room.clone(): 0}})).await;
    let kinds: Vec<&str> = synced["rooms"][&room]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "message.deleted").count(),
        3,
        "{kinds:?}"
    );

    // Shown as deleted; the name stays taken; nothing signs in.
    let heard = bc.push("user.updated").await;
    assert_eq!(heard["user"]["deleted"], true);
    let (_, found) = app
        .get("/api/users?query=alice", Some(&bob.access_token))
        .await;
    let u = &found["users"][0];
    assert_eq!(
        (&u["displayName"], &u["deleted"], &u["deactivated"]),
        (&json!("Deleted user"), &json!(true), &json!(true))
    );
    let (status, _) = app
        .post(
            "/api/auth/login",
            &json!({"userName": "alice", "password": "password-alice"}),
            None,
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .post(
            "/api/auth/register",
            &json!({"userName": "Alice", "password": "another-password"}),
            None,
        )
        .await;
    assert_eq!(status, 409, "the name is never given to anyone else");
    assert_eq!(
        app.get("/api/users?query=bob", Some(&alice.access_token))
            .await
            .0,
        401
    );
}

async fn devices_are_listed_and_signed_out_one_by_one(b: Backend) {
    let app = TestApp::spawn(b).await;
    let one = app.register("alice").await;
    let two = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut sockets = app.sockets_on_every_node(&two).await;
    // A refresh marks a device active.
    let (status, fresh) = app
        .post(
            "/api/auth/refresh",
            &json!({"refreshToken": one.refresh_token}),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let token = fresh["accessToken"].as_str().unwrap().to_owned();

    let (status, list) = app.get("/api/me/devices", Some(&token)).await;
    assert_eq!(status, 200, "{list}");
    let devices = list["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{list}");
    let of = |id: &str| {
        devices
            .iter()
            .find(|d| d["deviceId"] == id)
            .unwrap()
            .clone()
    };
    let (d1, d2) = (of(&one.device_id), of(&two.device_id));
    assert_eq!(
        (&d1["current"], &d2["current"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        (&d1["online"], &d2["online"]),
        (&json!(false), &json!(true))
    );
    assert!(
        d1["lastActiveAt"].is_string() && d2.get("lastActiveAt").is_none(),
        "{list}"
    );

    // Someone else's device, an unknown one: not found; no token: 401.
    let del = |tok: String, id: String| {
        let app = &app;
        async move {
            let mut req = app.http.delete(app.url(&format!("/api/me/devices/{id}")));
            if !tok.is_empty() {
                req = req.bearer_auth(tok);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(
        del(bob.access_token.clone(), two.device_id.clone()).await,
        404
    );
    assert_eq!(del(token.clone(), "nope".into()).await, 404);
    assert_eq!(del(String::new(), two.device_id.clone()).await, 401);
    // Signed out from the other device: its sockets close, its tokens die.
    assert_eq!(del(token.clone(), two.device_id.clone()).await, 204);
    for s in &mut sockets {
        match s.closed().await {
            Closed::Frame(code, _) => assert_eq!(code, 4401),
            Closed::Eof => panic!("closed without a frame"),
        }
    }
    let (status, _) = app
        .post(
            "/api/auth/refresh",
            &json!({"refreshToken": two.refresh_token}),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(del(token.clone(), two.device_id.clone()).await, 404);
    let (_, list) = app.get("/api/me/devices", Some(&token)).await;
    assert_eq!(list["devices"].as_array().unwrap().len(), 1);
}

crate::on_both_databases!(
    devices_are_listed_and_signed_out_one_by_one,
    profiles_reach_everyone_who_shares_a_room,
    an_export_holds_ones_own_data_only,
    deleting_an_account_tombstones_its_messages_everywhere,
);
