//! The mixable attributes of a population: `model`, `region`, `connectivity` and `power`
//! each take one name or a mix (`{ wired = 0.7, cellular = 0.3 }`, shares ≥ 0 normalised to
//! their sum, as `firmware`'s), and `utc_offset` one offset or a table by region. A population
//! with a mix is expanded into one [`Population`] variant per combination of mixed values, all
//! with the population's name, so that a device record keeps pointing at one population entry
//! and every selector and effect sees the values its device drew (see [`Mixes`]).

use super::collect::Ctx;
use super::did_you_mean;
use super::limits::MAX_POPULATIONS;
use super::model::*;
use super::raw::{RawPopulation, SValue};

/// The attributes of one written population, each value with its share (normalised, values
/// without a share left out; one value with share 1 when not mixed).
pub(super) struct Attributes {
    pub model: Vec<(String, f64)>,
    pub region: Vec<((String, i64), f64)>,
    pub connectivity: Vec<(usize, f64)>,
    pub power: Vec<(usize, f64)>,
}

/// Reads and checks the attributes, in the order they are written in a `[[population]]`
/// (model, region, connectivity, power, utc_offset: the order their errors are reported in).
pub(super) fn attributes(
    cx: &mut Ctx,
    path: &str,
    p: &RawPopulation,
    conns: &[ConnProfile],
    powers: &[PowerProfile],
) -> Attributes {
    let model = optional_names(cx, path, "model", p.model.as_ref());
    let regions = optional_names(cx, path, "region", p.region.as_ref());
    let connectivity = match &p.connectivity {
        Some(v) => profiles(cx, path, "connectivity", v, conns, |x| &x.name),
        None => {
            cx.err(
                format!("{path}.connectivity"),
                None,
                "every population needs a `connectivity` profile name",
            );
            vec![(0, 1.0)]
        }
    };
    let power = match &p.power {
        Some(v) => profiles(cx, path, "power", v, powers, |x| &x.name),
        None => vec![(
            powers.iter().position(|x| x.name == "mains").unwrap_or(0),
            1.0,
        )],
    };
    let offsets = utc_offsets(cx, path, p, &regions);
    let region = regions
        .into_iter()
        .zip(offsets)
        .map(|((name, share), off)| ((name, off), share))
        .collect();
    Attributes {
        model: positive(model),
        region: positive(region),
        connectivity: positive(connectivity),
        power: positive(power),
    }
}

/// The values with a share; all of them when none has one (an error already reported).
fn positive<T>(values: Vec<(T, f64)>) -> Vec<(T, f64)> {
    if values.iter().any(|v| v.1 > 0.0) {
        values.into_iter().filter(|v| v.1 > 0.0).collect()
    } else {
        values.into_iter().take(1).collect()
    }
}

/// `model` or `region`: empty when not written.
fn optional_names(cx: &mut Ctx, path: &str, key: &str, v: Option<&SValue>) -> Vec<(String, f64)> {
    match v {
        None => vec![(String::new(), 1.0)],
        Some(v) => names(cx, &format!("{path}.{key}"), v, key),
    }
}

/// One name, or a table of names and shares normalised to their sum (zero shares kept, for
/// the keys that refer to them; [`positive`] drops them). Errors leave one value.
fn names(cx: &mut Ctx, path: &str, v: &SValue, key: &str) -> Vec<(String, f64)> {
    let example = match key {
        "connectivity" => "{ wired = 0.7, cellular = 0.3 }",
        "power" => "{ mains = 0.5, battery = 0.5 }",
        "region" => "{ eu = 0.6, us = 0.4 }",
        _ => "{ sn-10 = 0.8, sn-20 = 0.2 }",
    };
    let before = cx.errors.len();
    let out: Vec<(String, f64)> = match v.get_ref() {
        toml::Value::String(s) => return vec![(s.clone(), 1.0)],
        toml::Value::Table(t) => t
            .iter()
            .filter_map(|(k, w)| {
                let w = w.as_float().or(w.as_integer().map(|i| i as f64));
                match w {
                    Some(w) if w >= 0.0 && w.is_finite() => Some((k.clone(), w)),
                    _ => {
                        cx.err(
                            format!("{path}.{k}"),
                            Some(v.span()),
                            format!("a {key} mix maps names to shares ≥ 0, e.g. {example}"),
                        );
                        None
                    }
                }
            })
            .collect(),
        _ => {
            cx.err(
                path,
                Some(v.span()),
                format!("write a name or a mix of names and shares, e.g. {example}"),
            );
            vec![]
        }
    };
    let total: f64 = out.iter().map(|w| w.1).sum();
    // Written so that a NaN total fails too.
    if out.is_empty() || total.is_nan() || total <= 0.0 || !total.is_finite() {
        if cx.errors.len() == before {
            cx.err(
                path,
                Some(v.span()),
                format!("the {key} mix has no positive share"),
            );
        }
        let first = out.into_iter().next().map_or(String::new(), |x| x.0);
        return vec![(first, 1.0)];
    }
    out.into_iter().map(|(k, w)| (k, w / total)).collect()
}

/// A profile name or mix of names, resolved to profile indices.
fn profiles<T>(
    cx: &mut Ctx,
    path: &str,
    key: &str,
    v: &SValue,
    items: &[T],
    item_name: impl Fn(&T) -> &str,
) -> Vec<(usize, f64)> {
    let mixed = matches!(v.get_ref(), toml::Value::Table(_));
    names(cx, &format!("{path}.{key}"), v, key)
        .into_iter()
        .map(|(name, share)| {
            let at = if mixed {
                format!("{path}.{key}.{name}")
            } else {
                format!("{path}.{key}")
            };
            (
                resolve_name(cx, at, v.span(), &name, items, &item_name, key),
                share,
            )
        })
        .collect()
}

fn resolve_name<T>(
    cx: &mut Ctx,
    path: String,
    span: std::ops::Range<usize>,
    name: &str,
    items: &[T],
    item_name: impl Fn(&T) -> &str,
    kind: &str,
) -> usize {
    match items.iter().position(|x| item_name(x) == name) {
        Some(i) => i,
        None => {
            let names: Vec<&str> = items.iter().map(&item_name).collect();
            let hint = did_you_mean(name, names.iter().copied());
            cx.err(
                path,
                Some(span),
                format!(
                    "no {kind} profile named `{name}`{hint}; defined: {}",
                    names.join(", ")
                ),
            );
            0
        }
    }
}

/// The offset of each region (seconds east of UTC; 0 when not written): one offset for every
/// region, or a table naming each region of the population.
fn utc_offsets(cx: &mut Ctx, path: &str, p: &RawPopulation, regions: &[(String, f64)]) -> Vec<i64> {
    let key = format!("{path}.utc_offset");
    let Some(v) = &p.utc_offset else {
        return vec![0; regions.len()];
    };
    let one = |cx: &mut Ctx, at: &str, s: &str| {
        parse_offset(s).unwrap_or_else(|| {
            cx.err(
                at,
                Some(v.span()),
                format!("`{s}` is not a UTC offset; write e.g. \"+01:00\" or \"-05:30\""),
            );
            0
        })
    };
    match v.get_ref() {
        toml::Value::String(s) => {
            let off = one(cx, &key, s);
            vec![off; regions.len()]
        }
        toml::Value::Table(t) => {
            let written: Vec<&str> = regions.iter().map(|r| r.0.as_str()).collect();
            // An inventory row that names one region inherits its template's whole table: the
            // other regions' offsets are not a mistake there.
            let row = path.starts_with("fleet.inventory");
            for k in t.keys().filter(|k| !row && !written.contains(&k.as_str())) {
                let hint = did_you_mean(k, written.iter().copied());
                cx.err(
                    format!("{key}.{k}"),
                    Some(v.span()),
                    format!(
                        "`{k}` is not a region of this population{hint}; its regions: {}",
                        written.join(", ")
                    ),
                );
            }
            regions
                .iter()
                .map(|(r, _)| match t.get(r) {
                    Some(toml::Value::String(s)) => one(cx, &format!("{key}.{r}"), s),
                    Some(_) => {
                        cx.err(format!("{key}.{r}"), Some(v.span()), "write the offset as a string, e.g. \"+01:00\"");
                        0
                    }
                    None if r.is_empty() => {
                        cx.err(&key, Some(v.span()), "a table of offsets by region needs a `region` (a name or a mix); for one offset write e.g. utc_offset = \"+01:00\"");
                        0
                    }
                    None => {
                        cx.err(&key, Some(v.span()), format!("no offset for region `{r}`: with a table by region, every region of the population needs one, e.g. utc_offset = {{ {r} = \"+01:00\" }}"));
                        0
                    }
                })
                .collect()
        }
        _ => {
            cx.err(&key, Some(v.span()), "write an offset (\"+01:00\") or, with a region mix, a table by region ({ eu = \"+01:00\", us = \"-05:00\" })");
            vec![0; regions.len()]
        }
    }
}

/// `base` (carrying the population's first values) as one variant per combination of the
/// attributes' values; `base` itself when nothing is mixed. `head` is set by the caller.
pub(super) fn expand(cx: &mut Ctx, path: &str, base: Population, a: Attributes) -> Vec<Population> {
    let cumulative = |shares: &[f64]| -> Vec<f64> {
        let mut acc = 0.0;
        shares
            .iter()
            .map(|s| {
                acc += s;
                acc
            })
            .collect()
    };
    let with_cum = |v: Vec<(String, f64)>| {
        let c = cumulative(&v.iter().map(|x| x.1).collect::<Vec<_>>());
        v.into_iter()
            .zip(c)
            .map(|((n, _), c)| (n, c))
            .collect::<Vec<_>>()
    };
    let mixes = Mixes {
        model: with_cum(a.model.clone()),
        region: {
            let c = cumulative(&a.region.iter().map(|x| x.1).collect::<Vec<_>>());
            a.region
                .iter()
                .zip(c)
                .map(|(r, c)| (r.0.clone(), c))
                .collect()
        },
        connectivity: {
            let c = cumulative(&a.connectivity.iter().map(|x| x.1).collect::<Vec<_>>());
            a.connectivity
                .iter()
                .zip(c)
                .map(|(x, c)| (x.0, c))
                .collect()
        },
        power: {
            let c = cumulative(&a.power.iter().map(|x| x.1).collect::<Vec<_>>());
            a.power.iter().zip(c).map(|(x, c)| (x.0, c)).collect()
        },
    };
    let r = mixes.radices();
    let variants: usize = r.iter().product();
    let set = |pop: &mut Population, idx: [usize; 4]| {
        pop.model = a.model[idx[0]].0.clone();
        (pop.region, pop.utc_offset_s) = a.region[idx[1]].0.clone();
        pop.connectivity = a.connectivity[idx[2]].0;
        pop.power = a.power[idx[3]].0;
        pop.share =
            a.model[idx[0]].1 * a.region[idx[1]].1 * a.connectivity[idx[2]].1 * a.power[idx[3]].1;
    };
    let mut base = base;
    if variants == 1 {
        set(&mut base, [0; 4]);
        base.share = 1.0;
        return vec![base];
    }
    if variants > MAX_POPULATIONS {
        cx.err(path, None, format!("the mixes of `model`, `region`, `connectivity` and `power` make {variants} combinations ({} × {} × {} × {}); the limit is {MAX_POPULATIONS} populations in all: split the population or coarsen a mix", r[0], r[1], r[2], r[3]));
        set(&mut base, [0; 4]);
        return vec![base];
    }
    let mut out = Vec::with_capacity(variants);
    for k in 0..variants {
        let idx = [
            k / (r[1] * r[2] * r[3]),
            k / (r[2] * r[3]) % r[1],
            k / r[3] % r[2],
            k % r[3],
        ];
        debug_assert_eq!(mixes.offset(idx), k);
        let mut v = base.clone();
        set(&mut v, idx);
        if k > 0 {
            (v.count, v.arrivals_per_day) = (0, 0.0);
        }
        out.push(v);
    }
    out[0].mixes = Some(Box::new(mixes));
    out
}

/// Parses `+01:00`, `-05:30`, `Z` into seconds east of UTC.
pub fn parse_offset(s: &str) -> Option<i64> {
    let s = s.trim();
    if s == "Z" || s == "UTC" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}
