//! Fault injection (SPEC §1.7). Each fault acts through the mechanism it disturbs, never as a
//! special case of an outcome:
//!
//! - `network-outage` and `power-outage` make devices unreachable for the window (they join the
//!   reachability overlay of `fleet::connectivity`); when it ends, devices that are online check
//!   in at once, so a reconnection storm meets the backend's slots and egress like any load. A
//!   power outage also interrupts installs in progress (A/B revert, otherwise brick).
//! - `cdn-degradation` scales a download's throughput and fails downloads at `error_rate`.
//! - `corrupt-artifact` and `tampered-artifact` act at verification: a corrupt image fails the
//!   checksum; a tampered one fails the signature check on devices that verify signatures and
//!   is installed (a counted security violation) on devices that do not.
//! - `telemetry-delay` and `telemetry-drop` change only what the backend observes.
//! - `clock-skew` shifts a device's local clock, so its maintenance and off-peak windows open at
//!   the wrong time.
//!
//! Which devices a fault hits (its `where` selector, a power outage's `fraction`) and every draw
//! it makes come from keyed streams, so two policies meet the same faults.

pub mod campaign;

use crate::engine::rng::{Purpose, Stream};
use crate::engine::time::{secs_to_ms, SimTime};
use crate::fleet::connectivity::Overlay;
use crate::fleet::device::Failure;
use crate::fleet::Fleet;
use crate::scenario::model::FaultKind;
use crate::scenario::Scenario;

/// What verifying a finished download finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    Passed,
    /// The image fails: a CDN error (fetch again), a bad checksum or a bad signature.
    Rejected(Failure),
    /// A tampered image on a device that does not check signatures: it installs it (a
    /// security violation).
    TamperedAccepted,
}

/// The scenario's faults, built once, with read-only queries: a query draws from the device's
/// keyed streams and never counts or changes anything (the lifecycle counts what it finds).
pub struct FaultPlan<'s> {
    sc: &'s Scenario,
    index: FaultIndex,
    /// Per version: when the backend's API is below what that firmware needs (`requires_api`),
    /// as `[from, to)` windows in which a device running it cannot reach the backend.
    api_down: Vec<Vec<(u64, u64)>>,
    /// No fault and no API window: every query is trivial (asked on every check-in).
    quiet: bool,
}

/// Per version, the windows in which the backend's API (its `api`, `api_changes` and
/// `backend-api` faults) is below the version's `requires_api`.
fn api_down_windows(sc: &Scenario) -> Vec<Vec<(u64, u64)>> {
    let b = &sc.backend;
    let mut cuts: Vec<u64> = std::iter::once(0)
        .chain(b.api_changes.iter().map(|c| c.0 .0))
        .chain(b.api_faults.iter().flat_map(|f| [f.0 .0, f.1 .0]))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    sc.versions
        .iter()
        .map(|v| {
            let Some(needs) = v.requires_api else {
                return Vec::new();
            };
            let mut windows: Vec<(u64, u64)> = Vec::new();
            for (i, &from) in cuts.iter().enumerate() {
                let to = cuts.get(i + 1).copied().unwrap_or(u64::MAX);
                if b.api_at(SimTime(from)) >= needs {
                    continue;
                }
                match windows.last_mut() {
                    Some(last) if last.1 == from => last.1 = to,
                    _ => windows.push((from, to)),
                }
            }
            windows
        })
        .collect()
}

/// Which faults can touch each class of device (population × initial version).
#[derive(Clone, Debug, Default)]
struct FaultIndex {
    by_class: Vec<Vec<u16>>,
    versions: usize,
}

impl FaultIndex {
    fn new(sc: &Scenario) -> FaultIndex {
        let nv = sc.versions.len();
        let mut by_class = vec![Vec::new(); sc.populations.len() * nv];
        for (p, pop) in sc.populations.iter().enumerate() {
            for v in 0..nv {
                let attrs = pop.attrs(&sc.versions[v].label, None);
                by_class[p * nv + v] = sc
                    .faults
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.selector.matches(&attrs))
                    .map(|(k, _)| k as u16)
                    .collect();
            }
        }
        FaultIndex {
            by_class,
            versions: nv,
        }
    }
    fn of(&self, population: u16, version: u8) -> &[u16] {
        self.by_class
            .get(population as usize * self.versions + version as usize)
            .map_or(&[], |v| v.as_slice())
    }
}

impl<'s> FaultPlan<'s> {
    /// The plan of scenario `sc`'s faults.
    pub fn new(sc: &'s Scenario) -> FaultPlan<'s> {
        let api_down = api_down_windows(sc);
        FaultPlan {
            sc,
            index: FaultIndex::new(sc),
            quiet: sc.faults.is_empty() && api_down.iter().all(Vec::is_empty),
            api_down,
        }
    }

    /// Whether the scenario has no fault and no firmware ever outruns the backend's API (every
    /// query is then trivial).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.quiet
    }

    /// Whether firmware `version` cannot talk to the backend at `t` (its `requires_api` is
    /// above the backend's API then).
    pub fn api_incompatible(&self, version: u8, t: SimTime) -> bool {
        self.api_down
            .get(version as usize)
            .is_some_and(|w| w.iter().any(|&(a, b)| a <= t.0 && t.0 < b))
    }

    /// The instants after time zero at which some firmware loses the backend (its API drops
    /// below what the firmware needs).
    pub fn api_losses(&self) -> Vec<SimTime> {
        let mut cuts: Vec<u64> = self.api_down.iter().flatten().map(|&(a, _)| a).collect();
        cuts.retain(|&t| t > 0 && t < u64::MAX);
        cuts.sort_unstable();
        cuts.dedup();
        cuts.into_iter().map(SimTime).collect()
    }

    /// The faults that apply to device `d` (its class matches; for a power outage, it is among
    /// the `fraction` that lose power).
    pub fn faults_of<'a>(&'a self, fleet: &'a Fleet, d: u32) -> impl Iterator<Item = usize> + 'a {
        let dv = fleet.dev(d);
        self.index
            .of(dv.population, dv.initial_version)
            .iter()
            .map(|k| *k as usize)
            .filter(move |&k| match self.sc.faults[k].kind {
                FaultKind::PowerOutage { fraction } => {
                    Stream::at(fleet.key(d, Purpose::PowerFault), k as u64).bernoulli(fraction)
                }
                _ => true,
            })
    }

    /// Device `d`'s reachability overlay: its defect effects and the outage windows of its
    /// faults.
    #[inline]
    pub fn overlay(&self, fleet: &Fleet, d: u32) -> Overlay {
        let mut o = fleet.effects_overlay(d);
        if !self.is_empty() {
            self.add_fault_windows(fleet, d, &mut o);
            // A device whose firmware needs a higher API than the backend serves cannot reach
            // it: to the backend it is as unreachable as in an outage (SPEC §1.4b).
            if let Some(windows) = self.api_down.get(fleet.dev(d).version as usize) {
                windows.iter().for_each(|&(a, b)| o.push_window(a, b));
            }
        }
        o
    }

    /// Local time of day (ms) of device `d` at `t` as the device sees it: a `clock-skew`
    /// fault shifts it.
    pub fn local_ms_of_day(&self, fleet: &Fleet, d: u32, t: SimTime) -> u64 {
        self.local_wall_ms(fleet, d, t)
            .rem_euclid(crate::engine::time::DAY_MS as i64) as u64
    }

    /// Wall-clock milliseconds since 1970 of device `d`'s local clock at `t`: its offset, and a
    /// `clock-skew` fault's shift.
    pub fn local_wall_ms(&self, fleet: &Fleet, d: u32, t: SimTime) -> i64 {
        let skew = if self.is_empty() {
            0
        } else {
            self.clock_skew_ms(fleet, d, t)
        };
        fleet.local_wall_ms(d, t, skew)
    }

    /// Adds the outage windows of device `d` to its overlay.
    pub fn add_fault_windows(&self, fleet: &Fleet, d: u32, o: &mut Overlay) {
        for k in self.faults_of(fleet, d) {
            let f = &self.sc.faults[k];
            if matches!(
                f.kind,
                FaultKind::NetworkOutage | FaultKind::PowerOutage { .. }
            ) {
                o.push_window(f.from.0, f.to.0);
            }
        }
    }

    /// The first active fault of device `d` at `t` that `pick` accepts, with its index.
    fn active_fault<'a, T>(
        &'a self,
        fleet: &'a Fleet,
        d: u32,
        t: SimTime,
        pick: impl Fn(&'a FaultKind) -> Option<T>,
    ) -> Option<(usize, T)> {
        self.faults_of(fleet, d)
            .filter(|&k| self.sc.faults[k].active(t))
            .find_map(|k| pick(&self.sc.faults[k].kind).map(|x| (k, x)))
    }

    /// CDN degradation at `t`: (bandwidth factor, download error rate).
    pub fn cdn_at(&self, fleet: &Fleet, d: u32, t: SimTime) -> (f64, f64) {
        self.active_fault(fleet, d, t, |k| match k {
            FaultKind::CdnDegradation {
                bandwidth_factor,
                error_rate,
            } => Some((*bandwidth_factor, *error_rate)),
            _ => None,
        })
        .map_or((1.0, 0.0), |(_, x)| x)
    }

    /// What verification finds in a download finished at `t`. `draw` numbers the download, so
    /// each one gets its own (world-stable) draw. A query: the caller counts what it finds.
    pub fn verify_download(&self, fleet: &Fleet, d: u32, t: SimTime, draw: u64) -> Verification {
        if let Some((k, (_, error_rate))) = self.active_fault(fleet, d, t, |k| match k {
            FaultKind::CdnDegradation {
                bandwidth_factor,
                error_rate,
            } => Some((*bandwidth_factor, *error_rate)),
            _ => None,
        }) {
            if Stream::at(fleet.key(d, Purpose::CdnError), (k as u64) << 40 | draw)
                .bernoulli(error_rate)
            {
                return Verification::Rejected(Failure::DownloadInterrupted);
            }
        }
        if let Some((k, p)) = self.active_fault(fleet, d, t, |k| match k {
            FaultKind::CorruptArtifact { probability } => Some(*probability),
            _ => None,
        }) {
            if Stream::at(fleet.key(d, Purpose::Corrupt), (k as u64) << 40 | draw).bernoulli(p) {
                return Verification::Rejected(Failure::Corrupt);
            }
        }
        if self
            .active_fault(fleet, d, t, |k| {
                matches!(k, FaultKind::TamperedArtifact).then_some(())
            })
            .is_some()
        {
            if self.sc.populations[fleet.dev(d).population as usize].verifies_signatures {
                return Verification::Rejected(Failure::SignatureRejected);
            }
            return Verification::TamperedAccepted;
        }
        Verification::Passed
    }

    /// How late the backend hears what device `d` reports at `t` (0 without a delay fault).
    pub fn telemetry_delay_ms(&self, fleet: &Fleet, d: u32, t: SimTime) -> u64 {
        self.active_fault(fleet, d, t, |k| match k {
            FaultKind::TelemetryDelay { delay } => Some(delay),
            _ => None,
        })
        .map_or(0, |(k, delay)| {
            // One delay per device and fault: a region's reports are consistently late.
            secs_to_ms(delay.sample(&mut Stream::at(
                fleet.key(d, Purpose::TelemetryDelay),
                (k as u64) << 32,
            )))
        })
    }

    /// Whether the result report numbered `draw` that device `d` sends at `t` is lost.
    pub fn report_dropped(&self, fleet: &Fleet, d: u32, t: SimTime, draw: u64) -> bool {
        self.active_fault(fleet, d, t, |k| match k {
            FaultKind::TelemetryDrop { probability } => Some(*probability),
            _ => None,
        })
        .is_some_and(|(k, p)| {
            Stream::at(
                fleet.key(d, Purpose::TelemetryDrop),
                (k as u64) << 40 | draw,
            )
            .bernoulli(p)
        })
    }

    /// The chance that a health report device `d` sent in `(from, to]` was lost to a
    /// telemetry-drop fault: each fault's drop probability weighted by the share of the interval
    /// it covered (health is summarised into reports spread over the interval).
    pub fn health_loss(&self, fleet: &Fleet, d: u32, from: u64, to: u64) -> f64 {
        if to <= from || self.sc.faults.is_empty() {
            return 0.0;
        }
        let mut lost = 0.0;
        for k in self.faults_of(fleet, d) {
            let f = &self.sc.faults[k];
            if let FaultKind::TelemetryDrop { probability } = f.kind {
                let overlap = to.min(f.to.0).saturating_sub(from.max(f.from.0));
                lost += probability * overlap as f64 / (to - from) as f64;
            }
        }
        lost.min(1.0)
    }

    /// What the backend hears of `count` health events when each is lost with probability
    /// `loss`: a binomial thinning drawn from the device's telemetry-drop stream, keyed by the
    /// moment of the gate evaluation so that a replay loses the same reports.
    pub fn heard_of(&self, fleet: &Fleet, d: u32, count: u64, loss: f64, salt: u64) -> u64 {
        if loss <= 0.0 || count == 0 {
            return count;
        }
        let mut s = Stream::at(fleet.key(d, Purpose::TelemetryDrop), 1 << 63 | salt);
        (0..count).filter(|_| !s.bernoulli(loss)).count() as u64
    }

    /// How far device `d`'s clock is off at `t`, in milliseconds (may be negative).
    pub fn clock_skew_ms(&self, fleet: &Fleet, d: u32, t: SimTime) -> i64 {
        self.active_fault(fleet, d, t, |k| match k {
            FaultKind::ClockSkew { skew } => Some(skew),
            _ => None,
        })
        .map_or(0, |(k, skew)| {
            let s = skew.sample(&mut Stream::at(
                fleet.key(d, Purpose::ClockSkew),
                (k as u64) << 32,
            ));
            (s * 1000.0).round() as i64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::HOUR_MS;
    use crate::replication::RunLimits;

    /// Ten devices in two regions (five each, the south ones not checking signatures), and
    /// faults on a one-hour window from hour 1: a telemetry delay and a CDN degradation in the
    /// north, a tampered artifact in the south.
    fn plan() -> Scenario {
        let populations = r#"[[population]]
name = "north"
count = 5
model = "plc-1"
region = "north"
firmware = "1.0.0"
connectivity = "lan"

[[population]]
name = "south"
count = 5
model = "plc-1"
region = "south"
firmware = "1.0.0"
connectivity = "lan"
verifies_signatures = false"#;
        let plan = r#"[[policy.stage]]
name = "all"
select = {}
percent = 100

[[fault]]
kind = "telemetry-delay"
where = { region = "north" }
at = "1h"
duration = "1h"
delay = "30m"

[[fault]]
kind = "cdn-degradation"
where = { region = "north" }
at = "1h"
duration = "1h"
bandwidth_factor = 0.25
error_rate = 0.0

[[fault]]
kind = "tampered-artifact"
where = { region = "south" }
at = "1h"
duration = "1h""#;
        crate::scenario::test_fleet::ten_devices(populations, plan)
    }

    /// Each fault acts on the devices its `where` selects, only inside its window.
    #[test]
    fn a_fault_acts_on_its_devices_inside_its_window() {
        let sc = plan();
        let sim = crate::replication::Sim::new(&sc, 0, RunLimits::default()).unwrap();
        let (fleet, plan) = (&sim.world.fleet, &sim.world.faults);
        let (before, inside, after) = (
            SimTime(HOUR_MS / 2),
            SimTime(HOUR_MS * 3 / 2),
            SimTime(HOUR_MS * 2),
        );
        for d in 0..5 {
            assert_eq!(
                plan.telemetry_delay_ms(fleet, d, inside),
                30 * 60 * 1000,
                "{d}"
            );
            assert_eq!(plan.telemetry_delay_ms(fleet, d, before), 0);
            assert_eq!(
                plan.telemetry_delay_ms(fleet, d, after),
                0,
                "the window is [at, at + duration)"
            );
            assert_eq!(plan.cdn_at(fleet, d, inside), (0.25, 0.0));
            assert_eq!(plan.cdn_at(fleet, d, before), (1.0, 0.0));
            assert_eq!(
                plan.verify_download(fleet, d, inside, 1),
                Verification::Passed
            );
        }
        for d in 5..10 {
            assert_eq!(
                plan.telemetry_delay_ms(fleet, d, inside),
                0,
                "{d} is in the south"
            );
            assert_eq!(plan.cdn_at(fleet, d, inside), (1.0, 0.0));
            assert_eq!(
                plan.verify_download(fleet, d, inside, 1),
                Verification::TamperedAccepted
            );
            assert_eq!(
                plan.verify_download(fleet, d, before, 1),
                Verification::Passed
            );
        }
    }

    /// A fault query is a query: asked twice it answers the same, and it counts nothing (the
    /// lifecycle counts a security violation when it installs a tampered image).
    #[test]
    fn fault_queries_have_no_side_effects() {
        let sc = plan();
        let sim = crate::replication::Sim::new(&sc, 0, RunLimits::default()).unwrap();
        let (fleet, plan) = (&sim.world.fleet, &sim.world.faults);
        let inside = SimTime(HOUR_MS * 3 / 2);
        let first: Vec<_> = (0..10)
            .map(|d| plan.verify_download(fleet, d, inside, 7))
            .collect();
        let again: Vec<_> = (0..10)
            .map(|d| plan.verify_download(fleet, d, inside, 7))
            .collect();
        assert_eq!(first, again);
        assert_eq!(sim.world.recorder.security_violations, 0);
        assert!(sim.world.recorder.failures.iter().all(|&n| n == 0));
    }
}
