//! The device lifecycle's events: what can happen to one device next. Each carries what tells a
//! live event from a stale one (the device's generation, the execution it times out) or what
//! the handler needs (the release a delayed defect belongs to, the result a late report brings).

use crate::fleet::device::Job;
use crate::metrics::reasons::Failure;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceEvent {
    /// The device checks in (stale unless `gen` is still the device's generation).
    CheckIn {
        gen: u32,
    },
    DownloadDone {
        gen: u32,
    },
    /// The download's session ended (offline, outage) before it finished.
    DownloadInterrupted {
        gen: u32,
    },
    /// A maintenance window opened for a downloaded update.
    InstallStart {
        gen: u32,
    },
    InstallDone {
        gen: u32,
    },
    BootDone {
        gen: u32,
    },
    /// The in-progress time-out of execution `execution` of the device's `job`.
    Timeout {
        job: Job,
        execution: u8,
    },
    /// A delayed defect strikes, if the device still runs `version`.
    HarmOnset {
        version: u8,
    },
    /// A result report reaches the backend late (`telemetry-delay`).
    ReportArrive {
        job: Job,
        failure: Option<Failure>,
    },
    /// The owner of a device holding a downloaded soft update answers (`granted`: yes, or the
    /// update turned forced at `force_after`).
    Consent {
        gen: u32,
        granted: bool,
    },
    /// A technician reflashes the bricked device (`support.field_visit`).
    FieldVisit,
    /// An edge fail-safe reverts the device's `version`, if it still runs the install of it
    /// numbered `installs` (the device's install count when it booted it).
    SelfRevert {
        version: u8,
        installs: u8,
        cause: Revert,
    },
}

/// What reverts a change on the device by itself (SPEC §1.3b, §1.4b).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revert {
    /// The boot watchdog of an A/B device: the image crash-loops.
    Watchdog,
    /// A configuration's fail-safe: no contact with the backend in time.
    FailSafe,
}
