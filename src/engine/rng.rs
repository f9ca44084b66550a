//! Keyed random streams: every draw that describes a device's world comes from a stream keyed by
//! `(seed, replication, device, purpose)`.
//!
//! The generator is counter-based (SplitMix64: output `n` is a bijective mix of `key + n·γ`), so a
//! stream is fully described by its key and a draw counter. A device therefore needs no stored
//! generator state for one-shot draws (a defect hit, its storage), and only a `u32` counter for a
//! sequential process (its connectivity timeline). Because the key never involves the policy,
//! two policies run on one seed see the same world: common random numbers.

use core::convert::Infallible;

use rand::TryRng;
// `Rng` (rand_core 0.10; `RngCore` before) is implemented for every infallible `TryRng`; its
// `next_u64` is the draw that the helpers below and rand_distr's samplers call.
use rand::Rng;

/// What a stream is used for. Part of the key, so that two purposes never share draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    Connectivity = 1,
    Bandwidth = 2,
    Battery = 3,
    Storage = 4,
    Defect = 5,
    InstallFailure = 6,
    InstallTime = 7,
    RebootTime = 8,
    Crash = 9,
    Command = 10,
    Ticket = 11,
    Firmware = 12,
    Order = 13,
    Operator = 14,
    Arrival = 15,
    InstallProgress = 16,
    DefectDelay = 17,
    PowerFault = 18,
    CdnError = 19,
    Corrupt = 20,
    TelemetryDelay = 21,
    TelemetryDrop = 22,
    ClockSkew = 23,
    Chaos = 24,
    /// Whether a downloaded delta fails to apply (`delta_failure`).
    DeltaApply = 25,
    /// A device's draw from its population's `model` mix.
    MixModel = 26,
    /// A device's draw from its population's `region` mix.
    MixRegion = 27,
    /// A device's draw from its population's `connectivity` mix.
    MixConnectivity = 28,
    /// A device's draw from its population's `power` mix.
    MixPower = 29,
    /// How long a device's owner takes to answer a soft update, and whether the answer is no.
    Consent = 30,
    // Support and operations (SPEC §1.8), numbered apart so that purposes other work adds
    // after `Chaos` never collide with them.
    /// The fleet-level process of background tickets: gaps and which device opens each.
    BackgroundTicket = 40,
    /// How long each support-queue item takes once picked up.
    SupportResolve = 41,
    /// How long a bricked device waits for its field visit.
    FieldVisit = 42,
}

/// Key of a population-level stream (arrivals), apart from every device's.
pub fn population_key(seed: u64, replication: u64, population: usize, purpose: Purpose) -> u64 {
    stream_key(seed, replication, u64::MAX - 1 - population as u64, purpose)
}

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser: a bijection with good avalanche.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of the stream for `(seed, replication, device, purpose)`.
#[inline]
pub fn stream_key(seed: u64, replication: u64, device: u64, purpose: Purpose) -> u64 {
    device_key(replication_key(seed, replication), device, purpose)
}

/// The part of every stream key of one replication that names `(seed, replication)`: worked
/// out once per replication, it halves the cost of each device's key (see [`device_key`]).
#[inline]
pub fn replication_key(seed: u64, replication: u64) -> u64 {
    let a = mix64(seed ^ 0x5EED_5EED_5EED_5EED);
    mix64(a ^ replication.wrapping_mul(GAMMA))
}

/// The key of the stream for `(device, purpose)` in the replication of `replication_key`:
/// the same key as [`stream_key`] gives.
#[inline]
pub fn device_key(replication_key: u64, device: u64, purpose: Purpose) -> u64 {
    let c = mix64(replication_key ^ device.wrapping_mul(0xD1B5_4A32_D192_ED03));
    mix64(c ^ (purpose as u64).wrapping_mul(0x8CB9_2BA7_2F3D_8DD7))
}

/// A counter-based random stream. Cheap to create; holds 16 bytes.
#[derive(Clone, Debug)]
pub struct Stream {
    key: u64,
    counter: u64,
}

impl Stream {
    pub fn new(key: u64) -> Stream {
        Stream { key, counter: 0 }
    }
    pub fn keyed(seed: u64, replication: u64, device: u64, purpose: Purpose) -> Stream {
        Stream::new(stream_key(seed, replication, device, purpose))
    }
    /// Resumes a stream at draw `counter` (for sequential processes whose counter a device stores).
    pub fn at(key: u64, counter: u64) -> Stream {
        Stream { key, counter }
    }
    pub fn counter(&self) -> u64 {
        self.counter
    }
    /// A uniform draw in the open interval (0, 1): never 0, so `ln(u)` is always finite.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }
    /// `true` with probability `p`.
    #[inline]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }
    /// An exponential draw with mean 1.
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        -self.uniform().ln()
    }
}

impl Stream {
    /// Draw `counter + 1`: the SplitMix64 mix of `key + counter·γ`.
    #[inline]
    fn draw(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        mix64(self.key.wrapping_add(self.counter.wrapping_mul(GAMMA)))
    }
}

/// The generator never fails: rand 0.10 derives the infallible `Rng` from this impl.
impl TryRng for Stream {
    type Error = Infallible;

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.draw())
    }
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.draw() >> 32) as u32)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.draw().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key worked out in two halves is the key worked out at once.
    #[test]
    fn a_device_key_from_the_replication_key_is_the_stream_key() {
        for (seed, rep, dev) in [(0, 0, 0), (42, 7, 999_999), (u64::MAX, 3, u64::MAX - 1)] {
            for p in [Purpose::Connectivity, Purpose::Battery, Purpose::FieldVisit] {
                assert_eq!(
                    device_key(replication_key(seed, rep), dev, p),
                    stream_key(seed, rep, dev, p)
                );
            }
        }
    }

    #[test]
    fn streams_are_independent_of_order_of_creation() {
        let mut a = Stream::keyed(1, 0, 42, Purpose::Defect);
        let first = a.next_u64();
        let _ = Stream::keyed(1, 0, 43, Purpose::Defect).next_u64();
        let mut again = Stream::keyed(1, 0, 42, Purpose::Defect);
        assert_eq!(first, again.next_u64());
        assert_ne!(first, Stream::keyed(1, 1, 42, Purpose::Defect).next_u64());
        assert_ne!(first, Stream::keyed(1, 0, 42, Purpose::Crash).next_u64());
    }

    #[test]
    fn resuming_at_a_counter_continues_the_stream() {
        let key = stream_key(9, 3, 7, Purpose::Connectivity);
        let mut s = Stream::new(key);
        s.next_u64();
        s.next_u64();
        let third = s.next_u64();
        assert_eq!(Stream::at(key, 2).next_u64(), third);
    }

    /// Mean of 200 000 uniforms is within 5 standard errors (5 · 0.289/√200000 ≈ 0.0032) of 1/2.
    #[test]
    fn uniform_mean() {
        let mut s = Stream::keyed(5, 0, 0, Purpose::Battery);
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| s.uniform()).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.0033, "mean {mean}");
    }
}
