//! Client store benchmark: 100k messages in one room, then a cold open of the
//! store followed by the newest page, and local full-text search.
//!
//! `cargo run --release -p leetchat-client --example store_bench [-- N]`

use std::time::{Duration, Instant};

use leetchat_client::store::Store;
use leetchat_protocol::{Message, MessageType, Room, RoomType};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "{name:<28} n={:<5} p50={:>9.3?} p99={:>9.3?} max={:>9.3?}",
        d.len(),
        pct(&d, 0.5),
        pct(&d, 0.99),
        d[d.len() - 1]
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    ];
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
        })?;
        let t = Instant::now();
        for seq in 1..=n {
            let w = words[(seq as usize) % words.len()];
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
                created_at: format!(
                    "2025-01-01T00:00:{:02}.{:03}Z",
                    (seq / 1000) % 60,
                    seq % 1000
                ),
                edited_at: None,
                deleted_at: None,
            })?;
        }
        println!("filled {n} messages in {:?}", t.elapsed());
    }
    let mut cold = Vec::new();
    let mut page = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let store = Store::open(&path)?;
        let first = store.messages("r", None, 50)?;
        cold.push(t.elapsed());
        assert_eq!(first.len(), 50);
        let t = Instant::now();
        let again = store.messages("r", None, 50)?;
        page.push(t.elapsed());
        assert_eq!(again.last().and_then(|m| m.seq), Some(n));
    }
    report("cold open + newest page", cold);
    report("newest page (warm)", page);
    let store = Store::open(&path)?;
    let mut search = Vec::new();
    let mut hits = 0;
    for i in 0..50 {
        let t = Instant::now();
        hits = store.search(words[i % words.len()], 50)?.len();
        search.push(t.elapsed());
    }
    report("search one word (50 hits)", search);
    let mut rare = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        store.search("number 123", 50)?;
        rare.push(t.elapsed());
    }
    report("search two words", rare);
    println!("search returned {hits} hits per query");
    Ok(())
}
