//! Ground-truth metrics of a replication: counters, the hourly series and the outcome.

pub mod cohort;
pub mod counters;
pub mod durations;
pub mod gate_log;
pub mod outcome;
pub mod reasons;
pub mod series;
