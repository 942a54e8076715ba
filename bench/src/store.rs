//! Scenario 8: the client core's store with `n` messages in one room: cold
//! open of the store plus the newest page (50 messages), a warm page, and
//! local full-text search, each timed 50 times.

use std::time::Instant;

use anyhow::Result;
use hdrhistogram::Histogram;
use leetchat_client::store::Store;
use leetchat_protocol::search::Query;
use leetchat_protocol::{Message, MessageType, Room, RoomType};

use crate::client::new_histogram;
use crate::results::{ClientStore, Timings};

const WORDS: [&str; 8] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
];

fn timed(h: &mut Histogram<u64>, t: Instant) {
    let _ = h.record(t.elapsed().as_micros().max(1) as u64);
}

/// Fills a fresh store with `n` messages and times the reads.
pub fn run(n: i64) -> Result<ClientStore> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let fill = Instant::now();
    {
        let store = Store::open(&path)?;
        store.apply_room(&Room {
            room_id: "r".into(),
            room_type: RoomType::Group,
            name: "bench".into(),
            description: String::new(),
            is_private: false,
            created_by: "u1".into(),
            created_at: "2025-01-01T00:00:00.000Z".into(),
            last_seq: n,
            members: vec![],
            pinned_message_ids: vec![],
        })?;
        for seq in 1..=n {
            let w = WORDS[(seq as usize) % WORDS.len()];
            store.apply_message(&Message {
                message_id: format!("m{seq}"),
                room_id: "r".into(),
                seq,
                sender_id: if seq % 2 == 0 {
                    "u1".into()
                } else {
                    "u2".into()
                },
                temp_id: None,
                message_type: MessageType::Text,
                content: format!(
                    "message {seq} about {w} and the number {}",
                    seq * 7919 % 1000
                ),
                attachments: vec![],
                reply_to: None,
                reply_preview: None,
                reactions: vec![],
                mentions: vec![],
                mentions_room: false,
                link_preview: None,
                created_at: format!(
                    "2025-01-01T00:00:{:02}.{:03}Z",
                    (seq / 1000) % 60,
                    seq % 1000
                ),
                edited_at: None,
                deleted_at: None,
            })?;
        }
    }
    let fill_s = fill.elapsed().as_secs_f64();
    let (mut cold, mut warm) = (new_histogram(), new_histogram());
    for _ in 0..50 {
        let t = Instant::now();
        let store = Store::open(&path)?;
        let first = store.messages("r", None, 50)?;
        timed(&mut cold, t);
        anyhow::ensure!(first.len() == 50, "a page has 50 messages");
        let t = Instant::now();
        let again = store.messages("r", None, 50)?;
        timed(&mut warm, t);
        anyhow::ensure!(
            again.last().and_then(|m| m.seq) == Some(n),
            "the newest page ends at {n}"
        );
    }
    let store = Store::open(&path)?;
    let (mut one, mut two) = (new_histogram(), new_histogram());
    for i in 0..50 {
        let t = Instant::now();
        let q = Query::parse(WORDS[i % WORDS.len()])?;
        let hits = store.search(&q, None, 50)?;
        timed(&mut one, t);
        anyhow::ensure!(hits.len() == 50, "a common word has 50 newest hits");
        let t = Instant::now();
        store.search(&Query::parse("number 123")?, None, 50)?;
        timed(&mut two, t);
    }
    Ok(ClientStore {
        messages: n,
        fill_s,
        cold_open_newest_page: Timings::of(&cold),
        newest_page_warm: Timings::of(&warm),
        search_one_word: Timings::of(&one),
        search_two_words: Timings::of(&two),
    })
}
