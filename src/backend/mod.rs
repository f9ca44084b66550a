//! The backend of one replication, and its owner [`Backend`]: what the update server holds and
//! has heard, as opposed to what devices truly do (`crate::fleet`).
//!
//! - **Download slots**: `max_concurrent_downloads` active downloads, first come first served
//!   through a queue of `(device, generation)` entries (a stale entry is skipped).
//! - **Executions in flight**: devices with an execution the backend has not closed (AWS IoT
//!   Jobs' `maximumPerMinute`-independent `max_in_flight` limit counts them).
//! - **What it has heard**: per stage and over the whole rollout, devices notified, started,
//!   reported, successes, failures, reverts, time-outs and rejections ([`Obs`]); the order in
//!   which devices started (a rollback notifies them in that order); successes of the rollback.
//! - The **disruption budget** of each group of devices (`budget`).
//! - **Executions held** while the rollout is paused (`parked`), and **support tickets**:
//!   those harmed devices open, kept apart from the background tickets every device opens
//!   (counted per stage; their times are kept only when the support queue is modelled, the
//!   one reader that needs them), and the devices quarantined to support; [`support`] replays
//!   them through the support team.
//!
//! Fields are private: the lifecycle and the controller write through the methods, which keep
//! the global and per-stage observations in step.

pub mod budget;
pub mod waitlist;

use crate::engine::time::SimTime;
use crate::fleet::device::Reported;
use crate::scenario::Scenario;
use std::collections::VecDeque;

pub mod support;

/// What the backend has observed over a set of devices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Obs {
    pub notified: u64,
    pub started: u64,
    /// Devices with a reported result of an attempt (a refusal before the start is none).
    pub reported: u64,
    /// Devices whose latest result is a success / a failed attempt (failed, timed out or
    /// image rejected; until a later attempt succeeds).
    pub success: u64,
    pub failure: u64,
    /// A/B self-reverts reported.
    pub reverts: u64,
    /// Devices that passed the in-progress timeout.
    pub timed_out: u64,
    /// Devices whose latest outcome is a rejection (AWS `REJECTED`): the job refused before
    /// the start, or the image rejected.
    pub rejected: u64,
    /// Devices with a terminal outcome: a reported result or a refusal (`reported` plus the
    /// devices that refused before starting).
    pub executed: u64,
}

impl Obs {
    /// A device's latest result changes from `old` to `new` (`revert`: it is the device's first
    /// reported A/B revert).
    fn apply_result(&mut self, old: Reported, new: Reported, revert: bool) {
        self.count(old, |c| *c -= 1);
        self.count(new, |c| *c += 1);
        if revert {
            self.reverts += 1;
        }
    }

    /// Applies `f` to every counter a device whose latest result is `r` is counted in.
    fn count(&mut self, r: Reported, f: impl Fn(&mut u64)) {
        if r == Reported::None {
            return;
        }
        f(&mut self.executed);
        if r.is_attempt_result() {
            f(&mut self.reported);
        }
        if r == Reported::Success {
            f(&mut self.success);
        }
        if r.is_attempt_failure() {
            f(&mut self.failure);
        }
        if r.is_rejected() {
            f(&mut self.rejected);
        }
    }

    /// Devices whose latest outcome is not a success: failed, timed out or rejected (AWS
    /// `ALL`), each counted once.
    pub fn any_failure(&self) -> u64 {
        self.executed - self.success
    }
}

/// The update server's state in one replication.
pub struct Backend {
    max_downloads: u64,
    active_downloads: u64,
    /// Devices waiting for a download slot, with the generation they queued at.
    slot_queue: VecDeque<(u32, u32)>,
    in_flight: u64,
    /// Devices held back by the in-flight limit.
    waitlist: waitlist::Waitlist,
    global: Obs,
    stages: Vec<Obs>,
    /// Devices whose latest update result is a success, counted once each.
    succeeded: u64,
    rollback_succeeded: u64,
    started_order: Vec<u32>,
    parked: Vec<u32>,
    /// Support tickets of harmed devices: (stage of the device, time the ticket opens).
    tickets: Vec<(u8, u64)>,
    budget: Option<budget::Budget>,
    /// Background tickets by stage (the last entry: devices the rollout has not notified).
    background: Vec<u64>,
    /// When each background ticket opened, kept only with a support queue (8 bytes a ticket).
    background_at: Option<Vec<u64>>,
    /// When the latest background ticket opened.
    background_last: u64,
    /// Devices quarantined to support, with the time each was.
    quarantined: Vec<(u32, u64)>,
}

impl Backend {
    pub fn new(sc: &Scenario) -> Backend {
        Backend {
            max_downloads: sc.backend.max_concurrent_downloads,
            active_downloads: 0,
            slot_queue: VecDeque::new(),
            in_flight: 0,
            waitlist: waitlist::Waitlist::default(),
            global: Obs::default(),
            stages: vec![Obs::default(); sc.policy.stages.len()],
            succeeded: 0,
            rollback_succeeded: 0,
            started_order: Vec::new(),
            parked: Vec::new(),
            tickets: Vec::new(),
            budget: budget::Budget::new(sc),
            background: vec![0; sc.policy.stages.len() + 1],
            background_at: sc.support.queue.as_ref().map(|_| Vec::new()),
            background_last: 0,
            quarantined: Vec::new(),
        }
    }

    /// The disruption budget, if the policy has one.
    pub fn budget(&self) -> Option<&budget::Budget> {
        self.budget.as_ref()
    }

    /// The disruption budget, to admit, queue and release devices.
    pub fn budget_mut(&mut self) -> Option<&mut budget::Budget> {
        self.budget.as_mut()
    }

    // ---- download slots ----

    /// Whether a newcomer gets a slot at once: one is free and nobody queues for it.
    pub fn slot_free(&self) -> bool {
        self.active_downloads < self.max_downloads && self.slot_queue.is_empty()
    }

    /// A download starts and holds a slot; returns how many downloads are active now.
    pub fn take_slot(&mut self) -> u64 {
        self.active_downloads += 1;
        self.active_downloads
    }

    /// A download ends and frees its slot.
    pub fn free_slot(&mut self) {
        self.active_downloads -= 1;
    }

    /// Device `d` (at generation `gen`) waits for a slot.
    pub fn queue_for_slot(&mut self, d: u32, gen: u32) {
        self.slot_queue.push_back((d, gen));
    }

    /// The next queued entry while a slot is free (the caller skips stale entries).
    pub fn next_queued(&mut self) -> Option<(u32, u32)> {
        if self.active_downloads < self.max_downloads {
            self.slot_queue.pop_front()
        } else {
            None
        }
    }

    pub fn active_downloads(&self) -> u64 {
        self.active_downloads
    }

    /// The queue of `(device, generation)` waiting for a slot.
    pub fn slot_queue(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.slot_queue.iter().copied()
    }

    // ---- executions in flight ----

    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// An execution opens; returns how many are in flight now.
    pub fn enter_flight(&mut self) -> u64 {
        self.in_flight += 1;
        self.in_flight
    }

    /// An execution closes.
    pub fn leave_flight(&mut self) {
        self.in_flight -= 1;
    }

    /// The devices held back by the in-flight limit.
    pub fn waitlist(&self) -> &waitlist::Waitlist {
        &self.waitlist
    }

    pub fn waitlist_mut(&mut self) -> &mut waitlist::Waitlist {
        &mut self.waitlist
    }

    // ---- what the backend has heard ----

    /// Over the whole rollout.
    pub fn global(&self) -> Obs {
        self.global
    }

    /// Over stage `i`'s cohort (nothing for a device outside every stage).
    pub fn stage(&self, i: usize) -> Obs {
        self.stages.get(i).copied().unwrap_or_default()
    }

    /// The backend notified a device of stage `stage`.
    pub fn record_notified(&mut self, stage: u8) {
        self.global.notified += 1;
        if let Some(s) = self.stages.get_mut(stage as usize) {
            s.notified += 1;
        }
    }

    /// Device `d` of stage `stage` started the update for the first time.
    pub fn record_started(&mut self, d: u32, stage: u8) {
        self.started_order.push(d);
        self.global.started += 1;
        if let Some(s) = self.stages.get_mut(stage as usize) {
            s.started += 1;
        }
    }

    /// A device of stage `stage` passed the in-progress time-out for the first time.
    pub fn record_timed_out(&mut self, stage: u8) {
        self.global.timed_out += 1;
        if let Some(s) = self.stages.get_mut(stage as usize) {
            s.timed_out += 1;
        }
    }

    /// A device of stage `stage` whose latest reported result was `old` now reports `new`.
    pub fn record_result(&mut self, stage: u8, old: Reported, new: Reported, revert: bool) {
        if new == Reported::Success && old != Reported::Success {
            self.succeeded += 1;
        }
        self.global.apply_result(old, new, revert);
        if let Some(st) = self.stages.get_mut(stage as usize) {
            st.apply_result(old, new, revert);
        }
    }

    /// Devices reported successful at least once.
    pub fn succeeded(&self) -> u64 {
        self.succeeded
    }

    /// A device reported its rollback done.
    pub fn record_rollback_success(&mut self) {
        self.rollback_succeeded += 1;
    }

    pub fn rollback_succeeded(&self) -> u64 {
        self.rollback_succeeded
    }

    /// Devices in the order they first started the update.
    pub fn started_order(&self) -> &[u32] {
        &self.started_order
    }

    // ---- held executions and tickets ----

    /// Device `d` learned of its job while the rollout is paused: held until the operator acts.
    pub fn park(&mut self, d: u32) {
        self.parked.push(d);
    }

    /// The held devices, now released.
    pub fn take_parked(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.parked)
    }

    pub fn parked(&self) -> &[u32] {
        &self.parked
    }

    /// A support ticket from harmed device of stage `stage` opens at `at`.
    pub fn open_ticket(&mut self, stage: u8, at: u64) {
        self.tickets.push((stage, at));
    }

    /// The tickets of harmed devices: (stage of the device, time it opens).
    pub fn tickets(&self) -> &[(u8, u64)] {
        &self.tickets
    }

    /// A background ticket opens now, `at`, attributed to stage `stage` (`None`: to no stage).
    pub fn open_background_ticket(&mut self, stage: Option<usize>, at: u64) {
        let last = self.background.len() - 1;
        self.background[stage.map_or(last, |s| s.min(last))] += 1;
        self.background_last = self.background_last.max(at);
        if let Some(times) = self.background_at.as_mut() {
            times.push(at);
        }
    }

    /// Background tickets opened, over every stage and none.
    pub fn background_tickets(&self) -> u64 {
        self.background.iter().sum()
    }

    /// Tickets (of harmed devices and background ones) opened by devices of `stage` (all
    /// devices when `None`) by time `t`. A background ticket opens when it is drawn, so every
    /// one counted so far is open by `t` as long as `t` is now (every caller asks about now).
    pub fn tickets_by(&self, stage: Option<usize>, t: SimTime) -> u64 {
        debug_assert!(
            t.0 >= self.background_last,
            "background tickets are counted as of now"
        );
        let harm = self
            .tickets
            .iter()
            .filter(|(s, at)| *at <= t.0 && stage.is_none_or(|x| x == *s as usize))
            .count() as u64;
        let background = match stage {
            Some(s) if s + 1 < self.background.len() => self.background[s],
            Some(_) => 0,
            None => self.background_tickets(),
        };
        harm + background
    }

    /// Device `d` has failed too often: it is quarantined to support at `at`.
    pub fn quarantine(&mut self, d: u32, at: u64) {
        self.quarantined.push((d, at));
    }

    /// The quarantined devices, with the time each was.
    pub fn quarantined(&self) -> &[(u32, u64)] {
        &self.quarantined
    }

    /// When each item of the support queue arrives: every ticket (harm and background) and
    /// every quarantined device (background tickets' times are kept only with a queue).
    pub fn support_arrivals(&self) -> Vec<u64> {
        let mut out: Vec<u64> = self.tickets.iter().map(|&(_, at)| at).collect();
        out.extend(self.background_at.iter().flatten().copied());
        out.extend(self.quarantined.iter().map(|&(_, at)| at));
        out
    }

    /// Test hooks: corrupt what the backend holds, to see the invariants catch it.
    #[cfg(test)]
    pub(crate) fn corrupt(&mut self) -> (&mut Obs, &mut Vec<Obs>, &mut Vec<(u8, u64)>, &mut u64) {
        (
            &mut self.global,
            &mut self.stages,
            &mut self.tickets,
            &mut self.in_flight,
        )
    }

    /// Test hook: what the backend has heard of stage `stage`, and over the whole rollout.
    #[cfg(test)]
    pub(crate) fn set_observed(&mut self, stage: usize, obs: Obs) {
        self.stages[stage] = obs;
        self.global = obs;
    }
}
