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
    // Each position's selector class, `population × versions + version` of the device there
    // (`OUT`: absent or already on the target): one pass in random order over the records,
    // after which every stage's passes read this array in order instead of the records.
    const OUT: u32 = u32::MAX;
    let class: Vec<u32> = order
        .iter()
        .map(|&d| {
            let dv = fleet.dev(d);
            if fleet.present(d, now) && dv.version < target {
                dv.population as u32 * nv as u32 + dv.version as u32
            } else {
                OUT
            }
        })
        .collect();
    // Indexed by position in `order`, like `class`.
    let mut taken = vec![false; n];
    let mut cohorts = Vec::with_capacity(sc.policy.stages.len());
    for (m, stage) in matches.iter().zip(&sc.policy.stages) {
        let eligible = |c: u32| c != OUT && m[c as usize];
        let (mut matching, mut already) = (0u64, 0u64);
        for (&c, &t) in class.iter().zip(&taken) {
            if eligible(c) {
                matching += 1;
                already += u64::from(t);
            }
        }
        let wanted = match stage.share {
            Share::Percent(p) => ((p / 100.0) * matching as f64 - 1e-9).ceil().max(0.0) as u64,
            Share::Count(c) => c.min(matching),
        };
        let mut need = wanted.saturating_sub(already);
        let mut cohort = Vec::new();
        for ((&c, t), &d) in class.iter().zip(taken.iter_mut()).zip(&order) {
            if need == 0 {
                break;
            }
            if !*t && eligible(c) {
                *t = true;
                cohort.push(d);
                need -= 1;
            }
        }
        cohorts.push(cohort);
    }
    (order, cohorts)
}
