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

use crate::engine::time::{SimTime, HOUR_MS};
use crate::error::{Error, Result};
use crate::lifecycle::event::DeviceEvent;
use crate::lifecycle::world::World;
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

/// One replication: the world (fleet, backend, faults, recorder, agenda) and the rollout
/// controller, side by side, with the recorder's series and trace. The replication routes
/// each event to its owner: device events to the lifecycle (which reaches the controller only
/// through `Control`), policy events to the controller.
pub struct Sim<'s> {
    pub scenario: &'s Scenario,
    pub rep: u64,
    pub world: World<'s, Event>,
    pub controller: Rollout,
    pub series: Series,
    pub trace: Vec<TraceRow>,
    pub limits: RunLimits,
    /// Events processed, by kind (index: `Kind as usize`), for `perf.json`.
    pub events_by_kind: [u64; KIND_COUNT],
}

impl<'s> Sim<'s> {
    /// Builds the fleet of replication `rep` in its state at time zero.
    pub fn new(scenario: &'s Scenario, rep: u64, limits: RunLimits) -> Result<Sim<'s>> {
        Ok(Sim {
            scenario,
            rep,
            world: World::new(scenario, rep)?,
            controller: Rollout::new(scenario),
            series: Series::new(scenario),
            trace: Vec::new(),
            limits,
            events_by_kind: [0; KIND_COUNT],
        })
    }

    /// Schedules an event (none past the horizon). An event before the current time is an
    /// invariant breach: it is recorded, and the run stops with it after the current event.
    pub fn schedule(&mut self, t: SimTime, event: impl Into<Event>) {
        self.world.agenda.at(t, event);
        self.note_past();
    }

    /// Schedules `event` of device `d`.
    pub fn schedule_device(&mut self, t: SimTime, d: u32, event: DeviceEvent) {
        self.schedule(t, Event::Device { device: d, event });
    }

    /// Turns an event the handlers scheduled in the past into the recorded breach.
    #[inline]
    fn note_past(&mut self) {
        if let Some((t, event)) = self.world.agenda.take_past() {
            self.scheduled_in_past(t, event);
        }
    }

    /// Runs the replication to its horizon.
    pub fn run(&mut self) -> Result<()> {
        let sc = self.scenario;
        self.schedule(sc.policy.start, PolicyEvent::RolloutStart);
        self.schedule(
            sc.policy.window_end.min(sc.horizon),
            PolicyEvent::WindowClose,
        );
        self.schedule(SimTime::ZERO, Event::Sample);
        for (k, fault) in sc.faults.iter().enumerate() {
            self.schedule(fault.from, Event::FaultStart { fault: k as u32 });
        }
        for at in self.world.faults.api_losses() {
            self.schedule(at, Event::ApiChange);
        }
        let arrivals: Vec<_> = self.world.fleet.arrivals().collect();
        for (device, at) in arrivals {
            self.schedule(at, Event::Arrival { device });
        }
        if let Some(t) = self.world.next_background_ticket() {
            self.schedule(t, Event::BackgroundTicket);
        }
        while let Some((time, event)) = self.world.agenda.pop() {
            self.world.now = time;
            if self.world.agenda.popped() > self.limits.max_events {
                return Err(Error::Limit(format!(
                    "replication {} processed more than {} events before {} of simulated time; raise the limit or shorten the horizon",
                    self.rep, self.limits.max_events, self.world.now
                )));
            }
            if self.trace.len() < self.limits.trace_rows {
                self.trace_event(event);
            }
            self.events_by_kind[event.kind() as usize] += 1;
            // The next event's device record is most likely not in cache: start loading it
            // now, so that the miss overlaps this event's work. A notification's device is the
            // front of the rollout's queue (in the cohort's random order).
            match self.world.agenda.next_hint() {
                Some(&Event::Device { device, .. }) => self.world.fleet.prefetch(device),
                Some(&Event::Policy(PolicyEvent::Notify)) => {
                    if let Some(d) = self.controller.next_to_notify() {
                        self.world.fleet.prefetch(d);
                    }
                }
                _ => {}
            }
            self.dispatch(event);
            // The stance changes in policy events and in results (abort rules): checked after
            // any event, and only while devices wait for the in-flight limit.
            if !self.world.backend.waitlist().is_empty()
                && !crate::lifecycle::control::Control::<Event>::stance(&self.controller)
                    .accepting_updates()
            {
                self.world.release_waiters();
            }
            self.note_past();
            if self.world.breach.is_some() {
                return Err(self.breach_error());
            }
        }
        self.world.now = sc.horizon;
        self.finish();
        self.verify()
    }

    fn dispatch(&mut self, event: Event) {
        let (w, ctl) = (&mut self.world, &mut self.controller);
        match event {
            Event::Device { device, event } => w.on_event(ctl, device, event),
            Event::Policy(p) => ctl.on_event(w, p),
            Event::FaultStart { fault } => w.on_fault_start(fault as usize),
            Event::Sample => {
                self.sample();
                let next = self.world.now.plus(HOUR_MS);
                self.schedule(next, Event::Sample);
                self.periodic_check();
            }
            Event::ApiChange => w.on_api_change(),
            Event::BackgroundTicket => {
                w.on_background_ticket();
                if let Some(t) = self.world.next_background_ticket() {
                    self.schedule(t, Event::BackgroundTicket);
                }
            }
            Event::Arrival { device } => {
                w.fleet.arrive(device);
                // Under `selection = "continuous"` a running rollout takes it.
                ctl.adopt_arrival(w, device);
            }
        }
    }

    fn trace_event(&mut self, event: Event) {
        let device = event.device();
        self.trace.push(TraceRow {
            time_ms: self.world.now.0,
            event: kind_name(event.kind()).into(),
            device,
            detail: match device {
                Some(d) => format!("{:?}", self.world.fleet.dev(d).phase),
                None => event.trace_detail().to_string(),
            },
        });
    }
}
