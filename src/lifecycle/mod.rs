//! The device lifecycle (SPEC §1.3–§1.4): learning of a job at a check-in, preflight checks,
//! download through the backend's slots and shared egress, install, reboot, boot with the
//! release's true defects, and reporting the result at the next check-in.

mod consent;
pub mod control;
pub mod event;
mod flight_wait;
mod power_loss;
mod self_revert;
pub mod support;
pub mod world;

use crate::engine::rng::{Purpose, Stream};
use crate::engine::time::{secs_to_ms, SimTime};
use crate::fault::Verification;
use crate::fleet::device::{flag, mark, Failure, Job, Phase, Reason, Reported, NO_EFFECTS};
use crate::scenario::maintenance::{self, AppliesTo, Maintenance, Zone};
use crate::scenario::model::RetryKind;
use crate::scenario::raw::{ActionType, Effect, Metered, SkipMigrations};
use consent::AfterDownload;
use control::Control;
use event::DeviceEvent;
use world::{DeviceEvents, World};

impl<'s, E: DeviceEvents> World<'s, E> {
    /// Handles one event of device `d`.
    pub fn on_event(&mut self, ctl: &mut impl Control<E>, d: u32, event: DeviceEvent) {
        match event {
            DeviceEvent::CheckIn { gen } => self.on_check_in(ctl, d, gen),
            DeviceEvent::DownloadDone { gen } => self.on_download_done(ctl, d, gen),
            DeviceEvent::DownloadInterrupted { gen } => self.on_download_interrupted(ctl, d, gen),
            DeviceEvent::InstallStart { gen } => self.on_install_start(ctl, d, gen),
            DeviceEvent::InstallDone { gen } => self.on_install_done(d, gen),
            DeviceEvent::BootDone { gen } => self.on_boot_done(d, gen),
            DeviceEvent::Timeout { job, execution } => self.on_timeout(ctl, d, job, execution),
            DeviceEvent::HarmOnset { version } => self.on_harm_onset(d, version),
            DeviceEvent::ReportArrive { job, failure } => self.receive_report(ctl, d, job, failure),
            DeviceEvent::SelfRevert {
                version,
                installs,
                cause,
            } => self.on_self_revert(ctl, d, (version, installs, cause)),
            DeviceEvent::FieldVisit => self.on_field_visit(d),
            DeviceEvent::Consent { gen, granted } => self.on_consent(ctl, d, gen, granted),
        }
    }

    /// Schedules device `d`'s next check-in at or after `after` (none if it never comes back).
    pub fn schedule_check_in(&mut self, d: u32, after: SimTime) {
        if let Some(t) = self.next_check_in_at(d, after) {
            let gen = self.fleet.dev(d).gen;
            self.schedule_device(t, d, DeviceEvent::CheckIn { gen });
        }
    }

    pub fn on_check_in(&mut self, ctl: &mut impl Control<E>, d: u32, gen: u32) {
        let woken = self.back_from_wake(d);
        if self.fleet.dev(d).gen != gen {
            if woken {
                self.wake_waiters();
            }
            return;
        }
        let tl = self.timeline(d);
        tl.advance_to(self.fleet.dev_mut(d), self.now.0);
        match self.fleet.dev(d).phase {
            Phase::Pending => self.learn_job(ctl, d),
            Phase::Interrupted if self.halted_for_update(ctl, d) => self.stop_halted(ctl, d),
            Phase::Interrupted => self.request_slot(d),
            Phase::Reporting => self.report(ctl, d),
            _ => {}
        }
        if woken {
            // Whatever it found, the opening it was woken for may still be free.
            self.wake_waiters();
        }
    }

    /// Whether device `d` is working on an update the rollout has since halted (SPEC §1.5: a
    /// device offline at the halt must not install the halted release when it comes back).
    fn halted_for_update(&self, ctl: &impl Control<E>, d: u32) -> bool {
        self.fleet.dev(d).job == Job::Update && !ctl.stance().running
    }

    /// Ends a halted update on the device: parked while paused, cancelled otherwise.
    fn stop_halted(&mut self, ctl: &mut impl Control<E>, d: u32) {
        self.leave_in_flight(ctl, d);
        self.fleet.close_download(d);
        if ctl.stance().paused {
            self.fleet.dev_mut(d).enter(Phase::Parked);
            self.backend.park(d);
        } else {
            self.cancel(ctl, d);
        }
    }

    /// The device has just learned (or re-checks) its job at a check-in.
    pub fn learn_job(&mut self, ctl: &mut impl Control<E>, d: u32) {
        match self.fleet.dev(d).job {
            Job::Update => self.learn_update(ctl, d),
            Job::Rollback => self.learn_rollback(ctl, d),
            Job::None => self.fleet.dev_mut(d).enter(Phase::Idle),
        }
    }

    fn learn_update(&mut self, ctl: &mut impl Control<E>, d: u32) {
        if !ctl.stance().accepting_updates() {
            if ctl.stance().paused {
                self.fleet.dev_mut(d).enter(Phase::Parked);
                self.backend.park(d);
            } else {
                self.cancel(ctl, d);
            }
            return;
        }
        let target = self.scenario.policy.target;
        let version = self.fleet.dev(d).version;
        if version >= target {
            if self.fleet.dev(d).has(flag::STARTED) {
                // Re-notified after a time-out whose result was lost: confirm the success.
                return self.confirm_on_target(d);
            }
            self.fleet.dev_mut(d).enter(Phase::Idle);
            return;
        }
        // A notification window on the device's clock: the device takes the job only inside it
        // (one on UTC holds back the controller's notifications instead).
        match self.window_wait_ms(d, |w| {
            w.applies_to == AppliesTo::Notify && w.zone == Zone::Device
        }) {
            0 => {}
            u64::MAX => return self.strand(d, Reason::Maintenance),
            wait => return self.defer(d, Reason::Maintenance, self.now.plus(wait)),
        }
        let (hop, hops) = self.first_hop[version as usize];
        if hop == u8::MAX
            || (hops > 1 && self.scenario.policy.skip_migrations == SkipMigrations::Block)
        {
            self.reject(ctl, d, Reason::BlockedMigration);
            return;
        }
        self.try_start(ctl, d, hop);
    }

    fn learn_rollback(&mut self, ctl: &mut impl Control<E>, d: u32) {
        let dv = *self.fleet.dev(d);
        let to = self.rollback_target(d);
        if dv.version != self.scenario.policy.target || dv.version <= to || dv.has(flag::BRICKED) {
            self.fleet.dev_mut(d).job = Job::None;
            self.fleet.dev_mut(d).enter(Phase::Idle);
            return;
        }
        if crate::scenario::versions::downgrade_refused(&self.scenario.versions, dv.version, to) {
            self.fleet.dev_mut(d).set(flag::REFUSED);
            self.fleet.dev_mut(d).job = Job::None;
            self.fleet.dev_mut(d).enter(Phase::Idle);
            return;
        }
        self.try_start(ctl, d, to);
    }

    /// The version device `d` goes back to: `rollback_to`, or the version it came from.
    pub fn rollback_target(&self, d: u32) -> u8 {
        self.scenario
            .policy
            .rollback_to
            .unwrap_or(self.fleet.dev(d).previous_version)
    }

    /// The rollout no longer wants this device: its pending job ends here.
    pub fn cancel(&mut self, ctl: &mut impl Control<E>, d: u32) {
        let dv = self.fleet.dev_mut(d);
        if !(ctl.stance().window_closed && dv.has(flag::DEFERRED)) {
            dv.reason = Reason::Cancelled;
        }
        dv.job = Job::None;
        dv.enter(Phase::Idle);
        if dv.has(flag::ROLLBACK_DUE) && ctl.stance().rolling_back {
            self.begin_rollback_job(d);
        }
    }

    /// The window closed with `end_behavior = "force-cancel"` (AWS `FORCE_CANCEL`): an update
    /// under way on device `d` is cancelled on the backend's side, unless its install has
    /// begun (that completes and reports). A download stops and its slot, in-flight place and
    /// disruption-budget place go to the next device. Returns whether it was cancelled.
    pub fn force_cancel(&mut self, ctl: &mut impl Control<E>, d: u32) -> bool {
        let dv = *self.fleet.dev(d);
        let under_way = matches!(
            dv.phase,
            Phase::QueuedForSlot | Phase::Downloading | Phase::Interrupted | Phase::WaitingWindow
        );
        if dv.job != Job::Update || !under_way {
            return false;
        }
        if dv.phase == Phase::Downloading {
            self.end_segment(ctl, d);
        }
        self.release_budget(d);
        self.leave_in_flight(ctl, d);
        self.fleet.close_download(d);
        let dv = self.fleet.dev_mut(d);
        dv.clear(flag::DEFERRED);
        dv.reason = Reason::Cancelled;
        dv.job = Job::None;
        dv.enter(Phase::Idle);
        true
    }

    /// Device `d` gets the rollback job (unless it is bricked): it learns of it at once.
    pub fn begin_rollback_job(&mut self, d: u32) {
        let dv = self.fleet.dev_mut(d);
        dv.clear(flag::ROLLBACK_DUE);
        if dv.has(flag::BRICKED) {
            return;
        }
        dv.job = Job::Rollback;
        dv.reset_tries();
        // A deferral of the update (a maintenance window it waited for) is not the rollback's.
        dv.clear(flag::DEFERRED);
        dv.enter(Phase::Pending);
        self.schedule_check_in(d, self.now);
    }

    /// The backend now knows a result of device `d`'s update (`failure`: `None` for success).
    fn record_result(&mut self, d: u32, failure: Option<Failure>) {
        let dv = self.fleet.dev_mut(d);
        let old = dv.reported;
        let new = match failure {
            None => Reported::Success,
            Some(Failure::Timeout) => Reported::TimedOut,
            Some(Failure::SignatureRejected) => Reported::RejectedImage,
            // The owner declined: a refusal of the job, not a failed attempt of the release.
            Some(Failure::ConsentDenied) => Reported::RejectedJob,
            Some(_) => Reported::Failure,
        };
        dv.reported = new;
        // revert_rate counts devices, like its denominator.
        let revert =
            failure == Some(Failure::BootReverted) && dv.marks & mark::REVERT_REPORTED == 0;
        if revert {
            dv.marks |= mark::REVERT_REPORTED;
        }
        let stage = dv.stage;
        self.backend.record_result(stage, old, new, revert);
    }

    /// An install of the update starts while the rollout is halted (since `halted_since`):
    /// that is an invariant breach unless the device's download was under way at the halt
    /// (SPEC §1.5: devices in flight finish).
    #[cold]
    fn check_halted_install(&mut self, d: u32, halted_since: Option<SimTime>) {
        let dv = *self.fleet.dev(d);
        let since = halted_since.unwrap_or(SimTime::ZERO);
        // A download that began at the very instant of the halt counts as under way: which of
        // two same-instant events came first is not kept per device. An install with no
        // download state at all has no download that was under way.
        let label = self.scenario.version_label(dv.installing);
        match self.fleet.download(d).map(|dl| dl.segment_start) {
            Some(began) if began <= since.0 => {}
            Some(began) => self.record_breach(format!(
                "device {d} starts installing {label} of the update the rollout halted at {since}, though its download began after the halt ({})",
                SimTime(began)
            )),
            None => self.record_breach(format!(
                "device {d} starts installing {label} of the update the rollout halted at {since} with no download of it under way"
            )),
        }
    }

    /// Device `d` refuses its job before starting it, for `reason` (incompatible API, blocked
    /// migration, storage): stranded, and for the update an execution outcome the backend hears
    /// at once (AWS `REJECTED`: the device answers the notification it is online for), so
    /// that `rejected_rate` and `any_failure_rate` see it.
    fn reject(&mut self, ctl: &mut impl Control<E>, d: u32, reason: Reason) {
        self.strand(d, reason);
        let dv = self.fleet.dev_mut(d);
        if dv.job != Job::Update {
            return;
        }
        let (old, stage) = (dv.reported, dv.stage);
        dv.reported = Reported::RejectedJob;
        self.recorder.reject(d);
        self.backend
            .record_result(stage, old, Reported::RejectedJob, false);
        ctl.on_result(self, d);
    }

    /// A check held device `d` back for `reason`: counted, and the device moves to `phase`.
    fn hold_back(&mut self, d: u32, reason: Reason, phase: Phase) {
        self.recorder.defer(reason);
        let dv = self.fleet.dev_mut(d);
        dv.set(flag::DEFERRED);
        dv.reason = reason;
        dv.enter(phase);
    }

    /// A check the device can never pass: it is stranded for `reason`.
    fn strand(&mut self, d: u32, reason: Reason) {
        self.hold_back(d, reason, Phase::Idle);
    }

    /// A check the device may pass later: it re-checks at its first check-in after `not_before`.
    fn defer(&mut self, d: u32, reason: Reason, not_before: SimTime) {
        self.hold_back(d, reason, Phase::Pending);
        // Never the same instant: a check-in that defers to itself would loop.
        self.schedule_check_in(d, not_before.max(self.now.plus(1)));
    }

    /// Preflight checks (SPEC §1.5 `preflight`, `requires_api`), then the start of an attempt.
    fn try_start(&mut self, ctl: &mut impl Control<E>, d: u32, hop: u8) {
        let sc = self.scenario;
        let rel = &sc.versions[hop as usize];
        let dv = *self.fleet.dev(d);
        let pop = &sc.populations[dv.population as usize];
        let pf = &sc.policy.preflight;
        if let Some(required) = rel.requires_api {
            if sc.backend.api_at(self.now) < required {
                match sc.backend.next_api_change_after(self.now) {
                    Some(t) => self.defer(d, Reason::IncompatibleApi, t),
                    None => self.reject(ctl, d, Reason::IncompatibleApi),
                }
                return;
            }
        }
        let storage = pop
            .storage_free_mb
            .sample(&mut Stream::new(self.key(d, Purpose::Storage)));
        if storage < pf.min_storage_mb.max(rel.download_mb(dv.version)) {
            self.reject(ctl, d, Reason::Storage);
            return;
        }
        if sc.power[pop.power].battery && self.battery_level(d, self.now) < pf.min_battery {
            match self.next_recharge(d, self.now) {
                Some(t) => self.defer(d, Reason::Battery, t),
                None => self.strand(d, Reason::Battery),
            }
            return;
        }
        if sc.connectivity[pop.connectivity].metered {
            match pf.metered {
                Metered::Deny => return self.strand(d, Reason::Metered),
                Metered::OffPeak => {
                    let wait = pf.off_peak.wait_ms(self.local_ms_of_day(d, self.now));
                    if wait > 0 {
                        return self.defer(d, Reason::Metered, self.now.plus(wait));
                    }
                }
                Metered::Allow => {}
            }
        }
        let tl = self.timeline(d);
        if tl.session_bandwidth(self.fleet.dev(d), self.key(d, Purpose::Bandwidth))
            < pf.min_bandwidth_kbps
        {
            let o = self.overlay(d);
            let next = tl
                .next_session(self.fleet.dev_mut(d), self.now.0, &o)
                .unwrap_or(u64::MAX);
            return self.defer(d, Reason::Bandwidth, SimTime(next));
        }
        if self.fleet.dev(d).job == Job::Update
            && self.backend.in_flight() >= sc.policy.max_in_flight
        {
            return self.wait_for_flight(d);
        }
        self.start_attempt(d, hop);
    }

    fn start_attempt(&mut self, d: u32, hop: u8) {
        let dv = self.fleet.dev_mut(d);
        dv.installing = hop;
        // Every attempt tries the delta again: a fallback belongs to the attempt it happened in.
        dv.marks &= !mark::FULL_IMAGE;
        let first_start = dv.job == Job::Update && !dv.has(flag::STARTED);
        if dv.job == Job::Update {
            dv.set(flag::STARTED);
        }
        self.begin_execution(d);
        if first_start {
            self.recorder.start_update();
            let stage = self.fleet.dev(d).stage;
            self.backend.record_started(d, stage);
        }
        self.request_slot(d);
    }

    /// A new execution of the device's job begins on the backend: a new attempt number and
    /// execution number, the device in flight, and its in-progress time-out armed.
    fn begin_execution(&mut self, d: u32) {
        let dv = self.fleet.dev_mut(d);
        dv.attempts = dv.attempts.saturating_add(1);
        dv.execution = dv.execution.wrapping_add(1);
        // Whatever deferred it before, the device is past its preflight now.
        dv.clear(flag::DEFERRED);
        // A device whose last result never reached the backend is still counted in flight.
        let newly_in_flight = !dv.in_flight;
        dv.in_flight = true;
        // The time-out belongs to this execution of this job. The execution number changes
        // only when a new attempt starts, not when the device moves on by itself: a device
        // whose result report was lost still holds its execution, and its time-out still
        // ends it on the backend's side.
        let (job, execution) = (dv.job, dv.execution);
        if newly_in_flight {
            let in_flight = self.backend.enter_flight();
            self.recorder.in_flight(in_flight);
        }
        if let Some(timeout) = self.scenario.policy.timeout_ms {
            self.schedule_device(
                self.now.plus(timeout),
                d,
                DeviceEvent::Timeout { job, execution },
            );
        }
    }

    fn request_slot(&mut self, d: u32) {
        // First come, first served: a free slot goes to the queue before a newcomer.
        if self.backend.slot_free() {
            self.begin_download(d);
        } else {
            let dv = self.fleet.dev_mut(d);
            dv.enter(Phase::QueuedForSlot);
            self.backend.queue_for_slot(d, dv.gen);
        }
    }

    /// Starts (or resumes) a download. Its throughput is fixed at the start, to the smaller of
    /// the session's bandwidth and an equal share of the backend's egress among the downloads
    /// active at that moment, so load slows every new download.
    fn begin_download(&mut self, d: u32) {
        let active = self.backend.take_slot();
        let sc = self.scenario;
        let bandwidth = self
            .timeline(d)
            .session_bandwidth(self.fleet.dev(d), self.key(d, Purpose::Bandwidth));
        let share = sc.backend.egress_kbps / active as f64;
        let now = self.now;
        let (cdn_factor, _) = if sc.faults.is_empty() {
            (1.0, 0.0)
        } else {
            self.faults.cdn_at(&self.fleet, d, now)
        };
        // The session ends when the device goes offline or an outage (or a flat battery) takes
        // it down.
        let battery = self.fleet.battery(d);
        let down_at = if self.faults.is_empty()
            && self.fleet.dev(d).effects == NO_EFFECTS
            && battery.is_none()
        {
            u64::MAX
        } else {
            self.overlay(d).next_down_after(now.0)
        };
        let dv = self.fleet.dev_mut(d);
        dv.set(flag::SLOT_HELD);
        let rel = &sc.versions[dv.installing as usize];
        let size_mb = if dv.marks & mark::FULL_IMAGE != 0 {
            rel.size_mb
        } else {
            rel.download_mb(dv.version)
        };
        let size_kbit = size_mb * 8000.0;
        dv.enter(Phase::Downloading);
        let dl = self.fleet.download_mut(d);
        if dl.kbit <= 0.0 {
            dl.start = now.0;
        }
        let throughput = (bandwidth * cdn_factor).min(share).max(1e-3);
        let remaining = (size_kbit - dl.kbit as f64).max(0.0);
        let done = now.plus(secs_to_ms(remaining / throughput).max(1));
        dl.kbps = throughput as f32;
        dl.segment_start = now.0;
        let dv = self.fleet.dev(d);
        // A download that spends battery as it goes can empty it part-way: the session ends then.
        let cost = sc.power[sc.populations[dv.population as usize].power].download_cost;
        let flat_at = match battery {
            Some(b) if cost > 0.0 => b
                .lasts_ms(now.0, cost * throughput as f32 as f64 / 8000.0 / 1000.0)
                .map_or(u64::MAX, |ms| now.0.saturating_add(ms.max(1))),
            _ => u64::MAX,
        };
        let (gen, session_end) = (dv.gen, dv.period_end.min(down_at).min(flat_at));
        if done.0 < session_end {
            self.schedule_device(done, d, DeviceEvent::DownloadDone { gen });
        } else {
            self.schedule_device(
                SimTime(session_end),
                d,
                DeviceEvent::DownloadInterrupted { gen },
            );
        }
    }

    /// Ends the current download segment: counts the bytes, spends the battery they cost and
    /// frees the backend slot.
    fn end_segment(&mut self, ctl: &mut impl Control<E>, d: u32) -> f64 {
        let now = self.now.0;
        // Only a downloading device ends a segment, and it has its entry (an invariant): read
        // it, do not open one.
        let dl = self.fleet.download(d).copied().unwrap_or_default();
        let kbit = dl.kbps as f64 * (now - dl.segment_start) as f64 / 1000.0;
        self.recorder.serve(kbit * 125.0);
        let sc = self.scenario;
        let cost =
            sc.power[sc.populations[self.fleet.dev(d).population as usize].power].download_cost;
        if cost > 0.0 {
            // At most what is left: an empty battery stays at 0.
            let level = self.battery_level(d, self.now);
            self.spend_battery(d, (cost * kbit / 8000.0).min(level));
        }
        self.release_slot(ctl, d);
        kbit
    }

    fn release_slot(&mut self, ctl: &mut impl Control<E>, d: u32) {
        let dv = self.fleet.dev_mut(d);
        if !dv.has(flag::SLOT_HELD) {
            return;
        }
        dv.clear(flag::SLOT_HELD);
        self.backend.free_slot();
        while let Some((next, gen)) = self.backend.next_queued() {
            let nd = self.fleet.dev(next);
            if nd.gen != gen || nd.phase != Phase::QueuedForSlot {
                continue;
            }
            if self.halted_for_update(ctl, next) {
                self.stop_halted(ctl, next);
                continue;
            }
            let (tl, o) = (self.timeline(next), self.overlay(next));
            if tl.online_at(self.fleet.dev_mut(next), self.now.0, &o) {
                self.begin_download(next);
            } else {
                self.fleet.dev_mut(next).enter(Phase::Interrupted);
                self.schedule_check_in(next, self.now.plus(1));
            }
        }
    }

    pub fn on_download_interrupted(&mut self, ctl: &mut impl Control<E>, d: u32, gen: u32) {
        if self.fleet.dev(d).gen != gen {
            return;
        }
        let kbit = self.end_segment(ctl, d);
        let sc = self.scenario;
        let resumable = sc.versions[self.fleet.dev(d).installing as usize].resumable;
        let dl = self.fleet.download_mut(d);
        if resumable {
            dl.kbit += kbit as f32;
        } else {
            dl.kbit = 0.0;
        }
        self.fleet.dev_mut(d).enter(Phase::Interrupted);
        self.record_failure(d, Failure::DownloadInterrupted);
        self.schedule_check_in(d, self.now.plus(1));
    }

    pub fn on_download_done(&mut self, ctl: &mut impl Control<E>, d: u32, gen: u32) {
        if self.fleet.dev(d).gen != gen {
            return;
        }
        self.end_segment(ctl, d);
        // The entry stays until the install starts: the halted-install check reads when its
        // last segment began.
        let dl = self.fleet.download_mut(d);
        dl.kbit = 0.0;
        let started = dl.start;
        let dv = self.fleet.dev_mut(d);
        // Each finished download is a draw of its own: a device that re-fetches after a CDN
        // error meets the fault afresh instead of repeating its first draw.
        dv.fetches = dv.fetches.wrapping_add(1);
        let draw = dv.fetches as u64;
        self.recorder.download_took(self.now.0 - started);
        if !self.scenario.faults.is_empty() {
            match self.faults.verify_download(&self.fleet, d, self.now, draw) {
                Verification::Rejected(Failure::DownloadInterrupted) => {
                    // A CDN error: the device fetches the image again at its next check-in.
                    self.record_failure(d, Failure::DownloadInterrupted);
                    self.fleet.dev_mut(d).enter(Phase::Interrupted);
                    return self.schedule_check_in(d, self.now.plus(1));
                }
                Verification::Rejected(f) => {
                    self.record_failure(d, f);
                    if f == Failure::SignatureRejected && self.fleet.dev(d).job == Job::Update {
                        self.recorder.reject(d);
                    }
                    return self.await_report(d, Some(f));
                }
                Verification::TamperedAccepted => self.recorder.security_violation(),
                Verification::Passed => {}
            }
        }
        if self.delta_failed(d, draw) {
            // The delta does not apply: the device fetches the full image at once (it is
            // online: its download just finished), on the same execution.
            self.recorder.delta_fallback();
            self.fleet.dev_mut(d).marks |= mark::FULL_IMAGE;
            return self.request_slot(d);
        }
        match self.after_download(d) {
            AfterDownload::Install => self.install_when_open(ctl, d),
            AfterDownload::AwaitConsent | AfterDownload::Staged => {}
        }
    }

    /// The downloaded update installs now, or when a maintenance window opens for it.
    fn install_when_open(&mut self, ctl: &mut impl Control<E>, d: u32) {
        let wait = self.window_wait_ms(d, |w| w.applies_to == AppliesTo::Install);
        if wait > 0 {
            self.recorder.defer(Reason::Maintenance);
            let dv = self.fleet.dev_mut(d);
            dv.set(flag::DEFERRED);
            dv.reason = Reason::Maintenance;
            dv.enter(Phase::WaitingWindow);
            let gen = dv.gen;
            // No window opens before the horizon: the device waits for good (it is stranded
            // for `maintenance` at the end).
            if wait != u64::MAX {
                self.schedule_device(self.now.plus(wait), d, DeviceEvent::InstallStart { gen });
            }
            return;
        }
        self.start_install(ctl, d);
    }

    /// Milliseconds until a maintenance window for `what` is open for device `d` (0: one is
    /// open now or there are none; `u64::MAX`: none opens within the simulated span). The
    /// earliest of the windows counts: any of them lets the device go on.
    fn window_wait_ms(&self, d: u32, keep: impl Fn(&Maintenance) -> bool) -> u64 {
        maintenance::wait_ms(&self.scenario.policy.maintenance, keep, |zone| {
            self.wall_ms(d, self.now, zone)
        })
    }

    /// Wall-clock milliseconds since 1970 at `t` on device `d`'s local clock (`zone =
    /// "device"`: its offset and any clock skew) or in UTC.
    pub fn wall_ms(&self, d: u32, t: SimTime, zone: Zone) -> i64 {
        match zone {
            Zone::Device => self.faults.local_wall_ms(&self.fleet, d, t),
            Zone::Utc => self.scenario.start_unix_s * 1000 + t.0 as i64,
        }
    }

    /// The disruption budget lets device `d` start installing (it holds a place in its group
    /// until it boots), or the device waits in its group's queue (`budget`).
    fn take_budget(&mut self, d: u32) -> bool {
        let dv = *self.fleet.dev(d);
        let Some(budget) = self.backend.budget_mut() else {
            return true;
        };
        if dv.marks & mark::IN_BUDGET != 0 || budget.admit(dv.population) {
            self.fleet.dev_mut(d).marks |= mark::IN_BUDGET;
            return true;
        }
        self.recorder.defer(Reason::Budget);
        let dv = self.fleet.dev_mut(d);
        dv.set(flag::DEFERRED);
        dv.reason = Reason::Budget;
        dv.enter(Phase::WaitingWindow);
        let (population, gen) = (dv.population, dv.gen);
        if let Some(budget) = self.backend.budget_mut() {
            budget.wait(population, d, gen);
        }
        false
    }

    /// Device `d` leaves the disruption window: its place goes to the first device of its
    /// group still waiting, which starts installing now.
    fn release_budget(&mut self, d: u32) {
        let dv = self.fleet.dev_mut(d);
        if dv.marks & mark::IN_BUDGET == 0 {
            return;
        }
        dv.marks &= !mark::IN_BUDGET;
        let population = dv.population;
        let fleet = &self.fleet;
        let still_waiting = |w: u32, gen: u32| {
            let wv = fleet.dev(w);
            wv.gen == gen && wv.phase == Phase::WaitingWindow && wv.reason == Reason::Budget
        };
        let next = self
            .backend
            .budget_mut()
            .and_then(|b| b.release(population, still_waiting));
        if let Some(next) = next {
            let nv = self.fleet.dev_mut(next);
            nv.marks |= mark::IN_BUDGET;
            let gen = nv.gen;
            self.schedule_device(self.now, next, DeviceEvent::InstallStart { gen });
        }
    }

    /// Whether the delta device `d` just downloaded (its `draw`-th download) fails to apply.
    fn delta_failed(&self, d: u32, draw: u64) -> bool {
        let dv = self.fleet.dev(d);
        let rel = &self.scenario.versions[dv.installing as usize];
        rel.delta_failure > 0.0
            && dv.marks & mark::FULL_IMAGE == 0
            && rel.has_delta_from(dv.version)
            && Stream::at(self.key(d, Purpose::DeltaApply), draw).bernoulli(rel.delta_failure)
    }

    pub fn on_install_start(&mut self, ctl: &mut impl Control<E>, d: u32, gen: u32) {
        if self.fleet.dev(d).gen != gen {
            return;
        }
        if self.halted_for_update(ctl, d) {
            // A place the budget handed it goes on to the next device.
            self.release_budget(d);
            return self.stop_halted(ctl, d);
        }
        self.start_install(ctl, d);
    }

    fn start_install(&mut self, ctl: &mut impl Control<E>, d: u32) {
        if !self.take_budget(d) {
            return;
        }
        // Whatever window it waited for, the device is past it now.
        self.fleet.dev_mut(d).clear(flag::DEFERRED);
        let sc = self.scenario;
        let dv = *self.fleet.dev(d);
        let stance = ctl.stance();
        if dv.job == Job::Update && !stance.running {
            self.check_halted_install(d, stance.halted_since);
        }
        // The image is in place: nothing of its download is needed any more.
        self.fleet.close_download(d);
        let pop = &sc.populations[dv.population as usize];
        let rel = &sc.versions[dv.installing as usize];
        let k = dv.installs as u64;
        let install_ms = secs_to_ms(
            rel.install_time
                .sample(&mut Stream::at(self.key(d, Purpose::InstallTime), k << 5)),
        );
        let power = &sc.power[pop.power];
        let mut outcome = None;
        let mut duration = install_ms;
        if power.battery && power.install_cost > 0.0 {
            let level = self.battery_level(d, self.now);
            if level < power.install_cost {
                // The battery dies part-way through: the install is interrupted.
                let frac = Stream::at(self.key(d, Purpose::InstallProgress), k).uniform();
                duration = (install_ms as f64 * frac) as u64;
                outcome = Some(Failure::PowerLoss);
                self.spend_battery(d, level);
            } else {
                self.spend_battery(d, power.install_cost);
            }
        }
        if outcome.is_none()
            && Stream::at(self.key(d, Purpose::InstallFailure), k).bernoulli(pop.install_failure)
        {
            outcome = Some(Failure::InstallFailed);
        }
        let dv = self.fleet.dev_mut(d);
        dv.installs = dv.installs.wrapping_add(1);
        dv.pending_failure = outcome;
        dv.enter(Phase::Installing);
        let gen = dv.gen;
        self.schedule_device(
            self.now.plus(duration.max(1)),
            d,
            DeviceEvent::InstallDone { gen },
        );
    }

    pub fn on_install_done(&mut self, d: u32, gen: u32) {
        let dv = *self.fleet.dev(d);
        if dv.gen != gen {
            return;
        }
        if dv.pending_failure.is_some() {
            // The install failed: the device runs its old image and is available again.
            self.release_budget(d);
        }
        match dv.pending_failure {
            Some(Failure::PowerLoss) => {
                self.record_failure(d, Failure::PowerLoss);
                let pop = &self.scenario.populations[dv.population as usize];
                // A configuration is applied as a transaction: a power loss leaves the previous
                // one in place, as the other slot does for an A/B image.
                if pop.ab_slots || self.scenario.versions[dv.installing as usize].config {
                    // A dead battery keeps the device down until its next recharge; a power
                    // outage's window is already part of its reachability overlay.
                    if self.scenario.power[pop.power].battery {
                        let back = self.next_recharge(d, self.now).map_or(u64::MAX, |t| t.0);
                        let now = self.now.0;
                        let fx = self.fleet.effects_mut(d, dv.version);
                        fx.down_from = now;
                        fx.down_until = back;
                    }
                    self.await_report(d, Some(Failure::PowerLoss));
                } else {
                    self.brick(d);
                }
            }
            Some(f) => {
                self.record_failure(d, f);
                self.await_report(d, Some(f));
            }
            None if self.scenario.versions[dv.installing as usize].config => {
                // A configuration takes effect without a reboot.
                self.fleet.dev_mut(d).enter(Phase::Rebooting);
                let gen = self.fleet.dev(d).gen;
                self.on_boot_done(d, gen);
            }
            None => {
                let rel = &self.scenario.versions[dv.installing as usize];
                let reboot = secs_to_ms(rel.reboot_time.sample(&mut Stream::at(
                    self.key(d, Purpose::RebootTime),
                    (dv.installs as u64) << 5,
                )));
                let dv = self.fleet.dev_mut(d);
                dv.enter(Phase::Rebooting);
                let gen = dv.gen;
                self.schedule_device(
                    self.now.plus(reboot.max(1)),
                    d,
                    DeviceEvent::BootDone { gen },
                );
            }
        }
    }

    /// The device can no longer boot: it never reports again and needs a field visit.
    fn brick(&mut self, d: u32) {
        self.record_failure(d, Failure::Bricked);
        self.recorder.brick();
        let now = self.now.0;
        let v = self.fleet.dev(d).version;
        let fx = self.fleet.effects_mut(d, v);
        fx.down_from = now;
        fx.down_until = u64::MAX;
        let dv = self.fleet.dev_mut(d);
        dv.set(flag::BRICKED);
        dv.enter(Phase::Idle);
        self.harm(d);
        self.schedule_field_visit(d);
    }

    pub fn on_boot_done(&mut self, d: u32, gen: u32) {
        let dv = *self.fleet.dev(d);
        if dv.gen != gen {
            return;
        }
        // Booted (or reverted, or bricked): the device leaves the disruption window.
        self.release_budget(d);
        let sc = self.scenario;
        let hop = dv.installing;
        if hop == sc.policy.target && !dv.has(flag::EXPOSED) {
            self.fleet.dev_mut(d).set(flag::EXPOSED);
            self.recorder.expose();
        }
        let rel = &sc.versions[hop as usize];
        let pop = &sc.populations[dv.population as usize];
        let initial = sc.version_label(dv.initial_version);
        let from = sc.version_label(dv.version);
        let defect_key = self.key(d, Purpose::Defect);
        let hits: u64 = rel
            .defects
            .iter()
            .enumerate()
            .filter(|(j, defect)| {
                defect.selector.matches(&pop.attrs(initial, Some(from)))
                    && Stream::at(defect_key, ((hop as u64) << 8) + *j as u64)
                        .bernoulli(defect.probability)
            })
            .fold(0u64, |acc, (j, _)| acc | 1 << j.min(63));
        let boot_fails = rel
            .defects
            .iter()
            .enumerate()
            .any(|(j, x)| hits & (1 << j.min(63)) != 0 && x.effect == Effect::BootFailure);
        if boot_fails {
            if pop.ab_slots {
                self.record_failure(d, Failure::BootReverted);
                self.fleet.dev_mut(d).set(flag::REVERTED);
                self.harm(d);
                self.await_report(d, Some(Failure::BootReverted));
            } else {
                self.brick(d);
            }
            return;
        }
        self.set_version(d, hop);
        self.fleet.dev_mut(d).boot_at = self.now.0;
        if self.faults.api_incompatible(hop, self.now) {
            // It boots firmware that cannot talk to the backend's API as it is now.
            self.harm(d);
        }
        if hits != 0 {
            self.apply_effects(d, hop, hits);
            self.arm_watchdog(d, hop);
        }
        if rel.config {
            self.arm_fail_safe(d, hop);
        }
        self.await_report(d, None);
    }

    /// Applies the post-boot defect effects that hit device `d` (bit `j` of `hits`).
    fn apply_effects(&mut self, d: u32, hop: u8, hits: u64) {
        let sc = self.scenario;
        let delay_key = self.key(d, Purpose::DefectDelay);
        let now = self.now.0;
        let mut first_onset = u64::MAX;
        for (j, defect) in sc.versions[hop as usize].defects.iter().enumerate() {
            if hits & (1 << j.min(63)) == 0 {
                continue;
            }
            let after = defect.after.as_ref().map_or(0, |a| {
                secs_to_ms(a.sample(&mut Stream::at(
                    delay_key,
                    ((hop as u64) << 8 | j as u64) << 5,
                )))
            });
            let onset = now.saturating_add(after);
            first_onset = first_onset.min(onset);
            let fx = self.fleet.effects_mut(d, hop);
            match defect.effect {
                Effect::NoReconnect => {
                    fx.down_from = fx.down_from.min(onset);
                    fx.down_until = u64::MAX;
                }
                Effect::CrashLoop => {
                    fx.loop_onset = fx.loop_onset.min(onset);
                    fx.availability = fx.availability.min(defect.availability);
                }
                Effect::CrashRate => {
                    fx.crash_factor *= defect.factor;
                    fx.crash_onset = fx.crash_onset.min(onset);
                }
                Effect::TelemetryLoss => fx.telemetry_onset = fx.telemetry_onset.min(onset),
                Effect::BatteryDrain => {
                    fx.drain_factor *= defect.factor;
                    fx.drain_onset = fx.drain_onset.min(onset);
                }
                Effect::CommandFailure => {
                    fx.command_rate = 1.0 - (1.0 - fx.command_rate) * (1.0 - defect.rate);
                    fx.command_onset = fx.command_onset.min(onset);
                }
                Effect::BootFailure => {}
            }
        }
        if first_onset <= now {
            self.harm(d);
        } else {
            self.schedule_device(
                SimTime(first_onset),
                d,
                DeviceEvent::HarmOnset { version: hop },
            );
        }
    }

    pub fn on_harm_onset(&mut self, d: u32, version: u8) {
        if self.fleet.dev(d).version == version {
            self.harm(d);
        }
    }

    /// Records that device `d` suffered a defect effect (or was bricked) now.
    pub fn harm(&mut self, d: u32) {
        let dv = self.fleet.dev_mut(d);
        if dv.has(flag::HARMED) {
            return;
        }
        dv.set(flag::HARMED);
        let stage = dv.stage;
        let critical = self.scenario.populations[dv.population as usize].criticality_high();
        self.recorder.harm(critical, self.now);
        let support = &self.scenario.support;
        let mut s = Stream::new(self.key(d, Purpose::Ticket));
        if s.bernoulli(support.ticket_probability) {
            let delay = secs_to_ms(support.ticket_delay.sample(&mut s));
            self.backend
                .open_ticket(stage, self.now.0.saturating_add(delay));
        }
    }

    /// Device `d` now runs version `v`.
    fn set_version(&mut self, d: u32, v: u8) {
        let target = self.scenario.policy.target;
        let (start, now) = (self.scenario.policy.start, self.now);
        let targeted = self.fleet.dev(d).has(flag::TARGETED);
        let old = self.fleet.set_version(d, v, now);
        if targeted && old == target {
            self.recorder.target_delta(false, now, start);
        }
        if targeted && v == target {
            self.recorder.target_delta(true, now, start);
        }
    }

    fn await_report(&mut self, d: u32, failure: Option<Failure>) {
        let dv = self.fleet.dev_mut(d);
        dv.pending_failure = failure;
        dv.enter(Phase::Reporting);
        self.schedule_check_in(d, self.now.plus(1));
    }

    /// The device reports its result at a check-in. The device goes on at once; the backend
    /// hears of it now, later (`telemetry-delay`) or never (`telemetry-drop`, after which the
    /// in-progress timeout ends the attempt on the backend's side).
    fn report(&mut self, ctl: &mut impl Control<E>, d: u32) {
        let failure = self.fleet.dev_mut(d).pending_failure.take();
        let dv = *self.fleet.dev(d);
        if dv.job == Job::Update
            && failure.is_none()
            && dv.version < self.scenario.policy.target
            && self.scenario.policy.action_type != ActionType::DownloadOnly
        {
            // An intermediate hop of a migration chain: go on at once.
            self.leave_in_flight(ctl, d);
            self.fleet.dev_mut(d).reset_tries();
            return self.learn_job(ctl, d);
        }
        let (dropped, delay) = if self.scenario.faults.is_empty() {
            (false, 0)
        } else {
            let draw = (dv.installs as u64) << 8 | dv.attempts as u64;
            (
                self.faults.report_dropped(&self.fleet, d, self.now, draw),
                self.faults.telemetry_delay_ms(&self.fleet, d, self.now),
            )
        };
        match (dropped, delay) {
            (true, _) => {}
            (false, 0) => self.receive_report(ctl, d, dv.job, failure),
            (false, _) => {
                let report = DeviceEvent::ReportArrive {
                    job: dv.job,
                    failure,
                };
                self.schedule_device(self.now.plus(delay), d, report)
            }
        }
        match dv.job {
            Job::Update => {
                if failure.is_some_and(never_retried) {
                    self.fail_job(d);
                    if failure == Some(Failure::ConsentDenied) {
                        // Stranded because its owner said no, not for spent retries.
                        self.fleet.dev_mut(d).reason = Reason::Consent;
                    }
                    // Not retried anyway; with enough failed attempts it goes to support too.
                    self.quarantine_due(d);
                } else if failure.is_some() {
                    self.retry_or_fail(d, RetryKind::Failed, delay);
                } else {
                    let dv = self.fleet.dev_mut(d);
                    dv.job = Job::None;
                    dv.enter(Phase::Idle);
                }
                let dv = self.fleet.dev(d);
                if dv.phase == Phase::Idle
                    && dv.has(flag::ROLLBACK_DUE)
                    && ctl.stance().rolling_back
                {
                    self.begin_rollback_job(d);
                }
            }
            Job::Rollback => {
                if failure.is_none() {
                    self.recorder.roll_back(d, self.now.0);
                    self.backend.record_rollback_success();
                    let dv = self.fleet.dev_mut(d);
                    dv.set(flag::ROLLED_BACK);
                    dv.job = Job::None;
                    dv.enter(Phase::Idle);
                } else if failure == Some(Failure::SignatureRejected) {
                    // Rejected (AWS `REJECTED`): never retried.
                    self.fail_job(d);
                } else {
                    self.retry_or_fail(d, RetryKind::Failed, delay);
                }
            }
            Job::None => self.fleet.dev_mut(d).enter(Phase::Idle),
        }
    }

    /// The backend receives the result of device `d`'s `job` (`failure`: `None` for success).
    pub fn receive_report(
        &mut self,
        ctl: &mut impl Control<E>,
        d: u32,
        job: Job,
        failure: Option<Failure>,
    ) {
        self.leave_in_flight(ctl, d);
        if job != Job::Update {
            return;
        }
        self.record_result(d, failure);
        ctl.on_result(self, d);
    }

    fn leave_in_flight(&mut self, ctl: &mut impl Control<E>, d: u32) {
        let dv = self.fleet.dev_mut(d);
        if dv.in_flight {
            dv.in_flight = false;
            self.backend.leave_flight();
            ctl.on_capacity_freed(self);
            self.wake_waiters();
        }
    }

    /// After a try that failed or timed out (`kind`): retry after its type's `backoff`
    /// (counted from when the backend hears of the result, `delay_ms` from now) while that
    /// type's tries remain, else the job has failed.
    fn retry_or_fail(&mut self, d: u32, kind: RetryKind, delay_ms: u64) {
        let quarantined = self.fleet.dev(d).job == Job::Update && self.quarantine_due(d);
        let dv = self.fleet.dev_mut(d);
        let next =
            self.scenario
                .policy
                .retry
                .backoff_after(kind, u32::from(dv.attempts), dv.timeouts());
        match next {
            Some(backoff) if !quarantined => {
                dv.enter(Phase::Pending);
                let at = self.now.plus(backoff.saturating_add(delay_ms).max(1));
                self.schedule_check_in(d, at);
            }
            _ => self.fail_job(d),
        }
    }

    /// The device's job has failed for good (its retries spent, or a result no retry can
    /// change).
    fn fail_job(&mut self, d: u32) {
        let dv = self.fleet.dev_mut(d);
        dv.set(flag::JOB_FAILED);
        if dv.job == Job::Update {
            dv.reason = Reason::RetriesExhausted;
        }
        dv.job = Job::None;
        dv.enter(Phase::Idle);
    }

    /// The in-progress timeout of an attempt (AWS `inProgressTimeoutInMinutes`): the backend
    /// marks the execution timed out and frees its in-flight slot. A device still downloading or
    /// waiting abandons the attempt and retries; one already installing finishes, and its later
    /// report replaces the time-out. A device that finished the attempt but whose report was
    /// lost (`telemetry-drop`) is retried by the backend like any timed-out execution (AWS
    /// `TIMED_OUT` → `retry`); already on the target, it then reports success.
    pub fn on_timeout(&mut self, ctl: &mut impl Control<E>, d: u32, job: Job, execution: u8) {
        let dv = *self.fleet.dev(d);
        // Only a new attempt changes the execution number; the device moving on by itself
        // (its report lost) does not make the time-out stale.
        if !dv.in_flight || execution != dv.execution {
            return;
        }
        let update = job == Job::Update;
        self.record_failure(d, Failure::Timeout);
        if update && !dv.has(flag::TIMED_OUT) {
            self.fleet.dev_mut(d).set(flag::TIMED_OUT);
            self.backend.record_timed_out(dv.stage);
        }
        if dv.phase == Phase::Downloading {
            self.end_segment(ctl, d);
        }
        self.leave_in_flight(ctl, d);
        if update {
            self.record_result(d, Some(Failure::Timeout));
        }
        match dv.phase {
            Phase::QueuedForSlot
            | Phase::Downloading
            | Phase::Interrupted
            | Phase::WaitingWindow => {
                // A place the budget handed it (its install not begun) goes to the next device.
                self.release_budget(d);
                self.fleet.close_download(d);
                self.fleet.dev_mut(d).count_timeout();
                self.retry_or_fail(d, RetryKind::TimedOut, 0);
            }
            Phase::Idle if update && dv.job == Job::None && !dv.has(flag::JOB_FAILED) => {
                self.retry_lost_result(ctl, d)
            }
            _ => {}
        }
        if update {
            ctl.on_result(self, d);
        }
    }

    /// The backend retries an execution whose result it never heard (the device had already
    /// succeeded): a time-out, so the device is notified again after the time-outs' `backoff`
    /// while their tries remain.
    fn retry_lost_result(&mut self, ctl: &mut impl Control<E>, d: u32) {
        let target = self.scenario.policy.target;
        let dv = self.fleet.dev_mut(d);
        dv.count_timeout();
        let next = self.scenario.policy.retry.backoff_after(
            RetryKind::TimedOut,
            u32::from(dv.attempts),
            dv.timeouts(),
        );
        if let Some(backoff) = next {
            if dv.version >= target && !ctl.stance().rolling_back {
                dv.job = Job::Update;
                dv.enter(Phase::Pending);
                self.schedule_check_in(d, self.now.plus(backoff.max(1)));
            }
        }
    }

    /// A retried execution on a device that already runs the target: it reports success at
    /// once (through the same report path, so the report can be lost again).
    fn confirm_on_target(&mut self, d: u32) {
        if self.backend.in_flight() >= self.scenario.policy.max_in_flight {
            return self.defer(d, Reason::InFlightLimit, self.now);
        }
        self.begin_execution(d);
        self.await_report(d, None);
    }

    /// Battery level of device `d` at `t` (1.0 on mains).
    pub fn battery_level(&self, d: u32, t: SimTime) -> f64 {
        self.fleet.battery(d).map_or(1.0, |b| b.level(t.0))
    }

    fn spend_battery(&mut self, d: u32, amount: f64) {
        let every = self.scenario.power
            [self.scenario.populations[self.fleet.dev(d).population as usize].power]
            .recharge_every_ms;
        let epoch = every.map_or(0, |e| self.now.0 / e) as u16;
        let dv = self.fleet.dev_mut(d);
        if dv.battery_epoch != epoch {
            dv.battery_epoch = epoch;
            dv.battery_spent = 0.0;
        }
        dv.battery_spent += amount as f32;
    }

    fn next_recharge(&self, d: u32, t: SimTime) -> Option<SimTime> {
        let pw = &self.scenario.power
            [self.scenario.populations[self.fleet.dev(d).population as usize].power];
        pw.recharge_every_ms
            .map(|e| SimTime((t.0 / e + 1).saturating_mul(e)))
    }
}

/// Update results no retry can change: a rejected image or a declined install (AWS `REJECTED`
/// is never retried) and an image that does not boot (trying it again cannot help). Retries are for transient
/// failures and time-outs.
fn never_retried(f: Failure) -> bool {
    matches!(
        f,
        Failure::SignatureRejected | Failure::BootReverted | Failure::ConsentDenied
    )
}

#[cfg(test)]
mod tests;
