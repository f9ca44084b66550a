//! The hourly sample of the replication's state into the recorder's series
//! (`crate::metrics::series`).

use super::Sim;

impl Sim<'_> {
    pub(crate) fn sample(&mut self) {
        let g = self.backend.global();
        let versions = self.fleet.version_counts().iter().map(|&c| c as f64);
        let totals = [
            self.backend.in_flight() as f64,
            self.backend.active_downloads() as f64,
            g.notified as f64,
            g.started as f64,
            self.c.on_target as f64,
            self.c.exposed as f64,
            self.c.harmed as f64,
            self.c.bricked as f64,
            g.success as f64,
            g.failure as f64,
            g.timed_out as f64,
            self.backend.tickets_by(None, self.now) as f64,
            self.c.rolled_back as f64,
        ];
        let failures = self.c.failures.iter().map(|&f| f as f64);
        self.series.push_row(versions.chain(totals).chain(failures));
    }
}
