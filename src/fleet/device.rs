//! The per-device record of one replication: compact, fixed-size, allocated once per
//! replication. What a device *is* (population, model, region, tags) lives in its population;
//! what it *does* lives here.

/// Where a device is in its current job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Phase {
    /// No job: not (yet) part of the rollout, or finished.
    #[default]
    Idle,
    /// Notified; learns of the job at its next check-in (a `CheckIn` event is pending).
    Pending,
    /// Learned of the job but the rollout is paused: waits for the operator.
    Parked,
    /// Waiting for a backend download slot.
    QueuedForSlot,
    Downloading,
    /// Download interrupted by going offline; resumes at the next online session.
    Interrupted,
    /// Downloaded and verified; waits for a maintenance window to install.
    WaitingWindow,
    Installing,
    Rebooting,
    /// Has a result to report at its next check-in.
    Reporting,
}

/// What the current job asks of the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Job {
    #[default]
    None,
    Update,
    Rollback,
}

/// The latest result the backend has for the device's update job: the execution outcomes of
/// AWS IoT Jobs (`SUCCEEDED`, `FAILED`, `TIMED_OUT`, `REJECTED`), with a rejection kept apart by
/// when it happened, because only a rejected image is a reported failure of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Reported {
    #[default]
    None,
    Success,
    /// A failed attempt the device reported (download, verify, install or boot failure).
    Failure,
    /// The backend timed the execution out (`policy.timeout`).
    TimedOut,
    /// The device rejected the downloaded image: its signature did not verify.
    RejectedImage,
    /// The device refused the job before starting it: incompatible API, blocked migration or
    /// storage.
    RejectedJob,
}

impl Reported {
    /// A result of an attempt (what `update_failure_rate` and `update_success_rate` count
    /// over): every outcome but a refusal before the start.
    pub fn is_attempt_result(self) -> bool {
        !matches!(self, Reported::None | Reported::RejectedJob)
    }
    /// A failed attempt as `update_failure_rate` counts it: failed, timed out or image
    /// rejected.
    pub fn is_attempt_failure(self) -> bool {
        matches!(
            self,
            Reported::Failure | Reported::TimedOut | Reported::RejectedImage
        )
    }
    /// AWS `REJECTED`: the device refused the job or its image.
    pub fn is_rejected(self) -> bool {
        matches!(self, Reported::RejectedImage | Reported::RejectedJob)
    }
}

pub use crate::metrics::reasons::{Failure, Reason, FAILURES, REASONS};

/// Flag bits of [`Device::flags`].
pub mod flag {
    pub const ONLINE: u16 = 1 << 0;
    pub const TARGETED: u16 = 1 << 1;
    pub const STARTED: u16 = 1 << 2;
    pub const EXPOSED: u16 = 1 << 3;
    pub const HARMED: u16 = 1 << 4;
    pub const BRICKED: u16 = 1 << 5;
    pub const TIMED_OUT: u16 = 1 << 6;
    pub const REVERTED: u16 = 1 << 7;
    pub const NOTIFIED: u16 = 1 << 8;
    pub const ROLLBACK_DUE: u16 = 1 << 9;
    pub const ROLLED_BACK: u16 = 1 << 10;
    pub const REFUSED: u16 = 1 << 11;
    pub const DEFERRED: u16 = 1 << 12;
    pub const ON_TARGET: u16 = 1 << 13;
    pub const JOB_FAILED: u16 = 1 << 14;
    pub const SLOT_HELD: u16 = 1 << 15;
}

/// Bits of [`Device::marks`].
pub mod mark {
    /// The backend has received a self-revert from this device.
    pub const REVERT_REPORTED: u8 = 1 << 0;
    /// The delta of the current attempt failed to apply: it downloads the full image.
    pub const FULL_IMAGE: u8 = 1 << 1;
    /// Holds a place in its group's disruption budget (from install start until boot).
    pub const IN_BUDGET: u8 = 1 << 2;
    /// Woken from the in-flight waitlist; cleared at its next check-in.
    pub const WOKEN: u8 = 1 << 3;
    /// The high four bits count the tries of the current job that timed out (saturating at
    /// 15), for `policy.retry` budgets per failure type.
    pub const TIMEOUTS_SHIFT: u32 = 4;
    pub const TIMEOUTS: u8 = 0xF0;
}

pub const NO_EFFECTS: u32 = u32::MAX;
pub const NO_STAGE: u8 = u8::MAX;

/// One device's dynamic state. 80 bytes; see the README's memory budget.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Device {
    /// Current connectivity period `[period_start, period_end)`; for an online period,
    /// `period_start` anchors the check-in grid.
    pub period_start: u64,
    pub period_end: u64,
    /// Last contact (check-in or health report) before the current offline period.
    pub last_contact: u64,
    /// When the device booted the release it runs, if the rollout installed it.
    pub boot_at: u64,
    /// Draws consumed from the connectivity stream (= periods generated).
    pub conn_draws: u32,
    /// Bumped on every phase change: events carrying an older generation are stale.
    pub gen: u32,
    /// Index into the side table of defect effects, or [`NO_EFFECTS`].
    pub effects: u32,
    /// The slot of its download's state in the fleet's pool of downloads under way (0: no
    /// download since its last install start or give-up; see `crate::fleet::download`).
    pub download: u32,
    /// Battery spent by installs since the last recharge.
    pub battery_spent: f32,
    pub population: u16,
    pub flags: u16,
    pub version: u8,
    /// Version before the rollout touched the device.
    pub initial_version: u8,
    /// The version the device ran before its latest install (for `from` selectors and the
    /// default rollback target).
    pub previous_version: u8,
    /// The release being installed in the current attempt.
    pub installing: u8,
    pub phase: Phase,
    pub job: Job,
    pub reported: Reported,
    pub reason: Reason,
    /// Tries of the current job so far (the first included).
    pub attempts: u8,
    /// Installs ever started (keys the per-attempt random draws).
    pub installs: u8,
    pub stage: u8,
    /// Pending result: the failure to report, or `None` for success.
    pub pending_failure: Option<Failure>,
    /// Counted in the backend's in-flight devices (download start until result or time-out).
    pub in_flight: bool,
    /// Recharge period the `battery_spent` figure belongs to.
    pub battery_epoch: u16,
    /// Bits of [`mark`]: rarer per-device facts than [`flag`]'s.
    pub marks: u8,
    /// Executions started (wrapping): the backend's name for the attempt now in flight, so
    /// that an in-progress time-out knows whether it still belongs to it.
    pub execution: u8,
    /// Downloads finished (wrapping): keys the per-download draws (CDN errors, corruption), so
    /// that every fetch of an image, a re-fetch included, is a draw of its own.
    pub fetches: u16,
}

impl Device {
    #[inline]
    pub fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
    #[inline]
    pub fn set(&mut self, f: u16) {
        self.flags |= f;
    }
    #[inline]
    pub fn clear(&mut self, f: u16) {
        self.flags &= !f;
    }
    /// Moves to a new phase and invalidates events scheduled for the old one.
    #[inline]
    pub fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.gen = self.gen.wrapping_add(1);
    }
    /// Tries of the current job that timed out.
    #[inline]
    pub fn timeouts(&self) -> u32 {
        u32::from(self.marks >> mark::TIMEOUTS_SHIFT)
    }
    /// One more try of the current job timed out.
    #[inline]
    pub fn count_timeout(&mut self) {
        let n = (self.timeouts() + 1).min(15) as u8;
        self.marks = self.marks & !mark::TIMEOUTS | n << mark::TIMEOUTS_SHIFT;
    }
    /// A new job (or the next hop of a chain): its tries start from none.
    #[inline]
    pub fn reset_tries(&mut self) {
        self.attempts = 0;
        self.marks &= !mark::TIMEOUTS;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn device_record_stays_compact() {
        assert!(
            std::mem::size_of::<super::Device>() <= 80,
            "{}",
            std::mem::size_of::<super::Device>()
        );
    }
}
