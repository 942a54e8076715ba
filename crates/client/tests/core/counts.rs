//! One truth for counts (#16): whatever happens on whichever device of a
//! user (reads, sends, edits that add or take away mentions, deletes,
//! leaving and being added back) and whatever the others send, every
//! device's unread and mention counts end equal to what the server counts
//! from the read pointer. Random interleavings, as a property.

use std::time::Duration;

use leetchat_client::{Client, Draft, RoomView};
use leetchat_protocol::MessageType;
use leetchat_protocol::events::{ListRooms, RoomList};
use proptest::prelude::*;

use crate::WAIT;
use crate::harness::{Server, client, eventually, registered};

/// Alice's devices.
const DEVICES: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    /// Bob (0), Carol (1) or Alice's device (2 + i) sends into the group
    /// (`true`) or Bob's direct room, mentioning Alice or not.
    Send {
        who: usize,
        group: bool,
        mention: bool,
    },
    /// The sender of the `n`th message so far edits it, adding or taking
    /// away the mention.
    Edit { n: usize, mention: bool },
    /// The sender of the `n`th message deletes it.
    Delete { n: usize },
    /// Alice reads everything her device `d` has, in the group or the direct room.
    Read { device: usize, group: bool },
    /// Alice leaves the group from device `d`.
    Leave { device: usize },
    /// Bob adds Alice back to the group.
    AddBack,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2 + DEVICES, any::<bool>(), any::<bool>())
            .prop_map(|(who, group, mention)| Op::Send { who, group, mention }),
        2 => (0..40usize, any::<bool>()).prop_map(|(n, mention)| Op::Edit { n, mention }),
        1 => (0..40usize).prop_map(|n| Op::Delete { n }),
        3 => (0..DEVICES, any::<bool>()).prop_map(|(device, group)| Op::Read { device, group }),
        1 => (0..DEVICES).prop_map(|device| Op::Leave { device }),
        1 => Just(Op::AddBack),
    ]
}

struct World {
    bob: Client,
    carol: Client,
    alice: Vec<Client>,
    alice_id: String,
    group: String,
    direct: String,
    /// Every message sent so far: (sender index as in `Op::Send`, message key).
    sent: Vec<(usize, String)>,
    /// What each of Alice's devices reported, to show when counts disagree.
    logs: Vec<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
    _dir: tempfile::TempDir,
    _server: Server,
}

impl World {
    async fn new() -> World {
        let server = Server::start(|_| {}).await;
        let dir = tempfile::tempdir().unwrap();
        let url = server.url();
        let bob = registered(&url, &dir.path().join("bob"), "bob").await;
        let carol = registered(&url, &dir.path().join("carol"), "carol").await;
        let mut alice = vec![registered(&url, &dir.path().join("alice0"), "alice").await];
        for i in 1..DEVICES {
            let c = client(&url, &dir.path().join(format!("alice{i}"))).await;
            c.login("alice", "password-alice").await.unwrap();
            alice.push(c);
        }
        for c in alice.iter().chain([&bob, &carol]) {
            c.start().unwrap();
            c.wait_online(WAIT).await.unwrap();
        }
        let alice_id = alice[0].me().unwrap().user_id;
        let carol_id = carol.me().unwrap().user_id;
        let group = bob
            .create_group("team", &[alice_id.clone(), carol_id])
            .await
            .unwrap()
            .room_id;
        let direct = bob.create_direct(&alice_id).await.unwrap().room_id;
        let mut logs = Vec::new();
        for c in &alice {
            let log: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
            let mut rx = c.events();
            let l = log.clone();
            tokio::spawn(async move {
                while let Ok(e) = rx.recv().await {
                    let line: String = format!("{e:?}").chars().take(180).collect();
                    l.lock().unwrap().push(line);
                }
            });
            logs.push(log);
        }
        World {
            logs,
            bob,
            carol,
            alice,
            alice_id,
            group,
            direct,
            sent: Vec::new(),
            _dir: dir,
            _server: server,
        }
    }

    fn sender(&self, who: usize) -> &Client {
        match who {
            0 => &self.bob,
            1 => &self.carol,
            d => &self.alice[d - 2],
        }
    }

    /// Waits until `c` has sent everything it queued.
    async fn drained(c: &Client) {
        eventually("the outbox to drain", WAIT, || c.outbox_len().unwrap() == 0).await;
    }

    async fn apply(&mut self, op: &Op) {
        match *op {
            Op::Send {
                who,
                group,
                mention,
            } => {
                // Carol is only in the group; a device of Alice's that left
                // it cannot send there.
                let room = if group || who == 1 {
                    self.group.clone()
                } else {
                    self.direct.clone()
                };
                let c = self.sender(who);
                if c.room(&room).unwrap().is_none() {
                    return;
                }
                let content = if mention {
                    format!("hey @alice {}", self.sent.len())
                } else {
                    format!("plain {}", self.sent.len())
                };
                let mentions = if mention {
                    vec![self.alice_id.clone()]
                } else {
                    vec![]
                };
                // The room may go between the look and the send (a leave
                // from another device).
                let Ok(m) = c.send_draft(
                    &room,
                    &Draft {
                        content,
                        reply_to: None,
                        mentions,
                        mentions_room: false,
                    },
                    MessageType::Text,
                ) else {
                    return;
                };
                Self::drained(c).await;
                // Gone when the device learned meanwhile that Alice left
                // the room (the server refused the send, the room went).
                if let Some(key) = c
                    .message(&m.local_id.to_string())
                    .ok()
                    .and_then(|m| m.message_id)
                {
                    self.sent.push((who, key));
                }
            }
            Op::Edit { n, mention } => {
                let Some((who, key)) = self.sent.get(n % self.sent.len().max(1)).cloned() else {
                    return;
                };
                let c = self.sender(who);
                let Ok(m) = c.message(&key) else { return };
                if m.deleted_at.is_some() || c.room(&m.room_id).unwrap().is_none() {
                    return;
                }
                let mentions = if mention {
                    vec![self.alice_id.clone()]
                } else {
                    vec![]
                };
                let _ = c.edit_with_mentions(&key, &format!("edited {n}"), Some(&mentions));
                Self::drained(c).await;
            }
            Op::Delete { n } => {
                let Some((who, key)) = self.sent.get(n % self.sent.len().max(1)).cloned() else {
                    return;
                };
                let c = self.sender(who);
                let Ok(m) = c.message(&key) else { return };
                if m.deleted_at.is_some() || c.room(&m.room_id).unwrap().is_none() {
                    return;
                }
                let _ = c.delete(&key);
                Self::drained(c).await;
            }
            Op::Read { device, group } => {
                let room = if group { &self.group } else { &self.direct };
                let c = &self.alice[device];
                let Some(r) = c.room(room).unwrap() else {
                    return;
                };
                if r.last_seq > r.my_read_seq {
                    // What this device has seen: maybe not all there is.
                    let _ = c.mark_read(room, r.last_seq).await;
                }
            }
            Op::Leave { device } => {
                let c = &self.alice[device];
                if c.room(&self.group).unwrap().is_some() {
                    let _ = c.remove_member(&self.group, &self.alice_id).await;
                }
            }
            Op::AddBack => {
                let _ = self
                    .bob
                    .add_members(&self.group, std::slice::from_ref(&self.alice_id))
                    .await;
            }
        }
    }

    /// Each of Alice's rooms as (room, unread, mentions).
    fn counts(rooms: &[RoomView]) -> Vec<(String, i64, i64)> {
        let mut v: Vec<_> = rooms
            .iter()
            .map(|r| (r.room_id.clone(), r.unread_count, r.mention_count))
            .collect();
        v.sort();
        v
    }

    /// The server's counts for Alice.
    async fn truth(&self) -> Vec<(String, i64, i64)> {
        let list: RoomList = self.alice[0].call(&ListRooms {}).await.unwrap();
        let mut v: Vec<_> = list
            .rooms
            .iter()
            .map(|r| (r.room.room_id.clone(), r.unread_count, r.mention_count))
            .collect();
        v.sort();
        v
    }

    /// Every device ends with the server's counts (they agree once each has
    /// heard of everything; a disagreement that lasts is a bug).
    async fn agree(&self, ops: &[Op]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let truth = self.truth().await;
            let devices: Vec<_> = self
                .alice
                .iter()
                .map(|c| Self::counts(&c.rooms().unwrap()))
                .collect();
            if devices.iter().all(|d| *d == truth) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let logs: Vec<Vec<String>> = self
                    .logs
                    .iter()
                    .map(|l| l.lock().unwrap().clone())
                    .collect();
                panic!(
                    "counts disagree after {ops:?}:\n server {truth:?}\n devices {devices:?}\n events {logs:#?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[test]
fn every_device_of_a_user_shows_the_servers_counts_after_any_interleaving() {
    let cases: u32 = std::env::var("LEETCHAT_COUNTS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        // Each case is a real server and five clients: shrinking would
        // take long; the failing sequence is printed whole instead.
        max_shrink_iters: 0,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 5..25), |ops| {
            rt.block_on(async {
                let mut w = World::new().await;
                for o in &ops {
                    w.apply(o).await;
                }
                w.agree(&ops).await;
            });
            Ok(())
        })
        .unwrap();
}
