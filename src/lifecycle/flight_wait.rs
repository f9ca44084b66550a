//! Waiting for the in-flight limit: a device that finds `max_in_flight` executions open defers
//! (reason `in_flight_limit`) onto the backend's waitlist instead of re-checking at every
//! check-in, and an execution that closes wakes the waiter whose check-in comes first.
//!
//! Nothing observes a waiting device's check-ins while the limit holds (its last contact comes
//! from its timeline, not from events), so this is the model of re-checking at every check-in
//! without the events. Two things differ, and the README says so: the deferral counts once per
//! wait, not once per re-check; and a waiter is not re-checked for its other preflight
//! conditions (battery, metered, bandwidth, windows) until it is woken, when it runs them all.
//! When the rollout stops taking updates (a halt, the window's close) every waiter is released
//! to its next check-in, where it is parked or cancelled as before.

use super::world::{DeviceEvents, World};
use crate::engine::time::SimTime;
use crate::fleet::device::{mark, Phase, Reason};

impl<'s, E: DeviceEvents> World<'s, E> {
    /// The first check-in of device `d` at or after `after` (none within the run).
    pub fn next_check_in_at(&self, d: u32, after: SimTime) -> Option<SimTime> {
        // A check-in after the horizon never happens: decide that before looking at the
        // timeline (a backoff, recharge or API change far past the horizon must not walk it).
        if after > self.scenario.horizon {
            return None;
        }
        let tl = self.timeline(d);
        let o = self.overlay(d);
        // Look ahead on a copy: the device's own timeline only advances to "now", so what the
        // backend has heard from it (`last_contact`) never comes from the future.
        let mut ahead = *self.fleet.dev(d);
        tl.next_check_in(&mut ahead, after.0, &o).map(SimTime)
    }

    /// Device `d` found the in-flight limit reached: it waits for an execution to close.
    pub(super) fn wait_for_flight(&mut self, d: u32) {
        self.hold_back(d, Reason::InFlightLimit, Phase::Pending);
        let gen = self.fleet.dev(d).gen;
        // Never the same instant: the device has just checked in.
        if let Some(t) = self.next_check_in_at(d, self.now.plus(1)) {
            self.backend.waitlist_mut().push(t.0, d, gen);
        }
    }

    /// Whether `(d, gen)` still waits for the in-flight limit.
    fn still_waiting(&self, d: u32, gen: u32) -> bool {
        let dv = self.fleet.dev(d);
        dv.gen == gen && dv.phase == Phase::Pending && dv.reason == Reason::InFlightLimit
    }

    /// Wakes waiters while openings outnumber the woken: each at its first check-in from now,
    /// the earliest first.
    pub fn wake_waiters(&mut self) {
        let max = self.scenario.policy.max_in_flight;
        loop {
            let Some((at, d, gen)) = self.backend.waitlist().peek() else {
                return;
            };
            let open = max.saturating_sub(self.backend.in_flight());
            if self.backend.waitlist().woken() >= open {
                return;
            }
            if !self.still_waiting(d, gen) {
                self.backend.waitlist_mut().pop();
                continue;
            }
            if at < self.now.0 {
                // Its check-ins since passed while the limit held: it is due at the next one.
                match self.next_check_in_at(d, self.now) {
                    Some(t) => self.backend.waitlist_mut().replace_top(t.0, d, gen),
                    None => {
                        self.backend.waitlist_mut().pop();
                    }
                }
                continue;
            }
            self.backend.waitlist_mut().pop();
            self.backend.waitlist_mut().wake();
            self.fleet.dev_mut(d).marks |= mark::WOKEN;
            self.schedule_device(SimTime(at), d, super::event::DeviceEvent::CheckIn { gen });
        }
    }

    /// A check-in of device `d`: if it was woken, it is back (whatever the check-in finds).
    #[inline]
    pub(super) fn back_from_wake(&mut self, d: u32) -> bool {
        let dv = self.fleet.dev_mut(d);
        if dv.marks & mark::WOKEN == 0 {
            return false;
        }
        dv.marks &= !mark::WOKEN;
        self.backend.waitlist_mut().back();
        true
    }

    /// The rollout no longer takes updates: every waiter goes back to its next check-in, where
    /// the halt or the close reaches it.
    pub fn release_waiters(&mut self) {
        for (_, d, gen) in self.backend.waitlist_mut().drain() {
            if self.still_waiting(d, gen) {
                self.schedule_check_in(d, self.now);
            }
        }
    }
}
