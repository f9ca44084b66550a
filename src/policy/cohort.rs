//! Stage cohorts: which devices each stage adds, from a seed-stable random order of the fleet.
//!
//! Stage shares are cumulative over the devices a stage's selector matches that still need the
//! update (devices already on the target or newer are not part of the rollout): a stage tops
//! the devices of its selector up to its share, counting those earlier stages already took.
//! The order depends only on `(seed, replication)`, never on the policy's other knobs, so two
//! policies compared on one seed pick the same canaries. Devices that join later are not in the
//! snapshot; under `selection = "continuous"` the controller takes them as they arrive.

use crate::engine::rng::{stream_key, Purpose, Stream};
use crate::engine::time::SimTime;
use crate::fleet::Fleet;
use crate::scenario::model::Share;
use crate::scenario::Scenario;

/// Returns the fleet order and each stage's cohort (in that order).
/// The devices present at `now` count; `rep` keys the order.
pub fn build(sc: &Scenario, rep: u64, fleet: &Fleet, now: SimTime) -> (Vec<u32>, Vec<Vec<u32>>) {
    let n = fleet.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut s = Stream::new(stream_key(sc.seed, rep, u64::MAX, Purpose::Order));
    for i in (1..n).rev() {
        let j = (s.uniform() * (i + 1) as f64) as usize;
        order.swap(i, j.min(i));
    }
    let target = sc.policy.target;
    // Selector results depend only on (population, initial version): evaluate them once.
    let nv = sc.versions.len();
    let matches: Vec<Vec<bool>> = sc
        .policy
        .stages
        .iter()
        .map(|stage| {
            let mut m = vec![false; sc.populations.len() * nv];
            for (p, pop) in sc.populations.iter().enumerate() {
                for v in 0..nv {
                    m[p * nv + v] = stage
                        .select
                        .matches(&pop.attrs(&sc.versions[v].label, None));
                }
            }
            m
        })
        .collect();
    let mut taken = vec![false; n];
    let mut cohorts = Vec::with_capacity(sc.policy.stages.len());
    for (i, stage) in sc.policy.stages.iter().enumerate() {
        let eligible = |d: u32| {
            let dv = fleet.dev(d);
            fleet.present(d, now)
                && dv.version < target
                && matches[i][dv.population as usize * nv + dv.version as usize]
        };
        let matching = order.iter().filter(|&&d| eligible(d)).count() as u64;
        let wanted = match stage.share {
            Share::Percent(p) => ((p / 100.0) * matching as f64 - 1e-9).ceil().max(0.0) as u64,
            Share::Count(c) => c.min(matching),
        };
        let already = order
            .iter()
            .filter(|&&d| taken[d as usize] && eligible(d))
            .count() as u64;
        let mut need = wanted.saturating_sub(already);
        let mut cohort = Vec::new();
        for &d in &order {
            if need == 0 {
                break;
            }
            if !taken[d as usize] && eligible(d) {
                taken[d as usize] = true;
                cohort.push(d);
                need -= 1;
            }
        }
        cohorts.push(cohort);
    }
    (order, cohorts)
}
