//! The scenario at a glance: the fleet's composition, the releases and the policy's stages,
//! gates and guardrails as plain text rows. It is written into `summary.json` so that the HTML
//! report (and `fleetsim report DIR`) can show what was simulated without the scenario file.

use crate::engine::time::human_secs;
use crate::scenario::model::{Bound, Fault, FaultKind, Gate, Retry, RetryBudget, Share};
use crate::scenario::raw::EndBehavior;
use crate::scenario::Scenario;

/// One `[[population]]` group.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PopulationRow {
    pub name: String,
    pub count: u64,
    pub model: String,
    pub region: String,
    pub utc_offset: String,
    /// The starting mix as written, largest share first: `2.3.0 90%, 2.1.0 10%`.
    pub firmware: String,
    pub ab_slots: bool,
    pub connectivity: String,
    pub power: String,
    /// Devices that join per day (`arrivals_per_day`).
    pub arrivals_per_day: f64,
}

/// One `[[release]]` and its ground-truth defects.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseRow {
    pub version: String,
    pub size_mb: f64,
    pub defects: Vec<String>,
}

/// One `[[policy.stage]]`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageRow {
    pub name: String,
    pub select: String,
    /// `2%` or `100 devices` (cumulative).
    pub share: String,
    /// Seconds.
    pub bake: f64,
    pub approval: String,
    /// `max_wait` in seconds (`None`: wait as long as the window allows).
    #[serde(default)]
    pub max_wait: Option<f64>,
    /// `on_insufficient` as written (`fail`, `pass`, `wait`, `extend`).
    #[serde(default)]
    pub on_insufficient: String,
    /// `wilson 90%, min 200, on fail rollback`, or empty without a gate.
    pub gate: String,
    pub checks: Vec<String>,
}

/// Everything the report shows about the scenario itself.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Glance {
    pub target: String,
    pub rollback_to: String,
    pub rate: String,
    /// Seconds since the scenario start.
    pub window_start: f64,
    pub window_end: f64,
    /// Every policy knob that is not a stage: (key path as written in the scenario, value in
    /// words), e.g. `("policy.timeout", "6h")`.
    #[serde(default)]
    pub knobs: Vec<(String, String)>,
    pub populations: Vec<PopulationRow>,
    pub releases: Vec<ReleaseRow>,
    pub stages: Vec<StageRow>,
    pub aborts: Vec<String>,
    pub shadow_gates: Vec<String>,
    pub faults: Vec<String>,
    /// What `validate` warns about the plan (`key path: message`).
    #[serde(default)]
    pub warnings: Vec<String>,
}

pub fn glance(sc: &Scenario) -> Glance {
    let p = &sc.policy;
    Glance {
        target: sc.version_label(p.target).to_string(),
        rollback_to: p
            .rollback_to
            .map_or("each device's previous version".into(), |v| {
                sc.version_label(v).to_string()
            }),
        rate: rate_text(sc),
        window_start: p.start.as_secs_f64(),
        window_end: p.window_end.min(sc.horizon).as_secs_f64(),
        knobs: knobs(sc),
        // A population with mixes is one row, its first variant holding the mixes.
        populations: (sc.populations.iter().enumerate())
            .filter(|(i, pop)| pop.head == *i)
            .map(|(_, pop)| population(sc, pop))
            .collect(),
        releases: sc
            .versions
            .iter()
            .filter(|r| r.defined)
            .map(release)
            .collect(),
        stages: p.stages.iter().map(stage).collect(),
        aborts: p.aborts.iter().map(abort_line).collect(),
        shadow_gates: p
            .shadow_gates
            .iter()
            .map(|g| {
                format!(
                    "{} watches {}: {}; {}",
                    g.name,
                    p.stages[g.stage].name,
                    gate_text(&g.gate),
                    checks_text(&g.gate).join(", ")
                )
            })
            .collect(),
        faults: sc
            .faults
            .iter()
            .map(fault_text)
            .chain(sc.backend.api_faults.iter().map(|(from, to, api)| {
                format!(
                    "backend-api from {} for {}: the backend runs API {api}",
                    human_secs(from.as_secs_f64()),
                    human_secs(to.as_secs_f64() - from.as_secs_f64())
                )
            }))
            .collect(),
        warnings: sc.warnings.clone(),
    }
}

fn release(r: &crate::scenario::model::Release) -> ReleaseRow {
    ReleaseRow {
        version: r.label.clone(),
        size_mb: r.size_mb,
        defects: r
            .defects
            .iter()
            .map(|d| {
                let scope = d.selector.to_string();
                let scope = if scope.is_empty() {
                    String::new()
                } else {
                    format!(" where {scope}")
                };
                format!(
                    "{} p={}{scope}{}",
                    kebab(&format!("{:?}", d.effect)),
                    d.probability,
                    defect_params(d)
                )
            })
            .collect(),
    }
}

fn stage(s: &crate::scenario::model::Stage) -> StageRow {
    StageRow {
        name: s.name.clone(),
        select: non_empty(s.select.to_string(), "all devices"),
        share: match s.share {
            Share::Percent(x) => format!("{x}%"),
            Share::Count(n) => format!("{n} devices"),
        },
        bake: s.bake_ms as f64 / 1000.0,
        approval: format!("{:?}", s.approval).to_lowercase(),
        max_wait: s.max_wait_ms.map(|ms| ms as f64 / 1000.0),
        on_insufficient: kebab(&format!("{:?}", s.on_insufficient)),
        gate: s.gate.as_ref().map_or(String::new(), gate_text),
        checks: s.gate.as_ref().map_or(Vec::new(), checks_text),
    }
}

fn non_empty(s: String, default: &str) -> String {
    if s.is_empty() {
        default.to_string()
    } else {
        s
    }
}

fn population(sc: &Scenario, pop: &crate::scenario::model::Population) -> PopulationRow {
    let offset = |off: i64| {
        format!(
            "{}{:02}:{:02}",
            if off < 0 { '-' } else { '+' },
            off.abs() / 3600,
            off.abs() / 60 % 60
        )
    };
    let mut row = PopulationRow {
        name: pop.name.clone(),
        count: pop.count,
        model: pop.model.clone(),
        region: pop.region.clone(),
        utc_offset: offset(pop.utc_offset_s),
        firmware: firmware_text(sc, &pop.firmware_mix),
        ab_slots: pop.ab_slots,
        connectivity: sc
            .connectivity
            .get(pop.connectivity)
            .map_or(String::new(), |c| c.name.clone()),
        power: sc
            .power
            .get(pop.power)
            .map_or(String::new(), |p| p.name.clone()),
        arrivals_per_day: pop.arrivals_per_day,
    };
    if let Some(m) = &pop.mixes {
        let conn = |i: usize| sc.connectivity.get(i).map_or("", |c| c.name.as_str());
        let power = |i: usize| sc.power.get(i).map_or("", |p| p.name.as_str());
        row.model = mix_text(m.model.iter().map(|x| (x.0.as_str(), x.1)));
        row.region = mix_text(m.region.iter().map(|x| (x.0 .0.as_str(), x.1)));
        if m.region.len() > 1 {
            let offsets = m
                .region
                .iter()
                .map(|((r, off), _)| format!("{r} {}", offset(*off)));
            row.utc_offset = offsets.collect::<Vec<_>>().join(", ");
        }
        row.connectivity = mix_text(m.connectivity.iter().map(|x| (conn(x.0), x.1)));
        row.power = mix_text(m.power.iter().map(|x| (power(x.0), x.1)));
    }
    row
}

/// A mix of names from cumulative shares, as [`firmware_text`] writes a firmware mix: largest
/// share first, one value alone without its share.
fn mix_text<'a>(cumulative: impl Iterator<Item = (&'a str, f64)>) -> String {
    let mut prev = 0.0;
    let mut shares: Vec<(&str, f64)> = cumulative
        .map(|(name, c)| {
            let share = c - prev;
            prev = c;
            (name, share)
        })
        .collect();
    if shares.len() == 1 {
        return shares[0].0.to_string();
    }
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    (shares.iter())
        .map(|(name, w)| format!("{name} {}%", round2(w * 100.0)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The mix as the user wrote it. `firmware_mix` holds *cumulative* weights (for the draw), so
/// each version's share is its weight less the one before; shown largest first.
fn firmware_text(sc: &Scenario, mix: &[(u8, f64)]) -> String {
    let mut prev = 0.0;
    let mut shares: Vec<(u8, f64)> = mix
        .iter()
        .map(|&(v, cumulative)| {
            let share = cumulative - prev;
            prev = cumulative;
            (v, share)
        })
        .filter(|(_, share)| *share > 0.0)
        .collect();
    if shares.len() == 1 {
        return sc.version_label(shares[0].0).to_string();
    }
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    shares
        .iter()
        .map(|(v, w)| format!("{} {}%", sc.version_label(*v), round2(w * 100.0)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The defect's parameters besides its effect and probability: when it strikes (`after`) and
/// how hard (`factor`, `availability`, `rate`), each only where its effect reads it.
fn defect_params(d: &crate::scenario::model::Defect) -> String {
    use crate::scenario::raw::Effect;
    let mut out = Vec::new();
    if let Some(after) = &d.after {
        out.push(format!("after {}", dist_text(after, true)));
    }
    match d.effect {
        Effect::CrashRate | Effect::BatteryDrain => out.push(format!("factor ×{}", d.factor)),
        Effect::CrashLoop => out.push(format!("availability {}%", round2(d.availability * 100.0))),
        Effect::CommandFailure => out.push(format!("rate {}%", round2(d.rate * 100.0))),
        _ => {}
    }
    if out.is_empty() {
        String::new()
    } else {
        format!(", {}", out.join(", "))
    }
}

/// A distribution in words, durations as `3d 4h`: `lognormal median 2d 0h, p95 5d 0h`.
pub fn dist_text(d: &crate::scenario::dist::Dist, duration: bool) -> String {
    use crate::scenario::dist::{Dist, Z95};
    let v = |x: f64| {
        if duration {
            human_secs(x)
        } else {
            format!("{}", round2(x))
        }
    };
    match d {
        Dist::Constant(x) => v(*x),
        Dist::Uniform { min, max } => format!("uniform {} – {}", v(*min), v(*max)),
        Dist::Normal { mean, sd, .. } => format!("normal mean {}, sd {}", v(*mean), v(*sd)),
        Dist::Exponential { mean } => format!("exponential mean {}", v(*mean)),
        Dist::LogNormal { mu, sigma } => format!(
            "lognormal median {}, p95 {}",
            v(mu.exp()),
            v((mu + Z95 * sigma).exp())
        ),
        Dist::Weibull { shape, scale } => {
            format!("weibull shape {}, scale {}", round2(*shape), v(*scale))
        }
        Dist::Beta { a, b } => format!("beta a {a}, b {b}"),
        Dist::Empirical { values, .. } => {
            format!("empirical ({} values, mean {})", values.len(), v(d.mean()))
        }
    }
}

/// `01:00–05:00`.
fn window_text(w: &crate::scenario::model::DailyWindow) -> String {
    let hm = |s: u32| format!("{:02}:{:02}", s / 3600, s / 60 % 60);
    format!("{}–{}", hm(w.from_s), hm(w.to_s))
}

/// The maintenance windows: as before for daily install windows on device time, else each
/// with what it holds back and whose clock it runs on.
fn maintenance_text(windows: &[crate::scenario::maintenance::Maintenance]) -> String {
    use crate::scenario::maintenance::{AppliesTo, Openings, Zone};
    let plain = windows.iter().all(|w| {
        matches!(w.openings, Openings::Daily(_))
            && w.zone == Zone::Device
            && w.applies_to == AppliesTo::Install
    });
    if plain {
        let daily: Vec<String> = (windows.iter())
            .filter_map(|w| match &w.openings {
                Openings::Daily(d) => Some(window_text(d)),
                Openings::Listed(_) => None,
            })
            .collect();
        return format!(
            "installs start only in {} (device local time)",
            daily.join(", ")
        );
    }
    let each: Vec<String> = (windows.iter())
        .map(|w| {
            let what = match w.applies_to {
                AppliesTo::Install => "installs",
                AppliesTo::Notify => "notifications",
            };
            let zone = match w.zone {
                Zone::Device => "device local time",
                Zone::Utc => "UTC",
            };
            format!("{} ({what}, {zone})", w.label)
        })
        .collect();
    format!("windows: {}", each.join("; "))
}

/// The device-side checks that are set, or that there are none.
/// `policy.retry` in words: one budget, or one per failure type.
fn retry_text(r: &Retry) -> String {
    let budget = |b: &RetryBudget, per: &str| {
        format!(
            "{} attempt{}{per}, {} apart",
            b.attempts,
            if b.attempts == 1 { "" } else { "s" },
            human_secs(b.backoff_ms as f64 / 1000.0)
        )
    };
    if r.shared {
        budget(&r.failed, " per device")
    } else {
        format!(
            "failed: {}; timed out: {}; rejected: never retried",
            budget(&r.failed, ""),
            budget(&r.timed_out, "")
        )
    }
}

/// `policy.end_behavior` in words.
fn end_behavior_text(e: EndBehavior) -> String {
    match e {
        EndBehavior::Stop => "stop: at the window's close no one more is notified; queued and in-progress devices go on",
        EndBehavior::Cancel => "cancel: at the window's close queued devices are cancelled; in-progress ones finish",
        EndBehavior::ForceCancel => "force-cancel: at the window's close queued and in-progress devices are cancelled; begun installs complete",
    }
    .into()
}

/// `policy.action_type` (and `force_after`) in words.
fn action_type_text(sc: &Scenario) -> String {
    use crate::scenario::raw::ActionType;
    let p = &sc.policy;
    let asks = sc.populations.iter().any(|pop| pop.consent.is_some());
    let soft = if asks {
        "installs wait for the owner's consent where a population asks for it"
    } else {
        "no population asks for consent: devices install as if forced"
    };
    match p.action_type {
        ActionType::Forced => "forced: devices install without asking their owner".into(),
        ActionType::Soft => format!("soft: {soft}"),
        ActionType::Timeforced => format!(
            "timeforced: {soft}, until {} (then forced)",
            p.force_at
                .map_or("never".into(), |t| human_secs(t.as_secs_f64()))
        ),
        ActionType::DownloadOnly => {
            "download-only: devices download, verify and report success without installing".into()
        }
    }
}

fn preflight_text(f: &crate::scenario::model::Preflight) -> String {
    use crate::scenario::raw::Metered;
    let mut checks = Vec::new();
    if f.min_battery > 0.0 {
        checks.push(format!("battery ≥ {}%", round2(f.min_battery * 100.0)));
    }
    if f.min_storage_mb > 0.0 {
        checks.push(format!("free storage ≥ {} MB", f.min_storage_mb));
    }
    if f.min_bandwidth_kbps > 0.0 {
        checks.push(format!("bandwidth ≥ {} kbps", f.min_bandwidth_kbps));
    }
    match f.metered {
        Metered::Allow => {}
        Metered::OffPeak => checks.push(format!(
            "metered links only off-peak ({} local time)",
            window_text(&f.off_peak)
        )),
        Metered::Deny => checks.push("never over a metered link".into()),
    }
    if checks.is_empty() {
        "no checks: a notified device downloads at once".into()
    } else {
        checks.join(", ")
    }
}

/// Every policy knob that is not a stage, keyed by its path in the scenario file.
fn knobs(sc: &Scenario) -> Vec<(String, String)> {
    let p = &sc.policy;
    let lower = |x: String| kebab(&x);
    let mut out: Vec<(&str, String)> = vec![
        ("policy.rate", rate_text(sc)),
        ("policy.selection", lower(format!("{:?}", p.selection))),
        (
            "policy.max_in_flight",
            if p.max_in_flight == u64::MAX {
                "no limit".into()
            } else {
                p.max_in_flight.to_string()
            },
        ),
        (
            "policy.timeout",
            p.timeout_ms.map_or(
                "none (a device may take as long as it needs)".into(),
                |ms| human_secs(ms as f64 / 1000.0),
            ),
        ),
        ("policy.retry", retry_text(&p.retry)),
        ("policy.end_behavior", end_behavior_text(p.end_behavior)),
        ("policy.action_type", action_type_text(sc)),
    ];
    out.push(("policy.preflight", preflight_text(&p.preflight)));
    out.push((
        "policy.maintenance",
        if p.maintenance.is_empty() {
            "none: installs may start at any hour".into()
        } else {
            maintenance_text(&p.maintenance)
        },
    ));
    out.push((
        "policy.start, policy.window",
        format!(
            "opens at {}, closes at {}",
            human_secs(p.start.as_secs_f64()),
            human_secs(p.window_end.min(sc.horizon).as_secs_f64())
        ),
    ));
    out.push((
        "policy.skip_migrations",
        lower(format!("{:?}", p.skip_migrations)),
    ));
    out.push((
        "policy.operator",
        format!(
            "responds after {}; on a pause: {}",
            dist_text(&p.operator.response, true),
            lower(format!("{:?}", p.operator.on_pause))
        ),
    ));
    let mut out: Vec<(String, String)> =
        (out.into_iter()).map(|(k, v)| (k.to_string(), v)).collect();
    out.extend(support_knobs(sc));
    out
}

/// The quarantine and the support keys of SPEC §1.8, each only when the scenario sets it (so
/// the glance of a scenario without them stays as it was).
fn support_knobs(sc: &Scenario) -> Vec<(String, String)> {
    let s = &sc.support;
    let mut out = Vec::new();
    if let Some(n) = sc.policy.quarantine_after {
        out.push((
            "policy.quarantine".into(),
            format!("after {n} failed attempts a device is no longer retried and goes to support"),
        ));
    }
    if s.background_per_device_day > 0.0 {
        out.push((
            "support.background_per_device_day".into(),
            format!(
                "{} tickets per device-day from every device",
                s.background_per_device_day
            ),
        ));
    }
    if let Some(q) = &s.queue {
        out.push((
            "support.capacity_per_day, support.resolve_time".into(),
            format!(
                "the team picks up {} items a day, first come first served; each takes {}",
                q.capacity_per_day,
                dist_text(&q.resolve_time, true)
            ),
        ));
    }
    if let Some(f) = &s.field_visit {
        out.push((
            "support.field_visit".into(),
            format!(
                "a bricked device runs again {} later, at {} a visit",
                dist_text(&f.delay, true),
                f.cost
            ),
        ));
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn rate_text(sc: &Scenario) -> String {
    let r = &sc.policy.rate;
    if !r.per_minute.is_finite() {
        return "unlimited".into();
    }
    let mut s = format!("{} per minute", r.per_minute);
    let every: Vec<String> = (r.ramp.iter())
        .map(|(crit, every)| format!("{every} {}", format!("{crit:?}").to_lowercase()))
        .collect();
    if !every.is_empty() {
        s.push_str(&format!(
            ", ×{} every {}",
            r.factor,
            every.join(" or every ")
        ));
    }
    if r.max_per_minute.is_finite() {
        s.push_str(&format!(", at most {} per minute", r.max_per_minute));
    }
    s
}

fn gate_text(g: &Gate) -> String {
    let test = format!("{:?}", g.test).to_lowercase();
    let test = if test == "wilson" {
        format!("wilson {}%", round2(g.confidence * 100.0))
    } else {
        test
    };
    format!(
        "{test}, min {} devices, on fail {}",
        g.min_devices,
        crate::policy::rollout::action_name(g.on_fail)
    )
}

fn checks_text(g: &Gate) -> Vec<String> {
    g.checks
        .iter()
        .map(|c| {
            let bound = match c.bound {
                Bound::Max(x) => format!("≤ {x}"),
                Bound::Min(x) => format!("≥ {x}"),
                Bound::MaxRatioVsControl(x) => format!("≤ {x}× control"),
            };
            let silent = if c.metric.name() == "silent_rate" {
                format!(
                    " (silent after {})",
                    human_secs(c.silent_after_ms as f64 / 1000.0)
                )
            } else {
                String::new()
            };
            format!("{} {bound}{silent}", c.metric.name())
        })
        .collect()
}

fn fault_text(f: &Fault) -> String {
    let kind = f.kind.name();
    let params = match &f.kind {
        FaultKind::PowerOutage { fraction } => format!("fraction {fraction}"),
        FaultKind::CdnDegradation {
            bandwidth_factor,
            error_rate,
        } => format!("bandwidth ×{bandwidth_factor}, error rate {error_rate}"),
        FaultKind::CorruptArtifact { probability } | FaultKind::TelemetryDrop { probability } => {
            format!("probability {probability}")
        }
        FaultKind::NetworkOutage
        | FaultKind::TamperedArtifact
        | FaultKind::TelemetryDelay { .. }
        | FaultKind::ClockSkew { .. } => String::new(),
    };
    let scope = non_empty(f.selector.to_string(), "whole fleet");
    format!(
        "{kind} from {} for {} on {scope}{}",
        human_secs(f.from.as_secs_f64()),
        human_secs(f.to.as_secs_f64() - f.from.as_secs_f64()),
        if params.is_empty() {
            String::new()
        } else {
            format!(" ({params})")
        }
    )
}

/// `BootFailure` → `boot-failure`: the scenario file's spelling of an enum variant.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An abort rule in one line: `update_failure_rate threshold 0.05 after 100 results → pause`,
/// with its test, `per` and `max_count` when they are not the defaults.
fn abort_line(a: &crate::scenario::model::AbortRule) -> String {
    use crate::scenario::model::AbortLimit;
    use crate::scenario::raw::{AbortPer, AbortTest};
    let limit = match a.limit {
        AbortLimit::Rate(t) if a.test == AbortTest::Point => format!("threshold {t}"),
        AbortLimit::Rate(t) => format!(
            "threshold {t} ({} test, confidence {})",
            crate::policy::abort::test_name(a.test),
            a.confidence
        ),
        AbortLimit::Count(n) => format!("max_count {n}"),
    };
    let per = match a.per {
        AbortPer::Executed => "results",
        AbortPer::Notified => "notified",
    };
    format!(
        "{} {limit} after {} {per} → {}",
        a.metric.name(),
        a.min_executed,
        crate::policy::rollout::action_name(a.action)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        crate::scenario::load_file(&path, &[]).unwrap()
    }

    /// Regression: the mix was shown from its cumulative weights (`{ "4.1.0" = 0.9, "4.0.2" =
    /// 0.1 }` read "4.0.2 10%, 4.1.0 100%").
    #[test]
    fn firmware_mix_is_shown_as_written_not_cumulative() {
        let g = glance(&fixture("scale-1m.toml"));
        assert_eq!(g.populations[0].firmware, "4.1.0 90%, 4.0.2 10%");
        let g = glance(&fixture("migration-chain.toml"));
        let mixed = g
            .populations
            .iter()
            .find(|p| p.firmware.contains(','))
            .unwrap();
        assert_eq!(mixed.firmware, "2.9.1 60%, 2.7.0 30%, 2.2.0 10%");
    }

    #[test]
    fn every_policy_knob_and_defect_parameter_is_shown() {
        let g = glance(&fixture("bad-release.toml"));
        let keys: Vec<&str> = g.knobs.iter().map(|(k, _)| k.as_str()).collect();
        for k in [
            "policy.rate",
            "policy.timeout",
            "policy.retry",
            "policy.preflight",
            "policy.maintenance",
            "policy.operator",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
        let value = |k: &str| &g.knobs.iter().find(|(key, _)| key == k).unwrap().1;
        assert_eq!(value("policy.timeout"), "6h 0m");
        assert!(
            value("policy.preflight").contains("battery ≥ 30%"),
            "{}",
            value("policy.preflight")
        );
        let defects = g
            .releases
            .iter()
            .flat_map(|r| &r.defects)
            .cloned()
            .collect::<Vec<_>>();
        let crash = defects
            .iter()
            .find(|d| d.starts_with("crash-rate"))
            .unwrap();
        assert!(
            crash.contains("factor ×3") && crash.contains("after exponential mean 2d 0h"),
            "{crash}"
        );
    }
}
