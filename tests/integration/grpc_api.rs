//! analytics-rpc started as its binary starts it, asked over real gRPC, over a real PostgreSQL.

use std::time::Duration;

use adapter_grpc::proto::{Count, GetClickCountRequest, GetClickStatsRequest};
use adapter_grpc::{ClientConfig, GrpcAnalytics, RpcToken};
use adapter_postgres::PgClickStore;
use application::ports::{AnalyticsQuery, ClickStore};
use chrono::{DateTime, Utc};
use domain::{ClickEvent, EnrichedClick, ShortCode, Visit};
use integration_tests::postgres::TestDatabase;
use tonic::Code;
use tonic::transport::Channel;

use crate::rpc_app::TestRpc;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn click(code: &str, at: &str, ua: &str, referer: Option<&str>) -> EnrichedClick {
    let at: DateTime<Utc> = at.parse().unwrap();
    let event = ClickEvent::new(
        ShortCode::parse(code).unwrap(),
        Visit::new(None, Some(ua), referer),
        at,
    );
    EnrichedClick::new(event, None)
}

async fn seed(db: &TestDatabase) {
    let clicks = [
        click("grpcAAA1", "2026-03-01T10:00:00Z", "curl/8", None),
        click(
            "grpcAAA1",
            "2026-03-01T23:59:59Z",
            "Mozilla/5.0 (iPhone; Mobile)",
            Some("https://t.co/"),
        ),
        click(
            "grpcAAA1",
            "2026-03-02T00:00:00Z",
            "Mozilla/5.0 (iPhone; Mobile)",
            Some("https://t.co/"),
        ),
        click(
            "grpcAAA1",
            "2026-03-05T12:00:00Z",
            "Mozilla/5.0 (Windows NT 10.0)",
            None,
        ),
        click("grpcBBB2", "2026-03-01T10:00:00Z", "curl/8", None),
    ];
    PgClickStore::new(&db.connect().await)
        .store(&clicks)
        .await
        .unwrap();
}

fn counts(rows: &[Count]) -> Vec<(&str, u64)> {
    rows.iter().map(|c| (c.key.as_str(), c.clicks)).collect()
}

#[async_std::test]
async fn counts_clicks_and_answers_zero_for_a_code_without_any() {
    let db = TestDatabase::create().await;
    seed(&db).await;
    let rpc = TestRpc::spawn(&db.url).await;
    let mut client = rpc.client().await;

    let count = |code: &str| GetClickCountRequest {
        short_code: code.into(),
    };
    let seeded = client
        .get_click_count(count("grpcAAA1"))
        .await
        .unwrap()
        .into_inner();
    let unknown = client
        .get_click_count(count("nothing0"))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(
        (seeded.short_code.as_str(), seeded.total_clicks),
        ("grpcAAA1", 4)
    );
    assert_eq!(unknown.total_clicks, 0);
    rpc.stop().await;
}

#[async_std::test]
async fn a_malformed_code_is_an_invalid_argument() {
    let db = TestDatabase::create().await;
    let rpc = TestRpc::spawn(&db.url).await;
    let mut client = rpc.client().await;

    for code in ["", "abc", "abc-defg", "abcdefghi"] {
        let status = client
            .get_click_count(GetClickCountRequest {
                short_code: code.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{code:?}");
    }
    rpc.stop().await;
}

#[async_std::test]
async fn stats_break_a_day_range_down_four_ways() {
    let db = TestDatabase::create().await;
    seed(&db).await;
    let rpc = TestRpc::spawn(&db.url).await;
    let mut client = rpc.client().await;

    let stats = client
        .get_click_stats(GetClickStatsRequest {
            short_code: "grpcAAA1".into(),
            from_date: "2026-03-01".into(),
            to_date: "2026-03-02".into(),
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(stats.total_clicks, 3);
    assert_eq!(
        (stats.from_date.as_str(), stats.to_date.as_str()),
        ("2026-03-01", "2026-03-02")
    );
    assert_eq!(
        counts(&stats.by_day),
        [("2026-03-01", 2), ("2026-03-02", 1)]
    );
    assert_eq!(counts(&stats.by_country), [("XX", 3)]);
    assert_eq!(counts(&stats.by_device), [("Mobile", 2), ("Bot", 1)]);
    assert_eq!(counts(&stats.by_source), [("Social", 2), ("Direct", 1)]);

    let reversed = client
        .get_click_stats(GetClickStatsRequest {
            short_code: "grpcAAA1".into(),
            from_date: "2026-03-05".into(),
            to_date: "2026-03-01".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reversed.code(), Code::InvalidArgument);
    rpc.stop().await;
}

#[async_std::test]
async fn health_reports_serving() {
    let db = TestDatabase::create().await;
    let rpc = TestRpc::spawn(&db.url).await;
    let channel = Channel::from_shared(format!("http://{}", rpc.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);

    for service in ["", "analytics.v1.Analytics"] {
        let response = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service:?}");
    }
    rpc.stop().await;
}

#[async_std::test]
async fn url_api_client_reads_counts_and_reports_an_absent_server() {
    let db = TestDatabase::create().await;
    seed(&db).await;
    let rpc = TestRpc::spawn(&db.url).await;
    let code = ShortCode::parse("grpcAAA1").unwrap();
    let config = |url: String| ClientConfig {
        url,
        timeout: Duration::from_secs(2),
        token: None,
    };

    let present = GrpcAnalytics::new(&config(format!("http://{}", rpc.addr))).unwrap();
    assert_eq!(present.click_count(&code).await, Ok(4));

    let addr = rpc.addr;
    rpc.stop().await;
    let absent = GrpcAnalytics::new(&config(format!("http://{addr}"))).unwrap();
    assert!(absent.click_count(&code).await.is_err());
}

#[async_std::test]
async fn with_a_token_analytics_calls_need_it_and_health_does_not() {
    let db = TestDatabase::create().await;
    seed(&db).await;
    let token = || RpcToken::new("compose-token-1").unwrap();
    let rpc = TestRpc::spawn_with(&db.url, |config| config.token = token()).await;
    let code = ShortCode::parse("grpcAAA1").unwrap();
    let url = format!("http://{}", rpc.addr);

    let refused = rpc
        .client()
        .await
        .get_click_count(GetClickCountRequest {
            short_code: "grpcAAA1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);

    let client = |token: Option<RpcToken>| {
        GrpcAnalytics::new(&ClientConfig {
            url: url.clone(),
            timeout: Duration::from_secs(2),
            token,
        })
        .unwrap()
    };
    assert_eq!(client(token()).click_count(&code).await, Ok(4));
    let wrong = client(RpcToken::new("compose-token-2").unwrap());
    assert!(wrong.click_count(&code).await.is_err());

    let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
    let health = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status(), ServingStatus::Serving);
    rpc.stop().await;
}
