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
//!   the waiter that checks in first is the one whose phase follows `now mod interval`: one
//!   ordered-map lookup per interval, whatever the number of waiters. When `valid_until` comes
//!   within reach of an opening, the waiter leaves the grid for an exact key.
//! - **by exact time**: any other waiter (offline, down, or just deferred), keyed by its next
//!   check-in, as a heap. When that time passes unwoken, the lifecycle places it again.
//!
//! The lifecycle decides where a waiter goes (it owns the timelines); this module holds the data.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// Waiters of one check-in interval on their session's grid: `(phase, device) → generation`.
struct Grid {
    interval: u64,
    by_phase: BTreeMap<(u64, u32), u32>,
}

/// Where a due waiter is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Exact,
    Grid { grid: usize, phase: u64 },
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
#[derive(Default)]
pub struct Waitlist {
    /// `(next check-in ms, device, generation at the deferral)`; an entry whose generation the
    /// device has left is stale and skipped.
    exact: BinaryHeap<Reverse<(u64, u32, u32)>>,
    grids: Vec<Grid>,
    /// Grid waiters by when their grid stops being exact: `(valid_until, phase, device, grid)`.
    /// An entry whose waiter has left the grid is stale and skipped.
    expiry: BinaryHeap<Reverse<(u64, u64, u32, u32)>>,
    on_grids: usize,
    woken: u64,
}

impl Waitlist {
    /// A waiter whose next check-in is `at`.
    pub fn push_exact(&mut self, at: u64, d: u32, gen: u32) {
        self.exact.push(Reverse((at, d, gen)));
    }

    /// A waiter that checks in on the grid `phase + k·interval` until `valid_until`.
    pub fn push_grid(&mut self, interval: u64, phase: u64, d: u32, gen: u32, valid_until: u64) {
        let grid = match self.grids.iter().position(|g| g.interval == interval) {
            Some(i) => i,
            None => {
                self.grids.push(Grid {
                    interval,
                    by_phase: BTreeMap::new(),
                });
                self.grids.len() - 1
            }
        };
        if self.grids[grid].by_phase.insert((phase, d), gen).is_none() {
            self.on_grids += 1;
        }
        self.expiry
            .push(Reverse((valid_until, phase, d, grid as u32)));
    }

    /// The exact-keyed waiter that comes first, as `(at, device, generation)`.
    pub fn exact_first(&self) -> Option<(u64, u32, u32)> {
        self.exact.peek().map(|Reverse(e)| *e)
    }

    pub fn pop_exact(&mut self) -> Option<(u64, u32, u32)> {
        self.exact.pop().map(|Reverse(e)| e)
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
        for (i, g) in self.grids.iter().enumerate() {
            let r = now % g.interval;
            let next =
                g.by_phase
                    .range((r, 0)..)
                    .next()
                    .map(|(&(phase, d), &gen)| (now + (phase - r), phase, d, gen))
                    .or_else(|| {
                        g.by_phase.iter().next().map(|(&(phase, d), &gen)| {
                            (now + (phase + g.interval - r), phase, d, gen)
                        })
                    });
            if let Some((at, phase, d, gen)) = next {
                if best.is_none_or(|b| (at, d) < (b.at, b.d)) {
                    best = Some(Due {
                        at,
                        d,
                        gen,
                        place: Place::Grid { grid: i, phase },
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
            Place::Grid { grid, phase } => {
                if self.grids[grid].by_phase.remove(&(phase, due.d)).is_some() {
                    self.on_grids -= 1;
                }
            }
        }
    }

    /// A grid waiter whose grid stops being exact by `by`, taken off its grid, as
    /// `(device, generation)`: it needs an exact key before any check-in at `by` is trusted.
    pub fn pop_expiring(&mut self, by: u64) -> Option<(u32, u32)> {
        while let Some(&Reverse((valid_until, phase, d, grid))) = self.expiry.peek() {
            if valid_until > by {
                return None;
            }
            self.expiry.pop();
            if let Some(gen) = self.grids[grid as usize].by_phase.remove(&(phase, d)) {
                self.on_grids -= 1;
                return Some((d, gen));
            }
        }
        None
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.on_grids == 0
    }

    /// Every waiter as `(device, generation)`, emptying the list (the rollout stopped taking
    /// updates); in device order, so that the events they get are pushed in a fixed order.
    pub fn drain(&mut self) -> Vec<(u32, u32)> {
        let mut all: Vec<(u32, u32)> = std::mem::take(&mut self.exact)
            .into_vec()
            .into_iter()
            .map(|Reverse((_, d, gen))| (d, gen))
            .collect();
        for g in &mut self.grids {
            all.extend(
                std::mem::take(&mut g.by_phase)
                    .into_iter()
                    .map(|((_, d), gen)| (d, gen)),
            );
        }
        self.expiry.clear();
        self.on_grids = 0;
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
        w.push_grid(100, 10, 1, 0, u64::MAX);
        w.push_grid(100, 90, 2, 0, u64::MAX);
        w.push_grid(1000, 500, 3, 0, u64::MAX);
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
        w.push_grid(100, 10, 1, 4, 500);
        w.push_grid(100, 20, 2, 4, 900);
        assert_eq!(w.pop_expiring(499), None);
        assert_eq!(w.pop_expiring(500), Some((1, 4)));
        assert_eq!(w.pop_expiring(600), None);
        // A waiter woken off its grid leaves a stale expiry entry behind: skipped.
        let due = w.first_due(1000).unwrap();
        assert_eq!(due.d, 2);
        w.remove(&due);
        assert!(w.is_empty());
        assert_eq!(w.pop_expiring(u64::MAX), None);
    }

    #[test]
    fn drain_returns_every_waiter_in_device_order() {
        let mut w = Waitlist::default();
        w.push_grid(100, 10, 5, 1, u64::MAX);
        w.push_exact(70, 3, 2);
        w.push_grid(50, 0, 4, 3, u64::MAX);
        assert_eq!(w.drain(), vec![(3, 2), (4, 3), (5, 1)]);
        assert!(w.is_empty());
        assert!(w.first_due(0).is_none());
    }
}
