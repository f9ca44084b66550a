//! Statistics used by gates and by the cross-replication summary: Wilson score bounds,
//! exact (Clopper–Pearson / Garwood) bounds, the conditional test for a ratio of two Poisson
//! rates, quantiles and confidence intervals of a mean; the always-valid sequential test of a
//! binomial rate ([`sequential`]).

use statrs::distribution::{Beta, ContinuousCDF, Normal, StudentsT};

pub mod sequential;

/// Standard normal quantile Φ⁻¹(p).
pub fn z_quantile(p: f64) -> f64 {
    Normal::new(0.0, 1.0)
        .map(|n| n.inverse_cdf(p))
        .unwrap_or(f64::NAN)
}

/// Wilson score interval for `k` successes in `n` trials with critical value `z`.
/// Returns `(lower, upper)`; `(0, 1)` when `n` is 0.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p) = (n as f64, (k as f64 / n as f64).clamp(0.0, 1.0));
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Critical value of the two-sided 95 % intervals the summaries report (`rate_summary`).
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson upper bound at critical value `z` for an observed proportion `p` in `n` trials —
/// [`wilson`]'s upper end with the proportion given directly, so that it can be asked of a
/// replication count that has not been run.
pub fn wilson_upper(p: f64, n: u64, z: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let (n, p, z2) = (n as f64, p.clamp(0.0, 1.0), z * z);
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (centre + half).min(1.0)
}

/// Most replications [`replications_to_settle`] will name; beyond it the answer is "never in
/// practice".
pub const MAX_SETTLE_REPLICATIONS: u64 = 1_000_000_000;

/// The smallest replication count `n` at which observing the proportion `p` again would put the
/// Wilson upper bound (critical value `z`) at or below `limit`: how many runs would settle
/// whether a rate is ≤ `limit`. `None` when `p ≥ limit` (no count settles it) or when more than
/// [`MAX_SETTLE_REPLICATIONS`] are needed. For `p = 0` the bound is `z²/(n + z²)`, so
/// `n = ⌈z²(1 − limit)/limit⌉` (381 for 1 % at z = 1.96).
pub fn replications_to_settle(p: f64, limit: f64, z: f64) -> Option<u64> {
    if p.is_nan() || p >= limit || limit <= 0.0 {
        return None;
    }
    let fits = |n: u64| wilson_upper(p, n, z) <= limit;
    // For a fixed proportion below the limit the bound falls towards `p` as `n` grows, so the
    // counts that fit are an upward-closed range: double to bracket it, then bisect.
    let mut hi = 1u64;
    while !fits(hi) {
        if hi >= MAX_SETTLE_REPLICATIONS {
            return None;
        }
        hi *= 2;
    }
    let mut lo = hi / 2; // does not fit (or is 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// One-sided Clopper–Pearson lower bound on a binomial proportion at `confidence`.
pub fn binomial_lower(k: u64, n: u64, confidence: f64) -> f64 {
    if k == 0 || n == 0 {
        return 0.0;
    }
    Beta::new(k as f64, (n - k + 1) as f64)
        .map(|b| b.inverse_cdf(1.0 - confidence))
        .unwrap_or(0.0)
}

/// One-sided exact (Garwood) lower bound on a Poisson mean from `k` events at `confidence`:
/// the (1 − confidence) quantile of Gamma(k, 1).
pub fn poisson_lower(k: u64, confidence: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    statrs::distribution::Gamma::new(k as f64, 1.0)
        .map(|g| g.inverse_cdf(1.0 - confidence))
        .unwrap_or(0.0)
}

/// One-sided exact (Garwood) upper bound on a Poisson mean from `k` events at `confidence`:
/// the `confidence` quantile of Gamma(k + 1, 1).
pub fn poisson_upper(k: u64, confidence: f64) -> f64 {
    statrs::distribution::Gamma::new(k as f64 + 1.0, 1.0)
        .map(|g| g.inverse_cdf(confidence))
        .unwrap_or(f64::INFINITY)
}

/// Lower confidence bound of the ratio of two Poisson rates, `(x1/e1) / (x0/e0)`, by the exact
/// conditional test: given `n = x1 + x0` events, `x1 ~ Binomial(n, p)` with
/// `p = r·e1 / (r·e1 + e0)`, so a lower bound on `p` maps to a lower bound on `r`.
pub fn rate_ratio_lower(x1: u64, e1: f64, x0: u64, e0: f64, confidence: f64) -> f64 {
    if x1 == 0 || e1 <= 0.0 || e0 <= 0.0 {
        return 0.0;
    }
    let p = binomial_lower(x1, x1 + x0, confidence);
    if p >= 1.0 {
        return f64::INFINITY;
    }
    p / (1.0 - p) * e0 / e1
}

/// The `q` quantile (0..=1) of sorted data by linear interpolation between closest ranks
/// (the "type 7" definition used by R and NumPy), so it is reproducible by users.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    quantile_sorted_by(sorted.len(), q, |i| sorted[i])
}

/// [`quantile_sorted`] of `len` sorted values, value `i` read as `at(i)` (data kept in
/// another type, converted only where the quantile reads it).
pub fn quantile_sorted_by(len: usize, q: f64, at: impl Fn(usize) -> f64) -> Option<f64> {
    if len == 0 {
        return None;
    }
    let h = (len - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(at(lo) + (h - lo as f64) * (at(hi) - at(lo)))
}

/// Summary of one metric across replications (SPEC §2).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aggregate {
    /// Replications where the metric had a value.
    pub n: u64,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub min: Option<f64>,
    pub p5: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    /// 95 % confidence interval of the mean (Student t).
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    /// Replications where the metric had no value (e.g. `time_to_99` never reached).
    pub missing: u64,
}

impl Aggregate {
    /// A statistic by its `[[expect]]` name (`mean sd min p5 p50 p95 p99 max`; `rate` is the
    /// mean of a yes/no metric); `None` for an unknown name or no value.
    pub fn stat(&self, stat: &str) -> Option<f64> {
        match stat {
            "mean" | "rate" => self.mean,
            "sd" => self.sd,
            "min" => self.min,
            "p5" => self.p5,
            "p50" => self.p50,
            "p95" => self.p95,
            "p99" => self.p99,
            "max" => self.max,
            _ => None,
        }
    }
}

/// Aggregates values in replication order (missing values are `None`).
pub fn aggregate(values: &[Option<f64>]) -> Aggregate {
    let mut xs: Vec<f64> = values.iter().flatten().copied().collect();
    let missing = (values.len() - xs.len()) as u64;
    if xs.is_empty() {
        return Aggregate {
            missing,
            ..Aggregate::default()
        };
    }
    // The mean is summed in replication order, before sorting, so its bits never depend on
    // thread scheduling.
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let sd = var.sqrt();
    let half = if xs.len() > 1 {
        StudentsT::new(0.0, 1.0, n - 1.0)
            .map(|t| t.inverse_cdf(0.975))
            .unwrap_or(1.96)
            * sd
            / n.sqrt()
    } else {
        0.0
    };
    xs.sort_by(f64::total_cmp);
    Aggregate {
        n: xs.len() as u64,
        mean: Some(mean),
        sd: Some(sd),
        min: xs.first().copied(),
        p5: quantile_sorted(&xs, 0.05),
        p50: quantile_sorted(&xs, 0.5),
        p95: quantile_sorted(&xs, 0.95),
        p99: quantile_sorted(&xs, 0.99),
        max: xs.last().copied(),
        ci95_low: Some(mean - half),
        ci95_high: Some(mean + half),
        missing,
    }
}

/// A yes/no metric across replications: its rate with a 95 % Wilson interval.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RateSummary {
    pub n: u64,
    pub count: u64,
    pub rate: f64,
    pub wilson95_low: f64,
    pub wilson95_high: f64,
}

pub fn rate_summary(flags: &[bool]) -> RateSummary {
    let n = flags.len() as u64;
    let count = flags.iter().filter(|f| **f).count() as u64;
    let (lo, hi) = wilson(count, n, Z95);
    RateSummary {
        n,
        count,
        rate: if n == 0 { 0.0 } else { count as f64 / n as f64 },
        wilson95_low: lo,
        wilson95_high: hi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// 0 events: the bound is z²/(n+z²) ≤ 0.01 ⇔ n ≥ 1.96²·0.99/0.01 = 380.3, so 381. A 5 %
    /// proportion against a 10 % limit: the count is checked against its neighbour (n − 1 does
    /// not fit) rather than a hand value, and pinned.
    #[test]
    fn replications_to_settle_known_values() {
        assert_eq!(replications_to_settle(0.0, 0.01, Z95), Some(381));
        assert!(wilson_upper(0.0, 381, Z95) <= 0.01 && wilson_upper(0.0, 380, Z95) > 0.01);
        assert_eq!(replications_to_settle(0.0, 0.05, Z95), Some(73));
        let n = replications_to_settle(0.05, 0.1, Z95).unwrap();
        assert!(wilson_upper(0.05, n, Z95) <= 0.1 && wilson_upper(0.05, n - 1, Z95) > 0.1);
        assert_eq!(n, 139, "5 % seen, 10 % limit");
        assert_eq!(replications_to_settle(0.01, 0.01, Z95), None);
        assert_eq!(replications_to_settle(0.2, 0.1, Z95), None);
        // The proportion form agrees with the count form of the interval.
        assert!((wilson_upper(5.0 / 20.0, 20, Z95) - wilson(5, 20, Z95).1).abs() < 1e-12);
    }

    /// Reference values: Wilson 95 % interval for 5/20 is (0.1119, 0.4687) and for 0/10 is
    /// (0, 0.2775) (Newcombe 1998, Table I; Agresti & Coull 1998).
    #[test]
    fn wilson_known_values() {
        let z = z_quantile(0.975);
        let (lo, hi) = wilson(5, 20, z);
        assert!(
            close(lo, 0.1119, 5e-4) && close(hi, 0.4687, 5e-4),
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 10, z);
        assert!(
            close(lo, 0.0, 1e-12) && close(hi, 0.2775, 5e-4),
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(81, 263, z);
        assert!(
            close(lo, 0.2553, 5e-4) && close(hi, 0.3662, 5e-4),
            "{lo} {hi}"
        );
    }

    /// Garwood: the one-sided 95 % lower bound on a Poisson mean from 10 events is 5.4254.
    #[test]
    fn poisson_lower_known_value() {
        assert!(close(poisson_lower(10, 0.95), 5.4254, 1e-3));
        assert_eq!(poisson_lower(0, 0.95), 0.0);
    }

    /// Garwood's one-sided 95 % upper bounds: −ln 0.05 = 2.9957 for no events, and the
    /// tabulated 16.962 for 10.
    #[test]
    fn poisson_upper_known_value() {
        assert!(close(poisson_upper(0, 0.95), 2.9957, 1e-3));
        assert!(close(poisson_upper(10, 0.95), 16.962, 1e-2));
    }

    /// Clopper–Pearson: one-sided 95 % lower bound for 3/10 is 0.0873.
    #[test]
    fn binomial_lower_known_value() {
        assert!(close(binomial_lower(3, 10, 0.95), 0.0873, 1e-3));
    }

    /// Regression: statrs 0.17 inverted the Beta CDF by 16 bisection steps on [-2, 2], a
    /// resolution of 6·10⁻⁵, so small bounds were far off (1 of 10⁶ gave 3·10⁻⁵ instead of
    /// 5·10⁻⁸). Where the bound has a closed form it must now match it to 1e-9 relative:
    /// k = 1 gives Beta(1, n), whose CDF is 1 − (1 − x)ⁿ, and k = n gives Beta(n, 1) (CDF xⁿ).
    #[test]
    fn binomial_lower_is_exact_for_small_bounds() {
        for (n, confidence) in [
            (1_000_000u64, 0.95f64),
            (395, 0.95),
            (20, 0.99),
            (5000, 0.9),
        ] {
            let one = 1.0 - confidence.powf(1.0 / n as f64);
            let got = binomial_lower(1, n, confidence);
            assert!(((got - one) / one).abs() < 1e-9, "1/{n}: {got} vs {one}");
            let all = (1.0 - confidence).powf(1.0 / n as f64);
            let got = binomial_lower(n, n, confidence);
            assert!(((got - all) / all).abs() < 1e-9, "{n}/{n}: {got} vs {all}");
        }
    }

    /// Equal counts over equal exposure give a ratio whose lower bound is below 1; a large
    /// excess over plenty of data gives a bound above 1.
    #[test]
    fn rate_ratio_bounds() {
        assert!(rate_ratio_lower(10, 100.0, 10, 100.0, 0.95) < 1.0);
        // 60 vs 20 events over equal exposure: point ratio 3, one-sided 95 % bound about 1.92.
        let lo = rate_ratio_lower(60, 100.0, 20, 100.0, 0.95);
        assert!(lo > 1.8 && lo < 2.0, "{lo}");
        assert_eq!(rate_ratio_lower(0, 100.0, 20, 100.0, 0.95), 0.0);
    }

    #[test]
    fn aggregate_of_known_data() {
        let v: Vec<Option<f64>> = vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0), None];
        let a = aggregate(&v);
        assert_eq!(a.n, 4);
        assert_eq!(a.missing, 1);
        assert_eq!(a.mean, Some(2.5));
        assert_eq!(a.p50, Some(2.5));
        assert!(close(a.sd.unwrap(), 1.290_994, 1e-6));
        // t(0.975, 3) = 3.1824463: half-width 3.1824463 · 1.2909944 / 2 = 2.0542603.
        assert!(close(a.ci95_high.unwrap(), 4.554_260, 1e-5));
    }
}
