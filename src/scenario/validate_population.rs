//! Validation of the fleet: `[[population]]` entries and the rows of `fleet.inventory`, into
//! [`Population`]s, with the fleet-wide limits (number of populations, devices over the
//! horizon) and unique names.

use super::collect::Ctx;
use super::dist::{Dist, Unit};
use super::limits::*;
use super::model::*;
use super::raw::*;
use super::versions::version_index;
use crate::engine::time::{secs_to_ms, HOUR_MS};

pub(super) fn populations(
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
        let variants = population(cx, &format!("population[{i}]"), p, conns, powers, versions);
        push(&mut out, variants);
    }
    if let Some(f) = &raw.fleet {
        match super::inventory::read(&cx.base_dir.join(f.inventory.get_ref()), &raw.population) {
            Ok(rows) => {
                for p in &rows {
                    let path = format!("fleet.inventory[{}]", p.name);
                    let variants = population(cx, &path, p, conns, powers, versions);
                    push(&mut out, variants);
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
                "the fleet has {} populations ([[population]] entries, one per combination of the values a population mixes, plus distinct inventory rows); the limit is {MAX_POPULATIONS}: each distinct combination of an inventory row's columns other than `id` is a population, so drop or coarsen the columns that differ on nearly every row, or coarsen the mixes",
                out.len()
            ),
        );
    }
    if out.is_empty() && cx.errors.is_empty() {
        cx.err("population", None, "the fleet is empty: add at least one [[population]] with a `count`, or `fleet.inventory`");
    }
    let horizon_s = raw.simulation.horizon.get_ref().0;
    check_device_limit(cx, &out, horizon_s);
    // The variants of a population with mixes share its name.
    let mut names: Vec<&str> = (out.iter().enumerate())
        .filter(|(i, p)| p.head == *i)
        .map(|(_, p)| p.name.as_str())
        .collect();
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

/// Appends the variants of one population, each pointing at the first.
fn push(out: &mut Vec<Population>, mut variants: Vec<Population>) {
    let head = out.len();
    variants.iter_mut().for_each(|v| v.head = head);
    out.append(&mut variants);
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

/// One `[[population]]` entry (or inventory row, with `path` naming the row): one
/// [`Population`], or one variant per combination of its mixed values.
fn population(
    cx: &mut Ctx,
    path: &str,
    p: &RawPopulation,
    conns: &[ConnProfile],
    powers: &[PowerProfile],
    versions: &mut [Release],
) -> Vec<Population> {
    let count = device_count(cx, path, p);
    let attrs = super::validate_mix::attributes(cx, path, p, conns, powers);
    let firmware_mix = firmware_mix(cx, path, p, versions);
    let tags = tags(cx, path, p);
    let telemetry_interval_ms = telemetry_interval(cx, path, p);
    let frac = |cx: &mut Ctx, key: &str, v: &Option<toml::Spanned<f64>>| {
        v.as_ref()
            .map_or(0.0, |x| cx.fraction(&format!("{path}.{key}"), x))
    };
    let nonneg = |cx: &mut Ctx, key: &str, v: &Option<toml::Spanned<f64>>, d: f64| {
        v.as_ref()
            .map_or(d, |x| cx.non_negative(&format!("{path}.{key}"), x))
    };
    // The fields below are validated in the order they are written, which is the order their
    // errors are reported in.
    let base = Population {
        name: p.name.clone(),
        count,
        // The attributes a mix may give: set per variant by `expand`.
        model: String::new(),
        region: String::new(),
        utc_offset_s: 0,
        firmware_mix,
        tags,
        connectivity: 0,
        power: 0,
        storage_free_mb: p
            .storage_free_mb
            .as_ref()
            .map_or(Dist::Constant(1.0e9), |s| {
                cx.dist(&format!("{path}.storage_free_mb"), s, Unit::Number)
            }),
        ab_slots: p.ab_slots.unwrap_or(true),
        watchdog: watchdog(cx, path, p),
        consent: consent(cx, path, p),
        install_failure: frac(cx, "install_failure", &p.install_failure),
        crash_rate_per_day: crash_rate(cx, path, p),
        telemetry_interval_ms: telemetry_interval_ms.max(1),
        commands_per_day: nonneg(cx, "commands_per_day", &p.commands_per_day, 1.0),
        verifies_signatures: p.verifies_signatures.unwrap_or(true),
        arrivals_per_day: nonneg(cx, "arrivals_per_day", &p.arrivals_per_day, 0.0),
        head: 0,
        share: 1.0,
        mixes: None,
    };
    super::validate_mix::expand(cx, path, base, attrs)
}

/// `watchdog`: at least one crash, a window of more than 0, and A/B slots to revert to.
fn watchdog(cx: &mut Ctx, path: &str, p: &RawPopulation) -> Option<Watchdog> {
    let w = p.watchdog.as_ref()?;
    let boots = *w.boots.get_ref();
    if !(1..=100).contains(&boots) {
        cx.err(
            format!("{path}.watchdog.boots"),
            Some(w.boots.span()),
            format!("must be a whole number of crashes from 1 to 100 (got {boots})"),
        );
    }
    let window_ms = secs_to_ms(w.window.get_ref().0);
    if window_ms == 0 {
        cx.err(
            format!("{path}.watchdog.window"),
            Some(w.window.span()),
            "the watchdog window must be more than 0",
        );
    }
    if p.ab_slots == Some(false) {
        cx.err(
            format!("{path}.watchdog"),
            None,
            "a watchdog reverts to the other A/B slot: it needs `ab_slots = true` (a device without slots bricks on a failed boot)",
        );
    }
    Some(Watchdog { boots, window_ms })
}

/// `consent`: a delay distribution (default 0s) and a probability of denial.
fn consent(cx: &mut Ctx, path: &str, p: &RawPopulation) -> Option<Consent> {
    let c = p.consent.as_ref()?;
    let delay = c.delay.as_ref().map_or(Dist::Constant(0.0), |d| {
        cx.dist(&format!("{path}.consent.delay"), d, Unit::Duration)
    });
    let deny = c
        .deny
        .as_ref()
        .map_or(0.0, |d| cx.fraction(&format!("{path}.consent.deny"), d));
    Some(Consent { delay, deny })
}

/// `count`: required, and at most [`MAX_DEVICES`].
fn device_count(cx: &mut Ctx, path: &str, p: &RawPopulation) -> u64 {
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
    count
}

/// `tags`: each value must be a scalar, which selectors compare as text.
fn tags(cx: &mut Ctx, path: &str, p: &RawPopulation) -> Vec<(String, String)> {
    p.tags
        .iter()
        .flatten()
        .filter_map(|(k, v)| match super::selector::scalar_text(v) {
            Ok(s) => Some((k.clone(), s)),
            Err(m) => {
                cx.err(format!("{path}.tags.{k}"), None, m);
                None
            }
        })
        .collect()
}

/// `telemetry_interval` in milliseconds (an hour when not written); 0 is refused.
fn telemetry_interval(cx: &mut Ctx, path: &str, p: &RawPopulation) -> u64 {
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
    telemetry_interval_ms
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
