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
}

/// Peak resident set size of this process, from `/proc/self/status`.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
