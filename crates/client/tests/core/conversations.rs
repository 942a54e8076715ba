//! Replies, reactions, mentions and pins through the client core against a
//! real server: made offline, they go out once the server is back; a
//! member who was away gets them with `sync`.

use leetchat_client::{Draft, MessageView};
use leetchat_protocol::MessageType;

use crate::harness::{Server, eventually};
use crate::{WAIT, pair};

fn find(c: &leetchat_client::Client, room: &str, content: &str) -> Option<MessageView> {
    c.messages(room, None, 100)
        .unwrap()
        .into_iter()
        .find(|m| m.content == content)
}

fn reactions(m: &MessageView) -> Vec<(String, i64)> {
    m.reactions
        .iter()
        .map(|r| (r.emoji.clone(), r.count))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_and_pins_made_offline_arrive_and_a_member_away_catches_up() {
    let mut server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    let bob_id = b.me().unwrap().user_id;
    let hello = a.send_text(&room, "hello bob").unwrap();
    eventually("bob has it", WAIT, || {
        find(&b, &room, "hello bob").is_some()
    })
    .await;
    eventually("alice's send is acked", WAIT, || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    let hello_id = a
        .message(&hello.local_id.to_string())
        .unwrap()
        .message_id
        .unwrap();

    // Bob goes away; the server goes down; alice reacts, toggles one back,
    // pins, and replies mentioning bob, all offline.
    b.stop().await;
    server.kill();
    a.react(&hello_id, "👍", true).unwrap();
    a.react(&hello_id, "🎉", true).unwrap();
    a.react(&hello_id, "🎉", false).unwrap();
    a.pin(&hello_id, true).unwrap();
    let reply = a
        .send_draft(
            &room,
            &Draft {
                content: "@bob see above".into(),
                reply_to: Some(hello_id.clone()),
                mentions: vec![bob_id.clone()],
                mentions_room: false,
            },
            MessageType::Text,
        )
        .unwrap();
    assert_eq!(
        reply.reply_preview.as_ref().map(|p| p.content.as_str()),
        Some("hello bob"),
        "the reply quotes what the store has at once"
    );
    let shown = a.message(&hello_id).unwrap();
    assert_eq!(reactions(&shown), [("👍".to_owned(), 1)]);
    assert!(shown.reactions[0].pending);
    assert_eq!(
        a.outbox_len().unwrap(),
        3,
        "👍, the pin and the reply: the 🎉 toggled back sends nothing"
    );

    server.restart().await;
    eventually("alice's outbox drains", WAIT, || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    let shown = a.message(&hello_id).unwrap();
    assert_eq!(reactions(&shown), [("👍".to_owned(), 1)]);
    assert!(!shown.reactions[0].pending && shown.reactions[0].mine);

    // Bob comes back: sync brings the reaction, the pin, the reply and the mention.
    b.start().unwrap();
    eventually("bob gets the reply", WAIT, || {
        find(&b, &room, "@bob see above").is_some()
    })
    .await;
    eventually("bob sees the reaction", WAIT, || {
        find(&b, &room, "hello bob").is_some_and(|m| reactions(&m) == [("👍".to_owned(), 1)])
    })
    .await;
    let r = b.room(&room).unwrap().unwrap();
    assert_eq!(r.pinned_message_ids, std::slice::from_ref(&hello_id));
    assert_eq!(r.mention_count, 1);
    let got = find(&b, &room, "@bob see above").unwrap();
    assert_eq!(got.mentions, std::slice::from_ref(&bob_id));
    assert_eq!(
        got.reply_preview.as_ref().map(|p| p.message_id.as_str()),
        Some(hello_id.as_str())
    );

    // Bob reacts too, live: alice's count follows. Then alice edits the
    // original: bob's stored reply shows the edit.
    b.react(&hello_id, "👍", true).unwrap();
    eventually("alice sees two", WAIT, || {
        reactions(&a.message(&hello_id).unwrap()) == [("👍".to_owned(), 2)]
    })
    .await;
    a.edit(&hello_id, "hello bob (edited)").unwrap();
    eventually("bob's reply quotes the edit", WAIT, || {
        find(&b, &room, "@bob see above")
            .and_then(|m| m.reply_preview)
            .is_some_and(|p| p.content == "hello bob (edited)")
    })
    .await;
    // Unpinned by bob (either member may, in a direct room).
    b.pin(&hello_id, false).unwrap();
    eventually("alice sees it unpinned", WAIT, || {
        a.room(&room)
            .unwrap()
            .unwrap()
            .pinned_message_ids
            .is_empty()
    })
    .await;
}
