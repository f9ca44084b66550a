//! Harm, bricks, failures and stranded devices by cohort: per model, per region and per stage
//! (`by_cohort` in `summary.json`). A cohort here is one value of one dimension — model
//! `sn-10`, region `eu`, stage `canary` — so that each dimension partitions the fleet and the
//! counts of a dimension's cohorts sum to the global metric.
//!
//! Each device counts in three slots (its model's, its region's, its stage's) of a flat table
//! laid out as [`Slots`] says. Failures and stranded devices are counted by the recorder where
//! they happen (three increments per failure); harm and bricks are read from the device flags
//! in one pass at the end.

use super::reasons::{FAILURES, REASONS};
use crate::scenario::Scenario;
use std::collections::BTreeMap;

/// The dimensions, in the order of their slots and of `summary.json`.
pub const DIMENSIONS: [&str; 3] = ["model", "region", "stage"];
/// The stage cohort of devices no stage targeted (as in `breakdown.csv`).
pub const NOT_TARGETED: &str = "not targeted";
/// The cohort of devices whose population names no model (or no region).
pub const UNNAMED: &str = "-";

/// Where each cohort's counts live: the models (sorted), then the regions (sorted), then the
/// stages in plan order and [`NOT_TARGETED`].
#[derive(Clone, Debug, Default)]
pub struct Slots {
    /// Per slot: its dimension (index into [`DIMENSIONS`]) and cohort name.
    pub names: Vec<(usize, String)>,
    /// Per population entry: the slots of its model and its region.
    population: Vec<[u32; 2]>,
    /// The first stage slot, and the number of stage slots (stages + 1).
    stage_base: u32,
    stages: u32,
}

impl Slots {
    pub fn new(sc: &Scenario) -> Slots {
        let label = |s: &str| {
            if s.is_empty() {
                UNNAMED.to_string()
            } else {
                s.to_string()
            }
        };
        let distinct = |f: &dyn Fn(&crate::scenario::model::Population) -> &str| {
            let mut v: Vec<String> = sc.populations.iter().map(|p| label(f(p))).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (models, regions) = (distinct(&|p| &p.model), distinct(&|p| &p.region));
        let slot = |names: &[String], base: usize, name: &str| {
            (base + names.binary_search(&label(name)).unwrap_or(0)) as u32
        };
        let population = (sc.populations.iter())
            .map(|p| {
                [
                    slot(&models, 0, &p.model),
                    slot(&regions, models.len(), &p.region),
                ]
            })
            .collect();
        let stage_base = (models.len() + regions.len()) as u32;
        let mut names: Vec<(usize, String)> = Vec::new();
        names.extend(models.into_iter().map(|m| (0, m)));
        names.extend(regions.into_iter().map(|r| (1, r)));
        names.extend(sc.policy.stages.iter().map(|s| (2, s.name.clone())));
        names.push((2, NOT_TARGETED.to_string()));
        Slots {
            names,
            population,
            stage_base,
            stages: sc.policy.stages.len() as u32 + 1,
        }
    }

    /// How many slots there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there is no slot (a recorder built without a scenario).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The three slots of a device of population entry `population` in stage `stage`
    /// (`NO_STAGE` or any index past the plan: not targeted). `None` without slots.
    #[inline]
    pub fn of(&self, population: u16, stage: u8) -> Option<[usize; 3]> {
        let [m, r] = *self.population.get(population as usize)?;
        let s = self.stage_base + (stage as u32).min(self.stages - 1);
        Some([m as usize, r as usize, s as usize])
    }
}

/// One cohort's counts in one replication.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CohortCounts {
    /// Harmed devices of the cohort (`harmed`).
    pub harmed: u64,
    /// Bricked devices of the cohort (`bricked`).
    pub bricked: u64,
    /// Failure events of the cohort's devices, by reason (`failures_by_reason`).
    pub failures_by_reason: BTreeMap<String, u64>,
    /// Stranded devices of the cohort, by reason (`stranded_by_reason`).
    pub stranded_by_reason: BTreeMap<String, u64>,
}

/// Dimension (`model`, `region`, `stage`) → cohort name → counts.
pub type ByCohort = BTreeMap<String, BTreeMap<String, CohortCounts>>;

/// The counts by dimension and cohort from per-slot counts (`devices`: `[harmed, bricked]`;
/// `failures` and `stranded` by kind), every cohort of the scenario present (its slots are fixed
/// by the scenario) and every reason present, as in the global `*_by_reason` maps.
pub fn build(
    slots: &Slots,
    devices: &[[u64; 2]],
    failures: &[[u64; FAILURES.len()]],
    stranded: &[[u64; REASONS.len()]],
) -> ByCohort {
    let mut out: ByCohort = DIMENSIONS
        .iter()
        .map(|d| (d.to_string(), BTreeMap::new()))
        .collect();
    for (i, (dim, name)) in slots.names.iter().enumerate() {
        let cohorts = out.get_mut(DIMENSIONS[*dim]).expect("every dimension");
        // Two stages of one name would share a key: their counts add up.
        let e: &mut CohortCounts = cohorts.entry(name.clone()).or_default();
        let [harmed, bricked] = devices.get(i).copied().unwrap_or_default();
        e.harmed += harmed;
        e.bricked += bricked;
        for (n, f) in FAILURES {
            let k = failures.get(i).map_or(0, |x| x[f as usize]);
            *e.failures_by_reason.entry(n.to_string()).or_insert(0) += k;
        }
        for (n, r) in REASONS {
            let k = stranded.get(i).map_or(0, |x| x[r as usize]);
            *e.stranded_by_reason.entry(n.to_string()).or_insert(0) += k;
        }
    }
    out
}
