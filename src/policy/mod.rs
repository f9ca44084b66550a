//! The rollout policy at work: cohorts, the controller, and gate evaluation.

pub mod abort;
pub mod analysis;
pub mod cohort;
pub mod event;
pub mod gate;
pub mod rollout;

#[cfg(test)]
mod tests;
