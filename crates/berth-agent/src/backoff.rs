//! Exponential backoff with full jitter for reconnecting to the server: the ceiling doubles
//! from [`Backoff::INITIAL`] up to [`Backoff::CAP`] and each delay is uniform in `[0, ceiling]`,
//! so that many agents coming back after a server restart spread out instead of stampeding.

use rand::Rng;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    pub const INITIAL: Duration = Duration::from_millis(100);
    pub const CAP: Duration = Duration::from_secs(10);

    pub fn new() -> Self {
        Backoff { attempt: 0 }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The largest delay the next attempt may wait.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32 << self.attempt.min(16);
        Self::INITIAL.saturating_mul(factor).min(Self::CAP)
    }

    /// The delay before the next attempt, drawn from `rng`.
    pub fn next_delay_with(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let millis = rng.random_range(0..=ceiling.as_millis() as u64);
        Duration::from_millis(millis)
    }

    pub fn next_delay(&mut self) -> Duration {
        self.next_delay_with(&mut rand::rng())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut backoff = Backoff::new();
        let mut rng = StdRng::seed_from_u64(7);
        let mut ceilings = Vec::new();
        for _ in 0..12 {
            ceilings.push(backoff.ceiling().as_millis());
            let delay = backoff.next_delay_with(&mut rng);
            assert!(delay <= Backoff::CAP);
        }
        assert_eq!(&ceilings[..8], &[100, 200, 400, 800, 1600, 3200, 6400, 10000]);
        assert!(ceilings[8..].iter().all(|ceiling| *ceiling == 10000));
    }

    #[test]
    fn delays_stay_within_the_ceiling_and_reset_restarts() {
        let mut backoff = Backoff::new();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let ceiling = backoff.ceiling();
            assert!(backoff.next_delay_with(&mut rng) <= ceiling);
        }
        backoff.reset();
        assert_eq!(backoff.ceiling(), Backoff::INITIAL);
    }
}
