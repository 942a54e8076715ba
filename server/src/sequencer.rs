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
//! have); only a second copy of an event still held is kept once.
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
    /// Whether the connection's rooms were seeded at connect.
    seeded: bool,
}

impl Sequencer {
    /// Takes a push; appends to `out` what may be sent now, in order.
    pub fn push(&mut self, frame: PushFrame, out: &mut Vec<PushFrame>) {
        match frame.stream.clone() {
            None => out.push(frame),
            Some(pos) => self.arrive(pos, Some(frame), out),
        }
    }

    /// Sets where each room's stream starts (its seq at connect); rooms
    /// already seen keep their place.
    pub fn seed(&mut self, rooms: Vec<StreamPos>) {
        self.seeded = true;
        for pos in rooms {
            self.rooms.entry(pos.room).or_insert_with(|| RoomOrder {
                next: pos.seq + 1,
                held: BTreeMap::new(),
                deadline: None,
            });
        }
    }

    /// Notes a seq this connection caused (it got the ack instead of a push).
    pub fn skip(&mut self, pos: StreamPos, out: &mut Vec<PushFrame>) {
        self.arrive(pos, None, out);
    }

    fn arrive(&mut self, pos: StreamPos, frame: Option<PushFrame>, out: &mut Vec<PushFrame>) {
        let joined = frame
            .as_ref()
            .is_some_and(|f| &*f.event == leetchat_protocol::events::names::ROOM_MEMBER_JOINED);
        let seeded = self.seeded;
        let room = self.rooms.entry(pos.room).or_insert_with(|| RoomOrder {
            // A room not seeded at connect appeared since: created (its
            // stream starts at 1) or joined (the join event starts it).
            next: if !seeded || joined { pos.seq } else { 1 },
            held: BTreeMap::new(),
            deadline: None,
        });
        if pos.seq == room.next && room.held.is_empty() {
            // The usual case: in order, nothing held.
            out.extend(frame);
            room.next += 1;
            return;
        }
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
    async fn seeded_streams_wait_for_their_first_event_and_new_rooms_start_at_one() {
        let mut s = Sequencer::default();
        let mut out = Vec::new();
        s.seed(vec![StreamPos {
            room: "old".into(),
            seq: 7,
        }]);
        s.push(ev("old", 9), &mut out);
        s.push(ev("new", 2), &mut out);
        assert!(out.is_empty(), "9 waits for 8; 2 waits for 1 in a new room");
        s.push(ev("old", 8), &mut out);
        s.push(ev("new", 1), &mut out);
        assert_eq!(seqs(&out), vec![8, 9, 1, 2]);
        let join = PushFrame::new(leetchat_protocol::events::names::ROOM_MEMBER_JOINED, &5)
            .in_stream("joined", 40);
        s.push(join, &mut out);
        assert_eq!(
            seqs(&out),
            vec![8, 9, 1, 2, 40],
            "a join starts its room's stream"
        );
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

/// Properties over random arrivals: any rooms, any order, holes, own
/// events (acks instead of pushes), duplicates and replays.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Arrival {
        Push(u8, i64),
        Own(u8, i64),
        Unsequenced,
    }

    fn ev(room: u8, seq: i64) -> PushFrame {
        PushFrame::new("message.received", &seq).in_stream(&format!("r{room}"), seq)
    }

    fn key(f: &PushFrame) -> Option<(String, i64)> {
        f.stream.as_ref().map(|p| (p.room.to_string(), p.seq))
    }

    /// Every seq 1..=n of up to 4 rooms, each a push or one of our own, in a
    /// random order, some pushed twice.
    fn complete() -> impl Strategy<Value = Vec<Arrival>> {
        prop::collection::vec((1i64..40, prop::collection::vec(any::<bool>(), 40)), 1..4)
            .prop_flat_map(|rooms| {
                let mut all = Vec::new();
                for (r, (n, own)) in rooms.into_iter().enumerate() {
                    for seq in 1..=n {
                        let room = r as u8;
                        all.push(if own[seq as usize - 1] && seq % 3 == 0 {
                            Arrival::Own(room, seq)
                        } else {
                            Arrival::Push(room, seq)
                        });
                    }
                }
                let len = all.len();
                (Just(all), prop::collection::vec(0..len, 0..4))
            })
            .prop_map(|(mut all, dups)| {
                let extra: Vec<Arrival> = dups.iter().map(|&i| all[i].clone()).collect();
                all.extend(extra);
                all.push(Arrival::Unsequenced);
                all
            })
            .prop_shuffle()
    }

    /// What was pushed (own events are acks, not pushes): room events by
    /// (room, seq), unsequenced ones as `None`.
    fn pushes(arrivals: &[Arrival]) -> impl Iterator<Item = Option<(String, i64)>> + '_ {
        arrivals.iter().filter_map(|a| match a {
            Arrival::Push(r, seq) => Some(Some((format!("r{r}"), *seq))),
            Arrival::Unsequenced => Some(None),
            Arrival::Own(..) => None,
        })
    }

    /// The distinct room events, and how many unsequenced pushes.
    fn distinct(
        keys: impl Iterator<Item = Option<(String, i64)>>,
    ) -> (std::collections::BTreeSet<(String, i64)>, usize) {
        let mut set = std::collections::BTreeSet::new();
        let mut other = 0;
        for k in keys {
            match k {
                Some(k) => {
                    set.insert(k);
                }
                None => other += 1,
            }
        }
        (set, other)
    }

    /// As at connect: every room's stream seeded at 0.
    fn seeded() -> Sequencer {
        let mut s = Sequencer::default();
        s.seed(
            (0..4)
                .map(|r| StreamPos {
                    room: format!("r{r}").into(),
                    seq: 0,
                })
                .collect(),
        );
        s
    }

    fn run(s: &mut Sequencer, arrivals: &[Arrival], out: &mut Vec<PushFrame>) -> usize {
        let mut pushed = 0;
        for a in arrivals {
            match a {
                Arrival::Push(r, seq) => {
                    s.push(ev(*r, *seq), out);
                    pushed += 1;
                }
                Arrival::Own(r, seq) => s.skip(
                    StreamPos {
                        room: format!("r{r}").into(),
                        seq: *seq,
                    },
                    out,
                ),
                Arrival::Unsequenced => {
                    s.push(PushFrame::new("typing.user", &0), out);
                    pushed += 1;
                }
            }
        }
        pushed
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// With no hole, everything goes out at once, nothing is held, and
        /// each room's first copies are in seq order.
        #[test]
        fn a_complete_stream_goes_out_whole_and_in_order(arrivals in complete()) {
            let mut s = seeded();
            let mut out = Vec::new();
            let pushed = run(&mut s, &arrivals, &mut out);
            prop_assert!(out.len() <= pushed, "nothing invented");
            prop_assert_eq!(distinct(out.iter().map(key)), distinct(pushes(&arrivals)), "nothing dropped");
            prop_assert!(s.deadline().is_none(), "nothing left held");
            let mut seen = std::collections::HashSet::new();
            let mut last: HashMap<String, i64> = HashMap::new();
            for f in &out {
                if let Some((room, seq)) = key(f)
                    && seen.insert((room.clone(), seq))
                {
                    let prev = last.insert(room.clone(), seq).unwrap_or(0);
                    prop_assert!(seq > prev, "{} went out after {} in {}", seq, prev, room);
                }
            }
        }

        /// With holes that never fill, the wait gives them up: everything
        /// pushed goes out exactly once per push, and nothing stays held.
        #[test]
        fn holes_are_given_up_and_nothing_is_lost(
            arrivals in complete(),
            holes in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let mut arrivals = arrivals;
            for h in holes {
                if !arrivals.is_empty() {
                    arrivals.remove(h.index(arrivals.len()));
                }
            }
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().expect("runtime");
            rt.block_on(async {
                let mut s = seeded();
                let mut out = Vec::new();
                let pushed = run(&mut s, &arrivals, &mut out);
                tokio::time::advance(REORDER_WAIT * 2).await;
                s.release_due(Instant::now(), &mut out);
                prop_assert!(s.deadline().is_none(), "nothing left held");
                prop_assert!(out.len() <= pushed, "nothing invented");
                prop_assert_eq!(distinct(out.iter().map(key)), distinct(pushes(&arrivals)), "nothing dropped");
                Ok(())
            })?;
        }
    }
}
