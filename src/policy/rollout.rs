//! The rollout controller (SPEC §1.5): stages in order, the notification pump with AWS IoT Jobs'
//! exponential rate, gates judged after bake, continuous abort rules, and the actions pause /
//! rollback / abort with the operator in the loop.

use super::event::{OperatorAct, PolicyEvent};
use super::gate::Verdict;
use crate::engine::rng::{Purpose, Stream};
use crate::engine::time::{secs_to_ms, SimTime};
use crate::fleet::device::{flag, Job, Phase, Reason};
use crate::lifecycle::control::{Control, Stance};
use crate::lifecycle::world::{DeviceEvents, World};
use crate::scenario::maintenance::{self, AppliesTo, Zone};
use crate::scenario::model::Scenario;
use crate::scenario::model::{Analysis, Gate, GroupConditions};
use crate::scenario::raw::{
    Action, ActionType, Approval, EndBehavior, OnInconclusive, OnInsufficient, OnPause,
};
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
    /// Its gate's analysis run so far (an analysis-run gate only).
    pub analysis: super::analysis::RunState,
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

/// The rollout controller of one replication. Its fields are its own: the lifecycle sees
/// them only as a [`Stance`], the replication's reports through the read accessors below.
pub struct Rollout {
    pub(super) mode: Mode,
    pub(super) stages: Vec<StageState>,
    pub(super) current: Option<usize>,
    /// The seed-stable random order of the fleet (cohorts and control groups follow it).
    pub(super) order: Vec<u32>,
    queue: VecDeque<u32>,
    pump_pending: bool,
    last_notify: Option<SimTime>,
    notified_total: u64,
    rb_notified: u64,
    pub(super) window_closed: bool,
    /// What the window's close does to open executions (`policy.end_behavior`).
    end_behavior: EndBehavior,
    pub(super) halted_at: Option<SimTime>,
    /// When the current halt began (`None` while running): installs of the update may start
    /// after it only for devices whose download was under way.
    pub(super) halted_since: Option<SimTime>,
    pub(super) halt_reason: Option<String>,
    pub(super) halt_stage: Option<usize>,
    pub(super) rollback_at: Option<SimTime>,
    pub(super) detect_at: Option<SimTime>,
    aborts_disabled: Vec<bool>,
    abort_judges: Vec<super::abort::Judge>,
    pub(super) gate_log: Vec<GateRecord>,
    pause_source: Option<PauseSource>,
    operator_draws: u64,
    pub(super) complete: bool,
    pub(super) shadows: Vec<ShadowState>,
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
            end_behavior: sc.policy.end_behavior,
            halted_at: None,
            halted_since: None,
            halt_reason: None,
            halt_stage: None,
            rollback_at: None,
            detect_at: None,
            aborts_disabled: vec![false; sc.policy.aborts.len()],
            abort_judges: sc
                .policy
                .aborts
                .iter()
                .map(super::abort::Judge::new)
                .collect(),
            gate_log: Vec::new(),
            pause_source: None,
            operator_draws: 0,
            complete: false,
            shadows: vec![ShadowState::default(); sc.policy.shadow_gates.len()],
        }
    }
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// The stage open now (`None` before the rollout starts).
    pub fn current(&self) -> Option<usize> {
        self.current
    }
    pub fn stages(&self) -> &[StageState] {
        &self.stages
    }
    pub fn shadows(&self) -> &[ShadowState] {
        &self.shadows
    }
    /// Every gate and abort-rule decision, in the order taken.
    pub fn gate_log(&self) -> &[GateRecord] {
        &self.gate_log
    }
    /// When the rollout first halted, and why.
    pub fn halted_at(&self) -> Option<SimTime> {
        self.halted_at
    }
    /// The stage that was open when the rollout first halted.
    pub fn halt_stage(&self) -> Option<usize> {
        self.halt_stage
    }
    pub fn halt_reason(&self) -> Option<&str> {
        self.halt_reason.as_deref()
    }
    pub fn detect_at(&self) -> Option<SimTime> {
        self.detect_at
    }
    pub fn rollback_at(&self) -> Option<SimTime> {
        self.rollback_at
    }

    /// Test hook: the rollout halted since `since` in `mode`.
    #[cfg(test)]
    pub(crate) fn halt_for_test(&mut self, mode: Mode, since: SimTime) {
        self.mode = mode;
        self.halted_since = Some(since);
    }

    /// Test hook: device `d` joins stage `i`'s cohort.
    #[cfg(test)]
    pub(crate) fn add_to_cohort_for_test(&mut self, i: usize, d: u32) {
        self.stages[i].cohort.push(d);
    }
}

/// An event type the controller can schedule on: device events and its own.
pub trait PolicyEvents: DeviceEvents + From<PolicyEvent> {}
impl<E: DeviceEvents + From<PolicyEvent>> PolicyEvents for E {}

impl<E: PolicyEvents> Control<E> for Rollout {
    #[inline]
    fn stance(&self) -> Stance {
        Stance {
            running: self.mode == Mode::Running,
            paused: self.mode == Mode::Paused,
            rolling_back: self.mode == Mode::RollingBack,
            window_closed: self.window_closed,
            queued_go_on: self.end_behavior == EndBehavior::Stop,
            halted_since: self.halted_since,
        }
    }

    fn on_result(&mut self, w: &mut World<'_, E>, d: u32) {
        self.after_result(w, d);
    }

    fn on_capacity_freed(&mut self, w: &mut World<'_, E>) {
        self.kick_pump(w);
    }
}

impl Rollout {
    /// Handles one of the controller's own events.
    pub fn on_event<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, event: PolicyEvent) {
        match event {
            PolicyEvent::RolloutStart => self.start_rollout(w),
            PolicyEvent::Notify => self.on_notify(w),
            PolicyEvent::StageJudge { stage } => self.on_stage_judge(w, stage as usize),
            PolicyEvent::StageMaxWait { stage } => self.on_stage_max_wait(w, stage as usize),
            PolicyEvent::StageOpen { stage } => self.on_stage_open(w, stage as usize),
            PolicyEvent::ShadowJudge { shadow } => self.on_shadow_judge(w, shadow as usize),
            PolicyEvent::ShadowMaxWait { shadow } => self.on_shadow_max_wait(w, shadow as usize),
            PolicyEvent::Operator(act) => self.on_operator(w, act),
            PolicyEvent::WindowClose => self.on_window_close(w),
        }
    }

    /// What stage `i`'s gates judge from: the world as it is now and the stage's cohort.
    pub fn view<'a, 's, E>(&'a self, w: &'a World<'s, E>, i: usize) -> super::gate::View<'a, 's> {
        super::gate::View {
            scenario: w.scenario,
            now: w.now,
            fleet: &w.fleet,
            backend: &w.backend,
            faults: &w.faults,
            order: &self.order,
            cohort: &self.stages[i].cohort,
            opened_at: self.stages[i].opened_at,
        }
    }

    pub fn start_rollout<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) {
        self.mode = Mode::Running;
        let (order, cohorts) = super::cohort::build(w.scenario, w.rep, &w.fleet, w.now);
        self.order = order;
        for (i, cohort) in cohorts.into_iter().enumerate() {
            for &d in &cohort {
                let dv = w.fleet.dev_mut(d);
                dv.set(flag::TARGETED);
                dv.stage = i as u8;
            }
            w.recorder.target(cohort.len() as u64);
            self.stages[i].cohort = cohort;
        }
        // Stages with `open_at` (Mender phases) open at their time, whatever came before.
        for (i, stage) in w.scenario.policy.stages.iter().enumerate() {
            if let Some(at) = stage.open_at_ms {
                let stage = i as u32;
                w.agenda
                    .at(w.now.plus(at), PolicyEvent::StageOpen { stage });
            }
        }
        if !w.scenario.policy.stages.is_empty() && self.opens_now(w, 0) {
            self.open_stage(w, 0);
        }
    }

    /// Whether stage `i` may open now: it has no `open_at`, or its time has come.
    fn opens_now<E: PolicyEvents>(&self, w: &World<'_, E>, i: usize) -> bool {
        let started = w.scenario.policy.start;
        (w.scenario.policy.stages[i].open_at_ms).is_none_or(|at| started.plus(at) <= w.now)
    }

    /// Stage `i`'s `open_at` has come: it opens, with every stage before it not open yet, even
    /// if the open stage has not passed its gate (a Mender phase opens at its `start_ts`); the
    /// newest open stage is the one whose gate is judged from then on. Nothing opens while the
    /// rollout is halted or after its window.
    fn on_stage_open<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        if self.mode != Mode::Running || self.window_closed || self.stages[i].opened_at.is_some() {
            return;
        }
        let next = self.current.map_or(0, |c| c + 1);
        for j in next..=i {
            self.open_stage(w, j);
        }
    }

    /// `max_devices` (Mender): once that many devices have a result the rollout ends, as at
    /// the window's close.
    fn check_max_devices<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) {
        let Some(max) = w.scenario.policy.max_devices else {
            return;
        };
        if !self.window_closed && w.backend.global().reported >= max {
            self.queue.clear();
            self.on_window_close(w);
        }
    }

    /// `selection = "continuous"` (AWS `targetSelection = CONTINUOUS`): a device that joins
    /// while the rollout runs gets the update if a stage opened so far selects it; it joins the
    /// current stage's cohort and is notified at once.
    pub fn adopt_arrival<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, d: u32) {
        use crate::scenario::raw::Selection;
        let sc = w.scenario;
        if sc.policy.selection != Selection::Continuous
            || self.mode != Mode::Running
            || self.window_closed
        {
            return;
        }
        let Some(current) = self.current else {
            return;
        };
        let dv = *w.fleet.dev(d);
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
        let dv = w.fleet.dev_mut(d);
        dv.set(flag::TARGETED);
        dv.stage = current as u8;
        w.recorder.target(1);
        self.stages[current].cohort.push(d);
        // AWS IoT Jobs notifies a thing that joins a continuous job's target at once, not
        // through the rollout rate (SPEC §1.5b).
        self.notify_update(w, d);
    }

    fn open_stage<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        self.current = Some(i);
        let st = &mut self.stages[i];
        st.opened_at = Some(w.now);
        self.queue.extend(st.cohort.iter().copied());
        let stage = &w.scenario.policy.stages[i];
        if let (Some(_), Some(wait)) = (&stage.gate, stage.max_wait_ms) {
            w.agenda.at(
                w.now.plus(wait),
                PolicyEvent::StageMaxWait { stage: i as u32 },
            );
        }
        if let Some(wait) = stage.max_wait_ms {
            for (k, g) in w.scenario.policy.shadow_gates.iter().enumerate() {
                if g.stage == i {
                    let shadow = k as u32;
                    w.agenda
                        .at(w.now.plus(wait), PolicyEvent::ShadowMaxWait { shadow });
                }
            }
        }
        self.check_stage_ready(w, i);
        self.kick_pump(w);
    }

    /// Starts the notification pump if it is idle and has work it may do.
    pub fn kick_pump<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) {
        if self.pump_pending || self.queue.is_empty() {
            return;
        }
        let at = match self.last_notify {
            Some(last) => last.plus(self.notify_interval_ms(w)).max(w.now),
            None => w.now,
        };
        self.pump_pending = true;
        w.agenda.at(at, PolicyEvent::Notify);
    }

    fn current_rate<E: PolicyEvents>(&self, w: &World<'_, E>) -> f64 {
        let rate = &w.scenario.policy.rate;
        if self.mode == Mode::RollingBack {
            rate.per_minute_at(self.rb_notified, w.backend.rollback_succeeded())
        } else {
            rate.per_minute_at(self.notified_total, w.backend.succeeded())
        }
    }

    fn notify_interval_ms<E: PolicyEvents>(&self, w: &World<'_, E>) -> u64 {
        let r = self.current_rate(w);
        if r.is_finite() {
            ((60_000.0 / r).round() as u64).max(1)
        } else {
            0
        }
    }

    fn can_notify<E: PolicyEvents>(&self, w: &World<'_, E>) -> bool {
        match self.mode {
            Mode::Running => {
                !self.window_closed && w.backend.in_flight() < w.scenario.policy.max_in_flight
            }
            Mode::RollingBack => true,
            _ => false,
        }
    }

    pub fn on_notify<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) {
        self.pump_pending = false;
        loop {
            if !self.can_notify(w) {
                return;
            }
            if self.mode == Mode::Running && !self.queue.is_empty() {
                let wait = utc_notify_wait_ms(w);
                if wait > 0 {
                    // Outside every UTC notification window: the rollout waits for the next
                    // one (AWS job maintenance windows); rollback notifications do not.
                    if wait != u64::MAX {
                        self.pump_pending = true;
                        w.agenda.at(w.now.plus(wait), PolicyEvent::Notify);
                    }
                    return;
                }
            }
            let Some(d) = self.queue.pop_front() else {
                return;
            };
            self.last_notify = Some(w.now);
            if self.mode == Mode::RollingBack {
                self.notify_rollback(w, d);
            } else {
                self.notify_update(w, d);
            }
            if self.current_rate(w).is_finite() {
                self.kick_pump(w);
                return;
            }
        }
    }

    /// The device the next notification goes to, if any is queued.
    #[inline]
    pub fn next_to_notify(&self) -> Option<u32> {
        self.queue.front().copied()
    }

    fn notify_update<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, d: u32) {
        let dv = w.fleet.dev_mut(d);
        dv.set(flag::NOTIFIED);
        dv.job = Job::Update;
        dv.enter(Phase::Pending);
        let stage = dv.stage as usize;
        self.notified_total += 1;
        w.backend.record_notified(stage as u8);
        let st = &mut self.stages[stage];
        st.notified += 1;
        let all = st.notified == st.cohort.len();
        w.schedule_check_in(d, w.now);
        if all {
            self.check_stage_ready(w, stage);
        }
    }

    fn notify_rollback<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, d: u32) {
        self.rb_notified += 1;
        let dv = w.fleet.dev_mut(d);
        if dv.phase == Phase::Idle && dv.version != w.scenario.policy.target {
            return; // never reached the target (failed, reverted, or mid-chain): nothing to undo
        }
        if dv.phase == Phase::Idle {
            w.begin_rollback_job(d);
        } else {
            dv.set(flag::ROLLBACK_DUE);
        }
    }

    /// After a result: the continuous abort rules, then the device's stage gate readiness.
    fn after_result<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, d: u32) {
        let stage = w.fleet.dev(d).stage as usize;
        self.check_aborts(w);
        self.check_group_error(w, stage);
        self.check_max_devices(w);
        self.check_shadows_ready(w, stage);
        if self.current == Some(stage) {
            self.check_stage_ready(w, stage);
        }
    }

    /// The abort rules in order; the first that fires acts (AWS checks its criteria in order).
    fn check_aborts<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) {
        if self.mode != Mode::Running {
            return;
        }
        let g = w.backend.global();
        for (k, rule) in w.scenario.policy.aborts.iter().enumerate() {
            if self.aborts_disabled[k] {
                continue;
            }
            let now = w.now.as_secs_f64();
            let judge = &self.abort_judges[k];
            let Some(record) = judge.fires(k, rule, &g, now, action_name(rule.action)) else {
                continue;
            };
            self.gate_log.push(record);
            self.act(
                w,
                rule.action,
                format!("abort:{}", rule.metric.name()),
                PauseSource::Abort(k),
            );
            return;
        }
    }

    pub fn check_stage_ready<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        self.check_shadows_ready(w, i);
        if self.current != Some(i) || self.mode != Mode::Running {
            return;
        }
        let stage = &w.scenario.policy.stages[i];
        if let Some(g) = stage.group {
            return self.check_group_success(w, i, g);
        }
        let st = &self.stages[i];
        if st.ready_at.is_some() || st.notified < st.cohort.len() {
            return;
        }
        let need = stage.gate.as_ref().map_or(0, |g| g.min_devices);
        if (st.cohort.len() as u64) < need && !st.judged {
            // The cohort can never supply `min_devices` reports: insufficient now, not never.
            return self.on_stage_max_wait(w, i);
        }
        if w.backend.stage(i).reported >= need || st.cohort.is_empty() && stage.gate.is_none() {
            self.stages[i].ready_at = Some(w.now);
            self.schedule_judge(w, i, w.now.plus(stage.bake_ms));
        }
    }

    /// A hawkBit group (`[policy.groups]`) passes as soon as `success` of its whole cohort has
    /// succeeded (its devices not heard from count against it), or once every device of it has
    /// an outcome: the next group starts while its remaining devices go on.
    fn check_group_success<E: PolicyEvents>(
        &mut self,
        w: &mut World<'_, E>,
        i: usize,
        g: GroupConditions,
    ) {
        let st = &self.stages[i];
        if st.passed || st.cohort.is_empty() {
            return;
        }
        let obs = w.backend.stage(i);
        let cohort = st.cohort.len() as u64;
        let share = obs.success as f64 / cohort as f64;
        // A group whose every device has an outcome is complete, and hawkBit runs its success
        // action then whatever the share (`JpaRolloutExecutor`: completed or threshold met).
        let complete = st.notified == st.cohort.len() && obs.executed >= cohort;
        if share >= g.success || complete {
            self.stages[i].judged = true;
            self.stage_passed(w, i);
        }
    }

    /// A hawkBit group fails as soon as more than `error` of its whole cohort has a failed
    /// result, with no minimum sample (hawkBit's error condition); `error_action` acts.
    fn check_group_error<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        let Some(stage) = w.scenario.policy.stages.get(i) else {
            return;
        };
        let Some((g, error)) = stage.group.and_then(|g| Some((g, g.error?))) else {
            return;
        };
        let cohort = self.stages[i].cohort.len();
        let failed = w.backend.stage(i).any_failure();
        if cohort == 0 || self.mode != Mode::Running || failed as f64 / cohort as f64 <= error {
            return;
        }
        let reason = format!("gate:{}:error_threshold", stage.name);
        self.act(w, g.error_action, reason, PauseSource::Gate(i));
    }

    /// Schedules the stage's gate judgement at `at`; it replaces any judgement pending.
    fn schedule_judge<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize, at: SimTime) {
        self.stages[i].judge_at = Some(at);
        w.agenda.at(at, PolicyEvent::StageJudge { stage: i as u32 });
    }

    pub fn on_stage_judge<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        if self.stages[i].judge_at != Some(w.now)
            || self.current != Some(i)
            || self.mode != Mode::Running
        {
            return;
        }
        self.stages[i].judge_at = None;
        let Some(gate) = &w.scenario.policy.stages[i].gate else {
            return self.stage_passed(w, i);
        };
        if let Some(a) = gate.analysis {
            return self.measure_analysis(w, i, gate, a);
        }
        let (verdict, mut records) = super::gate::evaluate(&self.view(w, i), i, gate);
        self.stages[i].judged = true;
        let stage = &w.scenario.policy.stages[i];
        // A check with nothing to judge against waits, like a stage short of `min_devices`,
        // until `max_wait` has passed since the stage opened; then `on_insufficient` decides.
        let deadline = self.stages[i]
            .opened_at
            .zip(stage.max_wait_ms)
            .map(|(t, w)| t.plus(w));
        let on_insufficient = match deadline {
            Some(d) if d > w.now => Insufficient::Wait(d),
            _ => Insufficient::Decide(stage.on_insufficient),
        };
        mark_insufficient(&mut records, on_insufficient);
        self.gate_log.extend(records);
        match (verdict, on_insufficient) {
            (Verdict::Pass, _)
            | (Verdict::Insufficient, Insufficient::Decide(OnInsufficient::Pass)) => {
                self.stage_passed(w, i)
            }
            (Verdict::Insufficient, Insufficient::Wait(_))
            | (Verdict::Insufficient, Insufficient::Decide(OnInsufficient::Extend)) => {
                // Judge again one bake (at least an hour) later, or at the deadline: a control
                // may be heard from by then.
                self.stages[i].judged = false;
                let again = w.now.plus(stage.bake_ms.max(crate::engine::time::HOUR_MS));
                let at = match on_insufficient {
                    Insufficient::Wait(d) => again.min(d),
                    Insufficient::Decide(_) => again,
                };
                self.schedule_judge(w, i, at);
            }
            (Verdict::Insufficient, Insufficient::Decide(OnInsufficient::Fail)) => {
                let name = &w.scenario.policy.stages[i].name;
                self.act(
                    w,
                    gate.on_fail,
                    format!("gate:{name}:insufficient"),
                    PauseSource::Gate(i),
                );
            }
            (Verdict::Fail, _) => self.stage_failed(w, i),
        }
    }

    /// Takes the next measurement of stage `i`'s analysis-run gate (`super::analysis`) and
    /// acts on the run's outcome, or schedules the measurement after it.
    fn measure_analysis<E: PolicyEvents>(
        &mut self,
        w: &mut World<'_, E>,
        i: usize,
        gate: &Gate,
        a: Analysis,
    ) {
        use super::analysis::{RunOutcome, RunState};
        self.stages[i].judged = true;
        let live = self.stages[i].analysis.begin_measurement(gate.checks.len());
        let measured = super::gate::measure(&self.view(w, i), i, gate, &live);
        for (k, record, m) in measured {
            self.stages[i].analysis.record(k, m, &a);
            self.gate_log.push(record);
        }
        let (stage, bake) = (
            &w.scenario.policy.stages[i].name,
            w.scenario.policy.stages[i].bake_ms,
        );
        let next = w.now.plus(a.next_after_ms(bake));
        match self.stages[i].analysis.outcome() {
            RunOutcome::Failed(checks) => {
                let names: Vec<&str> = checks
                    .iter()
                    .map(|&k| gate.checks[k].metric.name())
                    .collect();
                let reason = format!("gate:{stage}:{}", names.join("+"));
                self.act(w, gate.on_fail, reason, PauseSource::Gate(i));
            }
            RunOutcome::Inconclusive => match a.on_inconclusive {
                OnInconclusive::Pause => {
                    let reason = format!("gate:{stage}:inconclusive");
                    self.act(w, Action::Pause, reason, PauseSource::Gate(i));
                }
                OnInconclusive::Pass => self.stage_passed(w, i),
                OnInconclusive::Extend => {
                    self.stages[i].analysis = RunState::default();
                    self.schedule_judge(w, i, next);
                }
            },
            RunOutcome::Passed => self.stage_passed(w, i),
            RunOutcome::Continue => self.schedule_judge(w, i, next),
        }
    }

    /// The stage's gate failed: its `on_fail` acts, naming the checks that failed.
    fn stage_failed<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        let Some(gate) = &w.scenario.policy.stages[i].gate else {
            return;
        };
        let failed: Vec<String> = self
            .gate_log
            .iter()
            .rev()
            .take(gate.checks.len())
            .filter(|r| r.decision == "fail")
            .map(|r| r.check.clone())
            .collect();
        let name = &w.scenario.policy.stages[i].name;
        self.act(
            w,
            gate.on_fail,
            format!("gate:{name}:{}", failed.join("+")),
            PauseSource::Gate(i),
        );
    }

    /// Shadow gates follow the stage gate's schedule — ready once the cohort is notified and
    /// `min_devices` have reported, judged `bake` later — whatever the rollout does meanwhile,
    /// so a shadow gate fires exactly when an acting gate of the same definition would.
    fn check_shadows_ready<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        let Some(st) = self.stages.get(i) else {
            return;
        };
        if st.opened_at.is_none() || st.notified < st.cohort.len() {
            return;
        }
        let reported = w.backend.stage(i).reported;
        let bake = w.scenario.policy.stages[i].bake_ms;
        for (k, g) in w.scenario.policy.shadow_gates.iter().enumerate() {
            if g.stage == i && !self.shadows[k].scheduled && reported >= g.gate.min_devices {
                self.shadows[k].scheduled = true;
                let shadow = k as u32;
                w.agenda
                    .at(w.now.plus(bake), PolicyEvent::ShadowJudge { shadow });
            }
        }
    }

    pub fn on_shadow_judge<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, k: usize) {
        if std::mem::replace(&mut self.shadows[k].judged, true) {
            return;
        }
        let g = &w.scenario.policy.shadow_gates[k];
        let (verdict, mut records) =
            super::gate::evaluate(&self.view(w, g.stage), g.stage, &g.gate);
        let on_insufficient = w.scenario.policy.stages[g.stage].on_insufficient;
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
        self.gate_log.extend(records);
        if !passed {
            self.fire_shadow(w, k);
        }
    }

    pub fn on_shadow_max_wait<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, k: usize) {
        let g = &w.scenario.policy.shadow_gates[k];
        if self.shadows[k].scheduled
            || w.scenario.policy.stages[g.stage].on_insufficient != OnInsufficient::Fail
        {
            return;
        }
        self.shadows[k].scheduled = true;
        self.shadows[k].judged = true;
        self.gate_log.push(GateRecord {
            stage: format!("shadow:{}", g.name),
            time: w.now.as_secs_f64(),
            check: "min_devices".into(),
            test: "count".into(),
            count: w.backend.stage(g.stage).reported as f64,
            base: g.gate.min_devices as f64,
            observed: Some(w.backend.stage(g.stage).reported as f64),
            bound: None,
            threshold: g.gate.min_devices as f64,
            passed: false,
            decision: format!("would-{}:insufficient", action_name(g.gate.on_fail)),
        });
        self.fire_shadow(w, k);
    }

    fn fire_shadow<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, k: usize) {
        let s = &mut self.shadows[k];
        s.fired_at = Some(w.now);
        s.harmed_at_fire = w.recorder.harmed;
        s.exposed_at_fire = w.recorder.exposed;
    }

    pub fn on_stage_max_wait<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        if self.current != Some(i)
            || self.mode != Mode::Running
            || self.stages[i].ready_at.is_some()
        {
            return;
        }
        let stage = &w.scenario.policy.stages[i];
        let Some(gate) = &stage.gate else { return };
        let decision = match stage.on_insufficient {
            OnInsufficient::Extend => return,
            OnInsufficient::Pass => "insufficient:pass",
            OnInsufficient::Fail => "insufficient:fail",
        };
        self.stages[i].judged = true;
        self.gate_log.push(GateRecord {
            stage: stage.name.clone(),
            time: w.now.as_secs_f64(),
            check: "min_devices".into(),
            test: "count".into(),
            count: w.backend.stage(i).reported as f64,
            base: gate.min_devices as f64,
            observed: Some(w.backend.stage(i).reported as f64),
            bound: None,
            threshold: gate.min_devices as f64,
            passed: stage.on_insufficient == OnInsufficient::Pass,
            decision: decision.into(),
        });
        if stage.on_insufficient == OnInsufficient::Pass {
            self.stages[i].ready_at = Some(w.now);
            self.stage_passed(w, i);
        } else {
            self.act(
                w,
                gate.on_fail,
                format!("gate:{}:insufficient", stage.name),
                PauseSource::Gate(i),
            );
        }
    }

    fn stage_passed<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        self.stages[i].passed = true;
        if w.scenario.policy.stages[i].approval == Approval::Operator {
            let delay = self.operator_delay(w);
            let approve = OperatorAct::Approve { stage: i as u32 };
            w.agenda
                .at(w.now.plus(delay), PolicyEvent::Operator(approve));
        } else {
            self.advance_stage(w, i);
        }
    }

    fn advance_stage<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        if i + 1 < w.scenario.policy.stages.len() {
            // A stage with a later `open_at` waits for it (its own event opens it).
            if self.opens_now(w, i + 1) {
                self.open_stage(w, i + 1);
            }
        } else {
            self.complete = true;
        }
    }

    fn operator_delay<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) -> u64 {
        // The operator's response times form their own stream, keyed by the replication only.
        let key =
            crate::engine::rng::stream_key(w.scenario.seed, w.rep, u64::MAX, Purpose::Operator);
        let mut s = Stream::at(key, self.operator_draws << 5);
        self.operator_draws += 1;
        secs_to_ms(w.scenario.policy.operator.response.sample(&mut s))
    }

    fn act<E: PolicyEvents>(
        &mut self,
        w: &mut World<'_, E>,
        action: Action,
        reason: String,
        source: PauseSource,
    ) {
        if self.mode != Mode::Running {
            return;
        }
        self.halted_at.get_or_insert(w.now);
        self.halted_since = Some(w.now);
        self.detect_at.get_or_insert(w.now);
        if self.halt_reason.is_none() {
            self.halt_reason = Some(reason);
            self.halt_stage = self.current;
        }
        match action {
            Action::Pause => {
                self.mode = Mode::Paused;
                self.pause_source = Some(source);
                let delay = self.operator_delay(w);
                w.agenda.at(
                    w.now.plus(delay),
                    PolicyEvent::Operator(OperatorAct::OnPause),
                );
            }
            Action::Rollback => self.start_rollback(w),
            Action::Abort => {
                self.mode = Mode::Aborted;
                self.queue.clear();
            }
        }
    }

    pub fn on_operator<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, act: OperatorAct) {
        if let OperatorAct::Approve { stage } = act {
            let i = stage as usize;
            if self.mode == Mode::Running && self.current == Some(i) {
                self.advance_stage(w, i);
            }
            return;
        }
        if self.mode != Mode::Paused {
            return;
        }
        match w.scenario.policy.operator.on_pause {
            OnPause::Rollback => self.start_rollback(w),
            OnPause::Hold => self.mode = Mode::Held,
            OnPause::Resume => {
                self.mode = Mode::Running;
                self.halted_since = None;
                for d in w.backend.take_parked() {
                    if w.fleet.dev(d).phase == Phase::Parked {
                        w.fleet.dev_mut(d).enter(Phase::Pending);
                        w.schedule_check_in(d, w.now);
                    }
                }
                match self.pause_source.take() {
                    Some(PauseSource::Gate(i)) => self.advance_stage(w, i),
                    Some(PauseSource::Abort(k)) => {
                        self.aborts_disabled[k] = true;
                        if let Some(i) = self.current {
                            self.resume_stage(w, i);
                        }
                    }
                    None => {}
                }
                self.kick_pump(w);
            }
        }
    }

    /// Picks up the current stage after a pause that did not come from its own gate: whatever
    /// its gate, bake, `max_wait` or approval would have done during the pause happens now.
    fn resume_stage<E: PolicyEvents>(&mut self, w: &mut World<'_, E>, i: usize) {
        let st = &self.stages[i];
        let stage = &w.scenario.policy.stages[i];
        if st.passed {
            return self.advance_stage(w, i);
        }
        if let (Some(ready), false) = (st.ready_at, st.judged) {
            let at = ready.plus(stage.bake_ms).max(w.now);
            return self.schedule_judge(w, i, at);
        }
        self.check_stage_ready(w, i);
        let st = &self.stages[i];
        let deadline = st.opened_at.zip(stage.max_wait_ms).map(|(t, w)| t.plus(w));
        if st.ready_at.is_none() && deadline.is_some_and(|d| d <= w.now) {
            self.on_stage_max_wait(w, i);
        }
    }

    /// Rollback (SPEC §1.5): stop new starts, cancel pending ones, and push the rollback
    /// version to every device that started the update, at the policy's rate and through the
    /// same download/install path.
    fn start_rollback<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) {
        self.mode = Mode::RollingBack;
        self.rollback_at = Some(w.now);
        self.queue.clear();
        for d in w.backend.take_parked() {
            w.cancel(self, d);
        }
        let started = w.backend.started_order().to_vec();
        self.queue.extend(started);
        self.last_notify = None;
        self.kick_pump(w);
    }

    /// The rollout window closes: no device is notified any more, and `end_behavior` says
    /// what becomes of the executions still open. Under `stop` queued devices go on, so the
    /// stranded devices are counted at the horizon instead ([`Rollout::record_stranded`]).
    pub fn on_window_close<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) {
        if self.window_closed {
            return;
        }
        self.window_closed = true;
        match self.end_behavior {
            EndBehavior::Stop => return,
            EndBehavior::Cancel => {}
            EndBehavior::ForceCancel => {
                for d in 0..w.fleet.len() as u32 {
                    w.force_cancel(self, d);
                }
            }
        }
        self.record_stranded(w);
    }

    /// Counts the targeted devices not updated and not mid-update, by reason: at the window's
    /// close, or at the horizon when queued devices went on past the close (`stop`).
    pub fn record_stranded<E: PolicyEvents>(&mut self, w: &mut World<'_, E>) {
        let mut stranded = [0u64; crate::fleet::device::REASONS.len()];
        let halted = self.halted_at.is_some();
        let target = w.scenario.policy.target;
        // Download-only: a device that reported its image staged was reached.
        let download_only = w.scenario.policy.action_type == ActionType::DownloadOnly;
        let staged = |dv: &crate::fleet::device::Device| {
            download_only && dv.reported == crate::fleet::device::Reported::Success
        };
        for dv in w.fleet.devices() {
            if !dv.has(flag::TARGETED) || dv.version == target || staged(dv) {
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
                    } else if dv.reason == Reason::Cancelled {
                        // Cancelled under way by the close (`force-cancel`).
                        Reason::Cancelled
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
            w.recorder.strand_in(reason, dv.population, dv.stage);
        }
        w.recorder.strand(stranded);
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

/// Milliseconds until a notification window on UTC is open (0: one is open, or there are
/// none; `u64::MAX`: none opens again within the simulated span).
fn utc_notify_wait_ms<E: PolicyEvents>(w: &World<'_, E>) -> u64 {
    let wall = w.scenario.start_unix_s * 1000 + w.now.0 as i64;
    maintenance::wait_ms(
        &w.scenario.policy.maintenance,
        |m| m.applies_to == AppliesTo::Notify && m.zone == Zone::Utc,
        |_| wall,
    )
}
