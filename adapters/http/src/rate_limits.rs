//! Each route's budget spent before its handler runs (see `application::use_cases::admit`),
//! and the answers of draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` and `RateLimit`
//! on every limited response, and 429 with `Retry-After` over budget.

use std::time::Duration;

use application::ports::{Budget, Quota, Throttled};
use tide::utils::async_trait;
use tide::{Middleware, Next, Request, Response, StatusCode};

use crate::auth::caller_of;
use crate::client_ip::client_ip;
use crate::problem::Problem;
use crate::state::State;

/// On a route with a budget, inside `Authenticate` so that a key spends its own budget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throttle(pub(crate) Budget);

#[async_trait]
impl Middleware<State> for Throttle {
    async fn handle(&self, req: Request<State>, next: Next<'_, State>) -> tide::Result {
        let budget = self.0;
        let admitted = req
            .state()
            .links
            .admit(budget, caller_of(&req), client_ip(&req));
        match admitted {
            Ok(None) => Ok(next.run(req).await),
            Ok(Some(allowance)) => {
                let mut res = next.run(req).await;
                label(
                    &mut res,
                    budget,
                    allowance.quota,
                    allowance.remaining,
                    allowance.full_in,
                );
                Ok(res)
            }
            Err(throttled) => Ok(too_many(budget, throttled)),
        }
    }
}

/// 429 problem+json, with when to retry.
pub(crate) fn too_many(budget: Budget, throttled: Throttled) -> Response {
    let wait = seconds(throttled.retry_after).max(1);
    let mut res: Response = Problem::new(
        StatusCode::TooManyRequests,
        "rate-limited",
        "Too Many Requests",
        format!(
            "over the {} budget of {} requests per {} s; retry in {wait} s",
            budget.name(),
            throttled.quota.limit,
            seconds(throttled.quota.window)
        ),
    )
    .into();
    res.insert_header("retry-after", wait.to_string());
    label(&mut res, budget, throttled.quota, 0, throttled.retry_after);
    res
}

fn label(res: &mut Response, budget: Budget, quota: Quota, remaining: u32, reset: Duration) {
    let name = budget.name();
    res.insert_header(
        "ratelimit-policy",
        format!("\"{name}\";q={};w={}", quota.limit, seconds(quota.window)),
    );
    res.insert_header(
        "ratelimit",
        format!("\"{name}\";r={remaining};t={}", seconds(reset)),
    );
}

/// Whole seconds, rounded up: a client told to wait 0 s would come straight back.
fn seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}
