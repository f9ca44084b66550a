//! The memory a run needs, estimated before the first device record is allocated and checked
//! against a limit, so that a fleet too large for the machine is refused with a message instead
//! of the allocator killing the process half-way through.
//!
//! Estimate: [`BASE_BYTES`] + devices × [`DEVICE_BYTES`] × replications running at once
//! (`min(threads, replications)`; every replication holds its own fleet). Limit, first that
//! applies: `--max-memory SIZE`, the `FLEETSIM_MAX_MEMORY` environment variable, else what the
//! machine can give — the smallest of `MemAvailable` in `/proc/meminfo`, the cgroup's
//! `memory.max` less its `memory.current`, and the address-space limit (`ulimit -v`). Where none
//! of those can be read, there is no limit.

use crate::error::{Error, Result};
use crate::input_files::bytes_text;
use std::sync::OnceLock;

/// Peak bytes per device of one replication, rounded up from the worst measured case: the
/// 1 M-device `scale-1m.toml` with a healthy release rolling out completely (16 M events, every
/// device's events in flight at once) peaks at 191 MB on one thread and 365 MB on two (≈ 190 B
/// per device and replication); a defective release peaks at ≈ 115 B. 256 leaves a third more.
pub const DEVICE_BYTES: u64 = 256;

/// What a run needs whatever its fleet: the binary, thread stacks, the report being built.
pub const BASE_BYTES: u64 = 64 << 20;

/// The environment variable that sets the limit when `--max-memory` is not given.
pub const ENV: &str = "FLEETSIM_MAX_MEMORY";

/// A memory limit and where it comes from (said in the message when it is exceeded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemoryLimit {
    Bytes { bytes: u64, source: String },
    Unlimited,
}

static FLAG: OnceLock<MemoryLimit> = OnceLock::new();
static RESOLVED: OnceLock<std::result::Result<MemoryLimit, String>> = OnceLock::new();

/// Parses a size: bytes, or a number with `K`, `M`, `G` or `T` (binary multiples; `KiB`,
/// `MB`, `GiB`… mean the same), or `unlimited`.
pub fn parse_size(text: &str) -> Option<MemoryLimit> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") {
        return Some(MemoryLimit::Unlimited);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (t[..split].trim(), t[split..].trim().to_ascii_lowercase());
    let unit = unit.trim_end_matches('b').trim_end_matches('i');
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    let bytes = value * (1u64 << shift) as f64;
    // Checked float→int: a value past u64 is refused, not wrapped.
    (value.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then(|| MemoryLimit::Bytes {
        bytes: bytes as u64,
        source: String::new(),
    })
}

fn parse_with_source(text: &str, source: &str) -> std::result::Result<MemoryLimit, String> {
    match parse_size(text) {
        Some(MemoryLimit::Bytes { bytes, .. }) => Ok(MemoryLimit::Bytes {
            bytes,
            source: source.into(),
        }),
        Some(MemoryLimit::Unlimited) => Ok(MemoryLimit::Unlimited),
        None => Err(format!(
            "{source} `{text}`: write a size such as 512MiB, 16GiB or 2T, or `unlimited`"
        )),
    }
}

/// Sets the limit from `--max-memory` (called once by the CLI, before anything runs).
pub fn set_from_flag(text: &str) -> Result<()> {
    let limit = parse_with_source(text, "--max-memory").map_err(Error::Usage)?;
    // A second call (only possible in tests) keeps the first value.
    let _ = FLAG.set(limit);
    Ok(())
}

/// The limit in force, read once per process so that every run of a command sees the same.
pub fn limit() -> Result<MemoryLimit> {
    if let Some(l) = FLAG.get() {
        return Ok(l.clone());
    }
    RESOLVED
        .get_or_init(|| match std::env::var(ENV) {
            Ok(v) => parse_with_source(&v, ENV),
            Err(_) => Ok(machine_limit()),
        })
        .clone()
        .map_err(Error::Usage)
}

/// The smallest of what the machine reports it can give this process.
fn machine_limit() -> MemoryLimit {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let available = read("/proc/meminfo").and_then(|t| field_kib(&t, "MemAvailable:"));
    let cgroup = read("/sys/fs/cgroup/memory.max")
        .and_then(|m| m.trim().parse::<u64>().ok())
        .map(|max| {
            let used = read("/sys/fs/cgroup/memory.current")
                .and_then(|c| c.trim().parse::<u64>().ok())
                .unwrap_or(0);
            max.saturating_sub(used)
        });
    let address_space = read("/proc/self/limits").and_then(|t| address_space_limit(&t));
    [
        (
            available,
            "the memory available (MemAvailable in /proc/meminfo)",
        ),
        (
            cgroup,
            "the cgroup's memory limit (memory.max) less what it uses",
        ),
        (address_space, "the address-space limit, ulimit -v"),
    ]
    .into_iter()
    .filter_map(|(b, s)| b.map(|b| (b, s)))
    .min_by_key(|(b, _)| *b)
    .map_or(MemoryLimit::Unlimited, |(bytes, source)| {
        MemoryLimit::Bytes {
            bytes,
            source: source.into(),
        }
    })
}

/// A `Name:  123 kB` line of `/proc/meminfo`, in bytes.
fn field_kib(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The soft `Max address space` of `/proc/self/limits`, in bytes (`None` when unlimited).
fn address_space_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The bytes a run of `devices` devices needs with `concurrent` replications at once
/// (saturating: a product past u64 is simply too much).
pub fn estimate_bytes(devices: u64, concurrent: u64) -> u64 {
    devices
        .saturating_mul(DEVICE_BYTES)
        .saturating_mul(concurrent.max(1))
        .saturating_add(BASE_BYTES)
}

/// Refuses a run whose estimate exceeds the limit in force.
pub fn check(devices: u64, concurrent: u64, threads: usize) -> Result<()> {
    check_against(devices, concurrent, threads, &limit()?)
}

/// [`check`] against a given limit.
pub fn check_against(
    devices: u64,
    concurrent: u64,
    threads: usize,
    limit: &MemoryLimit,
) -> Result<()> {
    let MemoryLimit::Bytes { bytes, source } = limit else {
        return Ok(());
    };
    let estimate = estimate_bytes(devices, concurrent);
    if estimate <= *bytes {
        return Ok(());
    }
    let lower = if concurrent > 1 {
        format!(
            "run fewer replications at once (--threads {}), ",
            (concurrent / 2).max(1)
        )
    } else {
        String::new()
    };
    // A limit that would let this run through, rounded up to whole GiB.
    let enough = estimate.div_ceil(1 << 30);
    Err(Error::Limit(format!(
        "this run needs about {} of memory ({devices} devices × {DEVICE_BYTES} bytes × \
         {concurrent} replication{} running at once on {threads} thread{}, plus {}), more than \
         the limit of {} ({source}); {lower}simulate fewer devices, or set the limit with \
         --max-memory or {ENV} (e.g. --max-memory {enough}GiB, or `unlimited`)",
        bytes_text(estimate),
        if concurrent == 1 { "" } else { "s" },
        if threads == 1 { "" } else { "s" },
        bytes_text(BASE_BYTES),
        bytes_text(*bytes),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(text: &str) -> Option<u64> {
        match parse_size(text)? {
            MemoryLimit::Bytes { bytes, .. } => Some(bytes),
            MemoryLimit::Unlimited => None,
        }
    }

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(bytes("4GiB"), Some(4 << 30));
        assert_eq!(bytes("4G"), Some(4 << 30));
        assert_eq!(bytes("512 MB"), Some(512 << 20));
        assert_eq!(bytes("1.5k"), Some(1536));
        assert_eq!(bytes("1000"), Some(1000));
        assert_eq!(parse_size("Unlimited"), Some(MemoryLimit::Unlimited));
        for bad in ["", "0", "-1G", "4X", "1e30", "99999999999T", "G"] {
            assert!(parse_size(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn twenty_million_devices_on_two_threads_do_not_fit_4_gib() {
        let limit = MemoryLimit::Bytes {
            bytes: 4 << 30,
            source: "the test".into(),
        };
        let e = check_against(20_000_000, 2, 2, &limit)
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs about 9.6 GiB"), "{e}");
        assert!(e.contains("more than the limit of 4 GiB (the test)"), "{e}");
        assert!(e.contains("--max-memory 10GiB"), "{e}");
        assert!(e.contains("--threads 1"), "{e}");
        assert!(e.contains("--max-memory"), "{e}");
        // One replication at a time fits.
        check_against(10_000_000, 1, 2, &limit).unwrap();
        check_against(u64::MAX, u64::MAX, 2, &MemoryLimit::Unlimited).unwrap();
        assert_eq!(estimate_bytes(u64::MAX, 2), u64::MAX);
    }

    #[test]
    fn proc_files_are_read_in_bytes() {
        assert_eq!(
            field_kib(
                "MemTotal: 10 kB\nMemAvailable:    2048 kB\n",
                "MemAvailable:"
            ),
            Some(2 << 20)
        );
        let limits = "Limit Soft Hard Units\nMax address space         4294967296           unlimited            bytes\n";
        assert_eq!(address_space_limit(limits), Some(4 << 30));
        let unlimited =
            "Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(address_space_limit(unlimited), None);
    }
}
