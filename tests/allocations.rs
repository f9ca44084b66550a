//! No allocation per event: a counting allocator around the system one counts what a
//! replication allocates while it runs (after its fleet is built), on fixtures that process
//! hundreds of thousands of events.
//!
//! What may allocate during a run is growth, not work per event: vectors that double (the
//! queue's buckets, the started order, download times, recovered devices, tickets), a drained
//! large bucket of the queue freed and re-grown, and the few strings of each gate record. The
//! hourly series is one buffer sized at the start. Measured when this test was written: 343
//! allocations for 7 529 events (`bad-release`), 738 for 204 091 (`sleepy-fleet`), 690 for
//! 180 622 (`migration-chain`), 1 789 for 739 950 (`regional-outage-chaos`). The bound —
//! 1 000 plus one per 200 events — leaves room for that growth, while one allocation per event
//! in any handler (a `Vec` per check-in, a `format!` per report) breaks it on every fixture.

use fleetsim::replication::{RunLimits, Sim};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Events processed and allocations made while replication 0 of `file` runs.
fn run_counted(file: &str) -> (u64, u64) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let sc = fleetsim::scenario::load_file(&path, &[]).unwrap();
    let limits = RunLimits {
        daily_invariants: false,
        ..RunLimits::default()
    };
    let mut sim = Sim::new(&sc, 0, limits).unwrap();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    sim.run().unwrap();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    (sim.world.agenda.popped(), allocations)
}

/// One test function, so no other test allocates while it counts.
#[test]
fn a_replication_allocates_far_less_than_once_per_event() {
    for file in [
        "scenarios/bad-release.toml",
        "scenarios/sleepy-fleet.toml",
        "scenarios/migration-chain.toml",
        "scenarios/regional-outage-chaos.toml",
    ] {
        let (events, allocations) = run_counted(file);
        assert!(events > 5_000, "{file}: only {events} events");
        assert!(
            allocations <= 1_000 + events / 200,
            "{file}: {allocations} allocations for {events} events"
        );
    }
}
