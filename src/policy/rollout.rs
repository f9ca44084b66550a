//! The rollout controller (SPEC §1.5): stages in order, the notification pump with AWS IoT Jobs'
//! exponential rate, gates judged after bake, continuous abort rules, and the actions pause /
//! rollback / abort with the operator in the loop.

use super::event::{OperatorAct, PolicyEvent};
use super::gate::Verdict;
use crate::engine::rng::{Purpose, Stream};
use crate::engine::time::{secs_to_ms, SimTime};
use crate::fleet::device::{flag, Failure, Job, Phase, Reason, Reported};
use crate::replication::Sim;
use crate::scenario::model::Scenario;
use crate::scenario::raw::{Action, Approval, ObservedMetric, OnInsufficient, OnPause};
use std::collections::VecDeque;

/// Where the rollout stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    NotStarted,
    Running,
    Paused,
    RollingBack,
    Aborted,
    Held,
}

#[derive(Clone, Debug, Default)]
pub struct StageState {
    pub cohort: Vec<u32>,
    pub opened_at: Option<SimTime>,
    pub notified: usize,
    pub ready_at: Option<SimTime>,
    /// The gate has been judged (or declared insufficient).
    pub judged: bool,
    /// When the one live `StageJudge` event of this stage falls: an older event (scheduled
    /// before a pause, or before an insufficient check asked to judge again) is stale.
    pub judge_at: Option<SimTime>,
    /// The stage passed and waits only for approval or the next stage.
    pub passed: bool,
}

/// Where a pause came from, so that `resume` knows what it resumes.
#[derive(Clone, Copy, Debug)]
enum PauseSource {
    Gate(usize),
    Abort(usize),
}

pub use crate::metrics::gate_log::GateRecord;

/// A shadow gate's state in one replication.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShadowState {
    pub scheduled: bool,
    pub judged: bool,
    pub fired_at: Option<SimTime>,
    /// True harmed and exposed counts when it fired.
    pub harmed_at_fire: u64,
    pub exposed_at_fire: u64,
}

pub struct Rollout {
    pub mode: Mode,
    pub stages: Vec<StageState>,
    pub current: Option<usize>,
    /// The seed-stable random order of the fleet (cohorts and control groups follow it).
    pub order: Vec<u32>,
    queue: VecDeque<u32>,
    pump_pending: bool,
    last_notify: Option<SimTime>,
    notified_total: u64,
    rb_notified: u64,
    pub window_closed: bool,
    pub halted_at: Option<SimTime>,
    /// When the current halt began (`None` while running): installs of the update may start
    /// after it only for devices whose download was under way.
    pub halted_since: Option<SimTime>,
    pub halt_reason: Option<String>,
    pub halt_stage: Option<usize>,
    pub rollback_at: Option<SimTime>,
    pub detect_at: Option<SimTime>,
    aborts_disabled: Vec<bool>,
    pub gate_log: Vec<GateRecord>,
    pause_source: Option<PauseSource>,
    operator_draws: u64,
    pub complete: bool,
    pub shadows: Vec<ShadowState>,
}

impl Rollout {
    pub fn new(sc: &Scenario) -> Rollout {
        Rollout {
            mode: Mode::NotStarted,
            stages: vec![StageState::default(); sc.policy.stages.len()],
            current: None,
            order: Vec::new(),
            queue: VecDeque::new(),
            pump_pending: false,
            last_notify: None,
            notified_total: 0,
            rb_notified: 0,
            window_closed: false,
            halted_at: None,
            halted_since: None,
            halt_reason: None,
            halt_stage: None,
            rollback_at: None,
            detect_at: None,
            aborts_disabled: vec![false; sc.policy.aborts.len()],
            gate_log: Vec::new(),
            pause_source: None,
            operator_draws: 0,
            complete: false,
            shadows: vec![ShadowState::default(); sc.policy.shadow_gates.len()],
        }
    }
    pub fn accepting_updates(&self) -> bool {
        self.mode == Mode::Running && !self.window_closed
    }
    pub fn is_paused(&self) -> bool {
        self.mode == Mode::Paused
    }
    pub fn rolling_back(&self) -> bool {
        self.mode == Mode::RollingBack
    }
}

impl Sim<'_> {
    pub(crate) fn start_rollout(&mut self) {
        self.ro.mode = Mode::Running;
        let (order, cohorts) = super::cohort::build(self);
        self.ro.order = order;
        for (i, cohort) in cohorts.into_iter().enumerate() {
            for &d in &cohort {
                let dv = self.fleet.dev_mut(d);
                dv.set(flag::TARGETED);
                dv.stage = i as u8;
            }
            self.c.targeted += cohort.len() as u64;
            self.ro.stages[i].cohort = cohort;
        }
        if !self.sc.policy.stages.is_empty() {
            self.open_stage(0);
        }
    }

    /// `selection = "continuous"` (AWS `targetSelection = CONTINUOUS`): a device that joins
    /// while the rollout runs gets the update if a stage opened so far selects it; it joins the
    /// current stage's cohort and queue.
    pub(crate) fn adopt_arrival(&mut self, d: u32) {
        use crate::scenario::raw::Selection;
        let sc = self.sc;
        if sc.policy.selection != Selection::Continuous
            || self.ro.mode != Mode::Running
            || self.ro.window_closed
        {
            return;
        }
        let Some(current) = self.ro.current else {
            return;
        };
        let dv = *self.fleet.dev(d);
        if dv.version >= sc.policy.target {
            return;
        }
        let pop = &sc.populations[dv.population as usize];
        let attrs = pop.attrs(sc.version_label(dv.initial_version), None);
        if !sc.policy.stages[..=current]
            .iter()
            .any(|s| s.select.matches(&attrs))
        {
            return;
        }
        let dv = self.fleet.dev_mut(d);
        dv.set(flag::TARGETED);
        dv.stage = current as u8;
        self.c.targeted += 1;
        self.ro.stages[current].cohort.push(d);
        self.ro.queue.push_back(d);
        self.kick_pump();
    }

    fn open_stage(&mut self, i: usize) {
        self.ro.current = Some(i);
        let st = &mut self.ro.stages[i];
        st.opened_at = Some(self.now);
        self.ro.queue.extend(st.cohort.iter().copied());
        let stage = &self.sc.policy.stages[i];
        if let (Some(_), Some(wait)) = (&stage.gate, stage.max_wait_ms) {
            self.schedule(
                self.now.plus(wait),
                PolicyEvent::StageMaxWait { stage: i as u32 },
            );
        }
        if let Some(wait) = stage.max_wait_ms {
            for (k, g) in self.sc.policy.shadow_gates.iter().enumerate() {
                if g.stage == i {
                    let shadow = k as u32;
                    self.schedule(self.now.plus(wait), PolicyEvent::ShadowMaxWait { shadow });
                }
            }
        }
        self.check_stage_ready(i);
        self.kick_pump();
    }

    /// Starts the notification pump if it is idle and has work it may do.
    pub(crate) fn kick_pump(&mut self) {
        if self.ro.pump_pending || self.ro.queue.is_empty() {
            return;
        }
        let at = match self.ro.last_notify {
            Some(last) => last.plus(self.notify_interval_ms()).max(self.now),
            None => self.now,
        };
        self.ro.pump_pending = true;
        self.schedule(at, PolicyEvent::Notify);
    }

    fn current_rate(&self) -> f64 {
        let rate = &self.sc.policy.rate;
        if self.ro.mode == Mode::RollingBack {
            rate.per_minute_at(self.ro.rb_notified, self.backend.rollback_succeeded())
        } else {
            rate.per_minute_at(self.ro.notified_total, self.backend.succeeded())
        }
    }

    fn notify_interval_ms(&self) -> u64 {
        let r = self.current_rate();
        if r.is_finite() {
            ((60_000.0 / r).round() as u64).max(1)
        } else {
            0
        }
    }

    fn can_notify(&self) -> bool {
        match self.ro.mode {
            Mode::Running => {
                !self.ro.window_closed && self.backend.in_flight() < self.sc.policy.max_in_flight
            }
            Mode::RollingBack => true,
            _ => false,
        }
    }

    pub(crate) fn on_notify(&mut self) {
        self.ro.pump_pending = false;
        loop {
            if !self.can_notify() {
                return;
            }
            let Some(d) = self.ro.queue.pop_front() else {
                return;
            };
            self.ro.last_notify = Some(self.now);
            if self.ro.mode == Mode::RollingBack {
                self.notify_rollback(d);
            } else {
                self.notify_update(d);
            }
            if self.current_rate().is_finite() {
                self.kick_pump();
                return;
            }
        }
    }

    fn notify_update(&mut self, d: u32) {
        let dv = self.fleet.dev_mut(d);
        dv.set(flag::NOTIFIED);
        dv.job = Job::Update;
        dv.enter(Phase::Pending);
        let stage = dv.stage as usize;
        self.ro.notified_total += 1;
        self.backend.record_notified(stage as u8);
        let st = &mut self.ro.stages[stage];
        st.notified += 1;
        let all = st.notified == st.cohort.len();
        self.schedule_check_in(d, self.now);
        if all {
            self.check_stage_ready(stage);
        }
    }

    fn notify_rollback(&mut self, d: u32) {
        self.ro.rb_notified += 1;
        let dv = self.fleet.dev_mut(d);
        if dv.phase == Phase::Idle && dv.version != self.sc.policy.target {
            return; // never reached the target (failed, reverted, or mid-chain): nothing to undo
        }
        if dv.phase == Phase::Idle {
            self.begin_rollback_job(d);
        } else {
            dv.set(flag::ROLLBACK_DUE);
        }
    }

    pub(crate) fn begin_rollback_job(&mut self, d: u32) {
        let dv = self.fleet.dev_mut(d);
        dv.clear(flag::ROLLBACK_DUE);
        if dv.has(flag::BRICKED) {
            return;
        }
        dv.job = Job::Rollback;
        dv.attempts = 0;
        // A deferral of the update (a maintenance window it waited for) is not the rollback's.
        dv.clear(flag::DEFERRED);
        dv.enter(Phase::Pending);
        self.schedule_check_in(d, self.now);
    }

    /// Records a result the backend now knows for device `d`'s update.
    pub(crate) fn ro_record_result(&mut self, d: u32, failure: Option<Failure>) {
        let dv = self.fleet.dev_mut(d);
        let old = dv.reported;
        let new = if failure.is_none() {
            Reported::Success
        } else {
            Reported::Failure
        };
        dv.reported = new;
        // revert_rate counts devices, like its denominator.
        let revert = failure == Some(Failure::BootReverted)
            && !std::mem::replace(&mut dv.revert_reported, true);
        let stage = dv.stage;
        self.backend.record_result(stage, old, new, revert);
    }

    /// After a result: the continuous abort rules, then the device's stage gate readiness.
    pub(crate) fn after_result(&mut self, d: u32) {
        self.check_aborts();
        let stage = self.fleet.dev(d).stage as usize;
        self.check_shadows_ready(stage);
        if self.ro.current == Some(stage) {
            self.check_stage_ready(stage);
        }
    }

    fn check_aborts(&mut self) {
        if self.ro.mode != Mode::Running {
            return;
        }
        let g = self.backend.global();
        for (k, rule) in self.sc.policy.aborts.iter().enumerate() {
            if self.ro.aborts_disabled[k] || g.reported < rule.min_executed {
                continue;
            }
            let (count, base) = match rule.metric {
                ObservedMetric::UpdateFailureRate => (g.failure, g.reported),
                ObservedMetric::UpdateSuccessRate => (g.success, g.reported),
                ObservedMetric::TimeoutRate => (g.timed_out, g.started),
                _ => (g.reverts, g.reported),
            };
            if base == 0 {
                continue;
            }
            let value = count as f64 / base as f64;
            // A success rate trips when it falls below the threshold; every other metric when it
            // rises above.
            let tripped = if rule.metric == ObservedMetric::UpdateSuccessRate {
                value < rule.threshold
            } else {
                value > rule.threshold
            };
            if tripped {
                self.ro.gate_log.push(GateRecord {
                    stage: format!("abort[{k}]"),
                    time: self.now.as_secs_f64(),
                    check: rule.metric.name().into(),
                    test: "point".into(),
                    count: count as f64,
                    base: base as f64,
                    observed: Some(value),
                    bound: None,
                    threshold: rule.threshold,
                    passed: false,
                    decision: action_name(rule.action).into(),
                });
                self.act(
                    rule.action,
                    format!("abort:{}", rule.metric.name()),
                    PauseSource::Abort(k),
                );
                return;
            }
        }
    }

    pub(crate) fn check_stage_ready(&mut self, i: usize) {
        self.check_shadows_ready(i);
        if self.ro.current != Some(i) || self.ro.mode != Mode::Running {
            return;
        }
        let stage = &self.sc.policy.stages[i];
        let st = &self.ro.stages[i];
        if st.ready_at.is_some() || st.notified < st.cohort.len() {
            return;
        }
        let need = stage.gate.as_ref().map_or(0, |g| g.min_devices);
        if (st.cohort.len() as u64) < need && !st.judged {
            // The cohort can never supply `min_devices` reports: insufficient now, not never.
            return self.on_stage_max_wait(i);
        }
        if self.backend.stage(i).reported >= need || st.cohort.is_empty() && stage.gate.is_none() {
            self.ro.stages[i].ready_at = Some(self.now);
            self.schedule_judge(i, self.now.plus(stage.bake_ms));
        }
    }

    /// Schedules the stage's gate judgement at `at`; it replaces any judgement pending.
    fn schedule_judge(&mut self, i: usize, at: SimTime) {
        self.ro.stages[i].judge_at = Some(at);
        self.schedule(at, PolicyEvent::StageJudge { stage: i as u32 });
    }

    pub(crate) fn on_stage_judge(&mut self, i: usize) {
        if self.ro.stages[i].judge_at != Some(self.now)
            || self.ro.current != Some(i)
            || self.ro.mode != Mode::Running
        {
            return;
        }
        self.ro.stages[i].judge_at = None;
        let Some(gate) = &self.sc.policy.stages[i].gate else {
            return self.stage_passed(i);
        };
        let (verdict, mut records) = super::gate::evaluate(self, i, gate);
        self.ro.stages[i].judged = true;
        let stage = &self.sc.policy.stages[i];
        // A check with nothing to judge against waits, like a stage short of `min_devices`,
        // until `max_wait` has passed since the stage opened; then `on_insufficient` decides.
        let deadline = self.ro.stages[i]
            .opened_at
            .zip(stage.max_wait_ms)
            .map(|(t, w)| t.plus(w));
        let on_insufficient = match deadline {
            Some(d) if d > self.now => Insufficient::Wait(d),
            _ => Insufficient::Decide(stage.on_insufficient),
        };
        mark_insufficient(&mut records, on_insufficient);
        self.ro.gate_log.extend(records);
        match (verdict, on_insufficient) {
            (Verdict::Pass, _)
            | (Verdict::Insufficient, Insufficient::Decide(OnInsufficient::Pass)) => {
                self.stage_passed(i)
            }
            (Verdict::Insufficient, Insufficient::Wait(_))
            | (Verdict::Insufficient, Insufficient::Decide(OnInsufficient::Extend)) => {
                // Judge again one bake (at least an hour) later, or at the deadline: a control
                // may be heard from by then.
                self.ro.stages[i].judged = false;
                let again = self
                    .now
                    .plus(stage.bake_ms.max(crate::engine::time::HOUR_MS));
                let at = match on_insufficient {
                    Insufficient::Wait(d) => again.min(d),
                    Insufficient::Decide(_) => again,
                };
                self.schedule_judge(i, at);
            }
            (Verdict::Insufficient, Insufficient::Decide(OnInsufficient::Fail)) => {
                let name = &self.sc.policy.stages[i].name;
                self.act(
                    gate.on_fail,
                    format!("gate:{name}:insufficient"),
                    PauseSource::Gate(i),
                );
            }
            (Verdict::Fail, _) => self.stage_failed(i),
        }
    }

    /// The stage's gate failed: its `on_fail` acts, naming the checks that failed.
    fn stage_failed(&mut self, i: usize) {
        let Some(gate) = &self.sc.policy.stages[i].gate else {
            return;
        };
        let failed: Vec<String> = self
            .ro
            .gate_log
            .iter()
            .rev()
            .take(gate.checks.len())
            .filter(|r| r.decision == "fail")
            .map(|r| r.check.clone())
            .collect();
        let name = &self.sc.policy.stages[i].name;
        self.act(
            gate.on_fail,
            format!("gate:{name}:{}", failed.join("+")),
            PauseSource::Gate(i),
        );
    }

    /// Shadow gates follow the stage gate's schedule — ready once the cohort is notified and
    /// `min_devices` have reported, judged `bake` later — whatever the rollout does meanwhile,
    /// so a shadow gate fires exactly when an acting gate of the same definition would.
    fn check_shadows_ready(&mut self, i: usize) {
        let Some(st) = self.ro.stages.get(i) else {
            return;
        };
        if st.opened_at.is_none() || st.notified < st.cohort.len() {
            return;
        }
        let reported = self.backend.stage(i).reported;
        let bake = self.sc.policy.stages[i].bake_ms;
        for (k, g) in self.sc.policy.shadow_gates.iter().enumerate() {
            if g.stage == i && !self.ro.shadows[k].scheduled && reported >= g.gate.min_devices {
                self.ro.shadows[k].scheduled = true;
                let shadow = k as u32;
                self.schedule(self.now.plus(bake), PolicyEvent::ShadowJudge { shadow });
            }
        }
    }

    pub(crate) fn on_shadow_judge(&mut self, k: usize) {
        if std::mem::replace(&mut self.ro.shadows[k].judged, true) {
            return;
        }
        let g = &self.sc.policy.shadow_gates[k];
        let (verdict, mut records) = super::gate::evaluate(self, g.stage, &g.gate);
        let on_insufficient = self.sc.policy.stages[g.stage].on_insufficient;
        mark_insufficient(&mut records, Insufficient::Decide(on_insufficient));
        // A shadow gate is judged once: an insufficient check fires it only where the acting
        // gate's `on_insufficient = "fail"` would have acted.
        let passed = match verdict {
            Verdict::Pass => true,
            Verdict::Fail => false,
            Verdict::Insufficient => on_insufficient != OnInsufficient::Fail,
        };
        let action = action_name(g.gate.on_fail);
        for r in &mut records {
            r.stage = format!("shadow:{}", g.name);
            if passed {
                continue;
            }
            if r.decision == "fail" {
                r.decision = format!("would-{action}");
            } else if r.decision.starts_with(super::gate::INSUFFICIENT) && !r.passed {
                r.decision = format!("would-{action}:insufficient");
            }
        }
        self.ro.gate_log.extend(records);
        if !passed {
            self.fire_shadow(k);
        }
    }

    pub(crate) fn on_shadow_max_wait(&mut self, k: usize) {
        let g = &self.sc.policy.shadow_gates[k];
        if self.ro.shadows[k].scheduled
            || self.sc.policy.stages[g.stage].on_insufficient != OnInsufficient::Fail
        {
            return;
        }
        self.ro.shadows[k].scheduled = true;
        self.ro.shadows[k].judged = true;
        self.ro.gate_log.push(GateRecord {
            stage: format!("shadow:{}", g.name),
            time: self.now.as_secs_f64(),
            check: "min_devices".into(),
            test: "count".into(),
            count: self.backend.stage(g.stage).reported as f64,
            base: g.gate.min_devices as f64,
            observed: Some(self.backend.stage(g.stage).reported as f64),
            bound: None,
            threshold: g.gate.min_devices as f64,
            passed: false,
            decision: format!("would-{}:insufficient", action_name(g.gate.on_fail)),
        });
        self.fire_shadow(k);
    }

    fn fire_shadow(&mut self, k: usize) {
        let s = &mut self.ro.shadows[k];
        s.fired_at = Some(self.now);
        s.harmed_at_fire = self.c.harmed;
        s.exposed_at_fire = self.c.exposed;
    }

    pub(crate) fn on_stage_max_wait(&mut self, i: usize) {
        if self.ro.current != Some(i)
            || self.ro.mode != Mode::Running
            || self.ro.stages[i].ready_at.is_some()
        {
            return;
        }
        let stage = &self.sc.policy.stages[i];
        let Some(gate) = &stage.gate else { return };
        let decision = match stage.on_insufficient {
            OnInsufficient::Extend => return,
            OnInsufficient::Pass => "insufficient:pass",
            OnInsufficient::Fail => "insufficient:fail",
        };
        self.ro.stages[i].judged = true;
        self.ro.gate_log.push(GateRecord {
            stage: stage.name.clone(),
            time: self.now.as_secs_f64(),
            check: "min_devices".into(),
            test: "count".into(),
            count: self.backend.stage(i).reported as f64,
            base: gate.min_devices as f64,
            observed: Some(self.backend.stage(i).reported as f64),
            bound: None,
            threshold: gate.min_devices as f64,
            passed: stage.on_insufficient == OnInsufficient::Pass,
            decision: decision.into(),
        });
        if stage.on_insufficient == OnInsufficient::Pass {
            self.ro.stages[i].ready_at = Some(self.now);
            self.stage_passed(i);
        } else {
            self.act(
                gate.on_fail,
                format!("gate:{}:insufficient", stage.name),
                PauseSource::Gate(i),
            );
        }
    }

    fn stage_passed(&mut self, i: usize) {
        self.ro.stages[i].passed = true;
        if self.sc.policy.stages[i].approval == Approval::Operator {
            let delay = self.operator_delay();
            let approve = OperatorAct::Approve { stage: i as u32 };
            self.schedule(self.now.plus(delay), PolicyEvent::Operator(approve));
        } else {
            self.advance_stage(i);
        }
    }

    fn advance_stage(&mut self, i: usize) {
        if i + 1 < self.sc.policy.stages.len() {
            self.open_stage(i + 1);
        } else {
            self.ro.complete = true;
        }
    }

    fn operator_delay(&mut self) -> u64 {
        // The operator's response times form their own stream, keyed by the replication only.
        let key =
            crate::engine::rng::stream_key(self.sc.seed, self.rep, u64::MAX, Purpose::Operator);
        let mut s = Stream::at(key, self.ro.operator_draws << 5);
        self.ro.operator_draws += 1;
        secs_to_ms(self.sc.policy.operator.response.sample(&mut s))
    }

    fn act(&mut self, action: Action, reason: String, source: PauseSource) {
        if self.ro.mode != Mode::Running {
            return;
        }
        self.ro.halted_at.get_or_insert(self.now);
        self.ro.halted_since = Some(self.now);
        self.ro.detect_at.get_or_insert(self.now);
        if self.ro.halt_reason.is_none() {
            self.ro.halt_reason = Some(reason);
            self.ro.halt_stage = self.ro.current;
        }
        match action {
            Action::Pause => {
                self.ro.mode = Mode::Paused;
                self.ro.pause_source = Some(source);
                let delay = self.operator_delay();
                self.schedule(
                    self.now.plus(delay),
                    PolicyEvent::Operator(OperatorAct::OnPause),
                );
            }
            Action::Rollback => self.start_rollback(),
            Action::Abort => {
                self.ro.mode = Mode::Aborted;
                self.ro.queue.clear();
            }
        }
    }

    pub(crate) fn on_operator(&mut self, act: OperatorAct) {
        if let OperatorAct::Approve { stage } = act {
            let i = stage as usize;
            if self.ro.mode == Mode::Running && self.ro.current == Some(i) {
                self.advance_stage(i);
            }
            return;
        }
        if self.ro.mode != Mode::Paused {
            return;
        }
        match self.sc.policy.operator.on_pause {
            OnPause::Rollback => self.start_rollback(),
            OnPause::Hold => self.ro.mode = Mode::Held,
            OnPause::Resume => {
                self.ro.mode = Mode::Running;
                self.ro.halted_since = None;
                for d in self.backend.take_parked() {
                    if self.fleet.dev(d).phase == Phase::Parked {
                        self.fleet.dev_mut(d).enter(Phase::Pending);
                        self.schedule_check_in(d, self.now);
                    }
                }
                match self.ro.pause_source.take() {
                    Some(PauseSource::Gate(i)) => self.advance_stage(i),
                    Some(PauseSource::Abort(k)) => {
                        self.ro.aborts_disabled[k] = true;
                        if let Some(i) = self.ro.current {
                            self.resume_stage(i);
                        }
                    }
                    None => {}
                }
                self.kick_pump();
            }
        }
    }

    /// Picks up the current stage after a pause that did not come from its own gate: whatever
    /// its gate, bake, `max_wait` or approval would have done during the pause happens now.
    fn resume_stage(&mut self, i: usize) {
        let st = &self.ro.stages[i];
        let stage = &self.sc.policy.stages[i];
        if st.passed {
            return self.advance_stage(i);
        }
        if let (Some(ready), false) = (st.ready_at, st.judged) {
            let at = ready.plus(stage.bake_ms).max(self.now);
            return self.schedule_judge(i, at);
        }
        self.check_stage_ready(i);
        let st = &self.ro.stages[i];
        let deadline = st.opened_at.zip(stage.max_wait_ms).map(|(t, w)| t.plus(w));
        if st.ready_at.is_none() && deadline.is_some_and(|d| d <= self.now) {
            self.on_stage_max_wait(i);
        }
    }

    /// Rollback (SPEC §1.5): stop new starts, cancel pending ones, and push the rollback
    /// version to every device that started the update, at the policy's rate and through the
    /// same download/install path.
    fn start_rollback(&mut self) {
        self.ro.mode = Mode::RollingBack;
        self.ro.rollback_at = Some(self.now);
        self.ro.queue.clear();
        for d in self.backend.take_parked() {
            self.cancel(d);
        }
        let started = self.backend.started_order().to_vec();
        self.ro.queue.extend(started);
        self.ro.last_notify = None;
        self.kick_pump();
    }

    pub(crate) fn on_window_close(&mut self) {
        if self.ro.window_closed {
            return;
        }
        self.ro.window_closed = true;
        let mut stranded = [0u64; crate::fleet::device::REASONS.len()];
        let halted = self.ro.halted_at.is_some();
        let target = self.sc.policy.target;
        for dv in self.fleet.devices() {
            if !dv.has(flag::TARGETED) || dv.version == target {
                continue;
            }
            let reason = match dv.phase {
                Phase::Idle | Phase::Pending | Phase::Parked => {
                    if dv.has(flag::JOB_FAILED) && dv.reason == Reason::RetriesExhausted {
                        Reason::RetriesExhausted
                    } else if halted && (dv.reason == Reason::Cancelled || !dv.has(flag::DEFERRED))
                    {
                        Reason::Cancelled
                    } else if !dv.has(flag::NOTIFIED) {
                        // The window closed before the rollout reached it: STOP_ROLLOUT cancels.
                        Reason::Cancelled
                    } else if dv.has(flag::DEFERRED) {
                        dv.reason
                    } else {
                        Reason::Offline
                    }
                }
                // Bricked devices and devices mid-update are not stranded: they were reached.
                _ => continue,
            };
            if dv.has(flag::BRICKED) {
                continue;
            }
            stranded[reason as usize] += 1;
        }
        self.c.stranded = Some(stranded);
    }
}

/// What a gate does about a check with nothing to judge against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Insufficient {
    /// Wait and judge again, at the latest at this deadline (`max_wait`).
    Wait(SimTime),
    /// The stage's `on_insufficient` decides now.
    Decide(OnInsufficient),
}

/// Gives the checks that had nothing to judge against the decision taken
/// (`insufficient:wait`, `insufficient:fail`, `insufficient:pass`, `insufficient:extend`), as
/// `min_devices` does.
fn mark_insufficient(records: &mut [GateRecord], what: Insufficient) {
    let (suffix, passed) = match what {
        Insufficient::Wait(_) => ("wait", false),
        Insufficient::Decide(OnInsufficient::Fail) => ("fail", false),
        Insufficient::Decide(OnInsufficient::Pass) => ("pass", true),
        Insufficient::Decide(OnInsufficient::Extend) => ("extend", false),
    };
    for r in records
        .iter_mut()
        .filter(|r| r.decision == super::gate::INSUFFICIENT)
    {
        r.decision = format!("{}:{suffix}", super::gate::INSUFFICIENT);
        r.passed = passed;
    }
}

pub fn action_name(a: Action) -> &'static str {
    match a {
        Action::Pause => "pause",
        Action::Rollback => "rollback",
        Action::Abort => "abort",
    }
}
