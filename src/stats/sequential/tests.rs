//! The sequential test against an independent computation and, statistically, against its
//! promise: on a release whose true rate is at the threshold it fires at most 1 − confidence
//! of the time over a whole rollout judged after every result, where repeated point and Wilson
//! checks fire far more often; on a release at 3× the threshold it fires, and soon.

use super::*;
use crate::engine::rng::{mix64, Stream};
use crate::stats::{wilson, z_quantile};

/// `ln M_n` against an adaptive quadrature of the truncated-prior integral at 30 digits
/// (mpmath, outside this crate), small counts to a million results. The tolerance 1e-6 is the
/// continued fraction's and ln-gamma's accuracy at these sizes; the values span the firing
/// level ln 20 ≈ 3.0.
#[test]
fn log_evidence_matches_an_independent_quadrature() {
    let cases = [
        (0.05, 0.8, 10, 100, 1.466_000_740_145_47),
        (0.05, 0.95, 1500, 25_000, 22.025_732_580_542_6),
        (0.05, 0.95, 52_000, 1_000_000, 37.047_842_727_322_3),
        (0.05, 0.95, 50_600, 1_000_000, -0.750_146_924_000_604),
        (0.1, 0.95, 25, 100, 7.886_555_876_631_86),
        // Lower levels (0.8 above too), so that cases this close to the threshold are
        // computed at all.
        (0.2, 0.2, 3, 10, 0.014_873_848_823_206_5),
    ];
    for (p0, confidence, s, n, expected) in cases {
        let got = SequentialTest::new(p0, confidence)
            .log_evidence(s, n)
            .unwrap_or_else(|| panic!("{s}/{n} at {p0}: not computed"));
        assert!(
            (got - expected).abs() < 1e-6 * expected.abs().max(1.0),
            "{s}/{n} at {p0}: {got} vs {expected}"
        );
    }
}

/// At or below the threshold the evidence is never computed, so the test never fires there.
#[test]
fn never_fires_at_or_below_the_threshold() {
    let t = SequentialTest::new(0.05, 0.95);
    for n in 1..=5000u64 {
        let at = n / 20;
        assert!(!t.fires(at, n), "{at}/{n}");
        assert!(t.log_evidence(at, n).is_none(), "{at}/{n}");
    }
    assert!(t.fires(5, 5), "every result a failure fires at once");
}

/// How often each rule fires at least once over `rollouts` simulated rollouts of `results`
/// results at true rate `p`, judged after every result from the 20th on; and, per rollout
/// that fired, after how many results (the sequential test's).
fn fire_rates(p: f64, p0: f64, rollouts: u64, results: u64) -> ([u64; 3], Vec<u64>) {
    const MIN_EXECUTED: u64 = 20;
    let confidence = 0.95;
    let seq = SequentialTest::new(p0, confidence);
    let z = z_quantile(confidence);
    let mut fired = [0u64; 3];
    let mut detected_at = Vec::new();
    for r in 0..rollouts {
        let mut s = Stream::new(mix64(0x5e9_0001 ^ r << 20));
        let (mut failures, mut point, mut wil, mut sq) = (0u64, false, false, false);
        for n in 1..=results {
            failures += s.bernoulli(p) as u64;
            if n < MIN_EXECUTED {
                continue;
            }
            point |= failures as f64 / n as f64 > p0;
            wil = wil || wilson(failures, n, z).0 > p0;
            if !sq && seq.fires(failures, n) {
                sq = true;
                detected_at.push(n);
            }
        }
        for (k, f) in [point, wil, sq].into_iter().enumerate() {
            fired[k] += f as u64;
        }
    }
    (fired, detected_at)
}

/// The statistical test of issue 12 item 2. 2000 rollouts of 1000 results each at a true rate
/// equal to the threshold 0.05 (fixed seed), every rule judged after every result from the
/// 20th: the point check and the 95 % Wilson check, each nominally wrong 5 % of the time at
/// one look, fire in most / many rollouts; the sequential test at confidence 0.95 fires in at
/// most 5 %. Tolerance: the 99.9 % Wilson interval of each observed rate over 2000 rollouts
/// (about ±1.7 points at 5 %), so the assertions fail by chance less than once in a thousand
/// seeds. Measured (seed fixed): point 0.926, Wilson 0.366, sequential 0.026.
#[test]
fn repeated_point_checks_fire_far_above_their_level_and_sequential_does_not() {
    let (rollouts, alpha) = (2000, 0.05);
    let ([point, wil, seq], _) = fire_rates(0.05, 0.05, rollouts, 1000);
    let z = z_quantile(0.9995);
    let rate = |k: u64| k as f64 / rollouts as f64;
    eprintln!(
        "fired at the threshold: point {}, wilson {}, sequential {}",
        rate(point),
        rate(wil),
        rate(seq)
    );
    assert!(
        wilson(point, rollouts, z).0 > 10.0 * alpha,
        "point {}",
        rate(point)
    );
    assert!(
        wilson(wil, rollouts, z).0 > 2.0 * alpha,
        "wilson {}",
        rate(wil)
    );
    assert!(
        wilson(seq, rollouts, z).0 <= alpha,
        "sequential fired in {} of rollouts, above its level {alpha}",
        rate(seq)
    );
}

/// A clearly bad release: true rate 3× the threshold (0.15 vs 0.05). 1000 rollouts (fixed
/// seed): the sequential test fires within 400 results in at least 98 % of them (tolerance:
/// the 99.9 % Wilson lower bound of the detected share; 1000 of 1000 gives 0.989), and its
/// median detection takes fewer than 100 results — measured: all 1000 detected, median after
/// 50 results, slowest 254.
#[test]
fn sequential_detects_a_release_at_three_times_the_threshold() {
    let rollouts = 1000;
    let (_, mut at) = fire_rates(0.15, 0.05, rollouts, 400);
    at.sort_unstable();
    let detected = at.len() as u64;
    let median = at.get(at.len() / 2).copied().unwrap_or(u64::MAX);
    eprintln!(
        "3x threshold: detected {detected} of {rollouts}, median after {median} results, slowest {:?}",
        at.last()
    );
    assert!(wilson(detected, rollouts, z_quantile(0.9995)).0 > 0.98);
    assert!(median < 100, "median detection after {median} results");
}
