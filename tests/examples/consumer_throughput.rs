//! Measures the click pipeline's throughput against real PostgreSQL and Kafka, and prints it.
//!
//!   scripts/consumer-throughput.sh [EVENTS] [BATCH_SIZE]
//!
//! (which starts the services when `TEST_DATABASE_URL` / `TEST_KAFKA_BROKERS` are unset, and
//! runs this in release mode). Three figures from one run, on one fresh database and topic:
//! - publish: events/s through `KafkaClickPublisher` until all are acknowledged;
//! - raw consume: events/s a bare consumer reads the topic, no decoding, no database;
//! - pipeline: events/s from the topic into durable, counted rows (`ClickConsumer` +
//!   `IngestClicks` + `PgClickStore`, with the GeoIP lookup), and its ratio to the raw consume.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::time::{Duration, Instant};

use adapter_kafka::{KafkaClickPublisher, PublisherConfig};
use application::ports::ClickPublisher;
use chrono::Utc;
use domain::{ClickEvent, ShortCode, Visit};
use integration_tests::consumer::RunningConsumer;
use integration_tests::kafka::TestKafka;
use integration_tests::postgres::TestDatabase;
use integration_tests::wait;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
];
const REFERERS: [Option<&str>; 4] = [
    None,
    Some("https://www.google.com/"),
    Some("https://t.co/abc"),
    Some("https://blog.example.org/post"),
];

#[async_std::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let events: usize = args
        .next()
        .map_or(100_000, |a| a.parse().expect("EVENTS is a number"));
    let batch_size: usize = args
        .next()
        .map_or(500, |a| a.parse().expect("BATCH_SIZE is a number"));
    let db = TestDatabase::create().await;
    let kafka = TestKafka::start().await;
    let conn = db.connect().await;

    let publish = publish(&kafka, events);
    let raw = raw_consume(&kafka, events).await;
    let pipeline = pipeline(&kafka, &conn, events, batch_size).await;

    println!();
    println!("click pipeline, {events} events, batch size {batch_size}");
    println!("| stage | seconds | events/s |");
    println!("|---|---:|---:|");
    for (stage, took) in [
        ("publish (acknowledged)", publish),
        ("raw consume", raw),
        ("pipeline into PostgreSQL", pipeline),
    ] {
        println!(
            "| {stage} | {:.2} | {:.0} |",
            took.as_secs_f64(),
            rate(events, took)
        );
    }
    println!(
        "pipeline / raw consume: {:.2}",
        rate(events, pipeline) / rate(events, raw)
    );
}

fn rate(events: usize, took: Duration) -> f64 {
    events as f64 / took.as_secs_f64()
}

fn event(i: usize) -> ClickEvent {
    // 1000 links, so the counters see the upserts a real mix would cause.
    let code = ShortCode::parse(&format!("bench{:03}", i % 1000)).unwrap();
    let ip = format!(
        "{}.{}.{}.{}",
        1 + i % 200,
        (i / 7) % 256,
        (i / 13) % 256,
        i % 256
    );
    let visit = Visit::new(
        Some(ip.parse().unwrap()),
        Some(USER_AGENTS[i % USER_AGENTS.len()]),
        REFERERS[(i / 3) % REFERERS.len()],
    );
    ClickEvent::new(code, visit, Utc::now())
}

fn publish(kafka: &TestKafka, events: usize) -> Duration {
    let publisher = KafkaClickPublisher::new(&PublisherConfig {
        brokers: kafka.brokers.clone(),
        topic: kafka.topic.clone(),
        client_id: "bench".into(),
    })
    .unwrap();
    let all: Vec<ClickEvent> = (0..events).map(event).collect();
    let started = Instant::now();
    for event in all {
        // A full local queue is back-pressure here, not loss: wait for room and try again.
        while publisher.publish(event.clone()).is_err() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    publisher.flush(Duration::from_secs(120)).unwrap();
    started.elapsed()
}

async fn raw_consume(kafka: &TestKafka, events: usize) -> Duration {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", format!("{}-raw", kafka.group()))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&kafka.topic]).unwrap();
    // The clock starts at the first message, so joining the group isn't counted.
    consumer.recv().await.unwrap();
    let started = Instant::now();
    for _ in 1..events {
        consumer.recv().await.unwrap();
    }
    started.elapsed()
}

async fn pipeline(
    kafka: &TestKafka,
    conn: &DatabaseConnection,
    events: usize,
    batch_size: usize,
) -> Duration {
    let consumer = RunningConsumer::start(kafka, conn, batch_size).await;
    // As for the raw consume, the clock starts with the first stored click.
    wait::until("the first stored click", 3000, || async {
        (stored(conn).await > 0).then_some(())
    })
    .await;
    let started = Instant::now();
    wait::until("every click stored", 36_000, || async {
        (stored(conn).await >= events as i64).then_some(())
    })
    .await;
    let took = started.elapsed();
    consumer.stop().await;
    assert_eq!(
        stored(conn).await,
        events as i64,
        "every event counted exactly once"
    );
    took
}

/// Clicks counted so far, from the counters (cheap to poll).
async fn stored(conn: &DatabaseConnection) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT coalesce(sum(clicks), 0)::bigint FROM link_click_totals",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}
