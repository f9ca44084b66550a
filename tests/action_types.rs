//! hawkBit action types (`policy.action_type`) and the owner's `consent` (SPEC §1.3b, §1.5b):
//! a soft update waits for the owner, who may decline (`rejected`, never retried); a forced
//! one does not ask; a time-forced one stops asking at `force_after`; a download-only one
//! reports success with the image staged. Each is compared with a control on the same seeds.

mod common;

use common::{
    outcomes, population, simulation, validate_refuses, ALWAYS_ONLINE, ONE_STAGE, TWO_RELEASES,
};

/// 1000 always-online devices, all notified at once, whose owners answer after `delay` and
/// decline with probability `deny` (no `consent` table when `delay` is empty), under the
/// `[policy]` keys `policy`.
fn fleet(delay: &str, deny: f64, policy: &str, horizon: &str) -> String {
    let consent = if delay.is_empty() {
        String::new()
    } else {
        format!("consent = {{ delay = \"{delay}\", deny = {deny} }}\n")
    };
    let (sim, pop) = (
        simulation("consent", 41, horizon),
        population("fleet", 1000, "always"),
    );
    format!(
        "{sim}\n{ALWAYS_ONLINE}\n{pop}{consent}\n{TWO_RELEASES}\n[policy]\ntarget = \"2.0.0\"\n{policy}\n\n{ONE_STAGE}"
    )
}

/// Soft updates wait two hours for the owner and one owner in ten says no: the declines are
/// rejected executions (Binomial(1000, 0.1): SD 9.5, so 70–130 is beyond 3 SD), counted
/// under `consent_denied`, stranded for `consent`, never retried; everyone else updates,
/// two hours later than under `forced`, which asks nobody.
#[test]
fn soft_waits_for_consent_and_a_refusal_is_rejected() {
    let soft = outcomes(&fleet("2h", 0.1, "action_type = \"soft\"", "3d"));
    let forced = outcomes(&fleet("2h", 0.1, "action_type = \"forced\"", "3d"));
    for (s, f) in soft.iter().zip(&forced) {
        assert!((70..=130).contains(&s.rejected), "{}", s.rejected);
        assert_eq!(s.observed_rejected, s.rejected);
        assert_eq!(s.failures_by_reason["consent_denied"], s.rejected);
        assert_eq!(s.stranded_by_reason["consent"], s.rejected);
        assert_eq!(s.updated, 1000 - s.rejected);
        assert_eq!(s.deferrals_by_reason["consent"], 1000);
        // Nobody is notified twice: a refusal is not retried.
        assert_eq!(s.observed_failure, 0);
        assert_eq!(f.rejected, 0);
        assert_eq!(f.updated, 1000);
        assert_eq!(f.deferrals_by_reason["consent"], 0);
        let lag = s.time_to_50.unwrap() - f.time_to_50.unwrap();
        assert!((7200.0..7300.0).contains(&lag), "{lag}");
    }
}

/// Without a `consent` table, `soft` (the default) is `forced`: the same outcomes on the
/// same seeds.
#[test]
fn soft_without_consent_is_forced() {
    let soft = outcomes(&fleet("", 0.0, "action_type = \"soft\"", "3d"));
    let forced = outcomes(&fleet("", 0.0, "action_type = \"forced\"", "3d"));
    let default = outcomes(&fleet("", 0.0, "", "3d"));
    for ((s, f), d) in soft.iter().zip(&forced).zip(&default) {
        assert_eq!(s.updated, 1000);
        assert_eq!(s.time_to_95, f.time_to_95);
        assert_eq!(s.events, f.events);
        assert_eq!(d.time_to_95, f.time_to_95);
    }
}

/// Owners take a day and half of them say no. Forced after one hour, every device installs at
/// its first check-in after that hour (a check-in a minute): nobody is rejected and the fleet
/// is updated by about 1h 2m. Forced only after two days, the owners answer first: about half
/// decline (Binomial(1000, 0.5): SD 16, 400–600 is beyond 6 SD).
#[test]
fn timeforced_stops_asking_at_force_after() {
    let early = outcomes(&fleet(
        "1d",
        0.5,
        "action_type = \"timeforced\"\nforce_after = \"1h\"",
        "3d",
    ));
    let late = outcomes(&fleet(
        "1d",
        0.5,
        "action_type = \"timeforced\"\nforce_after = \"2d\"",
        "3d",
    ));
    for (e, l) in early.iter().zip(&late) {
        assert_eq!(e.rejected, 0);
        assert_eq!(e.updated, 1000);
        let t = e.time_to_99.unwrap();
        assert!((3600.0..3600.0 + 300.0).contains(&t), "{t}");
        assert!((400..=600).contains(&l.rejected), "{}", l.rejected);
        assert_eq!(l.updated, 1000 - l.rejected);
        // Those who said yes did so at one day.
        assert!(l.time_to_50.is_none() || l.time_to_50.unwrap() >= 86_400.0);
    }
}

/// Download-only: every device downloads, verifies and reports success without installing.
/// The backend sees 1000 successes; nobody runs the new release, nobody is exposed, and no
/// device is stranded (they were all reached). Owners' consent is not asked.
#[test]
fn download_only_reports_success_without_installing() {
    let staged = outcomes(&fleet("2h", 0.5, "action_type = \"download-only\"", "3d"));
    for s in &staged {
        assert_eq!(s.observed_success, 1000);
        assert_eq!(s.updated, 0);
        assert_eq!(s.exposed, 0);
        assert_eq!(s.stranded, 0);
        assert_eq!(s.rejected, 0);
        assert!(s.bytes_served > 0.0);
        assert_eq!(s.deferrals_by_reason["consent"], 0);
    }
}

/// Owners who never answer within the horizon leave their devices waiting: stranded for
/// `consent` at the end, not `maintenance`.
#[test]
fn an_owner_who_never_answers_strands_the_device() {
    let waiting = outcomes(&fleet("10d", 0.0, "", "2d"));
    for w in &waiting {
        assert_eq!(w.updated, 0);
        assert_eq!(w.stranded_by_reason["consent"], 1000);
        assert_eq!(w.stranded_by_reason["maintenance"], 0);
    }
}

#[test]
fn force_after_needs_timeforced_and_back() {
    let err = validate_refuses(
        &fleet("1h", 0.0, "force_after = \"1d\"", "3d"),
        "force.toml",
    );
    assert!(err.contains("policy.force_after"), "{err}");
    assert!(err.contains("timeforced"), "{err}");
    let err = validate_refuses(
        &fleet("1h", 0.0, "action_type = \"timeforced\"", "3d"),
        "timeforced.toml",
    );
    assert!(err.contains("policy.action_type"), "{err}");
    assert!(err.contains("force_after"), "{err}");
    let err = validate_refuses(
        &fleet(
            "1h",
            0.0,
            "action_type = \"timeforced\"\nforce_after = \"5d\"",
            "3d",
        ),
        "late.toml",
    );
    assert!(err.contains("after the simulation horizon"), "{err}");
    let err = validate_refuses(
        &fleet("1h", 0.0, "action_type = \"hard\"", "3d"),
        "hard.toml",
    );
    assert!(err.contains("download-only"), "{err}");
}

#[test]
fn consent_is_validated() {
    let err = validate_refuses(&fleet("1h", 1.5, "", "3d"), "deny.toml");
    assert!(err.contains("population[0].consent.deny"), "{err}");
    let text = fleet("", 0.0, "", "3d").replace(
        "connectivity = \"always\"\n",
        "connectivity = \"always\"\nconsent = { delai = \"1h\" }\n",
    );
    let err = validate_refuses(&text, "typo.toml");
    assert!(err.contains("delay"), "{err}");
}
