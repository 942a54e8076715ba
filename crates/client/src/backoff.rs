//! Reconnect delays: exponential backoff with full jitter, capped.
//!
//! Attempt n waits a uniformly random time in `[0, min(cap, base * 2^n))`, so
//! thousands of clients dropped at once do not come back in lockstep.

use std::time::Duration;

/// Backoff state for one connection.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(250), Duration::from_secs(30))
    }
}

impl Backoff {
    /// Delays start under `base` and never exceed `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap,
            attempt: 0,
        }
    }

    /// The ceiling of the next delay.
    pub fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(20));
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The next delay, with `unit` a uniform random number in [0, 1).
    pub fn next_with(&mut self, unit: f64) -> Duration {
        let d = self.ceiling().mul_f64(unit.clamp(0.0, 1.0));
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        self.next_with(rand::random::<f64>())
    }

    /// After a successful connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_until_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let ceilings: Vec<u128> = (0..6)
            .map(|_| {
                let c = b.ceiling().as_millis();
                b.next_with(0.5);
                c
            })
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_millis(100));
    }

    #[test]
    fn delays_are_jittered_within_the_ceiling() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
        assert_eq!(b.next_with(0.0), Duration::ZERO);
        assert_eq!(b.next_with(0.5), Duration::from_millis(100));
        for _ in 0..100 {
            let ceiling = b.ceiling();
            assert!(b.next_delay() <= ceiling);
        }
        assert!(b.ceiling() <= Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_loop_sleeps_the_backoff_delays() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let start = tokio::time::Instant::now();
        let mut total = Duration::ZERO;
        for _ in 0..5 {
            let d = b.next_with(1.0);
            total += d;
            tokio::time::sleep(d).await;
        }
        assert_eq!(start.elapsed(), total);
        assert_eq!(total, Duration::from_millis(100 + 200 + 400 + 800 + 1600));
    }
}
