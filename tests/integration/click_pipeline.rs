//! Clicks from the publisher through Kafka and the consumer into PostgreSQL: real broker, real
//! database, and the same adapters the binaries wire.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use adapter_kafka::{KafkaClickPublisher, PublisherConfig};
use adapter_postgres::{PgClickStore, PgStatsStore};
use application::ports::{ClickPublisher, ClickStore, StatsStore};
use chrono::Utc;
use domain::{ClickEvent, DayRange, DeviceType, EnrichedClick, ShortCode, TrafficSource, Visit};
use integration_tests::consumer::RunningConsumer;
use integration_tests::kafka::TestKafka;
use integration_tests::postgres::TestDatabase;
use integration_tests::wait;
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use sea_orm::DatabaseConnection;

fn code(s: &str) -> ShortCode {
    ShortCode::parse(s).unwrap()
}

fn click(short_code: &str, ip: &str, user_agent: &str, referer: Option<&str>) -> ClickEvent {
    ClickEvent::new(
        code(short_code),
        Visit::new(Some(ip.parse().unwrap()), Some(user_agent), referer),
        Utc::now(),
    )
}

fn publisher(kafka: &TestKafka) -> KafkaClickPublisher {
    KafkaClickPublisher::new(&PublisherConfig {
        brokers: kafka.brokers.clone(),
        topic: kafka.topic.clone(),
        client_id: "test".into(),
    })
    .unwrap()
}

fn publish_all(kafka: &TestKafka, events: &[ClickEvent]) {
    let publisher = publisher(kafka);
    for event in events {
        publisher.publish(event.clone()).unwrap();
    }
    publisher.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(
        publisher.counts().delivered.load(Ordering::Relaxed),
        events.len() as u64
    );
}

async fn total(db: &DatabaseConnection, short_code: &str) -> u64 {
    PgStatsStore::new(db.clone())
        .click_count(&code(short_code))
        .await
        .unwrap()
}

async fn wait_for_total(db: &DatabaseConnection, short_code: &str, expected: u64) {
    wait::until(
        &format!("{expected} clicks on {short_code}"),
        600,
        || async { (total(db, short_code).await >= expected).then_some(()) },
    )
    .await;
}

async fn rows(db: &DatabaseConnection, short_code: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT count(*) FROM clicks WHERE short_code = $1",
            [short_code.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[async_std::test]
async fn published_clicks_become_counted_enriched_rows() {
    let (db, kafka) = (TestDatabase::create().await, TestKafka::start().await);
    let conn = db.connect().await;
    let mut events = Vec::new();
    for _ in 0..20 {
        events.push(click(
            "pipeAAA1",
            "8.8.8.8",
            "Mozilla/5.0 (iPhone; Mobile)",
            Some("https://t.co/x"),
        ));
        events.push(click("pipeAAA1", "127.0.0.1", "curl/8", None));
    }
    events.push(click(
        "pipeBBB2",
        "8.8.8.8",
        "Mozilla/5.0 (Windows NT 10.0)",
        Some("https://www.google.com/"),
    ));
    publish_all(&kafka, &events);

    let consumer = RunningConsumer::start(&kafka, &conn, 16).await;
    wait_for_total(&conn, "pipeAAA1", 40).await;
    wait_for_total(&conn, "pipeBBB2", 1).await;
    consumer.stop().await;

    assert_eq!(total(&conn, "pipeAAA1").await, 40);
    assert_eq!(rows(&conn, "pipeAAA1").await, 40);
    let today = Utc::now().date_naive();
    let stats = PgStatsStore::new(conn.clone())
        .click_stats(&code("pipeAAA1"), DayRange::new(today, today).unwrap())
        .await
        .unwrap();
    assert_eq!(stats.total, 40);
    assert_eq!(stats.by_day, vec![(today, 40)]);
    let countries: Vec<(String, u64)> = stats
        .by_country
        .iter()
        .map(|(c, n)| (c.to_string(), *n))
        .collect();
    assert_eq!(countries, [("US".to_owned(), 20), ("XX".to_owned(), 20)]);
    let mut devices = stats.by_device.clone();
    devices.sort();
    assert_eq!(devices, [(DeviceType::Bot, 20), (DeviceType::Mobile, 20)]);
    let mut sources = stats.by_source.clone();
    sources.sort();
    assert_eq!(
        sources,
        [(TrafficSource::Direct, 20), (TrafficSource::Social, 20)]
    );
}

#[async_std::test]
async fn redelivered_events_are_counted_once() {
    let (db, kafka) = (TestDatabase::create().await, TestKafka::start().await);
    let conn = db.connect().await;
    let events: Vec<ClickEvent> = (0..30)
        .map(|_| click("dupeAAA1", "127.0.0.1", "curl/8", None))
        .collect();
    // The same events twice: what Kafka does after a consumer dies before committing.
    publish_all(&kafka, &events);
    publish_all(&kafka, &events);

    let consumer = RunningConsumer::start(&kafka, &conn, 7).await;
    wait::until("both deliveries consumed", 600, || async {
        (consumer.counts.received.load(Ordering::Relaxed) >= 60).then_some(())
    })
    .await;
    let counts = Arc::clone(&consumer.counts);
    consumer.stop().await;

    assert_eq!(counts.received.load(Ordering::Relaxed), 60);
    assert_eq!(counts.stored.load(Ordering::Relaxed), 30);
    assert_eq!(total(&conn, "dupeAAA1").await, 30);
    assert_eq!(rows(&conn, "dupeAAA1").await, 30);
}

#[async_std::test]
async fn storing_the_same_batch_twice_changes_nothing() {
    let db = TestDatabase::create().await;
    let conn = db.connect().await;
    let store = PgClickStore::new(&conn);
    let batch: Vec<EnrichedClick> = (0..10)
        .map(|_| EnrichedClick::new(click("sameAAA1", "127.0.0.1", "curl/8", None), None))
        .collect();
    // Within one batch too: a duplicate event id is counted once.
    let mut with_duplicate = batch.clone();
    with_duplicate.push(batch[0].clone());

    assert_eq!(store.store(&with_duplicate).await, Ok(10));
    assert_eq!(store.store(&batch).await, Ok(0));
    assert_eq!(total(&conn, "sameAAA1").await, 10);
}

#[async_std::test]
async fn a_consumer_killed_mid_stream_and_restarted_counts_exactly() {
    let (db, kafka) = (TestDatabase::create().await, TestKafka::start().await);
    let conn = db.connect().await;
    let events: Vec<ClickEvent> = (0..3000)
        .map(|i| {
            click(
                if i % 2 == 0 { "killAAA1" } else { "killBBB2" },
                "127.0.0.1",
                "curl/8",
                None,
            )
        })
        .collect();
    publish_all(&kafka, &events);

    // Small batches, so the kill lands between commits with work in flight.
    let first = RunningConsumer::start(&kafka, &conn, 25).await;
    wait_for_total(&conn, "killAAA1", 100).await;
    first.kill().await;
    let after_kill = total(&conn, "killAAA1").await + total(&conn, "killBBB2").await;
    assert!(after_kill < 3000, "the kill came too late to test anything");

    let second = RunningConsumer::start(&kafka, &conn, 500).await;
    wait_for_total(&conn, "killAAA1", 1500).await;
    wait_for_total(&conn, "killBBB2", 1500).await;
    second.stop().await;

    assert_eq!(total(&conn, "killAAA1").await, 1500);
    assert_eq!(total(&conn, "killBBB2").await, 1500);
    assert_eq!(
        rows(&conn, "killAAA1").await + rows(&conn, "killBBB2").await,
        3000
    );
}

#[async_std::test]
async fn a_poison_message_is_skipped_without_stopping_its_partition() {
    let (db, kafka) = (TestDatabase::create().await, TestKafka::start().await);
    let conn = db.connect().await;
    let raw: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .unwrap();
    // Same key as the good events: same partition, right in front of them.
    raw.send(
        BaseRecord::to(&kafka.topic)
            .key("poisAAA1")
            .payload("{not json"),
    )
    .unwrap();
    raw.flush(Duration::from_secs(30)).unwrap();
    let events: Vec<ClickEvent> = (0..5)
        .map(|_| click("poisAAA1", "127.0.0.1", "curl/8", None))
        .collect();
    publish_all(&kafka, &events);

    let consumer = RunningConsumer::start(&kafka, &conn, 100).await;
    wait_for_total(&conn, "poisAAA1", 5).await;
    let counts = Arc::clone(&consumer.counts);
    consumer.stop().await;

    assert_eq!(counts.poison.load(Ordering::Relaxed), 1);
    assert_eq!(total(&conn, "poisAAA1").await, 5);
}
