//! One replication: the fleet's state, the event loop, and dispatch to the device lifecycle
//! (`lifecycle`) and the rollout controller (`crate::policy`).
//!
//! ```text
//!   RolloutStart ─► open stage ─► Notify (rate) ─► CheckIn ─► preflight ─► download ─► install
//!        ▲                                                                          │
//!        └─ gate judge ◄─ bake ◄─ reports ◄─ CheckIn (result) ◄─ boot (defects) ◄───┘
//! ```
//!
//! The loop pops events in `(time, sequence)` order and stops at the horizon. A run that would
//! process more than `max_events` ends with [`Error::Limit`] instead of running away.

pub mod event;
pub mod invariants;
mod outcome;
mod sample;

use crate::backend::Backend;
use crate::engine::queue::EventQueue;
use crate::engine::rng::Purpose;
use crate::engine::time::{SimTime, HOUR_MS};
use crate::error::{Error, Result};
use crate::fleet::connectivity::{Overlay, Timeline};
use crate::fleet::Fleet;
use crate::lifecycle::event::DeviceEvent;
use crate::metrics::counters::Counters;
use crate::metrics::series::Series;
use crate::policy::event::PolicyEvent;
use crate::policy::rollout::Rollout;
use crate::scenario::Scenario;
pub use event::{kind_name, Event, Kind, KINDS, KIND_COUNT};

/// Knobs of a run that are not part of the scenario.
#[derive(Clone, Debug)]
pub struct RunLimits {
    /// Most events one replication may process.
    pub max_events: u64,
    /// Record up to this many trace rows (0: no trace).
    pub trace_rows: usize,
    /// Check the whole state once a simulated day, not only at the end (`invariants`). On by
    /// default in debug builds; the test suite turns it on in release builds too, so CI runs
    /// the checks at release speed on every fixture.
    pub daily_invariants: bool,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            max_events: 2_000_000_000,
            trace_rows: 0,
            daily_invariants: cfg!(debug_assertions),
        }
    }
}

/// One traced event (for `events.csv`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TraceRow {
    pub time_ms: u64,
    pub event: std::borrow::Cow<'static, str>,
    pub device: Option<u32>,
    pub detail: String,
}

/// The state of one replication.
pub struct Sim<'s> {
    pub sc: &'s Scenario,
    pub rep: u64,
    pub now: SimTime,
    pub q: EventQueue<Event>,
    pub fleet: Fleet<'s>,
    pub backend: Backend,
    pub ro: Rollout,
    pub c: Counters,
    pub series: Series,
    pub trace: Vec<TraceRow>,
    pub limits: RunLimits,
    /// First hop from each version towards the target (`u8::MAX`: none needed or possible),
    /// and the number of hops.
    pub first_hop: Vec<(u8, u8)>,
    pub fault_index: crate::fault::FaultIndex,
    /// The first invariant breach recorded while the replication runs (`invariants`).
    pub breach: Option<String>,
    /// Events processed, by kind (index: `Kind as usize`), for `perf.json`.
    pub events_by_kind: [u64; KIND_COUNT],
}

impl<'s> Sim<'s> {
    /// Builds the fleet of replication `rep` in its state at time zero.
    pub fn new(sc: &'s Scenario, rep: u64, limits: RunLimits) -> Result<Sim<'s>> {
        let fleet = Fleet::new(sc, rep)?;
        let target = sc.policy.target;
        let first_hop = (0..sc.versions.len() as u8)
            .map(
                |v| match crate::scenario::versions::upgrade_path(&sc.versions, v, target) {
                    Some(path) if !path.is_empty() => (path[0], path.len() as u8),
                    _ => (u8::MAX, 0),
                },
            )
            .collect();
        Ok(Sim {
            sc,
            rep,
            now: SimTime::ZERO,
            q: EventQueue::new(),
            fleet,
            backend: Backend::new(sc),
            ro: Rollout::new(sc),
            c: Counters::new(sc),
            series: Series::new(sc),
            trace: Vec::new(),
            limits,
            first_hop,
            fault_index: crate::fault::FaultIndex::new(sc),
            breach: None,
            events_by_kind: [0; KIND_COUNT],
        })
    }

    /// A device joins the fleet; under `selection = "continuous"` a running rollout takes it.
    fn on_arrival(&mut self, d: u32) {
        self.fleet.arrive(d);
        self.adopt_arrival(d);
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

    #[inline]
    pub fn overlay(&self, d: u32) -> Overlay {
        let mut o = self.fleet.effects_overlay(d);
        if !self.sc.faults.is_empty() {
            self.add_fault_windows(d, &mut o);
        }
        o
    }

    /// Local time of day (ms) of device `d` at simulated time `t`.
    /// Includes a `clock-skew` fault: the device's idea of its local time.
    pub fn local_ms_of_day(&self, d: u32, t: SimTime) -> u64 {
        let skew = if self.sc.faults.is_empty() {
            0
        } else {
            self.clock_skew_ms(d, t)
        };
        self.fleet.local_ms_of_day(d, t, skew)
    }

    /// Schedules an event (none past the horizon). An event before the current time is an
    /// invariant breach: it is recorded, and the run stops with it after the current event.
    #[inline]
    pub fn schedule(&mut self, t: SimTime, event: impl Into<Event>) {
        let event = event.into();
        if t <= self.sc.horizon && !self.q.push(t, event) {
            self.scheduled_in_past(t, event);
        }
    }

    /// Schedules `event` of device `d`.
    #[inline]
    pub fn schedule_device(&mut self, t: SimTime, d: u32, event: DeviceEvent) {
        self.schedule(t, Event::Device { device: d, event });
    }

    /// Runs the replication to its horizon.
    pub fn run(&mut self) -> Result<()> {
        self.schedule(self.sc.policy.start, PolicyEvent::RolloutStart);
        self.schedule(
            self.sc.policy.window_end.min(self.sc.horizon),
            PolicyEvent::WindowClose,
        );
        self.schedule(SimTime::ZERO, Event::Sample);
        for k in 0..self.sc.faults.len() {
            self.schedule(
                self.sc.faults[k].from,
                Event::FaultStart { fault: k as u32 },
            );
        }
        let arrivals: Vec<_> = self.fleet.arrivals().collect();
        for (device, at) in arrivals {
            self.schedule(at, Event::Arrival { device });
        }
        while let Some((time, event)) = self.q.pop() {
            self.now = time;
            if self.q.popped() > self.limits.max_events {
                return Err(Error::Limit(format!(
                    "replication {} processed more than {} events before {} of simulated time; raise the limit or shorten the horizon",
                    self.rep, self.limits.max_events, self.now
                )));
            }
            if self.trace.len() < self.limits.trace_rows {
                self.trace_event(event);
            }
            self.events_by_kind[event.kind() as usize] += 1;
            self.dispatch(event);
            if self.breach.is_some() {
                return Err(self.breach_error());
            }
        }
        self.now = self.sc.horizon;
        self.finish();
        self.verify()
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Device { device, event } => self.dispatch_device(device, event),
            Event::Policy(p) => self.dispatch_policy(p),
            Event::FaultStart { fault } => self.on_fault_start(fault as usize),
            Event::Sample => {
                self.sample();
                self.schedule(self.now.plus(HOUR_MS), Event::Sample);
                self.periodic_check();
            }
            Event::Arrival { device } => self.on_arrival(device),
        }
    }

    fn dispatch_device(&mut self, d: u32, event: DeviceEvent) {
        match event {
            DeviceEvent::CheckIn { gen } => self.on_check_in(d, gen),
            DeviceEvent::DownloadDone { gen } => self.on_download_done(d, gen),
            DeviceEvent::DownloadInterrupted { gen } => self.on_download_interrupted(d, gen),
            DeviceEvent::InstallStart { gen } => self.on_install_start(d, gen),
            DeviceEvent::InstallDone { gen } => self.on_install_done(d, gen),
            DeviceEvent::BootDone { gen } => self.on_boot_done(d, gen),
            DeviceEvent::Timeout { job, execution } => self.on_timeout(d, job, execution),
            DeviceEvent::HarmOnset { version } => self.on_harm_onset(d, version),
            DeviceEvent::ReportArrive { job, failure } => self.receive_report(d, job, failure),
        }
    }

    fn dispatch_policy(&mut self, event: PolicyEvent) {
        match event {
            PolicyEvent::RolloutStart => self.start_rollout(),
            PolicyEvent::Notify => self.on_notify(),
            PolicyEvent::StageJudge { stage } => self.on_stage_judge(stage as usize),
            PolicyEvent::StageMaxWait { stage } => self.on_stage_max_wait(stage as usize),
            PolicyEvent::ShadowJudge { shadow } => self.on_shadow_judge(shadow as usize),
            PolicyEvent::ShadowMaxWait { shadow } => self.on_shadow_max_wait(shadow as usize),
            PolicyEvent::Operator(act) => self.on_operator(act),
            PolicyEvent::WindowClose => self.on_window_close(),
        }
    }

    fn trace_event(&mut self, event: Event) {
        let device = event.device();
        self.trace.push(TraceRow {
            time_ms: self.now.0,
            event: kind_name(event.kind()).into(),
            device,
            detail: match device {
                Some(d) => format!("{:?}", self.fleet.dev(d).phase),
                None => event.trace_detail().to_string(),
            },
        });
    }
}
