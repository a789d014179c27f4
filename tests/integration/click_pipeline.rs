//! Clicks from the publisher through Kafka and the consumer into PostgreSQL: real broker, real
//! database, and the same adapters the binaries wire.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use adapter_kafka::{KafkaClickPublisher, PublisherConfig};
use adapter_postgres::{PgClickStore, PgStatsStore};
use adapter_resilience::{Guard, Resilient};
use application::ports::{ClickPublisher, ClickStore, NoGeoLocator, StatsStore, StoreError};
use application::use_cases::ingest_clicks;
use chrono::Utc;
use domain::{ClickEvent, DayRange, DeviceType, EnrichedClick, ShortCode, TrafficSource, Visit};
use integration_tests::consumer::RunningConsumer;
use integration_tests::kafka::TestKafka;
use integration_tests::postgres::TestDatabase;
use integration_tests::wait;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use sea_orm::{ConnectionTrait, DatabaseConnection};

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

/// Publishes values as they are, with `key`: same key as a link's clicks, same partition.
fn publish_raw(kafka: &TestKafka, key: &str, values: &[&[u8]]) {
    let raw: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .unwrap();
    for value in values {
        raw.send(BaseRecord::to(&kafka.topic).key(key).payload(*value))
            .unwrap();
    }
    raw.flush(Duration::from_secs(30)).unwrap();
}

/// A click event's value as url-api publishes it, with `user_agent` as given.
fn click_json(short_code: &str, user_agent: &str) -> Vec<u8> {
    serde_json::json!({
        "event_id": uuid::Uuid::now_v7(),
        "short_code": short_code,
        "occurred_at": Utc::now(),
        "ip": "127.0.0.1",
        "user_agent": user_agent,
    })
    .to_string()
    .into_bytes()
}

/// Every message on the test's dead-letter topic, once `expected` of them are there.
async fn dead_letters(kafka: &TestKafka, expected: usize) -> Vec<OwnedMessage> {
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", format!("{}-reader", kafka.group()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    reader.subscribe(&[&kafka.dead_letter_topic()]).unwrap();
    let mut letters = Vec::new();
    wait::until(&format!("{expected} dead letters"), 600, || {
        if let Some(Ok(message)) = reader.poll(Duration::from_millis(50)) {
            letters.push(message.detach());
        }
        std::future::ready((letters.len() >= expected).then_some(()))
    })
    .await;
    // Nothing more arrives that shouldn't.
    assert!(reader.poll(Duration::from_secs(1)).is_none());
    letters
}

fn header<'a>(message: &'a OwnedMessage, key: &str) -> &'a str {
    let headers = message.headers().expect("dead letters carry headers");
    let value = headers
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .unwrap_or_else(|| panic!("no {key} header"));
    std::str::from_utf8(value).unwrap()
}

#[async_std::test]
async fn a_message_that_is_not_a_click_goes_to_the_dead_letter_topic() {
    let (db, kafka) = (TestDatabase::create().await, TestKafka::start().await);
    let conn = db.connect().await;
    // Right in front of the good events, on their partition.
    publish_raw(&kafka, "poisAAA1", &[b"{not json"]);
    let events: Vec<ClickEvent> = (0..5)
        .map(|_| click("poisAAA1", "127.0.0.1", "curl/8", None))
        .collect();
    publish_all(&kafka, &events);

    let consumer = RunningConsumer::start(&kafka, &conn, 100).await;
    wait_for_total(&conn, "poisAAA1", 5).await;
    let letters = dead_letters(&kafka, 1).await;
    let counts = Arc::clone(&consumer.counts);
    consumer.stop().await;

    assert_eq!(counts.poison.load(Ordering::Relaxed), 1);
    assert_eq!(total(&conn, "poisAAA1").await, 5);
    assert_eq!(letters[0].payload(), Some(b"{not json".as_slice()));
    assert_eq!(letters[0].key(), Some(b"poisAAA1".as_slice()));
    assert!(header(&letters[0], adapter_kafka::REASON).starts_with("not a click event: "));
    assert_eq!(
        header(&letters[0], adapter_kafka::SOURCE_TOPIC),
        kafka.topic
    );
    assert_eq!(header(&letters[0], adapter_kafka::SOURCE_OFFSET), "0");
}

#[async_std::test]
async fn a_nul_in_a_user_agent_is_dead_lettered_and_counting_goes_on() {
    let (db, kafka) = (TestDatabase::create().await, TestKafka::start().await);
    let conn = db.connect().await;
    // Good clicks on both sides of one whose user agent holds U+0000, which PostgreSQL can't
    // store in a text: before this was caught, the batch failed forever and no click of any
    // link was counted again.
    let before = click_json("nulsAAA1", "curl/8");
    let nul = click_json("nulsAAA1", "curl/8\u{0}");
    let after = click_json("nulsAAA1", "curl/8");
    publish_raw(&kafka, "nulsAAA1", &[&before, &nul, &after]);

    let consumer = RunningConsumer::start(&kafka, &conn, 100).await;
    wait_for_total(&conn, "nulsAAA1", 2).await;
    let letters = dead_letters(&kafka, 1).await;
    assert_eq!(letters[0].payload(), Some(nul.as_slice()));
    assert_eq!(
        header(&letters[0], adapter_kafka::REASON),
        "not a click event: user_agent contains a control character, which a redirect never \
         records"
    );
    // The consumer moved on: later clicks are counted too.
    publish_all(&kafka, &[click("nulsAAA1", "127.0.0.1", "curl/8", None)]);
    wait_for_total(&conn, "nulsAAA1", 3).await;
    let counts = Arc::clone(&consumer.counts);
    consumer.stop().await;

    assert_eq!(total(&conn, "nulsAAA1").await, 3);
    assert_eq!(counts.poison.load(Ordering::Relaxed), 1);
}

#[async_std::test]
async fn an_event_the_store_refuses_is_dead_lettered_and_the_rest_of_its_batch_stored() {
    let (db, kafka) = (TestDatabase::create().await, TestKafka::start().await);
    let conn = db.connect().await;
    // A rule of the store's own that the codec knows nothing of: whatever the store refuses for
    // its content must be set aside the same way.
    conn.execute_unprepared(
        "ALTER TABLE clicks ADD CONSTRAINT no_evil_agents CHECK (user_agent <> 'evil/1.0')",
    )
    .await
    .unwrap();
    let mut events: Vec<ClickEvent> = (0..40)
        .map(|_| click("refuAAA1", "127.0.0.1", "curl/8", None))
        .collect();
    events.insert(17, click("refuAAA1", "127.0.0.1", "evil/1.0", None));
    events.insert(31, click("refuAAA1", "127.0.0.1", "evil/1.0", None));
    publish_all(&kafka, &events);

    // One batch for all 42.
    let consumer = RunningConsumer::start(&kafka, &conn, 100).await;
    wait_for_total(&conn, "refuAAA1", 40).await;
    let letters = dead_letters(&kafka, 2).await;
    let counts = Arc::clone(&consumer.counts);
    consumer.stop().await;

    assert_eq!(total(&conn, "refuAAA1").await, 40);
    assert_eq!(rows(&conn, "refuAAA1").await, 40);
    assert_eq!(counts.poison.load(Ordering::Relaxed), 2);
    for letter in &letters {
        let event = adapter_kafka::decode(letter.payload().unwrap()).unwrap();
        assert_eq!(event.visit.user_agent.as_deref(), Some("evil/1.0"));
        assert!(
            header(letter, adapter_kafka::REASON).contains("no_evil_agents"),
            "{}",
            header(letter, adapter_kafka::REASON)
        );
    }
}

#[async_std::test]
async fn the_store_refuses_a_nul_as_the_inputs_fault_and_ingestion_sets_it_aside() {
    let db = TestDatabase::create().await;
    let conn = db.connect().await;
    let store = PgClickStore::new(&conn);
    // Built by hand: the domain's constructors would never let a NUL through.
    let mut poisoned = EnrichedClick::new(click("storAAA1", "127.0.0.1", "curl/8", None), None);
    poisoned.event.visit.user_agent = Some("curl/8\u{0}".into());

    let refused = store.store(std::slice::from_ref(&poisoned)).await;
    assert!(
        matches!(&refused, Err(StoreError::Rejected(reason)) if reason.contains("0x00")),
        "{refused:?}"
    );

    // Through the use case, with the breaker the binary puts in front of the store: the rest
    // of the batch is stored, and refusals never count against the breaker.
    let guarded = Resilient::new(
        PgClickStore::new(&conn),
        Guard::for_dependency("postgres:clicks", Some(Duration::from_secs(10))),
    );
    for round in 0..20 {
        let mut batch: Vec<ClickEvent> = (0..9)
            .map(|_| click("storAAA1", "127.0.0.1", "curl/8", None))
            .collect();
        let mut bad = click("storAAA1", "127.0.0.1", "curl/8", None);
        bad.visit.user_agent = Some("\u{0}".into());
        batch.insert(round % 10, bad);
        let report = ingest_clicks(&guarded, &NoGeoLocator, batch).await.unwrap();
        assert_eq!(report.stored, 9);
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(report.rejected[0].index, round % 10);
    }
    assert_eq!(total(&conn, "storAAA1").await, 180);
}
