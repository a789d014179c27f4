//! What an operator sees: each binary's `/metrics` after known traffic, and `/healthz` telling
//! the truth as the database goes away and comes back.

use adapter_http::Engine;
use integration_tests::kafka::TestKafka;
use integration_tests::metrics::{sample, samples};
use integration_tests::postgres::TestDatabase;
use integration_tests::private::PrivatePostgres;
use integration_tests::process::{Log, Service};
use integration_tests::wait;
use rstest::rstest;
use sea_orm::ConnectionTrait;

use crate::dev_get;
use crate::stack::Stack;

#[rstest]
#[async_std::test]
async fn url_api_metrics_count_known_traffic_under_go_zero_names(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let (stack, consumer) = Stack::start_on(engine).await;
    let code = stack.shorten("https://example.com/metrics").await;
    stack.follow(&code, 3).await;
    let unknown = stack
        .client
        .get(stack.url("/abcdefgh"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    // A made-up method becomes a label no more than a raw path does: a client sending one per
    // request would add a series with each.
    let made_up = reqwest::Method::from_bytes(b"PURGE0001").unwrap();
    let purge = stack
        .client
        .request(made_up, stack.url(&format!("/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(purge.status(), 405);

    let (status, metrics) = dev_get(&stack.client, &stack.api, "/metrics").await;
    assert_eq!(status, 200);
    let redirects = [("path", "/:code"), ("method", "GET"), ("code", "302")];
    assert_eq!(
        sample(&metrics, "http_server_requests_code_total", &redirects),
        Some(3.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "http_server_requests_duration_ms_count",
            &redirects
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "http_server_requests_code_total",
            &[
                ("path", "/api/v1/urls"),
                ("method", "POST"),
                ("code", "201")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "http_server_requests_code_total",
            &[("path", "/:code"), ("code", "404")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "http_server_requests_code_total",
            &[("path", "unmatched"), ("method", "_OTHER"), ("code", "405")]
        ),
        Some(1.0)
    );
    // Neither the raw path nor the raw method ever becomes a label.
    assert!(
        !metrics.contains(&code),
        "a short code leaked into the labels"
    );
    assert!(
        !metrics.contains("PURGE0001"),
        "a method leaked into the labels"
    );
    assert!(metrics.contains(
        r#"http_server_requests_duration_ms_bucket{code="302",method="GET",path="/:code",le="5"}"#
    ));
    assert_eq!(
        sample(&metrics, "build_info", &[("service", "url-api")]),
        Some(1.0)
    );

    for service in [&stack.api, stack.rpc.as_ref().unwrap(), &consumer] {
        let (status, body) = dev_get(&stack.client, service, "/healthz").await;
        assert_eq!((status, body.as_str()), (200, "OK"));
        let (status, metrics) = dev_get(&stack.client, service, "/metrics").await;
        assert_eq!(status, 200);
        assert!(metrics.contains("build_info{"), "{metrics}");
    }
}

#[rstest]
#[async_std::test]
async fn an_access_line_names_the_trace_the_caller_sent(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let db = TestDatabase::create().await;
    let kafka = TestKafka::start().await;
    let (sent, lines) = std::sync::mpsc::channel();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../bootstrap/etc/url-api.yaml");
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("KAFKA_BROKERS", kafka.brokers.clone()),
        ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("DEV_ADDR", "127.0.0.1:0".to_owned()),
        ("HTTP_ENGINE", engine.name().to_owned()),
    ];
    let api = Service::start_with("url-api", config, &vars, Log::Lines(sent));
    let trace = uuid::Uuid::now_v7().simple().to_string();
    let res = reqwest::Client::new()
        .get(format!("http://{}/abcdefgh", api.addr()))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let access = wait::until("url-api's access line", 100, || async {
        lines
            .try_iter()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
            .find(|line| line["target"] == "adapter_http::access")
    })
    .await;
    assert_eq!(access["fields"]["status"], 404, "{access}");
    let request = &access["spans"][0];
    assert_eq!(request["trace_id"], trace.as_str(), "{access}");
    assert_eq!(
        request["span_id"].as_str().map(str::len),
        Some(16),
        "{access}"
    );
    assert_eq!(request["http.route"], "/:code");
}

#[async_std::test]
async fn healthz_turns_503_while_the_database_is_down_and_200_when_it_is_back() {
    let pg = PrivatePostgres::start().await;
    let (stack, consumer) = Stack::with_database(&pg.url).await;
    let rpc = stack.rpc.as_ref().unwrap();
    for service in [&stack.api, rpc, &consumer] {
        assert_eq!(dev_get(&stack.client, service, "/healthz").await.0, 200);
    }

    pg.stop();
    for service in [&stack.api, rpc, &consumer] {
        let body = wait::until("/healthz to say the database is down", 100, || async {
            let (status, body) = dev_get(&stack.client, service, "/healthz").await;
            (status == 503).then_some(body)
        })
        .await;
        assert!(body.starts_with("database: "), "{body}");
        assert_eq!(body.lines().count(), 1, "only the database is down: {body}");
    }

    pg.resume();
    for service in [&stack.api, rpc, &consumer] {
        wait::until("/healthz to be OK again", 300, || async {
            (dev_get(&stack.client, service, "/healthz").await == (200, "OK".to_owned()))
                .then_some(())
        })
        .await;
    }
}

#[async_std::test]
async fn every_binary_exports_what_it_did() {
    let (stack, consumer) = Stack::start().await;
    let rpc = stack.rpc.as_ref().unwrap();
    let code = stack.shorten("https://example.com/everything").await;
    stack.follow(&code, 3).await;
    assert_eq!(stack.wait_for_clicks(&code, 3).await, 3);
    let client = &stack.client;
    // Shortening cached the link, so its redirects never asked the database; a code never
    // seen does.
    let unknown = client.get(stack.url("/Zz9Zz9Zz")).send().await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let get_click_count = "/analytics.v1.Analytics/GetClickCount";

    // url-api: its SQL, its gRPC client, its breakers, its Kafka producer.
    let (_, api) = dev_get(client, &stack.api, "/metrics").await;
    assert_eq!(
        sample(
            &api,
            "sql_client_requests_duration_ms_count",
            &[("command", "insert_link")]
        ),
        Some(1.0),
        "{api}"
    );
    assert!(
        sample(
            &api,
            "sql_client_requests_duration_ms_count",
            &[("command", "find_link")]
        ) >= Some(1.0)
    );
    assert!(
        sample(&api, "link_cache_lookups_total", &[("result", "hit")]) >= Some(3.0),
        "{api}"
    );
    assert!(sample(&api, "link_cache_lookups_total", &[("result", "miss")]) >= Some(1.0));
    assert!(
        sample(
            &api,
            "rpc_client_requests_code_total",
            &[("method", get_click_count), ("code", "0")]
        ) >= Some(1.0)
    );
    assert!(
        sample(
            &api,
            "breaker_requests_total",
            &[("breaker", "postgres:urls"), ("outcome", "success")]
        ) >= Some(2.0)
    );
    assert_eq!(
        sample(&api, "breaker_drop_ratio", &[("breaker", "postgres:urls")]),
        Some(0.0)
    );
    assert_eq!(sample(&api, "click_events_delivered_total", &[]), Some(3.0));
    assert_eq!(sample(&api, "click_events_queue_depth", &[]), Some(0.0));

    // analytics-rpc: its server calls and its SQL.
    let (_, rpc_metrics) = dev_get(client, rpc, "/metrics").await;
    assert!(
        sample(
            &rpc_metrics,
            "rpc_server_requests_code_total",
            &[("method", get_click_count), ("code", "0")]
        ) >= Some(1.0),
        "{rpc_metrics}"
    );
    assert!(
        sample(
            &rpc_metrics,
            "rpc_server_requests_duration_ms_count",
            &[("method", get_click_count)]
        ) >= Some(1.0)
    );
    assert!(
        sample(
            &rpc_metrics,
            "sql_client_requests_duration_ms_count",
            &[("command", "click_count")]
        ) >= Some(1.0)
    );
    assert_eq!(
        sample(&rpc_metrics, "build_info", &[("service", "analytics-rpc")]),
        Some(1.0)
    );

    // analytics-consumer: batches, events, poison, lag (from librdkafka's 5 s statistics).
    let consumer_metrics = wait::until("the consumer's lag to be reported", 150, || async {
        let (_, metrics) = dev_get(client, &consumer, "/metrics").await;
        metrics.contains("click_consumer_lag{").then_some(metrics)
    })
    .await;
    assert_eq!(
        sample(&consumer_metrics, "click_consumer_events_stored_total", &[]),
        Some(3.0),
        "{consumer_metrics}"
    );
    assert_eq!(
        sample(
            &consumer_metrics,
            "click_consumer_events_received_total",
            &[]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &consumer_metrics,
            "click_consumer_poison_messages_total",
            &[]
        ),
        Some(0.0)
    );
    assert!(sample(&consumer_metrics, "click_consumer_batches_total", &[]) >= Some(1.0));
    assert!(sample(&consumer_metrics, "click_consumer_batch_size_count", &[]) >= Some(1.0));
    assert!(
        sample(
            &consumer_metrics,
            "sql_client_requests_duration_ms_count",
            &[("command", "store_clicks")]
        ) >= Some(1.0)
    );
    assert_eq!(
        sample(&consumer_metrics, "click_consumer_lag", &[]),
        Some(0.0)
    );
}

/// The sum of `click_consumer_lag` over its partitions, once it has been read.
fn consumer_lag(metrics: &str) -> Option<f64> {
    metrics
        .contains("click_consumer_lag{")
        .then(|| samples(metrics, "click_consumer_lag", &[]).sum())
}

#[async_std::test]
async fn a_consumer_that_commits_nothing_while_clicks_wait_is_not_ready_and_its_lag_says_so() {
    let (stack, first) = Stack::start().await;
    first.kill();
    let consumer = stack.start_consumer_with("stall", |yaml| {
        yaml.replace("stall_timeout_ms: 60000", "stall_timeout_ms: 2000")
    });
    let db = sea_orm::Database::connect(&stack.database_url)
        .await
        .unwrap();
    // The store breaks the way a bad migration breaks it: the database answers (its probe
    // stays green), but no batch can be stored, so the consumer retries and commits nothing.
    db.execute_unprepared("ALTER TABLE clicks RENAME TO clicks_gone")
        .await
        .unwrap();
    let code = stack.shorten("https://example.com/stalled").await;
    stack.follow(&code, 5).await;

    let body = wait::until("/healthz to report the stall", 300, || async {
        let (status, body) = dev_get(&stack.client, &consumer, "/healthz").await;
        (status == 503).then_some(body)
    })
    .await;
    assert!(
        body.starts_with("consumer: nothing committed for ") && body.ends_with(" messages wait\n"),
        "{body}"
    );
    assert_eq!(
        body.lines().count(),
        1,
        "only the consumer is unwell: {body}"
    );
    let lag = wait::until("the lag to show the waiting clicks", 300, || async {
        let (_, metrics) = dev_get(&stack.client, &consumer, "/metrics").await;
        consumer_lag(&metrics).filter(|lag| *lag > 0.0)
    })
    .await;
    assert_eq!(lag, 5.0);

    db.execute_unprepared("ALTER TABLE clicks_gone RENAME TO clicks")
        .await
        .unwrap();
    assert_eq!(stack.wait_for_clicks(&code, 5).await, 5);
    wait::until("/healthz to be OK again", 300, || async {
        (dev_get(&stack.client, &consumer, "/healthz").await == (200, "OK".to_owned()))
            .then_some(())
    })
    .await;
    wait::until("the lag to be back to 0", 300, || async {
        let (_, metrics) = dev_get(&stack.client, &consumer, "/metrics").await;
        (consumer_lag(&metrics) == Some(0.0)).then_some(())
    })
    .await;
}
