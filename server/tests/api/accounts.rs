//! Running a community (protocol 9.8), accounts: registration modes and
//! server invites, deactivation (every token refused, every socket on every
//! node closed with 4403), and `leetchat-server admin` against a running
//! server on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use leetchat_protocol::time::now_ms;
use leetchat_server::config::Registration;
use leetchat_server::db::invites::{self, ServerInvite};
use serde_json::{Value, json};

use crate::harness::{Backend, Closed, TestApp, TestUser, WsClient};

/// The longest the contract lets a deactivated account's socket stay open.
const CLOSE_WITHIN: Duration = Duration::from_secs(2);

async fn invite(app: &TestApp, max_uses: Option<i64>, expires_at: Option<i64>) -> String {
    let code = invites::new_code();
    invites::create_server_invite(
        &app.state.db,
        &ServerInvite {
            code: code.clone(),
            created_by: None,
            created_at: now_ms(),
            expires_at,
            max_uses,
            uses: 0,
            revoked_at: None,
            note: String::new(),
        },
    )
    .await
    .unwrap();
    code
}

async fn register(app: &TestApp, name: &str, invite: Option<&str>) -> (u16, Value) {
    let mut body = json!({"userName": name, "password": format!("password-{name}")});
    if let Some(i) = invite {
        body["inviteToken"] = json!(i);
    }
    app.post("/api/auth/register", &body, None).await
}

async fn uses_of(app: &TestApp, code: &str) -> i64 {
    invites::server_invites(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.code == code)
        .expect("the invite")
        .uses
}

async fn login(app: &TestApp, name: &str, password: &str) -> (u16, Value) {
    app.post(
        "/api/auth/login",
        &json!({"userName": name, "password": password}),
        None,
    )
    .await
}

/// Waits for each socket to close; panics unless each closed with `code`
/// within `within` of `since`.
async fn all_close_with(sockets: &mut [WsClient], code: u16, since: Instant, within: Duration) {
    for s in sockets.iter_mut() {
        match s.closed().await {
            Closed::Frame(c, reason) => assert_eq!(c, code, "closed with {c} ({reason})"),
            Closed::Eof => panic!("closed without a close frame"),
        }
        let took = since.elapsed();
        println!("socket closed with {code} after {} ms", took.as_millis());
        assert!(
            took <= within,
            "a socket closed after {took:?}, not within {within:?}"
        );
    }
}

async fn registration_is_open_by_default_and_says_so(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (status, info) = app.get("/api/server", None).await;
    assert_eq!(status, 200);
    assert_eq!(info["registration"], "open");
    assert!(info["version"].as_str().is_some_and(|v| !v.is_empty()));
    // An invite is not needed, and one that does not exist is not looked at.
    assert_eq!(register(&app, "ann", None).await.0, 201);
    assert_eq!(register(&app, "ben", Some("no-such-invite")).await.0, 201);
}

async fn closed_registration_refuses_everyone(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.registration = Registration::Closed).await;
    let code = invite(&app, None, None).await;
    assert_eq!(
        app.get("/api/server", None).await.1["registration"],
        "closed"
    );
    for token in [None, Some(code.as_str())] {
        let (status, body) = register(&app, "ann", token).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    assert_eq!(uses_of(&app, &code).await, 0, "nothing was spent");
}

async fn invite_registration_needs_a_usable_invite(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.registration = Registration::Invite).await;
    assert_eq!(
        app.get("/api/server", None).await.1["registration"],
        "invite"
    );
    let (status, body) = register(&app, "ann", None).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));

    let two = invite(&app, Some(2), None).await;
    let (status, first) = register(&app, "ann", Some(&two)).await;
    assert_eq!(status, 201, "{first}");
    // A taken name is a conflict, and gives the use back.
    let (status, body) = register(&app, "ANN", Some(&two)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(uses_of(&app, &two).await, 1);
    assert_eq!(register(&app, "ben", Some(&two)).await.0, 201);
    assert_eq!(uses_of(&app, &two).await, 2);

    // Used up, expired, revoked and never made: one answer for all.
    let expired = invite(&app, None, Some(now_ms() - 1)).await;
    let revoked = invite(&app, None, None).await;
    assert!(
        invites::revoke_server_invite(&app.state.db, &revoked, now_ms())
            .await
            .unwrap()
    );
    let mut answers = Vec::new();
    for bad in [two.as_str(), &expired, &revoked, &invites::new_code()] {
        let (status, body) = register(&app, "cat", Some(bad)).await;
        assert_eq!(status, 403, "{body}");
        answers.push(body);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every bad invite gets the same answer: {answers:?}"
    );
    // An unlimited invite that has not expired keeps working.
    let open = invite(&app, None, Some(now_ms() + 3_600_000)).await;
    for name in ["cat", "dan", "eve"] {
        assert_eq!(register(&app, name, Some(&open)).await.0, 201);
    }
}

/// Many sign-ups racing for an invite's last use: exactly one gets it.
async fn an_invites_last_use_goes_to_one_sign_up(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.registration = Registration::Invite).await;
    let one = invite(&app, Some(1), None).await;
    let names: Vec<String> = (0..6).map(|i| format!("racer{i}")).collect();
    let results =
        futures_util::future::join_all(names.iter().map(|n| register(&app, n, Some(one.as_str()))))
            .await;
    let made = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(made, 1, "{results:?}");
    assert!(results.iter().all(|(s, _)| *s == 201 || *s == 403));
    assert_eq!(uses_of(&app, &one).await, 1);
}

async fn deactivation_signs_out_everywhere_and_reactivation_lets_in(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let alice2 = app.login("alice").await;
    let bob = app.register("bob").await;
    let mut bc = app.connect(&bob).await;
    let mut sockets = app.sockets_on_every_node(&alice).await;
    sockets.extend(app.sockets_on_every_node(&alice2).await);
    let mut bob_sockets = app.sockets_on_every_node(&bob).await;

    let since = Instant::now();
    assert!(
        leetchat_server::db::users::deactivate(&app.state.db, &alice.user_id, now_ms())
            .await
            .unwrap()
    );
    all_close_with(
        &mut sockets,
        leetchat_protocol::CLOSE_DEACTIVATED,
        since,
        CLOSE_WITHIN,
    )
    .await;
    // Someone else's sockets stay open.
    bc.ok("ping", json!({})).await;
    for s in &mut bob_sockets {
        s.ok("ping", json!({})).await;
    }

    // Every token is refused: access (HTTP and socket) and refresh.
    for t in [&alice.access_token, &alice2.access_token] {
        let (status, _) = app.get("/api/users?query=bo", Some(t)).await;
        assert_eq!(status, 401);
        match WsClient::connect(&app, Some(t)).await {
            Err(Closed::Frame(code, _)) => assert_eq!(code, 4401),
            other => panic!(
                "a deactivated account's token opened a socket: {:?}",
                other.is_ok()
            ),
        }
    }
    let (status, _) = app
        .post(
            "/api/auth/refresh",
            &json!({"refreshToken": alice.refresh_token}),
            None,
        )
        .await;
    assert_eq!(status, 401);
    // The right password is refused as forbidden; a wrong one says nothing more.
    let (status, body) = login(&app, "alice", "password-alice").await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deactivated")
    );
    assert_eq!(login(&app, "alice", "wrong-password").await.0, 401);

    // Others see it, and cannot start anything new with it.
    let (_, found) = app
        .get("/api/users?query=alice", Some(&bob.access_token))
        .await;
    assert_eq!(found["users"][0]["deactivated"], true, "{found}");
    let (_, found) = app
        .get("/api/users?query=bob", Some(&bob.access_token))
        .await;
    assert!(found["users"][0].get("deactivated").is_none(), "{found}");
    bc.fails(
        "room.create",
        json!({"type": "direct", "memberIds": [alice.user_id]}),
        "forbidden",
    )
    .await;

    assert!(
        leetchat_server::db::users::reactivate(&app.state.db, &alice.user_id)
            .await
            .unwrap()
    );
    let (status, body) = login(&app, "alice", "password-alice").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["user"].get("deactivated").is_none());
    let back = TestUser::from_auth("alice", &body);
    // The new sign-in stays connected past the next looks for signed-out devices.
    let mut fresh = app.connect(&back).await;
    tokio::time::sleep(leetchat_server::revocations::POLL * 3).await;
    fresh.ok("ping", json!({})).await;
}

/// The admin command against a running server: accounts, roles,
/// deactivation (closing live sockets), password resets and invites.
async fn the_admin_command_runs_the_server(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.registration = Registration::Invite).await;
    let (code, out, err) = app
        .admin(&["create-user", "root", "--admin"], "root-password\n")
        .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created server admin root"), "{out}");
    assert!(err.contains("database:"), "{err}");
    let (status, _) = login(&app, "root", "root-password").await;
    assert_eq!(status, 200);
    // A taken name, a bad name and a short password are refused by name.
    for (args, input, says) in [
        (vec!["create-user", "ROOT"], "root-password\n", "taken"),
        (vec!["create-user", "a b"], "root-password\n", "userName"),
        (vec!["create-user", "shorty"], "short\n", "at least 8"),
    ] {
        let (code, out, err) = app.admin(&args, input).await;
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }

    // Invites: made, listed, spent by sign-up, revoked.
    let (code, out, err) = app
        .admin(
            &[
                "invite",
                "create",
                "--uses",
                "1",
                "--expires",
                "1h",
                "--note",
                "for bob",
                "--json",
            ],
            "",
        )
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let made: Value = serde_json::from_str(&out).unwrap();
    let bob_code = made["invite"]["code"].as_str().unwrap().to_owned();
    assert!(bob_code.len() >= 32, "at least 192 bits: {bob_code}");
    assert_eq!(made["invite"]["maxUses"], 1);
    assert_eq!(made["invite"]["note"], "for bob");
    assert_eq!(register(&app, "bob", Some(&bob_code)).await.0, 201);
    assert_eq!(register(&app, "cat", Some(&bob_code)).await.0, 403);
    let (code, out, _) = app.admin(&["invite", "list"], "").await;
    assert_eq!(code, 0);
    let line = out.lines().find(|l| l.contains(&bob_code)).expect("listed");
    assert!(line.contains("1/1") && line.contains("used up"), "{line}");
    let (code, out, _) = app.admin(&["invite", "create"], "").await;
    assert_eq!(code, 0);
    let cat_code = out.trim().to_owned();
    let (code, out, _) = app.admin(&["invite", "revoke", &cat_code], "").await;
    assert_eq!(
        (code, out.trim()),
        (0, format!("revoked {cat_code}").as_str())
    );
    assert_eq!(register(&app, "cat", Some(&cat_code)).await.0, 403);
    let (code, _, err) = app.admin(&["invite", "revoke", "nope"], "").await;
    assert_eq!(code, 1);
    assert!(err.contains("no server invite"), "{err}");
    let (code, _, err) = app
        .admin(&["invite", "create", "--expires", "soonish"], "")
        .await;
    assert_eq!(code, 2, "a bad duration is a usage error");
    assert!(err.contains("soonish"), "{err}");
    let (code, _, err) = app.admin(&["invite", "create", "--uses", "0"], "").await;
    assert_eq!(code, 1);
    assert!(err.contains("--uses"), "{err}");

    // Roles.
    let (code, out, _) = app.admin(&["promote", "bob"], "").await;
    assert_eq!((code, out.trim()), (0, "bob is now a server admin"));
    let (code, out, _) = app.admin(&["promote", "bob"], "").await;
    assert_eq!((code, out.trim()), (0, "bob was already a server admin"));
    let (code, out, _) = app.admin(&["demote", "bob", "--json"], "").await;
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&v["user"]["admin"], &v["changed"]),
        (&json!(false), &json!(true))
    );
    let (code, _, err) = app.admin(&["promote", "nobody"], "").await;
    assert_eq!(code, 1);
    assert!(err.contains("no account is named \"nobody\""), "{err}");

    // Deactivation closes the live sockets (on every node) within 2 s.
    let bob = app.login("bob").await;
    let mut sockets = app.sockets_on_every_node(&bob).await;
    let since = Instant::now();
    let (code, out, err) = app.admin(&["deactivate", "bob"], "").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("deactivated bob"), "{out}");
    all_close_with(
        &mut sockets,
        leetchat_protocol::CLOSE_DEACTIVATED,
        since,
        // The command's own start-up (opening the database) is in this too.
        CLOSE_WITHIN + Duration::from_secs(3),
    )
    .await;
    assert_eq!(login(&app, "bob", "password-bob").await.0, 403);
    let (_, out, _) = app.admin(&["list-users", "--json"], "").await;
    let v: Value = serde_json::from_str(&out).unwrap();
    let users = v["users"].as_array().unwrap();
    let row = |n: &str| users.iter().find(|u| u["userName"] == n).unwrap().clone();
    assert_eq!(
        (&row("bob")["deactivated"], &row("bob")["admin"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        (&row("root")["deactivated"], &row("root")["admin"]),
        (&json!(false), &json!(true))
    );
    let (_, out, _) = app.admin(&["list-users"], "").await;
    assert!(out.lines().next().unwrap().starts_with("NAME"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("bob") && l.contains("deactivated")),
        "{out}"
    );
    let (code, out, _) = app.admin(&["reactivate", "bob"], "").await;
    assert_eq!(
        (code, out.trim()),
        (0, "reactivated bob: it can sign in again")
    );
    assert_eq!(login(&app, "bob", "password-bob").await.0, 200);

    // A password reset signs every device out (4401) and only the new one works.
    let bob = app.login("bob").await;
    let mut sockets = app.sockets_on_every_node(&bob).await;
    let since = Instant::now();
    let (code, out, err) = app
        .admin(&["reset-password", "bob"], "new-bob-password\n")
        .await;
    assert_eq!(code, 0, "{out}{err}");
    all_close_with(
        &mut sockets,
        leetchat_protocol::CLOSE_UNAUTHENTICATED,
        since,
        CLOSE_WITHIN + Duration::from_secs(3),
    )
    .await;
    assert_eq!(login(&app, "bob", "password-bob").await.0, 401);
    assert_eq!(login(&app, "bob", "new-bob-password").await.0, 200);
}

/// A sign-in that read the account before it was deactivated (or its
/// password reset) makes no device: the check is repeated under the row lock.
async fn a_sign_in_racing_a_deactivation_or_reset_makes_no_device(b: Backend) {
    use leetchat_server::db::users;
    let app = TestApp::spawn(b).await;
    app.register("alice").await;
    let db = &app.state.db;
    let read = users::by_name(db, "alice").await.unwrap().unwrap();
    assert!(
        users::deactivate(db, &read.user_id, now_ms())
            .await
            .unwrap()
    );
    let made = users::create_device(
        db,
        &read.user_id,
        &read.password_hash,
        "d",
        "h1",
        now_ms(),
        now_ms() + 1000,
    )
    .await
    .unwrap();
    assert_eq!(made, None, "deactivated meanwhile");
    assert!(users::reactivate(db, &read.user_id).await.unwrap());
    let read = users::by_name(db, "alice").await.unwrap().unwrap();
    users::reset_password(db, &read.user_id, "another-hash", now_ms())
        .await
        .unwrap();
    let made = users::create_device(
        db,
        &read.user_id,
        &read.password_hash,
        "d",
        "h2",
        now_ms(),
        now_ms() + 1000,
    )
    .await
    .unwrap();
    assert_eq!(made, None, "the password changed meanwhile");
    let made = users::create_device(
        db,
        &read.user_id,
        "another-hash",
        "d",
        "h3",
        now_ms(),
        now_ms() + 1000,
    )
    .await
    .unwrap();
    assert!(made.is_some());
}

crate::on_both_databases!(
    a_sign_in_racing_a_deactivation_or_reset_makes_no_device,
    registration_is_open_by_default_and_says_so,
    closed_registration_refuses_everyone,
    invite_registration_needs_a_usable_invite,
    an_invites_last_use_goes_to_one_sign_up,
    deactivation_signs_out_everywhere_and_reactivation_lets_in,
    the_admin_command_runs_the_server,
);
