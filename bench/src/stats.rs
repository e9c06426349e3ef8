//! Percentiles of samples, and the spread of a figure over runs.

use std::time::Duration;

/// The `p`-th percentile (0–100) of `samples`, nearest rank; sorts them. `None` when empty.
pub fn percentile(samples: &mut [Duration], p: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    Some(samples[rank.clamp(1, samples.len()) - 1])
}

/// Median, smallest and largest of one figure over several runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median run (the mean of the middle two for an even count).
    pub median: f64,
    /// The smallest run.
    pub min: f64,
    /// The largest run.
    pub max: f64,
}

impl Spread {
    /// The spread of `runs`; `None` when there are none.
    pub fn of(runs: &[f64]) -> Option<Self> {
        if runs.is_empty() {
            return None;
        }
        let mut sorted = runs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        let median = if sorted.len() % 2 == 0 {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        } else {
            sorted[middle]
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        assert_eq!(
            percentile(&mut samples, 50.0),
            Some(Duration::from_micros(50))
        );
        assert_eq!(
            percentile(&mut samples, 99.0),
            Some(Duration::from_micros(99))
        );
        assert_eq!(
            percentile(&mut samples, 100.0),
            Some(Duration::from_micros(100))
        );
        assert_eq!(
            percentile(&mut samples, 0.0),
            Some(Duration::from_micros(1))
        );
        assert_eq!(percentile(&mut [], 50.0), None);
    }

    #[test]
    fn spread_has_median_min_and_max() {
        let spread = Spread::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((spread.median, spread.min, spread.max), (2.5, 1.0, 10.0));
        assert_eq!(Spread::of(&[4.0]).unwrap().median, 4.0);
        assert!(Spread::of(&[]).is_none());
    }
}
