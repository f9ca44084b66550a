//! An always-valid one-sided test of a binomial rate: the beta-binomial mixture confidence
//! sequence of Robbins (1970), as Howard, Ramdas, McAuliffe and Sekhon (2021) present it,
//! restricted to rates above the threshold. An abort rule with `test = "sequential"` judges
//! its rate with it after every result.
//!
//! # Derivation
//!
//! Results arrive one by one, `X_1, X_2, …` in {0, 1}, independent with rate `p`; after `n`
//! of them `S` are failures and `F = n − S` are not. The hypothesis the rule guards against is
//! `p > p0` (the threshold); the release is acceptable when `p ≤ p0`.
//!
//! 1. For a fixed alternative `q`, the likelihood ratio
//!    `Λ_n(q) = q^S (1−q)^F / (p0^S (1−p0)^F)` grows by the factor `q/p0` on a failure and
//!    `(1−q)/(1−p0)` otherwise, so `E_p[Λ_{n+1}(q) | past] = Λ_n(q) · g(p)` with
//!    `g(p) = p·q/p0 + (1−p)(1−q)/(1−p0)`. `g` is affine in `p`, `g(p0) = 1`, and its slope
//!    is `(q − p0) / (p0 (1 − p0))`, positive for `q > p0`. So for every `q > p0`,
//!    `g(p) ≤ 1` whenever `p ≤ p0`: `Λ_n(q)` is a nonnegative supermartingale under every
//!    acceptable rate (a martingale at `p = p0`), with `Λ_0 = 1`.
//! 2. Mixing over `q` with a prior `π` that puts all its mass on `(p0, 1)` keeps this: by
//!    Tonelli, `E_p[M_{n+1} | past] = ∫ Λ_n(q) g_q(p) π(dq) ≤ M_n` for
//!    `M_n = ∫ Λ_n(q) π(dq)`, and `M_0 = 1`. (A prior with mass below `p0` would not: its
//!    components with `q < p0` grow in expectation when `p < p0`; that is why the mixture is
//!    truncated, and why the test is one-sided.)
//! 3. Ville's inequality for a nonnegative supermartingale: `P_p(sup_n M_n ≥ 1/α) ≤ α E[M_0]
//!    = α` for every `p ≤ p0`. Firing the first time `M_n ≥ 1/α`, with `α = 1 − confidence`,
//!    is therefore wrong with chance at most `α` over the whole rollout, however many results
//!    are judged and whenever the rollout stops — which repeated point or Wilson checks are
//!    not (each look spends its own `α`).
//! 4. With `π` the Beta(a, b) density restricted to `(p0, 1)` and renormalised, the integral
//!    is a ratio of incomplete beta functions:
//!    `M_n = B(a+S, b+F) T(a+S, b+F) / (B(a, b) T(a, b)) / (p0^S (1−p0)^F)`, where
//!    `T(α, β) = 1 − I_{p0}(α, β)` is the mass of Beta(α, β) above `p0` (`I` the regularised
//!    incomplete beta function). Everything is computed in log space.
//!
//! Two facts make most evaluations free. `Λ_n(q) ≤ Λ_n(p̂)` with `p̂ = S/n` (the maximum
//! likelihood), so `ln M_n ≤ n·KL(p̂ ‖ p0)`: below `ln(1/α)` the test cannot fire. And for
//! `p̂ ≤ p0`, `ln Λ_n(q)` decreases in `q` on `(p0, 1)` from 0, so `M_n < 1`: the test never
//! fires on a rate at or below the threshold.
//!
//! # The prior
//!
//! `a = 1, b = (1 − p0)/p0`: before truncation a Beta with mean `p0` and the weight of
//! `1/p0` results. Truncated to `(p0, 1)` its density falls off like `exp(−(q − p0)/p0)`, so
//! its mass lies on rates up to a few times the threshold — the ones a rollout must catch
//! early — rather than on rates near 1, which any test catches at once. A release whose true
//! rate is 3× the threshold is detected within a few dozen multiples of `1/p0` results (the
//! statistical test beside this module measures it).
//!
//! References: H. Robbins, "Statistical methods related to the law of the iterated
//! logarithm", Ann. Math. Statist. 41 (1970); S. R. Howard, A. Ramdas, J. McAuliffe,
//! J. Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist.
//! 49 (2021), their conjugate-mixture boundaries (the beta-binomial mixture); J. Ville,
//! "Étude critique de la notion de collectif" (1939).

use statrs::function::beta::{checked_beta_reg, ln_beta};

/// The one-sided sequential test of "rate > `p0`" at level `α = 1 − confidence`.
#[derive(Clone, Copy, Debug)]
pub struct SequentialTest {
    p0: f64,
    /// `ln(1/α)`: the test fires when `ln M_n` reaches it.
    log_level: f64,
    a: f64,
    b: f64,
    /// `ln B(a, b) + ln T(a, b)`: the normalisation of the truncated prior.
    log_prior_mass: f64,
}

impl SequentialTest {
    /// The test of `p > p0` at `confidence`; `p0` strictly between 0 and 1 (validated).
    pub fn new(p0: f64, confidence: f64) -> SequentialTest {
        let (a, b) = (1.0, (1.0 - p0) / p0);
        SequentialTest {
            p0,
            log_level: -(1.0 - confidence).ln(),
            a,
            b,
            log_prior_mass: ln_beta(a, b) + ln_mass_above(p0, a, b),
        }
    }

    /// `ln M_n` after `failures` of `n` results; `None` when it is certainly below the firing
    /// level (the rate at or below `p0`, or `n·KL(p̂ ‖ p0)` below `ln(1/α)`), where it is not
    /// computed.
    pub fn log_evidence(&self, failures: u64, n: u64) -> Option<f64> {
        if n == 0 || failures > n {
            return None;
        }
        let (s, f) = (failures as f64, (n - failures) as f64);
        let p_hat = s / n as f64;
        if p_hat <= self.p0 || n as f64 * kl(p_hat, self.p0) < self.log_level {
            return None;
        }
        let (alpha, beta) = (self.a + s, self.b + f);
        let log_lik_null = s * self.p0.ln() + f * (1.0 - self.p0).ln();
        Some(
            ln_beta(alpha, beta) + ln_mass_above(self.p0, alpha, beta)
                - self.log_prior_mass
                - log_lik_null,
        )
    }

    /// Whether the test fires: `M_n ≥ 1/α`.
    pub fn fires(&self, failures: u64, n: u64) -> bool {
        self.log_evidence(failures, n)
            .is_some_and(|l| l >= self.log_level)
    }
}

/// `ln T(α, β)`: the log of the mass of Beta(α, β) above `p0`, `ln I_{1−p0}(β, α)`.
fn ln_mass_above(p0: f64, alpha: f64, beta: f64) -> f64 {
    // Valid arguments by construction (α, β > 0, p0 in (0, 1)); a failure reads as no mass,
    // which can only keep the test from firing.
    checked_beta_reg(beta, alpha, 1.0 - p0).map_or(f64::NEG_INFINITY, f64::ln)
}

/// Kullback–Leibler divergence of Bernoulli(`p`) from Bernoulli(`q`), `q` in (0, 1).
fn kl(p: f64, q: f64) -> f64 {
    let term = |x: f64, y: f64| if x > 0.0 { x * (x / y).ln() } else { 0.0 };
    term(p, q) + term(1.0 - p, 1.0 - q)
}

#[cfg(test)]
mod tests;
