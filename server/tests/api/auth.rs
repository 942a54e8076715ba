//! Registration, sign-in, token refresh and revocation, and socket auth.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, Closed, TestApp, WsClient, next_message};

async fn register_creates_the_account_and_refuses_a_taken_name(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"userName": "Alice", "password": "correct horse", "displayName": "Alice A."}),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["userName"], "Alice");
    assert_eq!(body["user"]["displayName"], "Alice A.");
    for field in ["accessToken", "refreshToken", "deviceId"] {
        assert!(
            body[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}: {body}"
        );
    }
    let (status, body) = app
        .post(
            "/api/auth/register",
            &json!({"userName": "alice", "password": "another one"}),
            None,
        )
        .await;
    assert_eq!(status, 409, "names are unique regardless of case: {body}");
    assert_eq!(body["error"]["code"], "conflict");
}

async fn register_rejects_bad_names_passwords_and_bodies(b: Backend) {
    let app = TestApp::spawn(b).await;
    for body in [
        json!({"userName": "ab", "password": "long enough"}),
        json!({"userName": "has space", "password": "long enough"}),
        json!({"userName": "x".repeat(33), "password": "long enough"}),
        json!({"userName": "fine_name", "password": "short"}),
        json!({"userName": "fine_name"}),
        json!({"userName": 5, "password": "long enough"}),
    ] {
        let (status, resp) = app.post("/api/auth/register", &body, None).await;
        assert_eq!(status, 400, "{body} -> {resp}");
        assert_eq!(resp["error"]["code"], "invalid", "{resp}");
        assert!(
            resp["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let resp = app
        .http
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid");
}

async fn login_with_a_wrong_password_or_unknown_name_is_unauthenticated(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.register("bob").await;
    let (status, resp) = app
        .post(
            "/api/auth/login",
            &json!({"userName": "BOB", "password": "password-bob"}),
            None,
        )
        .await;
    assert_eq!(status, 200, "login is case-insensitive on the name: {resp}");
    for body in [
        json!({"userName": "bob", "password": "wrong password"}),
        json!({"userName": "nobody", "password": "password-nobody"}),
    ] {
        let (status, resp) = app.post("/api/auth/login", &body, None).await;
        assert_eq!(status, 401, "{resp}");
        assert_eq!(resp["error"]["code"], "unauthenticated");
    }
}

async fn login_attempts_are_rate_limited_per_account(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.rate_limits.auth = leetchat_server::config::RateLimit::new(3, 60);
    })
    .await;
    app.register("carol").await;
    for _ in 0..3 {
        let (s, _) = app
            .post(
                "/api/auth/login",
                &json!({"userName": "carol", "password": "nope nope"}),
                None,
            )
            .await;
        assert_eq!(s, 401);
    }
    let (s, body) = app
        .post(
            "/api/auth/login",
            &json!({"userName": "carol", "password": "password-carol"}),
            None,
        )
        .await;
    assert_eq!(s, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["retryAfterMs"]
            .as_u64()
            .is_some_and(|ms| ms > 0)
    );
}

async fn refresh_rotates_tokens_and_reuse_of_a_spent_one_revokes_the_device(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let (s, first) = app
        .post(
            "/api/auth/refresh",
            &json!({"refreshToken": alice.refresh_token}),
            None,
        )
        .await;
    assert_eq!(s, 200, "{first}");
    let new_refresh = first["refreshToken"].as_str().unwrap().to_owned();
    let new_access = first["accessToken"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, alice.refresh_token);
    let (s, _) = app.get("/api/users?query=ali", Some(&new_access)).await;
    assert_eq!(s, 200);

    // A live socket of this device is closed when the device is revoked.
    let mut live = WsClient::connect(&app, Some(&new_access))
        .await
        .expect("connects");

    // The spent token again: refused, and the whole device is signed out.
    let (s, body) = app
        .post(
            "/api/auth/refresh",
            &json!({"refreshToken": alice.refresh_token}),
            None,
        )
        .await;
    assert_eq!(s, 401, "{body}");
    let (s, _) = app
        .post(
            "/api/auth/refresh",
            &json!({"refreshToken": new_refresh}),
            None,
        )
        .await;
    assert_eq!(s, 401, "the rotated token died with its device");
    let (s, _) = app.get("/api/users?query=ali", Some(&new_access)).await;
    assert_eq!(s, 401, "access tokens of a revoked device stop working");
    match live.closed().await {
        Closed::Frame(code, _) => assert_eq!(code, 4401),
        other => panic!("expected a 4401 close, got {other:?}"),
    }
    let (s, _) = app
        .post(
            "/api/auth/refresh",
            &json!({"refreshToken": "garbage"}),
            None,
        )
        .await;
    assert_eq!(s, 401);
}

async fn logout_revokes_only_that_device_and_closes_its_sockets(b: Backend) {
    let app = TestApp::spawn(b).await;
    let phone = app.register("dave").await;
    let laptop = app.login("dave").await;
    let mut phone_ws = app.connect(&phone).await;
    let mut laptop_ws = app.connect(&laptop).await;
    let (s, _) = app
        .post("/api/auth/logout", &json!({}), Some(&phone.access_token))
        .await;
    assert_eq!(s, 204);
    match phone_ws.closed().await {
        Closed::Frame(code, _) => assert_eq!(code, 4401),
        other => panic!("expected a 4401 close, got {other:?}"),
    }
    let (s, _) = app
        .get("/api/users?query=d", Some(&phone.access_token))
        .await;
    assert_eq!(s, 401);
    assert!(
        WsClient::connect(&app, Some(&phone.access_token))
            .await
            .is_err()
    );
    let (s, _) = app
        .post(
            "/api/auth/refresh",
            &json!({"refreshToken": phone.refresh_token}),
            None,
        )
        .await;
    assert_eq!(s, 401);
    // The other device is untouched.
    laptop_ws.ok("room.list", json!({})).await;
    let (s, _) = app.post("/api/auth/logout", &json!({}), None).await;
    assert_eq!(s, 401, "logout needs a bearer token");
}

/// A socket that authenticates just before its device signs out is not
/// left open after: the race is run many times, and every socket that got
/// in is closed.
async fn a_socket_racing_its_logout_does_not_stay_open(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.register("erin").await;
    let mut got_in = 0;
    let empty = json!({});
    for _ in 0..40 {
        let device = app.login("erin").await;
        let (ws, (status, _)) = tokio::join!(
            WsClient::connect(&app, Some(&device.access_token)),
            app.post("/api/auth/logout", &empty, Some(&device.access_token)),
        );
        assert_eq!(status, 204);
        if let Ok(mut ws) = ws {
            got_in += 1;
            match tokio::time::timeout(std::time::Duration::from_secs(5), ws.closed()).await {
                Ok(Closed::Frame(code, _)) => assert_eq!(code, 4401),
                Ok(Closed::Eof) => {}
                Err(_) => panic!("a socket of a signed-out device stayed open"),
            }
        }
    }
    println!("{got_in} of 40 sockets got in before their logout; all were closed");
}

/// A signed-out device whose client ignores the close frame cannot keep
/// using its socket: what it sends after the close does nothing.
async fn a_signed_out_socket_that_ignores_the_close_can_do_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mallory = app.register("mallory").await;
    let bob = app.register("bob").await;
    let mut m = app.connect(&mallory).await;
    let mut bc = app.connect(&bob).await;
    let room = crate::harness::direct_id(&mut m, &bob).await;
    bc.push("room.created").await;
    let (s, _) = app
        .post("/api/auth/logout", &json!({}), Some(&mallory.access_token))
        .await;
    assert_eq!(s, 204);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // Without reading the close, keep sending.
    for i in 0..3 {
        let frame = json!({"id": 100 + i, "event": "message.send", "data": {"roomId": room, "content": format!("after logout {i}"), "type": "text", "tempId": format!("late{i}")}});
        // The server may have hung up already: then this fails, which is fine.
        let _ = futures_util::SinkExt::send(
            m.socket(),
            tokio_tungstenite::tungstenite::Message::Text(frame.to_string().into()),
        )
        .await;
    }
    bc.no_push("message.received", std::time::Duration::from_millis(800))
        .await;
    let h = bc.ok("message.history", json!({"roomId": room})).await;
    assert_eq!(h["messages"], json!([]), "{h}");
}

/// One device opening socket after socket keeps at most
/// MAX_SOCKETS_PER_DEVICE on a node: the oldest are closed with 4429.
async fn a_device_keeps_a_bounded_number_of_sockets(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.max_sockets_per_device = 3).await;
    let phone = app.register("fay").await;
    let laptop = app.login("fay").await;
    let node = format!("ws://127.0.0.1:{}/ws", app.port);
    let mut other = WsClient::connect_url(&node, &laptop.access_token).await;
    let mut socks = Vec::new();
    for _ in 0..3 {
        socks.push(WsClient::connect_url(&node, &phone.access_token).await);
    }
    let mut fourth = WsClient::connect_url(&node, &phone.access_token).await;
    match tokio::time::timeout(std::time::Duration::from_secs(5), socks[0].closed()).await {
        Ok(Closed::Frame(code, reason)) => {
            assert_eq!(code, 4429);
            assert!(reason.contains("too many"), "{reason}");
        }
        other => panic!("the oldest socket was not closed with 4429: {other:?}"),
    }
    for s in socks.iter_mut().skip(1) {
        s.ok("room.list", json!({})).await;
    }
    fourth.ok("room.list", json!({})).await;
    other.ok("room.list", json!({})).await;
}

async fn sockets_refuse_missing_bad_and_expired_tokens_with_4401(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.jwt_expiration = Duration::from_secs(1)).await;
    let eve = app.register("eve").await;
    for token in ["not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."] {
        match WsClient::connect(&app, Some(token)).await {
            Err(Closed::Frame(4401, _)) => {}
            Err(other) => panic!("{token}: expected 4401, got {other:?}"),
            Ok(_) => panic!("{token}: a bad token authenticated"),
        }
    }
    // A connection lives until its token expires unless renewed.
    let mut ws = app.connect(&eve).await;
    match ws.closed().await {
        Closed::Frame(code, reason) => {
            assert_eq!(code, 4401);
            assert!(reason.contains("expired"), "{reason}");
        }
        other => panic!("expected 4401, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    match WsClient::connect(&app, Some(&eve.access_token)).await {
        Err(Closed::Frame(4401, _)) => {}
        other => panic!("an expired token must be refused: {:?}", other.err()),
    }
}

async fn a_socket_can_authenticate_with_its_first_frame(b: Backend) {
    let app = TestApp::spawn(b).await;
    let frank = app.register("frank").await;
    let mut ws = WsClient::open(&app, None, Some("http://localhost:3000")).await;
    let frame = json!({"id": 1, "event": "auth", "data": {"token": frank.access_token}});
    futures_util::SinkExt::send(&mut ws, frame.to_string().into())
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(next_message(&mut ws).await.expect("frame"));
    }
    assert!(
        seen.iter().any(|v| v["ack"] == 1 && v["ok"] == true),
        "{seen:?}"
    );
    let hello = seen
        .iter()
        .find(|v| v["event"] == "connection.authenticated")
        .expect("hello");
    assert_eq!(hello["data"]["userId"], frank.user_id.as_str());
    assert_eq!(hello["data"]["deviceId"], frank.device_id.as_str());
    assert!(hello["data"]["serverTime"].as_str().is_some());
    let mut c = WsClient::from_socket(ws, &frank.user_id);
    c.ok("room.list", json!({})).await;

    // Anything else first closes with 4401.
    let mut ws = WsClient::open(&app, None, None).await;
    futures_util::SinkExt::send(
        &mut ws,
        json!({"id": 1, "event": "room.list"}).to_string().into(),
    )
    .await
    .unwrap();
    match next_message(&mut ws).await {
        Err(Closed::Frame(4401, _)) => {}
        other => panic!("expected 4401, got {other:?}"),
    }
}

async fn a_disallowed_origin_cannot_open_a_socket(b: Backend) {
    let app = TestApp::spawn(b).await;
    let req = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut r = app.ws_url().into_client_request().unwrap();
        r.headers_mut()
            .insert("origin", "https://evil.example".parse().unwrap());
        r
    };
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    // CORS answers allowed origins only.
    let resp = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("http://localhost:3000")
    );
    let resp = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

async fn user_search_needs_a_token_and_matches_names(b: Backend) {
    let app = TestApp::spawn(b).await;
    let g = app.register("grace_h").await;
    app.register("gregory").await;
    app.register("zed").await;
    let (s, _) = app.get("/api/users?query=gr", None).await;
    assert_eq!(s, 401);
    let (s, body) = app.get("/api/users?query=GR", Some(&g.access_token)).await;
    assert_eq!(s, 200, "{body}");
    let names: Vec<&str> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["grace_h", "gregory"]);
    assert!(body["users"][0].get("passwordHash").is_none());
    let (_, body) = app.get("/api/users?query=_", Some(&g.access_token)).await;
    assert_eq!(
        body["users"].as_array().unwrap().len(),
        1,
        "'_' is literal, not a wildcard"
    );
}

async fn health_and_metrics_report_the_server_state(b: Backend) {
    let app = TestApp::spawn(b).await;
    let u = app.register("henry").await;
    let mut ws = app.connect(&u).await;
    ws.ok("room.list", json!({})).await;
    let (s, h) = app.get("/health/chat", None).await;
    assert_eq!(s, 200);
    assert_eq!(h["status"], "healthy");
    assert_eq!(h["db"], "up");
    assert_eq!(app.connections().await, 1, "{h}");
    let (redis, bus) = match b {
        Backend::Cluster => ("up", "redis"),
        _ => ("disabled", "in-process"),
    };
    assert_eq!(h["redis"], redis);
    assert_eq!(h["bus"], bus);
    assert!(h["timestamp"].is_string());
    let mut open = 0;
    let mut served = 0;
    for text in app.node_metrics().await {
        assert!(text.contains("leetchat_connections "), "{text}");
        open += i64::from(text.contains("leetchat_connections 1"));
        if text.contains("leetchat_events_in_total") {
            served += 1;
            assert!(text.contains("leetchat_ack_latency_seconds"), "{text}");
        }
    }
    assert_eq!(open, 1, "one node holds the socket");
    assert_eq!(served, 1, "one node served room.list");
    let (s, body) = app.get("/no/such/route", None).await;
    assert_eq!(s, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

crate::on_both_databases!(
    a_socket_racing_its_logout_does_not_stay_open,
    a_signed_out_socket_that_ignores_the_close_can_do_nothing,
    a_device_keeps_a_bounded_number_of_sockets,
    register_creates_the_account_and_refuses_a_taken_name,
    register_rejects_bad_names_passwords_and_bodies,
    login_with_a_wrong_password_or_unknown_name_is_unauthenticated,
    login_attempts_are_rate_limited_per_account,
    refresh_rotates_tokens_and_reuse_of_a_spent_one_revokes_the_device,
    logout_revokes_only_that_device_and_closes_its_sockets,
    sockets_refuse_missing_bad_and_expired_tokens_with_4401,
    a_socket_can_authenticate_with_its_first_frame,
    a_disallowed_origin_cannot_open_a_socket,
    user_search_needs_a_token_and_matches_names,
    health_and_metrics_report_the_server_state,
);
