//! Analysis: running replications and summarising them across runs.

pub mod compare;
pub mod expect;
pub mod run;
pub mod sweep;
