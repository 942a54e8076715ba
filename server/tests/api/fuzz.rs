//! Random requests against the real server (property-based, bounded): every
//! request event and the JSON routes, with data that is valid, near-valid
//! (one field replaced by anything, removed, or joined by junk) or anything
//! at all. Whatever comes, the answer is an ack or a clear error, never
//! `internal`, and the socket stays usable; over HTTP, never a 5xx.
//!
//! `LEETCHAT_FUZZ_CASES` sets the cases per event (default 24).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use serde_json::{Map, Value, json};

use crate::harness::{Backend, TestApp, group_id, send};

fn cases() -> usize {
    std::env::var("LEETCHAT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

/// Any JSON value, a few levels deep, strings included that hold control
/// characters, NUL, bidi controls, huge numbers-as-text and astral characters.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just(-1i64),
            Just(0),
            Just(1),
            Just(i64::MAX),
            Just(i64::MIN)
        ]
        .prop_map(|n| json!(n)),
        any::<i32>().prop_map(|n| json!(f64::from(n) / 8.0)),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x1f\u{202e}\u{1F600}a-z_.-]{0,12}".prop_map(Value::String),
        "x{4001}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,10}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What to do to a valid request.
#[derive(Debug, Clone)]
enum Change {
    Keep,
    Replace(prop::sample::Index, Value),
    Remove(prop::sample::Index),
    Add(String, Value),
    Whole(Value),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        1 => Just(Change::Keep),
        4 => (any::<prop::sample::Index>(), json_value()).prop_map(|(i, v)| Change::Replace(i, v)),
        2 => any::<prop::sample::Index>().prop_map(Change::Remove),
        1 => ("[a-zA-Z]{1,10}", json_value()).prop_map(|(k, v)| Change::Add(k, v)),
        2 => json_value().prop_map(Change::Whole),
    ]
}

fn apply(template: &Value, c: &Change) -> Value {
    let mut map: Map<String, Value> = template.as_object().cloned().unwrap_or_default();
    let keys: Vec<String> = map.keys().cloned().collect();
    match c {
        Change::Keep => {}
        Change::Replace(i, v) if !keys.is_empty() => {
            map.insert(keys[i.index(keys.len())].clone(), v.clone());
        }
        Change::Remove(i) if !keys.is_empty() => {
            map.remove(&keys[i.index(keys.len())]);
        }
        Change::Add(k, v) => {
            map.insert(k.clone(), v.clone());
        }
        Change::Whole(v) => return v.clone(),
        _ => {}
    }
    Value::Object(map)
}

/// `n` samples of `strategy` (deterministic per `seed`).
fn samples<S: Strategy>(strategy: S, n: usize, seed: u64) -> Vec<S::Value> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &bytes),
    );
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).expect("a value").current())
        .collect()
}

async fn random_requests_get_an_ack_or_a_clear_error_and_the_socket_lives(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "fuzzed", &[&bob]).await;
    let m = send(&mut a, &room, "a message to edit").await;
    let mid = m["messageId"].as_str().unwrap().to_owned();
    let code = a.ok("room.invite.create", json!({"roomId": room})).await["invite"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let templates: Vec<(&str, Value)> = vec![
        (
            "message.send",
            json!({"roomId": room, "content": "hi", "type": "text", "tempId": "t", "attachments": [], "replyTo": mid, "mentions": [bob.user_id], "mentionsRoom": false}),
        ),
        (
            "message.edit",
            json!({"messageId": mid, "content": "edited", "mentions": [bob.user_id], "mentionsRoom": true}),
        ),
        ("message.delete", json!({"messageId": "not-this-one"})),
        (
            "message.history",
            json!({"roomId": room, "cursor": "1", "limit": 10, "direction": "before"}),
        ),
        ("message.read", json!({"roomId": room, "seq": 1})),
        ("typing.start", json!({"roomId": room})),
        ("typing.stop", json!({"roomId": room})),
        (
            "room.create",
            json!({"type": "group", "name": "g", "description": "d", "memberIds": [bob.user_id], "isPrivate": false}),
        ),
        ("room.list", json!({})),
        (
            "room.update",
            json!({"roomId": room, "name": "renamed", "description": "x"}),
        ),
        (
            "room.members.add",
            json!({"roomId": room, "userIds": [bob.user_id]}),
        ),
        (
            "room.members.remove",
            json!({"roomId": room, "userId": "someone-else"}),
        ),
        (
            "room.members.role",
            json!({"roomId": room, "userId": bob.user_id, "role": "member"}),
        ),
        ("presence.get", json!({"userIds": [bob.user_id]})),
        ("sync", json!({"since": {room.clone(): 0}, "limit": 5})),
        ("ping", json!({})),
        ("reaction.add", json!({"messageId": mid, "emoji": "👍"})),
        ("reaction.remove", json!({"messageId": mid, "emoji": "👍"})),
        ("message.pin", json!({"messageId": mid})),
        ("message.unpin", json!({"messageId": mid})),
        (
            "room.notify.set",
            json!({"roomId": room, "level": "mentions", "muteUntil": "2030-01-01T00:00:00.000Z"}),
        ),
        ("notify.default.set", json!({"level": "all"})),
        (
            "push.register",
            json!({"endpoint": "http://127.0.0.1:9/push", "previews": true,
                   "keys": {"p256dh": crate::harness::P256_POINT, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}),
        ),
        ("push.unregister", json!({})),
        (
            "message.search",
            json!({"query": "hello wor", "roomId": room, "limit": 5}),
        ),
        (
            "room.invite.create",
            json!({"roomId": room, "maxUses": 3, "expiresInS": 600}),
        ),
        ("room.invite.list", json!({"roomId": room})),
        ("room.invite.revoke", json!({"code": "not-this-one"})),
        ("room.join", json!({"code": code})),
        (
            "room.ban",
            json!({"roomId": room, "userId": "someone-else", "reason": "r"}),
        ),
        (
            "room.unban",
            json!({"roomId": room, "userId": "someone-else"}),
        ),
        ("room.bans", json!({"roomId": room})),
        ("user.block", json!({"userId": bob.user_id})),
        ("user.unblock", json!({"userId": bob.user_id})),
        ("user.blocks", json!({})),
        (
            "message.report",
            json!({"messageId": mid, "reason": "spam"}),
        ),
    ];
    // Every request event has a template here (a new event fails this).
    for event in leetchat_protocol::request::REQUEST_EVENTS {
        assert!(
            *event == "auth" || templates.iter().any(|(e, _)| e == event),
            "{event} is not fuzzed: add a template"
        );
    }
    let n = cases();
    let mut answered = 0;
    for (i, (event, template)) in templates.iter().enumerate() {
        for c in samples(change(), n, 1000 + i as u64) {
            let data = apply(template, &c);
            match a.request(event, data.clone()).await {
                Ok(_) => {}
                Err(e) => {
                    let code = e["code"].as_str().unwrap_or_default();
                    assert!(
                        matches!(
                            code,
                            "invalid" | "forbidden" | "not_found" | "conflict" | "too_large"
                        ),
                        "{event} {data} answered {e}"
                    );
                    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
                }
            }
            answered += 1;
        }
        // Still the same, usable socket.
        a.ok("ping", json!({})).await;
    }
    // Unknown events and frames that are not requests.
    for (j, name) in samples("[a-z.]{0,20}", n, 7).into_iter().enumerate() {
        if leetchat_protocol::request::REQUEST_EVENTS.contains(&name.as_str()) {
            continue;
        }
        let e = a.fails(&name, json!({"n": j}), "invalid").await;
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("unknown event")),
            "{e}"
        );
    }
    a.ok("room.list", json!({})).await;
    println!("fuzz: {answered} random requests answered without internal errors");
}

async fn random_json_bodies_never_get_a_server_error(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let templates = [
        (
            "/api/auth/register",
            json!({"userName": "someone", "password": "a fine password", "displayName": "S", "deviceName": "d"}),
        ),
        (
            "/api/auth/login",
            json!({"userName": "alice", "password": "password-alice", "deviceName": "d"}),
        ),
        (
            "/api/auth/refresh",
            json!({"refreshToken": alice.refresh_token}),
        ),
        ("/api/auth/logout", json!({})),
    ];
    for (i, (path, template)) in templates.iter().enumerate() {
        for c in samples(change(), cases(), 2000 + i as u64) {
            let body = apply(template, &c);
            let token = if *path == "/api/auth/logout" {
                None
            } else {
                Some(alice.access_token.as_str())
            };
            let (status, resp) = app.post(path, &body, token).await;
            assert!(status < 500, "{path} {body} answered {status} {resp}");
            if status >= 400 {
                assert!(resp["error"]["code"].is_string(), "{path} {body}: {resp}");
            }
        }
    }
    for q in samples(any::<String>(), cases(), 3000) {
        let url = format!("/api/users?query={}", urlencode(&q));
        let (status, resp) = app.get(&url, Some(&alice.access_token)).await;
        assert!(status < 500, "{url} answered {status} {resp}");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

crate::on_both_databases!(
    random_requests_get_an_ack_or_a_clear_error_and_the_socket_lives,
    random_json_bodies_never_get_a_server_error,
);
