//! The hourly time series of one replication (`timeseries.csv`): devices per version, load,
//! failures by reason, and the observed view next to the truth.

use super::reasons::FAILURES;
use crate::scenario::Scenario;

/// Prefix of the per-version columns, `version_<label>`: devices running that version.
pub const VERSION_PREFIX: &str = "version_";

/// Prefix of the per-reason columns, `failures_<reason>` for each reason of [`FAILURES`]:
/// failed attempts, cumulative.
pub const FAILURES_PREFIX: &str = "failures_";

/// The names of the counter columns, for the report's readers to name them from here.
pub mod column {
    pub const IN_FLIGHT: &str = "in_flight";
    pub const DOWNLOADS_ACTIVE: &str = "downloads_active";
    pub const NOTIFIED: &str = "notified";
    pub const STARTED: &str = "started";
    pub const TRUE_UPDATED: &str = "true_updated";
    pub const TRUE_EXPOSED: &str = "true_exposed";
    pub const TRUE_HARMED: &str = "true_harmed";
    pub const TRUE_BRICKED: &str = "true_bricked";
    pub const OBSERVED_SUCCESS: &str = "observed_success";
    pub const OBSERVED_FAILURE: &str = "observed_failure";
    pub const OBSERVED_TIMED_OUT: &str = "observed_timed_out";
    pub const OBSERVED_REJECTED: &str = "observed_rejected";
    pub const OBSERVED_TICKETS: &str = "observed_tickets";
    pub const ROLLED_BACK: &str = "rolled_back";
}

/// The counter columns, between the version and the failure columns, in file order.
pub const COUNTER_COLUMNS: [&str; 14] = [
    column::IN_FLIGHT,
    column::DOWNLOADS_ACTIVE,
    column::NOTIFIED,
    column::STARTED,
    column::TRUE_UPDATED,
    column::TRUE_EXPOSED,
    column::TRUE_HARMED,
    column::TRUE_BRICKED,
    column::OBSERVED_SUCCESS,
    column::OBSERVED_FAILURE,
    column::OBSERVED_TIMED_OUT,
    column::OBSERVED_REJECTED,
    column::OBSERVED_TICKETS,
    column::ROLLED_BACK,
];

/// Column names after `hour`; per-version columns come first as `version_<label>`.
pub fn columns(sc: &Scenario) -> Vec<String> {
    let mut cols: Vec<String> = sc
        .versions
        .iter()
        .map(|v| format!("{VERSION_PREFIX}{}", v.label))
        .collect();
    cols.extend(COUNTER_COLUMNS.map(String::from));
    for (name, _) in FAILURES {
        cols.push(format!("{FAILURES_PREFIX}{name}"));
    }
    cols
}

/// The series, one row per simulated hour from time zero, in one buffer sized for the whole
/// horizon when the replication starts: sampling an hour allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct Series {
    width: usize,
    values: Vec<f64>,
}

impl Series {
    pub fn new(sc: &Scenario) -> Series {
        let hours = (sc.horizon.0 / crate::engine::time::HOUR_MS + 1) as usize;
        let width = columns(sc).len();
        Series {
            width,
            values: Vec::with_capacity(hours * width),
        }
    }

    /// Records one hour's row (as wide as [`columns`]).
    pub fn push_row(&mut self, row: impl IntoIterator<Item = f64>) {
        let start = self.values.len();
        self.values.extend(row);
        debug_assert_eq!(self.values.len() - start, self.width);
    }

    /// The rows recorded so far, leaving the series empty.
    pub fn take_rows(&mut self) -> Vec<Vec<f64>> {
        let values = std::mem::take(&mut self.values);
        values
            .chunks(self.width.max(1))
            .map(<[f64]>::to_vec)
            .collect()
    }
}
