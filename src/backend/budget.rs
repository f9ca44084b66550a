//! The disruption budget (SPEC §1.5b `disruption_budget`, as Flight Control and Kubernetes'
//! PodDisruptionBudget have it): devices are grouped by the values of `group_by` keys, and at
//! most `max_unavailable` devices of a group are between install start and boot at once. A
//! device over budget waits in its group's queue; a device leaving the window hands its place
//! to the first one waiting.
//!
//! The keys are population attributes (`model`, `region`, `population`, `firmware` as the
//! population starts, or a tag), so a group is a set of populations and is found once per
//! population, not per device.

use crate::scenario::model::{BudgetMax, Scenario};
use std::collections::{HashMap, VecDeque};

/// One group's budget.
#[derive(Clone, Debug)]
struct Group {
    cap: u64,
    busy: u64,
    peak: u64,
    /// Devices waiting to install, with the generation they waited at.
    waiting: VecDeque<(u32, u32)>,
}

/// Every group of the budget.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Per population: its group.
    group_of: Vec<u32>,
    groups: Vec<Group>,
}

impl Budget {
    /// The scenario's budget, if it has one.
    pub fn new(sc: &Scenario) -> Option<Budget> {
        let b = sc.policy.disruption_budget.as_ref()?;
        let mut ids: HashMap<Vec<String>, u32> = HashMap::new();
        let mut sizes: Vec<u64> = Vec::new();
        let group_of = (sc.populations.iter())
            .map(|p| {
                let key: Vec<String> = (b.group_by.iter())
                    .map(|k| p.attribute(k).unwrap_or_default())
                    .collect();
                let next = ids.len() as u32;
                let id = *ids.entry(key).or_insert(next);
                if id as usize == sizes.len() {
                    sizes.push(0);
                }
                sizes[id as usize] += p.count;
                id
            })
            .collect();
        let groups = (sizes.iter())
            .map(|&size| Group {
                cap: match b.max {
                    BudgetMax::Count(n) => n,
                    // A share rounds up, as a PodDisruptionBudget's `maxUnavailable` does: at
                    // least one device of any group may update.
                    BudgetMax::Share(s) => ((s * size as f64).ceil() as u64).max(1),
                },
                busy: 0,
                peak: 0,
                waiting: VecDeque::new(),
            })
            .collect();
        Some(Budget { group_of, groups })
    }

    /// A device of `population` asks to start installing: `true` if its group has room (it
    /// then holds a place until [`Budget::release`]).
    pub fn admit(&mut self, population: u16) -> bool {
        let g = &mut self.groups[self.group_of[population as usize] as usize];
        if g.busy < g.cap {
            g.busy += 1;
            g.peak = g.peak.max(g.busy);
            true
        } else {
            false
        }
    }

    /// Device `d` (at generation `gen`) of `population` waits for room in its group.
    pub fn wait(&mut self, population: u16, d: u32, gen: u32) {
        let g = &mut self.groups[self.group_of[population as usize] as usize];
        g.waiting.push_back((d, gen));
    }

    /// A device of `population` leaves the install window. Its place goes to the first waiting
    /// device `still_waiting` accepts (a stale entry is dropped), which is returned and holds
    /// the place from now; with nobody waiting the place is free.
    pub fn release(
        &mut self,
        population: u16,
        still_waiting: impl Fn(u32, u32) -> bool,
    ) -> Option<u32> {
        let g = &mut self.groups[self.group_of[population as usize] as usize];
        while let Some((d, gen)) = g.waiting.pop_front() {
            if still_waiting(d, gen) {
                return Some(d);
            }
        }
        g.busy -= 1;
        None
    }

    /// Per group: its budget, how many devices hold a place now, and the most that ever did.
    pub fn groups(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.groups.iter().map(|g| (g.cap, g.busy, g.peak))
    }
}
