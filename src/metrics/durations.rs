//! The download times of one replication, kept as compactly as their values allow: four bytes
//! each while every time fits in a `u32` of milliseconds (49 days), eight from the first one
//! that does not. A million-device rollout records a million of them; half the bytes is 4 MB
//! less at the peak, and their quantiles are the same numbers either way.

/// Durations in milliseconds, in the order they were recorded.
#[derive(Clone, Debug)]
pub enum Durations {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Default for Durations {
    fn default() -> Durations {
        Durations::Narrow(Vec::new())
    }
}

impl Durations {
    pub fn push(&mut self, ms: u64) {
        match self {
            Durations::Narrow(v) => match u32::try_from(ms) {
                Ok(x) => v.push(x),
                Err(_) => {
                    let mut wide: Vec<u64> = v.iter().map(|&x| u64::from(x)).collect();
                    wide.push(ms);
                    *self = Durations::Wide(wide);
                }
            },
            Durations::Wide(v) => v.push(ms),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Durations::Narrow(v) => v.len(),
            Durations::Wide(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `qs` quantiles, in seconds, by [`crate::stats::quantile_sorted`]'s definition
    /// (`None` when there are no durations). Sorts a copy of the integers, not of their `f64`
    /// values: the order is the same, the copy half the size.
    pub fn quantiles_secs<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        fn of<T: Copy + Ord + Into<u64>, const N: usize>(
            v: &[T],
            qs: [f64; N],
        ) -> [Option<f64>; N] {
            let mut sorted = v.to_vec();
            sorted.sort_unstable();
            let secs = |i: usize| sorted[i].into() as f64 / 1000.0;
            qs.map(|q| crate::stats::quantile_sorted_by(sorted.len(), q, secs))
        }
        match self {
            Durations::Narrow(v) => of(v, qs),
            Durations::Wide(v) => of(v, qs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quantiles are those of the `f64` seconds sorted, narrow or wide, and a time past
    /// `u32` widens the store without losing one recorded before it.
    #[test]
    fn quantiles_match_sorting_the_seconds() {
        let mut s = crate::engine::rng::Stream::new(3);
        let mut times = Durations::default();
        let mut all = Vec::new();
        for i in 0..5000u64 {
            let ms = (s.exp1() * 3_600_000.0) as u64 + i % 3;
            times.push(ms);
            all.push(ms);
        }
        let reference = |all: &[u64]| {
            let mut secs: Vec<f64> = all.iter().map(|&x| x as f64 / 1000.0).collect();
            secs.sort_unstable_by(f64::total_cmp);
            [0.0, 0.5, 0.95, 1.0].map(|q| crate::stats::quantile_sorted(&secs, q))
        };
        assert!(matches!(times, Durations::Narrow(_)));
        assert_eq!(times.quantiles_secs([0.0, 0.5, 0.95, 1.0]), reference(&all));
        times.push(u64::from(u32::MAX) + 5);
        all.push(u64::from(u32::MAX) + 5);
        assert!(matches!(times, Durations::Wide(_)));
        assert_eq!(times.len(), 5001);
        assert_eq!(times.quantiles_secs([0.0, 0.5, 0.95, 1.0]), reference(&all));
        assert_eq!(Durations::default().quantiles_secs([0.5]), [None]);
    }
}
