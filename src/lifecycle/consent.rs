//! What a device does with an update it has downloaded, by the policy's `action_type`
//! (hawkBit action types, SPEC §1.5b): a soft update waits for the owner's `consent` (SPEC
//! §1.3b), a time-forced one until `force_after` at the latest, a forced one installs at
//! once, and a download-only one reports success with the image staged.

use super::control::Control;
use super::event::DeviceEvent;
use super::world::{DeviceEvents, World};
use crate::engine::rng::{Purpose, Stream};
use crate::engine::time::secs_to_ms;
use crate::fleet::device::{flag, Failure, Job, Phase, Reason};
use crate::scenario::raw::ActionType;

/// What the downloaded update does next.
pub(super) enum AfterDownload {
    /// It goes on to its maintenance window and install.
    Install,
    /// It waits for the owner's answer (an event is scheduled).
    AwaitConsent,
    /// Download-only: the device reports success without installing.
    Staged,
}

impl<'s, E: DeviceEvents> World<'s, E> {
    /// Decides, for device `d` whose download just verified, whether it installs now, asks
    /// its owner first or only keeps the image. Only the update has an action type: a
    /// rollback is pushed as a forced update (hawkBit assigns a rollback as a forced action).
    pub(super) fn after_download(&mut self, d: u32) -> AfterDownload {
        let dv = *self.fleet.dev(d);
        if dv.job != Job::Update {
            return AfterDownload::Install;
        }
        let policy = &self.scenario.policy;
        let force_at = match policy.action_type {
            ActionType::Forced => return AfterDownload::Install,
            ActionType::DownloadOnly => {
                self.await_report(d, None);
                return AfterDownload::Staged;
            }
            ActionType::Soft => None,
            ActionType::Timeforced => policy.force_at,
        };
        let Some(consent) = &self.scenario.populations[dv.population as usize].consent else {
            return AfterDownload::Install;
        };
        if force_at.is_some_and(|f| f <= self.now) {
            // Past the force time the update is forced: nobody is asked.
            return AfterDownload::Install;
        }
        // Two draws per downloaded image, keyed by the download's number, so that a device
        // asked again after a re-download is asked afresh.
        let key = self.key(d, Purpose::Consent);
        let k = u64::from(dv.fetches) << 1;
        let delay_ms = secs_to_ms(consent.delay.sample(&mut Stream::at(key, k)));
        let denied = Stream::at(key, k | 1).bernoulli(consent.deny);
        let answer_at = self.now.plus(delay_ms);
        // A time-forced update turns forced at `force_at`; the device learns of it at its
        // first check-in after that, and installs then unless its owner answered first.
        let forced_at = force_at.and_then(|f| self.next_check_in_at(d, f));
        let (at, granted) = match forced_at {
            Some(f) if f < answer_at => (f, true),
            _ => (answer_at, !denied),
        };
        if at == self.now && granted {
            return AfterDownload::Install;
        }
        self.hold_back(d, Reason::Consent, Phase::WaitingWindow);
        let gen = self.fleet.dev(d).gen;
        self.schedule_device(at, d, DeviceEvent::Consent { gen, granted });
        AfterDownload::AwaitConsent
    }

    /// The owner of device `d` answered (or the update turned forced, `granted`): the install
    /// goes on to its window, or the device reports the job `rejected` at its next check-in
    /// (never retried, SPEC §1.5b).
    pub fn on_consent(&mut self, ctl: &mut impl Control<E>, d: u32, gen: u32, granted: bool) {
        if self.fleet.dev(d).gen != gen {
            return;
        }
        if self.halted_for_update(ctl, d) {
            return self.stop_halted(ctl, d);
        }
        if granted {
            self.fleet.dev_mut(d).clear(flag::DEFERRED);
            return self.install_when_open(ctl, d);
        }
        self.record_failure(d, Failure::ConsentDenied);
        self.recorder.reject(d);
        self.await_report(d, Some(Failure::ConsentDenied));
    }
}
