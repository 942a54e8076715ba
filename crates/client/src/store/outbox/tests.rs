//! The outbox's queue rules, on an in-memory store.

use leetchat_protocol::{Room, RoomType};

use super::*;
use crate::store::SeqOutcome;

/// The send a queued item carries.
fn send_of(item: &OutboxItem) -> &SendPayload {
    match &item.payload {
        Payload::Send(p) => p,
        other => panic!("not a send: {other:?}"),
    }
}

fn store_with_rooms(rooms: &[&str]) -> Store {
    let s = Store::in_memory().expect("store");
    for r in rooms {
        s.apply_room(&Room {
            room_id: (*r).into(),
            room_type: RoomType::Group,
            name: (*r).into(),
            description: String::new(),
            is_private: false,
            created_by: "me".into(),
            created_at: "2025-01-01T00:00:00.000Z".into(),
            last_seq: 0,
            members: vec![],
            pinned_message_ids: vec![],
        })
        .expect("room");
    }
    s
}

#[test]
fn items_go_out_in_order_per_room_and_a_deferred_head_holds_only_its_room() {
    let s = store_with_rooms(&["a", "b"]);
    let a1 = s
        .enqueue_send("me", "a", &Draft::text("a1"), MessageType::Text)
        .expect("send");
    s.enqueue_send("me", "a", &Draft::text("a2"), MessageType::Text)
        .expect("send");
    s.enqueue_send("me", "b", &Draft::text("b1"), MessageType::Text)
        .expect("send");
    let first = s.outbox_take(0).expect("take").expect("item");
    assert_eq!(send_of(&first).content, "a1");
    // Rate limited: room a waits, room b goes on.
    s.outbox_defer(first.id, 10_000, crate::views::Waiting::RateLimited)
        .expect("defer");
    let next = s.outbox_take(5_000).expect("take").expect("item");
    assert_eq!(send_of(&next).content, "b1");
    s.outbox_done(next.id).expect("done");
    assert!(
        s.outbox_take(5_000).expect("take").is_none(),
        "a2 waits behind a1"
    );
    assert_eq!(s.outbox_next_due().expect("due"), Some(10_000));
    let again = s.outbox_take(10_000).expect("take").expect("item");
    assert_eq!(
        send_of(&again).temp_id,
        a1.temp_id.clone().expect("temp id").as_str()
    );
    assert_eq!(again.attempts, 2, "the retry keeps its tempId and counts");
}

#[test]
fn an_unsent_message_is_changed_in_place_and_a_tried_one_queues_the_change() {
    let s = store_with_rooms(&["a"]);
    let m = s
        .enqueue_send("me", "a", &Draft::text("draft"), MessageType::Text)
        .expect("send");
    let t = m.temp_id.clone().expect("temp");
    s.enqueue_edit("me", &t, "better", None).expect("edit");
    assert_eq!(s.outbox_len().expect("len"), 1);
    let item = s.outbox_take(0).expect("take").expect("item");
    assert_eq!(send_of(&item).content, "better");
    // Now it may be on the wire: a further edit queues behind it.
    s.enqueue_edit("me", &t, "best", None).expect("edit");
    assert_eq!(s.outbox_len().expect("len"), 2);
    assert!(
        s.enqueue_edit("someone else", &t, "x", None).is_err(),
        "only the sender edits"
    );
    // Deleting an untried send withdraws it entirely.
    let m2 = s
        .enqueue_send("me", "a", &Draft::text("oops"), MessageType::Text)
        .expect("send");
    assert!(
        s.enqueue_delete(&m2.temp_id.expect("temp"))
            .expect("delete")
            .is_none()
    );
    assert_eq!(s.outbox_len().expect("len"), 2);
}

#[test]
fn payloads_queued_by_an_earlier_version_still_read() {
    let send = r#"{"roomId":"a","content":"hi","type":"text","tempId":"t1","replyTo":null}"#;
    let Payload::Send(p) = Payload::parse("send", send).expect("send") else {
        panic!("a send")
    };
    assert_eq!((p.content.as_str(), p.files.is_none()), ("hi", true));
    let files = r#"{"roomId":"a","content":"","type":"image","tempId":"t2","replyTo":null,
        "files":[{"path":"/x/t2-a.png","name":"a.png","fileId":"f1",
        "attachment":{"fileId":"f1","name":"a.png","mime":"image/png","size":3,"url":"/api/files/f1"}}]}"#;
    let Payload::Send(p) = Payload::parse("send", files).expect("file send") else {
        panic!("a send")
    };
    let req = p.request();
    assert_eq!(req.attachments, vec!["f1".to_owned()]);
    assert_eq!(req.message_type, "image");
    let edit = Payload::parse("edit", r#"{"content":"new","previous":"old"}"#).expect("edit");
    assert_eq!(edit.previous(), Some("old"));
    assert_eq!(edit.kind(), OutboxKind::Edit);
}

#[test]
fn a_file_send_takes_its_type_from_what_the_server_sniffed() {
    let mut p = SendPayload {
        room_id: "a".into(),
        content: String::new(),
        message_type: "image".into(),
        temp_id: "t".into(),
        reply_to: None,
        mentions: Vec::new(),
        mentions_room: false,
        files: Some(vec![QueuedUpload {
            path: "/x".into(),
            name: "a.png".into(),
            file_id: Some("f".into()),
            attachment: Some(Attachment {
                file_id: "f".into(),
                name: "a.png".into(),
                mime: "application/pdf".into(),
                size: 1,
                width: None,
                height: None,
                url: String::new(),
                thumbnail_url: None,
            }),
        }]),
        reuploaded: false,
    };
    assert_eq!(p.request().message_type, "file");
    p.files = None;
    assert_eq!(
        p.request().message_type,
        "image",
        "no files: the queued type"
    );
    assert!(p.request().attachments.is_empty());
}

#[test]
fn seqs_advance_only_without_gaps_and_replays_change_nothing() {
    let s = store_with_rooms(&["r"]);
    assert_eq!(s.note_seq("r", 1).expect("seq"), SeqOutcome::Next);
    assert_eq!(s.note_seq("r", 1).expect("seq"), SeqOutcome::Seen);
    assert_eq!(
        s.note_seq("r", 3).expect("seq"),
        SeqOutcome::Gap { synced: 1 }
    );
    assert_eq!(
        s.synced_seq("r").expect("seq"),
        Some(1),
        "a gap does not move the pointer"
    );
    s.set_synced("r", 3).expect("synced");
    assert_eq!(s.note_seq("r", 4).expect("seq"), SeqOutcome::Next);
    assert_eq!(s.note_seq("nope", 1).expect("seq"), SeqOutcome::UnknownRoom);
}
