//! The event queue. Events leave in `(time, sequence)` order: two events at the same instant
//! leave in the order they were scheduled. This is a guarantee the simulator relies on for
//! reproducibility; it never depends on allocation or hash order.
//!
//! The queue is a radix heap over the 128-bit key `time << 64 | sequence`. Keys are unique and
//! never below the last key popped (`push` reports an event in the past), which is all a radix heap
//! needs; each entry then moves between at most 128 buckets over its life, appended to the end
//! of plain vectors, instead of sifting through a binary heap whose cache misses dominate once a
//! million events are pending. Small bucket vectors keep their capacity, so the per-event path
//! does not allocate; a large drained bucket is released (one allocation per redistribution).

use super::time::SimTime;

/// One queue entry: the 128-bit key (time in the high 64 bits, sequence in the low: one integer
/// comparison orders both) and the caller's event, whatever type it packs its domains into.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Entry<E> {
    key: u128,
    event: E,
}

const BUCKETS: usize = 129;

/// A priority queue of events of type `E` with monotone, unique keys.
pub struct EventQueue<E> {
    /// Bucket 0 holds the entry whose key equals `last`; bucket `i > 0` holds entries whose key
    /// first differs from `last` at bit `i - 1`.
    buckets: Vec<Vec<Entry<E>>>,
    scratch: Vec<Entry<E>>,
    last: u128,
    len: usize,
    seq: u64,
    popped: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn bucket_of(key: u128, last: u128) -> usize {
    if key == last {
        0
    } else {
        128 - (key ^ last).leading_zeros() as usize
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> EventQueue<E> {
        EventQueue {
            buckets: vec![Vec::new(); BUCKETS],
            scratch: Vec::new(),
            last: 0,
            len: 0,
            seq: 0,
            popped: 0,
        }
    }
    /// Empties the queue for a new replication, keeping its allocation.
    pub fn reset(&mut self) {
        self.buckets.iter_mut().for_each(Vec::clear);
        self.last = 0;
        self.len = 0;
        self.seq = 0;
        self.popped = 0;
    }
    /// Schedules an event and returns `true`. An event before the last one popped breaks the
    /// radix heap's one precondition: it is scheduled at the instant of that last event instead
    /// (after everything scheduled so far), so the queue stays ordered, and `push` returns
    /// `false` for the caller to record the breach. The check is one comparison the key needs
    /// anyway.
    #[inline]
    #[must_use = "an event scheduled in the past is an invariant breach the caller must record"]
    pub fn push(&mut self, time: SimTime, event: E) -> bool {
        self.seq += 1;
        let key = ((time.0 as u128) << 64) | self.seq as u128;
        let in_order = key > self.last;
        // The sequence number is unique and above the last key's, so the clamped key is too.
        let key = if in_order {
            key
        } else {
            (self.last >> 64) << 64 | self.seq as u128
        };
        self.buckets[bucket_of(key, self.last)].push(Entry { key, event });
        self.len += 1;
        in_order
    }
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.buckets[0].is_empty() {
            let i = self.buckets.iter().position(|b| !b.is_empty())?;
            std::mem::swap(&mut self.scratch, &mut self.buckets[i]);
            self.last = self
                .scratch
                .iter()
                .map(|e| e.key)
                .min()
                .unwrap_or(self.last);
            for e in self.scratch.drain(..) {
                self.buckets[bucket_of(e.key, self.last)].push(e);
            }
            // A drained high bucket can be huge; keeping every bucket's peak capacity would
            // hold memory for many times the pending events. Freeing it costs one allocation per
            // redistribution, which already moved every one of its entries.
            if self.scratch.capacity() > 4096 {
                self.scratch = Vec::new();
            }
        }
        let e = self.buckets[0].pop()?;
        self.len -= 1;
        self.popped += 1;
        Some((SimTime((e.key >> 64) as u64), e.event))
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

    /// The replication's events pack into 16 bytes, so an entry stays at 32 (a key and an
    /// event, 16-byte aligned): the queue's memory per pending event does not grow.
    #[test]
    fn an_entry_of_a_sixteen_byte_event_is_thirty_two_bytes() {
        assert_eq!(std::mem::size_of::<Entry<[u32; 4]>>(), 32);
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
            if let Some(e) = q.pop() {
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
