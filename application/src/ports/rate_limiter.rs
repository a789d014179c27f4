use std::net::IpAddr;
use std::time::Duration;

use domain::KeyId;

/// What a client spends: each budget is counted apart, so that a burst of shortening leaves
/// the client's redirects alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    Shorten,
    /// Listing, reading and deleting links.
    Manage,
    Redirect,
}

impl Budget {
    pub fn name(self) -> &'static str {
        match self {
            Self::Shorten => "shorten",
            Self::Manage => "manage",
            Self::Redirect => "redirect",
        }
    }
}

/// Who spends: a caller's key when it has one, else its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spender {
    Key(KeyId),
    Address(IpAddr),
}

/// A budget's size: `limit` requests per `window`, spent and replenished smoothly (GCRA), so a
/// client may use all of it at once and then one more every `window / limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub window: Duration,
}

/// What is left of a budget after a request was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub quota: Quota,
    pub remaining: u32,
    /// Until the budget is whole again.
    pub full_in: Duration,
}

/// A request over budget, and when the next one would be admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub quota: Quota,
    pub retry_after: Duration,
}

/// Counts what each spender spends of each budget.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait RateLimiter: Send + Sync + 'static {
    /// `None` for a budget that isn't limited.
    ///
    /// # Errors
    /// [`Throttled`] when the spender has nothing left.
    fn spend(&self, budget: Budget, spender: Spender) -> Result<Option<Allowance>, Throttled>;
}

impl<L: RateLimiter + ?Sized> RateLimiter for std::sync::Arc<L> {
    fn spend(&self, budget: Budget, spender: Spender) -> Result<Option<Allowance>, Throttled> {
        (**self).spend(budget, spender)
    }
}

/// For deployments behind a gateway that limits already, and for load tests
/// (`rate_limits.enabled: false`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unlimited;

impl RateLimiter for Unlimited {
    fn spend(&self, _: Budget, _: Spender) -> Result<Option<Allowance>, Throttled> {
        Ok(None)
    }
}
