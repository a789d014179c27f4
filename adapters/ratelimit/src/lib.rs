//! The [`RateLimiter`] port in process memory, with governor's GCRA: one keyed limiter per
//! budget, keyed by spender. Nothing is shared between processes (no Redis): each replica
//! counts on its own, so a deployment of N replicas admits up to N times a budget.
//!
//! Memory stays bounded however many clients pass:
//! - A spender whose budget is whole again is indistinguishable from one never seen, so it is
//!   forgotten (governor's `retain_recent`, one request's period after that): at most once a
//!   second, and whenever a limiter reaches `max_spenders`.
//! - If a limiter still holds `max_spenders` after that (a flood of distinct clients within one
//!   window), every spender shares one overflow budget until room is made: the flood is limited
//!   as one client, instead of growing the process (and, while it lasts, so is everyone else).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use application::ports::{Allowance, Budget, Quota, RateLimiter, Spender, Throttled};
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

/// The budgets' sizes, and how many spenders each limiter may remember.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    pub shorten: Quota,
    pub manage: Quota,
    pub redirect: Quota,
    pub max_spenders: usize,
}

/// How often stale spenders are forgotten, at most.
const PRUNE_EVERY: Duration = Duration::from_secs(1);
/// How soon after a prune a full limiter may prune again.
const PRUNE_WHEN_FULL_EVERY: Duration = Duration::from_millis(100);

/// Who a limiter counts against: a spender, or the shared overflow budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    Spender(Spender),
    Overflow,
}

type Keyed<C> =
    governor::RateLimiter<Slot, DefaultKeyedStateStore<Slot>, C, StateInformationMiddleware>;

struct Limiter<C: Clock> {
    quota: Quota,
    keyed: Keyed<C>,
    /// Nanoseconds since the limiter's start at the last prune.
    pruned_at: AtomicU64,
}

pub struct GovernorLimiter<C: Clock = DefaultClock> {
    limiters: [Limiter<C>; 3],
    clock: C,
    start: C::Instant,
    max_spenders: usize,
    throttled: Counter<u64>,
}

impl GovernorLimiter {
    /// # Errors
    /// When a quota is zero requests or a zero window (the configuration refuses both first).
    pub fn new(settings: LimitSettings) -> Result<Self, String> {
        Self::with_clock(settings, DefaultClock::default())
    }
}

impl<C: Clock + Clone> GovernorLimiter<C> {
    /// With the clock the tests move by hand.
    ///
    /// # Errors
    /// As [`GovernorLimiter::new`].
    pub fn with_clock(settings: LimitSettings, clock: C) -> Result<Self, String> {
        let limiter = |quota: Quota| -> Result<Limiter<C>, String> {
            let burst = NonZeroU32::new(quota.limit).ok_or("a budget of 0 requests")?;
            let gcra = governor::Quota::with_period(quota.window / quota.limit)
                .ok_or("a budget over no time")?
                .allow_burst(burst);
            let keyed: Keyed<C> =
                governor::RateLimiter::new(gcra, DefaultKeyedStateStore::default(), clock.clone());
            Ok(Limiter {
                quota,
                keyed,
                pruned_at: AtomicU64::new(0),
            })
        };
        Ok(Self {
            limiters: [
                limiter(settings.shorten)?,
                limiter(settings.manage)?,
                limiter(settings.redirect)?,
            ],
            start: clock.now(),
            clock,
            max_spenders: settings.max_spenders.max(1),
            throttled: opentelemetry::global::meter("rate_limits")
                .u64_counter("rate_limit_throttled")
                .with_description("Requests refused with 429, by budget.")
                .build(),
        })
    }

    /// Spenders remembered across the budgets: what the memory holds.
    pub fn spenders(&self) -> usize {
        self.limiters.iter().map(|l| l.keyed.len()).sum()
    }

    fn limiter(&self, budget: Budget) -> &Limiter<C> {
        match budget {
            Budget::Shorten => &self.limiters[0],
            Budget::Manage => &self.limiters[1],
            Budget::Redirect => &self.limiters[2],
        }
    }

    fn now_nanos(&self) -> u64 {
        self.clock.now().duration_since(self.start).as_u64()
    }

    /// Forgets stale spenders if it is time to; says whether `limiter` has room for another.
    fn prune(&self, limiter: &Limiter<C>) -> bool {
        let now = self.now_nanos();
        let last = limiter.pruned_at.load(Ordering::Relaxed);
        // Counting the spenders visits every shard of the map: once a call, again only after a
        // prune changed it.
        let mut remembered = limiter.keyed.len();
        let due = if remembered >= self.max_spenders {
            PRUNE_WHEN_FULL_EVERY
        } else {
            PRUNE_EVERY
        };
        let elapsed = Duration::from_nanos(now.saturating_sub(last));
        // One caller prunes; the others go on.
        if elapsed >= due
            && limiter
                .pruned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            limiter.keyed.retain_recent();
            limiter.keyed.shrink_to_fit();
            remembered = limiter.keyed.len();
        }
        remembered < self.max_spenders
    }
}

impl<C: Clock + Clone + Send + Sync + 'static> RateLimiter for GovernorLimiter<C>
where
    C::Instant: Send + Sync,
{
    fn spend(&self, budget: Budget, spender: Spender) -> Result<Option<Allowance>, Throttled> {
        let limiter = self.limiter(budget);
        // governor can't say whether it knows a spender without adding it, so while the
        // limiter is full every spender shares the overflow budget.
        let slot = if self.prune(limiter) {
            Slot::Spender(spender)
        } else {
            Slot::Overflow
        };
        let quota = limiter.quota;
        match limiter.keyed.check_key(&slot) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let per_request = quota.window / quota.limit;
                Ok(Some(Allowance {
                    quota,
                    remaining,
                    full_in: per_request * quota.limit.saturating_sub(remaining),
                }))
            }
            Err(not_until) => {
                self.throttled
                    .add(1, &[KeyValue::new("budget", budget.name())]);
                Err(Throttled {
                    quota,
                    retry_after: not_until.wait_time_from(self.clock.now()),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::net::{IpAddr, Ipv4Addr};

    use domain::KeyId;
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn quota(limit: u32) -> Quota {
        Quota {
            limit,
            window: Duration::from_secs(60),
        }
    }

    fn limiter(
        limit: u32,
        max_spenders: usize,
    ) -> (GovernorLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let settings = LimitSettings {
            shorten: quota(limit),
            manage: quota(limit),
            redirect: quota(limit),
            max_spenders,
        };
        (
            GovernorLimiter::with_clock(settings, clock.clone()).unwrap(),
            clock,
        )
    }

    fn address(n: u32) -> Spender {
        Spender::Address(IpAddr::V4(Ipv4Addr::from(n)))
    }

    #[test]
    fn a_burst_is_the_quota_and_then_one_per_window_over_limit() {
        let (limiter, clock) = limiter(3, 100);
        let spend = || limiter.spend(Budget::Shorten, address(1));

        let remaining: Vec<u32> = (0..3)
            .map(|_| spend().unwrap().unwrap().remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = spend().unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(20));
        assert_eq!(refused.quota, quota(3));

        clock.advance(Duration::from_secs(20));
        let again = spend().unwrap().unwrap();
        assert_eq!(again.remaining, 0);
        assert_eq!(again.full_in, Duration::from_secs(60));
    }

    #[test]
    fn spenders_and_budgets_are_counted_apart() {
        let (limiter, _) = limiter(1, 100);
        assert!(limiter.spend(Budget::Shorten, address(1)).is_ok());
        assert!(limiter.spend(Budget::Shorten, address(1)).is_err());
        assert!(limiter.spend(Budget::Shorten, address(2)).is_ok());
        assert!(
            limiter
                .spend(Budget::Shorten, Spender::Key(KeyId(1)))
                .is_ok()
        );
        assert!(limiter.spend(Budget::Redirect, address(1)).is_ok());
        assert!(limiter.spend(Budget::Manage, address(1)).is_ok());
    }

    #[test]
    fn spenders_whose_budget_is_whole_again_are_forgotten() {
        let (limiter, clock) = limiter(10, 1_000_000);
        for n in 0..1000 {
            limiter.spend(Budget::Redirect, address(n)).unwrap();
        }
        assert_eq!(limiter.spenders(), 1000);

        // One request's worth of a 10-per-minute budget comes back in 6 s; governor forgets a
        // spender one such period after that.
        clock.advance(Duration::from_secs(13));
        limiter.spend(Budget::Redirect, address(5000)).unwrap();

        assert_eq!(limiter.spenders(), 1);
    }

    #[test]
    fn a_full_limiter_puts_new_spenders_in_one_shared_budget() {
        let (limiter, clock) = limiter(1, 3);
        for n in 0..3 {
            limiter.spend(Budget::Redirect, address(n)).unwrap();
        }
        // Nobody is stale yet: the flood shares the overflow's single request.
        clock.advance(Duration::from_millis(200));
        assert!(limiter.spend(Budget::Redirect, address(10)).is_ok());
        assert!(limiter.spend(Budget::Redirect, address(11)).is_err());
        assert!(limiter.spenders() <= 4);

        // Once the first spenders' budgets are whole (and a period more), they are forgotten
        // and room is made.
        clock.advance(Duration::from_secs(121));
        assert!(limiter.spend(Budget::Redirect, address(12)).is_ok());
        assert!(limiter.spend(Budget::Redirect, address(13)).is_ok());
    }

    #[test]
    fn a_zero_budget_is_refused() {
        let settings = LimitSettings {
            shorten: quota(0),
            manage: quota(1),
            redirect: quota(1),
            max_spenders: 10,
        };
        assert!(GovernorLimiter::new(settings).is_err());
    }
}
