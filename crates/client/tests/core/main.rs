//! The client core against a real server: nothing is lost or duplicated,
//! whatever the network, the server or the client process does.
#![allow(missing_docs, clippy::unwrap_used)]

mod conversations;
mod counts;
mod files;
mod harness;
mod push;
mod search;

use std::collections::BTreeSet;
use std::time::Duration;

use harness::{Proxy, Server, client, eventually, registered};
use leetchat_client::{Client, Delivery};
use leetchat_protocol::events::{DeleteMessage, Direction, History};

pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// `(seq, content)` of every stored message of a room that has a seq.
pub(crate) fn stored(c: &Client, room: &str) -> Vec<(i64, String)> {
    c.messages(room, None, 100_000)
        .unwrap()
        .into_iter()
        .filter_map(|m| m.seq.map(|s| (s, m.content)))
        .collect()
}

/// Alice and Bob, connected, with a direct room.
pub(crate) async fn pair(server: &Server, dir: &tempfile::TempDir) -> (Client, Client, String) {
    let a = registered(&server.url(), &dir.path().join("alice"), "alice").await;
    let b = registered(&server.url(), &dir.path().join("bob"), "bob").await;
    a.start().unwrap();
    b.start().unwrap();
    a.wait_online(WAIT).await.unwrap();
    b.wait_online(WAIT).await.unwrap();
    let bob_id = b.me().unwrap().user_id;
    let room = a.create_direct(&bob_id).await.unwrap().room_id;
    eventually("bob sees the room", WAIT, || {
        b.room(&room).unwrap().is_some()
    })
    .await;
    (a, b, room)
}

pub(crate) fn assert_exactly_once_in_order(c: &Client, room: &str, expected: &[String]) {
    let got = stored(c, room);
    let seqs: Vec<i64> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=expected.len() as i64).collect::<Vec<_>>(),
        "gapless, in order, once"
    );
    let contents: Vec<&String> = got.iter().map(|(_, c)| c).collect();
    let want: Vec<&String> = expected.iter().collect();
    assert_eq!(contents, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_while_the_server_is_down_is_delivered_once_when_it_returns() {
    let mut server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    server.kill();
    let texts: Vec<String> = (0..3).map(|i| format!("offline {i}")).collect();
    for t in &texts {
        let m = a.send_text(&room, t).unwrap();
        assert_eq!(m.delivery, Delivery::Pending, "shown at once, pending");
    }
    assert_eq!(a.outbox_len().unwrap(), 3);
    server.restart().await;
    eventually("alice's outbox drains", WAIT, || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    eventually("bob has all three", WAIT, || stored(&b, &room).len() == 3).await;
    assert_exactly_once_in_order(&a, &room, &texts);
    assert_exactly_once_in_order(&b, &room, &texts);
    let page = stored_on_server(&b, &room).await;
    assert_eq!(page, 3, "the server stored each once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_burst_loses_and_duplicates_nothing() {
    let mut server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    let texts: Vec<String> = (0..60).map(|i| format!("burst {i}")).collect();
    for t in &texts {
        a.send_text(&room, t).unwrap();
    }
    // Kill it while the burst is in flight.
    eventually("some acks", WAIT, || a.outbox_len().unwrap() < 50).await;
    server.kill();
    let left = a.outbox_len().unwrap();
    assert!(left > 0, "the kill happened mid-burst");
    server.restart().await;
    eventually("alice's outbox drains", WAIT, || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    eventually("bob has everything", WAIT, || {
        stored(&b, &room).len() == texts.len()
    })
    .await;
    assert_exactly_once_in_order(&a, &room, &texts);
    assert_exactly_once_in_order(&b, &room, &texts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_the_client_being_killed() {
    let mut server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    a.stop().await;
    server.kill();
    // The client runs in its own runtime, killed with its work queued.
    let alice_dir = dir.path().join("alice");
    let url = server.url();
    let room2 = room.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let a = client(&url, &alice_dir).await;
            a.start().unwrap();
            for i in 0..5 {
                a.send_text(&room2, &format!("survivor {i}")).unwrap();
            }
        });
        rt.shutdown_background(); // no goodbye, no cleanup
    })
    .join()
    .unwrap();
    drop(a);
    server.restart().await;
    let a = client(&server.url(), &dir.path().join("alice")).await;
    assert_eq!(a.outbox_len().unwrap(), 5, "the queue was on disk");
    a.start().unwrap();
    eventually("the outbox drains", WAIT, || a.outbox_len().unwrap() == 0).await;
    let texts: Vec<String> = (0..5).map(|i| format!("survivor {i}")).collect();
    eventually("bob has them", WAIT, || stored(&b, &room).len() == 5).await;
    assert_exactly_once_in_order(&b, &room, &texts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_ack_is_retried_with_the_same_temp_id_and_creates_no_duplicate() {
    let server = Server::start(|_| {}).await;
    let proxy = Proxy::start(server.port).await;
    let dir = tempfile::tempdir().unwrap();
    let a = registered(&proxy.url(), &dir.path().join("alice"), "alice").await;
    let b = registered(&server.url(), &dir.path().join("bob"), "bob").await;
    a.start().unwrap();
    b.start().unwrap();
    a.wait_online(WAIT).await.unwrap();
    b.wait_online(WAIT).await.unwrap();
    let room = a
        .create_direct(&b.me().unwrap().user_id)
        .await
        .unwrap()
        .room_id;
    proxy.lose_next_answer();
    a.send_text(&room, "exactly once").unwrap();
    eventually("the ack was lost", WAIT, || {
        proxy.cuts.load(std::sync::atomic::Ordering::SeqCst) == 1
    })
    .await;
    eventually("alice's outbox drains after reconnecting", WAIT, || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    eventually("bob has it", WAIT, || stored(&b, &room).len() == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_exactly_once_in_order(&a, &room, &["exactly once".to_owned()]);
    assert_exactly_once_in_order(&b, &room, &["exactly once".to_owned()]);
    let page = stored_on_server(&b, &room).await;
    assert_eq!(page, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_deletes_made_while_a_member_was_offline_arrive_after_reconnect() {
    let server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    let m1 = a.send_text(&room, "first").unwrap();
    let m2 = a.send_text(&room, "second").unwrap();
    eventually("bob has both", WAIT, || stored(&b, &room).len() == 2).await;
    b.stop().await;
    a.edit(m1.temp_id.as_deref().unwrap(), "first, edited")
        .unwrap();
    a.delete(m2.temp_id.as_deref().unwrap()).unwrap();
    a.send_text(&room, "third").unwrap();
    eventually("alice's outbox drains", WAIT, || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    b.start().unwrap();
    eventually("bob catches up", WAIT, || stored(&b, &room).len() == 3).await;
    let msgs = b.messages(&room, None, 10).unwrap();
    assert_eq!(msgs[0].content, "first, edited");
    assert!(msgs[0].edited_at.is_some());
    assert_eq!(msgs[1].content, "");
    assert!(msgs[1].deleted_at.is_some(), "a tombstone");
    assert_eq!(msgs[2].content, "third");
    let synced = b.store().synced_seq(&room).unwrap().unwrap();
    assert_eq!(synced, 5, "3 messages + 1 edit + 1 delete, all applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_a_message_still_in_the_outbox_works_locally() {
    let mut server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    server.kill();
    // Until the client notices the drop, a send still goes out on the dead
    // socket and counts as in flight, so an edit after it would be queued on
    // its own. This test is about messages that never left: wait for offline.
    let state = a.connection_state();
    eventually("alice notices the server is gone", WAIT, || {
        *state.borrow() != leetchat_client::ConnectionState::Online
    })
    .await;
    let keep = a.send_text(&room, "draft").unwrap();
    let gone = a.send_text(&room, "never mind").unwrap();
    let edited = a.edit(keep.temp_id.as_deref().unwrap(), "final").unwrap();
    assert_eq!(edited.content, "final");
    a.delete(gone.temp_id.as_deref().unwrap()).unwrap();
    assert_eq!(
        a.outbox_len().unwrap(),
        1,
        "one send, already carrying the edit"
    );
    let local: Vec<String> = a
        .messages(&room, None, 10)
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(local, ["final"]);
    server.restart().await;
    eventually("delivered", WAIT, || stored(&b, &room).len() == 1).await;
    assert_exactly_once_in_order(&b, &room, &["final".to_owned()]);
    assert!(
        b.messages(&room, None, 10).unwrap()[0].edited_at.is_none(),
        "sent once, as edited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_item_fails_with_a_reason_and_does_not_block_the_room() {
    let server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let a = registered(&server.url(), &dir.path().join("alice"), "alice").await;
    let b = registered(&server.url(), &dir.path().join("bob"), "bob").await;
    a.start().unwrap();
    b.start().unwrap();
    a.wait_online(WAIT).await.unwrap();
    b.wait_online(WAIT).await.unwrap();
    // Bob owns a group with Alice; Alice's message gets deleted by Bob while
    // Alice is offline editing it.
    let group = b
        .create_group("g", &[a.me().unwrap().user_id])
        .await
        .unwrap()
        .room_id;
    eventually("alice sees the group", WAIT, || {
        a.room(&group).unwrap().is_some()
    })
    .await;
    let m = a.send_text(&group, "oops").unwrap();
    eventually("sent", WAIT, || a.outbox_len().unwrap() == 0).await;
    a.stop().await;
    let mut failures = a.events();
    a.edit(m.temp_id.as_deref().unwrap(), "oops, edited")
        .unwrap();
    a.send_text(&group, "after").unwrap();
    let id = a
        .store()
        .server_id_of(m.temp_id.as_deref().unwrap())
        .unwrap()
        .unwrap();
    b.call(&DeleteMessage { message_id: id }).await.unwrap();
    a.start().unwrap();
    eventually("the outbox drains", WAIT, || a.outbox_len().unwrap() == 0).await;
    let mut saw_failure = false;
    while let Ok(e) = failures.try_recv() {
        if let leetchat_client::ClientEvent::OutboxFailed { reason, .. } = e {
            assert!(!reason.is_empty());
            saw_failure = true;
        }
    }
    assert!(saw_failure, "the refused edit was reported");
    let msgs = a.messages(&group, None, 10).unwrap();
    assert!(
        msgs[0].deleted_at.is_some() && msgs[0].content.is_empty(),
        "the tombstone stays: {msgs:?}"
    );
    assert_eq!(msgs[1].content, "after", "the room's queue went on");
    assert_eq!(msgs[1].delivery, Delivery::Sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_sends_wait_and_then_all_go_out_in_order() {
    let server =
        Server::start(|c| c.rate_limits.message = leetchat_server::config::RateLimit::new(3, 2))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    let texts: Vec<String> = (0..7).map(|i| format!("limited {i}")).collect();
    let started = std::time::Instant::now();
    for t in &texts {
        a.send_text(&room, t).unwrap();
    }
    eventually("all sent", Duration::from_secs(30), || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "the limit was honoured"
    );
    eventually("bob has all", WAIT, || {
        stored(&b, &room).len() == texts.len()
    })
    .await;
    assert_exactly_once_in_order(&b, &room, &texts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_without_network_shows_rooms_and_history() {
    let mut server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, room) = pair(&server, &dir).await;
    a.send_text(&room, "remember me").unwrap();
    eventually("sent", WAIT, || a.outbox_len().unwrap() == 0).await;
    a.stop().await;
    drop(a);
    server.kill();
    let a = client(&server.url(), &dir.path().join("alice")).await;
    let rooms = a.rooms().unwrap();
    assert_eq!(rooms.len(), 1);
    assert_eq!(
        rooms[0].name, "bob",
        "a direct room is named after the other member"
    );
    assert_eq!(
        a.messages(&room, None, 50).unwrap()[0].content,
        "remember me"
    );
    assert_eq!(
        a.search("remem", None, 10).unwrap().len(),
        1,
        "prefix search"
    );
    assert!(a.sync_once().await.is_err(), "and it knows it is offline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_history_is_fetched_on_demand_without_gaps_or_duplicates() {
    let server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, room) = pair(&server, &dir).await;
    for i in 0..120 {
        a.send_text(&room, &format!("h{i}")).unwrap();
    }
    eventually("sent", WAIT, || a.outbox_len().unwrap() == 0).await;
    // Bob signs in on a new device: the room arrives with its newest page only.
    let b2 = client(&server.url(), &dir.path().join("bob2")).await;
    b2.login("bob", "password-bob").await.unwrap();
    b2.start().unwrap();
    b2.wait_online(WAIT).await.unwrap();
    eventually("newest page", WAIT, || stored(&b2, &room).len() == 50).await;
    assert_eq!(stored(&b2, &room)[0].0, 71);
    while b2.room(&room).unwrap().unwrap().has_older {
        b2.load_older(&room, 50).await.unwrap();
    }
    let seqs: Vec<i64> = stored(&b2, &room).iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=120).collect::<Vec<_>>());
    let unique: BTreeSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_tokens_are_renewed_without_losing_the_connection_state() {
    let server = Server::start(|c| c.jwt_expiration = Duration::from_secs(2)).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    for i in 0..4 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        a.send_text(&room, &format!("still here {i}")).unwrap();
    }
    eventually("all delivered", WAIT, || stored(&b, &room).len() == 4).await;
    assert_eq!(
        *a.connection_state().borrow(),
        leetchat_client::ConnectionState::Online
    );
}

// ------------------------------------------------------------------ files

/// How many messages the server holds in the newest page of `room`.
pub(crate) async fn stored_on_server(c: &Client, room: &str) -> usize {
    let page = c
        .call(&History {
            room_id: room.to_owned(),
            cursor: None,
            limit: None,
            direction: Direction::Before,
        })
        .await
        .unwrap();
    page.messages.len()
}

/// Sign-up never leaves an account this device cannot sign in to (issue
/// #21): a place for the tokens that reads fine but cannot be written (here
/// `/proc`, which takes no new files even for root) fails before the account
/// exists, so the same name registers afterwards with a good store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_up_whose_tokens_cannot_be_kept_creates_no_account() {
    let server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let c = Client::open(leetchat_client::ClientConfig {
        server: server.url(),
        data_dir: dir.path().join("unwritable"),
        credentials: leetchat_client::CredentialStore::File(
            "/proc/leetchat-credentials.json".into(),
        ),
        device_name: "test".into(),
    })
    .await
    .unwrap();
    let err = c
        .register("newcomer", "password-newcomer", None)
        .await
        .expect_err("cannot keep tokens");
    assert!(
        matches!(err, leetchat_client::Error::Credentials(_)),
        "{err:?}"
    );
    let c = registered(&server.url(), &dir.path().join("good"), "newcomer").await;
    assert_eq!(c.me().unwrap().user_name, "newcomer");
}
