//! Validation of `[chaos]`, the fault space of `fleetsim chaos` (SPEC §1.7): which kinds a
//! campaign draws, how many faults and schedules, and the optional ranges of start times
//! (`at`), durations (`duration`) and scopes (`scopes`) it draws them from. The table changes
//! nothing in a single run.

use super::chaos::{self as campaign, DRAWABLE};
use super::collect::Ctx;
use super::did_you_mean;
use super::limits::MAX_HORIZON_DAYS;
use super::model::{Chaos, ChaosScope, Population, Release};
use super::raw::{RawDurRange, RawScenario, SValue};
use super::selector::Selector;
use crate::engine::time::{human_secs, SimTime};
use toml::Spanned;

/// What `[chaos]` is checked against.
pub struct Context<'a> {
    pub populations: &'a [Population],
    pub versions: &'a [Release],
    pub horizon: SimTime,
    /// The end of the rollout window, when the policy is valid.
    pub window_end: Option<SimTime>,
}

/// Validates `[chaos]`; `None` when the scenario has none.
pub fn chaos(cx: &mut Ctx, raw: &RawScenario, ctx: &Context) -> Option<Chaos> {
    let c = raw.chaos.as_ref()?;
    let (span, c) = (c.span(), c.get_ref());
    let kinds: Vec<String> = if c.kinds.is_empty() {
        DRAWABLE.iter().map(|k| k.to_string()).collect()
    } else {
        c.kinds.clone()
    };
    for k in &kinds {
        if !DRAWABLE.contains(&k.as_str()) {
            let hint = did_you_mean(k, DRAWABLE);
            let valid = DRAWABLE.join(", ");
            cx.err(
                "chaos.kinds",
                Some(span.clone()),
                format!("`{k}` cannot be drawn{hint}; drawable kinds: {valid}"),
            );
        }
    }
    let max_faults = c.max_faults.unwrap_or(campaign::DEFAULT_MAX_FAULTS);
    if max_faults == 0 || max_faults > 8 {
        cx.err(
            "chaos.max_faults",
            Some(span.clone()),
            "between 1 and 8 faults per schedule",
        );
    }
    let campaigns = c.campaigns.unwrap_or(campaign::DEFAULT_CAMPAIGNS);
    if campaigns == 0 || campaigns > 100_000 {
        cx.err(
            "chaos.campaigns",
            Some(span),
            "between 1 and 100000 campaigns",
        );
    }
    let window_end = ctx.window_end.unwrap_or(ctx.horizon);
    let default_at = campaign::default_at_s(window_end, ctx.horizon);
    Some(Chaos {
        kinds,
        max_faults,
        campaigns,
        at_s: c
            .at
            .as_ref()
            .map_or(default_at, |r| at(cx, r, default_at, ctx.horizon)),
        duration_s: c
            .duration
            .as_ref()
            .map_or(campaign::DEFAULT_DURATION_S, |r| duration(cx, r)),
        scopes: c.scopes.as_ref().map(|s| scopes(cx, s, ctx)),
    })
}

/// Reads a range with its defaults (`why_default` says where they come from) and checks
/// `min ≤ max`.
fn range(
    cx: &mut Ctx,
    path: &str,
    r: &Spanned<RawDurRange>,
    default: (f64, f64),
    why_default: &str,
) -> (f64, f64) {
    let raw = r.get_ref();
    let min = raw.min.as_ref().map_or(default.0, |m| m.get_ref().0);
    let max = raw.max.as_ref().map_or(default.1, |m| m.get_ref().0);
    if min > max {
        let span = raw.min.as_ref().map_or(r.span(), |m| m.span());
        let which = |given: bool| {
            if given {
                String::new()
            } else {
                format!(" (the default: {why_default})")
            }
        };
        cx.err(
            format!("{path}.min"),
            Some(span),
            format!(
                "min {}{} is after max {}{}: write min ≤ max",
                human_secs(min),
                which(raw.min.is_some()),
                human_secs(max),
                which(raw.max.is_some())
            ),
        );
    }
    (min, max)
}

/// `at`: the window of fault start times; every start must fall before the horizon.
fn at(cx: &mut Ctx, r: &Spanned<RawDurRange>, default: (f64, f64), horizon: SimTime) -> (f64, f64) {
    let (min, max) = range(cx, "chaos.at", r, default, "90 % of the rollout window");
    let horizon_s = horizon.as_secs_f64();
    if max.ceil() >= horizon_s {
        let span = r.get_ref().max.as_ref().map_or(r.span(), |m| m.span());
        cx.err(
            "chaos.at.max",
            Some(span),
            format!(
                "faults must start before the simulation horizon ({}); write a max below it",
                human_secs(horizon_s)
            ),
        );
    }
    (min, max)
}

/// `duration`: drawn log-uniformly, so the shortest must be more than zero.
fn duration(cx: &mut Ctx, r: &Spanned<RawDurRange>) -> (f64, f64) {
    let (min, max) = range(
        cx,
        "chaos.duration",
        r,
        campaign::DEFAULT_DURATION_S,
        "10 minutes to 2 days",
    );
    let raw = r.get_ref();
    if min <= 0.0 {
        let span = raw.min.as_ref().map_or(r.span(), |m| m.span());
        cx.err(
            "chaos.duration.min",
            Some(span),
            "must be more than 0 (durations are drawn log-uniformly), e.g. \"1m\"",
        );
    }
    let limit_s = (MAX_HORIZON_DAYS * 86_400) as f64;
    if max > limit_s {
        let span = raw.max.as_ref().map_or(r.span(), |m| m.span());
        cx.err(
            "chaos.duration.max",
            Some(span),
            format!("at most {MAX_HORIZON_DAYS}d"),
        );
    }
    (min, max)
}

/// `scopes`: a non-empty list of `"fleet"` and selector tables that each match a device.
fn scopes(cx: &mut Ctx, list: &Spanned<Vec<SValue>>, ctx: &Context) -> Vec<ChaosScope> {
    if list.get_ref().is_empty() {
        cx.err(
            "chaos.scopes",
            Some(list.span()),
            "an empty list leaves faults nowhere to strike: list \"fleet\" and/or selector tables such as { region = \"eu\" }, or remove `scopes` for the default",
        );
    }
    list.get_ref()
        .iter()
        .enumerate()
        .filter_map(|(i, v)| scope(cx, &format!("chaos.scopes[{i}]"), v, ctx))
        .collect()
}

fn scope(cx: &mut Ctx, path: &str, v: &SValue, ctx: &Context) -> Option<ChaosScope> {
    let t = match v.get_ref() {
        toml::Value::String(s) if s == "fleet" => return Some(ChaosScope::Fleet),
        toml::Value::Table(t) => t,
        other => {
            let hint = match other {
                toml::Value::String(s) => did_you_mean(s, ["fleet"]),
                _ => String::new(),
            };
            cx.err(
                path,
                Some(v.span()),
                format!("expected \"fleet\" or a selector table such as {{ region = \"eu\" }}, found {other}{hint}"),
            );
            return None;
        }
    };
    let selector = match Selector::parse(t, false) {
        Ok(s) => s,
        Err(m) => {
            cx.err(path, Some(v.span()), m);
            return None;
        }
    };
    if t.is_empty() {
        return Some(ChaosScope::Fleet);
    }
    if !selects_any(&selector, ctx) {
        cx.err(
            path,
            Some(v.span()),
            format!("the selector ({selector}) matches no device of the fleet"),
        );
        return None;
    }
    Some(ChaosScope::Where(t.clone()))
}

/// Whether a fault selector matches some device (its population at an initial version).
fn selects_any(selector: &Selector, ctx: &Context) -> bool {
    ctx.populations.iter().any(|p| {
        p.firmware_mix
            .iter()
            .any(|(v, _)| selector.matches(&p.attrs(&ctx.versions[*v as usize].label, None)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, InputError};

    const FRAGILE: &str = include_str!("../../tests/data/fragile.toml");

    /// Loads the fragile fixture with extra `[chaos]` keys (its last table).
    fn load(extra: &str) -> crate::error::Result<crate::scenario::Scenario> {
        let text = format!("{FRAGILE}\n{extra}\n");
        crate::scenario::load_str(
            &text,
            "fragile.toml",
            std::path::Path::new("tests/data"),
            &[],
        )
    }

    /// The single problem a bad `[chaos]` key causes.
    fn problem(extra: &str) -> InputError {
        match load(extra) {
            Err(Error::Input(mut errors)) if errors.len() == 1 => errors.remove(0),
            other => panic!("expected one input error for {extra:?}, got {other:?}"),
        }
    }

    #[test]
    fn ranges_and_scopes_are_read_with_their_defaults() {
        let sc = load(
            r#"at = { min = "1h", max = "1d" }
duration = { max = "6h" }
scopes = ["fleet", { region = "north" }, { population = "plant-b", model = "plc-1" }, {}]"#,
        )
        .unwrap();
        let c = sc.chaos.unwrap();
        assert_eq!(
            (c.at_s, c.duration_s),
            ((3600.0, 86_400.0), (600.0, 21_600.0))
        );
        let scopes = c.scopes.unwrap();
        assert_eq!(scopes.len(), 4);
        assert_eq!(
            (&scopes[0], &scopes[3]),
            (&ChaosScope::Fleet, &ChaosScope::Fleet)
        );
        assert!(matches!(&scopes[2], ChaosScope::Where(t) if t.len() == 2));
        let plain = load("").unwrap().chaos.unwrap();
        assert_eq!(
            plain.at_s,
            (0.0, 0.9 * 172_800.0),
            "90 % of the 2-day window"
        );
        assert_eq!(plain.duration_s, campaign::DEFAULT_DURATION_S);
        assert!(plain.scopes.is_none());
    }

    #[test]
    fn bad_ranges_name_the_key_its_position_and_the_fix() {
        let cases = [
            (
                r#"at = { min = "5d", max = "1d" }"#,
                "chaos.at.min",
                "min 5d 0h is after max 1d 0h: write min ≤ max",
            ),
            (
                r#"at = { min = "2d" }"#,
                "chaos.at.min",
                "is after max 1d 19h (the default: 90 % of the rollout window)",
            ),
            (
                r#"at = { max = "2d" }"#,
                "chaos.at.max",
                "faults must start before the simulation horizon (2d 0h)",
            ),
            (
                r#"duration = { min = "0s" }"#,
                "chaos.duration.min",
                "must be more than 0",
            ),
            (
                r#"duration = { max = "20000d" }"#,
                "chaos.duration.max",
                "at most 3660d",
            ),
            (
                r#"duration = { min = "10x" }"#,
                "chaos.duration.min",
                "duration",
            ),
            (
                r#"at = "1d""#,
                "chaos.at",
                "expected a range of durations such as { min = \"1h\", max = \"5d\" }",
            ),
            (
                r#"at = { start = "1d" }"#,
                "chaos.at.start",
                "unknown key `start`; valid: max, min",
            ),
        ];
        for (extra, key, message) in cases {
            let e = problem(extra);
            assert_eq!(e.key_path, key, "{extra}: {e}");
            assert!(e.message.contains(message), "{extra}: {e}");
            let line = FRAGILE.lines().count() + 2;
            assert_eq!(e.position.map(|p| p.0), Some(line), "{extra}: {e}");
        }
    }

    #[test]
    fn bad_scopes_name_the_entry_and_what_is_valid() {
        let cases = [
            (r#"scopes = []"#, "chaos.scopes", "an empty list"),
            (
                r#"scopes = ["fleat"]"#,
                "chaos.scopes[0]",
                "(did you mean `fleet`?)",
            ),
            (
                r#"scopes = ["fleet", 3]"#,
                "chaos.scopes[1]",
                "expected \"fleet\" or a selector table",
            ),
            (
                r#"scopes = [{ region = "west" }]"#,
                "chaos.scopes[0]",
                "the selector (region=west) matches no device of the fleet",
            ),
            (
                r#"scopes = [{ from = "1.0.0" }]"#,
                "chaos.scopes[0]",
                "`from`",
            ),
        ];
        for (extra, key, message) in cases {
            let e = problem(extra);
            assert_eq!(e.key_path, key, "{extra}: {e}");
            assert!(e.message.contains(message), "{extra}: {e}");
            assert!(e.position.is_some(), "{extra}: {e}");
        }
    }
}
