//! The multi-node layout's recent-history cache: the newest page is served
//! from Redis and stays right through edits and deletes made on other nodes.

use serde_json::json;

use crate::harness::{Backend, TestApp, direct_id, send};

/// Sums a counter over every node's `/metrics`.
async fn counter(app: &TestApp, name: &str) -> u64 {
    let mut n = 0;
    for text in app.node_metrics().await {
        n += text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0) as u64;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_page_comes_from_the_cache_and_follows_edits_and_deletes_from_other_nodes() {
    let app = TestApp::spawn(Backend::Cluster).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await; // one node
    let mut b = app.connect(&bob).await; // another
    let room = direct_id(&mut a, &bob).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(send(&mut a, &room, &format!("m{i}")).await["messageId"].clone());
    }
    let first = b
        .ok("message.history", json!({"roomId": room, "limit": 3}))
        .await;
    assert_eq!(
        counter(&app, "leetchat_history_cache_misses_total").await,
        1
    );
    let again = b
        .ok("message.history", json!({"roomId": room, "limit": 3}))
        .await;
    assert_eq!(counter(&app, "leetchat_history_cache_hits_total").await, 1);
    assert_eq!(first, again, "a cached page is the page the database gives");
    let contents = |p: &serde_json::Value| -> Vec<String> {
        p["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(contents(&again), ["m2", "m3", "m4"]);
    assert_eq!(again["hasMore"], true);
    assert_eq!(again["nextCursor"], "3");

    // Changes made through another node are in the cache at once.
    a.ok(
        "message.edit",
        json!({"messageId": ids[3], "content": "m3 edited"}),
    )
    .await;
    a.ok("message.delete", json!({"messageId": ids[4]})).await;
    send(&mut a, &room, "m5").await;
    let page = b
        .ok("message.history", json!({"roomId": room, "limit": 3}))
        .await;
    assert_eq!(contents(&page), ["m3 edited", "", "m5"]);
    assert!(page["messages"][0]["editedAt"].is_string());
    assert!(page["messages"][1]["deletedAt"].is_string());
    // ...and the database agrees (an older page bypasses the cache).
    let all = b
        .ok(
            "message.history",
            json!({"roomId": room, "cursor": 100, "limit": 10}),
        )
        .await;
    assert_eq!(contents(&all), ["m0", "m1", "m2", "m3 edited", "", "m5"]);
    assert_eq!(
        counter(&app, "leetchat_history_cache_misses_total").await,
        1
    );

    // A whole small room fits: no more pages.
    let whole = a
        .ok("message.history", json!({"roomId": room, "limit": 50}))
        .await;
    assert_eq!(whole["messages"].as_array().unwrap().len(), 6);
    assert_eq!(whole["hasMore"], false);
    assert_eq!(whole, all, "cached and database pages are identical");
}
