//! Many clients at once: seqs stay unique and gapless, every member receives
//! every message exactly once and in seq order.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, TestApp, group_id};

const MEMBERS: usize = 8;
const PER_SENDER: usize = 25;

async fn concurrent_senders_get_unique_gapless_seqs_and_everyone_sees_each_message_once_in_order(
    b: Backend,
) {
    let app = TestApp::spawn(b).await;
    let mut users = Vec::new();
    for i in 0..MEMBERS {
        users.push(app.register(&format!("user{i}")).await);
    }
    let mut owner = app.connect(&users[0]).await;
    let others: Vec<&crate::harness::TestUser> = users[1..].iter().collect();
    let room_id = group_id(&mut owner, "busy", &others).await;
    let mut clients = vec![owner];
    for u in &users[1..] {
        clients.push(app.connect(u).await);
    }

    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            let room_id = room_id.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for n in 0..PER_SENDER {
                    let ack = c
                        .ok(
                            "message.send",
                            json!({"roomId": room_id, "content": format!("{i}:{n}"), "tempId": format!("{i}-{n}")}),
                        )
                        .await;
                    acked.push(ack["message"]["seq"].as_i64().unwrap());
                }
                (c, acked)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }

    let total = (MEMBERS * PER_SENDER) as i64;
    let mut all_acked: Vec<i64> = results.iter().flat_map(|(_, a)| a.clone()).collect();
    all_acked.sort();
    assert_eq!(
        all_acked,
        (1..=total).collect::<Vec<i64>>(),
        "unique and gapless"
    );

    for (c, acked) in results.iter_mut() {
        let pushes = c
            .collect("message.received", Duration::from_millis(800))
            .await;
        let seqs: Vec<i64> = pushes
            .iter()
            .map(|p| p["message"]["seq"].as_i64().unwrap())
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "pushes in seq order: {seqs:?}"
        );
        let mut seen: BTreeSet<i64> = seqs.iter().copied().collect();
        assert_eq!(seen.len(), seqs.len(), "no duplicates");
        for s in acked.iter() {
            assert!(seen.insert(*s), "own messages are acked, not pushed back");
        }
        assert_eq!(seen.len() as i64, total, "every message exactly once");
    }
    let page = results[0]
        .0
        .ok("message.history", json!({"roomId": room_id, "limit": 100}))
        .await;
    assert_eq!(
        page["messages"].as_array().unwrap().last().unwrap()["seq"],
        total
    );
}

crate::on_both_databases!(
    concurrent_senders_get_unique_gapless_seqs_and_everyone_sees_each_message_once_in_order,
);
