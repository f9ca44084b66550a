//! `fleetsim init`: a commented starter scenario — a small realistic fleet, a staged plan with
//! gates, and a defect to rehearse — that validates without warnings and runs. `--devices N`
//! scales the fleet; the stage sizes and gate sample sizes follow, so the plan stays judgeable.

use crate::error::{Error, Result};
use std::path::Path;

/// The fewest devices a starter fleet may have: below it the stages are too small to judge.
pub const MIN_DEVICES: u64 = 1_000;
/// The default fleet size.
pub const DEFAULT_DEVICES: u64 = 5_000;

/// Writes the starter scenario to `path` (`-`: stdout). An existing file is replaced only with
/// `force`: nothing the user owns is overwritten by default.
pub(crate) fn init_command(path: &Path, devices: u64, force: bool, quiet: bool) -> Result<i32> {
    if !(MIN_DEVICES..=10_000_000).contains(&devices) {
        return Err(Error::Usage(format!(
            "--devices {devices}: a starter fleet has {MIN_DEVICES} to 10000000 devices (edit the counts of the written file for a smaller fleet)"
        )));
    }
    let text = starter(devices);
    if path == Path::new("-") {
        crate::out::text(&text)?;
        return Ok(0);
    }
    if path.exists() && !force {
        return Err(Error::Usage(format!(
            "{} exists; choose another file name, or pass --force to replace it",
            path.display()
        )));
    }
    super::write_file_atomically(path, text.as_bytes())?;
    if !quiet {
        crate::out::line(&format!(
            "wrote {} ({devices} devices); next: fleetsim run {}",
            path.display(),
            path.display()
        ))?;
    }
    Ok(0)
}

/// The fleet of `devices` split as the starter's populations: 1 % lab devices (at least 20),
/// 35 % gateways, the rest battery sensors.
fn split(devices: u64) -> (u64, u64, u64) {
    let lab = (devices / 100).max(20);
    let gateways = devices * 35 / 100;
    (lab, gateways, devices - lab - gateways)
}

/// The starter scenario for a fleet of `devices`.
pub fn starter(devices: u64) -> String {
    let (lab, gateways, sensors) = split(devices);
    let external = gateways + sensors;
    // The canary takes 2 % of the external fleet, or more in a small fleet so that it holds at
    // least 20 devices; the wave tops the cohort up to 20 % (at least twice the canary). Each
    // gate waits for half of its stage's devices to report: judgeable, and never more than the
    // stage holds.
    let canary_pct = 2.max(2_000_u64.div_ceil(external));
    let wave_pct = 20.max(2 * canary_pct).min(60);
    let canary = (external as f64 * canary_pct as f64 / 100.0).ceil() as u64;
    let wave = (external as f64 * wave_pct as f64 / 100.0).ceil() as u64 - canary;
    let (canary_min, wave_min, lab_min) = (canary / 2, wave / 2, lab / 2);
    format!(
        r#"# A starter scenario written by `fleetsim init --devices {devices}`.
# It rehearses release 2.4.0, which bricks 3 % of the battery sensors on boot (they have no A/B
# slots) and triples the crash rate of one sensor in five about two days later. The question: how
# many devices are harmed before the gates stop it, and how fast is the fleet back on 2.3.0?
#
# Edit the fleet, releases and plan to match yours; `fleetsim validate` checks the file and warns
# about a plan that cannot work as meant. Durations take units: "250ms" "30s" "15m" "6h" "2d" "1w".
# Run it:      fleetsim run scenario.toml       (report: reports/starter/report.html)
# Assert it:   fleetsim check scenario.toml     (exit 1 when an [[expect]] fails)
# Tune gates:  fleetsim tune scenario.toml --param 'policy.stage[1].gate.check[0].max=0.01,0.02,0.05'

[simulation]
name = "starter"
seed = 1
horizon = "21d"          # how long to simulate
replications = 20        # independent runs (each a different draw of the world)

[backend]
api = 7                  # backend API version (a release may require a minimum)
max_concurrent_downloads = 1000
egress_mbps = 1000       # shared bandwidth: load slows every download

# How devices are online. Sessions and gaps are distributions (operators describe latencies by
# median and p95); a device checks in when it comes online and then every `check_in`.
[connectivity.ethernet]
online = {{ dist = "exponential", mean = "7d" }}
offline = {{ dist = "exponential", mean = "5m" }}
check_in = "15m"
bandwidth_kbps = {{ dist = "lognormal", median = 20000, p95 = 90000 }}
metered = false

[connectivity.cellular]
online = {{ dist = "lognormal", median = "4h", p95 = "2d" }}
offline = {{ dist = "lognormal", median = "20m", p95 = "3h" }}
check_in = "30m"
bandwidth_kbps = {{ dist = "lognormal", median = 800, p95 = 6000 }}
metered = true

[power.mains]
source = "mains"

[power.li-ion]
source = "battery"
level = {{ dist = "beta", a = 6, b = 2 }}   # initial charge, 0..1
drain_per_day = 0.04
recharge = {{ every = "3d", to = 1.0 }}
install_cost = 0.03                       # battery one install uses

# The fleet: groups of devices that share hardware, connectivity and tags. Tags feed the
# stage selectors (`channel`) and the harm split (`criticality = "high"` → harmed_critical).
[[population]]
name = "lab"
count = {lab}
model = "sn-10"
region = "eu-west"
utc_offset = "+01:00"
firmware = "2.3.0"
tags = {{ channel = "internal", criticality = "low" }}
connectivity = "ethernet"
power = "mains"
storage_free_mb = 500
ab_slots = true              # a failed boot reverts to the other slot by itself
install_failure = 0.01       # chance one install attempt fails transiently (retried)
crash_rate = 0.004           # background crashes per device-day

[[population]]
name = "gateways"
count = {gateways}
model = "gw-200"
region = "eu-west"
utc_offset = "+01:00"
firmware = "2.3.0"
tags = {{ channel = "external", criticality = "high" }}
connectivity = "ethernet"
power = "mains"
storage_free_mb = 500
ab_slots = true
install_failure = 0.003
crash_rate = 0.001

[[population]]
name = "sensors"
count = {sensors}
model = "sn-10"
region = "eu-west"
utc_offset = "+01:00"
firmware = "2.3.0"
tags = {{ channel = "external", criticality = "low" }}
connectivity = "cellular"
power = "li-ion"
storage_free_mb = {{ dist = "uniform", min = 40, max = 200 }}
ab_slots = false             # a failed boot bricks the device
install_failure = 0.01
crash_rate = 0.004

[[release]]
version = "2.3.0"
size_mb = 20

[[release]]
version = "2.4.0"
size_mb = 22
delta_mb = {{ "2.3.0" = 4 }}   # devices on 2.3.0 download a 4 MB delta
resumable = true
install_time = {{ dist = "lognormal", median = "2m", p95 = "6m" }}
reboot_time = "45s"
downgrade = "safe"

# Ground truth: what 2.4.0 really does. The policy never sees this; only the outcomes do.
# Set `probability = 0` on both to rehearse a healthy release.
[[release.defect]]
effect = "boot-failure"
probability = 0.03
where = {{ model = "sn-10" }}

[[release.defect]]
effect = "crash-rate"
factor = 3.0
probability = 0.2
after = {{ dist = "exponential", mean = "2d" }}
where = {{ model = "sn-10" }}

[support]
ticket_probability = 0.5     # a harmed device opens a ticket with this chance…
ticket_delay = {{ dist = "lognormal", median = "6h", p95 = "2d" }}   # …this much later

[policy]
target = "2.4.0"
rollback_to = "2.3.0"
window = "14d"               # devices not reached by then are stranded
rate = {{ per_minute = 30 }}   # notifications per minute (AWS IoT Jobs rollout rate)
max_in_flight = 800          # most devices between download start and result at once
timeout = "6h"               # in-progress time-out per device
retry = {{ attempts = 2, backoff = "2h" }}
preflight = {{ min_battery = 0.3, min_storage_mb = 30, min_bandwidth_kbps = 64, metered = "allow" }}
operator = {{ response = {{ dist = "lognormal", median = "1h", p95 = "8h" }}, on_pause = "rollback" }}

# Stages run in order; `percent` is cumulative over the devices the stage selects.
[[policy.stage]]
name = "lab"
select = {{ channel = "internal" }}
percent = 100
bake = "12h"                 # soak time after enough devices reported, before the gate
[policy.stage.gate]
min_devices = {lab_min}
on_fail = "rollback"
[[policy.stage.gate.check]]
metric = "update_failure_rate"
max = 0.05

[[policy.stage]]
name = "canary"
select = {{ channel = "external" }}
percent = {canary_pct}
bake = "24h"
max_wait = "3d"              # then on_insufficient (default "fail") if too few reported
[policy.stage.gate]
min_devices = {canary_min}
test = "wilson"              # fail only when a 90 % bound proves the rate too high
confidence = 0.9
on_fail = "rollback"
[[policy.stage.gate.check]]
metric = "update_failure_rate"
max = 0.02
[[policy.stage.gate.check]]
metric = "silent_rate"       # bricked devices never report a failure: they go silent
silent_after = "12h"
max = 0.01
[[policy.stage.gate.check]]
metric = "crash_rate"        # canary vs devices still on 2.3.0 (Kayenta-style)
max_ratio_vs_control = 1.5

[[policy.stage]]
name = "wave"
select = {{ channel = "external" }}
percent = {wave_pct}
bake = "24h"
max_wait = "5d"
[policy.stage.gate]
min_devices = {wave_min}
on_fail = "rollback"
[[policy.stage.gate.check]]
metric = "update_failure_rate"
max = 0.02
[[policy.stage.gate.check]]
metric = "silent_rate"
silent_after = "12h"
max = 0.01

[[policy.stage]]
name = "all"
select = {{}}
percent = 100

# A guardrail over the whole rollout (AWS abortConfig).
[[policy.abort]]
metric = "update_failure_rate"
threshold = 0.05
min_executed = 100
action = "rollback"

# What must hold; `fleetsim check` exits 1 otherwise. `world = "healthy"` judges the same plan
# with every defect removed, on the same seeds.
[[expect]]
metric = "halted"
stat = "rate"
min = 0.8

[[expect]]
metric = "false_halt"
stat = "rate"
max = 0.2
world = "healthy"

[[expect]]
metric = "security_violations"
stat = "max"
max = 0
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_adds_up_and_keeps_a_lab() {
        for n in [MIN_DEVICES, 1_000, DEFAULT_DEVICES, 1_234_567] {
            let (lab, gw, sn) = split(n);
            assert_eq!(lab + gw + sn, n);
            assert!(lab >= 20 && sn > 0 && gw > 0, "{n}: {lab} {gw} {sn}");
        }
    }
}
