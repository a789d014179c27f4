//! The click pipeline: events per second from the Kafka topic into durable, counted rows by
//! the analytics-consumer binary, against a bare consumer reading the same topic.

use std::time::{Duration, Instant};

use adapter_kafka::{KafkaClickPublisher, PublisherConfig};
use application::ports::ClickPublisher;
use chrono::Utc;
use domain::{ClickEvent, ShortCode, Visit};
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};

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

/// A varied click: 1000 links (so the counters see a real mix of upserts), many IPs, every
/// device type and traffic source.
fn event(i: usize) -> ClickEvent {
    let code = ShortCode::parse(&format!("pipe{:04}", i % 1000)).expect("a valid code");
    let ip = format!(
        "{}.{}.{}.{}",
        1 + i % 200,
        (i / 7) % 256,
        (i / 13) % 256,
        i % 256
    );
    let visit = Visit::new(
        ip.parse().ok(),
        Some(USER_AGENTS[i % USER_AGENTS.len()]),
        REFERERS[(i / 3) % REFERERS.len()],
    );
    ClickEvent::new(code, visit, Utc::now())
}

/// Publishes `events` clicks and waits until the broker has acknowledged every one.
pub(crate) fn publish(brokers: &str, topic: &str, events: usize) {
    let publisher = KafkaClickPublisher::new(&PublisherConfig {
        brokers: brokers.to_owned(),
        topic: topic.to_owned(),
        client_id: "bench".into(),
    })
    .expect("a publisher");
    for i in 0..events {
        // A full local queue is back-pressure here, not loss: wait for room and try again.
        while publisher.publish(event(i)).is_err() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    publisher
        .flush(Duration::from_secs(300))
        .expect("every event acknowledged");
}

/// Events per second a bare consumer (no decoding, no database) reads from the topic, over
/// `events` messages, timed from the first one so that joining the group isn't counted.
pub(crate) async fn raw_consume(brokers: &str, topic: &str, events: usize) -> f64 {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("bench-raw-{}", uuid::Uuid::now_v7().simple()),
        )
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("a consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    consumer.recv().await.expect("a message");
    let started = Instant::now();
    for _ in 1..events {
        consumer.recv().await.expect("a message");
    }
    (events - 1) as f64 / started.elapsed().as_secs_f64()
}
