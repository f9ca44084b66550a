//! fleetsim — a discrete-event simulator and chaos-testing harness for over-the-air firmware
//! rollouts.
//!
//! A scenario file describes a fleet, its releases (with the ground truth of their defects), a
//! rollout policy and the faults to inject. fleetsim plays the policy against the fleet many
//! times over and measures blast radius, time to completion, false halts and rollback.
//!
//! ```text
//!  scenario/ ──► fleet/ ──► engine/ ◄──► policy/ ──► metrics/ ──► analysis/ ──► report/
//!  parse,        versions   time, queue,  stages,     outcome,    replications,  JSON, CSV,
//!  validate                 rng, devices  gates,      series      aggregates     table, perf
//!                                         actions
//! ```
//!
//! Guarantees: events at the same instant are processed in the order they were scheduled;
//! every random draw that describes a device's world comes from a stream keyed by
//! `(seed, replication, device, purpose)`; replications are reduced in order, so output files
//! are byte-identical at any thread count.

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod fault;
pub mod fleet;
pub mod input_files;
pub mod lifecycle;
pub mod memory;
pub mod metrics;
pub mod out;
pub mod policy;
pub mod replication;
pub mod report;
pub mod scenario;
pub mod stats;
