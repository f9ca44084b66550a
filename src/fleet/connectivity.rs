//! A device's connectivity timeline: alternating online and offline periods drawn lazily from
//! the device's own keyed stream, so a device that nobody asks about costs nothing, and the
//! timeline is the same whatever the policy does (common random numbers).
//!
//! At time zero the fleet is already in its long-run mix (SPEC §1.3): a device is online with
//! probability mean(online) / (mean(online) + mean(offline)) and part-way through its period
//! (the rest drawn as a residual time: a uniform fraction of a length-biased period). A device
//! checks in when it comes online and every `check_in` after; one that is online at time zero
//! has its next check-in at a uniform point of its poll interval.
//!
//! Nothing past the horizon is simulated, so the timeline never walks past it: a period that
//! would end after the horizon lasts "forever" (its end is [`NEVER`]), and a query about a time
//! past the horizon is answered as "not within the run". A heavy-tailed period draw (a lognormal
//! whose sample saturates `u64` milliseconds) or a time far past the horizon (a retry backoff, an
//! outage or a recharge period of 10^15 s) therefore costs no more than the periods inside the
//! horizon, which the [`MIN_PERIOD_MS`] floor bounds.

use super::battery::Battery;
use crate::engine::rng::Stream;
use crate::fleet::device::{flag, Device};
use crate::scenario::model::ConnProfile;

/// Shortest period the timeline produces: a session shorter than a second carries no traffic,
/// and the floor bounds the work of advancing a timeline by the horizon.
const MIN_PERIOD_MS: u64 = 1_000;

/// Most fault windows one device can be down in; faults beyond it are ignored (a chaos
/// campaign draws at most a handful).
pub const MAX_WINDOWS: usize = 8;

/// A crash-looping device crashes once an hour (24 times a day).
pub const CRASH_CYCLE_MS: u64 = 3_600_000;

/// What a device's defects and faults do to its reachability.
#[derive(Clone, Copy, Debug)]
pub struct Overlay {
    /// The device cannot be reached in `[down_from, down_until)` (`u64::MAX`: never again).
    pub down_from: u64,
    pub down_until: u64,
    /// In `[loop_onset, loop_end)` the device crash-loops: it crashes every [`CRASH_CYCLE_MS`]
    /// and is reachable only for the first `availability` of each cycle (the loop ends when the
    /// device leaves the release). Its connectivity sessions go on underneath.
    pub loop_onset: u64,
    pub loop_end: u64,
    pub availability: f64,
    /// Fault windows (network or power outages) in which the device is unreachable.
    pub windows: [(u64, u64); MAX_WINDOWS],
    pub window_count: u8,
    /// A battery device's charge: it is unreachable while the battery is flat.
    pub battery: Option<Battery>,
}

impl Overlay {
    pub const NONE: Overlay = Overlay {
        down_from: u64::MAX,
        down_until: 0,
        loop_onset: u64::MAX,
        loop_end: u64::MAX,
        availability: 1.0,
        windows: [(0, 0); MAX_WINDOWS],
        window_count: 0,
        battery: None,
    };

    /// The crash loop's down stretch of the cycle that contains `t`, or of the next cycle when
    /// `t` is in an up stretch (empty when there is no loop at or after `t`).
    fn loop_down_near(&self, t: u64) -> (u64, u64) {
        if self.loop_onset >= self.loop_end || t >= self.loop_end {
            return (0, 0);
        }
        let up_ms = (CRASH_CYCLE_MS as f64 * self.availability.clamp(0.0, 1.0)) as u64;
        if up_ms >= CRASH_CYCLE_MS {
            return (0, 0);
        }
        let cycle = t.saturating_sub(self.loop_onset) / CRASH_CYCLE_MS;
        let start = self.loop_onset + cycle * CRASH_CYCLE_MS;
        let (mut from, mut to) = (start + up_ms, start + CRASH_CYCLE_MS);
        if t < self.loop_onset {
            (from, to) = (self.loop_onset + up_ms, self.loop_onset + CRASH_CYCLE_MS);
        }
        (from.min(self.loop_end), to.min(self.loop_end))
    }

    /// The down intervals that matter around `t`: the no-reconnect stretch, the fault windows,
    /// the crash loop's down stretch nearest `t` and the battery's flat stretch nearest `t`.
    fn intervals_near(&self, t: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        std::iter::once((self.down_from, self.down_until))
            .chain(self.windows[..self.window_count as usize].iter().copied())
            .chain(std::iter::once(self.loop_down_near(t)))
            .chain(self.battery.map(|b| b.flat_near(t)))
    }

    /// Adds a fault window.
    pub fn push_window(&mut self, from: u64, to: u64) {
        if (self.window_count as usize) < MAX_WINDOWS && from < to {
            self.windows[self.window_count as usize] = (from, to);
            self.window_count += 1;
        }
    }

    /// Whether the device is unreachable at `t`.
    pub fn down_at(&self, t: u64) -> bool {
        self.intervals_near(t).any(|(a, b)| a <= t && t < b)
    }

    /// The first instant at or after `t` when the device is reachable (`u64::MAX`: never).
    pub fn up_after(&self, mut t: u64) -> u64 {
        // Windows may overlap or chain; each pass moves past one of them.
        for _ in 0..=MAX_WINDOWS + 2 {
            match self
                .intervals_near(t)
                .filter(|(a, b)| *a <= t && t < *b)
                .map(|(_, b)| b)
                .max()
            {
                Some(end) => t = end,
                None => return t,
            }
        }
        t
    }

    /// When the current down stretch containing `t` began (for "last heard").
    pub fn down_since(&self, t: u64) -> Option<u64> {
        self.intervals_near(t)
            .filter(|(a, b)| *a <= t && t < *b)
            .map(|(a, _)| a)
            .min()
    }

    /// How long from `t` the device is sure to stay up, as far as what it knows at `t` goes: the
    /// next down stretch's start ([`Self::next_down_after`]), and no later than the end of the
    /// battery's next recharge period, past which the battery's stretches are not looked at.
    pub fn steady_until(&self, t: u64) -> u64 {
        let next = self.next_down_after(t);
        match self.battery.and_then(|b| b.every) {
            Some(every) => next.min((t / every).saturating_add(2).saturating_mul(every)),
            None => next,
        }
    }

    /// The first instant after `t` at which the device goes down (`u64::MAX`: not planned).
    pub fn next_down_after(&self, t: u64) -> u64 {
        self.intervals_near(t)
            .filter(|(a, _)| *a > t)
            .map(|(a, _)| a)
            .min()
            .unwrap_or(u64::MAX)
    }
}

/// The end of a period that never ends within the run.
pub const NEVER: u64 = u64::MAX;

/// The connectivity process of one population, bound to a replication's key for a device.
pub struct Timeline<'a> {
    pub profile: &'a ConnProfile,
    pub key: u64,
    pub telemetry_ms: u64,
    /// The scenario's horizon: periods that would end after it end at [`NEVER`].
    pub horizon_ms: u64,
}

/// The last grid tick `anchor + k·step` (k ≥ 0) strictly before `end`, or `None`.
fn last_tick_before(anchor: u64, end: u64, step: u64) -> Option<u64> {
    (end > anchor).then(|| anchor + (end - 1 - anchor) / step * step)
}

impl Timeline<'_> {
    /// The end of a period of `x_secs` that starts at `start`: at least [`MIN_PERIOD_MS`] long,
    /// and [`NEVER`] when it would end after the horizon (the sample is capped before it
    /// becomes a time, so no addition can overflow).
    fn period_end(&self, start: u64, x_secs: f64) -> u64 {
        let len = crate::engine::time::secs_to_ms(x_secs).max(MIN_PERIOD_MS);
        match start.checked_add(len) {
            Some(end) if end <= self.horizon_ms => end,
            _ => NEVER,
        }
    }

    /// Places the device in the stationary mix at time zero.
    pub fn init(&self, d: &mut Device) {
        let mut s = Stream::at(self.key, 0);
        let online = s.uniform() < self.profile.online_share;
        if online {
            let residual = s.uniform() * self.profile.online.sample_length_biased(&mut s);
            d.period_end = self.period_end(0, residual);
            d.period_start = (s.uniform() * self.profile.check_in_ms as f64) as u64;
            d.set(flag::ONLINE);
        } else {
            let residual = s.uniform() * self.profile.offline.sample_length_biased(&mut s);
            d.period_end = self.period_end(0, residual);
            d.period_start = 0;
            d.clear(flag::ONLINE);
        }
        d.last_contact = 0;
        d.conn_draws = s.counter() as u32;
    }

    /// Generates periods until the current one contains `t` (or, for `t` past the horizon, the
    /// one that contains the horizon: nothing later is ever observed). Terminates: every pass
    /// moves `period_end` on by at least [`MIN_PERIOD_MS`] or to [`NEVER`].
    pub fn advance_to(&self, d: &mut Device, t: u64) {
        let t = t.min(self.horizon_ms);
        if d.period_end > t {
            return;
        }
        let mut s = Stream::at(self.key, d.conn_draws as u64);
        // Only the last session that ends on the way sets `last_contact`: it is worked out
        // once, after the walk, not at every session's end (two divisions each).
        let mut ended = None;
        while d.period_end <= t {
            let start = d.period_end;
            if d.has(flag::ONLINE) {
                ended = Some((d.period_start, start));
                d.period_start = start;
                d.period_end = self.period_end(start, self.profile.offline.sample(&mut s));
                d.clear(flag::ONLINE);
            } else {
                let len = self.profile.online.sample(&mut s);
                d.period_start = start;
                d.period_end = self.period_end(start, len);
                d.set(flag::ONLINE);
            }
        }
        if let Some((anchor, end)) = ended {
            d.last_contact = self.last_contact_in_session(anchor, end);
        }
        d.conn_draws = s.counter() as u32;
    }

    fn last_contact_in_session(&self, anchor: u64, end: u64) -> u64 {
        let ci = last_tick_before(anchor, end, self.profile.check_in_ms);
        let tm = last_tick_before(anchor, end, self.telemetry_ms);
        ci.max(tm).unwrap_or(0)
    }

    /// Whether the device is reachable at `t` (advances the timeline to `t`).
    pub fn online_at(&self, d: &mut Device, t: u64, o: &Overlay) -> bool {
        self.advance_to(d, t);
        !o.down_at(t) && d.has(flag::ONLINE)
    }

    /// The first check-in at or after `t`, or `None` if the device is never reachable again
    /// within the horizon.
    pub fn next_check_in(&self, d: &mut Device, t: u64, o: &Overlay) -> Option<u64> {
        let mut t = t;
        if t > self.horizon_ms {
            return None;
        }
        // A tick that falls in a later down window does not happen: start over after it.
        for _ in 0..=MAX_WINDOWS + 1 {
            let tick = self.next_check_in_once(d, t, o)?;
            if !o.down_at(tick) {
                return Some(tick);
            }
            t = o.up_after(tick);
            if t > self.horizon_ms {
                return None;
            }
        }
        None
    }

    fn next_check_in_once(&self, d: &mut Device, t: u64, o: &Overlay) -> Option<u64> {
        let back_from_down = o.down_at(t);
        let t = if back_from_down { o.up_after(t) } else { t };
        if t > self.horizon_ms {
            return None;
        }
        self.advance_to(d, t);
        if d.has(flag::ONLINE) {
            // A device that comes back from being down (power restored) checks in at once.
            if back_from_down {
                return Some(t);
            }
            let ci = self.profile.check_in_ms;
            let tick = if t <= d.period_start {
                d.period_start
            } else {
                // Saturating: `t` and the poll interval are bounded, but a tick must never wrap.
                d.period_start
                    .saturating_add((t - d.period_start).div_ceil(ci).saturating_mul(ci))
            };
            if tick < d.period_end {
                return Some(tick);
            }
            self.advance_to(d, d.period_end);
        }
        // Offline now: the next online period starts at the end of this one.
        let start = d.period_end;
        if start > self.horizon_ms {
            return None;
        }
        self.advance_to(d, start);
        Some(start)
    }

    /// The start of the next online session after the current one (for retries that need a new
    /// session, such as a better bandwidth draw), or `None` if never.
    pub fn next_session(&self, d: &mut Device, t: u64, o: &Overlay) -> Option<u64> {
        if o.down_until == u64::MAX && o.down_from <= t {
            return None;
        }
        let t = if o.down_from <= t && t < o.down_until {
            o.down_until
        } else {
            t
        };
        if t > self.horizon_ms {
            return None;
        }
        self.advance_to(d, t);
        let mut end = d.period_end;
        if d.has(flag::ONLINE) {
            self.advance_to(d, end);
            end = d.period_end;
        }
        self.advance_to(d, end);
        (end <= self.horizon_ms).then_some(end)
    }

    /// The device's last contact (check-in or health report) at or before `t`. `down` is its
    /// no-reconnect stretch (`Overlay::down_from..down_until`, from
    /// `Fleet::no_reconnect`): the only part of its overlay this reads, so a caller need not
    /// build the rest (the battery among it).
    pub fn last_contact(&self, d: &mut Device, t: u64, down: (u64, u64)) -> u64 {
        self.advance_to(d, t);
        let in_session = d.has(flag::ONLINE) && d.period_start <= t;
        let contact = if in_session {
            self.last_contact_in_session(d.period_start, t + 1)
                .max(d.last_contact)
        } else {
            d.last_contact
        };
        // A device that is down has not been heard from since it went down.
        let contact = if down.0 <= t && t < down.1 {
            contact.min(down.0)
        } else {
            contact
        };
        contact.min(t)
    }

    /// Bandwidth of the current session, kbit/s (drawn once per session from the device's
    /// bandwidth stream, keyed by the session's place in the timeline).
    pub fn session_bandwidth(&self, d: &Device, bandwidth_key: u64) -> f64 {
        let mut s = Stream::at(bandwidth_key, (d.conn_draws as u64) << 4);
        self.profile.bandwidth_kbps.sample(&mut s).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{stream_key, Purpose};
    use crate::scenario::dist::Dist;

    fn profile(on: f64, off: f64) -> ConnProfile {
        ConnProfile {
            name: "p".into(),
            online: Dist::Exponential { mean: on },
            offline: Dist::Exponential { mean: off },
            check_in_ms: 1_800_000,
            bandwidth_kbps: Dist::Constant(1000.0),
            metered: false,
            online_share: on / (on + off),
        }
    }

    /// The share of devices online at any fixed time equals mean(on)/(mean(on)+mean(off)),
    /// both at time zero and 10 days in (stationarity). 20 000 devices: the binomial standard
    /// error is 0.0032, the tolerance 0.015 (about 4.7 SE).
    #[test]
    fn online_share_is_stationary() {
        let p = profile(4.0 * 3600.0, 2.0 * 3600.0);
        let expected = 4.0 / 6.0;
        for t in [0u64, 10 * 86_400_000] {
            let mut online = 0;
            for dev in 0..20_000u64 {
                let tl = Timeline {
                    profile: &p,
                    key: stream_key(1, 0, dev, Purpose::Connectivity),
                    telemetry_ms: 3_600_000,
                    horizon_ms: 365 * 86_400_000,
                };
                let mut d = Device::default();
                tl.init(&mut d);
                if tl.online_at(&mut d, t, &Overlay::NONE) {
                    online += 1;
                }
            }
            let share = online as f64 / 20_000.0;
            assert!((share - expected).abs() < 0.015, "t={t}: {share}");
        }
    }

    /// For exponential periods, the wait from a random instant until the next check-in of an
    /// offline device is the offline residual, exponential with the offline mean (memoryless).
    /// Mean over 20 000 offline devices within 3 % (SE ≈ 0.7 %).
    #[test]
    fn offline_residual_is_memoryless() {
        let p = profile(3600.0, 7200.0);
        let (mut sum, mut n) = (0.0, 0);
        for dev in 0..60_000u64 {
            let tl = Timeline {
                profile: &p,
                key: stream_key(2, 0, dev, Purpose::Connectivity),
                telemetry_ms: 3_600_000,
                horizon_ms: 365 * 86_400_000,
            };
            let mut d = Device::default();
            tl.init(&mut d);
            let t = 5 * 86_400_000;
            if !tl.online_at(&mut d, t, &Overlay::NONE) {
                sum += (tl.next_check_in(&mut d, t, &Overlay::NONE).unwrap() - t) as f64 / 1000.0;
                n += 1;
            }
        }
        let mean = sum / n as f64;
        assert!((mean / 7200.0 - 1.0).abs() < 0.03, "{mean} over {n}");
    }

    #[test]
    fn the_same_key_gives_the_same_timeline_whatever_the_queries() {
        let p = profile(3600.0, 600.0);
        let key = stream_key(3, 1, 9, Purpose::Connectivity);
        let tl = Timeline {
            profile: &p,
            key,
            telemetry_ms: 3_600_000,
            horizon_ms: 365 * 86_400_000,
        };
        let (mut a, mut b) = (Device::default(), Device::default());
        tl.init(&mut a);
        tl.init(&mut b);
        for t in (0..50).map(|i| i * 3_600_000) {
            tl.advance_to(&mut a, t);
        }
        tl.advance_to(&mut b, 49 * 3_600_000);
        assert_eq!(
            (a.period_start, a.period_end, a.flags),
            (b.period_start, b.period_end, b.flags)
        );
    }

    /// Regression: a period draw that saturates `u64` milliseconds (a lognormal tail) made
    /// `advance_to` wrap or loop forever, and a query far past the horizon (a backoff, an
    /// outage or a recharge of 10^15 s) walked the timeline up to it. Periods ending after the
    /// horizon now end at `NEVER` and nothing walks past the horizon.
    #[test]
    fn timeline_never_walks_past_the_horizon() {
        let mut p = profile(3600.0, 600.0);
        p.online = Dist::LogNormal {
            mu: 21.0,
            sigma: 5.0,
        };
        let horizon_ms = 30 * 86_400_000;
        for dev in 0..2_000u64 {
            let tl = Timeline {
                profile: &p,
                key: stream_key(5, 0, dev, Purpose::Connectivity),
                telemetry_ms: 3_600_000,
                horizon_ms,
            };
            let mut d = Device::default();
            tl.init(&mut d);
            tl.advance_to(&mut d, u64::MAX);
            assert!(d.period_end > horizon_ms);
            assert!(d.period_end == NEVER || d.period_end <= horizon_ms);
            let mut fresh = Device::default();
            tl.init(&mut fresh);
            assert_eq!(
                tl.next_check_in(&mut fresh, 1_000_000_000_000_000_000, &Overlay::NONE),
                None
            );
            if let Some(t) = tl.next_check_in(&mut fresh, 0, &Overlay::NONE) {
                assert!(t <= horizon_ms, "{t}");
            }
            let mut o = Overlay::NONE;
            o.push_window(0, 1_000_000_000_000_000_000);
            assert_eq!(tl.next_check_in(&mut fresh, 0, &o), None);
        }
    }
}
