//! Malformed frames, limits and heartbeats: bad input gets an error and the connection stays open.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use leetchat_server::config::RateLimit;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Backend, Closed, TestApp, WAIT, WsClient, direct_id, next_message, send};

/// How long a test listens to be sure a push did not come.
const QUIET: Duration = Duration::from_millis(500);

/// The very next frame on the socket, push or ack (nothing may be buffered).
/// `presence.update` pushes are skipped: the other user's first connection is
/// announced from its own task and may land at any point in between.
async fn next_frame(c: &mut WsClient) -> Value {
    loop {
        let v = match tokio::time::timeout(WAIT, next_message(c.socket())).await {
            Ok(Ok(v)) => v,
            Ok(Err(closed)) => panic!("socket closed: {closed:?}"),
            Err(_) => panic!("no frame within {WAIT:?}"),
        };
        if v["event"] != "presence.update" {
            return v;
        }
    }
}

/// The next frame must be `{"event": "error", "data": {code, message}}`.
async fn error_push(c: &mut WsClient, code: &str, sent: &str) -> Value {
    let f = next_frame(c).await;
    assert_eq!(f["event"], "error", "{sent:.80} -> {f}");
    assert_eq!(f["data"]["code"], code, "{sent:.80} -> {f}");
    assert!(
        f["data"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{sent:.80} -> {f}"
    );
    assert!(f.get("ack").is_none(), "{f}");
    f["data"].clone()
}

/// The next frame must be the failed ack of `id` with `code`.
async fn error_ack(c: &mut WsClient, id: Value, code: &str, sent: &str) -> Value {
    let f = next_frame(c).await;
    assert_eq!(f["ack"], id, "{sent:.80} must be acked -> {f}");
    assert_eq!(f["ok"], false, "{sent:.80} -> {f}");
    assert_eq!(f["error"]["code"], code, "{sent:.80} -> {f}");
    assert!(
        f["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{sent:.80} -> {f}"
    );
    f["error"].clone()
}

/// alice and bob, connected, sharing a direct room; nothing buffered.
async fn pair(app: &TestApp) -> (WsClient, WsClient, String) {
    let mut users = app.users(&["alice", "bob"]).await.into_iter();
    let (_, mut alice) = users.next().unwrap();
    let (bob_user, mut bob) = users.next().unwrap();
    let room = direct_id(&mut alice, &bob_user).await;
    bob.push("room.created").await;
    alice.clear();
    bob.clear();
    (alice, bob, room)
}

/// A frame of exactly `len` bytes: `head` with a `pad` string field added.
fn padded(head: &Value, len: usize) -> String {
    let mut v = head.clone();
    v["pad"] = json!("");
    let base = v.to_string().len();
    assert!(base <= len, "{v} is already longer than {len}");
    v["pad"] = json!("a".repeat(len - base));
    let text = v.to_string();
    assert_eq!(text.len(), len);
    text
}

async fn bad_frames_get_invalid_and_leave_the_connection_and_others_alone(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (mut alice, mut bob, room) = pair(&app).await;

    // No usable id: the error is pushed.
    for text in [
        "{nope",
        "",
        "[1, 2, 3]",
        "\"message.send\"",
        "42",
        "null",
        r#"{"data": {}}"#,
        r#"{"event": 5, "data": {}}"#,
        r#"{"event": "message.nope", "data": {}}"#,
        r#"{"event": "room.list", "data": [1]}"#,
    ] {
        alice.send_text(text).await;
        error_push(&mut alice, "invalid", text).await;
    }
    alice
        .send_binary(b"{\"id\": 1, \"event\": \"room.list\"}".to_vec())
        .await;
    let e = error_push(&mut alice, "invalid", "a binary frame").await;
    assert!(e["message"].as_str().unwrap().contains("binary"), "{e}");

    // With an id: the failure is the ack.
    let unknown = json!({"id": 101, "event": "message.nope", "data": {}}).to_string();
    alice.send_text(&unknown).await;
    let e = error_ack(&mut alice, json!(101), "invalid", &unknown).await;
    assert!(
        e["message"].as_str().unwrap().contains("message.nope"),
        "{e}"
    );
    for (id, frame) in [
        (102, json!({"id": 102})),
        (103, json!({"id": 103, "data": {}})),
        (104, json!({"id": 104, "event": 5, "data": {}})),
        (105, json!({"id": 105, "event": null, "data": {}})),
        (106, json!({"id": 106, "event": ["room.list"], "data": {}})),
        (107, json!({"id": 107, "event": "room.list", "data": []})),
        (108, json!({"id": 108, "event": "room.list", "data": "all"})),
        (
            109,
            json!({"id": 109, "event": "typing.start", "data": {"roomId": [room]}}),
        ),
        (
            110,
            json!({"id": 110, "event": "message.history", "data": {"roomId": room, "limit": "ten"}}),
        ),
        (
            111,
            json!({"id": 111, "event": "message.read", "data": {"roomId": room, "seq": "1"}}),
        ),
        (
            112,
            json!({"id": 112, "event": "presence.get", "data": {"userIds": "everyone"}}),
        ),
    ] {
        let text = frame.to_string();
        alice.send_text(&text).await;
        error_ack(&mut alice, json!(id), "invalid", &text).await;
    }
    // A field of the wrong type or a missing one: the message names the field.
    for (id, data, field) in [
        (
            121,
            json!({"roomId": 5, "content": "hi", "type": "text", "tempId": "t-121"}),
            "roomId",
        ),
        (
            122,
            json!({"roomId": room, "content": ["hi"], "type": "text", "tempId": "t-122"}),
            "content",
        ),
        (
            123,
            json!({"content": "hi", "type": "text", "tempId": "t-123"}),
            "roomId",
        ),
    ] {
        let text = json!({"id": id, "event": "message.send", "data": data}).to_string();
        alice.send_text(&text).await;
        let e = error_ack(&mut alice, json!(id), "invalid", &text).await;
        assert!(
            e["message"].as_str().unwrap().contains(field),
            "the error should name {field}: {e}"
        );
    }

    // The same socket still works, nothing was created, and bob heard none of it.
    alice.ok("room.list", json!({})).await;
    let history = alice.ok("message.history", json!({"roomId": room})).await;
    assert_eq!(history["messages"], json!([]), "{history}");
    let got = bob.drain(QUIET).await;
    assert!(got.is_empty(), "bob heard alice's bad frames: {got:?}");
    let sent = send(&mut alice, &room, "still here").await;
    let got = bob.push("message.received").await;
    assert_eq!(got["message"], sent);
    assert_eq!(sent["seq"], 1);
}

async fn a_string_request_id_is_echoed_exactly(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (mut alice, _bob, room) = pair(&app).await;
    alice
        .send_text(r#"{"id": "abc-1", "event": "room.list", "data": {}}"#)
        .await;
    let f = next_frame(&mut alice).await;
    assert_eq!(f["ack"], "abc-1", "{f}");
    assert_eq!(f["ok"], true, "{f}");
    assert_eq!(f["data"]["rooms"][0]["roomId"], json!(room), "{f}");
    alice
        .send_text(r#"{"id": "abc-2", "event": "no.such.event", "data": {}}"#)
        .await;
    error_ack(&mut alice, json!("abc-2"), "invalid", "abc-2").await;
    // Numbers come back as the same number, not as a string.
    alice
        .send_text(r#"{"id": 0, "event": "room.list", "data": {}}"#)
        .await;
    let f = next_frame(&mut alice).await;
    assert_eq!(f["ack"], json!(0), "{f}");
    assert_eq!(f["ok"], true, "{f}");
    // A request without data is a request with empty data.
    alice
        .send_text(r#"{"id": "no-data", "event": "room.list"}"#)
        .await;
    let f = next_frame(&mut alice).await;
    assert_eq!(f["ack"], "no-data", "{f}");
    assert_eq!(f["ok"], true, "{f}");
}

async fn a_frame_over_64_kib_is_too_large_and_the_connection_stays_open(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (mut alice, mut bob, room) = pair(&app).await;

    // Exactly 64 KiB is allowed.
    let at_limit = padded(
        &json!({"id": 201, "event": "room.list", "data": {}}),
        64 * 1024,
    );
    alice.send_text(&at_limit).await;
    let f = next_frame(&mut alice).await;
    assert_eq!(f["ack"], 201, "{f}");
    assert_eq!(f["ok"], true, "a frame of exactly 64 KiB is allowed: {f}");

    // One byte more without an id: pushed.
    let over = padded(&json!({"event": "room.list", "data": {}}), 64 * 1024 + 1);
    alice.send_text(&over).await;
    error_push(&mut alice, "too_large", "a frame of 64 KiB + 1 byte").await;

    // 65 KiB of valid JSON with an id: the ack says too_large.
    let big = padded(
        &json!({"id": 202, "event": "message.send",
                "data": {"roomId": room, "type": "text", "tempId": "big", "content": "x"}}),
        65 * 1024,
    );
    serde_json::from_str::<Value>(&big).unwrap();
    alice.send_text(&big).await;
    error_ack(
        &mut alice,
        json!(202),
        "too_large",
        "a frame of 65 KiB with id 202",
    )
    .await;

    // Still open; nothing was sent; bob unaffected.
    alice.ok("room.list", json!({})).await;
    let history = alice.ok("message.history", json!({"roomId": room})).await;
    assert_eq!(history["messages"], json!([]), "{history}");
    let got = bob.drain(QUIET).await;
    assert!(got.is_empty(), "{got:?}");
    let sent = send(&mut alice, &room, "small again").await;
    assert_eq!(bob.push("message.received").await["message"], sent);
}

async fn a_frame_over_one_mib_closes_the_socket_with_1009(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice_user = app.register("alice").await;
    let bob_user = app.register("bob").await;
    let mut alice = app.connect(&alice_user).await;
    let mut bob = app.connect(&bob_user).await;
    let room = direct_id(&mut alice, &bob_user).await;
    bob.push("room.created").await;

    let huge = padded(
        &json!({"id": 301, "event": "room.list", "data": {}}),
        1024 * 1024 + 1,
    );
    // The server may hang up before the whole frame is written; that is fine.
    let _ = alice.socket().send(Message::Text(huge.into())).await;
    match alice.closed().await {
        Closed::Frame(code, reason) => assert_eq!(code, 1009, "{reason}"),
        Closed::Eof => panic!("expected a 1009 close frame, the connection just ended"),
    }

    // Only that socket: bob is still served, and alice can come back.
    bob.ok("room.list", json!({})).await;
    let mut alice = app.connect(&alice_user).await;
    assert_eq!(alice.user_id, alice_user.user_id);
    alice.ok("typing.start", json!({"roomId": room})).await;
    let typing = bob.push("typing.user").await;
    assert_eq!(typing["userName"], json!(alice_user.user_name));
    let sent = send(&mut alice, &room, "back again").await;
    assert_eq!(bob.push("message.received").await["message"], sent);
}

async fn content_is_limited_to_4000_characters_not_bytes(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (mut alice, mut bob, room) = pair(&app).await;
    for (content, what) in [("a".repeat(4001), "4001 a"), ("é".repeat(4001), "4001 é")] {
        let e = alice
            .fails(
                "message.send",
                json!({"roomId": room, "content": content, "type": "text", "tempId": what}),
                "too_large",
            )
            .await;
        assert!(e["message"].as_str().unwrap().contains("4000"), "{e}");
    }
    // 4000 two-byte characters (8000 bytes) fit.
    let long = "é".repeat(4000);
    let sent = alice
        .ok(
            "message.send",
            json!({"roomId": room, "content": long, "type": "text", "tempId": "max"}),
        )
        .await["message"]
        .clone();
    assert_eq!(sent["content"], json!(long));
    assert_eq!(sent["seq"], 1);
    assert_eq!(bob.push("message.received").await["message"], sent);
    // The same limit holds for edits.
    alice
        .fails(
            "message.edit",
            json!({"messageId": sent["messageId"], "content": "b".repeat(4001)}),
            "too_large",
        )
        .await;
    let edited = alice
        .ok(
            "message.edit",
            json!({"messageId": sent["messageId"], "content": "ü".repeat(4000)}),
        )
        .await;
    assert_eq!(edited["message"]["content"], json!("ü".repeat(4000)));
    let history = alice.ok("message.history", json!({"roomId": room})).await;
    assert_eq!(
        history["messages"].as_array().unwrap().len(),
        1,
        "{history}"
    );
    assert_eq!(history["messages"][0]["content"], json!("ü".repeat(4000)));
}

async fn a_client_that_answers_pings_stays_and_a_silent_one_is_dropped(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.ping_interval = Duration::from_millis(300);
        c.idle_timeout = Duration::from_millis(900);
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut reader = app.connect(&alice).await;
    let mut sleeper = app.connect(&bob).await;

    // The reader sees the server's pings (tungstenite answers them as it reads)...
    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_secs(1);
    while let Ok(frame) = tokio::time::timeout_at(until, reader.socket().next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(c))) => panic!("the reader was closed: {c:?}"),
            None | Some(Err(_)) => panic!("the reader's socket ended"),
            Some(Ok(_)) => {}
        }
    }
    assert!(pings >= 2, "pings every 300 ms, saw {pings} in 1 s");
    // ...and stays connected well past the idle timeout.
    let nothing = reader.collect("nothing", Duration::from_secs(2)).await;
    assert!(nothing.is_empty());
    reader.ok("room.list", json!({})).await;

    // The sleeper read nothing for those 3 s, so it never answered a ping:
    // the server counted it gone...
    assert_eq!(app.connections().await, 1, "only the reader is left");
    // ...and its socket is closed. The server sends 1001 and hangs up at once,
    // so tungstenite, answering the pings still buffered before that close
    // frame, usually hits a broken pipe first: either ending is a drop.
    match sleeper.closed().await {
        Closed::Frame(code, reason) => {
            assert_eq!(code, 1001, "{reason}");
            assert!(reason.contains("idle"), "{reason}");
        }
        Closed::Eof => {}
    }
}

async fn message_sends_are_rate_limited_but_an_idempotent_resend_is_not_counted(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.rate_limits.message = RateLimit::new(3, 60)).await;
    let (mut alice, mut bob, room) = pair(&app).await;
    let msg = |n: u32| json!({"roomId": room, "content": format!("m{n}"), "type": "text", "tempId": format!("t{n}")});

    let first = alice.ok("message.send", msg(1)).await["message"].clone();
    // Two resends of the acked message return it and use no budget...
    for _ in 0..2 {
        assert_eq!(alice.ok("message.send", msg(1)).await["message"], first);
    }
    // ...so two more fit in the limit of 3.
    alice.ok("message.send", msg(2)).await;
    let third = alice.ok("message.send", msg(3)).await["message"].clone();
    assert_eq!(third["seq"], 3, "resends created nothing");

    let e = alice.fails("message.send", msg(4), "rate_limited").await;
    let wait = e["retryAfterMs"].as_u64().unwrap_or(0);
    assert!(wait > 0 && wait <= 60_000, "retryAfterMs: {e}");
    // Limited, a resend of an acked message still gets its ack.
    assert_eq!(alice.ok("message.send", msg(3)).await["message"], third);
    alice.fails("message.send", msg(4), "rate_limited").await;

    // bob has his own budget, and saw exactly three messages.
    let got = bob.collect("message.received", QUIET).await;
    let seqs: Vec<&Value> = got.iter().map(|m| &m["message"]["seq"]).collect();
    assert_eq!(seqs, [&json!(1), &json!(2), &json!(3)], "{got:?}");
    send(&mut bob, &room, "my turn").await;
    let history = alice.ok("message.history", json!({"roomId": room})).await;
    let contents: Vec<&Value> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["content"])
        .collect();
    assert_eq!(
        contents,
        [&json!("m1"), &json!("m2"), &json!("m3"), &json!("my turn")]
    );
}

async fn typing_is_rate_limited(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.rate_limits.typing = RateLimit::new(2, 60)).await;
    let (mut alice, mut bob, room) = pair(&app).await;
    let here = json!({"roomId": room});
    alice.ok("typing.start", here.clone()).await;
    alice.ok("typing.start", here.clone()).await;
    let e = alice
        .fails("typing.start", here.clone(), "rate_limited")
        .await;
    assert!(
        e["retryAfterMs"].as_u64().is_some_and(|ms| ms > 0),
        "retryAfterMs: {e}"
    );
    // The renewal was not announced again, and the refused one announced nothing.
    let started = bob.collect("typing.user", QUIET).await;
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(
        started[0],
        json!({"roomId": room, "userId": alice.user_id, "userName": "alice", "isTyping": true})
    );
    // Stopping and sending are not typing.start: not limited.
    alice.ok("typing.stop", here.clone()).await;
    assert_eq!(bob.push("typing.user").await["isTyping"], false);
    send(&mut alice, &room, "done typing").await;
    // bob has his own budget.
    bob.ok("typing.start", here.clone()).await;
    let bobs = alice.push("typing.user").await;
    assert_eq!(bobs["userId"], json!(bob.user_id));
    assert_eq!(bobs["isTyping"], true);
}

crate::on_both_databases!(
    bad_frames_get_invalid_and_leave_the_connection_and_others_alone,
    a_string_request_id_is_echoed_exactly,
    a_frame_over_64_kib_is_too_large_and_the_connection_stays_open,
    a_frame_over_one_mib_closes_the_socket_with_1009,
    content_is_limited_to_4000_characters_not_bytes,
    a_client_that_answers_pings_stays_and_a_silent_one_is_dropped,
    message_sends_are_rate_limited_but_an_idempotent_resend_is_not_counted,
    typing_is_rate_limited,
);
