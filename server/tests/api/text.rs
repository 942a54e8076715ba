//! Text the databases cannot hold: U+0000 anywhere in a request is `invalid`
//! on both engines (PostgreSQL answered 500 `internal` before), over HTTP
//! and on the socket, and the connection stays usable.

use serde_json::json;

use crate::harness::{Backend, TestApp, direct_id, send};

async fn a_nul_character_is_invalid_everywhere_and_breaks_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    // HTTP bodies, the login case needing no account at all.
    for (path, body) in [
        (
            "/api/auth/register",
            json!({"userName": "carol", "password": "a fine password", "displayName": "Car\u{0}ol"}),
        ),
        (
            "/api/auth/register",
            json!({"userName": "car\u{0}ol", "password": "a fine password"}),
        ),
        (
            "/api/auth/login",
            json!({"userName": "nobody\u{0}", "password": "whatever it is"}),
        ),
        (
            "/api/auth/login",
            json!({"userName": "alice", "password": "password-alice", "deviceName": "ph\u{0}one"}),
        ),
        ("/api/auth/refresh", json!({"refreshToken": "\u{0}"})),
    ] {
        let (s, resp) = app.post(path, &body, None).await;
        assert_eq!(s, 400, "{path} {body}: {resp}");
        assert_eq!(resp["error"]["code"], "invalid", "{resp}");
        assert!(
            resp["error"]["message"]
                .as_str()
                .unwrap()
                .contains("NUL character"),
            "{resp}"
        );
    }
    // Paths and queries.
    for path in [
        "/api/users?query=%00",
        "/api/users?query=a%00b",
        "/api/files/%00",
        "/api/files/abc%00/thumbnail",
    ] {
        let (s, resp) = app.get(path, Some(&alice.access_token)).await;
        assert_eq!(s, 400, "{path}: {resp}");
        assert_eq!(resp["error"]["code"], "invalid", "{resp}");
    }

    // The socket: every request with text.
    let mut a = app.connect(&alice).await;
    let room = direct_id(&mut a, &bob).await;
    for (event, data) in [
        (
            "message.send",
            json!({"roomId": room, "content": "hi\u{0}", "type": "text", "tempId": "t1"}),
        ),
        (
            "message.send",
            json!({"roomId": room, "content": "hi", "type": "text", "tempId": "t\u{0}"}),
        ),
        (
            "message.send",
            json!({"roomId": format!("{room}\u{0}"), "content": "hi", "type": "text"}),
        ),
        (
            "room.create",
            json!({"type": "group", "name": "g\u{0}", "memberIds": []}),
        ),
        (
            "room.create",
            json!({"type": "group", "name": "g", "description": "\u{0}", "memberIds": []}),
        ),
        ("message.history", json!({"roomId": "\u{0}"})),
        ("sync", json!({"since": {"\u{0}": 0}})),
        ("presence.get", json!({"userIds": ["\u{0}"]})),
        ("typing.start", json!({"roomId": "r\u{0}"})),
        (
            "message.edit",
            json!({"messageId": "m", "content": "\u{0}"}),
        ),
    ] {
        let e = a.fails(event, data.clone(), "invalid").await;
        assert!(
            e["message"].as_str().unwrap().contains("NUL character"),
            "{event} {data}: {e}"
        );
    }
    // Nothing was stored, and the same socket works.
    let m = send(&mut a, &room, "still here").await;
    assert_eq!(m["seq"], 1);
    let list = a.ok("room.list", json!({})).await;
    assert_eq!(list["rooms"].as_array().unwrap().len(), 1, "{list}");
    // The six characters of an escaped NUL are ordinary text.
    let m = send(&mut a, &room, "\\u0000").await;
    assert_eq!(m["content"], "\\u0000");
}

crate::on_both_databases!(a_nul_character_is_invalid_everywhere_and_breaks_nothing,);
