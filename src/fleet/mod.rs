//! The fleet's release rules: upgrade paths and downgrades.

pub mod versions;
