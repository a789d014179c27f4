//! Waiting for something that happens asynchronously (a consumer catching up), with a bound so
//! that a broken pipeline fails the test instead of hanging it. The bound is generous: it is a
//! limit for a stuck test, not a speed requirement.

use std::future::Future;
use std::time::Duration;

/// Polls `probe` every 100 ms until it returns `Some`, for at most `attempts` tries.
pub async fn until<T, F: Future<Output = Option<T>>>(
    what: &str,
    attempts: u32,
    mut probe: impl FnMut() -> F,
) -> T {
    for _ in 0..attempts {
        if let Some(value) = probe().await {
            return value;
        }
        async_std::task::sleep(Duration::from_millis(100)).await;
    }
    panic!("gave up waiting for {what}");
}
