//! Per-connection ordering of room events.
//!
//! On one node, a room's pushes leave in seq order (the room lock is held from
//! taking the seq until the push is queued). With several nodes, two events of
//! one room committed by different nodes travel different paths (one local,
//! one through Redis), so they can reach a connection out of order. Each
//! connection's writer therefore passes room events through a [`Sequencer`]:
//! an event whose seq is ahead of the next one expected is held until the
//! missing ones arrive, or for at most [`REORDER_WAIT`]; then what is held is
//! sent in order and the client fills the hole through `sync`, as the
//! contract says (a seq jump means "call sync"). Nothing is ever dropped: an
//! event that arrives after its turn is still sent (clients ignore seqs they
//! have).
//!
//! The first event of a room seen by a connection sets where its stream starts.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::fanout::{PushFrame, StreamPos};

/// How long an event is held waiting for the ones before it.
pub const REORDER_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug)]
struct RoomOrder {
    /// The next seq this connection expects.
    next: i64,
    /// Held events by seq; `None` marks a seq this connection caused itself.
    held: BTreeMap<i64, Option<PushFrame>>,
    /// When the oldest held event must go out anyway.
    deadline: Option<Instant>,
}

/// One connection's ordering state.
#[derive(Debug, Default)]
pub struct Sequencer {
    rooms: HashMap<Arc<str>, RoomOrder>,
    /// Rooms that hold something (so deadlines are found without a full scan).
    holding: usize,
}

impl Sequencer {
    /// Takes a push; appends to `out` what may be sent now, in order.
    pub fn push(&mut self, frame: PushFrame, out: &mut Vec<PushFrame>) {
        match frame.stream.clone() {
            None => out.push(frame),
            Some(pos) => self.arrive(pos, Some(frame), out),
        }
    }

    /// Notes a seq this connection caused (it got the ack instead of a push).
    pub fn skip(&mut self, pos: StreamPos, out: &mut Vec<PushFrame>) {
        self.arrive(pos, None, out);
    }

    fn arrive(&mut self, pos: StreamPos, frame: Option<PushFrame>, out: &mut Vec<PushFrame>) {
        let room = self.rooms.entry(pos.room).or_insert_with(|| RoomOrder {
            next: pos.seq,
            held: BTreeMap::new(),
            deadline: None,
        });
        let was_holding = room.deadline.is_some();
        if pos.seq < room.next {
            // Late (its turn was given up after REORDER_WAIT) or a replay.
            out.extend(frame);
            return;
        }
        room.held.insert(pos.seq, frame);
        while let Some(f) = room.held.remove(&room.next) {
            out.extend(f);
            room.next += 1;
        }
        room.deadline = match (room.held.is_empty(), room.deadline) {
            (true, _) => None,
            (false, Some(d)) => Some(d),
            (false, None) => Some(Instant::now() + REORDER_WAIT),
        };
        match (was_holding, room.deadline.is_some()) {
            (false, true) => self.holding += 1,
            (true, false) => self.holding -= 1,
            _ => {}
        }
    }

    /// The earliest time something held must go out, if anything is held.
    pub fn deadline(&self) -> Option<Instant> {
        if self.holding == 0 {
            return None;
        }
        self.rooms.values().filter_map(|r| r.deadline).min()
    }

    /// Sends, in order, everything held past its deadline (the client will
    /// see the seq jump and sync the hole).
    pub fn release_due(&mut self, now: Instant, out: &mut Vec<PushFrame>) {
        if self.holding == 0 {
            return;
        }
        for room in self.rooms.values_mut() {
            if room.deadline.is_some_and(|d| d <= now) {
                let held = std::mem::take(&mut room.held);
                if let Some((&last, _)) = held.last_key_value() {
                    room.next = last + 1;
                }
                out.extend(held.into_values().flatten());
                room.deadline = None;
                self.holding -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(room: &str, seq: i64) -> PushFrame {
        PushFrame::new("message.received", &seq).in_stream(room, seq)
    }

    fn seqs(out: &[PushFrame]) -> Vec<i64> {
        out.iter()
            .map(|f| f.stream.as_ref().map_or(-1, |p| p.seq))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn an_early_event_waits_for_the_one_before_it() {
        let mut s = Sequencer::default();
        let mut out = Vec::new();
        s.push(ev("r", 5), &mut out);
        s.push(ev("r", 7), &mut out);
        assert_eq!(seqs(&out), vec![5], "7 waits for 6");
        assert!(s.deadline().is_some());
        s.push(ev("r", 6), &mut out);
        assert_eq!(seqs(&out), vec![5, 6, 7]);
        assert!(s.deadline().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn own_events_fill_their_place_without_being_sent() {
        let mut s = Sequencer::default();
        let mut out = Vec::new();
        s.push(ev("r", 1), &mut out);
        s.push(ev("r", 3), &mut out);
        s.skip(
            StreamPos {
                room: "r".into(),
                seq: 2,
            },
            &mut out,
        );
        assert_eq!(seqs(&out), vec![1, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hole_that_never_fills_is_given_up_after_the_wait() {
        let mut s = Sequencer::default();
        let mut out = Vec::new();
        s.push(ev("r", 1), &mut out);
        s.push(ev("r", 4), &mut out);
        s.push(ev("r", 3), &mut out);
        s.push(PushFrame::new("typing.user", &0), &mut out);
        assert_eq!(seqs(&out), vec![1, -1], "unsequenced pushes never wait");
        tokio::time::advance(REORDER_WAIT / 2).await;
        s.release_due(Instant::now(), &mut out);
        assert_eq!(out.len(), 2);
        tokio::time::advance(REORDER_WAIT).await;
        s.release_due(Instant::now(), &mut out);
        assert_eq!(seqs(&out), vec![1, -1, 3, 4]);
        s.push(ev("r", 2), &mut out);
        s.push(ev("r", 5), &mut out);
        assert_eq!(
            seqs(&out),
            vec![1, -1, 3, 4, 2, 5],
            "late events still go out"
        );
        assert!(s.deadline().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn rooms_are_independent() {
        let mut s = Sequencer::default();
        let mut out = Vec::new();
        s.push(ev("a", 1), &mut out);
        s.push(ev("a", 3), &mut out);
        s.push(ev("b", 9), &mut out);
        s.push(ev("b", 10), &mut out);
        assert_eq!(seqs(&out), vec![1, 9, 10]);
    }
}
