//! Why an attempt failed and why a device is not updated: the kinds the counters are indexed
//! by and the names every output uses for them (SPEC §2 `failures_by_reason`, deferral and
//! stranding reasons), written once here.

/// Why a device could not start (or finish) the update. Index into per-reason counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Reason {
    #[default]
    Offline,
    Battery,
    Storage,
    Metered,
    Maintenance,
    BlockedMigration,
    IncompatibleApi,
    RetriesExhausted,
    Cancelled,
    Bandwidth,
    InFlightLimit,
    /// Over the disruption budget of its group.
    Budget,
    /// Waiting for its owner's consent to install (`consent`), or the owner declined.
    Consent,
}

impl Reason {
    /// The reason's name in every output, from [`REASONS`] (indexed by the reason).
    pub const fn name(self) -> &'static str {
        REASONS[self as usize].0
    }
}

/// Every reason with its name, in the order of [`Reason`] (a test keeps the two in step).
pub const REASONS: [(&str, Reason); 13] = [
    ("offline", Reason::Offline),
    ("battery", Reason::Battery),
    ("storage", Reason::Storage),
    ("metered", Reason::Metered),
    ("maintenance", Reason::Maintenance),
    ("blocked_migration", Reason::BlockedMigration),
    ("incompatible_api", Reason::IncompatibleApi),
    ("retries_exhausted", Reason::RetriesExhausted),
    ("cancelled", Reason::Cancelled),
    ("bandwidth", Reason::Bandwidth),
    ("in_flight_limit", Reason::InFlightLimit),
    ("budget", Reason::Budget),
    ("consent", Reason::Consent),
];

/// Failure kinds of SPEC §2 `failures_by_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Failure {
    DownloadInterrupted,
    Corrupt,
    SignatureRejected,
    InstallFailed,
    BootReverted,
    Bricked,
    Timeout,
    PowerLoss,
    /// The device's owner declined the install (`consent.deny`): a rejection, not retried.
    ConsentDenied,
}

pub const FAILURES: [(&str, Failure); 9] = [
    ("download_interrupted", Failure::DownloadInterrupted),
    ("corrupt", Failure::Corrupt),
    ("signature_rejected", Failure::SignatureRejected),
    ("install_failed", Failure::InstallFailed),
    ("boot_reverted", Failure::BootReverted),
    ("bricked", Failure::Bricked),
    ("timeout", Failure::Timeout),
    ("power_loss", Failure::PowerLoss),
    ("consent_denied", Failure::ConsentDenied),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Reason::name`] and [`Failure`]'s counters index these tables by the enum's value.
    #[test]
    fn the_tables_are_in_enum_order() {
        for (i, (name, r)) in REASONS.iter().enumerate() {
            assert_eq!(*r as usize, i, "{name}");
            assert_eq!(r.name(), *name);
        }
        for (i, (name, f)) in FAILURES.iter().enumerate() {
            assert_eq!(*f as usize, i, "{name}");
        }
    }
}
