//! Invariants of a finished replication, checked at the end of every run: a breach is a
//! simulator bug, reported with the seed and replication that reproduce it.

use super::device::flag;
use super::sim::Sim;

impl Sim<'_> {
    /// `Err` names the first invariant that does not hold.
    pub fn check_invariants(&self) -> Result<(), String> {
        let target = self.sc.policy.target;
        let mut by_version = vec![0u64; self.version_count.len()];
        let (mut in_flight, mut slots, mut on_target) = (0u64, 0u64, 0u64);
        for d in &self.dev {
            by_version[d.version as usize] += 1;
            in_flight += d.in_flight as u64;
            slots += d.has(flag::SLOT_HELD) as u64;
            on_target += (d.has(flag::TARGETED) && d.version == target) as u64;
        }
        let g = &self.ro.global;
        let checks: [(bool, String); 8] = [
            (by_version == self.version_count, format!("devices per version {:?} disagree with the running counts {:?}", by_version, self.version_count)),
            (self.version_count.iter().sum::<u64>() == self.dev.len() as u64, "counts by version do not sum to the fleet".into()),
            (in_flight == self.in_flight, format!("{in_flight} devices flagged in flight, backend counts {}", self.in_flight)),
            (slots == self.active_downloads, format!("{slots} devices hold a download slot, backend counts {}", self.active_downloads)),
            (self.active_downloads <= self.sc.backend.max_concurrent_downloads, "more downloads than `max_concurrent_downloads`".into()),
            (on_target == self.c.on_target, format!("{on_target} targeted devices run the target, counted {}", self.c.on_target)),
            (g.success <= self.c.exposed && g.reported <= g.started, format!("observed exceeds true: {} successes reported, {} exposed; {} reported of {} started", g.success, self.c.exposed, g.reported, g.started)),
            (self.c.bricked <= self.c.harmed, format!("{} bricked but only {} harmed", self.c.bricked, self.c.harmed)),
        ];
        match checks.into_iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err(what),
            None => Ok(()),
        }
    }
}
