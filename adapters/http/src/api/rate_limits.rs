//! The answers of draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` and `RateLimit` on
//! every limited response, and 429 with `Retry-After` over budget (the budget itself is spent
//! in [`crate::api::Api::answer`], through `application::use_cases::admit`).

use std::time::Duration;

use application::ports::{Budget, Quota, Throttled};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};

use crate::api::problem::Problem;

const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// 429 problem+json, with when to retry.
pub(crate) fn too_many(budget: Budget, throttled: Throttled) -> Response<Bytes> {
    let wait = seconds(throttled.retry_after).max(1);
    let mut res = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too Many Requests",
        format!(
            "over the {} budget of {} requests per {} s; retry in {wait} s",
            budget.name(),
            throttled.quota.limit,
            seconds(throttled.quota.window)
        ),
    )
    .into_response();
    res.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(wait));
    label(
        res.headers_mut(),
        budget,
        throttled.quota,
        0,
        throttled.retry_after,
    );
    res
}

pub(crate) fn label(
    headers: &mut HeaderMap,
    budget: Budget,
    quota: Quota,
    remaining: u32,
    reset: Duration,
) {
    let name = budget.name();
    let policy = format!("\"{name}\";q={};w={}", quota.limit, seconds(quota.window));
    let state = format!("\"{name}\";r={remaining};t={}", seconds(reset));
    for (header, value) in [(POLICY, policy), (RATELIMIT, state)] {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(header, value);
        }
    }
}

/// Whole seconds, rounded up: a client told to wait 0 s would come straight back.
fn seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}
