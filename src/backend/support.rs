//! The support team's queue (SPEC §1.8): every support ticket and every quarantined device is
//! an item the team works off, and [`backlog`] replays them through the team to measure
//! `support_backlog_peak` and `time_to_clear_support`.
//!
//! **The model.** `capacity_per_day` is the team's throughput: it picks up the waiting items
//! one at a time in the order they arrived (FIFO), at most `c = capacity_per_day` a day, i.e.
//! a pick-up no sooner than `1/c` day after the one before; an item picked up is resolved
//! `resolve_time` later (the team works several items at once: capacity bounds how many it
//! *starts*, not how many it holds). Item `i`, arriving at `a_i`, is picked up at
//! `p_i = max(a_i, p_{i-1} + 1/c)` and resolved at `r_i = p_i + R_i`. The backlog at `t` is the
//! items arrived by `t` and not resolved by `t` (waiting or being worked on).
//!
//! Closed form: fed at `λ > c` items a day, pick-ups come every `1/c` day, so the waiting line
//! grows by `λ − c` a day, while the items in resolution stay about `c · E[R]` (Little's law):
//! after `T` days the backlog is about `(λ − c)·T + c·E[R]`. Fed at `λ < c` it stays near
//! `λ · (1/c + E[R])` items and empties again and again.
//!
//! Nothing in the simulation waits for the team (a resolved item changes no device: the
//! quarantined device stays where it is), so the queue is a function of the arrival times and
//! is replayed once, at the end of the replication, instead of being an event per item.

use crate::engine::rng::Stream;
use crate::engine::time::{secs_to_ms, DAY_MS};
use crate::scenario::model::SupportQueue;

/// What the queue did over one replication.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// The most items in the queue at once.
    pub peak: u64,
    /// From the first item's arrival until the queue is empty again after its peak (ms);
    /// `None` without items, or when it is still not empty at the horizon.
    pub time_to_clear_ms: Option<u64>,
}

/// Replays the items arriving at `arrivals_ms` (any order; times after `horizon_ms` never
/// arrive) through the team of `q`; item `i` in arrival order draws its resolve time from
/// draw `i` of the stream keyed `key`.
pub fn backlog(arrivals_ms: &mut [u64], q: &SupportQueue, key: u64, horizon_ms: u64) -> Backlog {
    arrivals_ms.sort_unstable();
    let arrived = arrivals_ms.partition_point(|&a| a <= horizon_ms);
    let arrivals = &arrivals_ms[..arrived];
    let Some(&first) = arrivals.first() else {
        return Backlog::default();
    };
    let gap_ms = (DAY_MS as f64 / q.capacity_per_day).max(1.0);
    let mut resolved: Vec<u64> = Vec::with_capacity(arrivals.len());
    let mut last_pickup = f64::NEG_INFINITY;
    for (i, &a) in arrivals.iter().enumerate() {
        let pickup = (a as f64).max(last_pickup + gap_ms);
        last_pickup = pickup;
        let r = q.resolve_time.sample(&mut Stream::at(key, (i as u64) << 5));
        resolved.push((pickup as u64).saturating_add(secs_to_ms(r.max(0.0))));
    }
    resolved.sort_unstable();
    sweep(arrivals, &resolved, horizon_ms, first)
}

/// Walks arrivals and resolutions in time order (an arrival before a resolution at the same
/// instant, so an item resolved at once still counts while it is there): the peak, then the
/// first moment after it the queue is empty.
fn sweep(arrivals: &[u64], resolved: &[u64], horizon_ms: u64, first: u64) -> Backlog {
    let (mut i, mut j, mut len, mut peak) = (0usize, 0usize, 0u64, 0u64);
    let mut cleared_at: Option<u64> = None;
    while i < arrivals.len() || (j < resolved.len() && resolved[j] <= horizon_ms) {
        if i < arrivals.len() && (j >= resolved.len() || arrivals[i] <= resolved[j]) {
            len += 1;
            i += 1;
            if len > peak {
                peak = len;
                cleared_at = None;
            }
        } else {
            let t = resolved[j];
            len -= 1;
            j += 1;
            if len == 0 && cleared_at.is_none() {
                cleared_at = Some(t);
            }
        }
    }
    Backlog {
        peak,
        time_to_clear_ms: cleared_at.map(|t| t - first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{stream_key, Purpose};
    use crate::scenario::dist::Dist;

    fn queue(capacity_per_day: f64, resolve_s: f64) -> SupportQueue {
        SupportQueue {
            capacity_per_day,
            resolve_time: Dist::Constant(resolve_s),
        }
    }

    /// Three items at once, a team of 24 a day (one pick-up an hour) and 30 minutes each:
    /// resolved at 0:30, 1:30 and 2:30, so the peak is 3 and the queue is empty at 2:30.
    #[test]
    fn a_burst_is_picked_up_one_gap_apart() {
        let h = 3_600_000;
        let b = backlog(&mut [5 * h, 5 * h, 5 * h], &queue(24.0, 1800.0), 1, 100 * h);
        assert_eq!(b.peak, 3);
        assert_eq!(b.time_to_clear_ms, Some(2 * h + h / 2));
    }

    /// One item a day, resolved at once: of three arriving at 0, 1 and 2 ms the first is gone
    /// at once (peak 2), the second is picked up at 1 day, the third would be at 2 days — still
    /// in the queue at the horizon of 1 day, so the queue never cleared.
    #[test]
    fn a_queue_not_empty_at_the_horizon_has_no_clear_time() {
        let d = DAY_MS;
        let b = backlog(&mut [0, 1, 2], &queue(1.0, 0.0), 1, d);
        assert_eq!(b.peak, 2);
        assert_eq!(b.time_to_clear_ms, None);
        assert_eq!(backlog(&mut [], &queue(1.0, 0.0), 1, d), Backlog::default());
        // An item that arrives after the horizon never arrives.
        assert_eq!(
            backlog(&mut [2 * d], &queue(1.0, 0.0), 1, d),
            Backlog::default()
        );
    }

    /// Fed at λ = 50 a day (evenly) with c = 20 a day and a resolve time of 12 h for 10 days,
    /// the closed form `(λ − c)·T + c·E[R]` gives 300 + 10 = 310; the replay is within one
    /// item of it (the grid's edges).
    #[test]
    fn an_overloaded_queue_grows_by_lambda_minus_c_a_day() {
        let mut arrivals: Vec<u64> = (0..500).map(|k| k * DAY_MS / 50).collect();
        let key = stream_key(1, 0, u64::MAX, Purpose::SupportResolve);
        let b = backlog(&mut arrivals, &queue(20.0, 43_200.0), key, 10 * DAY_MS);
        assert!((309..=311).contains(&b.peak), "{b:?}");
        assert_eq!(b.time_to_clear_ms, None);
    }
}
