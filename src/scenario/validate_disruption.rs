//! Validation of when and how many devices may be disrupted: `policy.maintenance` (each
//! window is `from`/`to`, optionally on `days`, or `cron` with `duration`, never both; cron
//! schedules are parsed with `croner`, and every window other than a plain daily one is
//! expanded into its openings over the simulated span) and `policy.disruption_budget`.

use super::collect::Ctx;
use super::did_you_mean;
use super::maintenance::{
    cron_openings, weekly, AppliesTo, Maintenance, Openings, Zone, MARGIN_MS, WEEKDAYS,
};
use super::model::{BudgetMax, DailyWindow, DisruptionBudget, Population};
use super::raw::{RawMaintenance, RawPolicy, WindowAppliesTo, WindowZone};
use crate::engine::time::{secs_to_ms, SimTime, DAY_MS};

/// Longest a cron window may stay open: a week (the longest a weekly schedule needs).
const MAX_DURATION_MS: u64 = 7 * DAY_MS;

/// Every window of `policy.maintenance`, the simulated span running from `start_unix_s` for
/// `horizon`.
pub fn windows(
    pc: &mut Ctx,
    p: &RawPolicy,
    start_unix_s: i64,
    horizon: SimTime,
) -> Vec<Maintenance> {
    let from_ms = start_unix_s.saturating_mul(1000).saturating_sub(MARGIN_MS);
    let to_ms = start_unix_s
        .saturating_mul(1000)
        .saturating_add(horizon.0 as i64)
        .saturating_add(MARGIN_MS);
    p.maintenance
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, w)| window(pc, &format!("policy.maintenance[{i}]"), w, (from_ms, to_ms)))
        .collect()
}

fn window(pc: &mut Ctx, path: &str, w: &RawMaintenance, span: (i64, i64)) -> Option<Maintenance> {
    let label = match (&w.from, &w.to, &w.cron, &w.duration) {
        (_, _, Some(c), Some(d)) => format!(
            "cron {} for {}",
            c.get_ref().trim(),
            crate::engine::time::human_secs(d.get_ref().0)
        ),
        (Some(f), Some(t), _, _) => match &w.days {
            Some(days) => format!(
                "{}–{} {}",
                f.get_ref(),
                t.get_ref(),
                days.get_ref().join(", ")
            ),
            None => format!("{}–{}", f.get_ref(), t.get_ref()),
        },
        _ => String::new(),
    };
    let openings = match (&w.from, &w.to, &w.cron) {
        (Some(from), Some(to), None) => {
            if w.duration.is_some() {
                pc.err(
                    format!("{path}.duration"),
                    None,
                    "`duration` goes with `cron`; a `from`/`to` window lasts from `from` to `to`",
                );
            }
            let daily = daily_window(pc, path, from, to)?;
            match days(pc, path, w)? {
                ALL_DAYS => Openings::Daily(daily),
                days => Openings::Listed(weekly(daily, days, span.0, span.1)),
            }
        }
        (None, None, Some(cron)) => cron_window(pc, path, w, cron, span)?,
        (_, _, Some(cron)) => {
            pc.err(
                path,
                Some(cron.span()),
                "a window is either `from`/`to` (with optional `days`) or `cron` with `duration`, not both",
            );
            return None;
        }
        _ => {
            pc.err(
                path,
                None,
                "a maintenance window needs `from` and `to` (\"HH:MM\"), or `cron` and `duration`",
            );
            return None;
        }
    };
    Some(Maintenance {
        label,
        openings,
        zone: match w.zone {
            WindowZone::Device => Zone::Device,
            WindowZone::Utc => Zone::Utc,
        },
        applies_to: match w.applies_to {
            WindowAppliesTo::Install => AppliesTo::Install,
            WindowAppliesTo::Notify => AppliesTo::Notify,
        },
    })
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    ((h < 24 && m < 60) || (h == 24 && m == 0)).then_some((h * 3600 + m * 60) % 86_400)
}

/// A daily `from`–`to` window (maintenance or off-peak).
pub(super) fn daily_window(
    pc: &mut Ctx,
    path: &str,
    from: &toml::Spanned<String>,
    to: &toml::Spanned<String>,
) -> Option<DailyWindow> {
    let from_s = parse_hhmm(from.get_ref());
    let to_s = parse_hhmm(to.get_ref());
    if from_s.is_none() {
        pc.err(
            format!("{path}.from"),
            Some(from.span()),
            format!(
                "`{}` is not a local time; write \"HH:MM\", e.g. \"01:00\"",
                from.get_ref()
            ),
        );
    }
    if to_s.is_none() {
        pc.err(
            format!("{path}.to"),
            Some(to.span()),
            format!(
                "`{}` is not a local time; write \"HH:MM\", e.g. \"05:00\"",
                to.get_ref()
            ),
        );
    }
    if from_s.is_some() && from_s == to_s {
        pc.err(
            path,
            Some(from.span()),
            "`from` equals `to`: the window would never (or always) be open",
        );
    }
    Some(DailyWindow {
        from_s: from_s?,
        to_s: to_s?,
    })
}

/// Every day of the week (bit `i`: [`WEEKDAYS`]`[i]`).
const ALL_DAYS: u8 = 0x7f;

/// `days`: the bit set of the days named (every day when not written).
fn days(pc: &mut Ctx, path: &str, w: &RawMaintenance) -> Option<u8> {
    let Some(days) = &w.days else {
        return Some(ALL_DAYS);
    };
    let mut bits = 0u8;
    for (j, day) in days.get_ref().iter().enumerate() {
        let name = day.trim().to_ascii_lowercase();
        let index = (WEEKDAYS.iter().position(|d| *d == name))
            .or_else(|| FULL_NAMES.iter().position(|d| *d == name));
        match index {
            Some(i) => bits |= 1 << i,
            None => {
                let hint = did_you_mean(&name, WEEKDAYS.iter().chain(&FULL_NAMES).copied());
                pc.err(
                    format!("{path}.days[{j}]"),
                    Some(days.span()),
                    format!(
                        "`{day}` is not a day of the week{hint}; valid: {}",
                        WEEKDAYS.join(", ")
                    ),
                );
                return None;
            }
        }
    }
    if bits == 0 {
        pc.err(
            format!("{path}.days"),
            Some(days.span()),
            "`days` is empty: the window would never open",
        );
        return None;
    }
    Some(bits)
}

/// The English names of the weekdays, also accepted in `days`.
const FULL_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn cron_window(
    pc: &mut Ctx,
    path: &str,
    w: &RawMaintenance,
    cron: &toml::Spanned<String>,
    span: (i64, i64),
) -> Option<Openings> {
    if w.days.is_some() {
        pc.err(
            format!("{path}.days"),
            None,
            "`days` goes with `from`/`to`; a `cron` schedule names its own days",
        );
    }
    let text = cron.get_ref().trim();
    if text.split_whitespace().count() != 5 {
        pc.err(
            format!("{path}.cron"),
            Some(cron.span()),
            format!("`{text}` is not a five-field cron schedule (minute hour day-of-month month day-of-week), e.g. \"0 2 * * SAT\""),
        );
        return None;
    }
    let parsed = match text.parse::<croner::Cron>() {
        Ok(c) => c,
        Err(e) => {
            pc.err(
                format!("{path}.cron"),
                Some(cron.span()),
                format!("`{text}` is not a cron schedule ({e}); e.g. \"0 2 * * SAT\""),
            );
            return None;
        }
    };
    let Some(duration) = &w.duration else {
        pc.err(
            format!("{path}.duration"),
            None,
            "a `cron` window needs `duration`, how long it stays open (e.g. \"4h\")",
        );
        return None;
    };
    let ms = secs_to_ms(duration.get_ref().0);
    if ms == 0 || ms > MAX_DURATION_MS {
        pc.err(
            format!("{path}.duration"),
            Some(duration.span()),
            "must be more than 0 and at most 7 days",
        );
        return None;
    }
    match cron_openings(&parsed, ms as i64, span.0, span.1) {
        Ok(list) => Some(Openings::Listed(list)),
        Err(e) => {
            pc.err(
                format!("{path}.cron"),
                Some(cron.span()),
                format!("`{text}`: {e}"),
            );
            None
        }
    }
}

/// Keys a disruption budget may group by besides tags.
const GROUP_KEYS: [&str; 3] = ["model", "region", "population"];

/// `policy.disruption_budget`: `group_by` names attributes some population has, and
/// `max_unavailable` is a whole number of at least 1 or a percentage above 0 and at most 100.
pub fn budget(pc: &mut Ctx, p: &RawPolicy, pops: &[Population]) -> Option<DisruptionBudget> {
    let b = p.disruption_budget.as_ref()?;
    let path = "policy.disruption_budget";
    let keys = b.group_by.get_ref();
    for (j, key) in keys.iter().enumerate() {
        let known = GROUP_KEYS.contains(&key.as_str())
            || pops.iter().any(|p| p.tags.iter().any(|(k, _)| k == key));
        if !known {
            let tags = pops
                .iter()
                .flat_map(|p| p.tags.iter().map(|(k, _)| k.as_str()));
            let hint = did_you_mean(key, GROUP_KEYS.iter().copied().chain(tags));
            pc.err(
                format!("{path}.group_by[{j}]"),
                Some(b.group_by.span()),
                format!("`{key}` is neither model, region, population nor a tag of any population{hint}"),
            );
        }
    }
    let max = max_unavailable(pc, path, &b.max_unavailable)?;
    Some(DisruptionBudget {
        group_by: keys.clone(),
        max,
    })
}

fn max_unavailable(pc: &mut Ctx, path: &str, v: &toml::Spanned<toml::Value>) -> Option<BudgetMax> {
    let path = format!("{path}.max_unavailable");
    let bad = |pc: &mut Ctx, what: String| {
        pc.err(path.clone(), Some(v.span()), what);
        None
    };
    match v.get_ref() {
        toml::Value::Integer(n) if *n >= 1 => Some(BudgetMax::Count(*n as u64)),
        toml::Value::String(s) => match s.trim().strip_suffix('%').map(|n| n.trim().parse::<f64>()) {
            Some(Ok(pct)) if pct > 0.0 && pct <= 100.0 => Some(BudgetMax::Share(pct / 100.0)),
            _ => bad(pc, format!("`{s}` is not a percentage above 0 and at most 100, e.g. \"10%\"")),
        },
        other => bad(pc, format!("must be a whole number of devices (at least 1) or a percentage such as \"10%\" (got {other})")),
    }
}
