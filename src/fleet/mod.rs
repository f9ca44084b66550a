//! The fleet of one replication: the compact per-device records (`device`) and each device's
//! deterministic connectivity timeline (`connectivity`).

pub mod connectivity;
pub mod device;
