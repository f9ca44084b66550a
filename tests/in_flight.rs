//! The in-flight limit (`policy.max_in_flight`): a device that finds the limit reached waits on
//! the backend's waitlist and is woken at its first check-in after an execution closes. The
//! fleet is always online with a check-in a minute, so the limit alone decides the pace: each
//! execution holds its place for the install (60 s), the reboot (30 s) and the wait for the
//! next check-in to report (at most 60 s), and an opening waits at most a check-in interval
//! for the woken device.

mod common;

use common::{outcomes, trace, ALWAYS_ONLINE, ONE_STAGE, TWO_RELEASES};

/// 500 devices all notified in the first minute; `policy` is added to `[policy]`.
fn fleet(policy: &str) -> String {
    format!(
        r#"
[simulation]
name = "in-flight"
seed = 11
horizon = "1d"
replications = 3

{ALWAYS_ONLINE}
[[population]]
name = "fleet"
count = 500
model = "m1"
firmware = "1.0.0"
connectivity = "always"

{TWO_RELEASES}

[policy]
target = "2.0.0"
rate = {{ per_minute = 1000 }}
{policy}

{ONE_STAGE}"#
    )
}

/// With 10 in flight at once, the 500 devices go through in 50 turns of 91 to 211 seconds:
/// never more than 10 in flight, nobody left behind, no opening idle for long; and each wait
/// is counted once, not once per check-in (a re-check a minute would count tens of thousands;
/// the devices that learned of the job after the first turn ended never wait).
#[test]
fn waiting_devices_are_woken_as_executions_close() {
    for o in outcomes(&fleet("max_in_flight = 10")) {
        assert_eq!(o.updated, 500, "replication {}", o.replication);
        assert_eq!(o.peak_in_flight, 10);
        let t = o.time_to_99.expect("99 % updated");
        // time_to_99 is the 495th device: 49.5 turns.
        assert!(
            (49.0 * 91.0..=50.0 * 211.0).contains(&t),
            "time_to_99 {t} s"
        );
        let waits = o.deferrals_by_reason["in_flight_limit"];
        assert!((400..=1500).contains(&waits), "{waits} in-flight deferrals");
    }
}

/// Without the limit the same fleet is done within minutes, and nobody waits: the control.
#[test]
fn without_the_limit_nobody_waits() {
    for o in outcomes(&fleet("")) {
        assert_eq!(o.updated, 500);
        assert!(o.time_to_99.unwrap() < 400.0);
        let waits = o.deferrals_by_reason.get("in_flight_limit").copied();
        assert!(waits.unwrap_or(0) == 0, "{waits:?}");
    }
}

/// The window closes on devices still waiting: they are released from the waitlist, cancelled
/// and stranded with the reason they waited for; the ones in flight finish.
#[test]
fn the_window_close_reaches_waiting_devices() {
    for o in outcomes(&fleet("max_in_flight = 10\nwindow = \"30m\"")) {
        let stranded = o.stranded_by_reason.get("in_flight_limit").copied();
        assert!(o.updated < 500 && o.updated >= 100, "updated {}", o.updated);
        assert_eq!(
            stranded,
            Some(500 - o.updated),
            "{:?}",
            o.stranded_by_reason
        );
    }
}

/// Devices wait through an outage of their region: the in-flight limit holds them from before
/// it began, and the south's executions open places during it. A waiter is woken at a check-in
/// of its own, as its polls would have run had it not waited: those in the outage do not
/// happen, and the first after it is on the same one-minute grid as the check-in it waited at.
/// It is not woken "at once" when the outage ends, as a device with an event pending in the
/// outage is (the storm the long install below makes at the outage's end).
#[test]
fn a_waiter_through_an_outage_is_woken_at_its_own_first_poll_after_it() {
    let text = fleet("max_in_flight = 10")
        .replace("replications = 3", "replications = 1")
        .replace("install_time = \"60s\"", "install_time = \"5m\"")
        .replace(
            "name = \"fleet\"\ncount = 500\nmodel = \"m1\"",
            "name = \"north\"\ncount = 250\nmodel = \"m1\"\nregion = \"north\"",
        )
        + "\n[[population]]\nname = \"south\"\ncount = 250\nmodel = \"m1\"\nregion = \"south\"\n\
           firmware = \"1.0.0\"\nconnectivity = \"always\"\n\n[[fault]]\nkind = \"network-outage\"\n\
           where = { region = \"north\" }\nat = \"10m\"\nduration = \"1h\"\n";
    assert!(text.contains("name = \"north\"") && text.contains("install_time = \"5m\""));
    let (from, to) = (600_000, 4_200_000);
    let rows = trace(&text);
    let mut by_device: std::collections::BTreeMap<u32, Vec<(u64, &str)>> = Default::default();
    for row in rows.iter().filter(|row| row.event == "check_in") {
        let d = row.device.expect("a check-in names its device");
        by_device
            .entry(d)
            .or_default()
            .push((row.time_ms, row.detail.as_str()));
    }
    // A check-in that finds the device pending, followed by another: it waited at the first
    // and was woken for the second.
    let across: Vec<(u32, u64, u64)> = by_device
        .iter()
        .flat_map(|(&d, cs)| {
            cs.windows(2).filter_map(move |w| {
                let ((t0, p0), (t1, p1)) = (w[0], w[1]);
                (p0 == "Pending" && p1 == "Pending" && t0 < from && t1 >= to).then_some((d, t0, t1))
            })
        })
        .collect();
    assert!(
        across.len() >= 100,
        "{} waited through the outage",
        across.len()
    );
    let off_grid: Vec<_> = across
        .iter()
        .filter(|(_, t0, t1)| (t1 - t0) % 60_000 != 0)
        .collect();
    assert!(
        off_grid.is_empty(),
        "woken off their own polls: {off_grid:?}"
    );
    let storm = by_device
        .values()
        .flatten()
        .filter(|(t, p)| *t == to && *p == "Reporting")
        .count();
    assert!(
        storm > 0,
        "devices with an event in the outage report at its end"
    );
}
