//! Search through the client core (protocol 9.7): the store's results and
//! the server's merged, results found only on the server stored so they
//! open in context, and messages stored apart from the loaded history
//! (islands) never hiding a gap in it.

use std::collections::BTreeSet;

use leetchat_client::Client;

use crate::harness::{Server, client, eventually};
use crate::{WAIT, pair, stored};

/// A second device of Bob's, signed in fresh: it holds the newest page only.
async fn fresh_device(server: &Server, dir: &tempfile::TempDir, name: &str, room: &str) -> Client {
    let c = client(&server.url(), &dir.path().join(name)).await;
    c.login("bob", "password-bob").await.unwrap();
    c.start().unwrap();
    c.wait_online(WAIT).await.unwrap();
    eventually("the newest page", WAIT, || !stored(&c, room).is_empty()).await;
    c
}

/// Loads older history until there is none; the stored seqs then.
async fn load_everything(c: &Client, room: &str) -> Vec<i64> {
    while c.room(room).unwrap().unwrap().has_older {
        c.load_older(room, 50).await.unwrap();
    }
    stored(c, room).iter().map(|(s, _)| *s).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_device_finds_what_only_the_server_has_and_opens_it_in_context() {
    let mut server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, room) = pair(&server, &dir).await;
    for i in 1..=200 {
        let text = if i == 20 {
            "the Needle is in the haystack".to_owned()
        } else {
            format!("hay {i}")
        };
        a.send_text(&room, &text).unwrap();
    }
    eventually("sent", WAIT, || a.outbox_len().unwrap() == 0).await;

    let b2 = fresh_device(&server, &dir, "bob2", &room).await;
    assert!(
        stored(&b2, &room).iter().all(|(s, _)| *s > 100),
        "only the newest page is stored"
    );
    assert!(b2.search("needle", None, 20).unwrap().is_empty());

    // The server has it: found, stored, and not shown as loaded history.
    let page = b2
        .search_messages("NEEDLE hay", None, None, 20)
        .await
        .unwrap();
    assert!(page.from_server);
    assert_eq!(page.results.len(), 1, "{:?}", page.results);
    let hit = &page.results[0];
    assert_eq!(hit.content, "the Needle is in the haystack");
    assert_eq!(hit.seq, Some(20));
    assert!(hit.island);
    let id = hit.message_id.clone().unwrap();
    assert_eq!(b2.search("needle", Some(&room), 20).unwrap().len(), 1);
    assert!(
        stored(&b2, &room).iter().all(|(s, _)| *s > 100),
        "the room's history view does not show the island"
    );

    // Opened in context: the messages around it, fetched and stored.
    let ctx = b2.message_context(&id, 5).await.unwrap();
    let seqs: Vec<i64> = ctx.messages.iter().filter_map(|m| m.seq).collect();
    assert_eq!(seqs, (15..=25).collect::<Vec<_>>());
    assert!(ctx.has_older && ctx.has_newer);
    assert_eq!(ctx.room_id, room);
    // Offline, it opens from the store.
    server.kill();
    let again = b2.message_context(&id, 5).await;
    assert!(
        again.is_err(),
        "an island's context needs the server when not stored whole"
    );
    let offline = b2.search_messages("needle", None, None, 20).await.unwrap();
    assert!(!offline.from_server);
    assert_eq!(offline.results.len(), 1, "stored results are found offline");
    server.restart().await;
    b2.wait_online(WAIT).await.unwrap();

    // Loading older history walks through the island: no gap, no repeat.
    let seqs = load_everything(&b2, &room).await;
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let ctx = b2.message_context(&id, 5).await.unwrap();
    assert!(
        !ctx.messages.iter().any(|m| m.island),
        "all loaded history now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_a_message_never_loaded_does_not_hide_the_gap_before_it() {
    let server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, room) = pair(&server, &dir).await;
    let mut first = None;
    for i in 1..=150 {
        let m = a.send_text(&room, &format!("line {i}")).unwrap();
        if i == 10 {
            first = Some(m);
        }
    }
    eventually("sent", WAIT, || a.outbox_len().unwrap() == 0).await;
    let b2 = fresh_device(&server, &dir, "bob2", &room).await;
    let old = a.message(&first.unwrap().local_id.to_string()).unwrap();
    let old_id = old.message_id.clone().unwrap();
    a.edit(&old_id, "line 10, corrected").unwrap();
    eventually("bob's device hears of the edit", WAIT, || {
        b2.message(&old_id)
            .is_ok_and(|m| m.content == "line 10, corrected")
    })
    .await;
    assert!(b2.message(&old_id).unwrap().island);
    // History still loads back without skipping what lies between.
    let seqs = load_everything(&b2, &room).await;
    assert_eq!(seqs, (1..=150).collect::<Vec<_>>());
    let unique: BTreeSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_merge_the_outbox_and_page_through_the_server() {
    let server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    for i in 1..=45 {
        a.send_text(&room, &format!("report {i}")).unwrap();
    }
    eventually("sent", WAIT, || a.outbox_len().unwrap() == 0).await;
    eventually("bob has them", WAIT, || stored(&b, &room).len() == 45).await;

    // Pages of 20: every message once, newest first.
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = b
            .search_messages("report", Some(&room), before.as_deref(), 20)
            .await
            .unwrap();
        assert!(page.from_server);
        seen.extend(page.results.iter().map(|m| m.content.clone()));
        match page.next_cursor {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    let want: Vec<String> = (1..=45).rev().map(|i| format!("report {i}")).collect();
    assert_eq!(seen, want);

    // Offline, a send still in the outbox is found among the stored results.
    b.stop().await;
    let pending = b.send_text(&room, "report pending").unwrap();
    let page = b.search_messages("report", None, None, 5).await.unwrap();
    assert!(!page.from_server);
    assert_eq!(page.results[0].local_id, pending.local_id);
    assert_eq!(page.results.len(), 5);
    b.start().unwrap();
    eventually("sent", WAIT, || b.outbox_len().unwrap() == 0).await;
    let page = b.search_messages("report", None, None, 5).await.unwrap();
    assert!(page.from_server);
    assert_eq!(page.results[0].content, "report pending");
    assert_eq!(
        page.results
            .iter()
            .filter(|m| m.content == "report pending")
            .count(),
        1,
        "the sent copy replaced the pending one"
    );

    // Bad queries are refused before anything is asked.
    for bad in ["", "   ", "?!"] {
        assert!(
            b.search_messages(bad, None, None, 5).await.is_err(),
            "{bad:?}"
        );
        assert!(b.search(bad, None, 5).is_err(), "{bad:?}");
    }
}
