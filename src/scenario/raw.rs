//! The scenario file as written: serde structures that mirror the TOML keys of SPEC §1.1b–§1.7.
//!
//! Every struct denies unknown keys, so a typo is an error with a did-you-mean rather than a
//! silently ignored setting. Values that need a position in later semantic errors, or that take
//! several shapes (distributions, selectors, firmware mixes), stay `Spanned<toml::Value>` here and
//! are interpreted by `validate`.
//!
//! The same types generate the file's JSON Schema (`fleetsim schema`, [`super::schema`]): a
//! field's doc comment is its description, `x-unit` its unit, `examples` a value to show; the
//! untyped values name the shape they accept with `#[schemars(with = …)]`.

use super::schema as sch;
use schemars::JsonSchema;
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

/// A fleetsim scenario: the fleet, its releases (with the ground truth of their defects), the
/// rollout policy, the faults to inject and the expectations to check.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// The JSON Schema of this file, for editors that read a top-level `$schema` key (write it
    /// quoted: `"$schema" = "…"`); Even Better TOML / taplo also read a `#:schema PATH` comment
    /// on the first line. fleetsim ignores it.
    #[serde(default, rename = "$schema")]
    #[schemars(extend("examples" = ["./scenario.schema.json"]))]
    pub schema: Option<String>,
    /// The run: name, seed, horizon, replications, wall-clock start.
    pub simulation: RawSimulation,
    /// The update backend: API version, download slots, shared egress bandwidth.
    #[serde(default)]
    pub backend: RawBackend,
    /// Connectivity profiles by name (`[connectivity.NAME]`), named by populations.
    #[serde(default)]
    pub connectivity: BTreeMap<String, RawConnectivity>,
    /// Power profiles by name (`[power.NAME]`); a population without `power` runs on mains.
    #[serde(default)]
    pub power: BTreeMap<String, RawPower>,
    /// An inventory CSV of devices, instead of or as well as `[[population]]` counts.
    #[serde(default)]
    pub fleet: Option<RawFleet>,
    /// Groups of alike devices.
    #[serde(default)]
    pub population: Vec<RawPopulation>,
    /// Firmware releases, with the ground truth of what each really does.
    #[serde(default)]
    pub release: Vec<RawRelease>,
    /// Support: tickets harmed and healthy devices open (what a `support_tickets` check
    /// reads), the team's queue, field visits to bricked devices.
    #[serde(default)]
    pub support: Option<RawSupport>,
    /// The rollout policy: target, rate, stages with gates, abort rules, rollback.
    pub policy: RawPolicy,
    /// Faults to inject into every replication (outages, bad artifacts, late telemetry).
    #[serde(default)]
    pub fault: Vec<RawFault>,
    /// The fault space `fleetsim chaos` draws random schedules from.
    #[serde(default)]
    #[schemars(with = "Option<RawChaos>")]
    pub chaos: Option<Spanned<RawChaos>>,
    /// Assertions `fleetsim check` evaluates on the outcome metrics.
    #[serde(default)]
    pub expect: Vec<RawExpect>,
}

/// `[simulation]`: what is run, and for how long.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// The scenario's name; the default report folder is `reports/<name>/`.
    #[schemars(extend("examples" = ["bad-release"]))]
    pub name: String,
    /// The seed every random stream is keyed by: the same seed gives byte-identical output.
    #[serde(default = "default_seed", deserialize_with = "seed")]
    #[schemars(with = "sch::Seed", extend("default" = 1, "examples" = [11]))]
    pub seed: u64,
    /// How much simulated time to run (more than 0, at most 3 660 days).
    #[schemars(with = "sch::Duration", extend("examples" = ["30d"]))]
    pub horizon: Spanned<Dur>,
    /// Independent runs with different worlds; statistics are across them.
    #[serde(default = "default_replications")]
    #[schemars(with = "u64", range(min = 1, max = 1_000_000))]
    #[schemars(extend("x-unit" = "runs", "examples" = [50]))]
    pub replications: Spanned<u64>,
    /// The wall-clock time of simulated time zero (RFC 3339), so that maintenance windows and
    /// off-peak hours fall at each population's local time (default 1970-01-01T00:00:00Z).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("examples" = ["2026-03-02T00:00:00Z"]))]
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

/// `[backend]`: the update service the devices talk to.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBackend {
    /// The backend's API version at the start; a device cannot install a release whose
    /// `requires_api` is above it.
    #[serde(default)]
    #[schemars(extend("x-unit" = "API version", "default" = 1, "examples" = [7]))]
    pub api: Option<u32>,
    /// Most downloads served at once; a device over it waits for a slot (default: no limit).
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(min = 1))]
    #[schemars(extend("x-unit" = "downloads", "examples" = [500]))]
    pub max_concurrent_downloads: Option<Spanned<u64>>,
    /// Bandwidth shared by every download: under load each download slows, which is what makes
    /// a reconnection storm hurt (more than 0; default: no limit).
    #[serde(default)]
    #[schemars(with = "Option<f64>", extend("exclusiveMinimum" = 0))]
    #[schemars(extend("x-unit" = "Mbit/s", "examples" = [200]))]
    pub egress_mbps: Option<Spanned<f64>>,
    /// The backend API version over time.
    #[serde(default)]
    #[schemars(extend("examples" = [[{ "at": "4d", "api": 8 }]]))]
    pub api_changes: Vec<RawApiChange>,
}

/// One change of the backend API version.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApiChange {
    /// When, since the scenario start.
    #[schemars(with = "sch::Duration", extend("examples" = ["4d"]))]
    pub at: Dur,
    /// The API version from then on.
    #[schemars(extend("x-unit" = "API version", "examples" = [8]))]
    pub api: u32,
}

/// `[connectivity.NAME]`: a device alternates online and offline periods; it learns of an
/// update, downloads and reports only while online.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConnectivity {
    /// How long an online session lasts (a duration distribution with a finite mean above 0).
    #[schemars(with = "sch::DurationDist")]
    #[schemars(extend("examples" = [{ "dist": "exponential", "mean": "8h" }]))]
    pub online: SValue,
    /// How long a gap between sessions lasts (a duration distribution with a finite mean).
    #[schemars(with = "sch::DurationDist")]
    #[schemars(extend("examples" = [{ "dist": "lognormal", "median": "20m", "p95": "6h" }]))]
    pub offline: SValue,
    /// Poll interval while online: a device checks in as it comes online, then every
    /// `check_in` (more than 0).
    #[schemars(with = "sch::Duration", extend("examples" = ["15m"]))]
    pub check_in: Spanned<Dur>,
    /// Download bandwidth of a session (a number or a distribution).
    #[schemars(with = "sch::NumberDist")]
    #[schemars(extend("x-unit" = "kbit/s", "examples" = [{ "dist": "uniform", "min": 200, "max": 4000 }]))]
    pub bandwidth_kbps: SValue,
    /// A metered link (cellular): `policy.preflight.metered` decides whether it may download.
    #[serde(default)]
    #[schemars(extend("examples" = [true]))]
    pub metered: bool,
}

/// Where a device's power comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PowerSource {
    /// Always powered.
    Mains,
    /// A battery that drains and may be recharged; one that dies during an install interrupts
    /// it (reverted with A/B slots, bricked without).
    Battery,
}

/// `[power.NAME]`: a power profile.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPower {
    /// `"mains"` or `"battery"`; the other keys apply only to batteries.
    #[schemars(extend("examples" = ["battery"]))]
    pub source: PowerSource,
    /// Initial battery level, a fraction 0..1 (a number or a distribution, e.g. beta).
    #[serde(default)]
    #[schemars(with = "Option<sch::NumberDist>")]
    #[schemars(extend("x-unit" = "fraction of a full battery", "default" = 1.0, "examples" = [{ "dist": "beta", "a": 5, "b": 2 }]))]
    pub level: Option<SValue>,
    /// Battery used per day (≥ 0).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    #[schemars(extend("x-unit" = "fraction of a full battery per day", "default" = 0.0, "examples" = [0.04]))]
    pub drain_per_day: Option<Spanned<f64>>,
    /// Periodic recharge (none by default).
    #[serde(default)]
    #[schemars(extend("examples" = [{ "every": "1d", "to": 1.0 }]))]
    pub recharge: Option<RawRecharge>,
    /// Battery used by one install.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction of a full battery", "default" = 0.0, "examples" = [0.05]))]
    pub install_cost: Option<Spanned<f64>>,
    /// Battery used per megabyte downloaded (≥ 0). A battery that reaches 0 (by drain or use)
    /// keeps the device offline until its next recharge.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction of a full battery per MB", "default" = 0.0, "examples" = [0.0005]))]
    pub download_cost: Option<Spanned<f64>>,
}

/// A periodic recharge of a battery.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRecharge {
    /// The recharge period (more than 0, at least horizon / 65 535).
    #[schemars(with = "sch::Duration", extend("examples" = ["1d"]))]
    pub every: Spanned<Dur>,
    /// The level a recharge restores.
    #[serde(default = "one")]
    #[schemars(with = "f64", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction of a full battery", "default" = 1.0, "examples" = [0.9]))]
    pub to: Spanned<f64>,
}

fn one() -> Spanned<f64> {
    Spanned::new(0..0, 1.0)
}

/// `[fleet]`: devices listed one per row.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    /// An inventory CSV, relative to the scenario's folder: one row per device, columns named
    /// after population keys (see "Inventory CSV").
    #[schemars(with = "String", extend("examples" = ["devices.csv"]))]
    pub inventory: Spanned<String>,
}

/// `[[population]]`: a group of alike devices.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    /// The group's name (unique; stages and selectors name it).
    #[schemars(extend("examples" = ["sensors-eu"]))]
    pub name: String,
    /// How many devices it has. With `fleet.inventory`, a population without `count` is only a
    /// template inventory rows inherit from (their `population` column).
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(max = 20_000_000))]
    #[schemars(extend("x-unit" = "devices", "examples" = [5000]))]
    pub count: Option<Spanned<u64>>,
    /// Hardware model (selectors and defects match it), or a mix of models: each device draws
    /// its own.
    #[serde(default)]
    #[schemars(with = "Option<sch::NameMix>")]
    #[schemars(extend("examples" = ["sn-10", { "sn-10": 0.8, "sn-20": 0.2 }]))]
    pub model: Option<SValue>,
    /// Region (selectors and defects match it), or a mix of regions: each device draws its own.
    #[serde(default)]
    #[schemars(with = "Option<sch::NameMix>")]
    #[schemars(extend("examples" = ["eu", { "eu": 0.6, "us": 0.4 }]))]
    pub region: Option<SValue>,
    /// Local time offset from UTC, for maintenance windows and off-peak hours ("Z" or ±HH:MM,
    /// default "+00:00"); with a `region` mix, one offset for every region or a table by region
    /// that names each region of the mix.
    #[serde(default)]
    #[schemars(with = "Option<sch::OffsetByRegion>")]
    #[schemars(extend("examples" = ["+01:00", { "eu": "+01:00", "us": "-05:00" }]))]
    pub utc_offset: Option<SValue>,
    /// The version devices run at the start, or a mix of versions (required).
    #[serde(default)]
    #[schemars(with = "Option<sch::FirmwareMix>")]
    #[schemars(extend("examples" = [{ "2.3.0": 0.9, "2.1.0": 0.1 }]))]
    pub firmware: Option<SValue>,
    /// Free key/values selectors match (`customer`, `criticality`, `channel`, `site`…); a
    /// `criticality = "high"` device counts in `harmed_critical`.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, sch::Scalar>>")]
    #[schemars(extend("examples" = [{ "channel": "external", "criticality": "high" }]))]
    pub tags: Option<BTreeMap<String, toml::Value>>,
    /// The name of a `[connectivity.NAME]` profile (required), or a mix of profiles: each
    /// device draws its own.
    #[serde(default)]
    #[schemars(with = "Option<sch::NameMix>")]
    #[schemars(extend("examples" = [{ "wired": 0.7, "cellular": 0.3 }, "cellular"]))]
    pub connectivity: Option<SValue>,
    /// The name of a `[power.NAME]` profile (default: mains), or a mix of profiles: each device
    /// draws its own.
    #[serde(default)]
    #[schemars(with = "Option<sch::NameMix>")]
    #[schemars(extend("examples" = ["battery", { "mains": 0.5, "battery": 0.5 }]))]
    pub power: Option<SValue>,
    /// Free storage (a number or a distribution); a download needs the image's size, and
    /// `policy.preflight.min_storage_mb` (default: unlimited).
    #[serde(default)]
    #[schemars(with = "Option<sch::NumberDist>")]
    #[schemars(extend("x-unit" = "MB", "examples" = [{ "dist": "uniform", "min": 50, "max": 2000 }]))]
    pub storage_free_mb: Option<SValue>,
    /// `true`: A/B partitions, a failed boot reverts to the previous slot by itself; `false`:
    /// a failed boot bricks the device.
    #[serde(default)]
    #[schemars(extend("default" = true, "examples" = [false]))]
    pub ab_slots: Option<bool>,
    /// A/B devices only: a boot watchdog. A device whose new image crashes `boots` times
    /// within `window` of its first boot reverts to the previous slot by itself and reports
    /// it at its next check-in (`watchdog_reverted`); without one a crash-looping device stays
    /// on the bad image until a rollback reaches it. Not an inventory column.
    #[serde(default)]
    #[schemars(extend("examples" = [{ "boots": 3, "window": "1h" }]))]
    pub watchdog: Option<RawWatchdog>,
    /// The owner must accept the install (hawkBit soft updates and confirmation, Azure Device
    /// Update consent): after the download the install waits `delay`; with probability `deny`
    /// the owner declines and the device reports `rejected` (never retried). Asked under
    /// `policy.action_type = "soft"` (the default) and `"timeforced"` before `force_after`; a
    /// forced update does not ask. Not an inventory column.
    #[serde(default)]
    #[schemars(extend("examples" = [{ "delay": { "dist": "exponential", "mean": "4h" }, "deny": 0.05 }]))]
    pub consent: Option<RawConsent>,
    /// Probability that one install attempt fails transiently (retryable): the healthy
    /// background rate.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "probability 0..1", "default" = 0.0, "examples" = [0.005]))]
    pub install_failure: Option<Spanned<f64>>,
    /// Background crashes a healthy device reports (0 to 86 400).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 86_400))]
    #[schemars(extend("x-unit" = "crashes per device-day", "default" = 0.0, "examples" = [0.02]))]
    pub crash_rate: Option<Spanned<f64>>,
    /// How often an online device reports health (more than 0).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("default" = "1h", "examples" = ["30m"]))]
    pub telemetry_interval: Option<Spanned<Dur>>,
    /// Remote commands the backend sends each device; their results are reported
    /// (`command_failure_rate`).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    #[schemars(extend("x-unit" = "commands per device-day", "default" = 1.0, "examples" = [4]))]
    pub commands_per_day: Option<Spanned<f64>>,
    /// `true`: the device rejects an artifact whose signature does not verify.
    #[serde(default)]
    #[schemars(extend("default" = true, "examples" = [false]))]
    pub verifies_signatures: Option<bool>,
    /// New devices joining the population (a Poisson process); with `policy.selection =
    /// "continuous"` they are targeted too.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    #[schemars(extend("x-unit" = "devices per day", "default" = 0.0, "examples" = [20]))]
    pub arrivals_per_day: Option<Spanned<f64>>,
}

/// `watchdog`: how many crashes within how long of booting make an A/B device revert.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWatchdog {
    /// Crashes of the new image that trip the watchdog (1 to 100).
    #[schemars(with = "u32", range(min = 1, max = 100))]
    #[schemars(extend("x-unit" = "crashes", "examples" = [3]))]
    pub boots: Spanned<u32>,
    /// How long after its first boot the image must survive `boots` crashes to be kept
    /// (more than 0): a crash loop that starts later is past the watchdog.
    #[schemars(with = "sch::Duration", extend("examples" = ["1h"]))]
    pub window: Spanned<Dur>,
}

/// `consent`: how long the owner takes to answer, and how often the answer is no.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConsent {
    /// How long after the download the owner answers (a duration or a distribution of one;
    /// default 0s).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("default" = "0s", "examples" = ["2h", { "dist": "exponential", "mean": "4h" }]))]
    pub delay: Option<SValue>,
    /// Probability that the owner declines the install (0 to 1; default 0).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "probability 0..1", "default" = 0.0, "examples" = [0.05]))]
    pub deny: Option<Spanned<f64>>,
}

/// What a release changes on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseKind {
    /// A firmware image: installed into a slot, then a reboot.
    #[default]
    Firmware,
    /// A configuration change: applied in place, no reboot and no A/B slots (`boot-failure`
    /// cannot hit it); `fail_safe` can revert it.
    Config,
}

/// Whether going back from a release is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Downgrade {
    /// A rollback to an older version is allowed.
    #[default]
    Safe,
    /// A data migration makes going back corrupt state: rollback is refused and counted
    /// (`rollback_refused`).
    Unsafe,
}

/// `[[release]]`: a firmware version the policy can roll out or back to.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    /// Its semantic version.
    #[schemars(with = "String", extend("examples" = ["2.4.0"]))]
    pub version: Spanned<String>,
    /// `"firmware"` or `"config"`: a configuration release is a version of the same line,
    /// applied without a reboot.
    #[serde(default)]
    #[schemars(extend("default" = "firmware", "examples" = ["config"]))]
    pub kind: ReleaseKind,
    /// Config releases only: a device that applied it and has not re-established contact
    /// with the backend within this time reverts to its last known good configuration by
    /// itself (`failsafe_reverted`). More than 0; none by default.
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["30m"]))]
    pub fail_safe: Option<Spanned<Dur>>,
    /// Probability that applying a delta (`delta_mb`) fails; the device then downloads the
    /// full image, whose bytes are served too (`delta_fallbacks`).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "probability 0..1", "default" = 0.0, "examples" = [0.02]))]
    pub delta_failure: Option<Spanned<f64>>,
    /// Full image size (≥ 0).
    #[schemars(with = "f64", range(min = 0))]
    #[schemars(extend("x-unit" = "MB", "examples" = [22]))]
    pub size_mb: Spanned<f64>,
    /// Delta image sizes by the version a device comes from (≥ 0); other devices download the
    /// full image.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, sch::NonNegative>")]
    #[schemars(extend("x-unit" = "MB", "examples" = [{ "2.3.0": 4 }]))]
    pub delta_mb: BTreeMap<String, f64>,
    /// How long an install takes (a duration distribution).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("default" = "2m", "examples" = [{ "dist": "lognormal", "median": "3m", "p95": "12m" }]))]
    pub install_time: Option<SValue>,
    /// How long the reboot into the new image takes (a duration distribution).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("default" = "30s", "examples" = ["45s"]))]
    pub reboot_time: Option<SValue>,
    /// Downloads resume after an interruption (else they restart).
    #[serde(default)]
    #[schemars(extend("examples" = [true]))]
    pub resumable: bool,
    /// The oldest version that may upgrade to this one directly.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("examples" = ["2.0.0"]))]
    pub min_from: Option<Spanned<String>>,
    /// A critical migration: a device below it must install it before anything newer
    /// (`policy.skip_migrations`).
    #[serde(default)]
    #[schemars(extend("examples" = [true]))]
    pub migration: bool,
    /// The lowest backend API version this firmware can talk to.
    #[serde(default)]
    #[schemars(extend("x-unit" = "API version", "examples" = [8]))]
    pub requires_api: Option<u32>,
    /// `"safe"` or `"unsafe"` (rollback from it is refused).
    #[serde(default)]
    #[schemars(extend("examples" = ["unsafe"]))]
    pub downgrade: Downgrade,
    /// The ground truth of what the release really does; the policy never sees it.
    #[serde(default)]
    #[schemars(extend("examples" = [[{ "effect": "boot-failure", "probability": 0.03, "where": { "model": "sn-10" } }]]))]
    pub defect: Vec<RawDefect>,
}

/// What a defect does to a device it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// The new image does not boot: A/B devices revert and report a failed update; others brick.
    BootFailure,
    /// Boots but never reconnects: to the backend it looks like an offline device.
    NoReconnect,
    /// After `after`, the device crashes repeatedly and is online only an `availability`
    /// fraction of the time.
    CrashLoop,
    /// After `after`, the device's crash rate is multiplied by `factor`.
    CrashRate,
    /// One health metric stops arriving while the rest looks normal.
    TelemetryLoss,
    /// Battery drain is multiplied by `factor`.
    BatteryDrain,
    /// Remote commands fail with probability `rate`.
    CommandFailure,
}

/// `[[release.defect]]`: ground truth, never seen by the policy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDefect {
    /// What happens to a device the defect hits.
    #[schemars(extend("examples" = ["boot-failure"]))]
    pub effect: Effect,
    /// The chance that the defect hits a device that installs the release (among those
    /// `where` matches).
    #[schemars(with = "f64", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "probability 0..1", "examples" = [0.03]))]
    pub probability: Spanned<f64>,
    /// Which devices it can hit: a selector over model, region, tags and `from` (the version
    /// the device came from); it must match a device. Default: every device.
    #[serde(default, rename = "where")]
    #[schemars(with = "Option<sch::Selector>", extend("examples" = [{ "model": "sn-10" }]))]
    pub where_: Option<Spanned<toml::Table>>,
    /// Delay after the install before a latent defect strikes (a duration distribution;
    /// default: at once).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("examples" = [{ "dist": "exponential", "mean": "2d" }]))]
    pub after: Option<SValue>,
    /// The multiplier of `crash-rate` (of the crash rate) and `battery-drain` (of the drain),
    /// 0 to 10⁶; required by those effects.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1_000_000))]
    #[schemars(extend("x-unit" = "times", "examples" = [3.0]))]
    pub factor: Option<Spanned<f64>>,
    /// For `crash-loop`: the fraction of time the device is still online.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction 0..1", "default" = 0.1, "examples" = [0.2]))]
    pub availability: Option<Spanned<f64>>,
    /// For `command-failure` (required): the probability that a remote command fails.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "probability 0..1", "examples" = [0.3]))]
    pub rate: Option<Spanned<f64>>,
}

/// `[support]`: the tickets devices open, the team that works them off, and field visits to
/// bricked devices.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSupport {
    /// The chance that a harmed device opens a ticket.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "probability 0..1", "default" = 0.0, "examples" = [0.3]))]
    pub ticket_probability: Option<Spanned<f64>>,
    /// How long after the harm the ticket arrives (a duration distribution).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("default" = "0s", "examples" = [{ "dist": "lognormal", "median": "6h", "p95": "2d" }]))]
    pub ticket_delay: Option<SValue>,
    /// Tickets every device opens whatever the release does (a Poisson process per device,
    /// harmed or not; 0 to 100), so that a `support_tickets` gate can halt a healthy release.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 100))]
    #[schemars(extend("x-unit" = "tickets per device-day", "default" = 0.0, "examples" = [0.002]))]
    pub background_per_device_day: Option<Spanned<f64>>,
    /// The support team's throughput: it picks up at most this many queued items (tickets and
    /// quarantined devices) a day, first come first served (more than 0; default: no queue is
    /// modelled, and `support_backlog_peak` / `time_to_clear_support` have no value).
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(extend("x-unit" = "items per day", "examples" = [40]))]
    pub capacity_per_day: Option<Spanned<f64>>,
    /// How long one item takes once the team has picked it up (a duration distribution; needs
    /// `capacity_per_day`).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("default" = "0s", "examples" = [{ "dist": "lognormal", "median": "2h", "p95": "1d" }]))]
    pub resolve_time: Option<SValue>,
    /// A truck roll to every bricked device: after `delay` it runs `policy.rollback_to` again
    /// (or the version it ran before the install that bricked it), at `cost` each (default:
    /// no field visits).
    #[serde(default)]
    #[schemars(extend("examples" = [{ "delay": { "dist": "uniform", "min": "1d", "max": "5d" }, "cost": 150 }]))]
    pub field_visit: Option<RawFieldVisit>,
}

/// `support.field_visit`: a technician reflashes a bricked device on site.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFieldVisit {
    /// From the brick until the device runs again (a duration distribution; required).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("examples" = [{ "dist": "uniform", "min": "1d", "max": "5d" }]))]
    pub delay: Option<SValue>,
    /// What one visit costs, in the currency of your choice (≥ 0; summed into `field_cost`).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    #[schemars(extend("x-unit" = "cost per visit", "default" = 0.0, "examples" = [150]))]
    pub cost: Option<Spanned<f64>>,
}

/// `policy.quarantine`: route devices that keep failing to support instead of retrying them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawQuarantine {
    /// Failed attempts (reported failures and time-outs of the update) after which a device is
    /// no longer retried and enters the support queue (1 to 100).
    #[schemars(with = "u32", range(min = 1, max = 100))]
    #[schemars(extend("x-unit" = "failed attempts", "examples" = [3]))]
    pub after_failures: Spanned<u32>,
}

/// Which devices the rollout targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    /// The devices that match at the start (AWS `targetSelection = SNAPSHOT`).
    #[default]
    Snapshot,
    /// Devices that join later get it too, at once (AWS `CONTINUOUS`; see `arrivals_per_day`).
    Continuous,
}

/// What the rollout window's close does to the executions still open (AWS `JobEndBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EndBehavior {
    /// No device is notified any more; queued and in-progress executions go on
    /// (AWS `STOP_ROLLOUT`).
    Stop,
    /// Queued executions (notified devices that have not started) are cancelled; in-progress
    /// ones go on (AWS `CANCEL`).
    #[default]
    Cancel,
    /// Queued and in-progress executions are cancelled; an install that has begun completes
    /// (AWS `FORCE_CANCEL`).
    ForceCancel,
}

/// How a device treats the update it downloaded (hawkBit `type` of an action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionType {
    /// The device installs at once, without asking its owner (hawkBit `forced`).
    Forced,
    /// The install waits for the owner's `consent` where the device's population asks for it
    /// (hawkBit `soft`); without `consent` it is the same as `forced`.
    #[default]
    Soft,
    /// Soft until `force_after`, then forced (hawkBit `timeforced` with its `forcetime`).
    Timeforced,
    /// The device downloads and verifies the image and reports success without installing it
    /// (hawkBit `downloadonly`): it stays on its version with the image staged.
    DownloadOnly,
}

/// What happens to a device that would skip a critical migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SkipMigrations {
    /// It is refused and counted (stranded, `blocked_migration`).
    #[default]
    Block,
    /// It installs the migration release first.
    Chain,
}

/// `[policy]`: the rollout plan being rehearsed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// The version to roll out (a `[[release]]`).
    #[schemars(with = "String", extend("examples" = ["2.4.0"]))]
    pub target: Spanned<String>,
    /// The last good version a rollback returns devices to (default: each device's previous
    /// version).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("examples" = ["2.3.0"]))]
    pub rollback_to: Option<Spanned<String>>,
    /// When the rollout opens, since the scenario start (before the horizon).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("default" = "0s", "examples" = ["1d"]))]
    pub start: Option<Dur>,
    /// How long the rollout stays open; devices not reached by then are stranded (AWS
    /// `schedulingConfig`; default: until the horizon).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["14d"]))]
    pub window: Option<Dur>,
    /// What the window's close does to the executions still open (AWS
    /// `schedulingConfig.endBehavior`; needs `window`, as AWS applies it only with an
    /// `endTime`); queued executions are those of notified devices that have not started.
    #[serde(default)]
    #[schemars(with = "Option<EndBehavior>", extend("default" = "cancel", "examples" = ["force-cancel"]))]
    pub end_behavior: Option<Spanned<EndBehavior>>,
    /// How devices treat the update they downloaded (hawkBit action type): `soft` waits for
    /// the owner's `consent` where a population asks for it, `forced` never asks,
    /// `timeforced` is soft until `force_after`, `download-only` downloads and reports success
    /// without installing. A rollback is always forced.
    #[serde(default)]
    #[schemars(with = "Option<ActionType>", extend("default" = "soft", "examples" = ["timeforced"]))]
    pub action_type: Option<Spanned<ActionType>>,
    /// With `action_type = "timeforced"` (and only then): when, since the rollout start, a
    /// soft update turns forced (hawkBit's `forcetime`, one instant for the whole rollout). A
    /// device still waiting for its owner then installs at its next check-in.
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["3d"]))]
    pub force_after: Option<Spanned<Dur>>,
    /// `"snapshot"` or `"continuous"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["continuous"]))]
    pub selection: Selection,
    /// Devices notified per minute, optionally an exponential ramp (AWS `exponentialRate`).
    /// Default: every device at once.
    #[serde(default)]
    #[schemars(with = "Option<RawRate>")]
    #[schemars(extend("examples" = [{ "per_minute": 10, "factor": 2.0, "every_succeeded": 100 }]))]
    pub rate: Option<Spanned<RawRate>>,
    /// The rollout ends once this many devices have a result (Mender's `max_devices`): nobody
    /// more is notified and what was not reached is stranded, as at the window's close
    /// (at least 1; default: no limit).
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(min = 1))]
    #[schemars(extend("x-unit" = "devices", "examples" = [500]))]
    pub max_devices: Option<Spanned<u64>>,
    /// Most devices between download start and result at once (at least 1; default: no limit).
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(min = 1))]
    #[schemars(extend("x-unit" = "devices", "examples" = [200]))]
    pub max_in_flight: Option<Spanned<u64>>,
    /// In-progress timeout per device: a device that has not reported a result by then times
    /// out (AWS `inProgressTimeoutInMinutes`; default: none).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["2h"]))]
    pub timeout: Option<Dur>,
    /// Retries of failed and timed-out executions, as one budget or per failure type (AWS
    /// `jobExecutionsRetryConfig`); rejected executions are never retried (default: one try).
    #[serde(default)]
    #[schemars(extend("examples" = [{ "attempts": 3, "backoff": "30m" }, [{ "on": "failed", "attempts": 4 }, { "on": "timed_out", "attempts": 2, "backoff": "1h" }]]))]
    pub retry: Option<RawRetry>,
    /// Devices with this many failed attempts are no longer retried and go to the support
    /// queue (`quarantined`; default: none).
    #[serde(default)]
    #[schemars(extend("examples" = [{ "after_failures": 3 }]))]
    pub quarantine: Option<RawQuarantine>,
    /// Device-side checks before download.
    #[serde(default)]
    #[schemars(extend("examples" = [{ "min_battery": 0.3, "metered": "off-peak" }]))]
    pub preflight: Option<RawPreflight>,
    /// Windows in which installs may start (default: any time), or, with `applies_to =
    /// "notify"`, in which devices are notified.
    #[serde(default)]
    #[schemars(extend("examples" = [[{ "from": "01:00", "to": "05:00" }, { "cron": "0 2 * * SAT", "duration": "4h", "zone": "utc", "applies_to": "notify" }]]))]
    pub maintenance: Option<Vec<RawMaintenance>>,
    /// At most `max_unavailable` devices of each group (devices sharing the `group_by`
    /// values) between install start and boot at once; a device over budget waits
    /// (deferral `budget`). Flight Control and Kubernetes disruption budgets.
    #[serde(default)]
    #[schemars(extend("examples" = [{ "group_by": ["site"], "max_unavailable": 2 }, { "group_by": ["region"], "max_unavailable": "10%" }]))]
    pub disruption_budget: Option<RawBudget>,
    /// `"block"` or `"chain"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["chain"]))]
    pub skip_migrations: SkipMigrations,
    /// The human in the loop: how long they take to act on a pause, and what they do.
    #[serde(default)]
    #[schemars(extend("examples" = [{ "response": { "dist": "lognormal", "median": "1h", "p95": "8h" }, "on_pause": "rollback" }]))]
    pub operator: Option<RawOperator>,
    /// Stages, run in order, each a cohort (at least one).
    #[serde(default)]
    #[schemars(extend("examples" = [[{ "name": "canary", "percent": 2, "bake": "24h" }]]))]
    pub stage: Vec<RawStage>,
    /// Eclipse hawkBit rollout groups: `count` stages of equal shares of the matching devices,
    /// each judged over its whole group (instead of `[[policy.stage]]`).
    #[serde(default)]
    #[schemars(extend("examples" = [{ "count": 5, "success_threshold": 0.5, "error_threshold": 0.2 }]))]
    pub groups: Option<RawGroups>,
    /// Continuous guardrails over the whole rollout, evaluated whenever a result arrives (AWS
    /// `abortConfig`).
    #[serde(default)]
    #[schemars(extend("examples" = [[{ "metric": "update_failure_rate", "threshold": 0.05, "min_executed": 100, "action": "rollback" }]]))]
    pub abort: Vec<RawAbort>,
    /// Gates that watch a stage and never act (a dry run, as Argo Rollouts' `dryRun`).
    #[serde(default)]
    #[schemars(extend("examples" = [[{ "name": "tickets", "stage": "canary", "check": [{ "metric": "support_tickets", "max": 5 }] }]]))]
    pub shadow_gate: Vec<RawShadowGate>,
}

/// `policy.rate`: how fast devices are notified.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRate {
    /// Devices notified per minute at the start (more than 0).
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(extend("x-unit" = "devices per minute", "examples" = [30]))]
    pub per_minute: f64,
    /// The ramp: the rate is multiplied by `factor` each time a cumulative count crosses the
    /// next multiple of `every_succeeded` or `every_notified` (both may be given: each crossing
    /// of either counts; above 1, at most 5).
    #[serde(default)]
    #[schemars(range(max = 5))]
    #[schemars(extend("exclusiveMinimum" = 1))]
    #[schemars(extend("x-unit" = "times", "examples" = [2.0]))]
    pub factor: Option<f64>,
    /// Ramp after every this many successes (AWS `numberOfSucceededThings`; at least 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    #[schemars(extend("x-unit" = "devices", "examples" = [100]))]
    pub every_succeeded: Option<u64>,
    /// Ramp after every this many notifications (AWS `numberOfNotifiedThings`; at least 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    #[schemars(extend("x-unit" = "devices", "examples" = [500]))]
    pub every_notified: Option<u64>,
    /// The ramp's cap (at least `per_minute`; default: none).
    #[serde(default)]
    #[schemars(extend("x-unit" = "devices per minute", "examples" = [500]))]
    pub max_per_minute: Option<f64>,
}

/// `policy.retry`: either one budget of tries for every failure type (the table form,
/// `{ attempts, backoff }`) or a budget per failure type (AWS `jobExecutionsRetryConfig`,
/// `[{ on = "failed", attempts = 4 }, { on = "timed_out", attempts = 2 }]`).
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum RawRetry {
    /// One budget for every failure type: the same as `[{ on = "all", … }]`.
    All(RawRetryAll),
    /// A budget per failure type, each type at most once.
    ByType(Vec<RawRetryRule>),
}

impl<'de> Deserialize<'de> for RawRetry {
    /// By shape: a table is the one budget, an array the per-type list (serde's untagged
    /// enums would lose the inner error, e.g. an unknown key's name and position).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawRetry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table `{ attempts, backoff }` or an array of `{ on, attempts, backoff }` tables")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawRetry, A::Error> {
                RawRetryAll::deserialize(MapAccessDeserializer::new(map)).map(RawRetry::All)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<RawRetry, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(RawRetry::ByType)
            }
        }
        d.deserialize_any(V)
    }
}

/// `policy.retry` as a table: tries per device for every failure type together.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetryAll {
    /// Total tries per device, the first included (1 to 100).
    #[schemars(with = "u32", range(min = 1, max = 100))]
    #[schemars(extend("x-unit" = "tries", "examples" = [3]))]
    pub attempts: Spanned<u32>,
    /// Wait before each retry.
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("default" = "0s", "examples" = ["30m"]))]
    pub backoff: Option<Dur>,
}

/// One entry of `policy.retry` as an array: the budget of one failure type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetryRule {
    /// The failure type it retries (AWS `failureType`): `"failed"`, `"timed_out"` or `"all"`
    /// (alone). `rejected` executions are never retried.
    #[schemars(with = "RetryOn", extend("examples" = ["timed_out"]))]
    pub on: Spanned<RetryOn>,
    /// Tries that may end this way, the first included: `attempts = 4` retries a device after
    /// its first three results of this type (AWS `numberOfRetries` + 1). Together at most 10
    /// retries per device.
    #[schemars(with = "u32", range(min = 1, max = 11))]
    #[schemars(extend("x-unit" = "tries", "examples" = [4]))]
    pub attempts: Spanned<u32>,
    /// Wait before each retry of this type.
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("default" = "0s", "examples" = ["1h"]))]
    pub backoff: Option<Dur>,
}

/// The failure type a `policy.retry` entry is for (AWS `RetryCriteria.failureType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    /// Download, verify, install or boot failures the device reports (AWS `FAILED`).
    Failed,
    /// In-progress time-outs (AWS `TIMED_OUT`).
    TimedOut,
    /// Both, from one budget (AWS `ALL`).
    All,
}

impl RetryOn {
    /// The value as the file spells it.
    pub fn name(self) -> &'static str {
        match self {
            RetryOn::Failed => "failed",
            RetryOn::TimedOut => "timed_out",
            RetryOn::All => "all",
        }
    }
}

/// Whether devices on a metered link may download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Metered {
    /// Any time.
    #[default]
    Allow,
    /// Only in the `off_peak` window (local time).
    OffPeak,
    /// Never (they are stranded, `metered`).
    Deny,
}

/// `policy.preflight`: checks a device makes before it downloads; a device that fails one waits
/// and tries again at its next check-in.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPreflight {
    /// Lowest battery level to start (battery devices).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction of a full battery", "default" = 0.0, "examples" = [0.3]))]
    pub min_battery: Option<Spanned<f64>>,
    /// Least free storage beyond the download itself.
    #[serde(default)]
    #[schemars(extend("x-unit" = "MB", "default" = 0.0, "examples" = [100]))]
    pub min_storage_mb: Option<f64>,
    /// Least session bandwidth.
    #[serde(default)]
    #[schemars(extend("x-unit" = "kbit/s", "default" = 0.0, "examples" = [256]))]
    pub min_bandwidth_kbps: Option<f64>,
    /// `"allow"`, `"off-peak"` or `"deny"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["off-peak"]))]
    pub metered: Metered,
    /// The off-peak window for `metered = "off-peak"`, local time (default 00:00–06:00).
    #[serde(default)]
    #[schemars(extend("examples" = [{ "from": "00:00", "to": "06:00" }]))]
    pub off_peak: Option<RawWindow>,
}

/// A daily window in each device's local time; `to` before `from` wraps past midnight.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    /// Opens at, "HH:MM" local time.
    #[schemars(with = "String", extend("x-unit" = "HH:MM local time", "examples" = ["01:00"]))]
    pub from: Spanned<String>,
    /// Closes at, "HH:MM" local time ("24:00" for midnight).
    #[schemars(with = "String", extend("x-unit" = "HH:MM local time", "examples" = ["05:00"]))]
    pub to: Spanned<String>,
}

/// A `policy.maintenance` window: `from`–`to` every day (or on `days`), or `cron` with
/// `duration`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    /// Opens at, "HH:MM" (with `to`; not with `cron`).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("x-unit" = "HH:MM", "examples" = ["01:00"]))]
    pub from: Option<Spanned<String>>,
    /// Closes at, "HH:MM" ("24:00" for midnight); a window that closes before it opens ends
    /// the next day.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("x-unit" = "HH:MM", "examples" = ["05:00"]))]
    pub to: Option<Spanned<String>>,
    /// The days of the week it opens on (`mon` … `sun`; default every day); a window past
    /// midnight belongs to the day it opens.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>", extend("examples" = [["sat", "sun"]]))]
    pub days: Option<Spanned<Vec<String>>>,
    /// A five-field cron schedule (minute hour day-of-month month day-of-week) of its
    /// openings, instead of `from`/`to` (AWS maintenance windows' `startTime`).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("examples" = ["0 2 * * SAT"]))]
    pub cron: Option<Spanned<String>>,
    /// How long a `cron` window stays open (more than 0, at most 7 days).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["4h"]))]
    pub duration: Option<Spanned<Dur>>,
    /// Whose clock: `"device"` (its `utc_offset` and any clock skew) or `"utc"`.
    #[serde(default)]
    #[schemars(extend("default" = "device", "examples" = ["utc"]))]
    pub zone: WindowZone,
    /// What it holds back: `"install"` (the device downloads, then waits to install) or
    /// `"notify"` (devices are notified only inside it, as AWS job maintenance windows do).
    #[serde(default)]
    #[schemars(extend("default" = "install", "examples" = ["notify"]))]
    pub applies_to: WindowAppliesTo,
}

/// `policy.disruption_budget`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    /// The keys whose values make a group: `model`, `region`, `population` or tag keys
    /// (`site`, `customer` …); devices without a tag share the group of its empty value.
    #[schemars(with = "Vec<String>", extend("examples" = [["site"]]))]
    pub group_by: Spanned<Vec<String>>,
    /// Most devices of a group at once: a whole number ≥ 1, or a share `"10%"` of the group's
    /// devices (rounded up, at least 1).
    #[schemars(with = "sch::CountOrPercent", extend("examples" = [2, "10%"]))]
    pub max_unavailable: SValue,
}

/// Whose clock a maintenance window runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WindowZone {
    /// The device's local time.
    #[default]
    Device,
    /// UTC, the backend's clock.
    Utc,
}

/// What a maintenance window holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WindowAppliesTo {
    /// Installs.
    #[default]
    Install,
    /// Notifications.
    Notify,
}

/// What the operator does with a paused rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnPause {
    /// Rolls back to `rollback_to`.
    Rollback,
    /// Resumes the rollout.
    Resume,
    /// Leaves it paused.
    #[default]
    Hold,
}

/// `policy.operator`: the human in the loop.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOperator {
    /// Delay before the operator acts on a pause or approves a stage (a duration
    /// distribution).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("default" = "0s", "examples" = [{ "dist": "lognormal", "median": "1h", "p95": "8h" }]))]
    pub response: Option<SValue>,
    /// `"rollback"`, `"resume"` or `"hold"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["rollback"]))]
    pub on_pause: OnPause,
}

/// What a gate does when its `min_devices` reports have not arrived by `max_wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnInsufficient {
    /// The gate fails (its `on_fail` acts).
    #[default]
    Fail,
    /// The gate passes.
    Pass,
    /// It keeps waiting.
    Extend,
}

/// Who opens a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    /// It opens as soon as the previous stage's gate passes.
    #[default]
    Auto,
    /// It waits for the operator (`policy.operator.response`) after the previous gate passes.
    Operator,
}

/// `[[policy.stage]]`: one cohort of the rollout.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// The stage's name (in reports, halt reasons and `--set 'policy.stage[NAME].…'`).
    #[schemars(extend("examples" = ["canary"]))]
    pub name: String,
    /// Which devices the stage draws from (default: every device).
    #[serde(default)]
    #[schemars(with = "Option<sch::Selector>", extend("examples" = [{ "channel": "external" }]))]
    pub select: Option<Spanned<toml::Table>>,
    /// Cumulative share of the devices `select` matches (0 < percent ≤ 100; 1 → 5 → 25 → 100
    /// tops the cohort up to each share); exactly one of `percent` or `count`.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(max = 100))]
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(extend("x-unit" = "percent", "examples" = [2]))]
    pub percent: Option<Spanned<f64>>,
    /// Cumulative number of the devices `select` matches; exactly one of `percent` or `count`.
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    #[schemars(extend("x-unit" = "devices", "examples" = [200]))]
    pub count: Option<Spanned<u64>>,
    /// Soak time after the stage's devices have reported, before its gate is judged.
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("default" = "0s", "examples" = ["24h"]))]
    pub bake: Option<Dur>,
    /// When the stage opens, since the rollout's start (Mender's phase `start_ts`): then, and
    /// not before, whether or not the stage before it has passed its gate (default: when the
    /// stage before it passes).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["2d"]))]
    pub open_at: Option<Dur>,
    /// Longest the gate waits for `min_devices` reports; then `on_insufficient` (default: no
    /// limit).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["3d"]))]
    pub max_wait: Option<Dur>,
    /// `"fail"`, `"pass"` or `"extend"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["pass"]))]
    pub on_insufficient: OnInsufficient,
    /// `"auto"` or `"operator"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["operator"]))]
    pub approval: Approval,
    /// The checks that must all pass to go on (hawkBit success/error conditions, Argo analysis);
    /// without a gate the stage passes after `bake`.
    #[serde(default)]
    #[schemars(extend("examples" = [{ "min_devices": 200, "test": "wilson", "confidence": 0.9, "on_fail": "rollback" }]))]
    pub gate: Option<RawGate>,
    /// Makes the stage a hawkBit rollout group (a group of a rollout's `groups` list): the
    /// share of its whole cohort that must have succeeded before the next stage starts (0 to
    /// 1, default 1 once the stage is a group). A group is judged by its own conditions, so it
    /// takes no `gate`, `bake` or `max_wait` (`approval` still holds it until the operator
    /// opens it, as hawkBit's `successAction = PAUSE` on the group before).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction", "examples" = [0.9]))]
    pub success_threshold: Option<Spanned<f64>>,
    /// A hawkBit group's error condition: the share of its whole cohort with a failed result
    /// past which it fails, with no minimum sample (0 to 1; default: none).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction", "examples" = [0.3]))]
    pub error_threshold: Option<Spanned<f64>>,
    /// What the group does when its error condition is met: `"pause"` (default), `"rollback"`
    /// or `"abort"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["pause"]))]
    pub error_action: Option<Action>,
}

/// How a gate compares an observed rate with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TestKind {
    /// The raw ratio against the threshold.
    #[default]
    Point,
    /// Fails only when a `confidence` bound (Wilson; for ratios vs control an exact test)
    /// proves the rate is past the threshold.
    Wilson,
}

/// What a failed gate or a fired abort rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Stops new starts (in-flight devices finish) and hands over to `policy.operator`.
    #[default]
    Pause,
    /// Stops new starts, cancels pending ones and pushes `rollback_to` to every device on the
    /// target.
    Rollback,
    /// Stops without rollback.
    Abort,
}

/// `[policy.stage.gate]`: judged after the stage's bake.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    /// Reports the gate needs before it is judged.
    #[serde(default)]
    #[schemars(extend("x-unit" = "devices", "default" = 1, "examples" = [200]))]
    pub min_devices: Option<u64>,
    /// `"point"` or `"wilson"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["wilson"]))]
    pub test: TestKind,
    /// The confidence of a `wilson` test's bound, in (0, 1).
    #[serde(default)]
    #[schemars(with = "Option<f64>", extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    #[schemars(extend("x-unit" = "probability", "default" = 0.95, "examples" = [0.9]))]
    pub confidence: Option<Spanned<f64>>,
    /// `"pause"`, `"rollback"` or `"abort"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["rollback"]))]
    pub on_fail: Action,
    /// The checks; all must pass.
    #[serde(default)]
    #[schemars(extend("examples" = [[{ "metric": "update_failure_rate", "max": 0.02 }]]))]
    pub check: Vec<RawCheck>,
    /// What the result metrics (`update_failure_rate`, `update_success_rate`,
    /// `timeout_rate`, `revert_rate`, `rejected_rate`, `any_failure_rate`) are divided by:
    /// `"reported"` (default: the devices with a result, or started for `timeout_rate`) or
    /// `"cohort"` (every device of the stage, as hawkBit judges a group).
    #[serde(default)]
    #[schemars(extend("examples" = ["cohort"]))]
    pub denominator: Denominator,
    /// An analysis run (Argo Rollouts `AnalysisTemplate`): the gate is measured again every
    /// `interval` after the first measurement at `bake` (default: judged once).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["1h"]))]
    pub interval: Option<Spanned<Dur>>,
    /// Measurements an analysis run takes in all (Argo `count`; at least 1; more than 1 needs
    /// `interval`). Without it the run measures until a limit decides it.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    #[schemars(extend("x-unit" = "measurements", "examples" = [6]))]
    pub count: Option<Spanned<u32>>,
    /// Failed measurements an analysis run tolerates: one more fails the gate (Argo
    /// `failureLimit`; default 0).
    #[serde(default)]
    #[schemars(extend("x-unit" = "measurements", "default" = 0, "examples" = [1]))]
    pub failure_limit: Option<u32>,
    /// Consecutive passed measurements that pass an analysis run early (Argo
    /// `consecutiveSuccessLimit`; at least 1; default: none). With it, a run that reaches
    /// `count` without them is inconclusive.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    #[schemars(extend("x-unit" = "measurements", "examples" = [3]))]
    pub consecutive_success_limit: Option<Spanned<u32>>,
    /// Inconclusive measurements an analysis run tolerates: one more makes it inconclusive
    /// (Argo `inconclusiveLimit`; default 0).
    #[serde(default)]
    #[schemars(extend("x-unit" = "measurements", "default" = 0, "examples" = [2]))]
    pub inconclusive_limit: Option<u32>,
    /// What an inconclusive analysis run does: `"pause"` (default; Argo pauses the rollout for
    /// a human), `"pass"` or `"extend"` (a new run starts one `interval` later; without one,
    /// one `bake`, at least an hour, later).
    #[serde(default)]
    #[schemars(extend("examples" = ["extend"]))]
    pub on_inconclusive: Option<OnInconclusive>,
}

/// `[policy.groups]`: hawkBit's rollout groups (`amountGroups`, `successCondition`,
/// `errorCondition`, `errorAction`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGroups {
    /// Groups: stages `group-1` … `group-N`, each an equal share of the matching devices
    /// (1 to 250).
    #[schemars(with = "u32", range(min = 1, max = 250))]
    #[schemars(extend("x-unit" = "groups", "examples" = [5]))]
    pub count: Spanned<u32>,
    /// The devices the groups divide (default: every device).
    #[serde(default)]
    #[schemars(with = "Option<sch::Selector>", extend("examples" = [{ "region": "eu" }]))]
    pub select: Option<Spanned<toml::Table>>,
    /// The share of a group's whole cohort that must have succeeded before the next group
    /// starts (hawkBit `successCondition` THRESHOLD; 0 to 1, default 1).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction", "default" = 1.0, "examples" = [0.5]))]
    pub success_threshold: Option<Spanned<f64>>,
    /// The share of a group's whole cohort with a failed result past which the group fails,
    /// with no minimum sample (hawkBit `errorCondition` THRESHOLD; 0 to 1; default: none).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction", "examples" = [0.2]))]
    pub error_threshold: Option<Spanned<f64>>,
    /// What a failed group does: `"pause"` (default; hawkBit's `errorAction`), `"rollback"` or
    /// `"abort"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["pause"]))]
    pub error_action: Option<Action>,
}

/// The base of a gate's result metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Denominator {
    /// The devices the metric's own definition counts: those with a result (started, for
    /// `timeout_rate`; executed, for `rejected_rate` and `any_failure_rate`).
    #[default]
    Reported,
    /// Every device of the stage's cohort, heard from or not (hawkBit).
    Cohort,
}

/// What an inconclusive analysis run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnInconclusive {
    /// The rollout pauses for the operator (Argo).
    #[default]
    Pause,
    /// The gate passes.
    Pass,
    /// A new analysis run starts one `interval` (without one: one `bake`, at least an hour) later.
    Extend,
}

/// `[[policy.shadow_gate]]`: a gate that watches a stage and never acts (a dry run).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawShadowGate {
    /// The shadow gate's name (in the outputs).
    #[schemars(extend("examples" = ["tickets-dry-run"]))]
    pub name: String,
    /// The name of the stage it watches.
    #[schemars(with = "String", extend("examples" = ["canary"]))]
    pub stage: Spanned<String>,
    /// Reports it needs before it is judged.
    #[serde(default)]
    #[schemars(extend("x-unit" = "devices", "default" = 1, "examples" = [100]))]
    pub min_devices: Option<u64>,
    /// `"point"` or `"wilson"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["wilson"]))]
    pub test: TestKind,
    /// The confidence of a `wilson` test's bound, in (0, 1).
    #[serde(default)]
    #[schemars(with = "Option<f64>", extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    #[schemars(extend("x-unit" = "probability", "default" = 0.95, "examples" = [0.9]))]
    pub confidence: Option<Spanned<f64>>,
    /// What the gate would have done; recorded, never done.
    #[serde(default)]
    #[schemars(extend("examples" = ["rollback"]))]
    pub on_fail: Action,
    /// The checks; all must pass.
    #[serde(default)]
    #[schemars(extend("examples" = [[{ "metric": "support_tickets", "max": 5 }]]))]
    pub check: Vec<RawCheck>,
    /// The base of its result metrics, as a stage gate's `denominator`.
    #[serde(default)]
    #[schemars(extend("examples" = ["cohort"]))]
    pub denominator: Denominator,
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
            denominator: self.denominator,
            interval: None,
            count: None,
            failure_limit: None,
            consecutive_success_limit: None,
            inconclusive_limit: None,
            on_inconclusive: None,
        }
    }
}

/// The observed metrics a gate or an abort rule can read, as the backend sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObservedMetric {
    /// Fraction 0..1: devices whose latest reported result is a success, over devices with a
    /// reported result in the cohort.
    UpdateSuccessRate,
    /// Fraction 0..1: devices whose latest reported result is a failed attempt (failed, timed
    /// out or image rejected; until a later attempt succeeds), over devices with a reported
    /// result.
    UpdateFailureRate,
    /// Fraction 0..1: devices past `policy.timeout`, over devices started.
    TimeoutRate,
    /// Fraction 0..1: A/B self-reverts reported, over results.
    RevertRate,
    /// Fraction 0..1: devices whose latest outcome is `rejected` (the job refused before the
    /// start: incompatible API, blocked migration, storage; or the image's signature
    /// rejected), over executed devices (a reported result or a rejection).
    RejectedRate,
    /// Fraction 0..1: devices whose latest outcome is failed, rejected or timed out (AWS
    /// `ALL`), over executed devices.
    AnyFailureRate,
    /// Fraction 0..1: devices that started the update and have not been heard from for the
    /// check's `silent_after`, over devices started (a bricked device goes silent).
    SilentRate,
    /// Crashes per device-day reported by updated devices.
    CrashRate,
    /// Fraction 0..1: updated devices with a missing health metric.
    TelemetryGapRate,
    /// Fraction 0..1: failed remote commands over commands sent.
    CommandFailureRate,
    /// A count: support tickets opened (`[support]`).
    SupportTickets,
}

impl ObservedMetric {
    pub fn name(self) -> &'static str {
        match self {
            ObservedMetric::UpdateSuccessRate => "update_success_rate",
            ObservedMetric::UpdateFailureRate => "update_failure_rate",
            ObservedMetric::TimeoutRate => "timeout_rate",
            ObservedMetric::RevertRate => "revert_rate",
            ObservedMetric::RejectedRate => "rejected_rate",
            ObservedMetric::AnyFailureRate => "any_failure_rate",
            ObservedMetric::SilentRate => "silent_rate",
            ObservedMetric::CrashRate => "crash_rate",
            ObservedMetric::TelemetryGapRate => "telemetry_gap_rate",
            ObservedMetric::CommandFailureRate => "command_failure_rate",
            ObservedMetric::SupportTickets => "support_tickets",
        }
    }
}

/// `[[policy.stage.gate.check]]`: one condition on an observed metric; exactly one of `max`,
/// `min` or `max_ratio_vs_control`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// The observed metric the check reads.
    #[schemars(with = "ObservedMetric", extend("examples" = ["silent_rate"]))]
    pub metric: Spanned<ObservedMetric>,
    /// Fails above this value: a fraction 0..1 for rates, crashes per device-day for
    /// `crash_rate`, a count for `support_tickets`.
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    #[schemars(extend("x-unit" = "the metric's unit", "examples" = [0.01]))]
    pub max: Option<Spanned<f64>>,
    /// Fails below this value (same units as `max`).
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    #[schemars(extend("x-unit" = "the metric's unit", "examples" = [0.95]))]
    pub min: Option<Spanned<f64>>,
    /// Fails when the cohort's value is more than this many times that of the devices of the
    /// same populations still on the old version (canary analysis, as Kayenta; more than 0).
    /// Only for `silent_rate`, `crash_rate`, `telemetry_gap_rate`, `command_failure_rate`.
    #[serde(default)]
    #[schemars(with = "Option<f64>", extend("exclusiveMinimum" = 0))]
    #[schemars(extend("x-unit" = "ratio", "examples" = [1.5]))]
    pub max_ratio_vs_control: Option<Spanned<f64>>,
    /// For `silent_rate`: how long without a report makes a started device silent.
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("default" = "6h", "examples" = ["12h"]))]
    pub silent_after: Option<Dur>,
}

impl RawCheck {
    fn clone_raw(&self) -> RawCheck {
        self.clone()
    }
}

/// `[[policy.abort]]`: a continuous guardrail over the whole rollout (AWS IoT Jobs
/// `abortConfig`, Azure Device Update `rollbackPolicy`), judged after every result; rules are
/// checked in order and the first that fires acts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAbort {
    /// The observed metric: `update_failure_rate`, `update_success_rate`, `timeout_rate`,
    /// `revert_rate`, `rejected_rate` or `any_failure_rate`.
    #[schemars(with = "ObservedMetric", extend("examples" = ["update_failure_rate"]))]
    pub metric: Spanned<ObservedMetric>,
    /// Fires when the rate passes it (below it for `update_success_rate`); give `threshold` or
    /// `max_count`, not both (Azure `devicesFailedPercentage`).
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction 0..1", "examples" = [0.05]))]
    pub threshold: Option<Spanned<f64>>,
    /// Fires when the count of matching results (the metric's numerator: failures, rejections,
    /// time-outs, reverts) reaches it (Azure `devicesFailedCount`); at least 1. Not for
    /// `update_success_rate`.
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(min = 1))]
    #[schemars(extend("x-unit" = "devices", "examples" = [5]))]
    pub max_count: Option<Spanned<i64>>,
    /// Devices needed (counted as `per` says) before the rule is evaluated; at least 1 (AWS
    /// `minNumberOfExecutedThings`).
    #[serde(default)]
    #[schemars(range(min = 1))]
    #[schemars(extend("x-unit" = "devices", "default" = 1, "examples" = [100]))]
    pub min_executed: Option<u64>,
    /// The denominator of the rate and of `min_executed`: `"executed"` (devices with a
    /// terminal result; the metric's own denominator) or `"notified"` (devices notified).
    #[serde(default)]
    #[schemars(extend("examples" = ["notified"]))]
    pub per: AbortPer,
    /// `"point"` (the rate against `threshold`), `"wilson"` (a one-sided Wilson bound at
    /// `confidence` past it) or `"sequential"` (an always-valid test: on a release whose true
    /// rate is at `threshold`, the chance that the rule ever fires over the whole rollout is
    /// at most 1 − `confidence`, however often it is judged). Only with `threshold`.
    #[serde(default)]
    #[schemars(extend("examples" = ["sequential"]))]
    pub test: AbortTest,
    /// The confidence of a `wilson` or `sequential` test, in (0, 1).
    #[serde(default)]
    #[schemars(with = "Option<f64>", extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    #[schemars(extend("x-unit" = "probability", "default" = 0.95, "examples" = [0.95]))]
    pub confidence: Option<Spanned<f64>>,
    /// `"pause"`, `"rollback"` or `"abort"`.
    #[serde(default)]
    #[schemars(extend("examples" = ["rollback"]))]
    pub action: Action,
}

/// The denominator of an abort rule's rate and of its `min_executed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AbortPer {
    /// Devices with a terminal result: the metric's own denominator (devices started for
    /// `timeout_rate`); `min_executed` counts devices with an outcome (a result or a refusal).
    #[default]
    Executed,
    /// Devices notified of the job (AWS `minNumberOfExecutedThings` read as "things that
    /// received job execution notifications").
    Notified,
}

/// How an abort rule judges its rate against `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AbortTest {
    /// The raw rate against the threshold, after every result.
    #[default]
    Point,
    /// Fires only when a one-sided Wilson bound at `confidence` proves the rate past the
    /// threshold (judged after every result, so its error rate over a rollout is above
    /// 1 − `confidence`).
    Wilson,
    /// An always-valid test (a beta-binomial mixture confidence sequence): its chance of ever
    /// firing on a release whose true rate is at the threshold is at most 1 − `confidence`.
    Sequential,
}

/// `[[fault]]`: a fault injected into every replication.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// The fault's kind.
    #[schemars(with = "sch::FaultKind", extend("examples" = ["network-outage"]))]
    pub kind: Spanned<String>,
    /// When it starts, since the scenario start (before the horizon).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("default" = "0s", "examples" = ["3d"]))]
    pub at: Option<Dur>,
    /// How long it lasts (required).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["6h"]))]
    pub duration: Option<Dur>,
    /// Which devices it hits (a selector; default: every device; not for `backend-api`).
    #[serde(default, rename = "where")]
    #[schemars(with = "Option<sch::Selector>", extend("examples" = [{ "region": "eu" }]))]
    pub where_: Option<Spanned<toml::Table>>,
    /// `backend-api` (required): the API version the backend runs during the fault.
    #[serde(default)]
    #[schemars(extend("x-unit" = "API version", "examples" = [6]))]
    pub api: Option<u32>,
    /// `power-outage` (required): the fraction of devices in scope that lose power.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "fraction 0..1", "examples" = [0.3]))]
    pub fraction: Option<f64>,
    /// `cdn-degradation`: the share of bandwidth left, in (0, 1].
    #[serde(default)]
    #[schemars(range(max = 1))]
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(extend("x-unit" = "fraction 0..1", "default" = 1.0, "examples" = [0.2]))]
    pub bandwidth_factor: Option<f64>,
    /// `cdn-degradation`: the probability that a download fails.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "probability 0..1", "default" = 0.0, "examples" = [0.1]))]
    pub error_rate: Option<f64>,
    /// `corrupt-artifact` and `telemetry-drop` (required): the probability that a download is
    /// corrupted / a report is lost.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    #[schemars(extend("x-unit" = "probability 0..1", "examples" = [0.05]))]
    pub probability: Option<f64>,
    /// `telemetry-delay` (required): how late reports arrive (a duration distribution).
    #[serde(default)]
    #[schemars(with = "Option<sch::DurationDist>")]
    #[schemars(extend("examples" = [{ "dist": "exponential", "mean": "2h" }]))]
    pub delay: Option<SValue>,
    /// `clock-skew` (required): how far device clocks are off (a signed duration distribution).
    #[serde(default)]
    #[schemars(with = "Option<sch::SignedDurationDist>")]
    #[schemars(extend("examples" = [{ "dist": "normal", "mean": "0s", "sd": "2h" }]))]
    pub skew: Option<SValue>,
}

/// `[chaos]`: the fault space of a `fleetsim chaos` campaign.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChaos {
    /// The fault kinds a schedule draws from (default: every kind).
    #[serde(default)]
    #[schemars(with = "Vec<sch::FaultKind>")]
    #[schemars(extend("examples" = [["network-outage", "power-outage"]]))]
    pub kinds: Vec<String>,
    /// Most faults in one schedule.
    #[serde(default)]
    #[schemars(extend("x-unit" = "faults", "default" = 3, "examples" = [4]))]
    pub max_faults: Option<u32>,
    /// Schedules to try.
    #[serde(default)]
    #[schemars(extend("x-unit" = "schedules", "default" = 50, "examples" = [200]))]
    pub campaigns: Option<u32>,
    /// The window fault start times are drawn from (default: 0 to 90 % of the rollout window).
    #[serde(default)]
    #[schemars(with = "Option<RawDurRange>")]
    #[schemars(extend("examples" = [{ "min": "1h", "max": "5d" }]))]
    pub at: Option<Spanned<RawDurRange>>,
    /// The range fault durations are drawn from.
    #[serde(default)]
    #[schemars(with = "Option<RawDurRange>")]
    #[schemars(extend("examples" = [{ "min": "10m", "max": "12h" }]))]
    pub duration: Option<Spanned<RawDurRange>>,
    /// The scopes a fault may take: `"fleet"` or a selector table each (default: the fleet
    /// and each population, region and model).
    #[serde(default)]
    #[schemars(with = "Option<Vec<sch::ChaosScope>>")]
    #[schemars(extend("examples" = [["fleet", { "region": "eu" }]]))]
    pub scopes: Option<Spanned<Vec<SValue>>>,
}

/// `{ min = "1h", max = "5d" }`: a range of durations; either end may be left out.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a range of durations such as { min = \"1h\", max = \"5d\" }"
)]
pub struct RawDurRange {
    /// The shortest (earliest).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["1h"]))]
    pub min: Option<Spanned<Dur>>,
    /// The longest (latest).
    #[serde(default)]
    #[schemars(with = "Option<sch::Duration>", extend("examples" = ["5d"]))]
    pub max: Option<Spanned<Dur>>,
}

/// `[[expect]]`: an assertion `fleetsim check` evaluates; `min`, `max` or both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// The outcome metric (see "Outcome metrics").
    #[schemars(with = "sch::OutcomeMetric", extend("examples" = ["harmed"]))]
    pub metric: Spanned<String>,
    /// The statistic across replications (`rate` for `halted` and `false_halt`).
    #[schemars(with = "sch::Stat", extend("examples" = ["p95"]))]
    pub stat: Spanned<String>,
    /// The statistic must be at least this.
    #[serde(default)]
    #[schemars(with = "Option<sch::ExpectBound>")]
    #[schemars(extend("x-unit" = "the metric's unit", "examples" = [0.95]))]
    pub min: Option<SValue>,
    /// The statistic must be at most this.
    #[serde(default)]
    #[schemars(with = "Option<sch::ExpectBound>")]
    #[schemars(extend("x-unit" = "the metric's unit", "examples" = [60]))]
    pub max: Option<SValue>,
    /// `"as-written"` (default) or `"healthy"`.
    #[serde(default)]
    #[schemars(with = "Option<sch::World>", extend("default" = "as-written", "examples" = ["healthy"]))]
    pub world: Option<Spanned<String>>,
}
