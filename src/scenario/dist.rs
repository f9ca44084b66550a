//! Distributions (SPEC §1.2): parsing from a scenario value and sampling from a keyed stream.
//!
//! A value that may vary is a constant or a table `{ dist = "...", ... }`. Duration-valued
//! distributions accept duration strings anywhere a number is expected and are held in seconds.

use crate::engine::rng::Stream;
use rand_distr::Distribution;
use statrs::function::erf::erf;
use std::path::Path;

/// z such that Φ(z) = 0.95: a lognormal's p95 is `exp(mu + 1.6449 sigma)`.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// A probability distribution over `f64` (seconds for durations).
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Constant(f64),
    Uniform {
        min: f64,
        max: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
        min: f64,
        max: f64,
    },
    Exponential {
        mean: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Weibull {
        shape: f64,
        scale: f64,
    },
    Beta {
        a: f64,
        b: f64,
    },
    Empirical {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

/// Whether a distribution holds durations (strings allowed, seconds) or plain numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Duration,
    /// A duration that may be negative (a clock skew): `"-2h"` or a signed number of seconds.
    SignedDuration,
    Number,
}

impl Dist {
    pub fn sample(&self, s: &mut Stream) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { min, max } => min + (max - min) * s.uniform(),
            Dist::Normal { mean, sd, min, max } => truncated_normal(*mean, *sd, *min, *max, s),
            Dist::Exponential { mean } => mean * s.exp1(),
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = rand_distr::StandardNormal.sample(s);
                (mu + sigma * z).exp()
            }
            Dist::Weibull { shape, scale } => scale * s.exp1().powf(1.0 / shape),
            Dist::Beta { a, b } => {
                // Validated parameters are positive and finite, so construction cannot fail.
                rand_distr::Beta::new(*a, *b)
                    .map(|d| d.sample(s))
                    .unwrap_or(0.5)
            }
            Dist::Empirical { values, cumulative } => {
                let u = s.uniform() * cumulative.last().copied().unwrap_or(1.0);
                let i = cumulative.partition_point(|&c| c < u).min(values.len() - 1);
                values[i]
            }
        }
    }

    /// The mean, exactly where a closed form exists.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, sd, min, max } => truncated_normal_mean(*mean, *sd, *min, *max),
            Dist::Exponential { mean } => *mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Weibull { shape, scale } => {
                scale * statrs::function::gamma::gamma(1.0 + 1.0 / shape)
            }
            Dist::Beta { a, b } => a / (a + b),
            Dist::Empirical { values, cumulative } => {
                let total = cumulative.last().copied().unwrap_or(1.0);
                let mut prev = 0.0;
                let mut acc = 0.0;
                for (v, c) in values.iter().zip(cumulative) {
                    acc += v * (c - prev);
                    prev = *c;
                }
                acc / total
            }
        }
    }

    /// A draw from the length-biased distribution (density `x f(x) / mean`): the length of the
    /// period that covers a random instant of a stationary renewal process. Multiplying it by a
    /// uniform gives the residual time of that period, which is how the fleet starts in its
    /// long-run mix at time zero (SPEC §1.3).
    pub fn sample_length_biased(&self, s: &mut Stream) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { min, max } => {
                (min * min + s.uniform() * (max * max - min * min)).sqrt()
            }
            Dist::Exponential { mean } => mean * (s.exp1() + s.exp1()),
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = rand_distr::StandardNormal.sample(s);
                (mu + sigma * sigma + sigma * z).exp()
            }
            Dist::Weibull { shape, scale } => {
                // With y = (x/scale)^shape the biased density becomes Gamma(1 + 1/shape, 1).
                let g = rand_distr::Gamma::new(1.0 + 1.0 / shape, 1.0)
                    .map(|d| d.sample(s))
                    .unwrap_or(1.0);
                scale * g.powf(1.0 / shape)
            }
            Dist::Empirical { values, cumulative } => {
                let mut prev = 0.0;
                let mut acc = Vec::with_capacity(values.len());
                let mut total = 0.0;
                for (v, c) in values.iter().zip(cumulative) {
                    total += v * (c - prev);
                    acc.push(total);
                    prev = *c;
                }
                let u = s.uniform() * total;
                let i = acc.partition_point(|&c| c < u).min(values.len() - 1);
                values[i]
            }
            Dist::Normal { mean, sd, min, max } if sd.is_nan() || *sd <= 0.0 || min >= max => {
                mean.clamp(*min, *max)
            }
            Dist::Normal { .. } | Dist::Beta { .. } => {
                // Bounded support: accept x with probability x / upper bound (exact rejection).
                let bound = self.upper_bound();
                for _ in 0..10_000 {
                    let x = self.sample(s);
                    if s.uniform() * bound <= x {
                        return x;
                    }
                }
                self.mean()
            }
        }
    }

    fn upper_bound(&self) -> f64 {
        match self {
            Dist::Normal { mean, sd, max, .. } => max.min(mean + 8.0 * sd).max(f64::MIN_POSITIVE),
            Dist::Beta { .. } => 1.0,
            _ => f64::INFINITY,
        }
    }

    /// The smallest value the distribution can produce (for validation of impossible settings).
    pub fn min_value(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { min, .. } => *min,
            Dist::Normal { min, .. } => *min,
            Dist::Empirical { values, .. } => values.iter().copied().fold(f64::INFINITY, f64::min),
            _ => 0.0,
        }
    }
}

/// Standard normal CDF, accurate in the lower tail (the upper tail is handled by mirroring).
fn phi(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// A draw of `N(mean, sd)` truncated to `[min, max]`, in a bounded number of steps whatever the
/// truncation. When the interval holds at least half the mass, rejection (the draws every
/// scenario with a loose truncation has always made) accepts within 64 tries except with
/// probability 2^-64, and then falls back to the inverse CDF; a narrower interval goes to the
/// inverse CDF at once, and an empty one (`min == max`, `sd = 0`) is a point mass. The old
/// rejection-only sampler spent 10^7 draws per device on `min == max`.
fn truncated_normal(mean: f64, sd: f64, min: f64, max: f64, s: &mut Stream) -> f64 {
    if sd.is_nan() || sd <= 0.0 || min >= max {
        return mean.clamp(min, max);
    }
    let (a, b) = ((min - mean) / sd, (max - mean) / sd);
    // Mirror an interval in the upper tail into the lower one, where `phi` keeps its precision.
    let (lo, hi, sign) = if a > 0.0 { (-b, -a, -1.0) } else { (a, b, 1.0) };
    let (p_lo, p_hi) = (phi(lo), phi(hi));
    if p_hi - p_lo >= 0.5 {
        for _ in 0..64 {
            let z: f64 = rand_distr::StandardNormal.sample(s);
            let x = mean + sd * z;
            if x >= min && x <= max {
                return x;
            }
        }
    }
    let p = (p_lo + s.uniform() * (p_hi - p_lo)).clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
    let z = -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p);
    (mean + sign * sd * z.clamp(lo, hi)).clamp(min, max)
}

fn truncated_normal_mean(mean: f64, sd: f64, min: f64, max: f64) -> f64 {
    if sd <= 0.0 {
        return mean.clamp(min, max);
    }
    let pdf = |z: f64| (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let cdf = |z: f64| 0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2));
    let (a, b) = ((min - mean) / sd, (max - mean) / sd);
    let (pa, pb) = (
        if a.is_finite() { pdf(a) } else { 0.0 },
        if b.is_finite() { pdf(b) } else { 0.0 },
    );
    let mass = cdf(b) - cdf(a);
    if mass <= 0.0 {
        return mean.clamp(min, max);
    }
    mean + sd * (pa - pb) / mass
}

/// Builds a distribution from a TOML value. `Err` carries a message naming what would be valid;
/// the caller adds the file, key path and position.
pub fn parse_dist(value: &toml::Value, unit: Unit, base_dir: &Path) -> Result<Dist, String> {
    match value {
        toml::Value::Table(t) => parse_table(t, unit, base_dir),
        other => Ok(Dist::Constant(scalar(other, unit)?)),
    }
}

fn scalar(value: &toml::Value, unit: Unit) -> Result<f64, String> {
    let x = match (value, unit) {
        (toml::Value::Integer(i), _) => *i as f64,
        (toml::Value::Float(f), _) => *f,
        (toml::Value::String(s), Unit::Duration) => crate::engine::time::parse_duration_secs(s)?,
        (toml::Value::String(s), Unit::SignedDuration) => match s.trim().strip_prefix('-') {
            Some(rest) => -crate::engine::time::parse_duration_secs(rest)?,
            None => crate::engine::time::parse_duration_secs(s)?,
        },
        (toml::Value::String(s), Unit::Number) => {
            return Err(format!("expected a number, found the string \"{s}\""))
        }
        (other, Unit::Duration | Unit::SignedDuration) => {
            return Err(format!(
                "expected a duration such as \"30m\" or a number of seconds, found {}",
                other.type_str()
            ))
        }
        (other, Unit::Number) => {
            return Err(format!("expected a number, found {}", other.type_str()))
        }
    };
    if !x.is_finite() {
        return Err(format!("{x} is not a finite number"));
    }
    if unit == Unit::Duration && x < 0.0 {
        return Err(format!("a duration cannot be negative ({x})"));
    }
    if unit != Unit::Number {
        crate::engine::time::check_duration_limit(x, &x.to_string())?;
    }
    Ok(x)
}

const KINDS: &str = "constant, uniform, normal, exponential, lognormal, weibull, beta, empirical";

fn parse_table(t: &toml::Table, unit: Unit, base_dir: &Path) -> Result<Dist, String> {
    let kind = dist_kind(t)?;
    check_parameters(t, kind, parameters_of(kind)?)?;
    let get = |k: &str| -> Result<f64, String> {
        let v = t.get(k).ok_or_else(|| format!("`{kind}` needs `{k}`"))?;
        scalar(v, unit).map_err(|e| format!("`{k}`: {e}"))
    };
    let positive = |k: &str, v: f64| -> Result<f64, String> {
        if v > 0.0 {
            Ok(v)
        } else {
            Err(format!("`{k}` must be greater than 0 (got {v})"))
        }
    };
    let dist = match kind {
        "constant" => Dist::Constant(get("value")?),
        "uniform" => {
            let (min, max) = (get("min")?, get("max")?);
            if max < min {
                return Err(format!("uniform `max` ({max}) is below `min` ({min})"));
            }
            Dist::Uniform { min, max }
        }
        "normal" => normal(t, unit, &get)?,
        "exponential" => Dist::Exponential {
            mean: positive("mean", get("mean")?)?,
        },
        "lognormal" => lognormal(t, unit, &get)?,
        "weibull" => Dist::Weibull {
            shape: positive("shape", get("shape")?)?,
            scale: positive("scale", get("scale")?)?,
        },
        "beta" => Dist::Beta {
            a: positive("a", get("a")?)?,
            b: positive("b", get("b")?)?,
        },
        _ => empirical(t, unit, base_dir)?,
    };
    Ok(dist)
}

/// The `dist = "..."` key of a distribution table.
fn dist_kind(t: &toml::Table) -> Result<&str, String> {
    match t.get("dist") {
        Some(toml::Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(format!("`dist` must be a string, one of: {KINDS}")),
        None => Err(format!(
            "a distribution table needs `dist = \"...\"`, one of: {KINDS}"
        )),
    }
}

/// The parameters a distribution kind takes; an unknown kind is refused here.
fn parameters_of(kind: &str) -> Result<&'static [&'static str], String> {
    Ok(match kind {
        "constant" => &["value"],
        "uniform" => &["min", "max"],
        "normal" => &["mean", "sd", "min", "max"],
        "exponential" => &["mean"],
        "lognormal" => &["median", "p95", "mu", "sigma"],
        "weibull" => &["shape", "scale"],
        "beta" => &["a", "b"],
        "empirical" => &["values", "weights", "file"],
        other => {
            let hint = crate::scenario::did_you_mean(other, KINDS.split(", "));
            return Err(format!(
                "unknown distribution `{other}`{hint}; valid: {KINDS}"
            ));
        }
    })
}

/// Refuses the first key (in table order) that `kind` does not take.
fn check_parameters(t: &toml::Table, kind: &str, allowed: &[&str]) -> Result<(), String> {
    for key in t.keys().filter(|k| *k != "dist") {
        if !allowed.contains(&key.as_str()) {
            let hint = crate::scenario::did_you_mean(key, allowed.iter().copied());
            return Err(format!(
                "`{key}` is not a parameter of `{kind}`{hint}; valid: {}",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// A normal distribution truncated to `[min, max]` (durations default to `min = 0`); a
/// truncation far in a tail is refused, since sampling it would reject almost every draw.
fn normal(
    t: &toml::Table,
    unit: Unit,
    get: &dyn Fn(&str) -> Result<f64, String>,
) -> Result<Dist, String> {
    let opt = |k: &str| -> Result<Option<f64>, String> { t.get(k).map(|_| get(k)).transpose() };
    let (mean, sd) = (get("mean")?, get("sd")?);
    if sd < 0.0 {
        return Err(format!("normal `sd` must be ≥ 0 (got {sd})"));
    }
    let min = opt("min")?.unwrap_or(if unit == Unit::Duration {
        0.0
    } else {
        f64::NEG_INFINITY
    });
    let max = opt("max")?.unwrap_or(f64::INFINITY);
    if max < min {
        return Err(format!("normal `max` ({max}) is below `min` ({min})"));
    }
    let z = |x: f64| (x - mean) / sd.max(f64::MIN_POSITIVE);
    if z(max) < -6.0 || z(min) > 6.0 {
        return Err("normal truncation [min, max] lies more than 6 sd from the mean".into());
    }
    Ok(Dist::Normal { mean, sd, min, max })
}

fn lognormal(
    t: &toml::Table,
    unit: Unit,
    get: &dyn Fn(&str) -> Result<f64, String>,
) -> Result<Dist, String> {
    match (t.contains_key("median"), t.contains_key("mu")) {
        (true, false) => {
            let (median, p95) = (get("median")?, get("p95")?);
            if median <= 0.0 {
                return Err(format!(
                    "lognormal `median` must be greater than 0 (got {median})"
                ));
            }
            if p95 <= median {
                return Err(format!(
                    "lognormal `p95` ({p95}) must be greater than `median` ({median}): the 95th percentile of a lognormal lies above its median"
                ));
            }
            Ok(Dist::LogNormal {
                mu: median.ln(),
                sigma: (p95.ln() - median.ln()) / Z95,
            })
        }
        (false, true) => {
            let (mu, sigma) = log_scale_params(t, unit)?;
            if sigma <= 0.0 {
                return Err(format!(
                    "lognormal `sigma` must be greater than 0 (got {sigma})"
                ));
            }
            Ok(Dist::LogNormal { mu, sigma })
        }
        _ => Err("lognormal takes either `median` and `p95`, or `mu` and `sigma`".into()),
    }
}

/// `mu` and `sigma` of a lognormal: plain numbers on the log scale, whatever the unit. For a
/// duration they are the mean and sd of ln(seconds), so a duration string (`mu = "1.5h"`) is a
/// mistake (it would read μ = 5400, a median of e^5400 s): it is refused with a pointer to
/// `median`/`p95`, and a `mu` whose median e^μ is past the longest duration is refused too.
fn log_scale_params(t: &toml::Table, unit: Unit) -> Result<(f64, f64), String> {
    let number = |k: &str| -> Result<f64, String> {
        match t.get(k) {
            None => Err(format!("`lognormal` needs `{k}`")),
            Some(toml::Value::String(s)) if unit != Unit::Number => Err(format!(
                "`{k}` is a log-scale parameter (of ln(seconds)), not a duration: write a number (`{k} = 8.6` is a median of e^8.6 s ≈ 1.5h), or give the distribution by `median = \"{s}\"` and `p95` instead"
            )),
            Some(v) => scalar(v, Unit::Number).map_err(|e| format!("`{k}`: {e}")),
        }
    };
    let (mu, sigma) = (number("mu")?, number("sigma")?);
    let mu_max = crate::engine::time::MAX_DURATION_SECS.ln();
    if unit != Unit::Number && mu > mu_max {
        return Err(format!(
            "lognormal `mu` = {mu} is a median of e^{mu} s, longer than the longest duration ({}d, mu ≤ {mu_max:.2})",
            crate::engine::time::MAX_DURATION_DAYS
        ));
    }
    Ok((mu, sigma))
}

fn empirical(t: &toml::Table, unit: Unit, base_dir: &Path) -> Result<Dist, String> {
    let values: Vec<f64> = match (t.get("values"), t.get("file")) {
        (Some(toml::Value::Array(a)), None) => a
            .iter()
            .map(|v| scalar(v, unit))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("`values`: {e}"))?,
        (None, Some(toml::Value::String(f))) => read_empirical_file(&base_dir.join(f), unit)?,
        _ => return Err(
            "empirical takes `values = [...]` (with optional `weights`) or `file = \"data.csv\"`"
                .into(),
        ),
    };
    if values.is_empty() {
        return Err("empirical needs at least one value".into());
    }
    let weights: Vec<f64> = match t.get("weights") {
        None => vec![1.0; values.len()],
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|v| scalar(v, Unit::Number))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("`weights`: {e}"))?,
        Some(_) => return Err("`weights` must be a list of numbers".into()),
    };
    if weights.len() != values.len() {
        return Err(format!(
            "`weights` has {} entries but `values` has {}",
            weights.len(),
            values.len()
        ));
    }
    if weights.iter().any(|w| *w < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
        return Err("`weights` must be ≥ 0 and not all zero".into());
    }
    let mut acc = 0.0;
    let cumulative = weights
        .iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect();
    Ok(Dist::Empirical { values, cumulative })
}

/// Reads the first column of an empirical values file. Errors name the file and the line and
/// say what was expected, but never quote the line: the file may be anything a path names
/// (`/etc/passwd`), and its contents do not belong in a message or a CI log.
fn read_empirical_file(path: &Path, unit: Unit) -> Result<Vec<f64>, String> {
    let bytes = crate::input_files::read(path, crate::input_files::EMPIRICAL)?;
    let shown = path.display();
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        format!(
            "{shown}: line {line}: not UTF-8 text; {} holds one value a line",
            crate::input_files::EMPIRICAL.what
        )
    })?;
    let expected = match unit {
        Unit::Duration => "a duration (e.g. 90s, 5m, or a number of seconds)",
        Unit::SignedDuration => "a signed duration (e.g. -5m, 90s, or a number of seconds)",
        Unit::Number => "a number",
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cell = line.split(',').next().unwrap_or("").trim();
        if cell.is_empty() {
            continue;
        }
        let parsed = match unit {
            Unit::Duration => crate::engine::time::parse_duration_secs(cell).ok(),
            // As in the scenario itself (see `scalar`), a signed duration is `-` and a duration.
            Unit::SignedDuration => match cell.strip_prefix('-') {
                Some(rest) => crate::engine::time::parse_duration_secs(rest)
                    .ok()
                    .map(|x| -x),
                None => crate::engine::time::parse_duration_secs(cell).ok(),
            },
            Unit::Number => cell.parse::<f64>().ok(),
        };
        match parsed {
            Some(v) if v.is_finite() => out.push(v),
            // A non-numeric first line is a header.
            _ if i == 0 => continue,
            Some(_) => {
                return Err(format!(
                    "{shown}: line {}: the value is not finite; expected {expected}",
                    i + 1
                ))
            }
            None => {
                return Err(format!(
                    "{shown}: line {}: expected {expected} in the first column",
                    i + 1
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{Purpose, Stream};

    fn dist(src: &str, unit: Unit) -> Dist {
        let v: toml::Table = toml::from_str(&format!("x = {src}")).unwrap();
        parse_dist(&v["x"], unit, Path::new(".")).unwrap()
    }

    fn quantile(d: &Dist, q: f64, n: usize) -> f64 {
        let mut s = Stream::keyed(1, 0, 0, Purpose::InstallTime);
        let mut xs: Vec<f64> = (0..n).map(|_| d.sample(&mut s)).collect();
        xs.sort_by(f64::total_cmp);
        xs[(q * n as f64) as usize]
    }

    /// With 100 000 draws the sample median and p95 are within 2 % of the stated values: the
    /// standard error of a sample quantile is about sqrt(q(1-q)/n)/f(x_q), here well below 1 %.
    #[test]
    fn lognormal_by_median_and_p95_hits_both() {
        let d = dist(
            r#"{ dist = "lognormal", median = "3m", p95 = "12m" }"#,
            Unit::Duration,
        );
        let med = quantile(&d, 0.5, 100_000);
        let p95 = quantile(&d, 0.95, 100_000);
        assert!((med / 180.0 - 1.0).abs() < 0.02, "median {med}");
        assert!((p95 / 720.0 - 1.0).abs() < 0.02, "p95 {p95}");
    }

    #[test]
    fn lognormal_rejects_p95_below_median() {
        let v: toml::Table =
            toml::from_str(r#"x = { dist = "lognormal", median = 10, p95 = 5 }"#).unwrap();
        let err = parse_dist(&v["x"], Unit::Number, Path::new(".")).unwrap_err();
        assert!(err.contains("p95"), "{err}");
    }

    #[test]
    fn unknown_kind_suggests_the_closest() {
        let v: toml::Table =
            toml::from_str(r#"x = { dist = "lognorm", median = 1, p95 = 2 }"#).unwrap();
        let err = parse_dist(&v["x"], Unit::Number, Path::new(".")).unwrap_err();
        assert!(err.contains("did you mean `lognormal`"), "{err}");
    }

    /// Regression: a normal truncated to `min == max` (or to a sliver far in a tail) spun
    /// through 10^7 rejected draws per device. Every draw is now bounded and inside the interval.
    #[test]
    fn truncated_normal_terminates_on_degenerate_and_narrow_intervals() {
        let mut s = Stream::keyed(4, 0, 0, Purpose::Storage);
        let point = dist(
            r#"{ dist = "normal", mean = 10, sd = 4, min = 3, max = 3 }"#,
            Unit::Number,
        );
        assert_eq!(point.sample(&mut s), 3.0);
        assert_eq!(point.sample_length_biased(&mut s), 3.0);
        let narrow = dist(
            r#"{ dist = "normal", mean = 0, sd = 1, min = 5.9, max = 5.9001 }"#,
            Unit::Number,
        );
        for _ in 0..10_000 {
            let x = narrow.sample(&mut s);
            assert!((5.9..=5.9001).contains(&x), "{x}");
            let y = narrow.sample_length_biased(&mut s);
            assert!((5.9..=5.9001).contains(&y), "{y}");
        }
        // The inverse CDF keeps the shape: the mean of a one-sided tail N(0,1) | x ≥ 2 is
        // φ(2)/(1-Φ(2)) = 2.3732; 100 000 draws, SE ≈ 0.0012, tolerance 0.01.
        let tail = dist(
            r#"{ dist = "normal", mean = 0, sd = 1, min = 2 }"#,
            Unit::Number,
        );
        let m = (0..100_000).map(|_| tail.sample(&mut s)).sum::<f64>() / 100_000.0;
        assert!((m - 2.3732).abs() < 0.01, "{m}");
    }

    /// Regression: `mu = "1.5h"` was read as μ = 5400 (a median of e^5400 s, which saturated
    /// every period to `u64::MAX`); a duration string for `mu` is refused with the fix.
    #[test]
    fn lognormal_mu_as_a_duration_string_is_refused() {
        let v: toml::Table =
            toml::from_str(r#"x = { dist = "lognormal", mu = "1.5h", sigma = 1 }"#).unwrap();
        let err = parse_dist(&v["x"], Unit::Duration, Path::new(".")).unwrap_err();
        assert!(err.contains("log-scale") && err.contains("median"), "{err}");
        let v: toml::Table =
            toml::from_str(r#"x = { dist = "lognormal", mu = 5400, sigma = 1 }"#).unwrap();
        let err = parse_dist(&v["x"], Unit::Duration, Path::new(".")).unwrap_err();
        assert!(err.contains("mu ≤"), "{err}");
        let ok = dist(
            r#"{ dist = "lognormal", mu = 8.6, sigma = 1 }"#,
            Unit::Duration,
        );
        assert_eq!(
            ok,
            Dist::LogNormal {
                mu: 8.6,
                sigma: 1.0
            }
        );
    }

    /// The closed-form means agree with 200 000-draw sample means within 1 % (the relative
    /// standard error of each is below 0.3 %).
    #[test]
    fn means_match_samples() {
        for src in [
            r#"{ dist = "exponential", mean = "7d" }"#,
            r#"{ dist = "lognormal", median = "4h", p95 = "2d" }"#,
            r#"{ dist = "weibull", shape = 1.5, scale = 100 }"#,
            r#"{ dist = "uniform", min = 40, max = 200 }"#,
            r#"{ dist = "normal", mean = 10, sd = 4, min = 0 }"#,
            r#"{ dist = "empirical", values = [1, 2, 10], weights = [1, 1, 2] }"#,
        ] {
            let d = dist(src, Unit::Duration);
            let mut s = Stream::keyed(2, 0, 0, Purpose::Storage);
            let n = 200_000;
            let m = (0..n).map(|_| d.sample(&mut s)).sum::<f64>() / n as f64;
            assert!(
                (m / d.mean() - 1.0).abs() < 0.01,
                "{src}: sample {m} vs {}",
                d.mean()
            );
        }
    }

    /// A length-biased draw has mean E[X²]/E[X]; for an exponential that is twice the mean, for a
    /// uniform(a,b) it is (a²+ab+b²)/(1.5(a+b)). Tolerance 1 % on 200 000 draws.
    #[test]
    fn length_biased_means() {
        let cases = [
            (r#"{ dist = "exponential", mean = 10 }"#, 20.0),
            (r#"{ dist = "uniform", min = 0, max = 10 }"#, 100.0 / 15.0),
        ];
        for (src, want) in cases {
            let d = dist(src, Unit::Number);
            let mut s = Stream::keyed(3, 0, 0, Purpose::Connectivity);
            let n = 200_000;
            let m = (0..n).map(|_| d.sample_length_biased(&mut s)).sum::<f64>() / n as f64;
            assert!((m / want - 1.0).abs() < 0.01, "{src}: {m} vs {want}");
        }
    }
}
