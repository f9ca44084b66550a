//! fleetsim — a discrete-event simulator and chaos-testing harness for over-the-air firmware
//! rollouts.
//!
//! A scenario file describes a fleet, its releases (with the ground truth of their defects), a
//! rollout policy and the faults to inject. fleetsim plays the policy against the fleet many
//! times over and measures blast radius, time to completion, false halts and rollback.
//!
//! ```text
//!  scenario/ ──► replication/ ─────────────────────────────► analysis/ ──► report/ ──► commands/ ──► cli
//!  parse,        one run: a lifecycle::World (fleet/,          replications, JSON, CSV,   one per      args
//!  validate      backend/, fault/ plan, metrics/ recorder,     aggregates,   HTML, plots  command
//!                engine/ agenda) and the policy/ controller;   compare,
//!                device events go to lifecycle/, which         sweep/tune
//!                reaches the controller only through Control
//! ```
//!
//! Layers, bottom to top; a module imports only from layers below it (`tests/layers.rs`
//! enforces it, and that no two files import each other; its allow-list is empty):
//!
//! | layer | owns |
//! | --- | --- |
//! | `error` | the typed errors and their exit codes |
//! | `engine` | simulated time, the generic event queue and agenda, keyed random streams; no domain |
//! | `stats` | Wilson and exact bounds, quantiles, confidence intervals; no domain |
//! | `input_files` | reading user files with size caps |
//! | `scenario` | the scenario file: parse, `--set`, validate into [`scenario::Scenario`]; the name catalog, limits, version rules |
//! | `metrics` | what a replication records: the recorder of ground truth, hourly series, gate log, outcome record, reasons |
//! | `fleet` | the owner of the devices: records, defect effects, arrivals, version counts, connectivity timelines |
//! | `backend` | the owner of what the server holds and has heard: download slots, executions in flight, observations, tickets |
//! | `fault` | the fault plan: which faults touch which device, read-only queries; chaos campaigns |
//! | `lifecycle` | what a device does (check-in, preflight, download, install, boot, report, time-out) on a `World`, and the `Control` seam to the controller |
//! | `policy` | the rollout controller (its own state): cohorts, the notification pump, gates (pure, over a read-only view), actions |
//! | `replication` | one run: a world and a controller, routes typed events, invariants, the outcome |
//! | `memory` | the memory estimate checked before a run |
//! | `analysis` | replications in parallel, aggregates, compare, sweep, tune, expectations |
//! | `report` | the output files: CSV, JSON, HTML, plots, JUnit, baselines, staging |
//! | `out`, `commands`, `cli` | terminal output, one module per command, the command line |
//!
//! Guarantees: events at the same instant are processed in the order they were scheduled;
//! every random draw that describes a device's world comes from a stream keyed by
//! `(seed, replication, device, purpose)`; replications are reduced in order, so output files
//! are byte-identical at any thread count.

pub mod analysis;
pub mod backend;
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
