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
use crate::backend::waitlist::Due;
use crate::engine::time::SimTime;
use crate::fleet::connectivity::MAX_WINDOWS;
use crate::fleet::device::{flag, mark, Phase, Reason};

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
        // Never the same instant: the device has just checked in. Keyed exactly for now; it
        // moves onto its session's grid once that check-in has passed.
        if let Some(t) = self.next_check_in_at(d, self.now.plus(1)) {
            self.backend.waitlist_mut().push_exact(t.0, d, gen);
        }
    }

    /// Whether `(d, gen)` still waits for the in-flight limit.
    fn still_waiting(&self, d: u32, gen: u32) -> bool {
        let dv = self.fleet.dev(d);
        dv.gen == gen && dv.phase == Phase::Pending && dv.reason == Reason::InFlightLimit
    }

    /// Places waiter `(d, gen)` as of now: on its session's check-in grid when it is online,
    /// up, and nothing it knows of takes it down before the session ends; else keyed by its
    /// next check-in (dropped when there is none within the run).
    fn place_waiter(&mut self, d: u32, gen: u32) {
        let now = self.now.0;
        if now <= self.scenario.horizon.0 {
            let tl = self.timeline(d);
            let o = self.overlay(d);
            let mut ahead = *self.fleet.dev(d);
            tl.advance_to(&mut ahead, now);
            let interval = tl.profile.check_in_ms;
            if interval > 0 && ahead.has(flag::ONLINE) && !o.down_at(now) {
                // Until then its check-ins are exactly `period_start + k·interval`: no session
                // end, outage, flat battery or crash-loop stretch comes between them.
                let valid_until = ahead.period_end.min(o.steady_until(now));
                let phase = ahead.period_start % interval;
                if self
                    .backend
                    .waitlist_mut()
                    .push_grid(interval, phase, d, gen, valid_until)
                {
                    return;
                }
            }
        }
        self.key_exactly(d, gen);
    }

    /// Keys waiter `(d, gen)` by its next check-in (dropped when there is none within the run).
    fn key_exactly(&mut self, d: u32, gen: u32) {
        if let Some(t) = self.waiter_check_in_at(d) {
            self.backend.waitlist_mut().push_exact(t.0, d, gen);
        }
    }

    /// The first check-in of waiting device `d` at or after now, as its own check-ins would
    /// have run had it not been waiting (each looked ahead from the one before). Outside a down
    /// stretch that is the look-ahead from now. Inside one, a look-ahead from now would have it
    /// check in "at once" at the stretch's end, as a device asked about mid-outage does; but the
    /// device's own look-ahead ran from before the stretch and skips the polls that fall in it
    /// to the first after it, so the look-ahead starts just before the stretch began.
    fn waiter_check_in_at(&self, d: u32) -> Option<SimTime> {
        let now = self.now.0;
        let o = self.overlay(d);
        let mut from = now;
        // Back past every down stretch chained onto the one holding `now` (each window once).
        for _ in 0..=MAX_WINDOWS + 2 {
            match o.down_since(from) {
                Some(start) if start > 0 => from = start - 1,
                _ => break,
            }
        }
        let mut at = self.next_check_in_at(d, SimTime(from))?;
        // At most the check-in at `from` itself and one in the stretch come before `now`.
        for _ in 0..=MAX_WINDOWS + 2 {
            if at.0 >= now {
                return Some(at);
            }
            at = self.next_check_in_at(d, at.plus(1))?;
        }
        Some(at).filter(|t| t.0 >= now)
    }

    /// Wakes waiters while openings outnumber the woken: each at its first check-in from now,
    /// the earliest first.
    pub fn wake_waiters(&mut self) {
        let max = self.scenario.policy.max_in_flight;
        let now = self.now.0;
        loop {
            if self.backend.waitlist().is_empty() {
                return;
            }
            let open = max.saturating_sub(self.backend.in_flight());
            if self.backend.waitlist().woken() >= open {
                return;
            }
            let wl = self.backend.waitlist_mut();
            if let Some((at, d, gen)) = wl.exact_first() {
                if at < now {
                    // Its check-ins since passed while the limit held: place it again as of now.
                    wl.pop_exact();
                    if self.still_waiting(d, gen) {
                        self.place_waiter(d, gen);
                    }
                    continue;
                }
            }
            let Some(due) = wl.first_due(now) else {
                return;
            };
            if let Some((d, gen)) = wl.pop_expiring(due.at) {
                // Its grid may end before `due.at`: only an exact key says when it checks in
                // (placed again as of now, it could go back onto a grid that ends as soon).
                if self.still_waiting(d, gen) {
                    self.key_exactly(d, gen);
                }
                continue;
            }
            wl.remove(&due);
            let Due { at, d, gen, .. } = due;
            if !self.still_waiting(d, gen) {
                continue;
            }
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
        for (d, gen) in self.backend.waitlist_mut().drain() {
            if self.still_waiting(d, gen) {
                self.schedule_check_in(d, self.now);
            }
        }
    }
}
