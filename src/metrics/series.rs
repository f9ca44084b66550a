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

/// Rows of the series, one per simulated hour from time zero.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub rows: Vec<Vec<f64>>,
}

impl Series {
    pub fn new(sc: &Scenario) -> Series {
        let hours = (sc.horizon.0 / crate::engine::time::HOUR_MS + 1) as usize;
        Series {
            rows: Vec::with_capacity(hours),
        }
    }
}
