//! Validation of `[[fault]]` entries (SPEC §1.7): the kind, its window, whom it hits, which
//! parameters its kind takes, and their values, into the [`Fault`]s the engine injects.
//!
//! Errors are collected in the order they are checked, entry by entry, and that order is what
//! the user reads: the helpers below are called in the order the checks were always made.

use super::catalog::FAULT_KINDS;
use super::collect::Ctx;
use super::did_you_mean;
use super::dist::Unit;
use super::limits::MAX_FAULTS;
use super::model::{Fault, FaultKind, Population, Release};
use super::raw::{RawFault, RawScenario};
use super::selector::Selector;
use crate::engine::time::{secs_to_ms, SimTime};
use std::ops::Range;

/// Which entry is checked: its key path, its kind and the span errors point at (the `kind`
/// value, since most keys of a fault are plain values without a span of their own).
struct At<'a> {
    path: &'a str,
    kind: &'a str,
    span: Option<Range<usize>>,
}

impl At<'_> {
    fn err(&self, cx: &mut Ctx, key: &str, message: impl Into<String>) {
        cx.err(format!("{}.{key}", self.path), self.span.clone(), message);
    }
}

/// Validates `[[fault]]` entries (SPEC §1.7) into the faults the engine injects.
pub(super) fn faults(
    cx: &mut Ctx,
    raw: &RawScenario,
    pops: &[Population],
    versions: &[Release],
    horizon: SimTime,
) -> Vec<Fault> {
    if raw.fault.len() > MAX_FAULTS {
        cx.err(
            "fault",
            None,
            format!(
                "{} [[fault]] entries; the limit is {MAX_FAULTS}",
                raw.fault.len()
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, f) in raw.fault.iter().enumerate() {
        if let Some(fault) = fault(cx, &format!("fault[{i}]"), f, pops, versions, horizon) {
            out.push(fault);
        }
    }
    out
}

/// One entry; `None` when it cannot become a fault (an unknown kind, a missing required key,
/// or `backend-api`, which the backend applies itself).
fn fault(
    cx: &mut Ctx,
    path: &str,
    f: &RawFault,
    pops: &[Population],
    versions: &[Release],
    horizon: SimTime,
) -> Option<Fault> {
    let kind = f.kind.get_ref().as_str();
    let at = At {
        path,
        kind,
        span: Some(f.kind.span()),
    };
    if !FAULT_KINDS.contains(&kind) {
        let hint = did_you_mean(kind, FAULT_KINDS);
        at.err(
            cx,
            "kind",
            format!(
                "unknown fault kind `{kind}`{hint}; valid: {}",
                FAULT_KINDS.join(", ")
            ),
        );
        return None;
    }
    let Some(duration) = f.duration else {
        at.err(cx, "duration", "every fault needs `duration`");
        return None;
    };
    let from = SimTime::from_secs_f64(f.at.map_or(0.0, |d| d.0));
    if from >= horizon {
        at.err(cx, "at", "the fault starts after the simulation horizon");
    }
    let to = from.plus(secs_to_ms(duration.0));
    let selector = fault_selector(cx, path, f, pops, versions);
    check_parameters(cx, &at, f);
    let kind = fault_kind(cx, &at, f)?;
    Some(Fault {
        kind,
        from,
        to,
        selector,
    })
}

/// `where` of a fault: whom it hits, which must be some device of the fleet.
fn fault_selector(
    cx: &mut Ctx,
    path: &str,
    f: &RawFault,
    pops: &[Population],
    versions: &[Release],
) -> Selector {
    let Some(w) = &f.where_ else {
        return Selector::default();
    };
    let selector = cx.selector(&format!("{path}.where"), w, false);
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
    selector
}

/// The parameters each fault kind takes; a kind not listed takes none.
fn parameters_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "backend-api" => &["api"],
        "power-outage" => &["fraction"],
        "cdn-degradation" => &["bandwidth_factor", "error_rate"],
        "corrupt-artifact" | "telemetry-drop" => &["probability"],
        "telemetry-delay" => &["delay"],
        "clock-skew" => &["skew"],
        _ => &[],
    }
}

/// Refuses a parameter written for a kind that does not take it, in the order of
/// [`RawFault`]'s parameter keys.
fn check_parameters(cx: &mut Ctx, at: &At, f: &RawFault) {
    let params = parameters_of(at.kind);
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
            at.err(
                cx,
                key,
                format!(
                    "`{key}` is not a parameter of `{}`; its parameters: {valid}",
                    at.kind
                ),
            );
        }
    }
}

/// A fraction parameter (0..1); 0 when it is missing or out of range.
fn fraction(cx: &mut Ctx, at: &At, key: &str, v: Option<f64>, required: bool) -> f64 {
    match v {
        Some(x) if (0.0..=1.0).contains(&x) => x,
        Some(x) => {
            at.err(cx, key, format!("{x} is outside 0..1: write a fraction"));
            0.0
        }
        None if required => {
            at.err(cx, key, format!("a `{}` fault needs `{key}`", at.kind));
            0.0
        }
        None => 0.0,
    }
}

/// The kind with its parameters; `None` for `backend-api` and for a missing distribution.
fn fault_kind(cx: &mut Ctx, at: &At, f: &RawFault) -> Option<FaultKind> {
    Some(match at.kind {
        "backend-api" => {
            backend_api(cx, at, f);
            return None;
        }
        "network-outage" => FaultKind::NetworkOutage,
        "power-outage" => FaultKind::PowerOutage {
            fraction: fraction(cx, at, "fraction", f.fraction, true),
        },
        "cdn-degradation" => cdn_degradation(cx, at, f),
        "corrupt-artifact" => FaultKind::CorruptArtifact {
            probability: fraction(cx, at, "probability", f.probability, true),
        },
        "tampered-artifact" => FaultKind::TamperedArtifact,
        "telemetry-delay" => {
            let Some(d) = &f.delay else {
                at.err(
                    cx,
                    "delay",
                    "a `telemetry-delay` fault needs `delay`, a duration distribution",
                );
                return None;
            };
            FaultKind::TelemetryDelay {
                delay: cx.dist(&format!("{}.delay", at.path), d, Unit::Duration),
            }
        }
        "telemetry-drop" => FaultKind::TelemetryDrop {
            probability: fraction(cx, at, "probability", f.probability, true),
        },
        _ => {
            let Some(d) = &f.skew else {
                at.err(cx, "skew", "a `clock-skew` fault needs `skew`, e.g. { dist = \"normal\", mean = \"0s\", sd = \"2h\" }");
                return None;
            };
            FaultKind::ClockSkew {
                skew: cx.dist(&format!("{}.skew", at.path), d, Unit::SignedDuration),
            }
        }
    })
}

/// `backend-api` changes the API the whole backend serves, so it needs `api` and takes no
/// `where`; it is applied by the backend, not injected into devices.
fn backend_api(cx: &mut Ctx, at: &At, f: &RawFault) {
    if f.api.is_none() {
        at.err(
            cx,
            "api",
            "a `backend-api` fault needs `api`, the version the backend runs during the fault",
        );
    }
    if f.where_.is_some() {
        at.err(
            cx,
            "where",
            "a `backend-api` fault applies to the whole backend; remove `where`",
        );
    }
}

/// `cdn-degradation`: the share of bandwidth left, in (0, 1], and an error rate.
fn cdn_degradation(cx: &mut Ctx, at: &At, f: &RawFault) -> FaultKind {
    let factor = f.bandwidth_factor.unwrap_or(1.0);
    if !(factor > 0.0 && factor <= 1.0) {
        at.err(
            cx,
            "bandwidth_factor",
            format!("{factor}: the share of bandwidth left, in (0, 1]"),
        );
    }
    FaultKind::CdnDegradation {
        bandwidth_factor: factor,
        error_rate: fraction(cx, at, "error_rate", f.error_rate, false),
    }
}

#[cfg(test)]
mod tests {
    use super::FAULT_KINDS;
    use crate::scenario::chaos::DRAWABLE;

    /// The name a validated fault reports (in the run's glance) is the kind its file wrote, for
    /// every kind that becomes a fault: `FaultKind::name` is read from the catalog by position.
    #[test]
    fn a_validated_fault_is_named_by_the_kind_written() {
        let params = |kind: &str| match kind {
            "power-outage" => "fraction = 0.5",
            "cdn-degradation" => "bandwidth_factor = 0.5",
            "corrupt-artifact" | "telemetry-drop" => "probability = 0.5",
            "telemetry-delay" => "delay = \"1h\"",
            "clock-skew" => "skew = \"1h\"",
            _ => "",
        };
        assert_eq!(DRAWABLE.len() + 1, FAULT_KINDS.len());
        for kind in DRAWABLE {
            let plan = format!(
                "[[policy.stage]]\nname = \"all\"\npercent = 100\n\n[[fault]]\nkind = \"{kind}\"\nat = \"1h\"\nduration = \"1h\"\n{}\n",
                params(kind)
            );
            let sc = crate::scenario::test_fleet::ten_devices(
                "[[population]]\nname = \"p\"\ncount = 10\nfirmware = \"1.0.0\"\nconnectivity = \"lan\"\n",
                &plan,
            );
            assert_eq!(sc.faults.len(), 1, "{kind}");
            assert_eq!(sc.faults[0].kind.name(), kind);
        }
    }
}
