//! Time and chance, injected so that the breaker and the shedder are deterministic under test.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Monotonic time, as a duration since some fixed start (the use cases' wall clock is
/// `application::ports::Clock`; this one only measures intervals).
pub trait Monotonic: Send + Sync + 'static {
    fn now(&self) -> Duration;
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    start: Instant,
}

impl MonotonicClock {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Monotonic for MonotonicClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A clock that moves only when told to; clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(
            u64::try_from(by.as_nanos()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }
}

impl Monotonic for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// A uniform draw from [0, 1).
pub trait Random: Send + Sync + 'static {
    fn next_f64(&self) -> f64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadRandom;

impl Random for ThreadRandom {
    fn next_f64(&self) -> f64 {
        rand::random::<f64>()
    }
}

/// Always the same draw: 0.0 drops whenever the drop ratio is positive, 1.0 never drops.
impl Random for f64 {
    fn next_f64(&self) -> f64 {
        *self
    }
}
