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

/// Sends that arrive together are committed together (group commit); a bad
/// send among them (a non-member's, a reply to no message, someone else's
/// file) fails alone with its own error, takes no seq, and no good send
/// fails or is lost with it.
async fn a_bad_send_among_a_batch_fails_alone_and_takes_no_seq(b: Backend) {
    const GOOD: usize = 10;
    const PER: usize = 12;
    let app = TestApp::spawn(b).await;
    let mut users = Vec::new();
    for i in 0..GOOD {
        users.push(app.register(&format!("member{i}")).await);
    }
    let outsider = app.register("outsider").await;
    let mut owner = app.connect(&users[0]).await;
    let others: Vec<&crate::harness::TestUser> = users[1..].iter().collect();
    let room_id = group_id(&mut owner, "batched", &others).await;
    // A file of the outsider's, which no member may attach.
    let (status, foreign) = crate::files::upload(
        &app,
        Some(&outsider.access_token),
        "a.txt",
        b"not yours".to_vec(),
    )
    .await;
    assert_eq!(status, 201, "{foreign}");
    let foreign_id = foreign["attachment"]["fileId"].as_str().unwrap().to_owned();

    let mut tasks = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let mut c = app.connect(u).await;
        let room_id = room_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for n in 0..PER {
                let ack = c
                    .ok(
                        "message.send",
                        json!({"roomId": room_id, "content": format!("{i}:{n}"), "tempId": format!("g{i}-{n}")}),
                    )
                    .await;
                acked.push(ack["message"]["seq"].as_i64().unwrap());
            }
            acked
        }));
    }
    let bad = {
        let mut o = app.connect(&outsider).await;
        let mut m = app.connect(&users[1]).await;
        let room_id = room_id.clone();
        tokio::spawn(async move {
            for n in 0..PER {
                o.fails(
                    "message.send",
                    json!({"roomId": room_id, "content": "let me in", "tempId": format!("o-{n}")}),
                    "forbidden",
                )
                .await;
                m.fails(
                    "message.send",
                    json!({"roomId": room_id, "content": "re", "replyTo": "no-such-message", "tempId": format!("r-{n}")}),
                    "invalid",
                )
                .await;
                m.fails(
                    "message.send",
                    json!({"roomId": room_id, "content": "", "type": "file", "attachments": [foreign_id], "tempId": format!("f-{n}")}),
                    "forbidden",
                )
                .await;
            }
        })
    };
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    bad.await.unwrap();
    acked.sort();
    let total = (GOOD * PER) as i64;
    assert_eq!(
        acked,
        (1..=total).collect::<Vec<i64>>(),
        "every good send acked, seqs gapless: the bad ones took none"
    );
    let rooms = owner.ok("room.list", json!({})).await;
    assert_eq!(rooms["rooms"][0]["lastSeq"], total, "no seq was burnt");
    // The sends were in fact committed together, not one by one.
    let metrics = app.node_metrics().await;
    // Summed over the nodes (a cluster has two).
    let value = |name: &str| -> f64 {
        metrics
            .iter()
            .map(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                    .unwrap_or_else(|| panic!("{name} in /metrics"))
            })
            .sum()
    };
    let (writes, commits) = (
        value("leetchat_commit_batch_writes_sum"),
        value("leetchat_commit_batch_writes_count"),
    );
    assert_eq!(writes as i64, total, "every good send committed once");
    assert!(
        commits < writes,
        "some commits carried several sends ({commits} commits for {writes} sends)"
    );
}

/// The same change asked for at once from several devices lands in one
/// batch: the first writes it, the others (which saw it uncommitted) are
/// answered only once it has committed, each with the one outcome.
async fn the_same_delete_or_pin_from_several_devices_has_one_outcome(b: Backend) {
    const DEVICES: usize = 4;
    const MESSAGES: usize = 6;
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = crate::harness::direct_id(&mut a, &bob).await;
    let mut devices = Vec::new();
    for _ in 0..DEVICES {
        devices.push(app.connect(&alice).await);
    }
    for n in 0..MESSAGES {
        let sent = crate::harness::send(&mut a, &room_id, &format!("m{n}")).await;
        let id = sent["messageId"].clone();
        let pins = futures_util::future::join_all(
            devices
                .iter_mut()
                .map(|c| c.ok("message.pin", json!({"messageId": id}))),
        )
        .await;
        let seqs: Vec<i64> = pins.iter().filter_map(|p| p["seq"].as_i64()).collect();
        assert_eq!(seqs.len(), 1, "one pin took a seq: {pins:?}");
        for p in &pins {
            assert!(
                p["pinnedMessageIds"].as_array().unwrap().contains(&id),
                "every answer shows the pin: {p}"
            );
        }
        let deletes = futures_util::future::join_all(
            devices
                .iter_mut()
                .map(|c| c.ok("message.delete", json!({"messageId": id}))),
        )
        .await;
        assert!(
            deletes.iter().all(|d| d == &deletes[0]),
            "one deletion, the same answer for every device: {deletes:?}"
        );
        assert!(deletes[0]["seq"].as_i64().unwrap() > seqs[0]);
    }
    // Each message: its send, its pin, its delete and the unpin it caused.
    let rooms = a.ok("room.list", json!({})).await;
    assert_eq!(rooms["rooms"][0]["lastSeq"], (MESSAGES * 4) as i64);
}

crate::on_both_databases!(
    the_same_delete_or_pin_from_several_devices_has_one_outcome,
    a_bad_send_among_a_batch_fails_alone_and_takes_no_seq,
    concurrent_senders_get_unique_gapless_seqs_and_everyone_sees_each_message_once_in_order,
);
