//! Semantic validation: turns the raw file into a checked [`Scenario`], collecting every problem
//! with its key path, position and a fix, instead of stopping at the first.

use super::catalog::{is_yes_no, OUTCOME_METRICS, STATS};
use super::collect::Ctx;
use super::did_you_mean;
use super::dist::{parse_dist, Dist, Unit};
use super::limits::*;
use super::model::*;
use super::raw::*;
pub use super::versions::version_index;
use super::{validate_faults, validate_population, validate_release};
use crate::engine::time::{secs_to_ms, SimTime, DAY_MS};
use crate::error::{Error, Result};
use std::path::Path;

/// Refuses a name that cannot name the report folder, before anything runs.
fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("give the scenario a name: it names the report folder".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "the name is {} bytes long, more than {MAX_NAME_BYTES}: it names the report folder \
             (reports/<name>/), and a file name holds at most 255 bytes; shorten it",
            name.len()
        ));
    }
    if name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(format!(
            "{name:?} cannot name the report folder reports/<name>/: it is `.` or `..`, or holds \
             a path separator or NUL; write e.g. {:?}",
            name.replace(['/', '\\', '\0'], "-").replace("..", "-")
        ));
    }
    Ok(())
}

/// Validates a parsed file, section by section in a fixed order (the order its errors are
/// reported in), and refuses it with every error found.
pub fn validate(raw: RawScenario, text: &str, file: &str, base_dir: &Path) -> Result<Scenario> {
    let mut cx = Ctx {
        text,
        file,
        base_dir,
        errors: Vec::new(),
    };
    let sim = &raw.simulation;
    let Simulation {
        horizon,
        replications,
        start_unix_s,
    } = simulation(&mut cx, sim);
    let backend = backend(&mut cx, &raw);
    let connectivity = connectivity(&mut cx, &raw);
    let power = power(&mut cx, &raw);
    let mut versions = validate_release::versions(&mut cx, &raw);
    let populations =
        validate_population::populations(&mut cx, &raw, &connectivity, &power, &mut versions);
    validate_release::releases(&mut cx, &raw, &mut versions, &populations);
    let support = support(&mut cx, &raw);
    let policy = super::validate_policy::policy(
        &mut cx,
        &raw,
        &versions,
        &populations,
        horizon,
        start_unix_s,
    );
    let faults = validate_faults::faults(&mut cx, &raw, &populations, &versions, horizon);
    let chaos = super::validate_chaos::chaos(
        &mut cx,
        &raw,
        &super::validate_chaos::Context {
            populations: &populations,
            versions: &versions,
            horizon,
            window_end: policy.as_ref().map(|p| p.window_end),
        },
    );
    let expects = expects(&mut cx, &raw);
    if !cx.errors.is_empty() {
        return Err(Error::Input(cx.errors));
    }
    let scenario = Scenario {
        file: file.to_string(),
        warnings: Vec::new(),
        name: sim.name.clone(),
        seed: sim.seed,
        horizon,
        replications,
        start_unix_s,
        backend,
        connectivity,
        power,
        populations,
        versions,
        support,
        policy: policy.expect("policy is present when there are no errors"),
        expects,
        faults,
        chaos,
    };
    Ok(scenario)
}

/// What `[simulation]` fixes for the whole run, besides its name and seed.
struct Simulation {
    horizon: SimTime,
    replications: u64,
    start_unix_s: i64,
}

/// `[simulation]`: the name, the horizon, the number of replications and the start time.
/// An RFC 3339 timestamp (`simulation.start`, and the times of imported documents) as Unix
/// seconds.
pub fn unix_seconds(s: &str) -> std::result::Result<i64, time::error::Parse> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
}

fn simulation(cx: &mut Ctx, sim: &RawSimulation) -> Simulation {
    if let Err(m) = check_name(&sim.name) {
        cx.err("simulation.name", None, m);
    }
    let horizon_s = sim.horizon.get_ref().0;
    if horizon_s <= 0.0 || horizon_s > (MAX_HORIZON_DAYS * 86_400) as f64 {
        cx.err(
            "simulation.horizon",
            Some(sim.horizon.span()),
            format!("must be more than 0 and at most {MAX_HORIZON_DAYS}d"),
        );
    }
    let replications = *sim.replications.get_ref();
    if replications == 0 || replications > MAX_REPLICATIONS {
        cx.err(
            "simulation.replications",
            Some(sim.replications.span()),
            format!("must be between 1 and {MAX_REPLICATIONS}"),
        );
    }
    let start_unix_s = match &sim.start {
        None => 0,
        Some(s) => match unix_seconds(s.get_ref()) {
            Ok(t) => t,
            Err(e) => {
                cx.err("simulation.start", Some(s.span()), format!("`{}` is not an RFC 3339 timestamp ({e}); write e.g. \"2026-03-02T00:00:00Z\"", s.get_ref()));
                0
            }
        },
    };
    Simulation {
        horizon: SimTime::from_secs_f64(horizon_s),
        replications,
        start_unix_s,
    }
}

/// `[support]`: tickets, the team's queue and field visits; none when not written.
fn support(cx: &mut Ctx, raw: &RawScenario) -> Support {
    let Some(s) = &raw.support else {
        return Support::none();
    };
    let dur = |cx: &mut Ctx, key: &str, v: &Option<SValue>| match v {
        Some(v) => cx.dist(&format!("support.{key}"), v, Unit::Duration),
        None => Dist::Constant(0.0),
    };
    let ticket_probability = s
        .ticket_probability
        .as_ref()
        .map_or(0.0, |p| cx.fraction("support.ticket_probability", p));
    let ticket_delay = dur(cx, "ticket_delay", &s.ticket_delay);
    let background_per_device_day = match &s.background_per_device_day {
        Some(b) if !(0.0..=MAX_BACKGROUND_TICKETS_PER_DEVICE_DAY).contains(b.get_ref()) => {
            cx.err(
                "support.background_per_device_day",
                Some(b.span()),
                format!("{} is outside 0..{MAX_BACKGROUND_TICKETS_PER_DEVICE_DAY}: tickets per device and day, e.g. 0.002 for one ticket per device every 500 days", b.get_ref()),
            );
            0.0
        }
        Some(b) => *b.get_ref(),
        None => 0.0,
    };
    let queue = match (&s.capacity_per_day, &s.resolve_time) {
        (Some(c), _) if !(c.get_ref().is_finite() && *c.get_ref() > 0.0) => {
            cx.err(
                "support.capacity_per_day",
                Some(c.span()),
                format!("{} must be a finite number more than 0: the items (tickets and quarantined devices) the team picks up per day", c.get_ref()),
            );
            None
        }
        (Some(c), r) => Some(SupportQueue {
            capacity_per_day: *c.get_ref(),
            resolve_time: dur(cx, "resolve_time", r),
        }),
        (None, Some(r)) => {
            cx.err(
                "support.resolve_time",
                Some(r.span()),
                "`resolve_time` needs `capacity_per_day`: without the team's capacity no queue is modelled; give both, e.g. capacity_per_day = 40",
            );
            None
        }
        (None, None) => None,
    };
    let field_visit = s.field_visit.as_ref().and_then(|f| field_visit(cx, f));
    Support {
        ticket_probability,
        ticket_delay,
        background_per_device_day,
        queue,
        field_visit,
    }
}

/// `support.field_visit`: `delay` is required, `cost` is ≥ 0.
fn field_visit(cx: &mut Ctx, f: &RawFieldVisit) -> Option<FieldVisit> {
    let cost = f
        .cost
        .as_ref()
        .map_or(0.0, |c| cx.non_negative("support.field_visit.cost", c));
    match &f.delay {
        Some(d) => Some(FieldVisit {
            delay: cx.dist("support.field_visit.delay", d, Unit::Duration),
            cost,
        }),
        None => {
            cx.err(
                "support.field_visit.delay",
                None,
                "missing `delay`: how long after the brick the technician has the device running again, e.g. delay = \"3d\" or { dist = \"uniform\", min = \"1d\", max = \"5d\" }",
            );
            None
        }
    }
}

fn backend(cx: &mut Ctx, raw: &RawScenario) -> Backend {
    let b = &raw.backend;
    let max_concurrent_downloads = match &b.max_concurrent_downloads {
        Some(m) if *m.get_ref() == 0 => {
            cx.err(
                "backend.max_concurrent_downloads",
                Some(m.span()),
                "must be at least 1 (leave it out for no limit)",
            );
            u64::MAX
        }
        Some(m) => *m.get_ref(),
        None => u64::MAX,
    };
    let egress_kbps = match &b.egress_mbps {
        Some(e) if e.get_ref().is_nan() || *e.get_ref() <= 0.0 => {
            cx.err(
                "backend.egress_mbps",
                Some(e.span()),
                "must be more than 0 (leave it out for no limit)",
            );
            f64::INFINITY
        }
        Some(e) => e.get_ref() * 1000.0,
        None => f64::INFINITY,
    };
    let mut api_changes: Vec<(SimTime, u32)> = b
        .api_changes
        .iter()
        .map(|c| (SimTime::from_secs_f64(c.at.0), c.api))
        .collect();
    api_changes.sort_by_key(|c| c.0);
    let api_faults = raw
        .fault
        .iter()
        .filter(|f| f.kind.get_ref() == "backend-api")
        .filter_map(|f| {
            let at = SimTime::from_secs_f64(f.at.map_or(0.0, |d| d.0));
            Some((at, at.plus(secs_to_ms(f.duration?.0)), f.api?))
        })
        .collect();
    Backend {
        api: b.api.unwrap_or(1),
        max_concurrent_downloads,
        egress_kbps,
        api_changes,
        api_faults,
    }
}

fn connectivity(cx: &mut Ctx, raw: &RawScenario) -> Vec<ConnProfile> {
    raw.connectivity
        .iter()
        .map(|(name, c)| {
            let p = format!("connectivity.{name}");
            let online = cx.dist(&format!("{p}.online"), &c.online, Unit::Duration);
            let offline = cx.dist(&format!("{p}.offline"), &c.offline, Unit::Duration);
            let bandwidth_kbps = cx.dist(
                &format!("{p}.bandwidth_kbps"),
                &c.bandwidth_kbps,
                Unit::Number,
            );
            let check_in_ms = secs_to_ms(c.check_in.get_ref().0);
            if check_in_ms == 0 {
                cx.err(
                    format!("{p}.check_in"),
                    Some(c.check_in.span()),
                    "the poll interval must be more than 0",
                );
            }
            for (key, d, v) in [("online", &online, &c.online), ("offline", &offline, &c.offline)] {
                // The means set the online share at time zero: an infinite one (a lognormal
                // with a huge sigma, a Weibull with a tiny shape) would make it NaN.
                if !d.mean().is_finite() {
                    cx.err(
                        format!("{p}.{key}"),
                        Some(v.span()),
                        format!("the mean of this distribution is {} (its tail is too heavy); fleetsim needs a finite mean for the share of devices online at time zero: lower `p95`/`sigma` or raise `shape`", d.mean()),
                    );
                }
            }
            if online.mean().is_nan() || online.mean() <= 0.0 {
                cx.err(
                    format!("{p}.online"),
                    Some(c.online.span()),
                    "an online session must last longer than 0 on average",
                );
            }
            let (on, off) = (online.mean(), offline.mean().max(0.0));
            Connectivity {
                name,
                online,
                offline,
                check_in_ms,
                bandwidth_kbps,
                metered: c.metered,
                share: on / (on + off),
            }
            .into()
        })
        .collect()
}

/// Helper to keep the constructor above readable.
struct Connectivity<'a> {
    name: &'a str,
    online: Dist,
    offline: Dist,
    check_in_ms: u64,
    bandwidth_kbps: Dist,
    metered: bool,
    share: f64,
}

impl From<Connectivity<'_>> for ConnProfile {
    fn from(c: Connectivity) -> ConnProfile {
        ConnProfile {
            name: c.name.to_string(),
            online: c.online,
            offline: c.offline,
            check_in_ms: c.check_in_ms.max(1),
            bandwidth_kbps: c.bandwidth_kbps,
            metered: c.metered,
            online_share: if c.share.is_finite() { c.share } else { 1.0 },
        }
    }
}

fn power(cx: &mut Ctx, raw: &RawScenario) -> Vec<PowerProfile> {
    let horizon_ms = secs_to_ms(raw.simulation.horizon.get_ref().0);
    let mut out: Vec<PowerProfile> = raw
        .power
        .iter()
        .map(|(name, p)| {
            let path = format!("power.{name}");
            let battery = p.source == PowerSource::Battery;
            let level = match &p.level {
                Some(v) => cx.dist(&format!("{path}.level"), v, Unit::Number),
                None => Dist::Constant(1.0),
            };
            let drain_per_day = p.drain_per_day.as_ref().map_or(0.0, |d| cx.non_negative(&format!("{path}.drain_per_day"), d));
            let install_cost = p.install_cost.as_ref().map_or(0.0, |d| cx.fraction(&format!("{path}.install_cost"), d));
            let (recharge_every_ms, recharge_to) = match &p.recharge {
                Some(r) => {
                    let every = secs_to_ms(r.every.get_ref().0);
                    if every == 0 {
                        cx.err(format!("{path}.recharge.every"), Some(r.every.span()), "the recharge period must be more than 0");
                    } else if horizon_ms / every > MAX_RECHARGES {
                        cx.err(format!("{path}.recharge.every"), Some(r.every.span()), format!("at most {MAX_RECHARGES} recharges fit in the horizon (a device counts them in 16 bits): the period must be at least horizon / {MAX_RECHARGES} = {:.3} s", horizon_ms as f64 / MAX_RECHARGES as f64 / 1000.0));
                    }
                    (Some(every.max(1)), cx.fraction(&format!("{path}.recharge.to"), &r.to))
                }
                None => (None, 1.0),
            };
            if !battery && (p.level.is_some() || p.drain_per_day.is_some() || p.recharge.is_some() || p.install_cost.is_some()) {
                cx.err(path.clone(), None, "`level`, `drain_per_day`, `recharge` and `install_cost` apply only to `source = \"battery\"`");
            }
            // Checked apart from the keys above so that their message stays as it was.
            let download_cost = p.download_cost.as_ref().map_or(0.0, |d| cx.fraction(&format!("{path}.download_cost"), d));
            if !battery && p.download_cost.is_some() {
                cx.err(format!("{path}.download_cost"), None, "`download_cost` applies only to `source = \"battery\"`");
            }
            PowerProfile { name: name.clone(), battery, level, drain_per_day, recharge_every_ms, recharge_to, install_cost, download_cost }
        })
        .collect();
    if !out.iter().any(|p| p.name == "mains") {
        // Populations without `power` run on mains; the implicit profile makes that explicit.
        out.push(PowerProfile {
            name: "mains".into(),
            battery: false,
            level: Dist::Constant(1.0),
            drain_per_day: 0.0,
            recharge_every_ms: None,
            recharge_to: 1.0,
            install_cost: 0.0,
            download_cost: 0.0,
        });
    }
    out
}

fn expects(cx: &mut Ctx, raw: &RawScenario) -> Vec<Expect> {
    let mut out = Vec::new();
    for (i, e) in raw.expect.iter().enumerate() {
        let path = format!("expect[{i}]");
        let metric = e.metric.get_ref();
        if !OUTCOME_METRICS.contains(&metric.as_str()) {
            let hint = did_you_mean(metric, OUTCOME_METRICS);
            cx.err(
                format!("{path}.metric"),
                Some(e.metric.span()),
                format!(
                    "unknown metric `{metric}`{hint}; valid: {}",
                    OUTCOME_METRICS.join(", ")
                ),
            );
        }
        let stat = e.stat.get_ref();
        if !STATS.contains(&stat.as_str()) {
            let hint = did_you_mean(stat, STATS);
            cx.err(
                format!("{path}.stat"),
                Some(e.stat.span()),
                format!("unknown stat `{stat}`{hint}; valid: {}", STATS.join(", ")),
            );
        }
        let yes_no = is_yes_no(metric);
        if stat == "rate" && !yes_no && OUTCOME_METRICS.contains(&metric.as_str()) {
            cx.err(format!("{path}.stat"), Some(e.stat.span()), format!("`rate` applies to the yes/no metrics `halted` and `false_halt`; for `{metric}` use mean, p50, p95, …"));
        }
        let mut bound = |key: &str, v: &Option<SValue>| {
            v.as_ref().and_then(
                |v| match parse_dist(v.get_ref(), Unit::Duration, cx.base_dir) {
                    Ok(Dist::Constant(x)) => Some(x),
                    _ => match v.get_ref() {
                        toml::Value::Integer(i) => Some(*i as f64),
                        toml::Value::Float(f) => Some(*f),
                        _ => {
                            cx.err(
                                format!("{path}.{key}"),
                                Some(v.span()),
                                "write a number, or a duration such as \"21d\"",
                            );
                            None
                        }
                    },
                },
            )
        };
        let (min, max) = (bound("min", &e.min), bound("max", &e.max));
        if e.min.is_none() && e.max.is_none() {
            cx.err(
                path.clone(),
                Some(e.metric.span()),
                "an expectation needs `min`, `max` or both",
            );
        }
        let world = expect_world(cx, &path, e.world.as_ref());
        out.push(Expect {
            metric: metric.clone(),
            stat: stat.clone(),
            min,
            max,
            world,
        });
    }
    out
}

/// `expect[i].world`: `"as-written"` (the default) or `"healthy"`.
fn expect_world(cx: &mut Ctx, path: &str, world: Option<&toml::Spanned<String>>) -> World {
    let Some(w) = world else {
        return World::AsWritten;
    };
    World::parse(w.get_ref()).unwrap_or_else(|| {
        let hint = did_you_mean(w.get_ref(), World::NAMES);
        cx.err(
            format!("{path}.world"),
            Some(w.span()),
            format!(
                "unknown world `{}`{hint}; valid: {} (the scenario as written, or with every release defect removed)",
                w.get_ref(),
                World::NAMES.join(", ")
            ),
        );
        World::AsWritten
    })
}

/// Converts days to milliseconds (used by limits in tests and docs).
pub fn days_ms(days: u64) -> u64 {
    days * DAY_MS
}

#[cfg(test)]
mod tests {
    use crate::scenario::collect::table_offset;

    #[test]
    fn missing_keys_point_at_their_table() {
        let text = "[simulation]\nname = \"x\"\n\n[[population]]\nname = \"a\"\n[[population]] # b\nname = \"b\"\n";
        let second = text.find("[[population]] #").unwrap();
        assert_eq!(table_offset(text, "simulation.horizon"), Some(0));
        assert_eq!(
            table_offset(text, "population[0].count"),
            text.find("[[population]]")
        );
        assert_eq!(table_offset(text, "population[1].count"), Some(second));
        assert_eq!(table_offset(text, "population[2].count"), None);
        assert_eq!(table_offset(text, "policy.stage[0].percent"), None);
        assert_eq!(table_offset(text, "population"), None);
    }
}
