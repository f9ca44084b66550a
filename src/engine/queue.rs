//! The event queue. Events leave in `(time, sequence)` order: two events at the same instant
//! leave in the order they were scheduled. This is a guarantee the simulator relies on for
//! reproducibility; it never depends on allocation or hash order.
//!
//! The queue is a radix heap over the event's time: keys never fall below the last time popped
//! (`push` reports an event in the past), which is all a radix heap needs; each entry then moves
//! between at most 64 buckets over its life, appended to the end of plain vectors, instead of
//! sifting through a binary heap whose cache misses dominate once a million events are pending.
//!
//! Same-instant order needs no sequence number in the key: every bucket holds its entries in
//! scheduling order. A push appends (later than everything already there), and a bucket is
//! redistributed only when every lower bucket is empty, in order, so the lower buckets receive
//! an ordered block before any later push. Bucket 0 — the entries at the current instant — is
//! then read from the front. An occupancy bitmap finds the lowest non-empty bucket in one
//! instruction. Small bucket vectors keep their capacity, so the per-event path does not
//! allocate; a large drained bucket is released (one allocation per redistribution).

use super::time::SimTime;

/// One queue entry: the event's time and the caller's event, whatever type it packs its domains
/// into (24 bytes for a 16-byte event).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Entry<E> {
    time: u64,
    event: E,
}

/// Buckets 1..=64: bucket `i` holds entries whose time first differs from `last` at bit `i - 1`.
const BUCKETS: usize = 65;

/// A priority queue of events of type `E` with monotone times, FIFO within an instant.
pub struct EventQueue<E> {
    /// The entries at time `last`, in scheduling order; `head` of them have left.
    now: Vec<Entry<E>>,
    head: usize,
    /// Bucket `i > 0` holds entries whose time first differs from `last` at bit `i - 1` (index 0
    /// unused: those entries are in `now`).
    buckets: Vec<Vec<Entry<E>>>,
    /// Bit `i - 1`: bucket `i` is not empty.
    occupied: u64,
    scratch: Vec<Entry<E>>,
    last: u64,
    len: usize,
    popped: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

/// The bucket of `time` relative to `last` (0: the same instant).
#[inline]
fn bucket_of(time: u64, last: u64) -> usize {
    64 - (time ^ last).leading_zeros() as usize
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> EventQueue<E> {
        EventQueue {
            now: Vec::new(),
            head: 0,
            buckets: vec![Vec::new(); BUCKETS],
            occupied: 0,
            scratch: Vec::new(),
            last: 0,
            len: 0,
            popped: 0,
        }
    }
    /// Empties the queue for a new replication, keeping its allocation.
    pub fn reset(&mut self) {
        self.now.clear();
        self.head = 0;
        self.buckets.iter_mut().for_each(Vec::clear);
        self.occupied = 0;
        self.last = 0;
        self.len = 0;
        self.popped = 0;
    }
    /// Files an entry at or after `last` into its bucket.
    #[inline]
    fn file(&mut self, e: Entry<E>) {
        match bucket_of(e.time, self.last) {
            0 => self.now.push(e),
            b => {
                self.buckets[b].push(e);
                self.occupied |= 1 << (b - 1);
            }
        }
    }
    /// Schedules an event and returns `true`. An event before the last one popped breaks the
    /// radix heap's one precondition: it is scheduled at the instant of that last event instead
    /// (after everything scheduled there so far), so the queue stays ordered, and `push` returns
    /// `false` for the caller to record the breach.
    #[inline]
    #[must_use = "an event scheduled in the past is an invariant breach the caller must record"]
    pub fn push(&mut self, time: SimTime, event: E) -> bool {
        let in_order = time.0 >= self.last;
        let time = time.0.max(self.last);
        self.file(Entry { time, event });
        self.len += 1;
        in_order
    }
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.head == self.now.len() {
            self.now.clear();
            self.head = 0;
            if self.occupied == 0 {
                return None;
            }
            let i = self.occupied.trailing_zeros() as usize + 1;
            self.occupied &= !(1 << (i - 1));
            std::mem::swap(&mut self.scratch, &mut self.buckets[i]);
            self.last = self
                .scratch
                .iter()
                .map(|e| e.time)
                .min()
                .unwrap_or(self.last);
            let mut scratch = std::mem::take(&mut self.scratch);
            for e in scratch.drain(..) {
                self.file(e);
            }
            // A drained high bucket can be huge; keeping every bucket's peak capacity would
            // hold memory for many times the pending events. Freeing it costs one allocation per
            // redistribution, which already moved every one of its entries.
            if scratch.capacity() <= 4096 {
                self.scratch = scratch;
            }
        }
        let e = self.now[self.head];
        self.head += 1;
        self.len -= 1;
        self.popped += 1;
        Some((SimTime(e.time), e.event))
    }
    /// A cheap guess at the event `pop` returns next, for prefetching what it will touch: the
    /// next entry of the current instant, else the first earliest entry of the lowest bucket
    /// when that bucket is small (a large one would cost a scan). An event pushed before then
    /// may come first instead; the guess is only a hint.
    #[inline]
    pub fn next_hint(&self) -> Option<&E> {
        if let Some(e) = self.now.get(self.head) {
            return Some(&e.event);
        }
        if self.occupied == 0 {
            return None;
        }
        let b = &self.buckets[self.occupied.trailing_zeros() as usize + 1];
        if b.len() > 8 {
            return None;
        }
        let mut best = b.first()?;
        for e in &b[1..] {
            if e.time < best.time {
                best = e;
            }
        }
        Some(&best.event)
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Events processed so far in this replication.
    pub fn popped(&self) -> u64 {
        self.popped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The replication's events pack into 16 bytes, so an entry is 24 (a time and an event):
    /// the queue's memory per pending event.
    #[test]
    fn an_entry_of_a_sixteen_byte_event_is_twenty_four_bytes() {
        assert_eq!(std::mem::size_of::<Entry<[u32; 4]>>(), 24);
    }

    #[test]
    fn same_instant_events_leave_in_scheduling_order() {
        let mut q = EventQueue::new();
        for (t, d) in [(5, 1), (3, 2), (5, 3), (5, 0)] {
            assert!(q.push(SimTime(t), d));
        }
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.1).collect();
        assert_eq!(order, vec![2, 1, 3, 0]);
    }

    /// Interleaved pushes and pops in random order come out exactly as a sort by (time, seq).
    #[test]
    fn matches_a_sorted_reference() {
        let mut s = crate::engine::rng::Stream::new(7);
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let (mut now, mut seq, mut out) = (0u64, 0u64, Vec::new());
        for round in 0..20_000 {
            for _ in 0..(round % 3) {
                let t = now + (s.uniform() * 1e6) as u64 * (round % 5) as u64;
                seq += 1;
                assert!(q.push(SimTime(t), seq as u32));
                reference.push((t, seq));
            }
            let hint = q.next_hint().copied();
            if let Some(e) = q.pop() {
                // A hint, when given, is the event that leaves next (nothing was pushed since).
                assert!(hint.is_none_or(|h| h == e.1), "round {round}");
                now = e.0 .0;
                out.push((e.0 .0, e.1 as u64));
            }
        }
        while let Some(e) = q.pop() {
            out.push((e.0 .0, e.1 as u64));
        }
        reference.sort();
        assert_eq!(out, reference);
    }

    /// An event before the last one popped is refused (`false`) and kept at that instant,
    /// after the events already pending there, so the order stays consistent.
    #[test]
    fn an_event_in_the_past_is_reported_and_kept_in_order() {
        let mut q = EventQueue::new();
        assert!(q.push(SimTime(10), 1u32));
        assert!(q.push(SimTime(10), 2u32));
        assert!(q.push(SimTime(20), 3u32));
        assert_eq!(q.pop().map(|e| e.1), Some(1));
        assert!(!q.push(SimTime(4), 4u32));
        assert!(q.push(SimTime(10), 5u32));
        let rest: Vec<(u64, u32)> = std::iter::from_fn(|| q.pop())
            .map(|(t, d)| (t.0, d))
            .collect();
        assert_eq!(rest, vec![(10, 2), (10, 4), (10, 5), (20, 3)]);
    }
}
