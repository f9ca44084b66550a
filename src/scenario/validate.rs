//! Semantic validation: turns the raw file into a checked [`Scenario`], collecting every problem
//! with its key path, position and a fix, instead of stopping at the first.

use super::catalog::{FAULT_KINDS, OUTCOME_METRICS, STATS};
use super::collect::Ctx;
use super::did_you_mean;
use super::dist::{parse_dist, Dist, Unit};
use super::limits::*;
use super::model::*;
use super::raw::*;
use super::selector::Selector;
pub use super::versions::version_index;
use crate::engine::time::{secs_to_ms, SimTime, DAY_MS, HOUR_MS};
use crate::error::{Error, Result};
use std::ops::Range;
use std::path::Path;

/// Refuses a name that cannot name the report folder, before anything runs.
fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("give the scenario a name: it names the report folder".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "the name is {} bytes long, more than {MAX_NAME_BYTES}: it names the report folder \
             (reports/<name>/), and a file name holds at most 255 bytes; shorten it",
            name.len()
        ));
    }
    if name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(format!(
            "{name:?} cannot name the report folder reports/<name>/: it is `.` or `..`, or holds \
             a path separator or NUL; write e.g. {:?}",
            name.replace(['/', '\\', '\0'], "-").replace("..", "-")
        ));
    }
    Ok(())
}

pub fn validate(raw: RawScenario, text: &str, file: &str, base_dir: &Path) -> Result<Scenario> {
    let mut cx = Ctx {
        text,
        file,
        base_dir,
        errors: Vec::new(),
    };
    let sim = &raw.simulation;
    if let Err(m) = check_name(&sim.name) {
        cx.err("simulation.name", None, m);
    }
    let horizon_s = sim.horizon.get_ref().0;
    if horizon_s <= 0.0 || horizon_s > (MAX_HORIZON_DAYS * 86_400) as f64 {
        cx.err(
            "simulation.horizon",
            Some(sim.horizon.span()),
            format!("must be more than 0 and at most {MAX_HORIZON_DAYS}d"),
        );
    }
    let horizon = SimTime::from_secs_f64(horizon_s);
    let replications = *sim.replications.get_ref();
    if replications == 0 || replications > MAX_REPLICATIONS {
        cx.err(
            "simulation.replications",
            Some(sim.replications.span()),
            format!("must be between 1 and {MAX_REPLICATIONS}"),
        );
    }
    let start_unix_s = match &sim.start {
        None => 0,
        Some(s) => match time::OffsetDateTime::parse(
            s.get_ref(),
            &time::format_description::well_known::Rfc3339,
        ) {
            Ok(t) => t.unix_timestamp(),
            Err(e) => {
                cx.err("simulation.start", Some(s.span()), format!("`{}` is not an RFC 3339 timestamp ({e}); write e.g. \"2026-03-02T00:00:00Z\"", s.get_ref()));
                0
            }
        },
    };
    let backend = backend(&mut cx, &raw);
    let connectivity = connectivity(&mut cx, &raw);
    let power = power(&mut cx, &raw);
    let mut versions = versions(&mut cx, &raw);
    let populations = populations(&mut cx, &raw, &connectivity, &power, &mut versions);
    releases(&mut cx, &raw, &mut versions, &populations);
    let support = match &raw.support {
        None => Support {
            ticket_probability: 0.0,
            ticket_delay: Dist::Constant(0.0),
        },
        Some(s) => Support {
            ticket_probability: cx.fraction("support.ticket_probability", &s.ticket_probability),
            ticket_delay: cx.dist("support.ticket_delay", &s.ticket_delay, Unit::Duration),
        },
    };
    let policy = super::validate_policy::policy(&mut cx, &raw, &versions, &populations, horizon);
    let faults = faults(&mut cx, &raw, &populations, &versions, horizon);
    let chaos = super::validate_chaos::chaos(
        &mut cx,
        &raw,
        &super::validate_chaos::Context {
            populations: &populations,
            versions: &versions,
            horizon,
            window_end: policy.as_ref().map(|p| p.window_end),
        },
    );
    let expects = expects(&mut cx, &raw);
    if !cx.errors.is_empty() {
        return Err(Error::Input(cx.errors));
    }
    let scenario = Scenario {
        file: file.to_string(),
        warnings: Vec::new(),
        name: sim.name.clone(),
        seed: sim.seed,
        horizon,
        replications,
        start_unix_s,
        backend,
        connectivity,
        power,
        populations,
        versions,
        support,
        policy: policy.expect("policy is present when there are no errors"),
        expects,
        faults,
        chaos,
    };
    Ok(scenario)
}

fn backend(cx: &mut Ctx, raw: &RawScenario) -> Backend {
    let b = &raw.backend;
    let max_concurrent_downloads = match &b.max_concurrent_downloads {
        Some(m) if *m.get_ref() == 0 => {
            cx.err(
                "backend.max_concurrent_downloads",
                Some(m.span()),
                "must be at least 1 (leave it out for no limit)",
            );
            u64::MAX
        }
        Some(m) => *m.get_ref(),
        None => u64::MAX,
    };
    let egress_kbps = match &b.egress_mbps {
        Some(e) if e.get_ref().is_nan() || *e.get_ref() <= 0.0 => {
            cx.err(
                "backend.egress_mbps",
                Some(e.span()),
                "must be more than 0 (leave it out for no limit)",
            );
            f64::INFINITY
        }
        Some(e) => e.get_ref() * 1000.0,
        None => f64::INFINITY,
    };
    let mut api_changes: Vec<(SimTime, u32)> = b
        .api_changes
        .iter()
        .map(|c| (SimTime::from_secs_f64(c.at.0), c.api))
        .collect();
    api_changes.sort_by_key(|c| c.0);
    let api_faults = raw
        .fault
        .iter()
        .filter(|f| f.kind.get_ref() == "backend-api")
        .filter_map(|f| {
            let at = SimTime::from_secs_f64(f.at.map_or(0.0, |d| d.0));
            Some((at, at.plus(secs_to_ms(f.duration?.0)), f.api?))
        })
        .collect();
    Backend {
        api: b.api.unwrap_or(1),
        max_concurrent_downloads,
        egress_kbps,
        api_changes,
        api_faults,
    }
}

fn connectivity(cx: &mut Ctx, raw: &RawScenario) -> Vec<ConnProfile> {
    raw.connectivity
        .iter()
        .map(|(name, c)| {
            let p = format!("connectivity.{name}");
            let online = cx.dist(&format!("{p}.online"), &c.online, Unit::Duration);
            let offline = cx.dist(&format!("{p}.offline"), &c.offline, Unit::Duration);
            let bandwidth_kbps = cx.dist(
                &format!("{p}.bandwidth_kbps"),
                &c.bandwidth_kbps,
                Unit::Number,
            );
            let check_in_ms = secs_to_ms(c.check_in.get_ref().0);
            if check_in_ms == 0 {
                cx.err(
                    format!("{p}.check_in"),
                    Some(c.check_in.span()),
                    "the poll interval must be more than 0",
                );
            }
            for (key, d, v) in [("online", &online, &c.online), ("offline", &offline, &c.offline)] {
                // The means set the online share at time zero: an infinite one (a lognormal
                // with a huge sigma, a Weibull with a tiny shape) would make it NaN.
                if !d.mean().is_finite() {
                    cx.err(
                        format!("{p}.{key}"),
                        Some(v.span()),
                        format!("the mean of this distribution is {} (its tail is too heavy); fleetsim needs a finite mean for the share of devices online at time zero: lower `p95`/`sigma` or raise `shape`", d.mean()),
                    );
                }
            }
            if online.mean().is_nan() || online.mean() <= 0.0 {
                cx.err(
                    format!("{p}.online"),
                    Some(c.online.span()),
                    "an online session must last longer than 0 on average",
                );
            }
            let (on, off) = (online.mean(), offline.mean().max(0.0));
            Connectivity {
                name,
                online,
                offline,
                check_in_ms,
                bandwidth_kbps,
                metered: c.metered,
                share: on / (on + off),
            }
            .into()
        })
        .collect()
}

/// Helper to keep the constructor above readable.
struct Connectivity<'a> {
    name: &'a str,
    online: Dist,
    offline: Dist,
    check_in_ms: u64,
    bandwidth_kbps: Dist,
    metered: bool,
    share: f64,
}

impl From<Connectivity<'_>> for ConnProfile {
    fn from(c: Connectivity) -> ConnProfile {
        ConnProfile {
            name: c.name.to_string(),
            online: c.online,
            offline: c.offline,
            check_in_ms: c.check_in_ms.max(1),
            bandwidth_kbps: c.bandwidth_kbps,
            metered: c.metered,
            online_share: if c.share.is_finite() { c.share } else { 1.0 },
        }
    }
}

fn power(cx: &mut Ctx, raw: &RawScenario) -> Vec<PowerProfile> {
    let horizon_ms = secs_to_ms(raw.simulation.horizon.get_ref().0);
    let mut out: Vec<PowerProfile> = raw
        .power
        .iter()
        .map(|(name, p)| {
            let path = format!("power.{name}");
            let battery = p.source == PowerSource::Battery;
            let level = match &p.level {
                Some(v) => cx.dist(&format!("{path}.level"), v, Unit::Number),
                None => Dist::Constant(1.0),
            };
            let drain_per_day = p.drain_per_day.as_ref().map_or(0.0, |d| cx.non_negative(&format!("{path}.drain_per_day"), d));
            let install_cost = p.install_cost.as_ref().map_or(0.0, |d| cx.fraction(&format!("{path}.install_cost"), d));
            let (recharge_every_ms, recharge_to) = match &p.recharge {
                Some(r) => {
                    let every = secs_to_ms(r.every.get_ref().0);
                    if every == 0 {
                        cx.err(format!("{path}.recharge.every"), Some(r.every.span()), "the recharge period must be more than 0");
                    } else if horizon_ms / every > MAX_RECHARGES {
                        cx.err(format!("{path}.recharge.every"), Some(r.every.span()), format!("at most {MAX_RECHARGES} recharges fit in the horizon (a device counts them in 16 bits): the period must be at least horizon / {MAX_RECHARGES} = {:.3} s", horizon_ms as f64 / MAX_RECHARGES as f64 / 1000.0));
                    }
                    (Some(every.max(1)), cx.fraction(&format!("{path}.recharge.to"), &r.to))
                }
                None => (None, 1.0),
            };
            if !battery && (p.level.is_some() || p.drain_per_day.is_some() || p.recharge.is_some() || p.install_cost.is_some()) {
                cx.err(path.clone(), None, "`level`, `drain_per_day`, `recharge` and `install_cost` apply only to `source = \"battery\"`");
            }
            PowerProfile { name: name.clone(), battery, level, drain_per_day, recharge_every_ms, recharge_to, install_cost }
        })
        .collect();
    if !out.iter().any(|p| p.name == "mains") {
        // Populations without `power` run on mains; the implicit profile makes that explicit.
        out.push(PowerProfile {
            name: "mains".into(),
            battery: false,
            level: Dist::Constant(1.0),
            drain_per_day: 0.0,
            recharge_every_ms: None,
            recharge_to: 1.0,
            install_cost: 0.0,
        });
    }
    out
}

fn parse_version(
    cx: &mut Ctx,
    path: &str,
    span: Option<Range<usize>>,
    text: &str,
) -> Option<semver::Version> {
    match semver::Version::parse(text.trim()) {
        Ok(v) => Some(v),
        Err(e) => {
            cx.err(
                path,
                span,
                format!("`{text}` is not a semantic version ({e}); write e.g. \"2.4.0\""),
            );
            None
        }
    }
}

fn placeholder_release(version: semver::Version, label: &str) -> Release {
    Release {
        version,
        label: label.to_string(),
        defined: false,
        size_mb: 0.0,
        delta_mb: vec![],
        install_time: Dist::Constant(120.0),
        reboot_time: Dist::Constant(30.0),
        resumable: false,
        min_from: None,
        migration: false,
        requires_api: None,
        downgrade_unsafe: false,
        defects: vec![],
    }
}

/// The sorted version table: every `[[release]]` plus every version a population starts on.
fn versions(cx: &mut Ctx, raw: &RawScenario) -> Vec<Release> {
    let mut out: Vec<Release> = Vec::new();
    for (i, r) in raw.release.iter().enumerate() {
        let path = format!("release[{i}].version");
        if let Some(v) = parse_version(cx, &path, Some(r.version.span()), r.version.get_ref()) {
            if out.iter().any(|o| o.version == v) {
                cx.err(
                    path,
                    Some(r.version.span()),
                    format!("version {v} is defined twice"),
                );
                continue;
            }
            let mut rel = placeholder_release(v, r.version.get_ref().trim());
            rel.defined = true;
            out.push(rel);
        }
    }
    for (i, p) in raw.population.iter().enumerate() {
        for label in firmware_labels(p) {
            if let Ok(v) = semver::Version::parse(label.trim()) {
                if !out.iter().any(|o| o.version == v) {
                    out.push(placeholder_release(v, label.trim()));
                }
            } else {
                let span = p.firmware.as_ref().map(|f| f.span());
                cx.err(
                    format!("population[{i}].firmware"),
                    span,
                    format!("`{label}` is not a semantic version; write e.g. \"2.3.0\""),
                );
            }
        }
    }
    out.sort_by(|a, b| a.version.cmp(&b.version));
    if out.len() > MAX_VERSIONS {
        cx.err(
            "release",
            None,
            format!("at most {MAX_VERSIONS} distinct versions are supported"),
        );
        out.truncate(MAX_VERSIONS);
    }
    out
}

fn firmware_labels(p: &RawPopulation) -> Vec<String> {
    match p.firmware.as_ref().map(|f| f.get_ref()) {
        Some(toml::Value::String(s)) => vec![s.clone()],
        Some(toml::Value::Table(t)) => t.keys().cloned().collect(),
        _ => vec![],
    }
}

fn populations(
    cx: &mut Ctx,
    raw: &RawScenario,
    conns: &[ConnProfile],
    powers: &[PowerProfile],
    versions: &mut [Release],
) -> Vec<Population> {
    let mut out = Vec::new();
    // With an inventory, populations without `count` are only templates for its rows.
    for (i, p) in raw.population.iter().enumerate() {
        if raw.fleet.is_some() && p.count.is_none() {
            continue;
        }
        if let Some(pop) = population(cx, &format!("population[{i}]"), p, conns, powers, versions) {
            out.push(pop);
        }
    }
    if let Some(f) = &raw.fleet {
        match super::inventory::read(&cx.base_dir.join(f.inventory.get_ref()), &raw.population) {
            Ok(rows) => {
                for p in &rows {
                    if let Some(pop) = population(
                        cx,
                        &format!("fleet.inventory[{}]", p.name),
                        p,
                        conns,
                        powers,
                        versions,
                    ) {
                        out.push(pop);
                    }
                }
            }
            Err(m) => cx.err("fleet.inventory", Some(f.inventory.span()), m),
        }
    }
    if out.len() > MAX_POPULATIONS {
        cx.err(
            "population",
            None,
            format!(
                "the fleet has {} populations ([[population]] entries plus distinct inventory rows); the limit is {MAX_POPULATIONS}: each distinct combination of an inventory row's columns other than `id` is a population, so drop or coarsen the columns that differ on nearly every row",
                out.len()
            ),
        );
    }
    if out.is_empty() && cx.errors.is_empty() {
        cx.err("population", None, "the fleet is empty: add at least one [[population]] with a `count`, or `fleet.inventory`");
    }
    let horizon_s = raw.simulation.horizon.get_ref().0;
    check_device_limit(cx, &out, horizon_s);
    let mut names: Vec<&str> = out.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        cx.err(
            "population",
            None,
            format!("population name `{}` is used twice", w[0]),
        );
    }
    out
}

/// `crash_rate` of a population: crashes per device-day, 0 to [`MAX_CRASH_RATE_PER_DAY`].
fn crash_rate(cx: &mut Ctx, path: &str, p: &RawPopulation) -> f64 {
    let Some(v) = &p.crash_rate else { return 0.0 };
    let x = *v.get_ref();
    if !(0.0..=MAX_CRASH_RATE_PER_DAY).contains(&x) {
        cx.err(
            format!("{path}.crash_rate"),
            Some(v.span()),
            format!("{x} is outside 0..{MAX_CRASH_RATE_PER_DAY}: `crash_rate` is crashes per device-day, at most one a second"),
        );
        return 0.0;
    }
    x
}

/// Refuses a fleet of more than [`MAX_DEVICES`], counting the devices expected to arrive over
/// the horizon. In floating point: `arrivals_per_day = 1e19` (or `inf`) gives a count past
/// `u64`, which must be refused rather than wrapped into a small number.
fn check_device_limit(cx: &mut Ctx, pops: &[Population], horizon_s: f64) {
    let present: f64 = pops.iter().map(|p| p.count as f64).sum();
    let arriving: Vec<(f64, &Population)> = pops
        .iter()
        // A non-finite rate is already an error of its own key.
        .filter(|p| p.arrivals_per_day.is_finite())
        .map(|p| (arrivals_bound(p.arrivals_per_day, horizon_s), p))
        .collect();
    let total = present + arriving.iter().map(|(a, _)| a).sum::<f64>();
    // Written so that NaN fails too.
    if total <= MAX_DEVICES as f64 {
        return;
    }
    let most = arriving
        .iter()
        .filter(|(a, _)| *a > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let why = match most {
        None => String::new(),
        Some((a, p)) => format!(
            " ({present} present at the start and {} arriving over the horizon; population `{}` \
             alone brings {}: arrivals_per_day {} × {} days, with a margin for the draw)",
            count_text(total - present),
            p.name,
            count_text(*a),
            if p.arrivals_per_day >= 1e15 {
                format!("{:e}", p.arrivals_per_day)
            } else {
                p.arrivals_per_day.to_string()
            },
            horizon_s / 86_400.0
        ),
    };
    cx.err(
        "population",
        None,
        format!(
            "the fleet has {} devices{why}; the limit is {MAX_DEVICES}",
            count_text(total)
        ),
    );
}

/// A device count that may be too large for an integer: `1200`, `3e19`, `inf`.
fn count_text(n: f64) -> String {
    if n.is_finite() && n < 1e15 {
        format!("{}", n.round() as u64)
    } else {
        format!("{n:e}")
    }
}

fn resolve_name<T>(
    cx: &mut Ctx,
    path: String,
    name: &toml::Spanned<String>,
    items: &[T],
    item_name: impl Fn(&T) -> &str,
    kind: &str,
) -> usize {
    match items.iter().position(|x| item_name(x) == name.get_ref()) {
        Some(i) => i,
        None => {
            let names: Vec<&str> = items.iter().map(&item_name).collect();
            let hint = did_you_mean(name.get_ref(), names.iter().copied());
            cx.err(
                path,
                Some(name.span()),
                format!(
                    "no {kind} profile named `{}`{hint}; defined: {}",
                    name.get_ref(),
                    names.join(", ")
                ),
            );
            0
        }
    }
}

fn population(
    cx: &mut Ctx,
    path: &str,
    p: &RawPopulation,
    conns: &[ConnProfile],
    powers: &[PowerProfile],
    versions: &mut [Release],
) -> Option<Population> {
    let count = match &p.count {
        Some(c) => *c.get_ref(),
        None => {
            cx.err(
                format!("{path}.count"),
                None,
                "every population needs `count`, the number of devices",
            );
            0
        }
    };
    if count > MAX_DEVICES {
        cx.err(
            format!("{path}.count"),
            p.count.as_ref().map(|c| c.span()),
            format!("{count} devices is more than the limit of {MAX_DEVICES}"),
        );
    }
    let connectivity = match &p.connectivity {
        Some(c) => resolve_name(
            cx,
            format!("{path}.connectivity"),
            c,
            conns,
            |x| &x.name,
            "connectivity",
        ),
        None => {
            cx.err(
                format!("{path}.connectivity"),
                None,
                "every population needs a `connectivity` profile name",
            );
            0
        }
    };
    let power = match &p.power {
        Some(c) => resolve_name(cx, format!("{path}.power"), c, powers, |x| &x.name, "power"),
        None => powers.iter().position(|x| x.name == "mains").unwrap_or(0),
    };
    let utc_offset_s = match &p.utc_offset {
        None => 0,
        Some(o) => parse_offset(o.get_ref()).unwrap_or_else(|| {
            cx.err(
                format!("{path}.utc_offset"),
                Some(o.span()),
                format!(
                    "`{}` is not a UTC offset; write e.g. \"+01:00\" or \"-05:30\"",
                    o.get_ref()
                ),
            );
            0
        }),
    };
    let firmware_mix = firmware_mix(cx, path, p, versions);
    let tags = p
        .tags
        .iter()
        .flatten()
        .filter_map(|(k, v)| match super::selector::scalar_text(v) {
            Ok(s) => Some((k.clone(), s)),
            Err(m) => {
                cx.err(format!("{path}.tags.{k}"), None, m);
                None
            }
        })
        .collect();
    let frac = |cx: &mut Ctx, key: &str, v: &Option<toml::Spanned<f64>>| {
        v.as_ref()
            .map_or(0.0, |x| cx.fraction(&format!("{path}.{key}"), x))
    };
    let nonneg = |cx: &mut Ctx, key: &str, v: &Option<toml::Spanned<f64>>, d: f64| {
        v.as_ref()
            .map_or(d, |x| cx.non_negative(&format!("{path}.{key}"), x))
    };
    let telemetry_interval_ms = p
        .telemetry_interval
        .as_ref()
        .map_or(HOUR_MS, |t| secs_to_ms(t.get_ref().0));
    if telemetry_interval_ms == 0 {
        cx.err(
            format!("{path}.telemetry_interval"),
            p.telemetry_interval.as_ref().map(|t| t.span()),
            "must be more than 0",
        );
    }
    Some(Population {
        name: p.name.clone(),
        count,
        model: p.model.clone().unwrap_or_default(),
        region: p.region.clone().unwrap_or_default(),
        utc_offset_s,
        firmware_mix,
        tags,
        connectivity,
        power,
        storage_free_mb: p
            .storage_free_mb
            .as_ref()
            .map_or(Dist::Constant(1.0e9), |s| {
                cx.dist(&format!("{path}.storage_free_mb"), s, Unit::Number)
            }),
        ab_slots: p.ab_slots.unwrap_or(true),
        install_failure: frac(cx, "install_failure", &p.install_failure),
        crash_rate_per_day: crash_rate(cx, path, p),
        telemetry_interval_ms: telemetry_interval_ms.max(1),
        commands_per_day: nonneg(cx, "commands_per_day", &p.commands_per_day, 1.0),
        verifies_signatures: p.verifies_signatures.unwrap_or(true),
        arrivals_per_day: nonneg(cx, "arrivals_per_day", &p.arrivals_per_day, 0.0),
    })
}

fn firmware_mix(
    cx: &mut Ctx,
    path: &str,
    p: &RawPopulation,
    versions: &[Release],
) -> Vec<(u8, f64)> {
    let Some(fw) = &p.firmware else {
        cx.err(
            format!("{path}.firmware"),
            None,
            "every population needs `firmware`, the version its devices run at start",
        );
        return vec![(0, 1.0)];
    };
    let mut weights: Vec<(u8, f64)> = match fw.get_ref() {
        toml::Value::String(s) => version_index(versions, s).map(|v| vec![(v, 1.0)]).unwrap_or_default(),
        toml::Value::Table(t) => t
            .iter()
            .filter_map(|(k, w)| {
                let w = w.as_float().or(w.as_integer().map(|i| i as f64));
                match (version_index(versions, k), w) {
                    (Some(v), Some(w)) if w >= 0.0 => Some((v, w)),
                    (_, _) => {
                        cx.err(format!("{path}.firmware.{k}"), Some(fw.span()), "a firmware mix maps versions to shares ≥ 0, e.g. { \"2.3.0\" = 0.9, \"2.1.0\" = 0.1 }");
                        None
                    }
                }
            })
            .collect(),
        _ => {
            cx.err(format!("{path}.firmware"), Some(fw.span()), "write a version (\"2.3.0\") or a mix ({ \"2.3.0\" = 0.9, \"2.1.0\" = 0.1 })");
            vec![]
        }
    };
    weights.sort_by_key(|w| w.0);
    let total: f64 = weights.iter().map(|w| w.1).sum();
    if weights.is_empty() || total.is_nan() || total <= 0.0 {
        if cx.errors.is_empty() {
            cx.err(
                format!("{path}.firmware"),
                Some(fw.span()),
                "the firmware mix has no positive share",
            );
        }
        return vec![(0, 1.0)];
    }
    let mut acc = 0.0;
    weights
        .into_iter()
        .map(|(v, w)| {
            acc += w / total;
            (v, acc)
        })
        .collect()
}

/// Parses `+01:00`, `-05:30`, `Z` into seconds east of UTC.
pub fn parse_offset(s: &str) -> Option<i64> {
    let s = s.trim();
    if s == "Z" || s == "UTC" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

fn releases(cx: &mut Ctx, raw: &RawScenario, versions: &mut [Release], pops: &[Population]) {
    for (i, r) in raw.release.iter().enumerate() {
        let path = format!("release[{i}]");
        let Some(idx) = version_index(versions, r.version.get_ref()) else {
            continue;
        };
        let size_mb = cx.non_negative(&format!("{path}.size_mb"), &r.size_mb);
        let mut delta_mb = Vec::new();
        for (from, mb) in &r.delta_mb {
            match version_index(versions, from) {
                Some(v) if *mb >= 0.0 => delta_mb.push((v, *mb)),
                Some(_) => cx.err(
                    format!("{path}.delta_mb.{from}"),
                    None,
                    "a delta size must be ≥ 0",
                ),
                None => cx.err(
                    format!("{path}.delta_mb.{from}"),
                    None,
                    format!("`{from}` is not a release or a version any population runs"),
                ),
            }
        }
        let min_from = r.min_from.as_ref().and_then(|m| {
            parse_version(cx, &format!("{path}.min_from"), Some(m.span()), m.get_ref())
        });
        let install_time = r.install_time.as_ref().map_or(Dist::Constant(120.0), |d| {
            cx.dist(&format!("{path}.install_time"), d, Unit::Duration)
        });
        let reboot_time = r.reboot_time.as_ref().map_or(Dist::Constant(30.0), |d| {
            cx.dist(&format!("{path}.reboot_time"), d, Unit::Duration)
        });
        if r.defect.len() > MAX_DEFECTS {
            cx.err(
                format!("{path}.defect"),
                None,
                format!(
                    "{} defects; a release has at most {MAX_DEFECTS} (a device records which hit it in 64 bits)",
                    r.defect.len()
                ),
            );
        }
        let defects = r
            .defect
            .iter()
            .enumerate()
            .map(|(j, d)| defect(cx, &format!("{path}.defect[{j}]"), d, pops, versions))
            .collect();
        let rel = &mut versions[idx as usize];
        rel.size_mb = size_mb;
        rel.delta_mb = delta_mb;
        rel.install_time = install_time;
        rel.reboot_time = reboot_time;
        rel.resumable = r.resumable;
        rel.min_from = min_from;
        rel.migration = r.migration;
        rel.requires_api = r.requires_api;
        rel.downgrade_unsafe = r.downgrade == Downgrade::Unsafe;
        rel.defects = defects;
    }
}

fn defect(
    cx: &mut Ctx,
    path: &str,
    d: &RawDefect,
    pops: &[Population],
    versions: &[Release],
) -> Defect {
    let probability = cx.fraction(&format!("{path}.probability"), &d.probability);
    let selector = d.where_.as_ref().map_or(Selector::default(), |w| {
        cx.selector(&format!("{path}.where"), w, true)
    });
    if let Some(w) = &d.where_ {
        let matches_any = pops.iter().any(|p| {
            let firmwares = p
                .firmware_mix
                .iter()
                .map(|(v, _)| versions[*v as usize].label.as_str());
            firmwares
                .into_iter()
                .any(|fw| selector.matches(&p.attrs(fw, Some(fw))))
        });
        if !matches_any {
            cx.err(
                format!("{path}.where"),
                Some(w.span()),
                format!("the selector ({selector}) matches no device of the fleet"),
            );
        }
    }
    let need = |cx: &mut Ctx, key: &str, v: &Option<toml::Spanned<f64>>, what: &str| -> f64 {
        match v {
            Some(x) => *x.get_ref(),
            None => {
                cx.err(
                    format!("{path}.{key}"),
                    None,
                    format!("effect `{}` needs `{key}` ({what})", effect_name(d.effect)),
                );
                1.0
            }
        }
    };
    let (mut factor, mut availability, mut rate) = (1.0, 1.0, 0.0);
    match d.effect {
        Effect::CrashRate | Effect::BatteryDrain => {
            factor = need(cx, "factor", &d.factor, "the multiplier, e.g. 3.0");
            if !(0.0..=MAX_DEFECT_FACTOR).contains(&factor) {
                cx.err(
                    format!("{path}.factor"),
                    d.factor.as_ref().map(|f| f.span()),
                    format!("must be a number from 0 to {MAX_DEFECT_FACTOR:e} (got {factor})"),
                );
            }
        }
        Effect::CrashLoop => {
            availability = d
                .availability
                .as_ref()
                .map_or(0.1, |a| cx.fraction(&format!("{path}.availability"), a));
        }
        Effect::CommandFailure => {
            let r = need(cx, "rate", &d.rate, "the probability a command fails");
            rate = cx.fraction(
                &format!("{path}.rate"),
                &toml::Spanned::new(d.rate.as_ref().map_or(0..0, |x| x.span()), r),
            );
        }
        _ => {}
    }
    Defect {
        effect: d.effect,
        probability,
        selector,
        after: d
            .after
            .as_ref()
            .map(|a| cx.dist(&format!("{path}.after"), a, Unit::Duration)),
        factor,
        availability,
        rate,
    }
}

pub fn effect_name(e: Effect) -> &'static str {
    match e {
        Effect::BootFailure => "boot-failure",
        Effect::NoReconnect => "no-reconnect",
        Effect::CrashLoop => "crash-loop",
        Effect::CrashRate => "crash-rate",
        Effect::TelemetryLoss => "telemetry-loss",
        Effect::BatteryDrain => "battery-drain",
        Effect::CommandFailure => "command-failure",
    }
}

/// Validates `[[fault]]` entries (SPEC §1.7) into the faults the engine injects.
fn faults(
    cx: &mut Ctx,
    raw: &RawScenario,
    pops: &[Population],
    versions: &[Release],
    horizon: SimTime,
) -> Vec<Fault> {
    let mut out = Vec::new();
    if raw.fault.len() > MAX_FAULTS {
        cx.err(
            "fault",
            None,
            format!(
                "{} [[fault]] entries; the limit is {MAX_FAULTS}",
                raw.fault.len()
            ),
        );
        return out;
    }
    for (i, f) in raw.fault.iter().enumerate() {
        let path = format!("fault[{i}]");
        let kind = f.kind.get_ref().as_str();
        let span = Some(f.kind.span());
        if !FAULT_KINDS.contains(&kind) {
            let hint = did_you_mean(kind, FAULT_KINDS);
            cx.err(
                format!("{path}.kind"),
                span,
                format!(
                    "unknown fault kind `{kind}`{hint}; valid: {}",
                    FAULT_KINDS.join(", ")
                ),
            );
            continue;
        }
        let Some(duration) = f.duration else {
            cx.err(
                format!("{path}.duration"),
                span,
                "every fault needs `duration`",
            );
            continue;
        };
        let from = SimTime::from_secs_f64(f.at.map_or(0.0, |d| d.0));
        if from >= horizon {
            cx.err(
                format!("{path}.at"),
                span.clone(),
                "the fault starts after the simulation horizon",
            );
        }
        let to = from.plus(secs_to_ms(duration.0));
        let selector = f.where_.as_ref().map_or(Selector::default(), |w| {
            cx.selector(&format!("{path}.where"), w, false)
        });
        if let Some(w) = &f.where_ {
            let any = pops.iter().any(|p| {
                p.firmware_mix
                    .iter()
                    .any(|(v, _)| selector.matches(&p.attrs(&versions[*v as usize].label, None)))
            });
            if !any {
                cx.err(
                    format!("{path}.where"),
                    Some(w.span()),
                    format!("the selector ({selector}) matches no device of the fleet"),
                );
            }
        }
        let params: &[&str] = match kind {
            "backend-api" => &["api"],
            "power-outage" => &["fraction"],
            "cdn-degradation" => &["bandwidth_factor", "error_rate"],
            "corrupt-artifact" | "telemetry-drop" => &["probability"],
            "telemetry-delay" => &["delay"],
            "clock-skew" => &["skew"],
            _ => &[],
        };
        let given = [
            ("api", f.api.is_some()),
            ("fraction", f.fraction.is_some()),
            ("bandwidth_factor", f.bandwidth_factor.is_some()),
            ("error_rate", f.error_rate.is_some()),
            ("probability", f.probability.is_some()),
            ("delay", f.delay.is_some()),
            ("skew", f.skew.is_some()),
        ];
        for (key, present) in given {
            if present && !params.contains(&key) {
                let valid = if params.is_empty() {
                    "none".to_string()
                } else {
                    params.join(", ")
                };
                cx.err(
                    format!("{path}.{key}"),
                    span.clone(),
                    format!("`{key}` is not a parameter of `{kind}`; its parameters: {valid}"),
                );
            }
        }
        let frac = |cx: &mut Ctx, key: &str, v: Option<f64>, required: bool| -> f64 {
            match v {
                Some(x) if (0.0..=1.0).contains(&x) => x,
                Some(x) => {
                    cx.err(
                        format!("{path}.{key}"),
                        span.clone(),
                        format!("{x} is outside 0..1: write a fraction"),
                    );
                    0.0
                }
                None if required => {
                    cx.err(
                        format!("{path}.{key}"),
                        span.clone(),
                        format!("a `{kind}` fault needs `{key}`"),
                    );
                    0.0
                }
                None => 0.0,
            }
        };
        let kind = match kind {
            "backend-api" => {
                if f.api.is_none() {
                    cx.err(format!("{path}.api"), span.clone(), "a `backend-api` fault needs `api`, the version the backend runs during the fault");
                }
                if f.where_.is_some() {
                    cx.err(
                        format!("{path}.where"),
                        span.clone(),
                        "a `backend-api` fault applies to the whole backend; remove `where`",
                    );
                }
                continue;
            }
            "network-outage" => FaultKind::NetworkOutage,
            "power-outage" => FaultKind::PowerOutage {
                fraction: frac(cx, "fraction", f.fraction, true),
            },
            "cdn-degradation" => {
                let factor = f.bandwidth_factor.unwrap_or(1.0);
                if !(factor > 0.0 && factor <= 1.0) {
                    cx.err(
                        format!("{path}.bandwidth_factor"),
                        span.clone(),
                        format!("{factor}: the share of bandwidth left, in (0, 1]"),
                    );
                }
                FaultKind::CdnDegradation {
                    bandwidth_factor: factor,
                    error_rate: frac(cx, "error_rate", f.error_rate, false),
                }
            }
            "corrupt-artifact" => FaultKind::CorruptArtifact {
                probability: frac(cx, "probability", f.probability, true),
            },
            "tampered-artifact" => FaultKind::TamperedArtifact,
            "telemetry-delay" => match &f.delay {
                Some(d) => FaultKind::TelemetryDelay {
                    delay: cx.dist(&format!("{path}.delay"), d, Unit::Duration),
                },
                None => {
                    cx.err(
                        format!("{path}.delay"),
                        span.clone(),
                        "a `telemetry-delay` fault needs `delay`, a duration distribution",
                    );
                    continue;
                }
            },
            "telemetry-drop" => FaultKind::TelemetryDrop {
                probability: frac(cx, "probability", f.probability, true),
            },
            _ => match &f.skew {
                Some(d) => FaultKind::ClockSkew {
                    skew: cx.dist(&format!("{path}.skew"), d, Unit::SignedDuration),
                },
                None => {
                    cx.err(format!("{path}.skew"), span.clone(), "a `clock-skew` fault needs `skew`, e.g. { dist = \"normal\", mean = \"0s\", sd = \"2h\" }");
                    continue;
                }
            },
        };
        out.push(Fault {
            kind,
            from,
            to,
            selector,
        });
    }
    out
}

fn expects(cx: &mut Ctx, raw: &RawScenario) -> Vec<Expect> {
    let mut out = Vec::new();
    for (i, e) in raw.expect.iter().enumerate() {
        let path = format!("expect[{i}]");
        let metric = e.metric.get_ref();
        if !OUTCOME_METRICS.contains(&metric.as_str()) {
            let hint = did_you_mean(metric, OUTCOME_METRICS);
            cx.err(
                format!("{path}.metric"),
                Some(e.metric.span()),
                format!(
                    "unknown metric `{metric}`{hint}; valid: {}",
                    OUTCOME_METRICS.join(", ")
                ),
            );
        }
        let stat = e.stat.get_ref();
        if !STATS.contains(&stat.as_str()) {
            let hint = did_you_mean(stat, STATS);
            cx.err(
                format!("{path}.stat"),
                Some(e.stat.span()),
                format!("unknown stat `{stat}`{hint}; valid: {}", STATS.join(", ")),
            );
        }
        let yes_no = metric == "halted" || metric == "false_halt";
        if stat == "rate" && !yes_no && OUTCOME_METRICS.contains(&metric.as_str()) {
            cx.err(format!("{path}.stat"), Some(e.stat.span()), format!("`rate` applies to the yes/no metrics `halted` and `false_halt`; for `{metric}` use mean, p50, p95, …"));
        }
        let mut bound = |key: &str, v: &Option<SValue>| {
            v.as_ref().and_then(
                |v| match parse_dist(v.get_ref(), Unit::Duration, cx.base_dir) {
                    Ok(Dist::Constant(x)) => Some(x),
                    _ => match v.get_ref() {
                        toml::Value::Integer(i) => Some(*i as f64),
                        toml::Value::Float(f) => Some(*f),
                        _ => {
                            cx.err(
                                format!("{path}.{key}"),
                                Some(v.span()),
                                "write a number, or a duration such as \"21d\"",
                            );
                            None
                        }
                    },
                },
            )
        };
        let (min, max) = (bound("min", &e.min), bound("max", &e.max));
        if e.min.is_none() && e.max.is_none() {
            cx.err(
                path.clone(),
                Some(e.metric.span()),
                "an expectation needs `min`, `max` or both",
            );
        }
        let world = expect_world(cx, &path, e.world.as_ref());
        out.push(Expect {
            metric: metric.clone(),
            stat: stat.clone(),
            min,
            max,
            world,
        });
    }
    out
}

/// `expect[i].world`: `"as-written"` (the default) or `"healthy"`.
fn expect_world(cx: &mut Ctx, path: &str, world: Option<&toml::Spanned<String>>) -> World {
    let Some(w) = world else {
        return World::AsWritten;
    };
    World::parse(w.get_ref()).unwrap_or_else(|| {
        let hint = did_you_mean(w.get_ref(), World::NAMES);
        cx.err(
            format!("{path}.world"),
            Some(w.span()),
            format!(
                "unknown world `{}`{hint}; valid: {} (the scenario as written, or with every release defect removed)",
                w.get_ref(),
                World::NAMES.join(", ")
            ),
        );
        World::AsWritten
    })
}

/// Converts days to milliseconds (used by limits in tests and docs).
pub fn days_ms(days: u64) -> u64 {
    days * DAY_MS
}

#[cfg(test)]
mod tests {
    use crate::scenario::collect::table_offset;

    #[test]
    fn missing_keys_point_at_their_table() {
        let text = "[simulation]\nname = \"x\"\n\n[[population]]\nname = \"a\"\n[[population]] # b\nname = \"b\"\n";
        let second = text.find("[[population]] #").unwrap();
        assert_eq!(table_offset(text, "simulation.horizon"), Some(0));
        assert_eq!(
            table_offset(text, "population[0].count"),
            text.find("[[population]]")
        );
        assert_eq!(table_offset(text, "population[1].count"), Some(second));
        assert_eq!(table_offset(text, "population[2].count"), None);
        assert_eq!(table_offset(text, "policy.stage[0].percent"), None);
        assert_eq!(table_offset(text, "population"), None);
    }
}
