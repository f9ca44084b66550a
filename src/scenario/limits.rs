//! Up-front limits of a scenario: what validation refuses before anything is allocated, and
//! the bounds the simulator sizes its memory by.

/// Up-front limits, so that a typo such as `count = 10000000000` is refused with a message
/// instead of exhausting memory.
pub const MAX_DEVICES: u64 = 20_000_000;
pub const MAX_HORIZON_DAYS: u64 = 3_660;
pub const MAX_REPLICATIONS: u64 = 1_000_000;
pub const MAX_VERSIONS: usize = 250;
/// A device's population is a `u16` index (the device record stays 80 bytes).
pub const MAX_POPULATIONS: usize = 1 << 16;
/// A device's stage is a `u8` index, 255 meaning "no stage".
pub const MAX_STAGES: usize = 254;
/// Fault indices are `u16`.
pub const MAX_FAULTS: usize = u16::MAX as usize;
/// Most crashes a day a population's devices may have (one a second): past that, a device does
/// nothing but crash, and the crash hazard leaves the range the crash counter is exact in.
pub const MAX_CRASH_RATE_PER_DAY: f64 = 86_400.0;
/// Largest `factor` of a `crash-rate` or `battery-drain` defect.
pub const MAX_DEFECT_FACTOR: f64 = 1.0e6;
/// Defects per release: which ones hit a device is a 64-bit mask.
pub const MAX_DEFECTS: usize = 64;
/// Background support tickets per device-day: one every 15 minutes per device is already far
/// past any real fleet, and the count of ticket events stays bounded by it.
pub const MAX_BACKGROUND_TICKETS_PER_DEVICE_DAY: f64 = 100.0;
/// Recharges within the horizon are counted in a `u16` per device (`battery_epoch`).
pub const MAX_RECHARGES: u64 = u16::MAX as u64;

/// Longest `simulation.name` in bytes. The name makes the default report folder
/// `reports/<name><suffix>/` and its staging sibling `.<name><suffix>.tmp-<pid>`, and a file name
/// holds at most 255 bytes: 200 leaves room for the longest suffix (`-sweep-shard-K-of-N`) and
/// the staging decoration.
pub const MAX_NAME_BYTES: usize = 200;

/// The most devices a population's arrivals bring in one replication, as the simulator sizes
/// them: 1.5 times the expected number (a Poisson count exceeds that with negligible
/// probability at any rate that fits the limit) plus 10 for small rates.
pub fn arrivals_bound(arrivals_per_day: f64, horizon_s: f64) -> f64 {
    if arrivals_per_day > 0.0 {
        arrivals_per_day * horizon_s / 86_400.0 * 1.5 + 10.0
    } else {
        0.0
    }
}
