//! Parameter sweeps (`fleetsim sweep`) and gate tuning (`fleetsim tune`): every combination of
//! parameter values, each run on the same replication seeds (common random numbers), so that the
//! differences between points are the policy's and not noise.

use crate::engine::time::parse_duration_secs;
use crate::error::{Error, Result};

/// Most parameter combinations a sweep may have.
pub const MAX_POINTS: usize = 10_000;

/// One `--param PATH=VALUES` axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<String>,
}

/// A parameter path as people read it: every index of a named table replaced by its name
/// (`policy.stage[1].gate.check[0].max` → `policy.stage[canary].gate.check[0].max`; also
/// `population[i]`, `release[i]` (its version) and `policy.shadow_gate[i]`). An index that is
/// out of range, or a name that would not read back as one (it holds brackets, dots, quotes or
/// spaces), is left as written; so is every other segment.
pub fn named_path(sc: &crate::scenario::Scenario, path: &str) -> String {
    let name_of = |table: &str, i: usize| -> Option<String> {
        match table {
            "policy.stage" => sc.policy.stages.get(i).map(|s| s.name.clone()),
            "policy.shadow_gate" => sc.policy.shadow_gates.get(i).map(|g| g.name.clone()),
            _ => None,
        }
    };
    let plain =
        |n: &str| !n.is_empty() && !n.contains(|c: char| "[].\"'` ".contains(c) || c.is_control());
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        let table = format!("{out}{}", &rest[..open]);
        let name = rest[open + 1..close]
            .parse::<usize>()
            .ok()
            .and_then(|i| name_of(&table, i))
            .filter(|n| plain(n));
        out.push_str(&rest[..open]);
        out.push('[');
        out.push_str(name.as_deref().unwrap_or(&rest[open + 1..close]));
        out.push(']');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// [`named_path`] of every parameter of a point.
pub fn named_params(
    sc: &crate::scenario::Scenario,
    params: &[(String, String)],
) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(p, v)| (named_path(sc, p), v.clone()))
        .collect()
}

/// Parses `PATH=V1,V2,…` or `PATH=FROM..TO:STEP` (numbers or durations; durations become seconds).
pub fn parse_axis(text: &str) -> Result<Axis> {
    let usage = || {
        Error::Usage(format!("--param `{text}`: write PATH=V1,V2,… or PATH=FROM..TO:STEP, e.g. policy.stage[1].gate.check[0].max=0.01..0.05:0.01"))
    };
    let (path, spec) = text.split_once('=').ok_or_else(usage)?;
    let (path, spec) = (path.trim(), spec.trim());
    if path.is_empty() || spec.is_empty() {
        return Err(usage());
    }
    let values = match spec.split_once("..") {
        Some((from, rest)) if !spec.starts_with('[') => {
            let (to, step) = rest.split_once(':').ok_or_else(usage)?;
            range(from, to, step).map_err(|m| Error::Usage(format!("--param `{text}`: {m}")))?
        }
        _ => split_list(spec),
    };
    if values.is_empty() {
        return Err(usage());
    }
    Ok(Axis {
        path: path.to_string(),
        values,
    })
}

/// Splits on commas that are not inside brackets or braces, so `[1,2],[3]` is two values.
fn split_list(spec: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for c in spec.chars() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// A number, or a duration as seconds (which every duration key accepts).
fn number_or_duration(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) => Ok(x),
        Err(_) => parse_duration_secs(s),
    }
}

fn range(from: &str, to: &str, step: &str) -> std::result::Result<Vec<String>, String> {
    let (a, b, s) = (
        number_or_duration(from)?,
        number_or_duration(to)?,
        number_or_duration(step)?,
    );
    if s.is_nan() || s <= 0.0 || b < a {
        return Err("a range needs FROM ≤ TO and a STEP above 0".into());
    }
    let count = ((b - a) / s + 1e-9).floor() as usize + 1;
    if count > MAX_POINTS {
        return Err(format!(
            "the range has {count} values; at most {MAX_POINTS}"
        ));
    }
    Ok((0..count)
        .map(|i| {
            // Rounding to 12 significant digits keeps 0.1 + 0.2 from printing as 0.30000000000000004.
            let x = a + s * i as f64;
            let x: f64 = format!("{x:.12e}").parse().unwrap_or(x);
            format!("{x}")
        })
        .collect())
}

/// Every combination of axis values, first axis slowest.
pub fn grid(axes: &[Axis]) -> Result<Vec<Vec<(String, String)>>> {
    let total: usize = axes
        .iter()
        .try_fold(1usize, |acc, a| acc.checked_mul(a.values.len()))
        .unwrap_or(usize::MAX);
    if total > MAX_POINTS {
        return Err(Error::Limit(format!(
            "the sweep has {total} points; at most {MAX_POINTS}"
        )));
    }
    let mut points: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                axis.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((axis.path.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    Ok(points)
}

/// An objective of the Pareto front: a metric's statistic to minimise or maximise.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    pub metric: String,
    pub stat: String,
    pub maximise: bool,
}

/// Parses `harmed:min`, `completion:max`, `harmed.p95:min`.
pub fn parse_objective(text: &str) -> Result<Objective> {
    let (name, dir) = text.split_once(':').unwrap_or((text, "min"));
    let (metric, stat) = name.split_once('.').unwrap_or((name, "mean"));
    let maximise = match dir {
        "min" => false,
        "max" => true,
        _ => {
            return Err(Error::Usage(format!(
                "--objective `{text}`: write METRIC[.STAT]:min or :max"
            )))
        }
    };
    let known = crate::scenario::catalog::OUTCOME_METRICS;
    if !known.contains(&metric) {
        let hint = crate::scenario::did_you_mean(metric, known);
        return Err(Error::Usage(format!(
            "--objective `{text}`: unknown metric `{metric}`{hint}"
        )));
    }
    if !crate::scenario::catalog::STATS.contains(&stat) {
        return Err(Error::Usage(format!(
            "--objective `{text}`: unknown stat `{stat}`"
        )));
    }
    Ok(Objective {
        metric: metric.into(),
        stat: stat.into(),
        maximise,
    })
}

/// Indexes of the points no other point dominates. `values[p][k]` is objective `k` of point `p`,
/// already oriented so that smaller is better; a point without a value is dominated by any
/// point with one.
pub fn pareto_front(values: &[Vec<Option<f64>>]) -> Vec<bool> {
    let key = |v: &Option<f64>| v.unwrap_or(f64::INFINITY);
    values
        .iter()
        .map(|p| {
            !values.iter().any(|q| {
                let no_worse = q.iter().zip(p).all(|(a, b)| key(a) <= key(b));
                let better = q.iter().zip(p).any(|(a, b)| key(a) < key(b));
                no_worse && better
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lists_and_durations() {
        assert_eq!(
            parse_axis("a.b=0.01..0.05:0.01").unwrap().values,
            vec!["0.01", "0.02", "0.03", "0.04", "0.05"]
        );
        assert_eq!(parse_axis("a=1,2,3").unwrap().values, vec!["1", "2", "3"]);
        assert_eq!(
            parse_axis("a=1h..3h:1h").unwrap().values,
            vec!["3600", "7200", "10800"]
        );
        assert_eq!(
            parse_axis("a=[1,2],[3]").unwrap().values,
            vec!["[1,2]", "[3]"]
        );
        assert!(parse_axis("a=5..1:1").is_err());
        assert!(parse_axis("nothing").is_err());
    }

    #[test]
    fn grid_is_the_cartesian_product() {
        let g = grid(&[parse_axis("a=1,2").unwrap(), parse_axis("b=x,y,z").unwrap()]).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(
            g[1],
            vec![("a".into(), "1".into()), ("b".into(), "y".into())]
        );
    }

    #[test]
    fn pareto_front_of_a_small_set() {
        let v = vec![
            vec![Some(1.0), Some(5.0)],
            vec![Some(2.0), Some(2.0)],
            vec![Some(3.0), Some(3.0)],
            vec![None, Some(0.0)],
        ];
        assert_eq!(pareto_front(&v), vec![true, true, false, true]);
    }
}

#[cfg(test)]
mod named_tests {
    use super::named_path;

    #[test]
    fn indices_of_named_tables_read_as_their_names() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bad-release.toml");
        let sc = crate::scenario::load_file(&path, &[]).unwrap();
        assert_eq!(
            named_path(&sc, "policy.stage[1].gate.check[1].max"),
            "policy.stage[canary].gate.check[1].max"
        );
        assert_eq!(
            named_path(&sc, "policy.rate.per_minute"),
            "policy.rate.per_minute"
        );
        assert_eq!(
            named_path(&sc, "population[0].count"),
            "population[0].count"
        );
        // Out of range, or already a name: as written.
        assert_eq!(
            named_path(&sc, "policy.stage[99].bake"),
            "policy.stage[99].bake"
        );
        assert_eq!(
            named_path(&sc, "policy.stage[canary].bake"),
            "policy.stage[canary].bake"
        );
    }
}
