//! Simulated time: integer milliseconds since the scenario start, and duration parsing.
//!
//! Every timestamp inside the simulator is a [`SimTime`]. Scenario files write durations as
//! strings (`"250ms"`, `"30s"`, `"15m"`, `"6h"`, `"2d"`, `"1w"`) or as a bare number of seconds.

use std::fmt;

/// Milliseconds since the scenario start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// Milliseconds in one second, minute, hour and day.
pub const SECOND_MS: u64 = 1_000;
pub const MINUTE_MS: u64 = 60 * SECOND_MS;
pub const HOUR_MS: u64 = 60 * MINUTE_MS;
pub const DAY_MS: u64 = 24 * HOUR_MS;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    /// A time that never comes: used for "forever" and "never".
    pub const NEVER: SimTime = SimTime(u64::MAX);

    pub fn from_secs_f64(secs: f64) -> SimTime {
        SimTime(secs_to_ms(secs))
    }
    pub fn ms(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    pub fn as_days_f64(self) -> f64 {
        self.0 as f64 / DAY_MS as f64
    }
    /// Saturating addition of a duration in milliseconds.
    pub fn plus(self, ms: u64) -> SimTime {
        SimTime(self.0.saturating_add(ms))
    }
    pub fn is_never(self) -> bool {
        self.0 == u64::MAX
    }
}

/// The longest duration a scenario may write: 36 600 days (about 100 years, ten times the
/// longest horizon). Anything longer is a typo or a way of saying "never", and fleetsim would
/// otherwise carry it into time arithmetic near the top of `u64` milliseconds; the message says
/// how to write "never" instead (leave the key out).
pub const MAX_DURATION_DAYS: u64 = 36_600;
/// [`MAX_DURATION_DAYS`] in seconds.
pub const MAX_DURATION_SECS: f64 = (MAX_DURATION_DAYS * 86_400) as f64;

/// Checks that `secs` (already known finite) is within [`MAX_DURATION_SECS`]; the error names the
/// limit and what to write instead.
pub fn check_duration_limit(secs: f64, text: &str) -> Result<f64, String> {
    if secs.abs() <= MAX_DURATION_SECS {
        Ok(secs)
    } else {
        Err(format!(
            "`{text}` is longer than the longest duration fleetsim accepts ({MAX_DURATION_DAYS}d, about 100 years, ten times the longest horizon); nothing after the horizon is simulated, so to say \"never\" leave the key out (or use a value beyond the horizon but within the limit)"
        ))
    }
}

/// Converts seconds to whole milliseconds, rounding, clamping negatives to zero and huge values
/// to [`SimTime::NEVER`] so that a sampled duration can never wrap the clock.
pub fn secs_to_ms(secs: f64) -> u64 {
    if secs.is_nan() || secs <= 0.0 {
        return 0;
    }
    let ms = secs * 1000.0;
    // Below 2^52 an `f64` has a fractional part; truncating and comparing the (exact) remainder
    // with one half is `f64::round` without its libm call, which the x86-64 baseline cannot
    // inline and which every sampled duration paid for. At and above 2^52 the value is already
    // whole.
    if ms < TWO_POW_52 {
        let whole = ms as u64;
        return whole + u64::from(ms - whole as f64 >= 0.5);
    }
    if ms >= u64::MAX as f64 {
        u64::MAX
    } else {
        ms as u64
    }
}

/// 2^52: from here on every `f64` is a whole number.
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// Parses a duration string into seconds. A bare number is seconds.
pub fn parse_duration_secs(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    if let Ok(secs) = trimmed.parse::<f64>() {
        return check_secs(secs, text);
    }
    match humantime::parse_duration(trimmed) {
        Ok(d) => check_duration_limit(d.as_secs_f64(), text),
        Err(e) => Err(format!(
            "`{text}` is not a duration ({e}); write e.g. \"250ms\", \"30s\", \"15m\", \"6h\", \"2d\", \"1w\" or a number of seconds"
        )),
    }
}

fn check_secs(secs: f64, text: &str) -> Result<f64, String> {
    if secs.is_finite() && secs >= 0.0 {
        check_duration_limit(secs, text)
    } else {
        Err(format!(
            "`{text}` is not a duration: it must be a finite number of seconds ≥ 0"
        ))
    }
}

/// Formats a number of seconds for people: `3d 4h`, `5h 12m`, `42s`.
pub fn human_secs(secs: f64) -> String {
    if !secs.is_finite() {
        return "-".into();
    }
    let total = secs.round() as u64;
    let (d, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            write!(f, "never")
        } else {
            write!(f, "{}", human_secs(self.as_secs_f64()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rounding without libm is `f64::round` exactly: on the halves and their neighbours,
    /// around 2^52 and 2^53, and over a sweep of ordinary durations.
    #[test]
    fn secs_to_ms_rounds_as_f64_round_does() {
        let reference = |secs: f64| {
            if secs.is_nan() || secs <= 0.0 {
                return 0;
            }
            let ms = (secs * 1000.0).round();
            if ms >= u64::MAX as f64 {
                u64::MAX
            } else {
                ms as u64
            }
        };
        let mut cases = vec![
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            1e300,
            0.0005,
            0.0004999999999999999,
            0.0015,
            0.0025,
            2.5e-3,
            TWO_POW_52 / 1000.0,
            TWO_POW_52 * 2.0 / 1000.0,
            18446744073709551.615,
        ];
        for k in 0..2000u64 {
            let ms = k as f64 + 0.5;
            for x in [
                ms,
                f64::from_bits(ms.to_bits() - 1),
                f64::from_bits(ms.to_bits() + 1),
            ] {
                cases.push(x / 1000.0);
            }
        }
        for e in 40..56 {
            let big = (1u64 << e) as f64;
            for x in [big - 0.5, big + 0.5, big - 1.5, big + 1.0] {
                cases.push(x / 1000.0);
            }
        }
        let mut s = crate::engine::rng::Stream::new(7);
        for _ in 0..100_000 {
            cases.push(s.exp1() * 3600.0);
        }
        for secs in cases {
            assert_eq!(secs_to_ms(secs), reference(secs), "{secs:e}");
        }
    }

    #[test]
    fn parses_every_unit_of_the_spec() {
        assert_eq!(parse_duration_secs("250ms").unwrap(), 0.25);
        assert_eq!(parse_duration_secs("30s").unwrap(), 30.0);
        assert_eq!(parse_duration_secs("15m").unwrap(), 900.0);
        assert_eq!(parse_duration_secs("6h").unwrap(), 21_600.0);
        assert_eq!(parse_duration_secs("2d").unwrap(), 172_800.0);
        assert_eq!(parse_duration_secs("1w").unwrap(), 604_800.0);
        assert_eq!(parse_duration_secs("90").unwrap(), 90.0);
        assert!(parse_duration_secs("5 parsecs").is_err());
        assert!(parse_duration_secs("-3").is_err());
    }

    /// Regression: `check_in = "1e308"` and `at = "10000y"` used to become `u64::MAX` ms (or
    /// close to it) and overflow later arithmetic; they are refused with the limit named.
    #[test]
    fn durations_beyond_the_limit_are_refused_with_the_bound() {
        for text in ["1e308", "1e15", "10000y"] {
            let err = parse_duration_secs(text).unwrap_err();
            assert!(err.contains("36600d"), "{text}: {err}");
        }
        assert_eq!(parse_duration_secs("36600d").unwrap(), MAX_DURATION_SECS);
    }

    #[test]
    fn human_format() {
        assert_eq!(human_secs(3.0 * 86_400.0 + 4.0 * 3600.0 + 59.0), "3d 4h");
        assert_eq!(human_secs(3600.0 * 5.0 + 720.0), "5h 12m");
        assert_eq!(human_secs(42.0), "42s");
    }
}
