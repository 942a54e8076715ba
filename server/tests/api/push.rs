//! Web Push (protocol 9.6): devices without a connection are pushed exactly
//! what their settings ask for, encrypted for them (RFC 8291) and signed
//! (RFC 8292), once, across nodes and restarts; reads clear; dead endpoints
//! go; refusals are retried; endpoints on private addresses are refused.
//!
//! The push service is a local one the tests run ([`PushService`]); the
//! payloads are opened with the device's keys.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::harness::push_service::{DeviceKeys, Got, PushService};
use crate::harness::{Backend, P256_POINT, TestApp, TestUser, WsClient, group_id, send};

/// Long enough for a push that should not come to have come.
const QUIET: Duration = Duration::from_millis(1500);

/// Registers `user`'s device for pushes to `name`, then disconnects it and
/// waits until no node counts it as connected.
async fn subscribed_offline(
    app: &TestApp,
    user: &TestUser,
    push: &PushService,
    name: &str,
    previews: bool,
) -> DeviceKeys {
    let keys = DeviceKeys::new();
    let mut c = app.connect(user).await;
    let ack = c
        .ok(
            "push.register",
            json!({"endpoint": push.endpoint(name), "keys": keys.json(), "previews": previews}),
        )
        .await;
    assert_eq!(ack, json!({}));
    c.close().await;
    wait_offline(app, user).await;
    keys
}

/// Waits until no node counts `user`'s device as connected.
async fn wait_offline(app: &TestApp, user: &TestUser) {
    let deadline = Instant::now() + Duration::from_secs(10);
    'wait: loop {
        for s in app.states() {
            if s.bus
                .device_online(&s.hub, &user.user_id, &user.device_id)
                .await
                != Some(false)
            {
                assert!(Instant::now() < deadline, "the device stays online");
                tokio::time::sleep(Duration::from_millis(25)).await;
                continue 'wait;
            }
        }
        return;
    }
}

/// Sends `text` mentioning these users.
async fn send_mentioning(
    c: &mut WsClient,
    room: &str,
    text: &str,
    mentions: &[&TestUser],
) -> Value {
    let ids: Vec<&str> = mentions.iter().map(|u| u.user_id.as_str()).collect();
    c.ok(
        "message.send",
        json!({"roomId": room, "content": text, "type": "text",
               "tempId": uuid::Uuid::new_v4().to_string(), "mentions": ids}),
    )
    .await["message"]
        .clone()
}

/// The server's VAPID public key.
async fn vapid_key(app: &TestApp) -> String {
    let (status, body) = app.get("/api/push/vapid", None).await;
    assert_eq!(status, 200, "{body}");
    body["publicKey"].as_str().unwrap().to_owned()
}

/// Checks a push's VAPID header as a push service does: an ES256 JWT for
/// this service's origin, signed by the server's key, with that key in `k`.
fn check_vapid(got: &Got, push: &PushService, public: &str) {
    let auth = got.header("authorization");
    let (t, k) = auth
        .strip_prefix("vapid t=")
        .and_then(|r| r.split_once(", k="))
        .unwrap_or_else(|| panic!("a VAPID Authorization header, got {auth:?}"));
    assert_eq!(k, public);
    let point = URL_SAFE_NO_PAD.decode(k).unwrap();
    assert!(p256::PublicKey::from_sec1_bytes(&point).is_ok());
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[push.origin()]);
    v.set_required_spec_claims(&["exp", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(
        t,
        &jsonwebtoken::DecodingKey::from_ec_components(
            &URL_SAFE_NO_PAD.encode(&point[1..33]),
            &URL_SAFE_NO_PAD.encode(&point[33..]),
        )
        .unwrap(),
        &v,
    )
    .expect("the VAPID JWT verifies with the server's public key")
    .claims;
    let exp = claims["exp"].as_i64().unwrap();
    let now = leetchat_protocol::time::now_ms() / 1000;
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}, now {now}");
    assert!(
        claims["sub"].as_str().unwrap().starts_with("mailto:"),
        "{claims}"
    );
}

async fn the_vapid_key_is_one_p256_point_on_every_node_and_after_a_restart(b: Backend) {
    let mut app = TestApp::spawn(b).await;
    let key = vapid_key(&app).await;
    let point = URL_SAFE_NO_PAD.decode(&key).expect("base64url");
    assert_eq!(point.len(), 65);
    assert!(p256::PublicKey::from_sec1_bytes(&point).is_ok());
    for url in app.node_urls("/api/push/vapid") {
        let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        assert_eq!(body["publicKey"], key.as_str());
    }
    app.restart(false).await;
    assert_eq!(vapid_key(&app).await, key);
}

async fn registering_checks_the_endpoint_and_keys_and_refuses_private_addresses(b: Backend) {
    let app = TestApp::spawn(b).await;
    let push = PushService::start().await;
    let alice = app.register("alice").await;
    let mut c = app.connect(&alice).await;
    let keys = DeviceKeys::new().json();
    let long = format!("https://8.8.8.8/{}", "a".repeat(2100));
    for endpoint in [
        "not a url",
        "/relative/path",
        "ftp://push.example.com/x",
        // http only for hosts the operator lists (127.0.0.1 here).
        "http://8.8.8.8/x",
        // Private, loopback, link-local: also by name, also over https.
        "https://localhost/x",
        "https://127.0.0.2/x",
        "https://10.1.2.3/x",
        "https://192.168.0.1/x",
        "https://172.16.5.5/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://[fe80::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://0.0.0.0/x",
        &long,
    ] {
        let e = c
            .fails(
                "push.register",
                json!({"endpoint": endpoint, "keys": keys}),
                "invalid",
            )
            .await;
        assert!(
            e["message"].as_str().unwrap().contains("endpoint"),
            "{endpoint}: {e}"
        );
    }
    let bad_keys = [
        json!({"p256dh": "!!!", "auth": keys["auth"]}),
        // 64 bytes, not an uncompressed point.
        json!({"p256dh": URL_SAFE_NO_PAD.encode([4u8; 64]), "auth": keys["auth"]}),
        // 65 bytes, not on the curve.
        json!({"p256dh": URL_SAFE_NO_PAD.encode([4u8; 65]), "auth": keys["auth"]}),
        json!({"p256dh": keys["p256dh"], "auth": URL_SAFE_NO_PAD.encode([1u8; 15])}),
        json!({"p256dh": keys["p256dh"], "auth": ""}),
    ];
    for k in bad_keys {
        let e = c
            .fails(
                "push.register",
                json!({"endpoint": push.endpoint("a"), "keys": k}),
                "invalid",
            )
            .await;
        assert!(e["message"].as_str().unwrap().contains("keys."), "{e}");
    }
    for shape in [
        json!({"endpoint": push.endpoint("a")}),
        json!({"keys": keys}),
        json!({"endpoint": 5, "keys": keys}),
        json!({"endpoint": push.endpoint("a"), "keys": keys, "previews": "yes"}),
    ] {
        c.fails("push.register", shape, "invalid").await;
    }
    // Nothing was stored: a message to alice pushes nowhere.
    let bob = app.register("bob").await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut bc, "g", &[&alice]).await;
    c.close().await;
    wait_offline(&app, &alice).await;
    send(&mut bc, &room, "hello").await;
    tokio::time::sleep(QUIET).await;
    assert!(push.got("a").is_empty());

    // A public https endpoint is taken (it is never reached in this test).
    let mut c = app.connect(&alice).await;
    c.ok(
        "push.register",
        json!({"endpoint": "https://8.8.8.8/wpush/abc", "keys": {"p256dh": P256_POINT, "auth": keys["auth"]}}),
    )
    .await;
    c.ok("push.unregister", json!({})).await;
    // Unregistering what is not there is fine.
    c.ok("push.unregister", json!({})).await;
}

async fn an_offline_device_gets_one_push_per_message_and_a_connected_one_none(b: Backend) {
    let app = TestApp::spawn(b).await;
    let push = PushService::start().await;
    let alice = app.register("alice").await;
    let phone = app.login("alice").await;
    let tablet = app.login("alice").await;
    let bob = app.register("bob").await;
    let bob_phone = app.login("bob").await;
    let desk = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut bc, "team", &[&alice]).await;
    let keys = subscribed_offline(&app, &phone, &push, "phone", false).await;
    // Bob's own messages never push his devices.
    subscribed_offline(&app, &bob_phone, &push, "bob-phone", true).await;
    // The tablet stays connected: it has every message live.
    let mut tab = app.connect(&tablet).await;
    tab.ok(
        "push.register",
        json!({"endpoint": push.endpoint("tablet"), "keys": DeviceKeys::new().json()}),
    )
    .await;

    let mut sent = Vec::new();
    for i in 0..12 {
        sent.push(send(&mut bc, &room, &format!("hello {i}")).await);
    }
    let got = push.exactly("phone", 12, QUIET).await;
    let public = vapid_key(&app).await;
    let mut opened: Vec<Value> = got.iter().map(|g| keys.open(g)).collect();
    opened.sort_by_key(|p| p["seq"].as_i64());
    for (p, m) in opened.iter().zip(&sent) {
        assert_eq!(
            *p,
            json!({"type": "message", "roomId": room, "messageId": m["messageId"],
                   "seq": m["seq"], "senderName": "bob"}),
            "no preview: the phone did not ask for one"
        );
    }
    for g in &got {
        check_vapid(g, &push, &public);
        assert_eq!(g.header("urgency"), "normal", "a group, no mention");
        assert!(g.header("ttl").parse::<u32>().unwrap() > 0);
        assert!(!g.header("topic").is_empty() && g.header("topic").len() <= 32);
        assert_eq!(g.header("content-type"), "application/octet-stream");
    }
    assert!(
        push.got("tablet").is_empty(),
        "a connected device is not pushed"
    );
    assert!(
        push.got("bob-phone").is_empty(),
        "no push for one's own message"
    );
    desk.close().await;
    tab.close().await;
}

async fn each_push_is_sent_once_by_one_node_even_when_the_service_is_slow(b: Backend) {
    let app = TestApp::spawn(b).await;
    let push = PushService::start().await;
    let alice = app.register("alice").await;
    let phone = app.login("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let room = group_id(&mut bc, "g", &[&alice, &carol]).await;
    let keys = subscribed_offline(&app, &phone, &push, "phone", false).await;
    // Each push is in flight for longer than the nodes take to look at the
    // queue again (1 s): every node sees it due, one sends it.
    push.slow("phone", Duration::from_millis(1_500));
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..20 {
        let c = if i % 2 == 0 { &mut bc } else { &mut cc };
        ids.insert(
            send(c, &room, &format!("m{i}")).await["messageId"]
                .clone()
                .to_string(),
        );
    }
    let got = push
        .exactly("phone", 20, Duration::from_millis(2_500))
        .await;
    let pushed: std::collections::BTreeSet<String> = got
        .iter()
        .map(|g| keys.open(g)["messageId"].to_string())
        .collect();
    assert_eq!(pushed, ids, "each message pushed once");
}

async fn levels_mutes_and_mentions_decide_who_is_pushed(b: Backend) {
    let app = TestApp::spawn(b).await;
    let push = PushService::start().await;
    let alice = app.register("alice").await;
    let phone = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut desk = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let all = group_id(&mut bc, "all", &[&alice]).await;
    let mentions = group_id(&mut bc, "mentions", &[&alice]).await;
    let muted = group_id(&mut bc, "muted", &[&alice]).await;
    let none = group_id(&mut bc, "none", &[&alice]).await;
    let follows = group_id(&mut bc, "follows", &[&alice]).await;
    let briefly = group_id(&mut bc, "briefly", &[&alice]).await;
    let direct = crate::harness::direct_id(&mut bc, &alice).await;
    // The default becomes "mentions"; rooms set to "all" say so.
    desk.ok("notify.default.set", json!({"level": "mentions"}))
        .await;
    let soon = leetchat_protocol::time::now_ms() + 4_000;
    let unmuted = Instant::now() + Duration::from_millis(4_200);
    for (room, level, mute) in [
        (&all, "all", Value::Null),
        (&direct, "all", Value::Null),
        (&mentions, "mentions", Value::Null),
        (&muted, "all", json!("2099-01-01T00:00:00.000Z")),
        (&none, "none", Value::Null),
        (
            &briefly,
            "all",
            json!(leetchat_protocol::time::rfc3339(soon)),
        ),
    ] {
        desk.ok(
            "room.notify.set",
            json!({"roomId": room, "level": level, "muteUntil": mute}),
        )
        .await;
    }
    let keys = subscribed_offline(&app, &phone, &push, "phone", true).await;
    desk.close().await;

    send(&mut bc, &mentions, "no mention here").await;
    let m1 = send_mentioning(&mut bc, &mentions, "hi @alice", &[&alice]).await;
    let m2 = bc
        .ok(
            "message.send",
            json!({"roomId": mentions, "content": "@room look", "type": "text",
                   "tempId": "t-room", "mentionsRoom": true}),
        )
        .await["message"]
        .clone();
    send_mentioning(&mut bc, &muted, "muted @alice", &[&alice]).await;
    send_mentioning(&mut bc, &none, "none @alice", &[&alice]).await;
    send(&mut bc, &follows, "the default is mentions").await;
    send(&mut bc, &briefly, "while muted").await;
    let long: String = "word ".repeat(40);
    let m3 = send(&mut bc, &all, &long).await;
    let m4 = send(&mut bc, &direct, "psst").await;
    let got = push.exactly("phone", 4, QUIET).await;
    let by_id = |m: &Value| {
        let g = got
            .iter()
            .find(|g| keys.open(g)["messageId"] == m["messageId"])
            .unwrap_or_else(|| panic!("no push for {}", m["content"]));
        (keys.open(g), g.header("urgency").to_owned())
    };
    let (p, urgency) = by_id(&m1);
    assert_eq!(p["preview"], "hi @alice");
    assert_eq!(urgency, "high", "a mention");
    let (p, urgency) = by_id(&m2);
    assert_eq!(p["preview"], "@room look");
    assert_eq!(urgency, "high", "a mention of the room");
    let (p, urgency) = by_id(&m3);
    assert_eq!(
        p["preview"].as_str().unwrap(),
        long.chars().take(100).collect::<String>()
    );
    assert_eq!(urgency, "normal");
    let (p, urgency) = by_id(&m4);
    assert_eq!(p["preview"], "psst");
    assert_eq!(urgency, "high", "a direct room");

    // The short mute ends: the room notifies again.
    tokio::time::sleep_until(unmuted.into()).await;
    let m5 = send(&mut bc, &briefly, "after the mute").await;
    let got = push.exactly("phone", 5, QUIET).await;
    assert!(
        got.iter()
            .any(|g| keys.open(g)["messageId"] == m5["messageId"])
    );
}

async fn a_read_elsewhere_sends_a_read_push_and_what_was_read_or_deleted_in_time_is_not_pushed(
    b: Backend,
) {
    let app = TestApp::spawn(b).await;
    let push = PushService::start().await;
    let alice = app.register("alice").await;
    let phone = app.login("alice").await;
    let tablet = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut desk = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let a = group_id(&mut bc, "a", &[&alice]).await;
    let other = group_id(&mut bc, "other", &[&alice]).await;
    let keys = subscribed_offline(&app, &phone, &push, "phone", false).await;
    // The tablet is subscribed but was never pushed about the room.
    subscribed_offline(&app, &tablet, &push, "tablet", false).await;
    push.answer("tablet", &[], 503);

    send(&mut bc, &a, "one").await;
    let m = send(&mut bc, &a, "two").await;
    send(&mut bc, &other, "elsewhere").await;
    push.exactly("phone", 3, Duration::from_millis(200)).await;
    let seq = m["seq"].as_i64().unwrap();
    desk.ok("message.read", json!({"roomId": a, "seq": seq}))
        .await;
    let got = push.exactly("phone", 4, QUIET).await;
    let read: Vec<Value> = got
        .iter()
        .map(|g| keys.open(g))
        .filter(|p| p["type"] == "read")
        .collect();
    assert_eq!(read, vec![json!({"type": "read", "roomId": a, "seq": seq})]);
    // Reading again (nothing new pushed since) says nothing.
    desk.ok("message.read", json!({"roomId": a, "seq": seq}))
        .await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(push.delivered("phone").len(), 4);
    assert!(push.delivered("tablet").is_empty());

    // The push service is down; a message waits; alice reads it on her
    // desk meanwhile: once the service is back, nothing about it is pushed.
    push.answer("phone", &[], 503);
    let before = push.got("phone").len();
    let m = send(&mut bc, &a, "read in time").await;
    push.wait_posts("phone", before + 1, Duration::from_secs(10))
        .await;
    desk.ok("message.read", json!({"roomId": a, "seq": m["seq"]}))
        .await;
    push.answer("phone", &[], 201);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        push.delivered("phone").len(),
        4,
        "a read message is not pushed"
    );

    // Likewise a message deleted before its push could go.
    push.answer("phone", &[], 503);
    let before = push.got("phone").len();
    let m = send(&mut bc, &other, "deleted in time").await;
    push.wait_posts("phone", before + 1, Duration::from_secs(10))
        .await;
    bc.ok("message.delete", json!({"messageId": m["messageId"]}))
        .await;
    push.answer("phone", &[], 201);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        push.delivered("phone").len(),
        4,
        "a deleted message is not pushed"
    );
}

async fn a_gone_endpoint_is_dropped_and_refusals_are_retried_for_a_while(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.web_push.retry_for = Duration::from_millis(2_500);
    })
    .await;
    let push = PushService::start().await;
    let alice = app.register("alice").await;
    let gone = app.login("alice").await;
    let flaky = app.login("alice").await;
    let down = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut bc, "g", &[&alice]).await;
    subscribed_offline(&app, &gone, &push, "gone", false).await;
    let flaky_keys = subscribed_offline(&app, &flaky, &push, "flaky", false).await;
    subscribed_offline(&app, &down, &push, "down", false).await;
    push.answer("gone", &[], 410);
    push.answer("flaky", &[503, 429], 201);
    push.answer("down", &[], 500);

    let m = send(&mut bc, &room, "one").await;
    // Flaky: 503 now, 429 after ~1 s, taken after ~2 s more.
    let got = push.exactly("flaky", 1, Duration::from_millis(500)).await;
    let all = push.got("flaky");
    assert_eq!(
        all.iter().map(|g| g.status).collect::<Vec<_>>(),
        vec![503, 429, 201]
    );
    assert_eq!(flaky_keys.open(&got[0])["messageId"], m["messageId"]);
    let topics: Vec<&str> = all.iter().map(|g| g.header("topic")).collect();
    assert!(
        topics.iter().all(|t| *t == topics[0]),
        "one topic: {topics:?}"
    );
    // Down: tried for PUSH_RETRY_FOR (2.5 s: at 0, ~1 and ~3 s), then given up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tries = push.got("down").len();
    assert!((2..=4).contains(&tries), "{tries} tries");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(push.got("down").len(), tries, "given up");
    // Gone: one try; the subscription went, so the next message is not tried.
    assert_eq!(push.got("gone").len(), 1);
    send(&mut bc, &room, "two").await;
    push.exactly("flaky", 2, QUIET).await;
    assert_eq!(push.got("gone").len(), 1, "a 410 endpoint is dropped");
    let metrics: String = app.node_metrics().await.concat();
    for outcome in ["sent", "gone", "retry", "expired"] {
        assert!(
            metrics.contains(&format!(
                "leetchat_web_pushes_total{{outcome=\"{outcome}\"}}"
            )),
            "{outcome} counted"
        );
    }
}

async fn signing_out_or_unregistering_ends_the_pushes(b: Backend) {
    let app = TestApp::spawn(b).await;
    let push = PushService::start().await;
    let alice = app.register("alice").await;
    let phone = app.login("alice").await;
    let laptop = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut bc, "g", &[&alice]).await;
    subscribed_offline(&app, &phone, &push, "phone", false).await;
    subscribed_offline(&app, &laptop, &push, "laptop", false).await;
    // Bob's subscription is his device's own: it replaces none of alice's.
    let mut bob2 = app.connect(&app.login("bob").await).await;
    bob2.ok(
        "push.register",
        json!({"endpoint": push.endpoint("phone"), "keys": DeviceKeys::new().json()}),
    )
    .await;
    bob2.close().await;
    send(&mut bc, &room, "one").await;
    push.exactly("phone", 1, Duration::ZERO).await;
    push.exactly("laptop", 1, Duration::ZERO).await;

    let (status, _) = app
        .post("/api/auth/logout", &json!({}), Some(&phone.access_token))
        .await;
    assert_eq!(status, 204);
    let mut l = app.connect(&laptop).await;
    l.ok("push.unregister", json!({})).await;
    l.close().await;
    wait_offline(&app, &laptop).await;
    send(&mut bc, &room, "two").await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        push.got("phone").len(),
        1,
        "a signed-out device is not pushed"
    );
    assert_eq!(
        push.got("laptop").len(),
        1,
        "an unregistered device is not pushed"
    );
}

crate::on_both_databases!(
    the_vapid_key_is_one_p256_point_on_every_node_and_after_a_restart,
    registering_checks_the_endpoint_and_keys_and_refuses_private_addresses,
    an_offline_device_gets_one_push_per_message_and_a_connected_one_none,
    each_push_is_sent_once_by_one_node_even_when_the_service_is_slow,
    levels_mutes_and_mentions_decide_who_is_pushed,
    a_read_elsewhere_sends_a_read_push_and_what_was_read_or_deleted_in_time_is_not_pushed,
    a_gone_endpoint_is_dropped_and_refusals_are_retried_for_a_while,
    signing_out_or_unregistering_ends_the_pushes,
);

/// Pushes checked by a second, independent implementation: Python's
/// `http_ece` decrypts the body (RFC 8291) and `cryptography` verifies the
/// VAPID signature (RFC 8292). `./scripts/test.sh` runs it with
/// LEETCHAT_PYTHON set to a Python that has both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs LEETCHAT_PYTHON with http_ece; run by scripts/test.sh"]
async fn pushes_open_with_an_independent_implementation() {
    let python = std::env::var("LEETCHAT_PYTHON")
        .expect("LEETCHAT_PYTHON: a Python with http_ece and cryptography (pip install http_ece)");
    let app = TestApp::spawn(Backend::Sqlite).await;
    let push = PushService::start().await;
    let alice = app.register("alice").await;
    let phone = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut bc = app.connect(&bob).await;
    let room = crate::harness::direct_id(&mut bc, &alice).await;
    let keys = subscribed_offline(&app, &phone, &push, "phone", true).await;
    let text = "Grüße 👋 — a long enough message to span more than one AES block".to_owned();
    let m = send(&mut bc, &room, &text).await;
    let got = push.exactly("phone", 1, Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("push.json");
    std::fs::write(
        &input,
        json!({
            "body": URL_SAFE_NO_PAD.encode(&got[0].body),
            "privateKey": keys.secret_b64(),
            "auth": URL_SAFE_NO_PAD.encode(keys.auth),
            "authorization": got[0].header("authorization"),
            "audience": push.origin(),
        })
        .to_string(),
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webpush_check.py");
    let out = std::process::Command::new(&python)
        .arg(script)
        .arg(&input)
        .output()
        .expect("run the Python check");
    assert!(
        out.status.success(),
        "the independent check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("the check prints JSON");
    let payload: Value = serde_json::from_str(result["plaintext"].as_str().unwrap()).unwrap();
    assert_eq!(payload["messageId"], m["messageId"]);
    assert_eq!(payload["preview"], text.as_str());
    assert_eq!(result["claims"]["aud"], push.origin());
    assert_eq!(result["publicKey"], vapid_key(&app).await);
}

/// Signs `name` up (or in, for another device) on a node process.
async fn auth_on(node: &crate::faults::NodeProc, path: &str, name: &str) -> TestUser {
    let r = reqwest::Client::new()
        .post(node.url(path))
        .json(&json!({"userName": name, "password": format!("password-{name}")}))
        .send()
        .await
        .expect("auth request");
    assert!(r.status().is_success(), "{path} {name}: {}", r.status());
    TestUser::from_auth(name, &r.json().await.expect("json"))
}

/// Waits until a node process answers.
async fn serving(node: &crate::faults::NodeProc) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reqwest::get(node.url("/health/chat"))
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "the node did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A push decided before the node is killed with SIGKILL (the push service
/// was refusing it) is sent after the node starts again, once.
async fn a_push_queued_before_a_kill_9_is_sent_after_the_restart(database_url: Option<String>) {
    use crate::faults::NodeProc;
    let dir = tempfile::tempdir().unwrap();
    let push = PushService::start().await;
    let mut env: Vec<(String, String)> = [
        ("BIND_ADDRESS", "127.0.0.1"),
        ("JWT_SECRET", "push-tests-secret-push-tests-secret-012345"),
        ("PUSH_ALLOW_HTTP_HOSTS", "127.0.0.1"),
        ("MAX_CONNECTIONS_PER_ADDRESS", "0"),
        ("RATE_LIMIT_AUTH", "1000/60"),
        ("RATE_LIMIT_REGISTER", "1000/60"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(url) = database_url {
        env.push(("DATABASE_URL".into(), url));
    }
    let mut node = NodeProc::spawn(&env, 1, dir.path());
    serving(&node).await;
    let ws = |n: &NodeProc| n.url("/ws").replace("http://", "ws://");
    let alice = auth_on(&node, "/api/auth/register", "alice").await;
    let phone = auth_on(&node, "/api/auth/login", "alice").await;
    let bob = auth_on(&node, "/api/auth/register", "bob").await;
    let keys = DeviceKeys::new();
    let mut pc = WsClient::connect_url(&ws(&node), &phone.access_token).await;
    pc.ok(
        "push.register",
        json!({"endpoint": push.endpoint("phone"), "keys": keys.json()}),
    )
    .await;
    pc.close().await;
    push.answer("phone", &[], 503);
    let mut bc = WsClient::connect_url(&ws(&node), &bob.access_token).await;
    let room = crate::harness::direct_id(&mut bc, &alice).await;
    let m = send(&mut bc, &room, "sent before the crash").await;
    // Tried once and refused: it waits in the queue when the node dies.
    push.wait_posts("phone", 1, Duration::from_secs(10)).await;
    node.kill9();
    push.answer("phone", &[], 201);
    let node = NodeProc::spawn(&env, 1, dir.path());
    serving(&node).await;
    let got = push.exactly("phone", 1, Duration::from_secs(3)).await;
    let p = keys.open(&got[0]);
    assert_eq!(p["messageId"], m["messageId"]);
    assert_eq!(p["senderName"], "bob");
    drop(node);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_queued_before_a_kill_9_is_sent_after_the_restart_sqlite() {
    a_push_queued_before_a_kill_9_is_sent_after_the_restart(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_queued_before_a_kill_9_is_sent_after_the_restart_postgres() {
    let pg = crate::harness::PgDatabase::create().await;
    a_push_queued_before_a_kill_9_is_sent_after_the_restart(Some(pg.url.clone())).await;
}

/// The VAPID key is kept in DATA_DIR (mode 0600); a node with an empty
/// DATA_DIR takes the one the database records; a node given another key
/// does not start (its pushes would be refused for every subscription).
async fn every_node_signs_with_the_one_vapid_key(b: Backend) {
    use leetchat_server::app::Application;
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pg = match b {
        Backend::Sqlite => None,
        _ => Some(crate::harness::PgDatabase::create().await),
    };
    let mut config = crate::harness::test_config(one.path());
    config.database_url = Some(match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", one.path().join("shared.db").display()),
    });
    // Two nodes starting together on an empty database agree on one key.
    // (Several nodes are a PostgreSQL layout; on SQLite they start in turn.)
    let three = tempfile::tempdir().unwrap();
    let mut beside = config.clone();
    beside.data_dir = three.path().to_path_buf();
    let (first, other) = if b == Backend::Sqlite {
        let first = Application::build(config.clone()).await;
        (first, Application::build(beside).await)
    } else {
        tokio::join!(
            Application::build(config.clone()),
            Application::build(beside)
        )
    };
    let (first, other) = (first.expect("starts"), other.expect("starts beside"));
    let key = first.state().push_service.public_key().to_owned();
    assert_eq!(other.state().push_service.public_key(), key);
    drop((first, other));
    let file = one.path().join("vapid_private_key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
    let kept = std::fs::read_to_string(&file).unwrap();

    config.data_dir = two.path().to_path_buf();
    let second = Application::build(config.clone()).await.expect("starts");
    assert_eq!(second.state().push_service.public_key(), key);
    drop(second);
    assert_eq!(
        std::fs::read_to_string(two.path().join("vapid_private_key")).unwrap(),
        kept
    );

    config.web_push.vapid_private_key = Some(kept);
    drop(
        Application::build(config.clone())
            .await
            .expect("the same key starts"),
    );
    config.web_push.vapid_private_key = Some(URL_SAFE_NO_PAD.encode([7u8; 32]));
    let Err(e) = Application::build(config.clone()).await else {
        panic!("another key is refused");
    };
    let e = e.to_string();
    assert!(e.contains("VAPID_PRIVATE_KEY is not the VAPID key"), "{e}");
    assert!(e.contains(&key), "names the key in use: {e}");
    config.web_push.vapid_private_key = Some("not a key".into());
    let Err(e) = Application::build(config).await else {
        panic!("a key that is not one is refused");
    };
    let e = e.to_string();
    assert!(e.contains("VAPID_PRIVATE_KEY is not base64url"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_signs_with_the_one_vapid_key_sqlite() {
    every_node_signs_with_the_one_vapid_key(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_signs_with_the_one_vapid_key_postgres() {
    every_node_signs_with_the_one_vapid_key(Backend::Postgres).await;
}
