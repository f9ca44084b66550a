//! `perf.json`: how long the run took and how much it processed. The one output that is not
//! reproducible, so it is kept apart from the result files.

#[derive(Clone, Debug, serde::Serialize)]
pub struct Perf {
    pub wall_ms: u64,
    pub events: u64,
    pub events_per_sec: f64,
    pub replications: u64,
    pub threads: usize,
    pub devices: u64,
    /// Peak resident memory of the process (Linux `VmHWM`), if known.
    pub peak_rss_bytes: Option<u64>,
    /// `peak_rss_bytes / devices`: the memory cost of one device (with every replication
    /// running at once and the process's fixed overhead, so an upper bound).
    pub bytes_per_device: Option<f64>,
    /// Events processed by kind (`check_in`, `notify`, …), summed over replications; empty
    /// where the command does not count them.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub events_by_kind: std::collections::BTreeMap<String, u64>,
}

impl Perf {
    /// The figures of a finished command: wall time since `wall_ms` ago, event counts, and
    /// the process's peak memory now.
    pub fn new(
        wall_ms: u64,
        events: u64,
        replications: u64,
        threads: usize,
        devices: u64,
        events_by_kind: &[u64],
    ) -> Perf {
        let peak_rss_bytes = peak_rss_bytes();
        Perf {
            wall_ms,
            events,
            events_per_sec: events as f64 / (wall_ms.max(1) as f64 / 1000.0),
            replications,
            threads,
            devices,
            peak_rss_bytes,
            bytes_per_device: peak_rss_bytes
                .filter(|_| devices > 0)
                .map(|b| b as f64 / devices as f64),
            events_by_kind: crate::replication::KINDS
                .iter()
                .zip(events_by_kind)
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (crate::replication::kind_name(*k).to_string(), *n))
                .collect(),
        }
    }
}

/// Peak resident set size of this process, from `/proc/self/status`.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
