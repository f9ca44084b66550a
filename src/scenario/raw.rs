//! The scenario file as written: serde structures that mirror the TOML keys of SPEC §1.1b–§1.7.
//!
//! Every struct denies unknown keys, so a typo is an error with a did-you-mean rather than a
//! silently ignored setting. Values that need a position in later semantic errors, or that take
//! several shapes (distributions, selectors, firmware mixes), stay `Spanned<toml::Value>` here and
//! are interpreted by `validate`.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use toml::Spanned;

/// A value kept with its byte span in the source, for positioned errors.
pub type SValue = Spanned<toml::Value>;

/// A duration in seconds: a duration string (`"15m"`) or a bare number of seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dur(pub f64);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Num(f64),
            Text(String),
        }
        let secs = match Either::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a duration such as \"30s\", \"15m\", \"6h\", \"2d\", \"1w\" or a number of seconds")
        })? {
            Either::Num(n) if n.is_finite() && n >= 0.0 => {
                crate::engine::time::check_duration_limit(n, &n.to_string())
                    .map_err(serde::de::Error::custom)?
            }
            Either::Num(n) => return Err(serde::de::Error::custom(format!("a duration must be ≥ 0 seconds (got {n})"))),
            Either::Text(t) => crate::engine::time::parse_duration_secs(&t).map_err(serde::de::Error::custom)?,
        };
        Ok(Dur(secs))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub simulation: RawSimulation,
    #[serde(default)]
    pub backend: RawBackend,
    #[serde(default)]
    pub connectivity: BTreeMap<String, RawConnectivity>,
    #[serde(default)]
    pub power: BTreeMap<String, RawPower>,
    #[serde(default)]
    pub fleet: Option<RawFleet>,
    #[serde(default)]
    pub population: Vec<RawPopulation>,
    #[serde(default)]
    pub release: Vec<RawRelease>,
    #[serde(default)]
    pub support: Option<RawSupport>,
    pub policy: RawPolicy,
    #[serde(default)]
    pub fault: Vec<RawFault>,
    #[serde(default)]
    pub chaos: Option<Spanned<RawChaos>>,
    #[serde(default)]
    pub expect: Vec<RawExpect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub name: String,
    #[serde(default = "default_seed", deserialize_with = "seed")]
    pub seed: u64,
    pub horizon: Spanned<Dur>,
    #[serde(default = "default_replications")]
    pub replications: Spanned<u64>,
    #[serde(default)]
    pub start: Option<Spanned<String>>,
}

fn default_seed() -> u64 {
    1
}

/// A seed: any u64. TOML integers stop at 2^63 − 1, so a larger seed is written as a string of
/// digits (`seed = "18446744073709551615"`), which is also how `--seed` passes one through the
/// scenario text.
fn seed<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Seed;
    const WANT: &str = "a whole number from 0 to 18446744073709551615 (above 9223372036854775807 \
                        written as a string: seed = \"18446744073709551615\")";
    impl serde::de::Visitor<'_> for Seed {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(WANT)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative; a seed is {WANT}")))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("`{v}` is not a seed; a seed is {WANT}")))
        }
    }
    d.deserialize_any(Seed)
}
fn default_replications() -> Spanned<u64> {
    Spanned::new(0..0, 1)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackend {
    #[serde(default)]
    pub api: Option<u32>,
    #[serde(default)]
    pub max_concurrent_downloads: Option<Spanned<u64>>,
    #[serde(default)]
    pub egress_mbps: Option<Spanned<f64>>,
    #[serde(default)]
    pub api_changes: Vec<RawApiChange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiChange {
    pub at: Dur,
    pub api: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnectivity {
    pub online: SValue,
    pub offline: SValue,
    pub check_in: Spanned<Dur>,
    pub bandwidth_kbps: SValue,
    #[serde(default)]
    pub metered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PowerSource {
    Mains,
    Battery,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPower {
    pub source: PowerSource,
    #[serde(default)]
    pub level: Option<SValue>,
    #[serde(default)]
    pub drain_per_day: Option<Spanned<f64>>,
    #[serde(default)]
    pub recharge: Option<RawRecharge>,
    #[serde(default)]
    pub install_cost: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecharge {
    pub every: Spanned<Dur>,
    #[serde(default = "one")]
    pub to: Spanned<f64>,
}

fn one() -> Spanned<f64> {
    Spanned::new(0..0, 1.0)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    pub inventory: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    pub name: String,
    #[serde(default)]
    pub count: Option<Spanned<u64>>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub utc_offset: Option<Spanned<String>>,
    #[serde(default)]
    pub firmware: Option<SValue>,
    #[serde(default)]
    pub tags: Option<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    pub connectivity: Option<Spanned<String>>,
    #[serde(default)]
    pub power: Option<Spanned<String>>,
    #[serde(default)]
    pub storage_free_mb: Option<SValue>,
    #[serde(default)]
    pub ab_slots: Option<bool>,
    #[serde(default)]
    pub install_failure: Option<Spanned<f64>>,
    #[serde(default)]
    pub crash_rate: Option<Spanned<f64>>,
    #[serde(default)]
    pub telemetry_interval: Option<Spanned<Dur>>,
    #[serde(default)]
    pub commands_per_day: Option<Spanned<f64>>,
    #[serde(default)]
    pub verifies_signatures: Option<bool>,
    #[serde(default)]
    pub arrivals_per_day: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Downgrade {
    #[default]
    Safe,
    Unsafe,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    pub version: Spanned<String>,
    pub size_mb: Spanned<f64>,
    #[serde(default)]
    pub delta_mb: BTreeMap<String, f64>,
    #[serde(default)]
    pub install_time: Option<SValue>,
    #[serde(default)]
    pub reboot_time: Option<SValue>,
    #[serde(default)]
    pub resumable: bool,
    #[serde(default)]
    pub min_from: Option<Spanned<String>>,
    #[serde(default)]
    pub migration: bool,
    #[serde(default)]
    pub requires_api: Option<u32>,
    #[serde(default)]
    pub downgrade: Downgrade,
    #[serde(default)]
    pub defect: Vec<RawDefect>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    BootFailure,
    NoReconnect,
    CrashLoop,
    CrashRate,
    TelemetryLoss,
    BatteryDrain,
    CommandFailure,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefect {
    pub effect: Effect,
    pub probability: Spanned<f64>,
    #[serde(default, rename = "where")]
    pub where_: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub after: Option<SValue>,
    #[serde(default)]
    pub factor: Option<Spanned<f64>>,
    #[serde(default)]
    pub availability: Option<Spanned<f64>>,
    #[serde(default)]
    pub rate: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSupport {
    pub ticket_probability: Spanned<f64>,
    pub ticket_delay: SValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    #[default]
    Snapshot,
    Continuous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipMigrations {
    #[default]
    Block,
    Chain,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub target: Spanned<String>,
    #[serde(default)]
    pub rollback_to: Option<Spanned<String>>,
    #[serde(default)]
    pub start: Option<Dur>,
    #[serde(default)]
    pub window: Option<Dur>,
    #[serde(default)]
    pub selection: Selection,
    #[serde(default)]
    pub rate: Option<Spanned<RawRate>>,
    #[serde(default)]
    pub max_in_flight: Option<Spanned<u64>>,
    #[serde(default)]
    pub timeout: Option<Dur>,
    #[serde(default)]
    pub retry: Option<RawRetry>,
    #[serde(default)]
    pub preflight: Option<RawPreflight>,
    #[serde(default)]
    pub maintenance: Option<Vec<RawWindow>>,
    #[serde(default)]
    pub skip_migrations: SkipMigrations,
    #[serde(default)]
    pub operator: Option<RawOperator>,
    #[serde(default)]
    pub stage: Vec<RawStage>,
    #[serde(default)]
    pub abort: Vec<RawAbort>,
    #[serde(default)]
    pub shadow_gate: Vec<RawShadowGate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRate {
    pub per_minute: f64,
    #[serde(default)]
    pub factor: Option<f64>,
    #[serde(default)]
    pub every_succeeded: Option<u64>,
    #[serde(default)]
    pub every_notified: Option<u64>,
    #[serde(default)]
    pub max_per_minute: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub attempts: Spanned<u32>,
    #[serde(default)]
    pub backoff: Option<Dur>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metered {
    #[default]
    Allow,
    OffPeak,
    Deny,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPreflight {
    #[serde(default)]
    pub min_battery: Option<Spanned<f64>>,
    #[serde(default)]
    pub min_storage_mb: Option<f64>,
    #[serde(default)]
    pub min_bandwidth_kbps: Option<f64>,
    #[serde(default)]
    pub metered: Metered,
    #[serde(default)]
    pub off_peak: Option<RawWindow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnPause {
    Rollback,
    Resume,
    #[default]
    Hold,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperator {
    #[serde(default)]
    pub response: Option<SValue>,
    #[serde(default)]
    pub on_pause: OnPause,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnInsufficient {
    #[default]
    Fail,
    Pass,
    Extend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    #[default]
    Auto,
    Operator,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub name: String,
    #[serde(default)]
    pub select: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub percent: Option<Spanned<f64>>,
    #[serde(default)]
    pub count: Option<Spanned<u64>>,
    #[serde(default)]
    pub bake: Option<Dur>,
    #[serde(default)]
    pub max_wait: Option<Dur>,
    #[serde(default)]
    pub on_insufficient: OnInsufficient,
    #[serde(default)]
    pub approval: Approval,
    #[serde(default)]
    pub gate: Option<RawGate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestKind {
    #[default]
    Point,
    Wilson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    #[default]
    Pause,
    Rollback,
    Abort,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    #[serde(default)]
    pub min_devices: Option<u64>,
    #[serde(default)]
    pub test: TestKind,
    #[serde(default)]
    pub confidence: Option<Spanned<f64>>,
    #[serde(default)]
    pub on_fail: Action,
    #[serde(default)]
    pub check: Vec<RawCheck>,
}

/// `[[policy.shadow_gate]]`: a gate that watches a stage and never acts (a dry run).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShadowGate {
    pub name: String,
    pub stage: Spanned<String>,
    #[serde(default)]
    pub min_devices: Option<u64>,
    #[serde(default)]
    pub test: TestKind,
    #[serde(default)]
    pub confidence: Option<Spanned<f64>>,
    /// What the gate would have done; recorded, never done.
    #[serde(default)]
    pub on_fail: Action,
    #[serde(default)]
    pub check: Vec<RawCheck>,
}

impl RawShadowGate {
    /// The gate it would be if it acted.
    pub fn as_gate(&self) -> RawGate {
        RawGate {
            min_devices: self.min_devices,
            test: self.test,
            confidence: self.confidence.clone(),
            on_fail: self.on_fail,
            check: self.check.iter().map(RawCheck::clone_raw).collect(),
        }
    }
}

/// The observed metrics a gate or an abort rule can read (SPEC §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservedMetric {
    UpdateSuccessRate,
    UpdateFailureRate,
    TimeoutRate,
    RevertRate,
    SilentRate,
    CrashRate,
    TelemetryGapRate,
    CommandFailureRate,
    SupportTickets,
}

impl ObservedMetric {
    pub fn name(self) -> &'static str {
        match self {
            ObservedMetric::UpdateSuccessRate => "update_success_rate",
            ObservedMetric::UpdateFailureRate => "update_failure_rate",
            ObservedMetric::TimeoutRate => "timeout_rate",
            ObservedMetric::RevertRate => "revert_rate",
            ObservedMetric::SilentRate => "silent_rate",
            ObservedMetric::CrashRate => "crash_rate",
            ObservedMetric::TelemetryGapRate => "telemetry_gap_rate",
            ObservedMetric::CommandFailureRate => "command_failure_rate",
            ObservedMetric::SupportTickets => "support_tickets",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub metric: Spanned<ObservedMetric>,
    #[serde(default)]
    pub max: Option<Spanned<f64>>,
    #[serde(default)]
    pub min: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_ratio_vs_control: Option<Spanned<f64>>,
    #[serde(default)]
    pub silent_after: Option<Dur>,
}

impl RawCheck {
    fn clone_raw(&self) -> RawCheck {
        self.clone()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAbort {
    pub metric: Spanned<ObservedMetric>,
    pub threshold: Spanned<f64>,
    #[serde(default)]
    pub min_executed: Option<u64>,
    #[serde(default)]
    pub action: Action,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub at: Option<Dur>,
    #[serde(default)]
    pub duration: Option<Dur>,
    #[serde(default, rename = "where")]
    pub where_: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub api: Option<u32>,
    #[serde(default)]
    pub fraction: Option<f64>,
    #[serde(default)]
    pub bandwidth_factor: Option<f64>,
    #[serde(default)]
    pub error_rate: Option<f64>,
    #[serde(default)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub delay: Option<SValue>,
    #[serde(default)]
    pub skew: Option<SValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChaos {
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub max_faults: Option<u32>,
    #[serde(default)]
    pub campaigns: Option<u32>,
    /// The window fault start times are drawn from.
    #[serde(default)]
    pub at: Option<Spanned<RawDurRange>>,
    /// The range fault durations are drawn from.
    #[serde(default)]
    pub duration: Option<Spanned<RawDurRange>>,
    /// The scopes a fault may take: `"fleet"` or a selector table each.
    #[serde(default)]
    pub scopes: Option<Spanned<Vec<SValue>>>,
}

/// `{ min = "1h", max = "5d" }`: a range of durations; either end may be left out.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a range of durations such as { min = \"1h\", max = \"5d\" }"
)]
pub struct RawDurRange {
    #[serde(default)]
    pub min: Option<Spanned<Dur>>,
    #[serde(default)]
    pub max: Option<Spanned<Dur>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    pub metric: Spanned<String>,
    pub stat: Spanned<String>,
    #[serde(default)]
    pub min: Option<SValue>,
    #[serde(default)]
    pub max: Option<SValue>,
    /// `"as-written"` (default) or `"healthy"`.
    #[serde(default)]
    pub world: Option<Spanned<String>>,
}
