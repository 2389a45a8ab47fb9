//! Latency percentiles over every recorded sample (no histogram buckets:
//! a run records at most a few million samples, and sorting them is exact).

use std::time::Duration;

/// The summary the benchmark prints for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencySummary {
    pub samples: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
}

/// Summarises `samples` (any order; sorted in place). `None` when empty.
pub fn summarise(samples: &mut [Duration]) -> Option<LatencySummary> {
    samples.sort_unstable();
    Some(LatencySummary {
        samples: samples.len(),
        p50: percentile(samples, 500)?,
        p99: percentile(samples, 990)?,
        p999: percentile(samples, 999)?,
        max: *samples.last()?,
    })
}

/// The nearest-rank percentile of sorted `samples`, `per_mille` in 1..=1000
/// (990 is p99, 999 is p99.9): the smallest sample that at least that share
/// of the samples do not exceed. Integer arithmetic, so p99.9 of 1000
/// samples is exactly the 999th.
pub fn percentile(sorted: &[Duration], per_mille: usize) -> Option<Duration> {
    if sorted.is_empty() || !(1..=1000).contains(&per_mille) {
        return None;
    }
    let rank = (per_mille * sorted.len()).div_ceil(1000).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(values: impl IntoIterator<Item = u64>) -> Vec<Duration> {
        values.into_iter().map(Duration::from_micros).collect()
    }

    #[test]
    fn percentiles_of_one_to_a_thousand_are_their_ranks() {
        let mut samples = micros((1..=1000).rev());
        let s = summarise(&mut samples).expect("non-empty");
        assert_eq!(s.samples, 1000);
        assert_eq!(s.p50, Duration::from_micros(500));
        assert_eq!(s.p99, Duration::from_micros(990));
        assert_eq!(s.p999, Duration::from_micros(999));
        assert_eq!(s.max, Duration::from_micros(1000));
    }

    #[test]
    fn one_slow_sample_in_a_thousand_shows_only_above_p99_9() {
        let mut samples = micros(std::iter::repeat_n(100, 999).chain([50_000]));
        let s = summarise(&mut samples).expect("non-empty");
        assert_eq!(s.p99, Duration::from_micros(100));
        assert_eq!(s.p999, Duration::from_micros(100));
        assert_eq!(s.max, Duration::from_micros(50_000));
        let mut two_slow = micros(std::iter::repeat_n(100, 998).chain([50_000, 50_000]));
        let s = summarise(&mut two_slow).expect("non-empty");
        assert_eq!(s.p999, Duration::from_micros(50_000));
    }

    #[test]
    fn no_samples_give_no_summary() {
        assert_eq!(summarise(&mut []), None);
        assert_eq!(percentile(&micros([1]), 0), None);
    }
}
