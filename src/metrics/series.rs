//! The hourly time series of one replication (`timeseries.csv`): devices per version, load,
//! failures by reason, and the observed view next to the truth.

use crate::engine::device::FAILURES;
use crate::engine::sim::Sim;
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

impl Sim<'_> {
    pub(crate) fn sample(&mut self) {
        let g = self.ro.global;
        let mut row: Vec<f64> = self.version_count.iter().map(|&c| c as f64).collect();
        row.extend([
            self.in_flight as f64,
            self.active_downloads as f64,
            g.notified as f64,
            g.started as f64,
            self.c.on_target as f64,
            self.c.exposed as f64,
            self.c.harmed as f64,
            self.c.bricked as f64,
            g.success as f64,
            g.failure as f64,
            g.timed_out as f64,
            self.ro.tickets_by(None, self.now.0) as f64,
            self.c.rolled_back as f64,
        ]);
        row.extend(self.c.failures.iter().map(|&f| f as f64));
        self.series.rows.push(row);
    }
}
