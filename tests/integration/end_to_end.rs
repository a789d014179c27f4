//! The three binaries started as an operator starts them, against real PostgreSQL and Kafka:
//! redirects through url-api become clicks counted by analytics-consumer and reported by
//! analytics-rpc back through url-api.

use crate::stack::Stack;

#[async_std::test]
async fn every_redirect_becomes_exactly_one_counted_click() {
    let (stack, _consumer) = Stack::start().await;
    let code = stack.shorten("https://example.com/e2e").await;

    stack.follow(&code, 200).await;

    assert_eq!(stack.wait_for_clicks(&code, 200).await, 200);
}

#[async_std::test]
async fn a_consumer_killed_mid_stream_and_restarted_counts_exactly() {
    let (stack, first) = Stack::start().await;
    first.kill();
    let code = stack.shorten("https://example.com/crash").await;
    stack.follow(&code, 2000).await;

    // Tiny batches, so the kill lands with work in flight and uncommitted.
    let small = stack.start_consumer(10);
    let before_kill = stack.wait_for_clicks(&code, 50).await;
    small.kill();
    assert!(
        before_kill < 2000,
        "the kill came too late to test anything"
    );

    let _replacement = stack.start_consumer(500);
    assert_eq!(stack.wait_for_clicks(&code, 2000).await, 2000);
}
