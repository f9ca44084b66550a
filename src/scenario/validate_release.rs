//! Validation of releases: the version table (every `[[release]]` plus every version a
//! population starts on), each release's sizes, times and upgrade constraints, and its
//! `[[release.defect]]` entries.

use super::collect::Ctx;
use super::dist::{Dist, Unit};
use super::limits::*;
use super::model::*;
use super::raw::*;
use super::selector::Selector;
use super::versions::version_index;
use crate::engine::time::secs_to_ms;
use std::ops::Range;

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
        config: false,
        fail_safe_ms: None,
        delta_failure: 0.0,
    }
}

/// The sorted version table: every `[[release]]` plus every version a population starts on.
pub(super) fn versions(cx: &mut Ctx, raw: &RawScenario) -> Vec<Release> {
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

pub(super) fn releases(
    cx: &mut Ctx,
    raw: &RawScenario,
    versions: &mut [Release],
    pops: &[Population],
) {
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
        let (fail_safe_ms, delta_failure) = kind_and_delta(cx, &path, r);
        let rel = &mut versions[idx as usize];
        rel.config = r.kind == ReleaseKind::Config;
        rel.fail_safe_ms = fail_safe_ms;
        rel.delta_failure = delta_failure;
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

/// `kind`, `fail_safe` and `delta_failure`: a config release has no reboot and no A/B slots
/// (so no `reboot_time` and no `boot-failure`), only a config release has a fail-safe, and a
/// delta can fail to apply only where the release has one.
fn kind_and_delta(cx: &mut Ctx, path: &str, r: &RawRelease) -> (Option<u64>, f64) {
    let config = r.kind == ReleaseKind::Config;
    if config && r.reboot_time.is_some() {
        cx.err(
            format!("{path}.reboot_time"),
            None,
            "a config release is applied without a reboot: remove `reboot_time` or make it `kind = \"firmware\"`",
        );
    }
    for (j, d) in r.defect.iter().enumerate() {
        if config && d.effect == Effect::BootFailure {
            cx.err(
                format!("{path}.defect[{j}].effect"),
                None,
                "`boot-failure` cannot hit a config release (it does not reboot); valid effects for it: no-reconnect, crash-loop, crash-rate, telemetry-loss, battery-drain, command-failure",
            );
        }
    }
    let fail_safe_ms = r.fail_safe.as_ref().and_then(|f| {
        let ms = secs_to_ms(f.get_ref().0);
        if !config {
            cx.err(
                format!("{path}.fail_safe"),
                Some(f.span()),
                "`fail_safe` reverts a configuration change: it applies only to `kind = \"config\"` (a firmware image reverts through A/B slots or a `watchdog`)",
            );
        } else if ms == 0 {
            cx.err(
                format!("{path}.fail_safe"),
                Some(f.span()),
                "the fail-safe time must be more than 0",
            );
        }
        (config && ms > 0).then_some(ms)
    });
    let delta_failure = r.delta_failure.as_ref().map_or(0.0, |p| {
        if r.delta_mb.is_empty() {
            cx.err(
                format!("{path}.delta_failure"),
                Some(p.span()),
                "`delta_failure` is the chance that applying a delta fails, but this release has no `delta_mb`",
            );
        }
        cx.fraction(&format!("{path}.delta_failure"), p)
    });
    (fail_safe_ms, delta_failure)
}

/// One `[[release.defect]]`: how likely, whom it hits, when, and its effect's parameters.
fn defect(
    cx: &mut Ctx,
    path: &str,
    d: &RawDefect,
    pops: &[Population],
    versions: &[Release],
) -> Defect {
    let probability = cx.fraction(&format!("{path}.probability"), &d.probability);
    let selector = defect_selector(cx, path, d, pops, versions);
    let (factor, availability, rate) = effect_parameters(cx, path, d);
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

/// `where` of a defect: which devices it hits, which must be some device of the fleet once it
/// runs one of its starting versions.
fn defect_selector(
    cx: &mut Ctx,
    path: &str,
    d: &RawDefect,
    pops: &[Population],
    versions: &[Release],
) -> Selector {
    let Some(w) = &d.where_ else {
        return Selector::default();
    };
    let selector = cx.selector(&format!("{path}.where"), w, true);
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
    selector
}

/// The parameters of the defect's effect, `(factor, availability, rate)`; an effect that does
/// not take one leaves its neutral value.
fn effect_parameters(cx: &mut Ctx, path: &str, d: &RawDefect) -> (f64, f64, f64) {
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
    (factor, availability, rate)
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
