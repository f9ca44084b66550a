//! The fleet-level process of background support tickets (SPEC §1.8
//! `background_per_device_day`), [`BackgroundTickets`]: one Poisson process for the whole fleet
//! instead of one per device (why that is exact: `crate::lifecycle::support`).

use crate::engine::rng::{stream_key, Purpose, Stream};
use crate::engine::time::DAY_MS;
use crate::scenario::Scenario;

/// The background-ticket process of one replication, drawn from a stream of its own.
#[derive(Clone, Debug)]
pub struct BackgroundTickets {
    stream: Stream,
    /// Tickets per millisecond over the whole fleet (0: none).
    per_ms: f64,
    /// The exact (unrounded) time of the latest ticket drawn, ms.
    at_ms: f64,
    horizon_ms: u64,
}

impl BackgroundTickets {
    /// The process of replication `rep` over `devices` devices (every device the replication
    /// has, those that join later included).
    pub fn new(sc: &Scenario, rep: u64, devices: usize) -> BackgroundTickets {
        BackgroundTickets {
            stream: Stream::new(stream_key(
                sc.seed,
                rep,
                u64::MAX,
                Purpose::BackgroundTicket,
            )),
            per_ms: devices as f64 * sc.support.background_per_device_day / DAY_MS as f64,
            at_ms: 0.0,
            horizon_ms: sc.horizon.0,
        }
    }

    /// The time (ms) of the next ticket, `None` when there is none or it falls after the
    /// horizon. The gaps add up unrounded, so rounding to the millisecond never biases the rate.
    pub fn next_at(&mut self) -> Option<u64> {
        if self.per_ms <= 0.0 {
            return None;
        }
        self.at_ms += self.stream.exp1() / self.per_ms;
        let t = self.at_ms.ceil();
        (t <= self.horizon_ms as f64).then_some(t as u64)
    }

    /// The device, of `devices`, that opens the ticket: uniform.
    pub fn pick(&mut self, devices: usize) -> u32 {
        ((self.stream.uniform() * devices as f64) as usize).min(devices.saturating_sub(1)) as u32
    }
}
