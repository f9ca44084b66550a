//! The validated scenario: what the simulator runs. Every value here has been checked, every
//! name resolved to an index, and every duration converted to milliseconds.

use super::catalog::FAULT_KINDS;
use super::dist::Dist;
use super::raw::{
    AbortPer, AbortTest, Action, ActionType, Approval, Denominator, Effect, EndBehavior, Metered,
    ObservedMetric, OnInconclusive, OnInsufficient, OnPause, Selection, SkipMigrations, TestKind,
};
use super::selector::{Attrs, Selector};
use crate::engine::time::SimTime;

#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file the scenario came from (`<built-in>` for the reference scenario).
    pub file: String,
    /// What `validate` warns about the plan, as `key path: message` (SPEC §3).
    pub warnings: Vec<String>,
    pub name: String,
    pub seed: u64,
    pub horizon: SimTime,
    pub replications: u64,
    /// Unix seconds of simulated time zero; local clocks are derived from it.
    pub start_unix_s: i64,
    pub backend: Backend,
    pub connectivity: Vec<ConnProfile>,
    pub power: Vec<PowerProfile>,
    pub populations: Vec<Population>,
    /// Every version the scenario names, sorted ascending; `u8` indexes into this table.
    pub versions: Vec<Release>,
    pub support: Support,
    pub policy: Policy,
    pub expects: Vec<Expect>,
    /// Faults other than `backend-api` (which lives in `backend`).
    pub faults: Vec<Fault>,
    /// The fault space of `fleetsim chaos`.
    pub chaos: Option<Chaos>,
}

#[derive(Clone, Debug)]
pub struct Backend {
    pub api: u32,
    pub max_concurrent_downloads: u64,
    /// Shared egress in kilobits per second (`f64::INFINITY` when unlimited).
    pub egress_kbps: f64,
    /// Scheduled API version changes, sorted by time.
    pub api_changes: Vec<(SimTime, u32)>,
    /// `backend-api` faults: the API is `api` during `[from, to)`.
    pub api_faults: Vec<(SimTime, SimTime, u32)>,
}

impl Backend {
    /// The backend API version at time `t`: the latest scheduled change, overridden by a fault.
    pub fn api_at(&self, t: SimTime) -> u32 {
        let mut api = self.api;
        for &(at, v) in &self.api_changes {
            if at <= t {
                api = v;
            }
        }
        for &(from, to, v) in &self.api_faults {
            if from <= t && t < to {
                api = v;
            }
        }
        api
    }

    /// The next instant after `t` at which the API version may change.
    pub fn next_api_change_after(&self, t: SimTime) -> Option<SimTime> {
        let changes = self.api_changes.iter().map(|c| c.0);
        let faults = self.api_faults.iter().flat_map(|f| [f.0, f.1]);
        changes.chain(faults).filter(|&c| c > t).min()
    }
}

#[derive(Clone, Debug)]
pub struct ConnProfile {
    pub name: String,
    pub online: Dist,
    pub offline: Dist,
    pub check_in_ms: u64,
    pub bandwidth_kbps: Dist,
    pub metered: bool,
    /// Long-run share of time online: mean(online) / (mean(online) + mean(offline)).
    pub online_share: f64,
}

#[derive(Clone, Debug)]
pub struct PowerProfile {
    pub name: String,
    pub battery: bool,
    pub level: Dist,
    pub drain_per_day: f64,
    pub recharge_every_ms: Option<u64>,
    pub recharge_to: f64,
    pub install_cost: f64,
    /// Battery used per megabyte downloaded.
    pub download_cost: f64,
}

#[derive(Clone, Debug)]
pub struct Population {
    pub name: String,
    pub count: u64,
    pub model: String,
    pub region: String,
    pub utc_offset_s: i64,
    /// Initial firmware: (version index, cumulative weight), weights summing to 1.
    pub firmware_mix: Vec<(u8, f64)>,
    pub tags: Vec<(String, String)>,
    pub connectivity: usize,
    pub power: usize,
    pub storage_free_mb: Dist,
    pub ab_slots: bool,
    pub watchdog: Option<Watchdog>,
    /// The owner must accept the install (`consent`).
    pub consent: Option<Consent>,
    pub install_failure: f64,
    /// Background crashes per device-day.
    pub crash_rate_per_day: f64,
    pub telemetry_interval_ms: u64,
    pub commands_per_day: f64,
    pub verifies_signatures: bool,
    pub arrivals_per_day: f64,
    /// The index of the first variant of the population as written (its own index when the
    /// population has no `model`, `region`, `connectivity` or `power` mix). A population with
    /// mixes is expanded into one variant per combination of mixed values, all with its name;
    /// `count` and `arrivals_per_day` are the first variant's (0 on the others), and each
    /// device of the population draws the variant it belongs to ([`Mixes`]).
    pub head: usize,
    /// This variant's expected share of the population's devices (1 without mixes).
    pub share: f64,
    /// On the first variant of a population with mixes: the mixes, to draw from.
    pub mixes: Option<Box<Mixes>>,
}

/// The mixed attributes of a population, each as `(value, cumulative share)` in the order
/// written (sorted by name; values with no share left out), one value with share 1 when the
/// attribute is not mixed. Variant `head + ((m·R + r)·C + c)·P + p` has model `m`, region `r`,
/// connectivity `c` and power `p` (`R`, `C`, `P` the numbers of values).
#[derive(Clone, Debug, Default)]
pub struct Mixes {
    pub model: Vec<(String, f64)>,
    /// Regions with their UTC offsets in seconds.
    pub region: Vec<((String, i64), f64)>,
    pub connectivity: Vec<(usize, f64)>,
    pub power: Vec<(usize, f64)>,
}

impl Mixes {
    /// The numbers of values of each attribute: model, region, connectivity, power.
    pub fn radices(&self) -> [usize; 4] {
        [
            self.model.len(),
            self.region.len(),
            self.connectivity.len(),
            self.power.len(),
        ]
    }

    /// The variant offset (from the population's first variant) of the value indices
    /// `[model, region, connectivity, power]`.
    pub fn offset(&self, idx: [usize; 4]) -> usize {
        let r = self.radices();
        ((idx[0] * r[1] + idx[1]) * r[2] + idx[2]) * r[3] + idx[3]
    }
}

/// The index of the entry `u` (in 0..1) falls in, from cumulative shares.
pub fn pick_cumulative(cum: impl Iterator<Item = f64>, u: f64) -> usize {
    let mut last = 0;
    for (i, c) in cum.enumerate() {
        if u <= c {
            return i;
        }
        last = i;
    }
    last
}

/// `disruption_budget = { group_by, max_unavailable }`.
#[derive(Clone, Debug, PartialEq)]
pub struct DisruptionBudget {
    pub group_by: Vec<String>,
    pub max: BudgetMax,
}

/// `max_unavailable`: a count, or a share of the group's devices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BudgetMax {
    Count(u64),
    Share(f64),
}

/// `consent`: the owner answers `delay` after the download; no with probability `deny`.
#[derive(Clone, Debug, PartialEq)]
pub struct Consent {
    /// Seconds.
    pub delay: Dist,
    pub deny: f64,
}

/// A boot watchdog of A/B devices: `boots` crashes within `window_ms` of the first boot of
/// an image revert it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Watchdog {
    pub boots: u32,
    pub window_ms: u64,
}

impl Population {
    pub fn attrs<'a>(&'a self, firmware: &'a str, from: Option<&'a str>) -> Attrs<'a> {
        Attrs {
            population: &self.name,
            model: &self.model,
            region: &self.region,
            firmware,
            from,
            tags: &self.tags,
        }
    }
    /// The value of attribute `key` (`model`, `region`, `population` or a tag) of the
    /// population's devices, if it has one.
    pub fn attribute(&self, key: &str) -> Option<String> {
        match key {
            "model" => Some(self.model.clone()),
            "region" => Some(self.region.clone()),
            "population" => Some(self.name.clone()),
            tag => (self.tags.iter())
                .find(|(k, _)| k == tag)
                .map(|(_, v)| v.clone()),
        }
    }
    pub fn criticality_high(&self) -> bool {
        self.tags
            .iter()
            .any(|(k, v)| k == "criticality" && v == "high")
    }
}

#[derive(Clone, Debug)]
pub struct Release {
    pub version: semver::Version,
    pub label: String,
    /// `false` for a version devices run that has no `[[release]]` entry: it cannot be installed.
    pub defined: bool,
    pub size_mb: f64,
    /// Delta image sizes from given version indexes.
    pub delta_mb: Vec<(u8, f64)>,
    pub install_time: Dist,
    pub reboot_time: Dist,
    pub resumable: bool,
    pub min_from: Option<semver::Version>,
    pub migration: bool,
    pub requires_api: Option<u32>,
    pub downgrade_unsafe: bool,
    pub defects: Vec<Defect>,
    /// A configuration release: applied in place, no reboot, no A/B slots.
    pub config: bool,
    /// Config releases: the edge fail-safe's time to re-establish contact before reverting.
    pub fail_safe_ms: Option<u64>,
    /// Probability that applying a delta fails (the full image is downloaded then).
    pub delta_failure: f64,
}

impl Release {
    /// Whether a device on `from` downloads a delta of this release.
    pub fn has_delta_from(&self, from: u8) -> bool {
        self.delta_mb.iter().any(|(v, _)| *v == from)
    }

    /// Megabytes a device on `from` downloads to install this release.
    pub fn download_mb(&self, from: u8) -> f64 {
        self.delta_mb
            .iter()
            .find(|(v, _)| *v == from)
            .map_or(self.size_mb, |(_, mb)| *mb)
    }
}

#[derive(Clone, Debug)]
pub struct Defect {
    pub effect: Effect,
    pub probability: f64,
    pub selector: Selector,
    pub after: Option<Dist>,
    /// `crash-rate` and `battery-drain` multiplier.
    pub factor: f64,
    /// `crash-loop`: fraction of time a crash-looping device is online.
    pub availability: f64,
    /// `command-failure`: probability a command fails.
    pub rate: f64,
}

/// `[support]` (SPEC §1.8): tickets, the team's queue and field visits.
#[derive(Clone, Debug)]
pub struct Support {
    pub ticket_probability: f64,
    pub ticket_delay: Dist,
    /// Background tickets per device-day, from every present device (0: none).
    pub background_per_device_day: f64,
    /// The team's queue; `None`: not modelled.
    pub queue: Option<SupportQueue>,
    pub field_visit: Option<FieldVisit>,
}

impl Support {
    /// No `[support]` table: no ticket, no queue, no field visit.
    pub fn none() -> Support {
        Support {
            ticket_probability: 0.0,
            ticket_delay: Dist::Constant(0.0),
            background_per_device_day: 0.0,
            queue: None,
            field_visit: None,
        }
    }

    /// Whether any ticket can ever be opened.
    pub fn opens_tickets(&self) -> bool {
        self.ticket_probability > 0.0 || self.background_per_device_day > 0.0
    }
}

/// `support.capacity_per_day` and `support.resolve_time`: a FIFO the team works off.
#[derive(Clone, Debug)]
pub struct SupportQueue {
    pub capacity_per_day: f64,
    /// Seconds from pick-up to resolution.
    pub resolve_time: Dist,
}

/// `support.field_visit`.
#[derive(Clone, Debug)]
pub struct FieldVisit {
    /// Seconds from the brick until the device runs again.
    pub delay: Dist,
    pub cost: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RampCriterion {
    Succeeded,
    Notified,
}

#[derive(Clone, Debug)]
pub struct Rate {
    /// Base notifications per minute (`f64::INFINITY`: no limit).
    pub per_minute: f64,
    pub factor: f64,
    /// What the rate ramps on: none, one criterion, or both (each crossing of either counts).
    pub ramp: Vec<(RampCriterion, u64)>,
    pub max_per_minute: f64,
}

impl Rate {
    /// AWS IoT Jobs `exponentialRate`: the base rate times `factor` for every whole multiple of
    /// a criterion's count reached so far — with both `numberOfNotifiedThings` and
    /// `numberOfSucceededThings`, each crossing of either raises it — capped at
    /// `max_per_minute`.
    pub fn per_minute_at(&self, notified: u64, succeeded: u64) -> f64 {
        let steps: u64 = (self.ramp.iter())
            .map(|&(criterion, every)| match criterion {
                RampCriterion::Notified => notified / every,
                RampCriterion::Succeeded => succeeded / every,
            })
            .sum();
        let rate = self.per_minute * self.factor.powi(steps.min(1_000) as i32);
        rate.min(self.max_per_minute)
    }
}

pub use super::maintenance::DailyWindow;

#[derive(Clone, Debug)]
pub struct Preflight {
    pub min_battery: f64,
    pub min_storage_mb: f64,
    pub min_bandwidth_kbps: f64,
    pub metered: Metered,
    pub off_peak: DailyWindow,
}

#[derive(Clone, Debug)]
pub struct Operator {
    pub response: Dist,
    pub on_pause: OnPause,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Share {
    Percent(f64),
    Count(u64),
}

#[derive(Clone, Debug)]
pub struct Stage {
    pub name: String,
    pub select: Selector,
    pub share: Share,
    pub bake_ms: u64,
    /// When the stage opens, since the rollout's start (`open_at`).
    pub open_at_ms: Option<u64>,
    pub max_wait_ms: Option<u64>,
    pub on_insufficient: OnInsufficient,
    pub approval: Approval,
    pub gate: Option<Gate>,
    /// A hawkBit rollout group's conditions over its whole cohort (`[policy.groups]`).
    pub group: Option<GroupConditions>,
}

/// A hawkBit rollout group's conditions, each a share of the group's whole cohort: the next
/// group starts once `success` of it has succeeded; the group fails once more than `error` of
/// it has failed, and `error_action` acts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupConditions {
    pub success: f64,
    pub error: Option<f64>,
    pub error_action: Action,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    Max(f64),
    Min(f64),
    MaxRatioVsControl(f64),
}

#[derive(Clone, Debug)]
pub struct Check {
    pub metric: ObservedMetric,
    pub bound: Bound,
    pub silent_after_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Gate {
    pub min_devices: u64,
    pub test: TestKind,
    pub confidence: f64,
    pub on_fail: Action,
    pub checks: Vec<Check>,
    /// The base of the result metrics (`denominator`).
    pub denominator: Denominator,
    /// Measured repeatedly (an Argo analysis run) instead of judged once.
    pub analysis: Option<Analysis>,
}

/// A gate measured as an Argo Rollouts analysis run: every `interval_ms` after the first
/// measurement, each check three-valued (pass, fail, inconclusive) and counted on its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Analysis {
    /// Between measurements; `None` only for a run of one measurement (`count = 1`).
    pub interval_ms: Option<u64>,
    /// Measurements in all (`None`: until a limit decides).
    pub count: Option<u32>,
    pub failure_limit: u32,
    pub consecutive_success_limit: Option<u32>,
    pub inconclusive_limit: u32,
    pub on_inconclusive: OnInconclusive,
}

impl Analysis {
    /// When the next measurement (or, after `extend`, the next run) follows one: `interval`,
    /// or for a run of one measurement one `bake` (at least an hour) later, as a gate that
    /// extends on insufficient data judges again.
    pub fn next_after_ms(&self, bake_ms: u64) -> u64 {
        self.interval_ms
            .unwrap_or(bake_ms.max(crate::engine::time::HOUR_MS))
    }
}

/// A gate that watches a stage on the same schedule as a stage gate but never acts.
#[derive(Clone, Debug)]
pub struct ShadowGate {
    pub name: String,
    pub stage: usize,
    pub gate: Gate,
}

/// What makes an abort rule fire.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AbortLimit {
    /// The rate passes this fraction (`threshold`).
    Rate(f64),
    /// The count of matching results reaches this (`max_count`).
    Count(u64),
}

#[derive(Clone, Debug)]
pub struct AbortRule {
    pub metric: ObservedMetric,
    pub limit: AbortLimit,
    pub min_executed: u64,
    pub per: AbortPer,
    pub test: AbortTest,
    pub confidence: f64,
    pub action: Action,
}

/// How an execution that did not succeed ended, as `policy.retry` tells them apart (AWS
/// `failureType`). Rejected executions are never retried, so they have no kind here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryKind {
    Failed,
    TimedOut,
}

/// `policy.retry`: the tries a device's job gets (the first included) and the wait before
/// each retry, per failure type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// One budget for both types (the table form, `on = "all"`): `failed` holds it.
    pub shared: bool,
    pub failed: RetryBudget,
    pub timed_out: RetryBudget,
}

/// The tries one failure type may end, the first included, and the wait before each retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryBudget {
    pub attempts: u32,
    pub backoff_ms: u64,
}

impl Retry {
    /// One try, no retries.
    pub const NONE: Retry = Retry::all(1, 0);

    /// One budget of `attempts` tries for every failure type.
    pub const fn all(attempts: u32, backoff_ms: u64) -> Retry {
        let budget = RetryBudget {
            attempts,
            backoff_ms,
        };
        Retry {
            shared: true,
            failed: budget,
            timed_out: budget,
        }
    }

    /// The wait before the next try of a job whose latest try just ended `kind`, after
    /// `tries` tries in all and `timeouts` of them timed out (this one included), or `None`
    /// when the budget for `kind` is spent.
    pub fn backoff_after(&self, kind: RetryKind, tries: u32, timeouts: u32) -> Option<u64> {
        let (spent, budget) = match (self.shared, kind) {
            (true, _) => (tries, self.failed),
            (false, RetryKind::Failed) => (tries.saturating_sub(timeouts), self.failed),
            (false, RetryKind::TimedOut) => (timeouts, self.timed_out),
        };
        (spent < budget.attempts).then_some(budget.backoff_ms)
    }

    /// The most tries a job can get.
    pub fn max_tries(&self) -> u32 {
        if self.shared {
            self.failed.attempts
        } else {
            self.failed.attempts + self.timed_out.attempts - 1
        }
    }
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub target: u8,
    /// `None`: each device goes back to the version it came from.
    pub rollback_to: Option<u8>,
    pub start: SimTime,
    pub window_end: SimTime,
    /// What the window's close does to open executions (`end_behavior`).
    pub end_behavior: EndBehavior,
    /// How devices treat the downloaded update (`action_type`).
    pub action_type: ActionType,
    /// `timeforced`: when soft updates turn forced (`force_after` past the rollout start).
    pub force_at: Option<SimTime>,
    pub selection: Selection,
    pub rate: Rate,
    pub max_in_flight: u64,
    /// The rollout ends once this many devices have a result (`max_devices`).
    pub max_devices: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub retry: Retry,
    /// `quarantine.after_failures`: failed attempts after which a device goes to support.
    pub quarantine_after: Option<u32>,
    pub preflight: Preflight,
    pub maintenance: Vec<super::maintenance::Maintenance>,
    /// `disruption_budget`: at most so many devices per group between install start and boot.
    pub disruption_budget: Option<DisruptionBudget>,
    pub skip_migrations: SkipMigrations,
    pub operator: Operator,
    pub stages: Vec<Stage>,
    pub aborts: Vec<AbortRule>,
    pub shadow_gates: Vec<ShadowGate>,
}

/// `[chaos]`: the fault space a campaign draws from.
#[derive(Clone, Debug)]
pub struct Chaos {
    pub kinds: Vec<String>,
    pub max_faults: u32,
    pub campaigns: u32,
    /// Fault start times are drawn uniformly from `[min, max]`, seconds since the scenario
    /// start (default: the first 90 % of the rollout window).
    pub at_s: (f64, f64),
    /// Fault durations are drawn log-uniformly from `[min, max]` seconds, and never shrunk
    /// below `min` (default: 10 minutes to 2 days).
    pub duration_s: (f64, f64),
    /// The scopes a fault is drawn from, uniformly; `None`: the whole fleet half the time, else
    /// one region or population.
    pub scopes: Option<Vec<ChaosScope>>,
}

/// A scope a chaos fault can take.
#[derive(Clone, Debug, PartialEq)]
pub enum ChaosScope {
    /// The whole fleet (no `where`).
    Fleet,
    /// The devices a `where` selector table matches, kept as written for the reproducer.
    Where(toml::Table),
}

/// An injected fault (SPEC §1.7), active in `[from, to)` on the devices its selector matches.
#[derive(Clone, Debug)]
pub struct Fault {
    pub kind: FaultKind,
    pub from: SimTime,
    pub to: SimTime,
    pub selector: Selector,
}

#[derive(Clone, Debug)]
pub enum FaultKind {
    NetworkOutage,
    PowerOutage {
        fraction: f64,
    },
    CdnDegradation {
        bandwidth_factor: f64,
        error_rate: f64,
    },
    CorruptArtifact {
        probability: f64,
    },
    TamperedArtifact,
    TelemetryDelay {
        delay: Dist,
    },
    TelemetryDrop {
        probability: f64,
    },
    ClockSkew {
        skew: Dist,
    },
}

impl FaultKind {
    /// The kind's name as the file writes it, from [`FAULT_KINDS`] (which also holds
    /// `backend-api`, a kind the backend applies and that never becomes a `FaultKind`).
    pub fn name(&self) -> &'static str {
        FAULT_KINDS[match self {
            FaultKind::NetworkOutage => 0,
            FaultKind::PowerOutage { .. } => 1,
            FaultKind::CdnDegradation { .. } => 2,
            FaultKind::CorruptArtifact { .. } => 3,
            FaultKind::TamperedArtifact => 4,
            FaultKind::TelemetryDelay { .. } => 5,
            FaultKind::TelemetryDrop { .. } => 6,
            FaultKind::ClockSkew { .. } => 8,
        }]
    }
}

impl Fault {
    pub fn active(&self, t: SimTime) -> bool {
        self.from <= t && t < self.to
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Expect {
    pub metric: String,
    pub stat: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The world the expectation is judged in. Left out of `summary.json` when it is the
    /// default, so that the files of scenarios without `world` keep their bytes.
    #[serde(default, skip_serializing_if = "World::is_as_written")]
    pub world: World,
}

/// Which world a statistic is taken in: the scenario as written, or the same scenario with
/// every release defect removed (as `tune` builds its healthy world), on the same seeds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    #[default]
    AsWritten,
    Healthy,
}

impl World {
    /// The spellings `world = "…"` accepts, in the order of the variants.
    pub const NAMES: [&'static str; 2] = ["as-written", "healthy"];

    pub fn is_as_written(&self) -> bool {
        *self == World::AsWritten
    }
    pub fn name(self) -> &'static str {
        match self {
            World::AsWritten => "as-written",
            World::Healthy => "healthy",
        }
    }
    pub fn parse(text: &str) -> Option<World> {
        match text {
            "as-written" => Some(World::AsWritten),
            "healthy" => Some(World::Healthy),
            _ => None,
        }
    }
}

impl Scenario {
    pub fn device_count(&self) -> u64 {
        self.populations.iter().map(|p| p.count).sum()
    }
    /// The devices population entry `p` is expected to hold at the start: its population's
    /// count times the variant's share (see [`Population::head`]).
    pub fn expected_devices(&self, p: usize) -> f64 {
        let pop = &self.populations[p];
        self.populations[pop.head].count as f64 * pop.share
    }
    /// The most devices one replication holds: the fleet at the start and the arrivals the
    /// simulator allows for (see [`arrivals_bound`](super::limits::arrivals_bound)); what the
    /// memory estimate counts.
    pub fn device_bound(&self) -> u64 {
        let arriving: f64 = self
            .populations
            .iter()
            .map(|p| super::limits::arrivals_bound(p.arrivals_per_day, self.horizon.0 as f64 / 1e3))
            .sum();
        // Validation keeps this within the device limit; `as` saturates rather than wraps.
        self.device_count().saturating_add(arriving as u64)
    }
    pub fn version_label(&self, v: u8) -> &str {
        &self.versions[v as usize].label
    }
    /// Whether any release carries a defect: without one, the healthy world is this scenario.
    pub fn has_defects(&self) -> bool {
        self.versions.iter().any(|v| !v.defects.is_empty())
    }
    /// The healthy world: this scenario with every release defect removed, same seeds.
    pub fn healthy(&self) -> Scenario {
        let mut sc = self.clone();
        sc.versions.iter_mut().for_each(|v| v.defects.clear());
        sc
    }
    /// Whether judging the expectations needs a separate healthy-world run.
    pub fn needs_healthy_run(&self) -> bool {
        self.has_defects() && self.expects.iter().any(|e| e.world == World::Healthy)
    }
}
