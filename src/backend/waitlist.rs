//! Devices held back by the in-flight limit (`policy.max_in_flight`), waiting for a device in
//! flight to finish.
//!
//! A device that checks in while the limit is reached is told "not now". Asking again at every
//! check-in while nothing has finished cannot change that answer, so the waiting device is not
//! re-checked then: it waits here. When an execution closes, the waiter whose check-in comes
//! first is woken at that check-in, as it would have been the first to find the opening.
//!
//! Finding that waiter must not step past every check-in each waiter makes while it waits (a
//! million-device rollout has hundreds of thousands of waiters checking in every hour). So a
//! waiter is kept in one of two places:
//! - **on a grid**: a device in the middle of an online session, with nothing planned to take
//!   it down before `valid_until`, checks in exactly on its session's grid `start + k·interval`
//!   until then. Its next check-in after any `now` is `now + ((phase − now) mod interval)`, so
//!   the waiter that checks in first is the one whose phase follows `now mod interval`: a
//!   bitmap search over phase buckets per interval, whatever the number of waiters. When
//!   `valid_until` comes within reach of an opening, the waiter leaves the grid for an exact
//!   key.
//! - **by exact time**: any other waiter (offline, down, or just deferred), keyed by its next
//!   check-in, as a heap. When that time passes unwoken, the lifecycle places it again.
//!
//! The lifecycle decides where a waiter goes (it owns the timelines); this module holds the data.

use crate::engine::quad_heap::QuadHeap;

/// No node: the end of a bucket's list, or of the free list.
const NIL: u32 = u32::MAX;

/// No grid: a free node.
const FREE: u8 = u8::MAX;

/// A grid waiter: its phase on its grid, who it is, the next node of its bucket (or of the
/// free list), and the second its grid stops being exact, rounded down (an expiry entry that
/// no longer matches it was written for an earlier waiter of the node). 20 bytes: the
/// waitlist of a million-device rollout holds hundreds of thousands.
#[derive(Clone, Copy)]
struct Node {
    phase: u32,
    d: u32,
    gen: u32,
    next: u32,
    until_s: u32,
}

/// Waiters of one check-in interval on their session's grid, bucketed by phase: bucket `b`
/// holds the phases `[b << shift, (b + 1) << shift)` as an unordered list of nodes, and a
/// two-level bitmap says which buckets hold any. The buckets double whenever the waiters
/// outnumber them twice, so a bucket holds about one waiter and the first due one is a bitmap
/// search and a short list away; nothing allocates per waiter once the node pool has grown.
struct Grid {
    interval: u64,
    shift: u32,
    heads: Vec<u32>,
    /// Bit `b`: bucket `b` is not empty.
    bits: Vec<u64>,
    /// Bit `w`: word `w` of `bits` is not zero.
    summary: Vec<u64>,
    len: usize,
}

impl Grid {
    /// A grid of `interval` with 64 buckets or so to start with.
    fn new(interval: u64) -> Grid {
        let shift = (64 - interval.leading_zeros()).saturating_sub(6);
        let mut g = Grid {
            interval,
            shift,
            heads: Vec::new(),
            bits: Vec::new(),
            summary: Vec::new(),
            len: 0,
        };
        g.size_buckets();
        g
    }

    fn size_buckets(&mut self) {
        let n = (((self.interval - 1) >> self.shift) + 1) as usize;
        self.heads.clear();
        self.heads.resize(n, NIL);
        self.bits.clear();
        self.bits.resize(n.div_ceil(64), 0);
        self.summary.clear();
        self.summary.resize(n.div_ceil(64 * 64), 0);
    }

    fn bucket(&self, phase: u32) -> usize {
        (phase >> self.shift) as usize
    }

    fn link(&mut self, nodes: &mut [Node], i: u32) {
        let b = self.bucket(nodes[i as usize].phase);
        nodes[i as usize].next = self.heads[b];
        self.heads[b] = i;
        self.bits[b / 64] |= 1 << (b % 64);
        self.summary[b / 4096] |= 1 << ((b / 64) % 64);
    }

    fn unlink(&mut self, nodes: &mut [Node], i: u32) {
        let b = self.bucket(nodes[i as usize].phase);
        let next = nodes[i as usize].next;
        if self.heads[b] == i {
            self.heads[b] = next;
        } else {
            let mut at = self.heads[b];
            while nodes[at as usize].next != i {
                at = nodes[at as usize].next;
            }
            nodes[at as usize].next = next;
        }
        if self.heads[b] == NIL {
            self.bits[b / 64] &= !(1 << (b % 64));
            if self.bits[b / 64] == 0 {
                self.summary[b / 4096] &= !(1 << ((b / 64) % 64));
            }
        }
        self.len -= 1;
    }

    fn insert(&mut self, nodes: &mut [Node], i: u32) {
        self.len += 1;
        if self.len > 2 * self.heads.len() && self.shift > 0 {
            // Twice the buckets: collect every node and link it again.
            let mut all = Vec::with_capacity(self.len);
            for &h in &self.heads {
                let mut at = h;
                while at != NIL {
                    all.push(at);
                    at = nodes[at as usize].next;
                }
            }
            self.shift -= 1;
            self.size_buckets();
            for j in all {
                self.link(nodes, j);
            }
        }
        self.link(nodes, i);
    }

    /// The first non-empty bucket at or after `b`, if any.
    fn next_bucket(&self, b: usize) -> Option<usize> {
        let w = b / 64;
        if w >= self.bits.len() {
            return None;
        }
        let here = self.bits[w] & (!0u64 << (b % 64));
        if here != 0 {
            return Some(w * 64 + here.trailing_zeros() as usize);
        }
        // The next non-zero word after `w`, through the summary.
        let w = w + 1;
        let mut s = w / 64;
        let mut mask = !0u64 << (w % 64);
        while s < self.summary.len() {
            let m = self.summary[s] & mask;
            if m != 0 {
                let w = s * 64 + m.trailing_zeros() as usize;
                return Some(w * 64 + self.bits[w].trailing_zeros() as usize);
            }
            s += 1;
            mask = !0;
        }
        None
    }

    /// The node of bucket `b` with the lowest `(phase, device)` among phases at or after `r`.
    fn lowest_in(&self, nodes: &[Node], b: usize, r: u32) -> Option<u32> {
        let mut best: Option<u32> = None;
        let mut at = self.heads[b];
        while at != NIL {
            let n = &nodes[at as usize];
            if n.phase >= r
                && best.is_none_or(|x| {
                    let x = &nodes[x as usize];
                    (n.phase, n.d) < (x.phase, x.d)
                })
            {
                best = Some(at);
            }
            at = n.next;
        }
        best
    }

    /// The node whose phase comes first at or after `r`, wrapping around the interval.
    fn first_from(&self, nodes: &[Node], r: u32) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let b = self.bucket(r);
        if let Some(i) = self.lowest_in(nodes, b, r) {
            return Some(i);
        }
        if let Some(next) = self.next_bucket(b + 1) {
            return self.lowest_in(nodes, next, 0);
        }
        let first = self.next_bucket(0)?;
        self.lowest_in(nodes, first, 0)
    }
}

/// Where a due waiter is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Exact,
    Grid { node: u32 },
}

/// The waiter whose check-in comes first: when, which device, the generation it waits with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub at: u64,
    pub d: u32,
    pub gen: u32,
    pub place: Place,
}

/// The waiting devices and how many are woken but not yet back.
pub struct Waitlist {
    /// `(next check-in ms, device, generation at the deferral)`; an entry whose generation the
    /// device has left is stale and skipped.
    exact: QuadHeap<(u64, u32, u32)>,
    grids: Vec<Grid>,
    /// The grid waiters' nodes, shared by every grid, and each one's grid (`FREE`: free; the
    /// free ones are chained from `free`).
    nodes: Vec<Node>,
    grid_of: Vec<u8>,
    free: u32,
    /// Grid waiters by the second their grid stops being exact, rounded down, as
    /// `until_s << 32 | node`. An entry whose node has since been freed is stale and skipped;
    /// one whose node was reused by a waiter of the same second, or whose second began just
    /// before the grid's end, has its waiter keyed exactly a little early, which is only work:
    /// the exact key is the same check-in.
    expiry: QuadHeap<u64>,
    woken: u64,
}

impl Default for Waitlist {
    fn default() -> Waitlist {
        Waitlist {
            exact: QuadHeap::new(),
            grids: Vec::new(),
            nodes: Vec::new(),
            grid_of: Vec::new(),
            free: NIL,
            expiry: QuadHeap::new(),
            woken: 0,
        }
    }
}

impl Waitlist {
    /// A waiter whose next check-in is `at`.
    pub fn push_exact(&mut self, at: u64, d: u32, gen: u32) {
        self.exact.push((at, d, gen));
    }

    /// A waiter that checks in on the grid `phase + k·interval` until `valid_until`. Refused
    /// (false: key it exactly) for an interval of 2³² ms or more, or past 254 intervals.
    #[must_use]
    pub fn push_grid(
        &mut self,
        interval: u64,
        phase: u64,
        d: u32,
        gen: u32,
        valid_until: u64,
    ) -> bool {
        if interval > u64::from(u32::MAX) || phase >= interval {
            return false;
        }
        let grid = match self.grids.iter().position(|g| g.interval == interval) {
            Some(i) => i,
            None if self.grids.len() < usize::from(FREE) => {
                self.grids.push(Grid::new(interval));
                self.grids.len() - 1
            }
            None => return false,
        };
        let until_s = u32::try_from(valid_until / 1000).unwrap_or(u32::MAX);
        let node = Node {
            phase: phase as u32,
            d,
            gen,
            next: NIL,
            until_s,
        };
        let i = if self.free != NIL {
            let i = self.free;
            self.free = self.nodes[i as usize].next;
            self.nodes[i as usize] = node;
            self.grid_of[i as usize] = grid as u8;
            i
        } else {
            self.nodes.push(node);
            self.grid_of.push(grid as u8);
            (self.nodes.len() - 1) as u32
        };
        self.grids[grid].insert(&mut self.nodes, i);
        self.expiry.push(u64::from(until_s) << 32 | u64::from(i));
        true
    }

    /// Takes grid node `i` off its grid and frees it, returning `(device, generation)`.
    fn take_node(&mut self, i: u32) -> (u32, u32) {
        let n = self.nodes[i as usize];
        let grid = self.grid_of[i as usize];
        self.grids[usize::from(grid)].unlink(&mut self.nodes, i);
        self.grid_of[i as usize] = FREE;
        self.nodes[i as usize].next = self.free;
        self.free = i;
        (n.d, n.gen)
    }

    /// The exact-keyed waiter that comes first, as `(at, device, generation)`.
    pub fn exact_first(&self) -> Option<(u64, u32, u32)> {
        self.exact.peek().copied()
    }

    pub fn pop_exact(&mut self) -> Option<(u64, u32, u32)> {
        self.exact.pop()
    }

    /// The waiter whose check-in at or after `now` comes first (ties: the lower device), given
    /// that no exact key is before `now` and no grid waiter is past its `valid_until`.
    pub fn first_due(&self, now: u64) -> Option<Due> {
        let mut best = self.exact_first().map(|(at, d, gen)| Due {
            at,
            d,
            gen,
            place: Place::Exact,
        });
        for g in &self.grids {
            let r = (now % g.interval) as u32;
            if let Some(i) = g.first_from(&self.nodes, r) {
                let n = &self.nodes[i as usize];
                let ahead = if n.phase >= r {
                    u64::from(n.phase - r)
                } else {
                    u64::from(n.phase) + g.interval - u64::from(r)
                };
                let at = now + ahead;
                if best.is_none_or(|b| (at, n.d) < (b.at, b.d)) {
                    best = Some(Due {
                        at,
                        d: n.d,
                        gen: n.gen,
                        place: Place::Grid { node: i },
                    });
                }
            }
        }
        best
    }

    /// Takes `due` off the list.
    pub fn remove(&mut self, due: &Due) {
        match due.place {
            Place::Exact => {
                self.exact.pop();
            }
            Place::Grid { node } => {
                self.take_node(node);
            }
        }
    }

    /// A grid waiter whose grid stops being exact by `by`, taken off its grid, as
    /// `(device, generation)`: it needs an exact key before any check-in at `by` is trusted.
    pub fn pop_expiring(&mut self, by: u64) -> Option<(u32, u32)> {
        while let Some(&key) = self.expiry.peek() {
            let (until_s, i) = ((key >> 32) as u32, key as u32);
            if u64::from(until_s) * 1000 > by {
                return None;
            }
            self.expiry.pop();
            if self.grid_of[i as usize] != FREE && self.nodes[i as usize].until_s == until_s {
                return Some(self.take_node(i));
            }
        }
        None
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.grids.iter().all(|g| g.len == 0)
    }

    /// Every waiter as `(device, generation)`, emptying the list (the rollout stopped taking
    /// updates); in device order, so that the events they get are pushed in a fixed order.
    pub fn drain(&mut self) -> Vec<(u32, u32)> {
        // Everything but the woken count starts over.
        let old = std::mem::replace(
            self,
            Waitlist {
                woken: self.woken,
                ..Waitlist::default()
            },
        );
        let mut all: Vec<(u32, u32)> = old
            .exact
            .into_vec()
            .into_iter()
            .map(|(_, d, gen)| (d, gen))
            .collect();
        all.extend(
            old.nodes
                .iter()
                .zip(&old.grid_of)
                .filter(|(_, &g)| g != FREE)
                .map(|(n, _)| (n.d, n.gen)),
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_due_follows_now_around_each_grid() {
        let mut w = Waitlist::default();
        // Interval 100: phases 10 and 90; interval 1000: phase 500.
        assert!(w.push_grid(100, 10, 1, 0, u64::MAX));
        assert!(w.push_grid(100, 90, 2, 0, u64::MAX));
        assert!(w.push_grid(1000, 500, 3, 0, u64::MAX));
        // At 1020 (r = 20 on the 100 grid): device 2 at 1090 comes before device 1 at 1110 and
        // device 3 at 1500.
        let due = w.first_due(1020).unwrap();
        assert_eq!((due.at, due.d), (1090, 2));
        // At 1095 the 100 grid wraps: device 1 at 1110.
        let due = w.first_due(1095).unwrap();
        assert_eq!((due.at, due.d), (1110, 1));
        // A grid tick at `now` itself is due at `now`.
        assert_eq!(w.first_due(1110).unwrap().at, 1110);
        // An exact key before every grid tick wins; a tie goes to the lower device.
        w.push_exact(1100, 7, 0);
        assert_eq!(w.first_due(1095).unwrap().d, 7);
        w.push_exact(1110, 0, 0);
        w.pop_exact();
        w.pop_exact();
        w.push_exact(1110, 0, 0);
        assert_eq!(w.first_due(1095).unwrap().d, 0);
    }

    #[test]
    fn expiring_waiters_leave_their_grid_once() {
        let mut w = Waitlist::default();
        // Grids end at 5.5 s and 9 s; expiry goes by the second, rounded down.
        assert!(w.push_grid(100, 10, 1, 4, 5_500));
        assert!(w.push_grid(100, 20, 2, 4, 9_000));
        assert_eq!(w.pop_expiring(4_999), None);
        assert_eq!(w.pop_expiring(5_000), Some((1, 4)));
        assert_eq!(w.pop_expiring(8_999), None);
        // A waiter woken off its grid leaves a stale expiry entry behind: skipped.
        let due = w.first_due(1_000).unwrap();
        assert_eq!(due.d, 2);
        w.remove(&due);
        assert!(w.is_empty());
        assert_eq!(w.pop_expiring(u64::MAX), None);
    }

    #[test]
    fn drain_returns_every_waiter_in_device_order() {
        let mut w = Waitlist::default();
        assert!(w.push_grid(100, 10, 5, 1, u64::MAX));
        w.push_exact(70, 3, 2);
        assert!(w.push_grid(50, 0, 4, 3, u64::MAX));
        assert_eq!(w.drain(), vec![(3, 2), (4, 3), (5, 1)]);
        assert!(w.is_empty());
        assert!(w.first_due(0).is_none());
    }

    /// Random pushes, wakes and expiries against a plain list searched in full: the buckets
    /// (regrown several times here) find the same first waiter every time.
    #[test]
    fn the_buckets_agree_with_a_full_search() {
        let mut w = Waitlist::default();
        // (interval, phase, device, generation, valid_until) of every waiter on a grid.
        let mut all: Vec<(u64, u64, u32, u32, u64)> = Vec::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut now = 0;
        for step in 0..20_000u32 {
            now += next(50);
            if next(3) > 0 {
                let interval = [3_600_000, 7_200_000, 97][next(3) as usize];
                let phase = next(interval);
                let until = now + next(10_000_000);
                assert!(w.push_grid(interval, phase, step, step % 7, until));
                all.push((interval, phase, step, step % 7, until));
            }
            if let Some((d, gen)) = w.pop_expiring(now) {
                let k = all.iter().position(|e| e.2 == d && e.3 == gen).unwrap();
                assert!(all[k].4 / 1000 * 1000 <= now);
                all.swap_remove(k);
                continue;
            }
            assert!(all.iter().all(|e| e.4 > now), "an expired waiter is left");
            let want = all
                .iter()
                .map(|&(i, p, d, _, _)| (now + (p + i - now % i) % i, d))
                .min();
            let due = w.first_due(now);
            assert_eq!(due.map(|u| (u.at, u.d)), want, "step {step}");
            if let Some(due) = due.filter(|_| next(2) == 0) {
                w.remove(&due);
                all.retain(|e| e.2 != due.d);
            }
        }
        assert_eq!(w.drain().len(), all.len());
    }
}
