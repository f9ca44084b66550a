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

use crate::engine::queue::EventQueue;
use crate::engine::rng::{stream_key, Purpose, Stream};
use crate::engine::time::{SimTime, DAY_MS, HOUR_MS};
use crate::error::{Error, Result};
use crate::fleet::connectivity::{Overlay, Timeline};
use crate::fleet::device::{Device, NO_EFFECTS};
use crate::lifecycle::event::DeviceEvent;
use crate::metrics::counters::Counters;
use crate::metrics::series::Series;
use crate::policy::event::PolicyEvent;
use crate::policy::rollout::Rollout;
use crate::scenario::Scenario;
pub use event::{kind_name, Event, Kind, KINDS, KIND_COUNT};
use std::collections::VecDeque;

/// Defect effects active on one device (a side table: few devices have any).
#[derive(Clone, Copy, Debug)]
pub struct Effects {
    /// The release these effects belong to: they act only while the device runs it.
    pub version: u8,
    pub down_from: u64,
    pub down_until: u64,
    pub crash_factor: f64,
    pub crash_onset: u64,
    pub loop_onset: u64,
    pub availability: f64,
    pub telemetry_onset: u64,
    pub command_rate: f64,
    pub command_onset: u64,
    pub drain_factor: f64,
    /// When a battery-drain defect starts to act (boot plus its `after` delay).
    pub drain_onset: u64,
    /// When the device left `version` (`u64::MAX` while it still runs it).
    pub left_at: u64,
}

impl Effects {
    pub fn new(version: u8) -> Effects {
        Effects {
            version,
            down_from: u64::MAX,
            down_until: 0,
            crash_factor: 1.0,
            crash_onset: u64::MAX,
            loop_onset: u64::MAX,
            availability: 1.0,
            telemetry_onset: u64::MAX,
            command_rate: 0.0,
            command_onset: u64::MAX,
            drain_factor: 1.0,
            drain_onset: u64::MAX,
            left_at: u64::MAX,
        }
    }
}

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
    pub dev: Vec<Device>,
    pub effects: Vec<Effects>,
    /// Devices waiting for a backend download slot, with the generation they queued at.
    pub slot_queue: VecDeque<(u32, u32)>,
    pub active_downloads: u64,
    pub in_flight: u64,
    pub ro: Rollout,
    pub c: Counters,
    pub series: Series,
    pub trace: Vec<TraceRow>,
    pub limits: RunLimits,
    /// Per version: how many devices run it now.
    pub version_count: Vec<u64>,
    /// First hop from each version towards the target (`u8::MAX`: none needed or possible),
    /// and the number of hops.
    pub first_hop: Vec<(u8, u8)>,
    pub fault_index: crate::fault::FaultIndex,
    /// Devices `base_devices..` join the fleet later (`arrivals_per_day`), at `arrivals[d - base]`.
    pub base_devices: u32,
    pub arrivals: Vec<u64>,
    /// Whether arrival `k` has joined the fleet (its `Arrival` event has happened).
    pub arrived: Vec<bool>,
    /// The first invariant breach recorded while the replication runs (`invariants`).
    pub breach: Option<String>,
    /// Events processed, by kind (index: `Kind as usize`), for `perf.json`.
    pub events_by_kind: [u64; KIND_COUNT],
}

/// Device `i` of population `pop` in its state at time zero, its firmware drawn from the
/// population's mix with the device's own stream.
fn new_device(
    sc: &Scenario,
    rep: u64,
    population: u16,
    pop: &crate::scenario::model::Population,
    i: u64,
) -> Device {
    let u = Stream::keyed(sc.seed, rep, i, Purpose::Firmware).uniform();
    let version = pop
        .firmware_mix
        .iter()
        .find(|(_, c)| u <= *c)
        .map_or(pop.firmware_mix.last().map_or(0, |x| x.0), |x| x.0);
    Device {
        population,
        effects: NO_EFFECTS,
        stage: crate::fleet::device::NO_STAGE,
        version,
        initial_version: version,
        previous_version: version,
        ..Device::default()
    }
}

impl<'s> Sim<'s> {
    /// Builds the fleet of replication `rep` in its state at time zero.
    pub fn new(sc: &'s Scenario, rep: u64, limits: RunLimits) -> Result<Sim<'s>> {
        let n = sc.device_count();
        if n > u32::MAX as u64 - 1 {
            return Err(Error::Limit(format!(
                "{n} devices do not fit the device index"
            )));
        }
        let mut dev = Vec::new();
        dev.try_reserve_exact(n as usize)
            .map_err(|_| Error::Limit(format!("cannot allocate {n} device records")))?;
        let mut version_count = vec![0u64; sc.versions.len()];
        // Validation caps populations at `MAX_POPULATIONS`; the checked conversion keeps a
        // scenario built some other way from wrapping the index (devices would take another
        // population's settings).
        let pop_index = |p: usize| {
            u16::try_from(p).map_err(|_| {
                Error::Limit(format!(
                    "population {p} does not fit the u16 population index (at most {} populations)",
                    crate::scenario::limits::MAX_POPULATIONS
                ))
            })
        };
        for (p, pop) in sc.populations.iter().enumerate() {
            let population = pop_index(p)?;
            for _ in 0..pop.count {
                let d = new_device(sc, rep, population, pop, dev.len() as u64);
                version_count[d.version as usize] += 1;
                dev.push(d);
            }
        }
        let base_devices = dev.len() as u32;
        let mut arrivals = Vec::new();
        for (p, pop) in sc
            .populations
            .iter()
            .enumerate()
            .filter(|(_, p)| p.arrivals_per_day > 0.0)
        {
            // A Poisson process of joins over the horizon, from the population's own stream.
            let mut s = Stream::new(crate::engine::rng::population_key(
                sc.seed,
                rep,
                p,
                Purpose::Arrival,
            ));
            let mean_gap_ms = crate::engine::time::DAY_MS as f64 / pop.arrivals_per_day;
            let mut t = 0.0;
            loop {
                t += mean_gap_ms * s.exp1();
                if t >= sc.horizon.0 as f64 {
                    break;
                }
                // Validation bounds the expected arrivals by the device limit; a draw far in
                // the Poisson tail still stops here rather than exhausting memory.
                if dev.len() as u64 >= crate::scenario::limits::MAX_DEVICES {
                    return Err(Error::Limit(format!(
                        "arrivals of population `{}` take the fleet past {} devices",
                        pop.name,
                        crate::scenario::limits::MAX_DEVICES
                    )));
                }
                let population = pop_index(p)?;
                dev.push(new_device(sc, rep, population, pop, dev.len() as u64));
                arrivals.push(t as u64);
            }
        }
        let target = sc.policy.target;
        let first_hop = (0..sc.versions.len() as u8)
            .map(
                |v| match crate::scenario::versions::upgrade_path(&sc.versions, v, target) {
                    Some(path) if !path.is_empty() => (path[0], path.len() as u8),
                    _ => (u8::MAX, 0),
                },
            )
            .collect();
        let mut sim = Sim {
            sc,
            rep,
            now: SimTime::ZERO,
            q: EventQueue::new(),
            dev,
            effects: Vec::new(),
            slot_queue: VecDeque::new(),
            active_downloads: 0,
            in_flight: 0,
            ro: Rollout::new(sc),
            c: Counters::new(sc),
            series: Series::new(sc),
            trace: Vec::new(),
            limits,
            version_count,
            first_hop,
            fault_index: crate::fault::FaultIndex::new(sc),
            base_devices,
            arrived: vec![false; arrivals.len()],
            arrivals,
            breach: None,
            events_by_kind: [0; KIND_COUNT],
        };
        for i in 0..sim.dev.len() {
            let tl = sim.timeline(i as u32);
            tl.init(&mut sim.dev[i]);
        }
        // A device that has not joined yet is unreachable, and counted from its arrival on.
        for k in 0..sim.arrivals.len() {
            let d = sim.base_devices + k as u32;
            let (v, at) = (sim.dev[d as usize].version, sim.arrivals[k]);
            let fx = sim.effects_mut(d, v);
            fx.down_from = 0;
            fx.down_until = at;
        }
        Ok(sim)
    }

    /// Whether device `d` is part of the fleet at `t` (arrivals join later).
    #[inline]
    pub fn present(&self, d: u32, t: SimTime) -> bool {
        d < self.base_devices || self.arrivals[(d - self.base_devices) as usize] <= t.0
    }

    /// A device joins the fleet; under `selection = "continuous"` a running rollout takes it.
    fn on_arrival(&mut self, d: u32) {
        let v = self.dev[d as usize].version;
        self.version_count[v as usize] += 1;
        self.arrived[(d - self.base_devices) as usize] = true;
        self.adopt_arrival(d);
    }

    /// The key of device `d`'s stream for `purpose` in this replication.
    #[inline]
    pub fn key(&self, d: u32, purpose: Purpose) -> u64 {
        stream_key(self.sc.seed, self.rep, d as u64, purpose)
    }

    #[inline]
    pub fn timeline(&self, d: u32) -> Timeline<'s> {
        let pop = &self.sc.populations[self.dev[d as usize].population as usize];
        Timeline {
            profile: &self.sc.connectivity[pop.connectivity],
            key: self.key(d, Purpose::Connectivity),
            telemetry_ms: pop.telemetry_interval_ms,
            horizon_ms: self.sc.horizon.0,
        }
    }

    #[inline]
    pub fn overlay(&self, d: u32) -> Overlay {
        let mut o = self.effects_overlay(d);
        if !self.sc.faults.is_empty() {
            self.add_fault_windows(d, &mut o);
        }
        o
    }

    fn effects_overlay(&self, d: u32) -> Overlay {
        let e = self.dev[d as usize].effects;
        if e == NO_EFFECTS {
            return Overlay::NONE;
        }
        let fx = &self.effects[e as usize];
        let loop_active = fx.loop_onset < fx.left_at;
        Overlay {
            down_from: fx.down_from,
            down_until: fx.down_until,
            loop_onset: if loop_active { fx.loop_onset } else { u64::MAX },
            loop_end: fx.left_at,
            availability: fx.availability,
            ..Overlay::NONE
        }
    }

    /// The effects entry of device `d`, created on first use.
    pub fn effects_mut(&mut self, d: u32, version: u8) -> &mut Effects {
        let idx = self.dev[d as usize].effects;
        if idx == NO_EFFECTS || self.effects[idx as usize].version != version {
            // A device that installs another defective release gets a fresh entry; the old one's
            // harm has been counted already.
            let down = if idx == NO_EFFECTS {
                None
            } else {
                Some((
                    self.effects[idx as usize].down_from,
                    self.effects[idx as usize].down_until,
                ))
            };
            let mut fx = Effects::new(version);
            if let Some((from, until)) = down {
                fx.down_from = from;
                fx.down_until = until;
            }
            self.effects.push(fx);
            self.dev[d as usize].effects = (self.effects.len() - 1) as u32;
        }
        let idx = self.dev[d as usize].effects as usize;
        &mut self.effects[idx]
    }

    /// Local time of day (ms) of device `d` at simulated time `t`.
    /// Includes a `clock-skew` fault: the device's idea of its local time.
    pub fn local_ms_of_day(&self, d: u32, t: SimTime) -> u64 {
        let pop = &self.sc.populations[self.dev[d as usize].population as usize];
        let skew = if self.sc.faults.is_empty() {
            0
        } else {
            self.clock_skew_ms(d, t)
        };
        let offset_ms = (self.sc.start_unix_s + pop.utc_offset_s) * 1000 + skew;
        (offset_ms.rem_euclid(DAY_MS as i64) as u64 + t.0 % DAY_MS) % DAY_MS
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
        for k in 0..self.arrivals.len() {
            let device = self.base_devices + k as u32;
            self.schedule(SimTime(self.arrivals[k]), Event::Arrival { device });
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
                Some(d) => format!("{:?}", self.dev[d as usize].phase),
                None => event.trace_detail().to_string(),
            },
        });
    }
}
