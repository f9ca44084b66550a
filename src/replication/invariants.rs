//! The simulator's own invariants (issue 5, item 3). A breach is a simulator bug, never an input
//! problem: the run stops with [`Error::Invariant`] naming the seed and replication (and, in a
//! chaos campaign, the fault schedule) that reproduce it.
//!
//! Two invariants are checked where the state is written, in every build, at the cost of one
//! branch on a path that compares anyway:
//! - **no event is scheduled in the past** (the agenda keeps the first such event, from the
//!   queue's own key check, and the replication records it after the event that scheduled it);
//! - **a device never installs a release the policy has cancelled** (checked by the lifecycle,
//!   `World::check_halted_install`): an install of the update
//!   starting while the rollout is halted is a breach unless the device was already downloading
//!   it when the rollout halted (SPEC §1.5: in-flight devices finish).
//!
//! The rest are checked over the whole state by [`Sim::check_invariants`], at the end of every
//! replication in every build and, with `RunLimits::daily_invariants` (debug builds, and the
//! test suite in release builds), once a simulated day too (at the hourly sample that opens the
//! day):
//! - **every device is in exactly one state**: its phase, job, flags and download slot agree
//!   (a device mid-job has a job; a slot is held exactly while downloading; a bricked device is
//!   idle and harmed; started implies notified implies targeted; a device that has not joined
//!   the fleet yet is untouched), and the devices in each waiting phase are exactly the live
//!   entries of the queue that holds them (download slots, parked devices);
//! - **counts agree with the devices**: devices per version agree with the running counts and
//!   sum to the devices present; in-flight, slot, adoption, exposure, harm, brick, start,
//!   targeting and rollback counters equal the devices flagged so;
//! - **observed ≤ true**, per stage and globally: reports are successes plus failures and never
//!   exceed starts; time-outs never exceed starts; starts never exceed notifications nor the
//!   devices that truly started; reported successes never exceed the devices exposed to the
//!   target; the support tickets of harmed devices never exceed the harmed devices (background
//!   tickets come from any device and are not bounded by harm); stage counts sum to the
//!   global ones;
//! - **support** (SPEC §1.8): each quarantined device is quarantined once, started the update
//!   and has failed it for good; each field-visited device is visited once, is still counted
//!   bricked, and runs the version its visit left it on (`rollback_to`).

use crate::backend::Obs;
use crate::engine::time::{SimTime, DAY_MS};
use crate::error::Error;
use crate::fleet::device::{flag, Device, Job, Phase, NO_STAGE};
use crate::policy::rollout::Mode;
use crate::replication::{kind_name, Sim};

/// Devices counted by state, for comparison with the running counters.
#[derive(Default)]
struct Tally {
    present: u64,
    by_version: Vec<u64>,
    in_flight: u64,
    slots: u64,
    on_target: u64,
    targeted: u64,
    exposed: u64,
    harmed: u64,
    bricked: u64,
    started: u64,
    rolled_back: u64,
    queued: u64,
    parked: u64,
    /// Devices holding a place in a disruption budget.
    in_budget: u64,
    /// Per stage: devices that started the update, were exposed to the target, were harmed.
    stage_started: Vec<u64>,
    stage_exposed: Vec<u64>,
    stage_harmed: Vec<u64>,
}

/// `Err(what())` unless `ok`: the message is built only on a breach.
fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

impl Sim<'_> {
    /// Records the first breach seen while the replication runs; the event loop stops on it.
    #[cold]
    pub(crate) fn record_breach(&mut self, what: String) {
        self.world.record_breach(what);
    }

    /// The typed error of the recorded breach.
    pub(crate) fn breach_error(&self) -> Error {
        Error::Invariant {
            seed: self.scenario.seed,
            replication: self.rep,
            what: self.world.breach.clone().unwrap_or_default(),
        }
    }

    #[cold]
    pub(crate) fn scheduled_in_past(&mut self, t: SimTime, event: super::Event) {
        let d = event.device().unwrap_or(0);
        self.record_breach(format!(
            "event `{}` (device {d}) scheduled in the past, at {t}",
            kind_name(event.kind())
        ));
    }

    /// The periodic check (`RunLimits::daily_invariants`), at the hourly sample that opens each
    /// simulated day: a whole-state check costs a pass over the fleet, which at every hour would
    /// make a debug run of a 20 000-device scenario some 25 times slower.
    pub(crate) fn periodic_check(&mut self) {
        if self.limits.daily_invariants
            && self.world.now.0.is_multiple_of(DAY_MS)
            && self.world.breach.is_none()
        {
            if let Err(what) = self.check_invariants() {
                self.record_breach(what);
            }
        }
    }

    /// The end-of-replication check: the first breach recorded during the run, else the first
    /// invariant of the whole state that does not hold.
    pub(crate) fn verify(&mut self) -> crate::error::Result<()> {
        if self.world.breach.is_none() {
            if let Err(what) = self.check_invariants() {
                self.record_breach(what);
            }
        }
        match self.world.breach {
            Some(_) => Err(self.breach_error()),
            None => Ok(()),
        }
    }

    /// `Err` names the first invariant of the whole state that does not hold.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut t = Tally {
            by_version: vec![0; self.world.fleet.version_counts().len()],
            stage_started: vec![0; self.controller.stages().len()],
            stage_exposed: vec![0; self.controller.stages().len()],
            stage_harmed: vec![0; self.controller.stages().len()],
            ..Tally::default()
        };
        for d in 0..self.world.fleet.len() as u32 {
            let joined = self.world.fleet.joined(d);
            if !device_ok(self.world.fleet.dev(d), joined) {
                self.check_device(d)?;
                return Err(format!(
                    "device {d} is in an inconsistent state: {:?}",
                    self.world.fleet.dev(d)
                ));
            }
            if joined {
                self.count(self.world.fleet.dev(d), &mut t);
            }
        }
        self.check_counts(&t)?;
        self.check_budget(&t)?;
        self.check_cohorts()?;
        self.check_waiting(&t)?;
        self.check_observed(&t)?;
        self.check_downloads()?;
        self.check_support()
    }

    /// The pool of downloads under way holds exactly the entries device records name, each
    /// named once, and every downloading device has one: no entry leaked, none shared.
    fn check_downloads(&self) -> Result<(), String> {
        let fleet = &self.world.fleet;
        let mut slots = std::collections::HashSet::new();
        for (d, dv) in fleet.devices().iter().enumerate() {
            if dv.download != 0 {
                ensure(slots.insert(dv.download), || {
                    format!(
                        "device {d} shares download slot {} with another",
                        dv.download
                    )
                })?;
            }
            ensure(dv.phase != Phase::Downloading || dv.download != 0, || {
                format!("device {d} is downloading with no download state: {dv:?}")
            })?;
        }
        ensure(slots.len() == fleet.downloads_open(), || {
            format!(
                "{} download entries are open but {} devices name one",
                fleet.downloads_open(),
                slots.len()
            )
        })
    }

    /// Quarantined and field-visited devices are what their records say.
    fn check_support(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for &(d, _) in self.world.backend.quarantined() {
            let dv = self.world.fleet.dev(d);
            ensure(seen.insert(d), || {
                format!("device {d} is quarantined twice")
            })?;
            ensure(dv.has(flag::STARTED) && dv.has(flag::JOB_FAILED), || {
                format!("device {d} is quarantined but has not failed the update for good: {dv:?}")
            })?;
        }
        seen.clear();
        for &(d, v) in &self.world.recorder.field_visits {
            let dv = self.world.fleet.dev(d);
            ensure(seen.insert(d), || {
                format!("device {d} had two field visits")
            })?;
            ensure(dv.has(flag::BRICKED) && dv.version == v, || {
                format!(
                    "device {d} had a field visit to {} but runs {} (bricked: {})",
                    self.scenario.version_label(v),
                    self.scenario.version_label(dv.version),
                    dv.has(flag::BRICKED)
                )
            })?;
        }
        Ok(())
    }

    /// The failures and stranded devices counted by cohort (`by_cohort`) sum, in each of the
    /// dimensions model, region and stage, to the global counts.
    fn check_cohorts(&self) -> Result<(), String> {
        use crate::metrics::cohort::DIMENSIONS;
        use crate::metrics::reasons::{FAILURES, REASONS};
        let c = &self.world.recorder;
        for (dim, name) in DIMENSIONS.iter().enumerate() {
            let slots: Vec<usize> = (0..c.cohorts.len())
                .filter(|&i| c.cohorts.names[i].0 == dim)
                .collect();
            for (what, k) in FAILURES {
                let sum: u64 = slots
                    .iter()
                    .map(|&i| c.cohort_failures[i][k as usize])
                    .sum();
                let global = c.failures[k as usize];
                ensure(sum == global, || {
                    format!("`{what}` failures by {name} sum to {sum}, not to the {global} counted")
                })?;
            }
            let Some(stranded) = &c.stranded else {
                continue;
            };
            for (what, r) in REASONS {
                let sum: u64 = slots
                    .iter()
                    .map(|&i| c.cohort_stranded[i][r as usize])
                    .sum();
                let global = stranded[r as usize];
                ensure(sum == global, || {
                    format!("devices stranded `{what}` by {name} sum to {sum}, not to the {global} counted")
                })?;
            }
        }
        Ok(())
    }

    /// Which invariant of [`device_ok`] device `d` breaks, in words.
    fn check_device(&self, d: u32) -> Result<(), String> {
        let dv = self.world.fleet.dev(d);
        let (phase, job) = (dv.phase, dv.job);
        if !self.world.fleet.joined(d) {
            return ensure(
                phase == Phase::Idle
                    && job == Job::None
                    && !dv.has(flag::TARGETED | flag::NOTIFIED | flag::STARTED),
                || {
                    format!("device {d} has not joined the fleet yet but is {phase:?} with job {job:?} and flags {:#06x}", dv.flags)
                },
            );
        }
        ensure(phase == Phase::Idle || job != Job::None, || {
            format!("device {d} is {phase:?} without a job")
        })?;
        ensure(
            dv.has(flag::SLOT_HELD) == (phase == Phase::Downloading),
            || {
                format!(
                    "device {d} is {phase:?} and {} a download slot",
                    if dv.has(flag::SLOT_HELD) {
                        "holds"
                    } else {
                        "does not hold"
                    }
                )
            },
        )?;
        ensure(
            !dv.has(flag::BRICKED) || (phase == Phase::Idle && dv.has(flag::HARMED)),
            || {
                format!(
                    "device {d} is bricked but {phase:?} (harmed: {})",
                    dv.has(flag::HARMED)
                )
            },
        )?;
        let implied = [
            (flag::NOTIFIED, flag::TARGETED, "notified", "targeted"),
            (flag::STARTED, flag::NOTIFIED, "started", "notified"),
            (flag::EXPOSED, flag::STARTED, "exposed", "started"),
        ];
        for (a, b, a_name, b_name) in implied {
            ensure(!dv.has(a) || dv.has(b), || {
                format!("device {d} is {a_name} but not {b_name}")
            })?;
        }
        ensure(!dv.in_flight || dv.has(flag::STARTED), || {
            format!("device {d} is in flight but never started the update")
        })?;
        ensure(dv.has(flag::TARGETED) == (dv.stage != NO_STAGE), || {
            format!(
                "device {d}: targeted {} but stage {}",
                dv.has(flag::TARGETED),
                dv.stage
            )
        })
    }

    fn count(&self, dv: &Device, t: &mut Tally) {
        let target = self.scenario.policy.target;
        t.present += 1;
        t.by_version[dv.version as usize] += 1;
        t.in_flight += dv.in_flight as u64;
        t.slots += dv.has(flag::SLOT_HELD) as u64;
        t.on_target += (dv.has(flag::TARGETED) && dv.version == target) as u64;
        t.targeted += dv.has(flag::TARGETED) as u64;
        t.exposed += dv.has(flag::EXPOSED) as u64;
        t.harmed += dv.has(flag::HARMED) as u64;
        t.bricked += dv.has(flag::BRICKED) as u64;
        t.started += dv.has(flag::STARTED) as u64;
        t.rolled_back += dv.has(flag::ROLLED_BACK) as u64;
        t.queued += (dv.phase == Phase::QueuedForSlot) as u64;
        t.parked += (dv.phase == Phase::Parked) as u64;
        t.in_budget += (dv.marks & crate::fleet::device::mark::IN_BUDGET != 0) as u64;
        let s = dv.stage as usize;
        if s < t.stage_started.len() {
            t.stage_started[s] += dv.has(flag::STARTED) as u64;
            t.stage_exposed[s] += dv.has(flag::EXPOSED) as u64;
            t.stage_harmed[s] += dv.has(flag::HARMED) as u64;
        }
    }

    /// No group of the disruption budget holds more devices than its budget, and the places
    /// held are the devices that hold one.
    fn check_budget(&self, t: &Tally) -> Result<(), String> {
        let Some(budget) = self.world.backend.budget() else {
            return Ok(());
        };
        let mut held = 0;
        for (g, (cap, busy, peak)) in budget.groups().enumerate() {
            ensure(busy <= cap && peak <= cap, || {
                format!("disruption budget group {g}: {busy} devices (at most {peak}) in a budget of {cap}")
            })?;
            held += busy;
        }
        ensure(held == t.in_budget, || {
            format!(
                "the disruption budget counts {held} places held, but {} devices hold one",
                t.in_budget
            )
        })
    }

    /// Running counters equal the devices counted by state.
    fn check_counts(&self, t: &Tally) -> Result<(), String> {
        ensure(
            t.by_version.as_slice() == self.world.fleet.version_counts(),
            || {
                format!(
                    "devices per version {:?} disagree with the running counts {:?}",
                    t.by_version,
                    self.world.fleet.version_counts()
                )
            },
        )?;
        ensure(
            self.world.fleet.version_counts().iter().sum::<u64>() == t.present,
            || {
                format!(
                    "counts by version sum to {}, not to the {} devices in the fleet",
                    self.world.fleet.version_counts().iter().sum::<u64>(),
                    t.present
                )
            },
        )?;
        let c = &self.world.recorder;
        let pairs = [
            (
                "devices in flight",
                t.in_flight,
                self.world.backend.in_flight(),
            ),
            (
                "devices holding a download slot",
                t.slots,
                self.world.backend.active_downloads(),
            ),
            ("targeted devices on the target", t.on_target, c.on_target),
            ("targeted devices", t.targeted, c.targeted),
            ("exposed devices", t.exposed, c.exposed),
            ("harmed devices", t.harmed, c.harmed),
            ("bricked devices", t.bricked, c.bricked),
            (
                "devices that started the update",
                t.started,
                c.updates_started,
            ),
            ("rolled-back devices", t.rolled_back, c.rolled_back),
        ];
        for (what, devices, counter) in pairs {
            ensure(devices == counter, || {
                format!("{devices} {what} by device state, but the counter says {counter}")
            })?;
        }
        ensure(
            self.world.backend.active_downloads() <= self.scenario.backend.max_concurrent_downloads,
            || {
                format!(
                    "{} downloads, more than `max_concurrent_downloads`",
                    self.world.backend.active_downloads()
                )
            },
        )
    }

    /// The devices in each waiting phase are exactly the live entries of the queue holding them.
    fn check_waiting(&self, t: &Tally) -> Result<(), String> {
        let live_slots = self
            .world
            .backend
            .slot_queue()
            .filter(|&(d, gen)| {
                let dv = self.world.fleet.dev(d);
                dv.gen == gen && dv.phase == Phase::QueuedForSlot
            })
            .count() as u64;
        ensure(live_slots == t.queued, || {
            format!("{} devices wait for a download slot, but the slot queue holds {live_slots} of them", t.queued)
        })?;
        let live_parked = self
            .world
            .backend
            .parked()
            .iter()
            .filter(|&&d| self.world.fleet.dev(d).phase == Phase::Parked)
            .count() as u64;
        ensure(live_parked == t.parked, || {
            format!(
                "{} devices are parked, but the parked list holds {live_parked} of them",
                t.parked
            )
        })?;
        ensure(
            t.parked == 0 || matches!(self.controller.mode(), Mode::Paused | Mode::Held),
            || {
                format!(
                    "{} devices are parked while the rollout is {:?}",
                    t.parked,
                    self.controller.mode()
                )
            },
        )
    }

    /// What the backend observed never exceeds the truth, per stage and globally.
    fn check_observed(&self, t: &Tally) -> Result<(), String> {
        let mut tickets = vec![0u64; self.controller.stages().len()];
        for (stage, _) in self.world.backend.tickets() {
            if let Some(n) = tickets.get_mut(*stage as usize) {
                *n += 1;
            }
        }
        // Download-only: a success is a staged image, which needs only a start.
        let staging =
            self.scenario.policy.action_type == crate::scenario::raw::ActionType::DownloadOnly;
        let bound = |started: u64, exposed: u64| if staging { started } else { exposed };
        let mut sum = Obs::default();
        for (i, st) in self.controller.stages().iter().enumerate() {
            let name = &self.scenario.policy.stages[i].name;
            let obs = self.world.backend.stage(i);
            let exposed = bound(t.stage_started[i], t.stage_exposed[i]);
            observed_within(&obs, t.stage_started[i], exposed)
                .map_err(|e| format!("stage `{name}`: {e}"))?;
            ensure(obs.notified <= st.cohort.len() as u64, || {
                format!(
                    "stage `{name}`: {} notified of a cohort of {}",
                    obs.notified,
                    st.cohort.len()
                )
            })?;
            ensure(tickets[i] <= t.stage_harmed[i], || {
                format!(
                    "stage `{name}`: {} support tickets of harmed devices but {} harmed devices",
                    tickets[i], t.stage_harmed[i]
                )
            })?;
            add(&mut sum, &obs);
        }
        let g = &self.world.backend.global();
        observed_within(g, t.started, bound(t.started, t.exposed))
            .map_err(|e| format!("whole rollout: {e}"))?;
        ensure(sum == *g, || {
            format!("stage observations sum to {sum:?}, the global view is {g:?}")
        })?;
        ensure(
            self.world.backend.tickets().len() as u64 <= t.harmed,
            || {
                format!(
                    "{} support tickets of harmed devices but {} harmed devices",
                    self.world.backend.tickets().len(),
                    t.harmed
                )
            },
        )
    }
}

/// Whether one device's state is consistent with itself: the fast path of the whole-state
/// check, one expression with no message to build. [`Sim::check_device`] says what is wrong.
fn device_ok(dv: &Device, joined: bool) -> bool {
    let (phase, f) = (dv.phase, dv.flags);
    let has = |x: u16| f & x != 0;
    if !joined {
        return phase == Phase::Idle
            && dv.job == Job::None
            && f & (flag::TARGETED | flag::NOTIFIED | flag::STARTED) == 0;
    }
    (phase == Phase::Idle || dv.job != Job::None)
        && has(flag::SLOT_HELD) == (phase == Phase::Downloading)
        && (!has(flag::BRICKED) || (phase == Phase::Idle && has(flag::HARMED)))
        && (!has(flag::NOTIFIED) || has(flag::TARGETED))
        && (!has(flag::STARTED) || has(flag::NOTIFIED))
        && (!has(flag::EXPOSED) || has(flag::STARTED))
        && (!dv.in_flight || has(flag::STARTED))
        && has(flag::TARGETED) == (dv.stage != NO_STAGE)
}

/// One view's observed counts against the true starts and exposures behind it.
fn observed_within(o: &Obs, started: u64, exposed: u64) -> Result<(), String> {
    ensure(o.success + o.failure == o.reported, || {
        format!(
            "{} successes + {} failures reported, but {} devices reported",
            o.success, o.failure, o.reported
        )
    })?;
    ensure(
        o.reported <= o.started && o.timed_out <= o.started && o.reverts <= o.reported,
        || {
            format!(
                "observed exceeds started: {} reported, {} timed out, {} reverts of {} started",
                o.reported, o.timed_out, o.reverts, o.started
            )
        },
    )?;
    ensure(
        o.reported <= o.executed && o.rejected <= o.executed && o.executed <= o.notified,
        || {
            format!(
                "{} devices with an outcome of {} notified, but {} reported and {} rejected",
                o.executed, o.notified, o.reported, o.rejected
            )
        },
    )?;
    ensure(o.started <= o.notified && o.started == started, || {
        format!(
            "{} starts observed of {} notified, {started} devices truly started",
            o.started, o.notified
        )
    })?;
    ensure(o.success <= exposed, || {
        format!(
            "observed exceeds true: {} successes reported, {exposed} devices exposed to the target",
            o.success
        )
    })
}

fn add(sum: &mut Obs, o: &Obs) {
    sum.notified += o.notified;
    sum.started += o.started;
    sum.reported += o.reported;
    sum.success += o.success;
    sum.failure += o.failure;
    sum.reverts += o.reverts;
    sum.timed_out += o.timed_out;
    sum.rejected += o.rejected;
    sum.executed += o.executed;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::event::DeviceEvent::CheckIn;
    use crate::replication::RunLimits;
    use crate::scenario::Scenario;

    /// A fleet without A/B slots and a release that fails to boot on 5 % of it: a run ends with
    /// exposed, bricked and harmed devices and one support ticket per harmed device.
    const FLEET: &str = r#"
[simulation]
name = "invariants"
seed = 3
horizon = "4d"

[connectivity.lan]
online = { dist = "exponential", mean = "5d" }
offline = { dist = "exponential", mean = "30m" }
check_in = "15m"
bandwidth_kbps = 2000

[[population]]
name = "plc"
count = 400
model = "plc-1"
region = "north"
firmware = "1.0.0"
connectivity = "lan"
ab_slots = false

[[release]]
version = "1.0.0"
size_mb = 10

[[release]]
version = "1.1.0"
size_mb = 10
install_time = "10m"

[[release.defect]]
effect = "boot-failure"
probability = 0.05

[support]
ticket_probability = 1.0
ticket_delay = "1h"

[policy]
target = "1.1.0"
rate = { per_minute = 10 }

[[policy.stage]]
name = "canary"
select = {}
percent = 10
bake = "2h"

[[policy.stage]]
name = "all"
select = {}
percent = 100
"#;

    fn scenario() -> &'static Scenario {
        static SC: std::sync::OnceLock<Scenario> = std::sync::OnceLock::new();
        SC.get_or_init(|| {
            crate::scenario::load_str(FLEET, "invariants", std::path::Path::new("."), &[]).unwrap()
        })
    }

    fn finished() -> Sim<'static> {
        let mut sim = Sim::new(scenario(), 0, RunLimits::default()).unwrap();
        sim.run().unwrap();
        assert!(
            sim.world.recorder.exposed > 0
                && sim.world.recorder.bricked > 0
                && !sim.world.backend.tickets().is_empty()
        );
        sim
    }

    /// The breach expected, and the corruption of a finished run that should cause it.
    type Case = (&'static str, fn(&mut Sim));

    /// The first device for which `pick` holds.
    fn find(sim: &Sim, pick: impl Fn(&Device) -> bool) -> usize {
        sim.world
            .fleet
            .devices()
            .iter()
            .position(pick)
            .expect("the run has such a device")
    }

    /// Corrupts a finished run and returns the breach the whole-state check reports.
    fn breach_after(corrupt: impl FnOnce(&mut Sim)) -> String {
        let mut sim = finished();
        assert_eq!(sim.check_invariants(), Ok(()));
        corrupt(&mut sim);
        sim.check_invariants()
            .expect_err("the corrupted state must be reported")
    }

    /// A download entry no device names (leaked), and two devices naming one slot, are
    /// breaches.
    #[test]
    fn a_leaked_or_shared_download_entry_is_a_breach() {
        let leaked = breach_after(|sim| {
            let d = idle(sim) as u32;
            sim.world.fleet.download_mut(d);
            sim.world.fleet.dev_mut(d).download = 0;
        });
        assert!(leaked.contains("download entries are open"), "{leaked}");
        let shared = breach_after(|sim| {
            let d = idle(sim) as u32;
            sim.world.fleet.download_mut(d);
            let slot = sim.world.fleet.dev(d).download;
            let other = find(sim, |x| x.phase == Phase::Idle && x.download == 0) as u32;
            sim.world.fleet.dev_mut(other).download = slot;
        });
        assert!(shared.contains("shares download slot"), "{shared}");
    }

    fn idle(sim: &Sim) -> usize {
        find(sim, |d| {
            d.phase == Phase::Idle && d.job == Job::None && !d.has(flag::BRICKED)
        })
    }

    #[test]
    fn a_device_in_two_states_is_a_breach() {
        let cases: [Case; 6] = [
            ("without a job", |s| {
                let d = idle(s);
                s.world.fleet.dev_mut(d as u32).phase = Phase::Pending;
            }),
            ("does not hold a download slot", |s| {
                let d = idle(s);
                s.world.fleet.dev_mut(d as u32).job = Job::Update;
                s.world.fleet.dev_mut(d as u32).phase = Phase::Downloading;
            }),
            ("is bricked but Reporting", |s| {
                let d = find(s, |d| d.has(flag::BRICKED));
                s.world.fleet.dev_mut(d as u32).phase = Phase::Reporting;
            }),
            ("started but not notified", |s| {
                let d = find(s, |d| d.has(flag::STARTED));
                s.world.fleet.dev_mut(d as u32).clear(flag::NOTIFIED);
            }),
            (
                "wait for a download slot, but the slot queue holds 0",
                |s| {
                    let d = idle(s);
                    s.world.fleet.dev_mut(d as u32).job = Job::Update;
                    s.world.fleet.dev_mut(d as u32).phase = Phase::QueuedForSlot;
                },
            ),
            ("parked, but the parked list holds 0", |s| {
                let d = idle(s);
                s.world.fleet.dev_mut(d as u32).job = Job::Update;
                s.world.fleet.dev_mut(d as u32).phase = Phase::Parked;
            }),
        ];
        for (expected, corrupt) in cases {
            let what = breach_after(corrupt);
            assert!(what.contains(expected), "{expected:?} not in {what:?}");
        }
    }

    #[test]
    fn counters_that_disagree_with_the_devices_are_a_breach() {
        let cases: [Case; 4] = [
            ("per version", |s| {
                s.world.fleet.version_counts_mut()[0] += 1
            }),
            ("harmed devices", |s| {
                s.world.recorder.truth_mut().harmed += 1
            }),
            ("devices in flight", |s| *s.world.backend.corrupt().3 += 1),
            ("bricked devices", |s| {
                s.world.recorder.truth_mut().bricked -= 1
            }),
        ];
        for (expected, corrupt) in cases {
            let what = breach_after(corrupt);
            assert!(what.contains(expected), "{expected:?} not in {what:?}");
        }
    }

    /// A failure or stranded device counted in a cohort but not globally (or the other way
    /// round) breaks the sum of a dimension (`by_cohort`).
    #[test]
    fn cohort_counts_that_do_not_sum_to_the_global_ones_are_a_breach() {
        let cases: [Case; 3] = [
            ("`timeout` failures by model sum to", |s| {
                let i = crate::metrics::reasons::Failure::Timeout as usize;
                s.world.recorder.truth_mut().cohort_failures[0][i] += 1
            }),
            ("`install_failed` failures by model sum to", |s| {
                let i = crate::metrics::reasons::Failure::InstallFailed as usize;
                s.world.recorder.truth_mut().failures[i] += 1
            }),
            ("devices stranded `offline` by region sum to", |s| {
                let t = s.world.recorder.truth_mut();
                let region = (t.cohorts.names.iter()).position(|n| n.0 == 1).unwrap();
                let i = crate::metrics::reasons::Reason::Offline as usize;
                t.stranded
                    .get_or_insert([0; crate::metrics::reasons::REASONS.len()]);
                t.cohort_stranded[region][i] += 1
            }),
        ];
        for (expected, corrupt) in cases {
            let what = breach_after(corrupt);
            assert!(what.contains(expected), "{expected:?} not in {what:?}");
        }
    }

    #[test]
    fn observed_beyond_true_is_a_breach_per_stage_and_globally() {
        let cases: [Case; 4] = [
            ("stage `all`: observed exceeds started", |s| {
                let stages = s.world.backend.corrupt().1;
                stages[1].timed_out = stages[1].started + 1
            }),
            ("stage `canary`: 2 support tickets", |s| {
                let harmed = s
                    .world
                    .fleet
                    .devices()
                    .iter()
                    .filter(|d| d.stage == 0 && d.has(flag::HARMED))
                    .count();
                let tickets = s.world.backend.corrupt().2;
                tickets.retain(|(stage, _)| *stage != 0);
                for _ in 0..=harmed {
                    tickets.push((0, 0));
                }
                assert_eq!(harmed, 1, "the fixture harms one canary device");
            }),
            ("stage observations sum to", |s| {
                s.world.backend.corrupt().0.notified += 1
            }),
            (
                "whole rollout: 377 successes + 0 failures reported, but 376",
                |s| s.world.backend.corrupt().0.success += 1,
            ),
        ];
        for (expected, corrupt) in cases {
            let what = breach_after(corrupt);
            assert!(what.contains(expected), "{expected:?} not in {what:?}");
        }
    }

    /// Background tickets come from healthy devices too: far more of them than harmed devices
    /// is no breach (harm tickets beyond the harmed devices still are, above).
    #[test]
    fn background_tickets_are_not_bounded_by_harm() {
        let mut sim = finished();
        let now = sim.world.now.0;
        for _ in 0..1000 {
            sim.world.backend.open_background_ticket(Some(0), now);
            sim.world.backend.open_background_ticket(None, now);
        }
        sim.check_invariants().unwrap();
    }

    /// With field visits (1 day after the brick) every bricked device of the fixture is back
    /// on its previous version by the horizon and still counted bricked; a visit recorded
    /// twice, or to a version the device does not run, is a breach.
    #[test]
    fn field_visited_devices_are_checked() {
        let text = FLEET.replace(
            "ticket_delay = \"1h\"\n",
            "ticket_delay = \"1h\"\nfield_visit = { delay = \"1d\", cost = 150 }\n",
        );
        let sc = crate::scenario::load_str(&text, "fv", std::path::Path::new("."), &[]).unwrap();
        let run = || {
            let mut sim = Sim::new(&sc, 0, RunLimits::default()).unwrap();
            sim.run().unwrap();
            sim
        };
        let sim = run();
        let c = &sim.world.recorder;
        assert!(c.bricked > 0 && c.field_visits.len() as u64 == c.bricked);
        assert_eq!(c.field_cost, 150.0 * c.bricked as f64);
        let mut sim = run();
        let first = sim.world.recorder.field_visits[0];
        sim.world.recorder.truth_mut().field_visits.push(first);
        assert!(sim
            .check_invariants()
            .unwrap_err()
            .contains("had two field visits"));
        let mut sim = run();
        sim.world.recorder.truth_mut().field_visits[0].1 = sc.policy.target;
        let what = sim.check_invariants().unwrap_err();
        assert!(
            what.contains("had a field visit to 1.1.0 but runs 1.0.0"),
            "{what}"
        );
    }

    /// More reported successes than devices exposed to the target, with every other count
    /// consistent: only "observed ≤ true" can catch it.
    #[test]
    fn more_successes_than_exposed_devices_is_a_breach() {
        let mut sim = Sim::new(scenario(), 0, RunLimits::default()).unwrap();
        sim.controller.add_to_cohort_for_test(0, 0);
        let dv = sim.world.fleet.dev_mut(0);
        dv.set(flag::TARGETED | flag::NOTIFIED | flag::STARTED);
        dv.stage = 0;
        sim.world.recorder.target(1);
        sim.world.recorder.start_update();
        let obs = Obs {
            notified: 1,
            started: 1,
            reported: 1,
            executed: 1,
            success: 1,
            ..Obs::default()
        };
        sim.world.backend.set_observed(0, obs);
        let what = sim.check_invariants().unwrap_err();
        assert!(
            what.contains(
                "stage `canary`: observed exceeds true: 1 successes reported, 0 devices exposed"
            ),
            "{what}"
        );
    }

    #[test]
    fn an_event_scheduled_in_the_past_is_a_breach() {
        let mut sim = finished();
        assert!(sim.world.breach.is_none());
        sim.schedule_device(sim.scenario.horizon, 1, CheckIn { gen: 0 });
        assert!(sim.world.breach.is_none(), "the present is not the past");
        sim.schedule_device(SimTime(5), 7, CheckIn { gen: 0 });
        match sim.verify() {
            Err(Error::Invariant {
                seed: 3,
                replication: 0,
                what,
            }) => {
                assert!(
                    what.contains(
                        "event `check_in` (device 7) scheduled in the past, at 0s (at 4d 0h of simulated time)"
                    ),
                    "{what}"
                )
            }
            other => panic!("expected an invariant breach, got {other:?}"),
        }
    }

    /// A device that finishes a download begun after the halt must not install the halted
    /// release; one whose download was under way at the halt finishes (SPEC §1.5).
    #[test]
    fn installing_a_halted_release_is_a_breach() {
        for (began_after_halt, breach) in [(false, false), (true, true)] {
            let mut sim = finished();
            let d = idle(&sim);
            let halt = sim.world.now.0 - 10_000;
            sim.controller.halt_for_test(Mode::Paused, SimTime(halt));
            sim.world.backend.take_slot();
            let dv = sim.world.fleet.dev_mut(d as u32);
            dv.job = Job::Update;
            dv.installing = sim.scenario.policy.target;
            dv.set(flag::SLOT_HELD);
            dv.enter(Phase::Downloading);
            let gen = dv.gen;
            sim.world.fleet.download_mut(d as u32).segment_start =
                if began_after_halt { halt + 1 } else { halt - 1 };
            sim.world.on_event(
                &mut sim.controller,
                d as u32,
                crate::lifecycle::event::DeviceEvent::DownloadDone { gen },
            );
            assert_eq!(
                sim.world.fleet.dev(d as u32).phase,
                Phase::Installing,
                "the install started"
            );
            assert_eq!(sim.world.breach.is_some(), breach, "{:?}", sim.world.breach);
            if let Some(what) = &sim.world.breach {
                assert!(
                    what.contains("starts installing 1.1.0 of the update the rollout halted"),
                    "{what}"
                );
            }
        }
    }

    /// With `daily_invariants` (debug builds, and the test suite in any build) the whole state
    /// is checked once a simulated day, not only at the end.
    #[test]
    fn the_periodic_check_records_a_breach() {
        let mut sim = finished();
        sim.limits.daily_invariants = true;
        assert_eq!(
            sim.world.now.0 % DAY_MS,
            0,
            "the fixture's horizon is whole days"
        );
        sim.periodic_check();
        assert!(sim.world.breach.is_none());
        sim.world.recorder.truth_mut().exposed += 1;
        sim.periodic_check();
        let what = sim.world.breach.clone().unwrap_or_default();
        assert!(what.contains("exposed devices"), "{what}");
    }
}
