//! The discrete-event engine, free of any domain: simulated time, the event queue and keyed
//! random streams. It knows nothing of devices, stages or faults; the replication (`crate::
//! replication`) runs its loop over these.

pub mod agenda;
pub mod pages;
pub mod quad_heap;
pub mod queue;
pub mod rng;
pub mod time;
