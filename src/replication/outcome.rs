//! The outcome of a finished replication, computed from the final state of its fleet, backend
//! and controller into the plain [`Outcome`] record (`crate::metrics::outcome`).

use super::Sim;
use crate::engine::time::SimTime;
use crate::fleet::device::{flag, Job, Phase, FAILURES, REASONS};
use crate::metrics::outcome::*;
use std::collections::BTreeMap;

fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

impl Sim<'_> {
    /// Computes the outcome at the end of the replication.
    pub(crate) fn finish(&mut self) {
        self.controller.on_window_close(&mut self.world);
        if self.world.recorder.stranded.is_none() {
            // `end_behavior = "stop"`: queued devices went on past the close; those still not
            // updated at the horizon are stranded.
            self.controller.record_stranded(&mut self.world);
        }
        // SPEC §1.4b: a device that downloaded before the close and waits only for its
        // maintenance window was reached and installs after the close; one still waiting at
        // the horizon had no window open for it in time: it is stranded for `maintenance` (or
        // `budget`, if its group's disruption budget never made room for it).
        use crate::fleet::device::Reason;
        let target = self.scenario.policy.target;
        // After a halt the device would be cancelled when its window opens, as at the close.
        let halted = self.controller.halted_at().is_some();
        let w = &mut self.world;
        for d in w.fleet.devices().iter().filter(|d| {
            d.phase == Phase::WaitingWindow
                && d.job == Job::Update
                && d.has(flag::TARGETED)
                && d.version != target
        }) {
            let reason = match d.reason {
                _ if halted => Reason::Cancelled,
                Reason::Budget => Reason::Budget,
                // Its owner never answered.
                Reason::Consent => Reason::Consent,
                _ => Reason::Maintenance,
            };
            w.recorder.strand_more(reason, d.population, d.stage);
        }
    }

    pub fn outcome(&self) -> Outcome {
        let sc = self.scenario;
        let c = &self.world.recorder;
        let target = sc.policy.target;
        let [p50, p95] = c.download_times_ms.quantiles_secs([0.5, 0.95]);
        let stranded = c.stranded.unwrap_or_default();
        let defective = sc.versions[target as usize]
            .defects
            .iter()
            .any(|d| d.probability > 0.0);
        let halted = self.controller.halted_at().is_some();
        let time_to_detect = match (c.first_harm, self.controller.detect_at()) {
            // A gate that fails before any harm has not detected it.
            (Some(h), Some(d)) if d >= h => Some(secs(SimTime(d.0 - h.0))),
            _ => None,
        };
        let rb = self.rollback_outcome();
        let backlog = self.support_backlog();
        let final_stage = self
            .controller
            .halt_stage()
            .or(self.controller.current())
            .map(|i| sc.policy.stages[i].name.clone());
        Outcome {
            replication: self.rep,
            devices: self.world.fleet.len() as u64,
            targeted: c.targeted,
            updated: c.on_target,
            completion: (c.targeted > 0).then(|| c.on_target as f64 / c.targeted as f64),
            time_to_50: c.adoption_at[0].map(secs),
            time_to_95: c.adoption_at[1].map(secs),
            time_to_99: c.adoption_at[2].map(secs),
            exposed: c.exposed,
            harmed: c.harmed,
            harmed_critical: c.harmed_critical,
            bricked: c.bricked,
            halted,
            halt_reason: self.controller.halt_reason().map(str::to_string),
            halted_at: self.controller.halted_at().map(secs),
            final_stage,
            time_to_detect,
            false_halt: halted && !defective,
            rolled_back: c.rolled_back,
            rollback_refused: rb.refused,
            rollback_stranded: rb.stranded.values().sum(),
            rollback_stranded_by_reason: rb.stranded,
            time_to_recover_95: rb.time_to_recover_95,
            stranded: stranded.iter().sum(),
            stranded_by_reason: named(REASONS.iter().map(|(n, r)| (*n, stranded[*r as usize]))),
            failures_by_reason: named(FAILURES.iter().map(|(n, f)| (*n, c.failures[*f as usize]))),
            deferrals_by_reason: named(REASONS.iter().map(|(n, r)| (*n, c.deferrals[*r as usize]))),
            security_violations: c.security_violations,
            watchdog_reverted: c.watchdog_reverted,
            failsafe_reverted: c.failsafe_reverted,
            delta_fallbacks: c.delta_fallbacks,
            quarantined: self.world.backend.quarantined().len() as u64,
            support_backlog_peak: backlog.map(|b| b.peak),
            time_to_clear_support: backlog
                .and_then(|b| b.time_to_clear_ms)
                .map(|ms| ms as f64 / 1000.0),
            field_visits: c.field_visits.len() as u64,
            field_cost: c.field_cost,
            rejected: c.rejected,
            peak_in_flight: c.peak_in_flight,
            bytes_served: c.bytes_served,
            download_time_p50: p50,
            download_time_p95: p95,
            observed_success: self.world.backend.global().success,
            observed_failure: self.world.backend.global().failure,
            observed_timed_out: self.world.backend.global().timed_out,
            observed_rejected: self.world.backend.global().rejected,
            observed_tickets: self.world.backend.tickets_by(None, self.world.now),
            events: self.world.agenda.popped(),
            shadow_gates: self.shadow_outcomes(),
            gates: self.controller.gate_log().to_vec(),
            stage_opened_at: self
                .controller
                .stages()
                .iter()
                .map(|st| st.opened_at.map(secs))
                .collect(),
            rollback_at: self.controller.rollback_at().map(secs),
            by_cohort: self.by_cohort(),
        }
    }

    /// `by_cohort`: harm and bricks from the device flags at the end (one pass), failures and
    /// stranded devices from the recorder's cohort counts.
    fn by_cohort(&self) -> crate::metrics::cohort::ByCohort {
        let c = &self.world.recorder;
        let mut devices = vec![[0u64; 2]; c.cohorts.len()];
        for d in self.world.fleet.devices() {
            let (harmed, bricked) = (d.has(flag::HARMED), d.has(flag::BRICKED));
            if !harmed && !bricked {
                continue;
            }
            for s in c.cohorts.of(d.population, d.stage).into_iter().flatten() {
                devices[s][0] += harmed as u64;
                devices[s][1] += bricked as u64;
            }
        }
        crate::metrics::cohort::build(&c.cohorts, &devices, &c.cohort_failures, &c.cohort_stranded)
    }

    /// The support queue replayed over every ticket and quarantined device (`None` without
    /// `support.capacity_per_day`); its resolve times come from a replication-level stream.
    fn support_backlog(&self) -> Option<crate::backend::support::Backlog> {
        let q = self.scenario.support.queue.as_ref()?;
        let key = crate::engine::rng::stream_key(
            self.scenario.seed,
            self.rep,
            u64::MAX,
            crate::engine::rng::Purpose::SupportResolve,
        );
        let mut arrivals = self.world.backend.support_arrivals();
        Some(crate::backend::support::backlog(
            &mut arrivals,
            q,
            key,
            self.scenario.horizon.0,
        ))
    }

    /// What each shadow gate would have done, and the truth when it would have.
    fn shadow_outcomes(&self) -> Vec<ShadowOutcome> {
        (self.scenario.policy.shadow_gates.iter())
            .zip(self.controller.shadows())
            .map(|(g, s)| ShadowOutcome {
                name: g.name.clone(),
                fired: s.fired_at.is_some(),
                fired_at: s.fired_at.map(secs),
                harmed_at_fire: s.fired_at.map(|_| s.harmed_at_fire),
                exposed_at_fire: s.fired_at.map(|_| s.exposed_at_fire),
            })
            .collect()
    }

    /// `rollback_refused`, `rollback_stranded` and `time_to_recover_95`. The devices the rollback
    /// had to return are the exposed ones that did not leave the target by themselves (an A/B
    /// revert). Refused: bricked, an unsafe downgrade, or never reachable again (no-reconnect).
    /// Stranded: still on the target at the end for another reason. Recoverable devices are the
    /// rest; a device already back on its rollback version when the rollback was decided counts
    /// as recovered at the decision.
    fn rollback_outcome(&self) -> RollbackOutcome {
        let mut out = RollbackOutcome {
            stranded: ROLLBACK_STRANDED_REASONS
                .iter()
                .map(|r| (r.to_string(), 0))
                .collect(),
            ..RollbackOutcome::default()
        };
        let Some(decided) = self.controller.rollback_at() else {
            return out;
        };
        let target = self.scenario.policy.target;
        let mut recoverable = 0u64;
        let mut times: Vec<u64> = Vec::new();
        let recovered_at: std::collections::HashMap<u32, u64> =
            self.world.recorder.recovered.iter().copied().collect();
        for (i, dv) in self.world.fleet.devices().iter().enumerate() {
            if !dv.has(flag::EXPOSED) {
                continue;
            }
            let d = i as u32;
            let unreachable = self.world.overlay(d).up_after(self.world.now.0) == u64::MAX;
            if dv.has(flag::BRICKED)
                || dv.has(flag::REFUSED)
                || (unreachable && dv.version == target)
            {
                out.refused += 1;
                continue;
            }
            if dv.version == target {
                // The reasons are a fixed set (the columns of replications.csv).
                if let Some(n) = out.stranded.get_mut(rollback_stranded_reason(dv)) {
                    *n += 1;
                }
                continue;
            }
            recoverable += 1;
            if let Some(&t) = recovered_at.get(&d) {
                times.push(t.max(decided.0));
            } else {
                times.push(decided.0);
            }
        }
        times.sort_unstable();
        // Stranded devices are recoverable in principle: they count in the 95 % they delay.
        let recoverable = recoverable + out.stranded.values().sum::<u64>();
        let need = ((0.95 * recoverable as f64).ceil() as usize).max(1);
        out.time_to_recover_95 = (recoverable > 0 && times.len() >= need)
            .then(|| (times[need - 1] - decided.0) as f64 / 1000.0);
        out
    }
}

/// What the rollback achieved (see [`Sim::rollback_outcome`]).
#[derive(Default)]
struct RollbackOutcome {
    refused: u64,
    stranded: BTreeMap<String, u64>,
    time_to_recover_95: Option<f64>,
}

/// Why a device that had to go back is still on the target at the end.
fn rollback_stranded_reason(dv: &crate::fleet::device::Device) -> &'static str {
    use crate::fleet::device::Reason;
    use crate::metrics::outcome::{IN_PROGRESS, NOT_NOTIFIED};
    let offline = Reason::Offline.name();
    match (dv.job, dv.phase) {
        (Job::Rollback, Phase::Idle) if dv.has(flag::JOB_FAILED) => Reason::RetriesExhausted.name(),
        (Job::Rollback, Phase::Idle | Phase::Pending) if dv.has(flag::DEFERRED) => {
            match dv.reason {
                Reason::RetriesExhausted | Reason::BlockedMigration => offline,
                preflight => preflight.name(),
            }
        }
        (Job::Rollback, Phase::Pending | Phase::Interrupted | Phase::Parked) => offline,
        (Job::Rollback, Phase::WaitingWindow) => Reason::Maintenance.name(),
        (Job::Rollback, _) => IN_PROGRESS,
        (_, Phase::Idle) if dv.has(flag::JOB_FAILED) => Reason::RetriesExhausted.name(),
        // Notified while mid-update: its rollback starts once it has reported, which it never
        // did (offline).
        _ if dv.has(flag::ROLLBACK_DUE) => offline,
        _ => NOT_NOTIFIED,
    }
}

/// Counts by reason, keyed by the reason's output name.
fn named<'a, C: FromIterator<(String, u64)>>(counts: impl Iterator<Item = (&'a str, u64)>) -> C {
    counts.map(|(n, k)| (n.to_string(), k)).collect()
}
