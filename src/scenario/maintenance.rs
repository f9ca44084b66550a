//! Maintenance windows (SPEC §1.5, §1.5b): when installs may start, or when devices may be
//! notified. A window is a daily local-time `from`–`to`, the same on chosen `days` of the
//! week, or a `cron` schedule with a `duration` (AWS IoT Jobs maintenance windows); it runs on
//! the device's clock (`zone = "device"`: its `utc_offset` and any `clock-skew`) or on UTC (the
//! backend's clock), and gates the install (`applies_to = "install"`) or the notification
//! (`"notify"`).
//!
//! Windows other than a plain daily one are expanded once, at validation, into their
//! openings in wall-clock time over the simulated span (plus a margin for every UTC offset
//! and a clock skew of up to [`MARGIN_MS`]): a device asks with its own wall-clock time, so the
//! same list serves every offset, and a question is a binary search.

use crate::engine::time::DAY_MS;

/// How far before the start and after the horizon the openings are listed: UTC offsets
/// (±14 h) and clock skews within a few days find their window; a clock further off finds
/// none (it waits past the horizon).
pub const MARGIN_MS: i64 = 4 * DAY_MS as i64;

/// Most openings a window may have over the simulated span (a validation limit: a cron that
/// fires every minute for a year is a mistake, not a maintenance window).
pub const MAX_OPENINGS: usize = 200_000;

/// Whose clock a window runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// The device's local time: its population's `utc_offset`, shifted by a `clock-skew`.
    Device,
    /// UTC, as the backend keeps it.
    Utc,
}

/// What a window holds back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppliesTo {
    /// Installs start only inside it (the device downloads whenever it may).
    Install,
    /// Devices are notified only inside it (AWS job maintenance windows gate the rollout).
    Notify,
}

/// When a window is open.
#[derive(Clone, Debug, PartialEq)]
pub enum Openings {
    /// Every day, `from`–`to` of the local day.
    Daily(DailyWindow),
    /// Listed `[open, close)` intervals in wall-clock milliseconds since 1970 in the window's
    /// zone, sorted and disjoint.
    Listed(Vec<(i64, i64)>),
}

/// One `[[policy.maintenance]]` window.
#[derive(Clone, Debug, PartialEq)]
pub struct Maintenance {
    /// As the user wrote it, for the report: `01:00–05:00 sat, sun`, `cron 0 2 * * SAT for 4h`.
    pub label: String,
    pub openings: Openings,
    pub zone: Zone,
    pub applies_to: AppliesTo,
}

impl Maintenance {
    /// Milliseconds from wall-clock time `wall_ms` (in the window's zone) until the window is
    /// next open: 0 when open now, `u64::MAX` when it never opens again within the listed span.
    pub fn wait_ms(&self, wall_ms: i64) -> u64 {
        match &self.openings {
            Openings::Daily(w) => w.wait_ms(wall_ms.rem_euclid(DAY_MS as i64) as u64),
            Openings::Listed(list) => {
                let i = list.partition_point(|&(_, close)| close <= wall_ms);
                match list.get(i) {
                    Some(&(open, _)) if open <= wall_ms => 0,
                    Some(&(open, _)) => (open - wall_ms) as u64,
                    None => u64::MAX,
                }
            }
        }
    }
}

/// A daily local-time window `[from, to)`, seconds of the day; wraps midnight when `to <= from`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DailyWindow {
    pub from_s: u32,
    pub to_s: u32,
}

impl DailyWindow {
    pub fn contains(&self, second_of_day: u32) -> bool {
        if self.from_s < self.to_s {
            second_of_day >= self.from_s && second_of_day < self.to_s
        } else {
            second_of_day >= self.from_s || second_of_day < self.to_s
        }
    }
    /// Milliseconds from `ms_of_day` until the window next opens (0 when open now).
    pub fn wait_ms(&self, ms_of_day: u64) -> u64 {
        let s = (ms_of_day / 1000) as u32;
        if self.contains(s) {
            return 0;
        }
        let from_ms = self.from_s as u64 * 1000;
        if from_ms > ms_of_day {
            from_ms - ms_of_day
        } else {
            DAY_MS - ms_of_day + from_ms
        }
    }
}

/// Milliseconds until the earliest of the `windows` that `keep` selects is open, each asked
/// at the wall-clock time `wall_ms` gives for its zone: 0 when one is open now or none is
/// selected, `u64::MAX` when none opens again within the listed span. Any open window lets
/// the device (or the rollout) go on.
pub fn wait_ms(
    windows: &[Maintenance],
    keep: impl Fn(&Maintenance) -> bool,
    wall_ms: impl Fn(Zone) -> i64,
) -> u64 {
    (windows.iter())
        .filter(|w| keep(w))
        .map(|w| w.wait_ms(wall_ms(w.zone)))
        .min()
        .unwrap_or(0)
}

/// Days of the week as written in `days` (ISO order, Monday first).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The openings of a daily window on the `days` (bit `i`: [`WEEKDAYS`]`[i]`) over wall-clock
/// `[from_ms, to_ms)`. A window that wraps midnight belongs to the day it opens on.
pub fn weekly(w: DailyWindow, days: u8, from_ms: i64, to_ms: i64) -> Vec<(i64, i64)> {
    let day = DAY_MS as i64;
    let mut out = Vec::new();
    let mut start = from_ms.div_euclid(day) * day - day;
    while start < to_ms {
        // 1970-01-01 was a Thursday: day number 0 is ISO weekday index 3.
        let weekday = (start.div_euclid(day) + 3).rem_euclid(7) as u8;
        if days & (1 << weekday) != 0 {
            let open = start + w.from_s as i64 * 1000;
            let mut close = start + w.to_s as i64 * 1000;
            if w.to_s <= w.from_s {
                close += day;
            }
            out.push((open, close));
        }
        start += day;
    }
    merge(out)
}

/// The openings of `cron` (five fields, POSIX cron in wall-clock time) lasting `duration_ms`
/// each over wall-clock `[from_ms, to_ms)`; `Err` when there are more than [`MAX_OPENINGS`].
pub fn cron_openings(
    cron: &croner::Cron,
    duration_ms: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(i64, i64)>, String> {
    let naive = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc());
    let mut out = Vec::new();
    let Some(mut t) = naive(from_ms - duration_ms) else {
        return Ok(out);
    };
    while let Ok(next) = cron.find_next_occurrence(&t, false) {
        let open = next.and_utc().timestamp_millis();
        if open >= to_ms {
            break;
        }
        if out.len() >= MAX_OPENINGS {
            return Err(format!(
                "it opens more than {MAX_OPENINGS} times over the simulated span; a maintenance window opens at most every few minutes"
            ));
        }
        out.push((open, open + duration_ms));
        t = next;
    }
    Ok(merge(out))
}

/// Sorted intervals with overlapping or touching ones joined.
fn merge(mut list: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    list.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(list.len());
    for (open, close) in list {
        match out.last_mut() {
            Some(last) if open <= last.1 => last.1 = last.1.max(close),
            _ => out.push((open, close)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    const H: i64 = 3_600_000;
    /// 2026-03-07, a Saturday, 00:00 UTC.
    const SATURDAY: i64 = 1_772_841_600_000;

    #[test]
    fn weekly_windows_open_on_their_days_only() {
        let w = DailyWindow {
            from_s: 22 * 3600,
            to_s: 2 * 3600,
        };
        let sat_sun = 1 << 5 | 1 << 6;
        let list = weekly(w, sat_sun, SATURDAY, SATURDAY + 7 * DAY_MS as i64);
        // Saturday 22:00 to Sunday 02:00, and Sunday 22:00 to Monday 02:00.
        assert!(list.contains(&(SATURDAY + 22 * H, SATURDAY + 26 * H)));
        assert!(list.contains(&(SATURDAY + 46 * H, SATURDAY + 50 * H)));
        assert_eq!(list.len(), 2, "{list:?}");
        let m = Maintenance {
            label: String::new(),
            openings: Openings::Listed(list),
            zone: Zone::Device,
            applies_to: AppliesTo::Install,
        };
        assert_eq!(m.wait_ms(SATURDAY + 12 * H), 10 * H as u64);
        assert_eq!(m.wait_ms(SATURDAY + 23 * H), 0);
        // Monday 03:00: the next opening is a week later, past the listed span.
        assert_eq!(m.wait_ms(SATURDAY + 51 * H), u64::MAX);
    }

    #[test]
    fn cron_windows_open_at_each_firing_for_their_duration() {
        let cron = croner::Cron::from_str("0 2 * * SAT").unwrap();
        let list = cron_openings(&cron, 4 * H, SATURDAY, SATURDAY + 15 * DAY_MS as i64).unwrap();
        assert_eq!(
            list,
            vec![
                (SATURDAY + 2 * H, SATURDAY + 6 * H),
                (
                    SATURDAY + 7 * DAY_MS as i64 + 2 * H,
                    SATURDAY + 7 * DAY_MS as i64 + 6 * H
                ),
                (
                    SATURDAY + 14 * DAY_MS as i64 + 2 * H,
                    SATURDAY + 14 * DAY_MS as i64 + 6 * H
                ),
            ]
        );
        let every_minute = croner::Cron::from_str("* * * * *").unwrap();
        assert!(cron_openings(&every_minute, 1000, 0, 365 * DAY_MS as i64).is_err());
    }

    #[test]
    fn a_plain_daily_window_answers_like_before() {
        let w = DailyWindow {
            from_s: 3600,
            to_s: 5 * 3600,
        };
        let m = Maintenance {
            label: String::new(),
            openings: Openings::Daily(w),
            zone: Zone::Device,
            applies_to: AppliesTo::Install,
        };
        for wall in [-5 * H, 0, H - 1, 3 * H, 5 * H, 30 * H + 17] {
            assert_eq!(
                m.wait_ms(wall),
                w.wait_ms(wall.rem_euclid(DAY_MS as i64) as u64)
            );
        }
    }
}
