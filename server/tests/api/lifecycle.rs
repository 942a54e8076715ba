//! Start-up, graceful shutdown and restarts.

use serde_json::json;

use crate::harness::{Backend, Closed, TestApp, direct_id, send};

async fn shutdown_closes_sockets_with_going_away(b: Backend) {
    let mut app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let mut a = app.connect(&alice).await;
    a.ok("room.list", json!({})).await;
    app.stop().await;
    match a.closed().await {
        Closed::Frame(code, _) => assert_eq!(code, 1001),
        other => panic!("expected a 1001 close, got {other:?}"),
    }
}

async fn acked_messages_and_seqs_survive_a_restart(b: Backend) {
    let mut app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    for i in 0..3 {
        send(&mut a, &room_id, &format!("before {i}")).await;
    }
    app.restart(true).await;
    // Tokens, devices and data outlive the process.
    let mut a = app.connect(&alice).await;
    let m = send(&mut a, &room_id, "after").await;
    assert_eq!(m["seq"], 4);
    let page = a.ok("message.history", json!({"roomId": room_id})).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 4);
}

crate::on_both_databases!(
    shutdown_closes_sockets_with_going_away,
    acked_messages_and_seqs_survive_a_restart
);

/// PostgreSQL only: the database disappears under a running server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_gives_internal_errors_without_details_and_degraded_health() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    app.drop_postgres_database().await;
    for _ in 0..2 {
        let e = a
            .fails(
                "message.send",
                json!({"roomId": room_id, "content": "lost?"}),
                "internal",
            )
            .await;
        let msg = e["message"].as_str().unwrap().to_lowercase();
        for leak in [
            "sql",
            "postgres",
            "database \"",
            "relation",
            "leetchat_test",
        ] {
            assert!(!msg.contains(leak), "internal causes stay in the log: {e}");
        }
    }
    let (status, h) = app.get("/health/chat", None).await;
    assert_eq!(status, 503, "{h}");
    assert_eq!(h["status"], "degraded");
    assert_eq!(h["db"], "down");
}
