//! Several replicas of a service on one PostgreSQL and one Kafka: what is done through one
//! replica, the others follow.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use adapter_kafka::{KafkaLinkEvents, LinkEventListener, LinkEventsConfig};
use application::LinkCopies;
use application::ports::LinkEventPublisher;
use domain::{LinkEvent, ShortCode};
use integration_tests::kafka::TestKafka;
use integration_tests::metrics::sample;
use integration_tests::process::Service;
use integration_tests::wait;

use crate::dev_get;
use crate::stack::Stack;

async fn redirect_status(stack: &Stack, replica: &Service, code: &str) -> u16 {
    stack
        .client
        .get(format!("http://{}/{code}", replica.addr()))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn cache_hits(stack: &Stack, replica: &Service) -> f64 {
    let (_, metrics) = dev_get(&stack.client, replica, "/metrics").await;
    sample(&metrics, "link_cache_lookups_total", &[("result", "hit")]).unwrap_or(0.0)
}

#[async_std::test]
async fn a_link_deleted_through_one_url_api_stops_redirecting_from_another() {
    let (stack, _consumer) = Stack::start().await;
    let other = stack.start_url_api().await;
    let code = stack.shorten("https://example.com/replicated").await;

    // Cached by both replicas: the other's second redirect is a hit.
    stack.follow(&code, 2).await;
    let hits = cache_hits(&stack, &other).await;
    for _ in 0..2 {
        assert_eq!(redirect_status(&stack, &other, &code).await, 302);
    }
    assert!(
        cache_hits(&stack, &other).await > hits,
        "the other replica caches the link"
    );

    let deleted = stack
        .client
        .delete(stack.url(&format!("/api/v1/links/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(redirect_status(&stack, &stack.api, &code).await, 404);
    // Well within the cache's TTL (60 s): the news, not the expiry, drops the copy.
    wait::until("the other replica to stop redirecting", 100, || async {
        (redirect_status(&stack, &other, &code).await == 404).then_some(())
    })
    .await;
}

/// What a replica's cache is told, kept.
#[derive(Default)]
struct Told(Mutex<Vec<LinkEvent>>);

#[async_trait::async_trait]
impl LinkCopies for Told {
    async fn follow(&self, event: LinkEvent) {
        self.0.lock().unwrap().push(event);
    }
}

/// A listener starts from the newest offset as it is when it is made: every event published
/// after that is followed, however soon, and none before it.
#[async_std::test]
async fn a_listener_follows_every_event_published_once_it_is_made() {
    const TIMEOUT: Duration = Duration::from_secs(30);
    let kafka = TestKafka::start().await;
    let config = LinkEventsConfig {
        brokers: kafka.brokers.clone(),
        topic: format!("{}.links", kafka.topic),
        client_id: "listener-test".to_owned(),
    };
    adapter_kafka::ensure_topic(&config.brokers, &config.topic, TIMEOUT)
        .await
        .unwrap();
    let deleted = |code: &str| LinkEvent::Deleted(ShortCode::parse(code).unwrap());
    let events = KafkaLinkEvents::new(&config).unwrap();
    events.publish(deleted("before00"));
    events.flush(TIMEOUT).unwrap();

    let told = Arc::new(Told::default());
    // Made on this task, which has the tokio context librdkafka's consumer needs (it blocks
    // the task while it asks the broker, which a test can afford).
    let listener = LinkEventListener::new(&config, Arc::clone(&told) as _, TIMEOUT).unwrap();
    let after: Vec<LinkEvent> = (0..20).map(|n| deleted(&format!("after{n:03}"))).collect();
    for event in &after {
        events.publish(*event);
    }
    events.flush(TIMEOUT).unwrap();

    let (stop, stopped) = async_std::channel::bounded::<()>(1);
    let following = async_std::task::spawn(listener.run_until(async move {
        let _ = stopped.recv().await;
    }));
    wait::until("the listener to follow the 20 events", 300, || async {
        (told.0.lock().unwrap().len() >= after.len()).then_some(())
    })
    .await;
    stop.send(()).await.unwrap();
    following.await;
    // Order holds per code (per partition), not across the topic.
    let mut followed = told.0.lock().unwrap().clone();
    followed.sort_by_key(|LinkEvent::Deleted(code)| code.as_str().to_owned());
    assert_eq!(followed, after);
}

/// The clicks each link has in the database: its counter, which the consumer grows by exactly
/// the rows it adds.
async fn totals(db: &sea_orm::DatabaseConnection) -> std::collections::BTreeMap<String, i64> {
    use sea_orm::{ConnectionTrait, Statement};
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT short_code, clicks FROM link_click_totals",
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|row| {
        (
            row.try_get_by_index::<String>(0).unwrap(),
            row.try_get_by_index::<i64>(1).unwrap(),
        )
    })
    .collect()
}

async fn rows(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) FROM clicks",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[async_std::test]
async fn consumers_in_one_group_count_exactly_through_a_kill_and_a_new_member() {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use adapter_kafka::{KafkaClickPublisher, PublisherConfig};
    use application::ports::ClickPublisher;
    use domain::{ClickEvent, ShortCode, Visit};
    use integration_tests::kafka::TestKafka;
    use integration_tests::postgres::TestDatabase;
    use integration_tests::process::Log;

    const LINKS: usize = 60;
    const CLICKS_PER_LINK: usize = 500;
    const CLICKS: usize = LINKS * CLICKS_PER_LINK;

    let (db, kafka) = (
        TestDatabase::create().await,
        TestKafka::with_partitions(6).await,
    );
    let conn = db.connect().await;
    // The shipped configuration on this test's topics and group, in small batches (so a kill
    // lands between commits with work in flight) and with a short session (so the group
    // notices the killed member within seconds).
    let config = crate::stack::for_tests(
        include_str!("../../bootstrap/etc/analytics-consumer.yaml"),
        &kafka,
    )
    .replace("batch_size: 2000", "batch_size: 100")
    .replace("session_timeout_ms: 10000", "session_timeout_ms: 6000");
    let path = std::env::temp_dir().join(format!("{}.yaml", kafka.group()));
    std::fs::write(&path, config).unwrap();
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("KAFKA_BROKERS", kafka.brokers.clone()),
        ("DEV_ADDR", "127.0.0.1:0".to_owned()),
    ];
    let consumer = || {
        Service::start_with(
            "analytics-consumer",
            &path.display().to_string(),
            &vars,
            Log::Discard,
        )
    };
    let mut group: Vec<Service> = (0..3).map(|_| consumer()).collect();

    // 60 links' clicks, keyed by code: spread over the six partitions, each link's in order.
    // Half before the kill, half after it: the kill lands mid-stream whatever the speed.
    let codes: Vec<String> = (0..LINKS).map(|i| format!("grp{i:05}")).collect();
    let publisher = KafkaClickPublisher::new(&PublisherConfig {
        brokers: kafka.brokers.clone(),
        topic: kafka.topic.clone(),
        client_id: "test".into(),
    })
    .unwrap();
    let publish = |clicks: std::ops::Range<usize>| {
        for i in clicks {
            let code = ShortCode::parse(&codes[i % LINKS]).unwrap();
            let visit = Visit::new(Some("127.0.0.1".parse().unwrap()), Some("curl/8"), None);
            publisher
                .publish(ClickEvent::new(code, visit, chrono::Utc::now()))
                .unwrap();
        }
        publisher.flush(Duration::from_secs(60)).unwrap();
    };
    publish(0..CLICKS / 2);

    // One member dies without a word while it works, and a new one joins.
    let counted = |totals: &std::collections::BTreeMap<String, i64>| totals.values().sum::<i64>();
    wait::until("a tenth of the clicks counted", 600, || async {
        (counted(&totals(&conn).await) >= (CLICKS / 10) as i64).then_some(())
    })
    .await;
    group.remove(0).kill();
    group.push(consumer());
    publish(CLICKS / 2..CLICKS);
    assert_eq!(
        publisher.counts().delivered.load(Ordering::Relaxed),
        CLICKS as u64
    );

    let settled = wait::until("every click counted", 1200, || async {
        let totals = totals(&conn).await;
        (counted(&totals) >= CLICKS as i64).then_some(totals)
    })
    .await;
    for member in group {
        member.terminate();
    }
    let _ = std::fs::remove_file(&path);

    // Exact: every link has each of its clicks once, none lost and none twice.
    assert_eq!(settled.len(), LINKS);
    for (code, clicks) in &settled {
        assert_eq!(*clicks, CLICKS_PER_LINK as i64, "{code}");
    }
    assert_eq!(counted(&totals(&conn).await), CLICKS as i64);
    assert_eq!(rows(&conn).await, CLICKS as i64);
}
