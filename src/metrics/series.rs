//! The hourly time series of one replication (`timeseries.csv`): devices per version, load,
//! failures by reason, and the observed view next to the truth.

use super::reasons::FAILURES;
use crate::scenario::Scenario;

/// Column names after `hour`; per-version columns come first as `version_<label>`.
pub fn columns(sc: &Scenario) -> Vec<String> {
    let mut cols: Vec<String> = sc
        .versions
        .iter()
        .map(|v| format!("version_{}", v.label))
        .collect();
    for c in [
        "in_flight",
        "downloads_active",
        "notified",
        "started",
        "true_updated",
        "true_exposed",
        "true_harmed",
        "true_bricked",
        "observed_success",
        "observed_failure",
        "observed_timed_out",
        "observed_tickets",
        "rolled_back",
    ] {
        cols.push(c.to_string());
    }
    for (name, _) in FAILURES {
        cols.push(format!("failures_{name}"));
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
