//! Edge fail-safes (SPEC §1.3b, §1.4b): a device that undoes a change by itself.
//!
//! - The **boot watchdog** of an A/B device (`population.watchdog = { boots, window }`) reverts
//!   an image that crashes `boots` times within `window` of its first boot. The crash loop is
//!   the one of the reachability overlay ([`CRASH_CYCLE_MS`]): from its onset the image stays up
//!   for the `availability` share of a cycle, then boot-loops for the rest, each boot lasting
//!   the release's mean `reboot_time`. So the first crash comes at onset + up, the next ones a
//!   reboot apart while the loop lasts, and the count goes on in the next cycle. The watchdog
//!   trips at the `boots`-th crash if that is within `window` of the first boot (a loop that
//!   starts later finds the image already committed, as a bootloader's boot counter is reset
//!   once the image has proven itself), and the device runs its previous slot one reboot later.
//! - The **fail-safe** of a configuration release (`fail_safe = "30m"`) reverts a device that
//!   applied it and could not reach the backend within that time. A device that has just
//!   applied a configuration tries the backend at once (it does not wait for its next poll):
//!   reachable right after the apply, it confirms the change; otherwise the confirmation is
//!   its first check-in. A `no-reconnect` defect is the case it is for; a healthy device that
//!   goes offline right after the apply and stays away longer reverts too, as a real
//!   commit-confirm does. The revert ends the no-reconnect: the device reaches the backend
//!   again.
//!
//! Either way the device runs its previous version again and reports the revert at its next
//! check-in, observed as a self-revert (failure `boot_reverted`, read by `revert_rate`); an
//! image that reverts is not retried, as an A/B boot revert is not.

use super::control::Control;
use super::event::{DeviceEvent, Revert};
use super::world::{DeviceEvents, World};
use crate::engine::time::{secs_to_ms, SimTime};
use crate::fleet::connectivity::CRASH_CYCLE_MS;
use crate::fleet::device::{flag, Failure, Job, Phase};

/// Shortest boot of a boot loop: a release with a zero `reboot_time` still takes a second.
const MIN_BOOT_MS: u64 = 1_000;

impl<E: DeviceEvents> World<'_, E> {
    /// Arms device `d`'s boot watchdog for the crash loop the image `hop` it just booted has
    /// (its effects entry says when the loop starts and how available the device stays).
    pub(super) fn arm_watchdog(&mut self, d: u32, hop: u8) {
        let sc = self.scenario;
        let dv = *self.fleet.dev(d);
        let pop = &sc.populations[dv.population as usize];
        let rel = &sc.versions[hop as usize];
        let (Some(wd), Some(fx)) = (pop.watchdog, self.fleet.effects_of(d)) else {
            return;
        };
        if !pop.ab_slots || rel.config || fx.version != hop || fx.loop_onset == u64::MAX {
            return;
        }
        let up_ms = (CRASH_CYCLE_MS as f64 * fx.availability.clamp(0.0, 1.0)) as u64;
        if up_ms >= CRASH_CYCLE_MS {
            return; // an image that is always up never crashes
        }
        let boot_ms = secs_to_ms(rel.reboot_time.mean()).max(MIN_BOOT_MS);
        let per_cycle = (CRASH_CYCLE_MS - up_ms).div_ceil(boot_ms).max(1);
        let k = wd.boots.saturating_sub(1) as u64;
        let trip = fx
            .loop_onset
            .saturating_add((k / per_cycle).saturating_mul(CRASH_CYCLE_MS))
            .saturating_add(up_ms)
            .saturating_add((k % per_cycle).saturating_mul(boot_ms));
        if trip > self.now.0.saturating_add(wd.window_ms) {
            return;
        }
        let event = DeviceEvent::SelfRevert {
            version: hop,
            installs: dv.installs,
            cause: Revert::Watchdog,
        };
        self.schedule_device(SimTime(trip.saturating_add(boot_ms)), d, event);
    }

    /// Arms the fail-safe of the configuration `hop` device `d` just applied: unless it reaches
    /// the backend within `fail_safe` (at once, or at a check-in), it reverts then.
    pub(super) fn arm_fail_safe(&mut self, d: u32, hop: u8) {
        let Some(fail_safe) = self.scenario.versions[hop as usize].fail_safe_ms else {
            return;
        };
        let (tl, o) = (self.timeline(d), self.overlay(d));
        let mut ahead = *self.fleet.dev(d);
        let deadline = self.now.0.saturating_add(fail_safe);
        let at = self.now.0 + 1;
        let contact = if tl.online_at(&mut ahead, at, &o) {
            Some(at)
        } else {
            tl.next_check_in(&mut ahead, at, &o)
        };
        if contact.is_some_and(|t| t <= deadline) {
            return;
        }
        let event = DeviceEvent::SelfRevert {
            version: hop,
            installs: self.fleet.dev(d).installs,
            cause: Revert::FailSafe,
        };
        self.schedule_device(SimTime(deadline), d, event);
    }

    /// Device `d` reverts `version` by itself (see the module docs), if it still runs the
    /// install of it the revert was armed for.
    pub fn on_self_revert(
        &mut self,
        ctl: &mut impl Control<E>,
        d: u32,
        (version, installs, cause): (u8, u8, Revert),
    ) {
        let dv = *self.fleet.dev(d);
        if dv.version != version || dv.installs != installs || dv.has(flag::BRICKED) {
            return;
        }
        match cause {
            Revert::Watchdog => self.recorder.watchdog_revert(),
            Revert::FailSafe => {
                self.recorder.failsafe_revert();
                self.end_no_reconnect(d, version);
            }
        }
        if dv.phase == Phase::Downloading {
            // The device reboots: a download of the next hop in progress stops.
            self.end_segment(ctl, d);
        }
        let previous = dv.previous_version;
        self.set_version(d, previous);
        self.record_failure(d, Failure::BootReverted);
        let dv = self.fleet.dev_mut(d);
        // The revert is not an install: the version before the latest install stays.
        dv.previous_version = previous;
        dv.set(flag::REVERTED);
        if dv.job == Job::Rollback {
            // The device left the target by itself: its rollback job looks again.
            dv.enter(Phase::Pending);
            return self.schedule_check_in(d, self.now);
        }
        dv.job = Job::Update;
        self.await_report(d, Some(Failure::BootReverted));
    }

    /// A fail-safe revert ends the `no-reconnect` of `version` that struck: the device can
    /// reach the backend again.
    fn end_no_reconnect(&mut self, d: u32, version: u8) {
        let now = self.now.0;
        if self
            .fleet
            .effects_of(d)
            .is_some_and(|fx| fx.version == version && fx.down_from <= now && now < fx.down_until)
        {
            self.fleet.effects_mut(d, version).down_until = now;
        }
    }
}
