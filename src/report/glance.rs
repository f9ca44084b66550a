//! The scenario at a glance: the fleet's composition, the releases and the policy's stages,
//! gates and guardrails as plain text rows. It is written into `summary.json` so that the HTML
//! report (and `fleetsim report DIR`) can show what was simulated without the scenario file.

use crate::engine::time::human_secs;
use crate::scenario::model::{Bound, Fault, FaultKind, Gate, Share};
use crate::scenario::Scenario;

/// One `[[population]]` group.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PopulationRow {
    pub name: String,
    pub count: u64,
    pub model: String,
    pub region: String,
    pub utc_offset: String,
    /// `2.3.0 90%, 2.1.0 10%`.
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
    pub populations: Vec<PopulationRow>,
    pub releases: Vec<ReleaseRow>,
    pub stages: Vec<StageRow>,
    pub aborts: Vec<String>,
    pub shadow_gates: Vec<String>,
    pub faults: Vec<String>,
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
        populations: sc
            .populations
            .iter()
            .map(|pop| population(sc, pop))
            .collect(),
        releases: sc
            .versions
            .iter()
            .filter(|r| r.defined)
            .map(release)
            .collect(),
        stages: p.stages.iter().map(stage).collect(),
        aborts: p
            .aborts
            .iter()
            .map(|a| {
                format!(
                    "{} threshold {} after {} results → {}",
                    a.metric.name(),
                    a.threshold,
                    a.min_executed,
                    crate::policy::rollout::action_name(a.action)
                )
            })
            .collect(),
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
                    "{} p={}{scope}",
                    kebab(&format!("{:?}", d.effect)),
                    d.probability
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
    let off = pop.utc_offset_s;
    PopulationRow {
        name: pop.name.clone(),
        count: pop.count,
        model: pop.model.clone(),
        region: pop.region.clone(),
        utc_offset: format!(
            "{}{:02}:{:02}",
            if off < 0 { '-' } else { '+' },
            off.abs() / 3600,
            off.abs() / 60 % 60
        ),
        firmware: pop
            .firmware_mix
            .iter()
            .map(|(v, w)| format!("{} {}%", sc.version_label(*v), round2(w * 100.0)))
            .collect::<Vec<_>>()
            .join(", "),
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
    }
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
    if let Some((crit, every)) = r.ramp {
        s.push_str(&format!(
            ", ×{} every {every} {}",
            r.factor,
            format!("{crit:?}").to_lowercase()
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
    let (kind, params) = match &f.kind {
        FaultKind::NetworkOutage => ("network-outage", String::new()),
        FaultKind::PowerOutage { fraction } => ("power-outage", format!("fraction {fraction}")),
        FaultKind::CdnDegradation {
            bandwidth_factor,
            error_rate,
        } => (
            "cdn-degradation",
            format!("bandwidth ×{bandwidth_factor}, error rate {error_rate}"),
        ),
        FaultKind::CorruptArtifact { probability } => {
            ("corrupt-artifact", format!("probability {probability}"))
        }
        FaultKind::TamperedArtifact => ("tampered-artifact", String::new()),
        FaultKind::TelemetryDelay { .. } => ("telemetry-delay", String::new()),
        FaultKind::TelemetryDrop { probability } => {
            ("telemetry-drop", format!("probability {probability}"))
        }
        FaultKind::ClockSkew { .. } => ("clock-skew", String::new()),
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
