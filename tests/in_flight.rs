//! The in-flight limit (`policy.max_in_flight`): a device that finds the limit reached waits on
//! the backend's waitlist and is woken at its first check-in after an execution closes. The
//! fleet is always online with a check-in a minute, so the limit alone decides the pace: each
//! execution holds its place for the install (60 s), the reboot (30 s) and the wait for the
//! next check-in to report (at most 60 s), and an opening waits at most a check-in interval
//! for the woken device.

mod common;

use common::{outcomes, ALWAYS_ONLINE, ONE_STAGE, TWO_RELEASES};

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
