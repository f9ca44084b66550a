//! What devices do that reaches the support team (SPEC §1.8, §1.5b quarantine): background
//! tickets from healthy devices, quarantine of a device that keeps failing, and the field
//! visit that reflashes a bricked device.
//!
//! **Background tickets** are one fleet-level process, not one per device: each of the `N`
//! devices opens tickets as a Poisson process of rate `r` a day, and the superposition of `N`
//! independent Poisson processes of rate `r` is one Poisson process of rate `N·r` in which
//! each ticket comes from a device chosen uniformly at random. Devices that join later
//! (`arrivals_per_day`) are in `N` from the start: a ticket that picks a device not yet present
//! is dropped, which thins that device's process to the time it is present — still exact.
//! So a million devices cost one event per ticket, none per device. A ticket counts for the
//! stage of its device once the rollout has notified that device (a ticket about a device the
//! rollout has not touched is not held against the release), else for no stage (only the
//! fleet-wide count sees it).

use super::event::DeviceEvent;
use super::world::{DeviceEvents, World};
use crate::engine::rng::{Purpose, Stream};
use crate::engine::time::{secs_to_ms, SimTime};
use crate::fleet::device::flag;

impl<E: DeviceEvents> World<'_, E> {
    /// Draws the time of the next background ticket (`None`: none, or past the horizon).
    pub fn next_background_ticket(&mut self) -> Option<SimTime> {
        self.background.next_at().map(SimTime)
    }

    /// A background ticket opens now, from a device chosen uniformly (dropped when that device
    /// has not joined the fleet yet).
    pub fn on_background_ticket(&mut self) {
        let d = self.background.pick(self.fleet.len());
        if !self.fleet.joined(d) {
            return;
        }
        let dv = self.fleet.dev(d);
        let stage = dv.has(flag::NOTIFIED).then_some(dv.stage as usize);
        self.backend.open_background_ticket(stage, self.now.0);
    }

    /// After a failed attempt of the update: whether device `d` has failed `after_failures`
    /// times (every try of its current job so far has failed) and is quarantined now — no
    /// more retries, an item in the support queue. Its job has failed for good; its stranded
    /// reason stays `retries_exhausted`, since the retries it would have had are what it lost.
    pub(super) fn quarantine_due(&mut self, d: u32) -> bool {
        let Some(after) = self.scenario.policy.quarantine_after else {
            return false;
        };
        if (self.fleet.dev(d).attempts as u32) < after {
            return false;
        }
        self.backend.quarantine(d, self.now.0);
        true
    }

    /// Device `d` was just bricked: with `support.field_visit`, a technician reaches it after
    /// the visit's delay.
    pub(super) fn schedule_field_visit(&mut self, d: u32) {
        let Some(visit) = &self.scenario.support.field_visit else {
            return;
        };
        let delay = visit
            .delay
            .sample(&mut Stream::new(self.key(d, Purpose::FieldVisit)));
        let at = self.now.plus(secs_to_ms(delay.max(0.0)).max(1));
        // A visit after the horizon never happens (the agenda drops it).
        self.schedule_device(at, d, DeviceEvent::FieldVisit);
    }

    /// The technician reflashes bricked device `d`: it runs `rollback_to` again (or, without
    /// one, the version it ran before the install that bricked it) and is reachable again. It
    /// stays counted as bricked and harmed: the blast radius is what the rollout did.
    pub fn on_field_visit(&mut self, d: u32) {
        let dv = *self.fleet.dev(d);
        if !dv.has(flag::BRICKED) {
            return;
        }
        let v = self.field_visit_version(d);
        self.set_version(d, v);
        self.fleet.end_outage(d, self.now.0);
        let cost = self
            .scenario
            .support
            .field_visit
            .as_ref()
            .map_or(0.0, |f| f.cost);
        self.recorder.field_visit(d, v, cost);
    }

    /// The version a field visit leaves device `d` on. A bricked install never completed, so
    /// the device's recorded version is still the one it ran before it; only a device bricked
    /// while installing its rollback is recorded on the target, and goes to the one before.
    pub fn field_visit_version(&self, d: u32) -> u8 {
        let dv = self.fleet.dev(d);
        let target = self.scenario.policy.target;
        self.scenario
            .policy
            .rollback_to
            .unwrap_or(if dv.version == target {
                dv.previous_version
            } else {
                dv.version
            })
    }
}
