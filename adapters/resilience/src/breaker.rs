//! go-zero's adaptive circuit breaker (core/breaker/googlebreaker.go): Google SRE's client-side
//! throttling. It never needs tuning: it rejects a share of calls that grows with how much the
//! recent failures outweigh the recent successes, and lets a probe through every second.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

use crate::clock::{Monotonic, Random};
use crate::window::RollingWindow;

const BUCKETS: usize = 40;
const BUCKET_WIDTH: Duration = Duration::from_millis(250);
/// Accepts weigh `K` at first; the weight decays to `MIN_K` as failing buckets pile up, so a
/// dependency that keeps failing is throttled harder.
const K: f64 = 1.5;
const MIN_K: f64 = 1.1;
/// Calls always allowed in a window before throttling can start.
const PROTECTION: f64 = 5.0;
/// With calls being dropped, one is let through at least this often, to notice recovery.
const FORCE_PASS: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    sum: u64,
    success: u64,
    failure: u64,
    drop: u64,
}

/// What the window says, as go-zero's `history()` reduces it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct History {
    pub(crate) accepts: u64,
    pub(crate) total: u64,
    /// The newest run of buckets with failures and no success.
    pub(crate) failing_buckets: u64,
    /// The newest run of buckets with successes and no failure.
    pub(crate) working_buckets: u64,
}

impl History {
    fn of(buckets: impl Iterator<Item = Counts>) -> Self {
        let mut history = Self::default();
        for b in buckets {
            history.accepts += b.success;
            history.total += b.sum;
            if b.failure > 0 {
                history.working_buckets = 0;
            } else if b.success > 0 {
                history.working_buckets += 1;
            }
            if b.success > 0 {
                history.failing_buckets = 0;
            } else if b.failure > 0 {
                history.failing_buckets += 1;
            }
        }
        history
    }

    /// The share of calls to reject before the working-bucket discount; <= 0 means none.
    pub(crate) fn drop_ratio(&self) -> f64 {
        let weight = (K - (K - MIN_K) * self.failing_buckets as f64 / BUCKETS as f64).max(MIN_K);
        (self.total as f64 - PROTECTION - weight * self.accepts as f64) / (self.total as f64 + 1.0)
    }

    /// `drop_ratio` discounted by the newest run of working buckets: a dependency that has
    /// started answering again is let back in gradually (go-zero's
    /// `dropRatio * (buckets - working) / buckets`).
    pub(crate) fn discounted(&self, drop_ratio: f64) -> f64 {
        drop_ratio * (BUCKETS as u64 - self.working_buckets.min(BUCKETS as u64)) as f64
            / BUCKETS as f64
    }
}

#[derive(Debug)]
struct State {
    window: RollingWindow<Counts>,
    last_pass: Option<Duration>,
}

/// One breaker per protected dependency (a port instance, or a served gRPC method).
pub struct Breaker {
    name: String,
    state: Mutex<State>,
    clock: Arc<dyn Monotonic>,
    random: Arc<dyn Random>,
    requests: Counter<u64>,
}

/// The breaker said no: "circuit breaker is open".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerOpen {
    pub breaker: String,
}

impl std::fmt::Display for BreakerOpen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "circuit breaker is open ({})", self.breaker)
    }
}

impl std::error::Error for BreakerOpen {}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Breaker {
    pub fn new(
        name: impl Into<String>,
        clock: Arc<dyn Monotonic>,
        random: Arc<dyn Random>,
    ) -> Self {
        Self {
            name: name.into(),
            state: Mutex::new(State {
                window: RollingWindow::new(BUCKETS, BUCKET_WIDTH, false),
                last_pass: None,
            }),
            clock,
            random,
            requests: opentelemetry::global::meter("breaker")
                .u64_counter("breaker_requests")
                .with_description(
                    "Calls through a circuit breaker, by outcome: success, failure or dropped.",
                )
                .build(),
        }
    }

    /// Exports this breaker's drop ratio as the gauge `breaker_drop_ratio{breaker}` (go-zero
    /// only logs it), for as long as the breaker lives.
    pub fn observe(self: &Arc<Self>) {
        let breaker = Arc::downgrade(self);
        let name = KeyValue::new("breaker", self.name.clone());
        let _gauge = opentelemetry::global::meter("breaker")
            .f64_observable_gauge("breaker_drop_ratio")
            .with_description(
                "Share of calls the circuit breaker rejects now: 0 closed, towards 1 open.",
            )
            .with_callback(move |observer| {
                if let Some(breaker) = breaker.upgrade() {
                    observer.observe(breaker.drop_ratio(), std::slice::from_ref(&name));
                }
            })
            .build();
    }

    fn count(&self, outcome: &'static str) {
        self.requests.add(
            1,
            &[
                KeyValue::new("breaker", self.name.clone()),
                KeyValue::new("outcome", outcome),
            ],
        );
    }

    /// Asks to make a call. The ticket records its outcome; a ticket dropped without one (the
    /// call was cancelled by a timeout, or panicked) counts as a failure.
    ///
    /// # Errors
    /// [`BreakerOpen`] when the call is rejected; the rejection is recorded as a drop.
    pub fn allow(self: &Arc<Self>) -> Result<BreakerTicket, BreakerOpen> {
        let now = self.clock.now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if self.accept(&mut state, now) {
            Ok(BreakerTicket {
                breaker: Arc::clone(self),
                settled: false,
            })
        } else {
            state.window.add(now, |b| {
                b.sum += 1;
                b.drop += 1;
            });
            drop(state);
            self.count("dropped");
            Err(BreakerOpen {
                breaker: self.name.clone(),
            })
        }
    }

    fn accept(&self, state: &mut State, now: Duration) -> bool {
        let history = History::of(state.window.buckets(now));
        let drop_ratio = history.drop_ratio();
        if drop_ratio <= 0.0 {
            return true;
        }
        if state
            .last_pass
            .is_some_and(|last| now.saturating_sub(last) > FORCE_PASS)
        {
            state.last_pass = Some(now);
            return true;
        }
        if self.random.next_f64() < history.discounted(drop_ratio) {
            return false;
        }
        state.last_pass = Some(now);
        true
    }

    fn record(&self, success: bool) {
        self.count(if success { "success" } else { "failure" });
        let now = self.clock.now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.window.add(now, |b| {
            b.sum += 1;
            if success {
                b.success += 1;
            } else {
                b.failure += 1;
            }
        });
    }

    /// The current share of calls being rejected, 0 to 1 (for metrics and logs).
    pub fn drop_ratio(&self) -> f64 {
        let now = self.clock.now();
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let history = History::of(state.window.buckets(now));
        history.discounted(history.drop_ratio()).max(0.0)
    }
}

/// A call the breaker let through; say how it went.
#[derive(Debug)]
pub struct BreakerTicket {
    breaker: Arc<Breaker>,
    settled: bool,
}

impl BreakerTicket {
    pub fn success(mut self) {
        self.settled = true;
        self.breaker.record(true);
    }

    pub fn failure(mut self) {
        self.settled = true;
        self.breaker.record(false);
    }
}

impl Drop for BreakerTicket {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker.record(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::clock::ManualClock;

    fn counts(success: u64, failure: u64) -> Counts {
        Counts {
            sum: success + failure,
            success,
            failure,
            drop: 0,
        }
    }

    #[rstest]
    // Fewer than `protection` calls: never throttled.
    #[case(&[counts(0, 5)], 0.0)]
    // 0 successes, 10 failures: (10 - 5 - 1.5*0)/11, k decayed by one failing bucket.
    #[case(&[counts(0, 10)], 5.0 / 11.0)]
    // Successes outweigh: (20 - 5 - 1.5*10)/21 = 0.
    #[case(&[counts(10, 10)], 0.0)]
    // 2 successes then 3 failing buckets: k = 1.5 - 0.4*3/40 = 1.47; (32 - 5 - 1.47*2)/33.
    #[case(&[counts(2, 0), counts(0, 10), counts(0, 10), counts(0, 10)], (32.0 - 5.0 - 1.47 * 2.0) / 33.0)]
    // A success in the newest bucket ends the failing run: k back to 1.5.
    #[case(&[counts(0, 10), counts(0, 10), counts(1, 10)], (31.0 - 5.0 - 1.5) / 32.0)]
    fn drop_ratio_follows_the_formula(#[case] buckets: &[Counts], #[case] expected: f64) {
        let ratio = History::of(buckets.iter().copied()).drop_ratio();
        assert!(
            (ratio.max(0.0) - expected).abs() < 1e-9,
            "{ratio} != {expected}"
        );
    }

    #[rstest]
    #[case(&[counts(1, 0), counts(0, 1), counts(1, 0), counts(1, 0)], 0, 2)]
    #[case(&[counts(1, 0), counts(0, 1), counts(0, 1), Counts::default()], 2, 0)]
    #[case(&[counts(1, 1)], 0, 0)]
    fn runs_of_failing_and_working_buckets(
        #[case] buckets: &[Counts],
        #[case] failing: u64,
        #[case] working: u64,
    ) {
        let history = History::of(buckets.iter().copied());
        assert_eq!(
            (history.failing_buckets, history.working_buckets),
            (failing, working)
        );
    }

    #[test]
    fn k_never_decays_below_its_floor() {
        let history = History {
            accepts: 10,
            total: 100,
            failing_buckets: 1000,
            working_buckets: 0,
        };
        assert!((history.drop_ratio() - (100.0 - 5.0 - 1.1 * 10.0) / 101.0).abs() < 1e-9);
    }

    fn breaker(clock: &ManualClock, draw: f64) -> Arc<Breaker> {
        Arc::new(Breaker::new(
            "test",
            Arc::new(clock.clone()),
            Arc::new(draw),
        ))
    }

    #[test]
    fn opens_under_failures_and_closes_once_they_leave_the_window() {
        let clock = ManualClock::default();
        // A draw of 0 rejects whenever the drop ratio is positive: no luck involved.
        let breaker = breaker(&clock, 0.0);
        for _ in 0..20 {
            breaker.record(false);
        }
        assert!(breaker.allow().is_err(), "20 failures open it");
        clock.advance(Duration::from_secs(5));
        assert!(breaker.allow().is_err(), "still within the 10 s window");

        clock.advance(Duration::from_secs(6));
        for _ in 0..100 {
            breaker
                .allow()
                .expect("closed once the failures are 10 s old")
                .success();
        }
    }

    #[test]
    fn lets_one_probe_through_a_second_while_open() {
        let clock = ManualClock::default();
        let breaker = breaker(&clock, 0.0);
        for _ in 0..20 {
            breaker.record(false);
        }
        // As if a call had passed just now.
        breaker.state.lock().unwrap().last_pass = Some(clock.now());
        clock.advance(Duration::from_millis(1000));
        assert!(breaker.allow().is_err(), "not more than once a second");
        clock.advance(Duration::from_millis(1));
        breaker.allow().expect("the probe").success();
        assert!(
            breaker.allow().is_err(),
            "one probe, then closed again until the next second"
        );
    }

    #[test]
    fn a_dropped_ticket_counts_as_a_failure() {
        let clock = ManualClock::default();
        let breaker = breaker(&clock, 0.0);
        // Six failures: (6 - 5)/7 > 0.
        for _ in 0..6 {
            drop(breaker.allow().unwrap());
        }
        assert!(breaker.allow().is_err());
    }

    #[test]
    fn successes_keep_it_closed() {
        let clock = ManualClock::default();
        let breaker = breaker(&clock, 0.0);
        for i in 0..1000 {
            let ticket = breaker.allow().expect("closed");
            // One failure in ten is well within what k = 1.5 tolerates.
            if i % 10 == 0 {
                ticket.failure()
            } else {
                ticket.success()
            }
        }
    }

    #[test]
    fn working_buckets_discount_the_drop_ratio() {
        let clock = ManualClock::default();
        let breaker = breaker(&clock, 0.5);
        // Ten failures, then 20 buckets that only succeed: the raw ratio is positive but the
        // discount (40 - 20)/40 halves it.
        for _ in 0..30 {
            breaker.record(false);
        }
        for _ in 0..20 {
            clock.advance(BUCKET_WIDTH);
            breaker.record(true);
        }
        let history = History::of(breaker.state.lock().unwrap().window.buckets(clock.now()));
        assert_eq!(history.working_buckets, 20);
        let expected = history.drop_ratio() * 20.0 / 40.0;
        assert!((breaker.drop_ratio() - expected).abs() < 1e-9);
    }
}
