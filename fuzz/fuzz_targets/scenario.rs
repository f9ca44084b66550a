//! Fuzz target: any bytes as a scenario file — parse, validate, and (when it validates and is
//! small) a short run of one replication under an event limit. Whatever the input, fleetsim
//! must answer with a typed error or a result: a panic, a hang or an abort is a bug. Inputs
//! that break it go into `tests/data/corpus/`, which the test suite runs.
#![no_main]

use fleetsim::analysis::run::{run, RunOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(sc) = fleetsim::scenario::load_str(text, "fuzz.toml", Path::new("."), &[]) else {
        return;
    };
    // Large fleets are the memory check's business; keep each execution short.
    if sc.device_count() > 20_000 {
        return;
    }
    let opts = RunOptions {
        threads: Some(1),
        max_events: Some(1_000_000),
        daily_invariants: true,
        ..RunOptions::default()
    };
    if let Err(e) = run(&sc, 0..sc.replications.min(1), &opts) {
        // A breached invariant is a simulator bug: make the fuzzer keep the input.
        assert!(
            !matches!(e, fleetsim::error::Error::Invariant { .. }),
            "invariant breach: {e}"
        );
    }
});
