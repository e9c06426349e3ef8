//! When the Event stream breaks: how long to wait before each new attempt.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Decides the wait before reconnect attempt `attempt` (1 for the first retry). `None` gives up:
/// the bot's connection state becomes `Closed`. Attempts count on across streams that did not
/// stay up for 30 s, so a service that accepts the stream and drops it at once gets ever
/// longer waits.
///
/// ```
/// use std::time::Duration;
/// use wechaty_client::ReconnectPolicy;
///
/// /// Retry every second, ten times.
/// struct Steady;
/// impl ReconnectPolicy for Steady {
///     fn delay(&self, attempt: u32) -> Option<Duration> {
///         (attempt <= 10).then_some(Duration::from_secs(1))
///     }
/// }
/// ```
pub trait ReconnectPolicy: Send + Sync + 'static {
    /// The wait before attempt number `attempt` (1-based), or `None` to stop trying.
    fn delay(&self, attempt: u32) -> Option<Duration>;
}

/// Exponential backoff with jitter: `initial × factor^(attempt−1)`, capped at `max`, then
/// scaled by a random factor in `[1 − jitter, 1 + jitter]` so that many bots restarting
/// together do not reconnect in lockstep. Never gives up.
#[derive(Clone, PartialEq)]
pub struct ExponentialBackoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// Growth per attempt.
    pub factor: f64,
    /// Relative spread, `0.0..=1.0`.
    pub jitter: f64,
}

impl Default for ExponentialBackoff {
    /// 500 ms, doubling, capped at 30 s, ±20 %.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.2,
        }
    }
}

impl fmt::Debug for ExponentialBackoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExponentialBackoff")
            .field("initial", &self.initial)
            .field("max", &self.max)
            .field("factor", &self.factor)
            .field("jitter", &self.jitter)
            .finish()
    }
}

impl ExponentialBackoff {
    /// The wait for `attempt` with a given jitter sample `unit` in `[0, 1)`: the curve itself,
    /// testable without randomness.
    pub fn delay_with(&self, attempt: u32, unit: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let base = self.initial.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        let capped = base.min(self.max.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0);
        let scale = 1.0 - jitter + 2.0 * jitter * unit.clamp(0.0, 1.0);
        Duration::from_secs_f64((capped * scale).max(0.0))
    }
}

impl ReconnectPolicy for ExponentialBackoff {
    fn delay(&self, attempt: u32) -> Option<Duration> {
        Some(self.delay_with(attempt, random_unit()))
    }
}

/// A cheap pseudo-random number in `[0, 1)` (xorshift over a shared state seeded from the
/// clock): jitter needs spread, not cryptographic quality.
fn random_unit() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_doubles_up_to_the_cap() {
        let policy = ExponentialBackoff {
            jitter: 0.0,
            ..ExponentialBackoff::default()
        };
        let waits: Vec<u64> = (1..=9)
            .map(|attempt| policy.delay_with(attempt, 0.5).as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(policy.delay_with(u32::MAX, 0.5), Duration::from_secs(30));
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let policy = ExponentialBackoff::default();
        assert_eq!(policy.delay_with(1, 0.0), Duration::from_millis(400));
        assert_eq!(policy.delay_with(1, 1.0), Duration::from_millis(600));
        for attempt in 1..50 {
            let wait = policy.delay(attempt).unwrap();
            let middle = policy.delay_with(attempt, 0.5).as_secs_f64();
            let ratio = wait.as_secs_f64() / middle;
            assert!((0.8..=1.2).contains(&ratio), "attempt {attempt}: {ratio}");
        }
    }

    #[test]
    fn random_units_spread_out() {
        let samples: Vec<f64> = (0..1000).map(|_| random_unit()).collect();
        assert!(samples.iter().all(|u| (0.0..1.0).contains(u)));
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }
}
