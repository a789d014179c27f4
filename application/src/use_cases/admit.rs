use std::net::IpAddr;

use domain::Caller;

use crate::ports::{Allowance, Budget, RateLimiter, Spender, Throttled};

/// Spends one request of `budget` for the caller: counted against its key when it has one (so
/// that a key is limited wherever it comes from), else against its address. A request whose
/// address is unknown is admitted: the inbound adapters always know the peer's.
///
/// # Errors
/// [`Throttled`] when the budget is spent, with when to retry.
pub fn admit(
    limiter: &impl RateLimiter,
    budget: Budget,
    caller: Caller,
    address: Option<IpAddr>,
) -> Result<Option<Allowance>, Throttled> {
    let spender = match (caller.key(), address) {
        (Some(key), _) => Spender::Key(key),
        (None, Some(address)) => Spender::Address(address),
        (None, None) => return Ok(None),
    };
    limiter.spend(budget, spender)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use domain::{KeyId, Role};
    use rstest::rstest;

    use super::*;
    use crate::ports::{MockRateLimiter, Quota};

    const ADDRESS: &str = "203.0.113.9";

    fn quota() -> Quota {
        Quota {
            limit: 10,
            window: Duration::from_secs(60),
        }
    }

    #[rstest]
    #[case(Caller::Key { id: KeyId(4), role: Role::Member }, Some(ADDRESS), Spender::Key(KeyId(4)))]
    #[case(Caller::Key { id: KeyId(4), role: Role::Admin }, None, Spender::Key(KeyId(4)))]
    #[case(Caller::Anonymous, Some(ADDRESS), Spender::Address(ADDRESS.parse().unwrap()))]
    fn a_key_spends_its_own_budget_else_the_address_does(
        #[case] caller: Caller,
        #[case] address: Option<&str>,
        #[case] spender: Spender,
    ) {
        let mut limiter = MockRateLimiter::new();
        limiter
            .expect_spend()
            .withf(move |budget, who| *budget == Budget::Manage && *who == spender)
            .once()
            .returning(|_, _| {
                Ok(Some(Allowance {
                    quota: quota(),
                    remaining: 9,
                    full_in: Duration::from_secs(6),
                }))
            });

        let admitted = admit(
            &limiter,
            Budget::Manage,
            caller,
            address.map(|a| a.parse().unwrap()),
        );

        assert_eq!(admitted.unwrap().unwrap().remaining, 9);
    }

    #[test]
    fn over_budget_is_throttled_with_when_to_retry() {
        let mut limiter = MockRateLimiter::new();
        limiter.expect_spend().returning(|_, _| {
            Err(Throttled {
                quota: quota(),
                retry_after: Duration::from_secs(6),
            })
        });

        let refused = admit(
            &limiter,
            Budget::Shorten,
            Caller::Anonymous,
            Some(ADDRESS.parse().unwrap()),
        );

        assert_eq!(refused.unwrap_err().retry_after, Duration::from_secs(6));
    }

    #[test]
    fn without_a_key_or_an_address_nothing_is_spent() {
        let mut limiter = MockRateLimiter::new();
        limiter.expect_spend().never();
        assert_eq!(
            admit(&limiter, Budget::Redirect, Caller::Anonymous, None),
            Ok(None)
        );
    }
}
