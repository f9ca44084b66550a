//! Devices held back by the in-flight limit (`policy.max_in_flight`), waiting for a device in
//! flight to finish.
//!
//! A device that checks in while the limit is reached is told "not now". Asking again at every
//! check-in while nothing has finished cannot change that answer, so the waiting device is not
//! re-checked then: it waits here, keyed by its next check-in. When an execution closes, the
//! waiter whose check-in comes first is woken at that check-in, as it would have been the first
//! to find the opening.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The waiting devices, by their next check-in, and how many are woken but not yet back.
#[derive(Default)]
pub struct Waitlist {
    /// `(next check-in ms, device, generation at the deferral)`; an entry whose generation the
    /// device has left is stale and skipped.
    heap: BinaryHeap<Reverse<(u64, u32, u32)>>,
    woken: u64,
}

impl Waitlist {
    pub fn push(&mut self, at: u64, d: u32, gen: u32) {
        self.heap.push(Reverse((at, d, gen)));
    }

    /// The waiter whose check-in comes first, as `(at, device, generation)`.
    pub fn pop(&mut self) -> Option<(u64, u32, u32)> {
        self.heap.pop().map(|Reverse(e)| e)
    }

    /// Replaces the first waiter by `(at, d, gen)`: one sift down, where a pop and a push would
    /// walk the heap twice (a waiter stepped past its check-ins is re-keyed this way).
    pub fn replace_top(&mut self, at: u64, d: u32, gen: u32) {
        if let Some(mut top) = self.heap.peek_mut() {
            *top = Reverse((at, d, gen));
        }
    }

    pub fn peek(&self) -> Option<(u64, u32, u32)> {
        self.heap.peek().map(|Reverse(e)| *e)
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Every waiter, emptying the list (the rollout stopped taking updates).
    pub fn drain(&mut self) -> Vec<(u64, u32, u32)> {
        let mut all: Vec<_> = std::mem::take(&mut self.heap)
            .into_vec()
            .into_iter()
            .map(|Reverse(e)| e)
            .collect();
        // In check-in order, so that the events they get are pushed in a fixed order.
        all.sort_unstable();
        all
    }

    /// Woken devices whose check-in has not come yet: each may take an opening.
    pub fn woken(&self) -> u64 {
        self.woken
    }

    pub fn wake(&mut self) {
        self.woken += 1;
    }

    pub fn back(&mut self) {
        self.woken = self.woken.saturating_sub(1);
    }
}
