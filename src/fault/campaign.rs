//! Chaos campaigns (`fleetsim chaos`, SPEC §1.7): draw random fault schedules from the fault
//! space of `[chaos]`, keep the ones that break the scenario's `[[expect]]` assertions, and
//! shrink each to the fewest, shortest, narrowest faults that still break them.
//!
//! Schedules are drawn from a stream keyed by the campaign seed and the campaign number, so a
//! campaign is reproducible at any thread count, and a schedule is rendered as plain
//! `[[fault]]` tables appended to the scenario: the reproducer is exactly what ran.

use crate::engine::rng::{stream_key, Purpose, Stream};
use crate::scenario::model::{Chaos, ChaosScope};
use crate::scenario::selector::Selector;
use crate::scenario::Scenario;

pub use crate::scenario::chaos::{
    default_at_s, default_chaos, DEFAULT_CAMPAIGNS, DEFAULT_DURATION_S, DEFAULT_MAX_FAULTS,
    DRAWABLE,
};

/// One drawn fault, in the units of the scenario file.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DrawnFault {
    pub kind: String,
    /// Seconds since the scenario start.
    pub at: f64,
    pub duration: f64,
    /// The `where` selector table, or `None` for the whole fleet.
    pub scope: Option<toml::Table>,
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
        if let Some(scope) = &self.scope {
            t.push_str(&format!("where = {}\n", toml::Value::Table(scope.clone())));
        }
        for (k, v) in &self.params {
            t.push_str(&format!("{k} = {v}\n"));
        }
        t
    }

    /// A one-line description for tables.
    pub fn describe(&self) -> String {
        let scope = self.scope.as_ref().map_or("fleet".to_string(), |t| {
            Selector::parse(t, false).map_or_else(|e| e, |s| s.to_string())
        });
        format!(
            "{}@{}+{} [{}]",
            self.kind,
            crate::engine::time::human_secs(self.at),
            crate::engine::time::human_secs(self.duration),
            scope
        )
    }
}

/// A campaign's fault space resolved against its scenario: what [`draw`] and
/// [`shrink_candidates`] need.
#[derive(Clone, Debug)]
pub struct Space {
    pub kinds: Vec<String>,
    pub max_faults: u32,
    /// Start times, seconds since the scenario start (uniform).
    pub at_s: (f64, f64),
    /// Durations in seconds (log-uniform); shrinking never goes below the minimum.
    pub duration_s: (f64, f64),
    /// `[chaos] scopes`, `None` standing for the whole fleet; `None` for the default draw.
    pub listed: Option<Vec<Option<toml::Table>>>,
    /// The scopes a whole-fleet fault may be narrowed to by shrinking, in order: the listed
    /// selectors, or by default every region and population.
    pub narrower: Vec<toml::Table>,
}

impl Space {
    pub fn new(sc: &Scenario, chaos: &Chaos) -> Space {
        let (listed, narrower) = match &chaos.scopes {
            None => (None, default_scopes(sc)),
            Some(list) => {
                let listed: Vec<Option<toml::Table>> = list
                    .iter()
                    .map(|s| match s {
                        ChaosScope::Fleet => None,
                        ChaosScope::Where(t) => Some(t.clone()),
                    })
                    .collect();
                let mut narrower: Vec<toml::Table> = Vec::new();
                for t in listed.iter().flatten() {
                    if !narrower.contains(t) {
                        narrower.push(t.clone());
                    }
                }
                (Some(listed), narrower)
            }
        };
        Space {
            kinds: chaos.kinds.clone(),
            max_faults: chaos.max_faults.max(1),
            at_s: chaos.at_s,
            duration_s: chaos.duration_s,
            listed,
            narrower,
        }
    }
}

/// The default scopes of a fleet: each region, then each population.
fn default_scopes(sc: &Scenario) -> Vec<toml::Table> {
    let one = |k: &str, v: &str| toml::Table::from_iter([(k.to_string(), toml::Value::from(v))]);
    let mut out: Vec<toml::Table> = Vec::new();
    for p in &sc.populations {
        let region = one("region", &p.region);
        if !p.region.is_empty() && !out.contains(&region) {
            out.push(region);
        }
    }
    // The variants of a population with mixes share its name: one scope.
    out.extend(
        (sc.populations.iter().enumerate())
            .filter(|(i, p)| p.head == *i)
            .map(|(_, p)| one("population", &p.name)),
    );
    out
}

fn uniform(s: &mut Stream, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * s.uniform()
}

/// An index drawn uniformly below `n` (`n > 0`).
fn pick(s: &mut Stream, n: usize) -> usize {
    ((s.uniform() * n as f64) as usize).min(n - 1)
}

/// Draws campaign `c`'s schedule: 1 to `max_faults` faults of the space's kinds, each starting
/// at a uniform time in `at_s`, lasting a log-uniform time in `duration_s`, on a scope drawn
/// uniformly from the listed ones (by default: the whole fleet half the time, else one region
/// or population), with parameters from broad ranges.
pub fn draw(space: &Space, campaign_seed: u64, c: u64) -> Vec<DrawnFault> {
    let mut s = Stream::new(stream_key(campaign_seed, c, u64::MAX, Purpose::Chaos));
    let kinds = &space.kinds;
    let n = 1 + (s.uniform() * space.max_faults as f64) as u32;
    (0..n.min(space.max_faults))
        .map(|_| {
            let kind = kinds[pick(&mut s, kinds.len())].clone();
            let at = uniform(&mut s, space.at_s.0, space.at_s.1);
            let (lo, hi) = (space.duration_s.0.ln(), space.duration_s.1.ln());
            let duration = (lo + s.uniform() * (hi - lo)).exp();
            let scope = match &space.listed {
                Some(list) => list[pick(&mut s, list.len())].clone(),
                None if space.narrower.is_empty() || s.uniform() < 0.5 => None,
                None => Some(space.narrower[pick(&mut s, space.narrower.len())].clone()),
            };
            let params = params(&kind, &mut s);
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

/// The parameters of a drawn fault of `kind`, as TOML values.
fn params(kind: &str, s: &mut Stream) -> Vec<(String, String)> {
    let fraction = |s: &mut Stream, lo, hi| format!("{:.3}", uniform(s, lo, hi));
    match kind {
        "power-outage" => vec![("fraction".into(), fraction(s, 0.05, 1.0))],
        "cdn-degradation" => vec![
            ("bandwidth_factor".into(), fraction(s, 0.05, 0.8)),
            ("error_rate".into(), fraction(s, 0.0, 0.3)),
        ],
        "corrupt-artifact" | "telemetry-drop" => {
            vec![("probability".into(), fraction(s, 0.01, 0.5))]
        }
        "telemetry-delay" => {
            let median = uniform(s, 600.0, 43_200.0).round();
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
                uniform(s, 1800.0, 21_600.0).round()
            ),
        )],
        _ => vec![],
    }
}

/// Smaller variants of a schedule, most aggressive first: without one fault, with one fault
/// half as long (never below the space's shortest duration), with one fault narrowed from the
/// whole fleet to one of the space's narrower scopes.
pub fn shrink_candidates(faults: &[DrawnFault], space: &Space) -> Vec<Vec<DrawnFault>> {
    let mut out = Vec::new();
    for i in 0..faults.len() {
        if faults.len() > 1 {
            let mut f = faults.to_vec();
            f.remove(i);
            out.push(f);
        }
    }
    let shortest = space.duration_s.0;
    for i in 0..faults.len() {
        if faults[i].duration / 2.0 >= shortest {
            let mut f = faults.to_vec();
            f[i].duration = (f[i].duration / 2.0).round().max(shortest);
            out.push(f);
        }
    }
    for i in 0..faults.len() {
        if faults[i].scope.is_none() {
            for scope in &space.narrower {
                let mut f = faults.to_vec();
                f[i].scope = Some(scope.clone());
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(src: &str) -> toml::Table {
        toml::from_str(src).unwrap()
    }

    fn space(listed: Option<Vec<Option<toml::Table>>>, narrower: Vec<toml::Table>) -> Space {
        Space {
            kinds: DRAWABLE.iter().map(|k| k.to_string()).collect(),
            max_faults: 3,
            at_s: (3600.0, 7200.0),
            duration_s: (300.0, 1200.0),
            listed,
            narrower,
        }
    }

    fn fault(duration: f64, scope: Option<toml::Table>) -> DrawnFault {
        DrawnFault {
            kind: "network-outage".into(),
            at: 0.0,
            duration,
            scope,
            params: vec![],
        }
    }

    #[test]
    fn shrinking_offers_removals_then_halvings_then_narrowings() {
        let eu = table("region = \"eu\"");
        let s = Space {
            duration_s: DEFAULT_DURATION_S,
            ..space(None, vec![eu.clone()])
        };
        let f = fault(7200.0, None);
        let c = shrink_candidates(&[f.clone(), f.clone()], &s);
        assert_eq!(c.len(), 2 + 2 + 2);
        assert_eq!(c[0].len(), 1);
        assert_eq!(c[2][0].duration, 3600.0);
        assert_eq!(c[4][0].scope, Some(eu));
        assert!(f
            .to_toml()
            .contains("kind = \"network-outage\"\nat = 0\nduration = 7200\n"));
    }

    /// Shrinking never halves a fault below the shortest duration of the space, and narrows a
    /// whole-fleet fault only to the space's own scopes; a scoped fault is not widened.
    #[test]
    fn shrinking_stays_within_the_ranges() {
        let (eu, plant) = (table("region = \"eu\""), table("population = \"plant-b\""));
        let s = space(Some(vec![None, Some(eu.clone())]), vec![eu.clone()]);
        let c = shrink_candidates(&[fault(500.0, None)], &s);
        assert_eq!(
            c,
            vec![vec![fault(500.0, Some(eu.clone()))]],
            "500 s halves below 300 s"
        );
        let c = shrink_candidates(&[fault(700.0, Some(plant.clone()))], &s);
        assert_eq!(c, vec![vec![fault(350.0, Some(plant))]]);
        let s = Space {
            duration_s: (300.4, 1200.0),
            ..s
        };
        let c = shrink_candidates(&[fault(600.8, Some(eu))], &s);
        assert_eq!(
            c[0][0].duration, 300.4,
            "rounding never goes below the minimum"
        );
    }

    /// Every draw falls inside the ranges: a hard bound, whatever the stream.
    #[test]
    fn draws_stay_within_the_time_and_scope_ranges() {
        let eu = table("region = \"eu\"\nmodel = [\"a\", \"b\"]");
        let s = space(Some(vec![None, Some(eu.clone())]), vec![eu.clone()]);
        let mut seen = [0usize; 2];
        for c in 0..300 {
            for f in draw(&s, 9, c) {
                assert!((3600.0..=7200.0).contains(&f.at), "{f:?}");
                assert!(
                    (300.0 - 1e-6..=1200.0 + 1e-6).contains(&f.duration),
                    "{f:?}"
                );
                match &f.scope {
                    None => seen[0] += 1,
                    Some(t) => {
                        assert_eq!(t, &eu);
                        seen[1] += 1;
                    }
                }
            }
        }
        // Each of two scopes is drawn with probability 1/2 per fault, over 300 schedules of at
        // least one fault each: missing one has probability below 2^-299, so with a fixed seed
        // both must appear (the bound is loose on purpose; any stream that misses one is broken).
        assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");
    }

    /// A multi-key scope is written as an inline `where` table that reads back as written.
    #[test]
    fn a_selector_scope_renders_as_a_where_table() {
        let sel = table("region = \"eu\"\nmodel = [\"a\", \"b\"]");
        let f = fault(600.0, Some(sel.clone()));
        let text = f.to_toml();
        let back: toml::Table = toml::from_str(&text).unwrap();
        let written = back["fault"].as_array().unwrap()[0]["where"].clone();
        assert_eq!(written, toml::Value::Table(sel));
        assert!(
            f.describe().ends_with("[model=a|b, region=eu]"),
            "{}",
            f.describe()
        );
        let one = fault(600.0, Some(table("region = \"north\"")));
        assert!(
            one.to_toml().contains("where = { region = \"north\" }\n"),
            "as before the ranges"
        );
    }
}
