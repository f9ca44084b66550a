//! Unit tests of the device lifecycle on ten hand-built devices, with a scripted controller in
//! place of the rollout's: the lifecycle is driven only through its events and `Control`.

use super::control::{Control, Stance};
use super::event::DeviceEvent;
use super::world::World;
use crate::engine::time::SimTime;
use crate::fleet::device::{flag, Job, Phase, Reason};
use crate::scenario::Scenario;

/// The events a lifecycle-only world holds: device events and nothing else.
#[derive(Clone, Copy, Debug)]
struct Ev(u32, DeviceEvent);

impl From<(u32, DeviceEvent)> for Ev {
    fn from((d, e): (u32, DeviceEvent)) -> Ev {
        Ev(d, e)
    }
}

/// A controller whose stance the test sets, recording what the lifecycle tells it.
#[derive(Default)]
struct Script {
    stance: Stance,
    results: Vec<u32>,
    freed: u32,
}

impl Control<Ev> for Script {
    fn stance(&self) -> Stance {
        self.stance
    }
    fn on_result(&mut self, _: &mut World<'_, Ev>, d: u32) {
        self.results.push(d);
    }
    fn on_capacity_freed(&mut self, _: &mut World<'_, Ev>) {
        self.freed += 1;
    }
}

fn running() -> Script {
    Script {
        stance: Stance {
            running: true,
            ..Stance::default()
        },
        ..Script::default()
    }
}

/// Ten always-online devices on `1.0.0`, one stage of all of them, `backend` appended.
fn fleet(backend: &str) -> Scenario {
    crate::scenario::test_fleet::ten_devices(
        crate::scenario::test_fleet::TEN_PLC,
        &format!("[[policy.stage]]\nname = \"all\"\nselect = {{}}\npercent = 100\n\n{backend}"),
    )
}

/// Notifies devices `ds` now, as a controller does: the update job, pending, a check-in now.
fn notify(w: &mut World<'_, Ev>, ds: &[u32]) {
    for &d in ds {
        let dv = w.fleet.dev_mut(d);
        dv.set(flag::TARGETED | flag::NOTIFIED);
        dv.stage = 0;
        dv.job = Job::Update;
        dv.enter(Phase::Pending);
        w.schedule_check_in(d, w.now);
    }
}

/// Runs the world's events to the horizon; `each` sees the world after every event.
fn run(w: &mut World<'_, Ev>, ctl: &mut Script, mut each: impl FnMut(&World<'_, Ev>)) {
    while let Some((t, Ev(d, e))) = w.agenda.pop() {
        w.now = t;
        w.on_event(ctl, d, e);
        assert!(w.breach.is_none(), "{:?}", w.breach);
        assert!(
            w.agenda.take_past().is_none(),
            "an event was scheduled in the past"
        );
        each(w);
    }
}

/// A notified device downloads, installs, boots and reports success: it runs the target, the
/// backend heard one success, the controller was told of the result and of the freed
/// execution, and nothing is left in flight.
#[test]
fn a_notified_device_updates_and_reports_success() {
    let sc = fleet("");
    let mut w: World<'_, Ev> = World::new(&sc, 0).unwrap();
    let mut ctl = running();
    notify(&mut w, &[3]);
    run(&mut w, &mut ctl, |_| {});
    let dv = w.fleet.dev(3);
    assert_eq!(dv.version, sc.policy.target);
    assert!(dv.has(flag::STARTED) && dv.has(flag::EXPOSED) && !dv.has(flag::HARMED));
    assert_eq!((dv.job, dv.phase), (Job::None, Phase::Idle));
    assert_eq!(ctl.results, vec![3]);
    assert!(ctl.freed >= 1);
    let heard = w.backend.global();
    assert_eq!((heard.started, heard.reported, heard.success), (1, 1, 1));
    assert_eq!(w.backend.in_flight(), 0);
    assert_eq!(w.recorder.updates_started, 1);
    assert_eq!(w.fleet.version_counts(), &[9, 1]);
    assert!(w.recorder.bytes_served >= 1e6, "the 1 MB image was served");
    for d in (0..10).filter(|&d| d != 3) {
        assert_eq!(w.fleet.dev(d).version, 0, "device {d} was never notified");
    }
}

/// A device that learns of the update while the controller is paused is held (parked) and
/// starts nothing; once the rollout has stopped for good it is cancelled instead.
#[test]
fn a_halted_rollout_parks_or_cancels_what_devices_learn() {
    let sc = fleet("");
    let mut w: World<'_, Ev> = World::new(&sc, 0).unwrap();
    let mut paused = Script {
        stance: Stance {
            paused: true,
            halted_since: Some(SimTime::ZERO),
            ..Stance::default()
        },
        ..Script::default()
    };
    notify(&mut w, &[0, 1]);
    run(&mut w, &mut paused, |_| {});
    let mut parked = w.backend.parked().to_vec();
    parked.sort_unstable();
    assert_eq!(
        parked,
        [0, 1],
        "each held once, in the order they checked in"
    );
    assert!((0..2).all(|d| w.fleet.dev(d).phase == Phase::Parked));
    assert_eq!(w.backend.global().started, 0);

    let mut w: World<'_, Ev> = World::new(&sc, 0).unwrap();
    let mut stopped = Script::default();
    notify(&mut w, &[0]);
    run(&mut w, &mut stopped, |_| {});
    let dv = w.fleet.dev(0);
    assert_eq!(
        (dv.job, dv.phase, dv.reason),
        (Job::None, Phase::Idle, Reason::Cancelled)
    );
    assert!(w.backend.parked().is_empty() && w.backend.global().started == 0);
}

/// With one download slot, ten devices notified at once never download two at a time, all of
/// them still finish, and every one of them queued behind the first.
#[test]
fn one_download_slot_serves_the_fleet_one_at_a_time() {
    let sc = fleet("[backend]\nmax_concurrent_downloads = 1");
    let mut w: World<'_, Ev> = World::new(&sc, 0).unwrap();
    let mut ctl = running();
    notify(&mut w, &(0..10).collect::<Vec<_>>());
    let mut most = 0;
    run(&mut w, &mut ctl, |w| {
        most = most.max(w.backend.active_downloads())
    });
    assert_eq!(most, 1);
    assert_eq!(w.backend.active_downloads(), 0);
    assert_eq!(w.fleet.version_counts(), &[0, 10]);
    assert_eq!(w.backend.global().success, 10);
    let mut reported = ctl.results.clone();
    reported.sort_unstable();
    assert_eq!(reported, (0..10).collect::<Vec<_>>());
}

/// A device already on the target learns of the job and has nothing to do: no execution,
/// no result, nothing served.
#[test]
fn a_device_on_the_target_is_not_updated_again() {
    let sc = fleet("");
    let mut w: World<'_, Ev> = World::new(&sc, 0).unwrap();
    let target = sc.policy.target;
    w.fleet.set_version(5, target, SimTime::ZERO);
    let mut ctl = running();
    notify(&mut w, &[5]);
    run(&mut w, &mut ctl, |_| {});
    assert!(ctl.results.is_empty());
    assert_eq!(w.backend.global().started, 0);
    assert_eq!(w.recorder.bytes_served, 0.0);
    assert_eq!(w.fleet.dev(5).phase, Phase::Idle);
}

/// A device that refuses its job before starting it (too little storage for the image) is
/// stranded for `storage` and, as AWS `REJECTED`, is an outcome the backend hears at once: one
/// executed device, rejected, none reported, and the controller is told. A control device with
/// room updates and is no rejection.
#[test]
fn a_refused_job_is_a_rejection_the_backend_hears() {
    let pops = format!(
        "{}\nstorage_free_mb = 0.5",
        crate::scenario::test_fleet::TEN_PLC
    );
    let sc = crate::scenario::test_fleet::ten_devices(
        &pops,
        "[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100",
    );
    let mut w: World<'_, Ev> = World::new(&sc, 0).unwrap();
    let mut ctl = running();
    notify(&mut w, &[2]);
    run(&mut w, &mut ctl, |_| {});
    let dv = w.fleet.dev(2);
    assert_eq!((dv.reason, dv.phase), (Reason::Storage, Phase::Idle));
    assert!(!dv.has(flag::STARTED));
    let heard = w.backend.global();
    assert_eq!(
        (
            heard.executed,
            heard.rejected,
            heard.reported,
            heard.any_failure()
        ),
        (1, 1, 0, 1)
    );
    assert_eq!(ctl.results, vec![2]);
    assert_eq!(w.recorder.rejected, 1);

    let control = fleet("");
    let mut w: World<'_, Ev> = World::new(&control, 0).unwrap();
    notify(&mut w, &[2]);
    run(&mut w, &mut running(), |_| {});
    let heard = w.backend.global();
    assert_eq!((heard.executed, heard.rejected, heard.success), (1, 0, 1));
    assert_eq!(w.recorder.rejected, 0);
}

/// A device that rejects a tampered image reports it: a failed attempt as before
/// (`update_failure_rate` counts it) and a rejection (`rejected_rate` does too), counted once
/// in `any_failure_rate`.
#[test]
fn a_rejected_signature_is_a_reported_rejection() {
    let sc = fleet("[[fault]]\nkind = \"tampered-artifact\"\nat = \"0s\"\nduration = \"2d\"");
    let mut w: World<'_, Ev> = World::new(&sc, 0).unwrap();
    let mut ctl = running();
    notify(&mut w, &[4]);
    run(&mut w, &mut ctl, |_| {});
    let heard = w.backend.global();
    assert_eq!(
        (
            heard.reported,
            heard.failure,
            heard.rejected,
            heard.executed
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(heard.any_failure(), 1);
    assert_eq!(w.recorder.rejected, 1);
    assert_eq!(w.recorder.security_violations, 0);
}
