//! Chaos campaigns (`fleetsim chaos`, SPEC §1.7): draw random fault schedules from the fault
//! space of `[chaos]`, keep the ones that break the scenario's `[[expect]]` assertions, and
//! shrink each to the fewest, shortest, narrowest faults that still break them.
//!
//! Schedules are drawn from a stream keyed by the campaign seed and the campaign number, so a
//! campaign is reproducible at any thread count, and a schedule is rendered as plain
//! `[[fault]]` tables appended to the scenario: the reproducer is exactly what ran.

use crate::engine::rng::{stream_key, Purpose, Stream};
use crate::scenario::Scenario;

/// Fault kinds a campaign can draw (every kind of SPEC §1.7 but `backend-api`, which needs a
/// backend version the campaign cannot invent).
pub const DRAWABLE: [&str; 8] = [
    "network-outage",
    "power-outage",
    "cdn-degradation",
    "corrupt-artifact",
    "tampered-artifact",
    "telemetry-delay",
    "telemetry-drop",
    "clock-skew",
];

/// One drawn fault, in the units of the scenario file.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DrawnFault {
    pub kind: String,
    /// Seconds since the scenario start.
    pub at: f64,
    pub duration: f64,
    /// `(selector key, value)`, or the whole fleet.
    pub scope: Option<(String, String)>,
    /// Extra parameters as TOML values.
    pub params: Vec<(String, String)>,
}

impl DrawnFault {
    pub fn to_toml(&self) -> String {
        let mut t = format!(
            "[[fault]]\nkind = \"{}\"\nat = {}\nduration = {}\n",
            self.kind,
            self.at.round(),
            self.duration.round()
        );
        if let Some((k, v)) = &self.scope {
            t.push_str(&format!("where = {{ {k} = \"{v}\" }}\n"));
        }
        for (k, v) in &self.params {
            t.push_str(&format!("{k} = {v}\n"));
        }
        t
    }

    /// A one-line description for tables.
    pub fn describe(&self) -> String {
        let scope = self
            .scope
            .as_ref()
            .map_or("fleet".to_string(), |(k, v)| format!("{k}={v}"));
        format!(
            "{}@{}+{} [{}]",
            self.kind,
            crate::engine::time::human_secs(self.at),
            crate::engine::time::human_secs(self.duration),
            scope
        )
    }
}

/// The scopes a fault can take in this fleet: each region and each population.
pub fn scopes(sc: &Scenario) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for p in &sc.populations {
        if !p.region.is_empty() && !out.iter().any(|(k, v)| k == "region" && *v == p.region) {
            out.push(("region".into(), p.region.clone()));
        }
    }
    out.extend(
        sc.populations
            .iter()
            .map(|p| ("population".to_string(), p.name.clone())),
    );
    out
}

fn uniform(s: &mut Stream, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * s.uniform()
}

/// Draws campaign `c`'s schedule: 1 to `max_faults` faults of the given kinds, each at a
/// uniform time in the rollout window, lasting 10 minutes to 2 days (log-uniform), on the whole
/// fleet or one region or population, with parameters from broad ranges.
pub fn draw(
    sc: &Scenario,
    kinds: &[String],
    max_faults: u32,
    campaign_seed: u64,
    c: u64,
) -> Vec<DrawnFault> {
    let mut s = Stream::new(stream_key(campaign_seed, c, u64::MAX, Purpose::Chaos));
    let scopes = scopes(sc);
    let end = sc.policy.window_end.min(sc.horizon).as_secs_f64();
    let n = 1 + (s.uniform() * max_faults.max(1) as f64) as u32;
    (0..n.min(max_faults.max(1)))
        .map(|_| {
            let kind =
                kinds[((s.uniform() * kinds.len() as f64) as usize).min(kinds.len() - 1)].clone();
            let at = uniform(&mut s, 0.0, end * 0.9);
            let duration = (600f64.ln() + s.uniform() * (172_800f64.ln() - 600f64.ln())).exp();
            let scope = if scopes.is_empty() || s.uniform() < 0.5 {
                None
            } else {
                Some(
                    scopes[((s.uniform() * scopes.len() as f64) as usize).min(scopes.len() - 1)]
                        .clone(),
                )
            };
            let params = match kind.as_str() {
                "power-outage" => vec![(
                    "fraction".into(),
                    format!("{:.3}", uniform(&mut s, 0.05, 1.0)),
                )],
                "cdn-degradation" => vec![
                    (
                        "bandwidth_factor".into(),
                        format!("{:.3}", uniform(&mut s, 0.05, 0.8)),
                    ),
                    (
                        "error_rate".into(),
                        format!("{:.3}", uniform(&mut s, 0.0, 0.3)),
                    ),
                ],
                "corrupt-artifact" | "telemetry-drop" => vec![(
                    "probability".into(),
                    format!("{:.3}", uniform(&mut s, 0.01, 0.5)),
                )],
                "telemetry-delay" => {
                    let median = uniform(&mut s, 600.0, 43_200.0).round();
                    vec![(
                        "delay".into(),
                        format!(
                            "{{ dist = \"lognormal\", median = {median}, p95 = {} }}",
                            median * 4.0
                        ),
                    )]
                }
                "clock-skew" => vec![(
                    "skew".into(),
                    format!(
                        "{{ dist = \"normal\", mean = 0, sd = {} }}",
                        uniform(&mut s, 1800.0, 21_600.0).round()
                    ),
                )],
                _ => vec![],
            };
            DrawnFault {
                kind,
                at,
                duration,
                scope,
                params,
            }
        })
        .collect()
}

/// Smaller variants of a schedule, most aggressive first: without one fault, with one fault
/// half as long, with one fault narrowed from the fleet to a single region or population.
pub fn shrink_candidates(
    faults: &[DrawnFault],
    scopes: &[(String, String)],
) -> Vec<Vec<DrawnFault>> {
    let mut out = Vec::new();
    for i in 0..faults.len() {
        if faults.len() > 1 {
            let mut f = faults.to_vec();
            f.remove(i);
            out.push(f);
        }
    }
    for i in 0..faults.len() {
        if faults[i].duration >= 1200.0 {
            let mut f = faults.to_vec();
            f[i].duration = (f[i].duration / 2.0).round();
            out.push(f);
        }
    }
    for i in 0..faults.len() {
        if faults[i].scope.is_none() {
            for s in scopes {
                let mut f = faults.to_vec();
                f[i].scope = Some(s.clone());
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_offers_removals_then_halvings_then_narrowings() {
        let f = DrawnFault {
            kind: "network-outage".into(),
            at: 0.0,
            duration: 7200.0,
            scope: None,
            params: vec![],
        };
        let c = shrink_candidates(&[f.clone(), f.clone()], &[("region".into(), "eu".into())]);
        assert_eq!(c.len(), 2 + 2 + 2);
        assert_eq!(c[0].len(), 1);
        assert_eq!(c[2][0].duration, 3600.0);
        assert_eq!(c[4][0].scope, Some(("region".into(), "eu".into())));
        assert!(f
            .to_toml()
            .contains("kind = \"network-outage\"\nat = 0\nduration = 7200\n"));
    }
}
