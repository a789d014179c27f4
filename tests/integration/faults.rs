//! Fault tests: a dependency fails under the real services, and the services keep serving what
//! they can, then recover by themselves. Every loop is bounded in count or time and stops by
//! itself; the times they measure are reported (see `report`), not asserted.

use std::time::{Duration, Instant};

use futures::future::join_all;
use integration_tests::private::{PrivateKafka, PrivatePostgres};
use integration_tests::report::figure;
use integration_tests::wait;
use serde_json::Value;

use crate::dev_get;
use crate::stack::Stack;

async fn get(stack: &Stack, path: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let res = stack.client.get(stack.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[async_std::test]
async fn with_postgres_stopped_link_routes_fail_fast_and_then_recover() {
    const TEST: &str = "postgres outage";
    let pg = PrivatePostgres::start().await;
    let (stack, _consumer) = Stack::with_database(&pg.url).await;
    let code = stack.shorten("https://example.com/outage").await;
    let cached = format!("/{code}");
    assert_eq!(get(&stack, &cached).await.0, 302);
    // Codes url-api has never seen: each redirect asks the database (a 404 while it is up).
    // Each request of a wave has its own, as concurrent misses for one code share one query.
    let unseen = |i: usize| format!("/Zz{i:06}");
    let redirect = unseen(0);
    assert_eq!(get(&stack, &redirect).await.0, 404);
    // The link-events listener starts its threads once Kafka answers, which can be later than
    // this on a slow broker: the count is taken once it has.
    wait::until("url-api to follow link events", 300, || async {
        let (_, metrics) = dev_get(&stack.client, &stack.api, "/metrics").await;
        metrics.contains("link_events_followed").then_some(())
    })
    .await;
    let threads_before = stack.api.threads();

    pg.stop();
    let stopped = Instant::now();
    // A link in url-api's cache keeps redirecting without the database.
    assert_eq!(get(&stack, &cached).await.0, 302);
    // Waves of 50 concurrent redirects until the breaker answers for the database. Before it
    // does, each request waits out the pool's acquire timeout (1 s) and fails; a single
    // sequential client would never see it open, as the breaker lets one probe a second through.
    let mut waves = 0;
    loop {
        waves += 1;
        let wave = join_all((0..50).map(|i| {
            let (stack, path) = (&stack, unseen(waves * 50 + i));
            async move { get(stack, &path).await }
        }))
        .await;
        assert!(
            wave.iter().all(|(status, _, _)| *status == 503),
            "every answer is a 503"
        );
        if wave
            .iter()
            .any(|(_, body, _)| body["type"] == "urn:shortener:problem:circuit-open")
        {
            break;
        }
        assert!(waves < 20, "the breaker never opened");
    }
    figure(TEST, "waves of 50 requests until the breaker opened", waves);
    figure(
        TEST,
        "time from the stop until the breaker opened",
        ms(stopped.elapsed()),
    );

    // A burst while the breaker is open: all refused at once, nothing piles up.
    let burst = join_all((0..200).map(|i| {
        let path = if i % 2 == 0 {
            unseen(10_000 + i)
        } else {
            "/api/v1/links".to_owned()
        };
        let stack = &stack;
        async move { get(stack, &path).await }
    }))
    .await;
    assert!(burst.iter().all(|(status, _, _)| *status == 503));
    let refused = burst
        .iter()
        .filter(|(_, body, _)| body["type"] == "urn:shortener:problem:circuit-open")
        .count();
    figure(
        TEST,
        "of 200 concurrent requests while open, refused by the breaker",
        refused,
    );
    // The breaker still lets a probe through now and then; the rest must not touch the pool.
    assert!(
        refused >= 150,
        "only {refused} of 200 refused by the breaker"
    );
    let slowest = burst
        .iter()
        .map(|(_, _, took)| *took)
        .max()
        .unwrap_or_default();
    let median = {
        let mut took: Vec<Duration> = burst.iter().map(|(_, _, t)| *t).collect();
        took.sort();
        took[took.len() / 2]
    };
    figure(
        TEST,
        "200 concurrent requests while open: median / slowest",
        format!("{} / {}", ms(median), ms(slowest)),
    );
    let threads_during = stack.api.threads();
    figure(
        TEST,
        "url-api threads before / during the outage",
        format!("{threads_before} / {threads_during}"),
    );
    assert!(
        threads_during <= threads_before + 2,
        "threads piled up: {threads_before} before, {threads_during} during"
    );

    // The database comes back; url-api recovers without a restart: first a probe gets
    // through, then, as failures age out of the breaker's 10 s window, everything.
    pg.resume();
    let resumed = Instant::now();
    wait::until("a lookup in the database to work again", 600, || async {
        (get(&stack, &redirect).await.0 == 404).then_some(())
    })
    .await;
    figure(
        TEST,
        "time from the restart until the first uncached lookup worked",
        ms(resumed.elapsed()),
    );
    wait::until("20 requests in a row to work", 600, || async {
        for i in 0..20 {
            let path = if i % 2 == 0 {
                redirect.as_str()
            } else {
                "/api/v1/links"
            };
            if !matches!(get(&stack, path).await.0, 200 | 404) {
                return None;
            }
        }
        Some(())
    })
    .await;
    figure(
        TEST,
        "time from the restart until 20 requests in a row worked",
        ms(resumed.elapsed()),
    );
}

#[async_std::test]
async fn with_analytics_rpc_stopped_link_detail_still_answers() {
    const TEST: &str = "analytics-rpc outage";
    let (mut stack, _consumer) = Stack::start().await;
    let code = stack.shorten("https://example.com/no-analytics").await;
    let detail = format!("/api/v1/links/{code}");
    assert_eq!(get(&stack, &detail).await.1["total_clicks"], 0);

    stack.rpc.take().expect("analytics-rpc").kill();

    let mut slowest = Duration::ZERO;
    for _ in 0..50 {
        let (status, body, took) = get(&stack, &detail).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["short_code"], code.as_str());
        assert_eq!(body["total_clicks"], Value::Null);
        slowest = slowest.max(took);
    }
    figure(
        TEST,
        "slowest of 50 link details (timeout 500 ms)",
        ms(slowest),
    );
}

#[async_std::test]
async fn with_kafka_stopped_for_10_s_every_redirect_answers_and_counts_stay_exact() {
    const TEST: &str = "kafka outage";
    let kafka = PrivateKafka::start();
    let (stack, _consumer) = Stack::with_brokers(&kafka.brokers).await;
    let code = stack.shorten("https://example.com/kafka-down").await;
    stack.follow(&code, 20).await;
    assert_eq!(stack.wait_for_clicks(&code, 20).await, 20);

    kafka.stop();
    let stopped = Instant::now();
    let (mut redirected, mut failed) = (20_u64, 0_u64);
    let mut slowest = Duration::ZERO;
    // Ten seconds of redirects (and never more than 20 000 of them).
    while stopped.elapsed() < Duration::from_secs(10) && redirected < 20_000 {
        let (status, _, took) = get(&stack, &format!("/{code}")).await;
        if status == 302 {
            redirected += 1;
        } else {
            failed += 1;
        }
        slowest = slowest.max(took);
    }
    // Redirects answer, and /healthz says what is missing: not ready, as the design's contract
    // has it (ready means the Kafka client is connected).
    let health = wait::until("url-api's /healthz to name Kafka", 100, || async {
        let (status, body) = dev_get(&stack.client, &stack.api, "/healthz").await;
        (status == 503 && body.contains("kafka: ")).then_some(body)
    })
    .await;
    assert!(!health.contains("database"), "{health}");
    kafka.resume();
    let resumed = Instant::now();

    assert_eq!(failed, 0, "redirects failed while Kafka was down");
    let counted = stack.wait_for_clicks(&code, redirected).await;
    assert_eq!(counted, redirected);
    figure(TEST, "redirects while the broker was down", redirected - 20);
    figure(TEST, "redirects lost", redirected - counted);
    figure(TEST, "slowest redirect while down", ms(slowest));
    figure(
        TEST,
        "time from the broker's return until every click was counted",
        ms(resumed.elapsed()),
    );
}
