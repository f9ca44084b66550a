//! What the device lifecycle works on, [`World`]: the scenario, the current time, the fleet,
//! the backend, the fault plan, the recorder of ground truth and the agenda to schedule on.
//! The rollout controller is *not* in it: the lifecycle reaches the controller only through
//! [`super::control::Control`], and the controller receives the world as its context.
//!
//! Each part keeps its own fields private (`Fleet`, `Backend`, `FaultPlan`); the world only
//! bundles them, so that a handler borrows them together without borrowing the controller.

use super::event::DeviceEvent;
use crate::backend::Backend;
use crate::engine::agenda::Agenda;
use crate::engine::rng::Purpose;
use crate::engine::time::SimTime;
use crate::error::Result;
use crate::fault::FaultPlan;
use crate::fleet::background::BackgroundTickets;
use crate::fleet::connectivity::{Overlay, Timeline};
use crate::fleet::Fleet;
use crate::metrics::counters::Counters;
use crate::scenario::Scenario;

/// An event type the lifecycle can schedule on: it packs a device event with its device.
pub trait DeviceEvents: Copy + From<(u32, DeviceEvent)> {}
impl<E: Copy + From<(u32, DeviceEvent)>> DeviceEvents for E {}

/// The state of one replication outside the controller.
pub struct World<'s, E> {
    pub scenario: &'s Scenario,
    pub rep: u64,
    pub now: SimTime,
    pub fleet: Fleet<'s>,
    pub backend: Backend,
    pub faults: FaultPlan<'s>,
    /// Ground truth, counted where the state it counts changes.
    pub recorder: Counters,
    pub agenda: Agenda<E>,
    /// First hop from each version towards the target (`u8::MAX`: none needed or possible),
    /// and the number of hops.
    pub first_hop: Vec<(u8, u8)>,
    /// The first invariant breach recorded while handling events (the run stops on it).
    pub breach: Option<String>,
    /// The fleet-level process of background support tickets.
    pub background: BackgroundTickets,
}

impl<'s, E: DeviceEvents> World<'s, E> {
    /// Replication `rep` of `scenario` at time zero, nothing scheduled yet.
    pub fn new(scenario: &'s Scenario, rep: u64) -> Result<World<'s, E>> {
        let target = scenario.policy.target;
        let first_hop = (0..scenario.versions.len() as u8)
            .map(
                |v| match crate::scenario::versions::upgrade_path(&scenario.versions, v, target) {
                    Some(path) if !path.is_empty() => (path[0], path.len() as u8),
                    _ => (u8::MAX, 0),
                },
            )
            .collect();
        let fleet = Fleet::new(scenario, rep)?;
        let background = BackgroundTickets::new(scenario, rep, fleet.len());
        Ok(World {
            scenario,
            rep,
            now: SimTime::ZERO,
            fleet,
            backend: Backend::new(scenario),
            faults: FaultPlan::new(scenario),
            recorder: Counters::new(scenario),
            agenda: Agenda::new(scenario.horizon),
            first_hop,
            breach: None,
            background,
        })
    }

    /// Schedules `event` of device `d` at `t`.
    #[inline]
    pub fn schedule_device(&mut self, t: SimTime, d: u32, event: DeviceEvent) {
        self.agenda.at(t, (d, event));
    }

    /// The key of device `d`'s stream for `purpose` in this replication.
    #[inline]
    pub fn key(&self, d: u32, purpose: Purpose) -> u64 {
        self.fleet.key(d, purpose)
    }

    #[inline]
    pub fn timeline(&self, d: u32) -> Timeline<'s> {
        self.fleet.timeline(d)
    }

    /// Device `d`'s reachability overlay: its defect effects and its faults' outages.
    #[inline]
    pub fn overlay(&self, d: u32) -> Overlay {
        self.faults.overlay(&self.fleet, d)
    }

    /// Local time of day (ms) of device `d` at `t`, as its (possibly skewed) clock says.
    pub fn local_ms_of_day(&self, d: u32, t: SimTime) -> u64 {
        self.faults.local_ms_of_day(&self.fleet, d, t)
    }

    /// Records the first breach seen while the replication runs; the event loop stops on it.
    #[cold]
    pub fn record_breach(&mut self, what: String) {
        if self.breach.is_none() {
            self.breach = Some(format!("{what} (at {} of simulated time)", self.now));
        }
    }

    /// Device `d` failed with `f`: counted globally and in the device's cohorts.
    #[inline]
    pub fn record_failure(&mut self, d: u32, f: crate::metrics::reasons::Failure) {
        let dv = self.fleet.dev(d);
        self.recorder.fail(f, dv.population, dv.stage);
    }
}
