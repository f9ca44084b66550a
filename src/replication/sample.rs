//! The hourly sample of the replication's state into the recorder's series
//! (`crate::metrics::series`).

use super::Sim;

impl Sim<'_> {
    pub(crate) fn sample(&mut self) {
        let g = self.world.backend.global();
        let versions = self.world.fleet.version_counts().iter().map(|&c| c as f64);
        let totals = [
            self.world.backend.in_flight() as f64,
            self.world.backend.active_downloads() as f64,
            g.notified as f64,
            g.started as f64,
            self.world.recorder.on_target as f64,
            self.world.recorder.exposed as f64,
            self.world.recorder.harmed as f64,
            self.world.recorder.bricked as f64,
            g.success as f64,
            g.failure as f64,
            g.timed_out as f64,
            g.rejected as f64,
            self.world.backend.tickets_by(None, self.world.now) as f64,
            self.world.recorder.rolled_back as f64,
        ];
        let failures = self.world.recorder.failures.iter().map(|&f| f as f64);
        self.series.push_row(versions.chain(totals).chain(failures));
    }
}
