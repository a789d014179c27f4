//! go-zero's adaptive load shedder (core/load/adaptiveshedder.go). While the CPU is over its
//! threshold (or was, less than a second ago, and we dropped), requests beyond what the service
//! has recently shown it can finish in flight are rejected, before queues grow and latency
//! collapses for everyone.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

use crate::clock::Monotonic;
use crate::cpu::CpuUsage;
use crate::window::RollingWindow;

const BUCKETS: usize = 50;
const BUCKET_WIDTH: Duration = Duration::from_millis(100);
/// (1 s / bucket width) / 1000 ms: turns "passes per bucket × ms per request" into in-flight.
const WINDOW_SCALE: f64 = 0.01;
const DEFAULT_MIN_RT_MS: f64 = 1000.0;
const FLYING_BETA: f64 = 0.9;
const COOL_OFF: Duration = Duration::from_secs(1);
const CPU_MAX: f64 = 1000.0;
/// Even with the CPU pegged, a tenth of what looks sustainable is still admitted.
const MIN_OVERLOAD_FACTOR: f64 = 0.1;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    passes: u64,
    rt_sum_ms: f64,
}

/// The request was shed: "service overloaded".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded;

impl std::fmt::Display for Overloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("service overloaded")
    }
}

impl std::error::Error for Overloaded {}

pub struct Shedder {
    /// Which server it guards, as its refusals are labelled (`server="http"`).
    server: &'static str,
    /// `load_shedding_dropped_total{server}`: go-zero only logs them.
    dropped: Counter<u64>,
    cpu: Arc<dyn CpuUsage>,
    clock: Arc<dyn Monotonic>,
    /// Per mille of the CPU limit (go-zero's default 900).
    threshold: u64,
    window: Mutex<RollingWindow<Bucket>>,
    flying: AtomicI64,
    avg_flying: Mutex<f64>,
    dropped_recently: AtomicBool,
    overload_time: Mutex<Option<Duration>>,
}

impl std::fmt::Debug for Shedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shedder")
            .field("server", &self.server)
            .field("threshold", &self.threshold)
            .field("flying", &self.flying)
            .finish_non_exhaustive()
    }
}

impl Shedder {
    /// A shedder for `server` (the label of its refusals), instruments from the global meter
    /// provider: install it first.
    pub fn new(
        server: &'static str,
        cpu: Arc<dyn CpuUsage>,
        clock: Arc<dyn Monotonic>,
        threshold: u64,
    ) -> Self {
        Self {
            server,
            dropped: opentelemetry::global::meter("guards")
                .u64_counter("load_shedding_dropped")
                .with_description("Requests refused by the adaptive load shedder.")
                .build(),
            cpu,
            clock,
            threshold,
            window: Mutex::new(RollingWindow::new(BUCKETS, BUCKET_WIDTH, true)),
            flying: AtomicI64::new(0),
            avg_flying: Mutex::new(0.0),
            dropped_recently: AtomicBool::new(false),
            overload_time: Mutex::new(None),
        }
    }

    /// The process's shedder for `server`: CPU sampled from /proc and the cgroup, real clock.
    pub fn for_this_process(server: &'static str, threshold: u64) -> Self {
        Self::new(
            server,
            Arc::new(crate::cpu::ProcCpu::start()),
            Arc::new(crate::clock::MonotonicClock::new()),
            threshold,
        )
    }

    /// Admits a request, or sheds it. The ticket must be told how the request ended; dropped
    /// untold, it counts as failed (no response time recorded).
    ///
    /// # Errors
    /// [`Overloaded`] when the request is shed (and counted).
    pub fn allow(self: &Arc<Self>) -> Result<ShedTicket, Overloaded> {
        if self.should_drop() {
            self.dropped_recently.store(true, Ordering::SeqCst);
            self.dropped.add(1, &[KeyValue::new("server", self.server)]);
            return Err(Overloaded);
        }
        self.flying.fetch_add(1, Ordering::SeqCst);
        Ok(ShedTicket {
            shedder: Arc::clone(self),
            start: self.clock.now(),
            settled: false,
        })
    }

    fn should_drop(&self) -> bool {
        let now = self.clock.now();
        let cpu = self.cpu.per_mille();
        let overloaded = cpu >= self.threshold;
        if overloaded {
            *lock(&self.overload_time) = Some(now);
        }
        if !(overloaded || self.still_hot(now)) {
            return false;
        }
        let limit = self.max_flight(now) * self.overload_factor(cpu);
        let avg_flying = *lock(&self.avg_flying);
        avg_flying > limit && self.flying.load(Ordering::SeqCst) as f64 > limit
    }

    /// Within a second of the last overload, having just dropped, keep protecting.
    fn still_hot(&self, now: Duration) -> bool {
        if !self.dropped_recently.load(Ordering::SeqCst) {
            return false;
        }
        let Some(overloaded_at) = *lock(&self.overload_time) else {
            return false;
        };
        if now.saturating_sub(overloaded_at) < COOL_OFF {
            return true;
        }
        self.dropped_recently.store(false, Ordering::SeqCst);
        false
    }

    /// How many requests can be in flight: the best passes per bucket seen in the window times
    /// the best average response time, scaled to one second.
    fn max_flight(&self, now: Duration) -> f64 {
        let window = lock(&self.window);
        let mut max_pass: u64 = 1;
        let mut min_rt = DEFAULT_MIN_RT_MS;
        for bucket in window.buckets(now) {
            max_pass = max_pass.max(bucket.passes);
            if bucket.passes > 0 {
                min_rt = min_rt.min((bucket.rt_sum_ms / bucket.passes as f64).round());
            }
        }
        (max_pass as f64 * min_rt * WINDOW_SCALE).max(1.0)
    }

    fn overload_factor(&self, cpu: u64) -> f64 {
        ((CPU_MAX - cpu as f64) / (CPU_MAX - self.threshold as f64)).clamp(MIN_OVERLOAD_FACTOR, 1.0)
    }

    fn finished(&self, start: Duration, passed: bool) {
        let flying = self.flying.fetch_sub(1, Ordering::SeqCst) - 1;
        {
            // Updated on finish only: it lags behind a surge, admitting a little more.
            let mut avg = lock(&self.avg_flying);
            *avg = *avg * FLYING_BETA + flying as f64 * (1.0 - FLYING_BETA);
        }
        if passed {
            let now = self.clock.now();
            let rt_ms = (now.saturating_sub(start).as_secs_f64() * 1000.0).ceil();
            lock(&self.window).add(now, |b| {
                b.passes += 1;
                b.rt_sum_ms += rt_ms;
            });
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An admitted request.
#[derive(Debug)]
pub struct ShedTicket {
    shedder: Arc<Shedder>,
    start: Duration,
    settled: bool,
}

impl ShedTicket {
    /// It was served: its response time feeds the estimate of what the service can take.
    pub fn pass(mut self) {
        self.settled = true;
        self.shedder.finished(self.start, true);
    }

    /// It failed for lack of capacity (a 503, a deadline).
    pub fn fail(mut self) {
        self.settled = true;
        self.shedder.finished(self.start, false);
    }
}

impl Drop for ShedTicket {
    fn drop(&mut self) {
        if !self.settled {
            self.shedder.finished(self.start, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::clock::ManualClock;
    use crate::cpu::FixedCpu;

    fn shedder(clock: &ManualClock, cpu: &Arc<FixedCpu>) -> Arc<Shedder> {
        Arc::new(Shedder::new(
            "test",
            cpu.clone(),
            Arc::new(clock.clone()),
            900,
        ))
    }

    #[rstest]
    #[case(900, 1.0)]
    #[case(950, 0.5)]
    #[case(990, 0.1)]
    #[case(1000, 0.1)]
    #[case(500, 1.0)]
    fn overload_factor(#[case] cpu: u64, #[case] factor: f64) {
        let clock = ManualClock::default();
        let s = shedder(&clock, &Arc::new(FixedCpu::new(cpu)));
        assert!((s.overload_factor(cpu) - factor).abs() < 1e-9);
    }

    /// Fills `buckets` buckets with `passes` requests each, every one taking `rt`, and leaves
    /// the clock at the start of the next bucket.
    fn history(s: &Arc<Shedder>, clock: &ManualClock, buckets: u32, passes: u32, rt: Duration) {
        for _ in 0..buckets {
            let tickets: Vec<ShedTicket> = (0..passes).map(|_| s.allow().unwrap()).collect();
            clock.advance(rt);
            tickets.into_iter().for_each(ShedTicket::pass);
            clock.advance(BUCKET_WIDTH - rt);
        }
    }

    #[rstest]
    // 20 passes per bucket at 50 ms: 20 * 50 * 0.01 = 10 in flight.
    #[case(20, 50, 10.0)]
    // Fast requests: 100 per bucket at 3 ms = 3.
    #[case(100, 3, 3.0)]
    // Never below 1.
    #[case(1, 1, 1.0)]
    fn max_flight_from_the_window(#[case] passes: u32, #[case] rt_ms: u64, #[case] expected: f64) {
        let clock = ManualClock::default();
        let s = shedder(&clock, &Arc::new(FixedCpu::new(0)));
        history(&s, &clock, 5, passes, Duration::from_millis(rt_ms));
        assert!(
            (s.max_flight(clock.now()) - expected).abs() < 1e-9,
            "{}",
            s.max_flight(clock.now())
        );
    }

    #[test]
    fn an_empty_window_assumes_slow_requests_so_nothing_is_shed() {
        let clock = ManualClock::default();
        let s = shedder(&clock, &Arc::new(FixedCpu::new(0)));
        // 1 pass * 1000 ms * 0.01.
        assert!((s.max_flight(clock.now()) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn sheds_only_when_hot_and_over_the_flight_limit_then_cools_off() {
        let clock = ManualClock::default();
        let cpu = Arc::new(FixedCpu::new(0));
        let s = shedder(&clock, &cpu);
        history(&s, &clock, 5, 20, Duration::from_millis(50)); // max flight 10

        // 30 requests in flight; avg_flying lags, so settle a few to raise it.
        let mut held: Vec<ShedTicket> = (0..40).map(|_| s.allow().unwrap()).collect();
        for _ in 0..10 {
            held.pop().unwrap().fail();
        }
        assert!(
            s.allow().map(ShedTicket::pass).is_ok(),
            "a cool CPU sheds nothing"
        );

        cpu.set(950); // limit 10 * 0.5 = 5, with 30 in flight
        assert_eq!(s.allow().err(), Some(Overloaded));

        // The CPU drops, but within a second of the overload, having dropped: still hot.
        cpu.set(100);
        clock.advance(Duration::from_millis(500));
        assert_eq!(s.allow().err(), Some(Overloaded));

        // Past the cool-off, admitted again.
        clock.advance(Duration::from_millis(600));
        assert!(s.allow().is_ok());

        // And with the CPU hot but few requests in flight, nothing is shed either.
        held.clear();
        cpu.set(990);
        assert!(s.allow().is_ok());
    }
}
