//! The discrete-event engine: simulated time, the event queue, keyed random streams, device
//! records and connectivity, the event loop and the device lifecycle.

pub mod connectivity;
pub mod device;
pub mod invariants;
pub mod lifecycle;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;
