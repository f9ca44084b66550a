//! The event queue. Events leave in `(time, sequence)` order: two events at the same instant
//! leave in the order they were scheduled. This is a guarantee the simulator relies on for
//! reproducibility; it never depends on allocation or hash order.
//!
//! Entries are 24 bytes and the heap is allocated once per replication and reused, so the event
//! loop does not allocate per event once the heap has reached its working size.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// What happens. Device events carry the device index; `aux` is an event-specific tag used to
/// discard stale events (a device's generation, an attempt number, a stage index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    CheckIn,
    DownloadDone,
    DownloadInterrupted,
    InstallStart,
    InstallDone,
    BootDone,
    Timeout,
    HarmOnset,
    Notify,
    StageReadyCheck,
    StageJudge,
    StageMaxWait,
    OperatorAct,
    WindowClose,
    Sample,
    RolloutStart,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub time: SimTime,
    pub kind: Kind,
    pub device: u32,
    pub aux: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// Time in the high 64 bits, sequence in the low: one integer comparison orders both.
    key: u128,
    kind: Kind,
    device: u32,
    aux: u32,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap; reversing gives earliest first.
        other.key.cmp(&self.key)
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A bounded priority queue of events.
pub struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
    popped: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl EventQueue {
    pub fn new() -> EventQueue {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
            popped: 0,
        }
    }
    /// Empties the queue for a new replication, keeping its allocation.
    pub fn reset(&mut self) {
        self.heap.clear();
        self.seq = 0;
        self.popped = 0;
    }
    #[inline]
    pub fn push(&mut self, time: SimTime, kind: Kind, device: u32, aux: u32) {
        self.seq += 1;
        let key = ((time.0 as u128) << 64) | self.seq as u128;
        self.heap.push(Entry {
            key,
            kind,
            device,
            aux,
        });
    }
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        let e = self.heap.pop()?;
        self.popped += 1;
        Some(Event {
            time: SimTime((e.key >> 64) as u64),
            kind: e.kind,
            device: e.device,
            aux: e.aux,
        })
    }
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| SimTime((e.key >> 64) as u64))
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    /// Events processed so far in this replication.
    pub fn popped(&self) -> u64 {
        self.popped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_events_leave_in_scheduling_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), Kind::CheckIn, 1, 0);
        q.push(SimTime(3), Kind::CheckIn, 2, 0);
        q.push(SimTime(5), Kind::CheckIn, 3, 0);
        q.push(SimTime(5), Kind::CheckIn, 0, 0);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.device).collect();
        assert_eq!(order, vec![2, 1, 3, 0]);
    }
}
