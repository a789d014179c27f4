//! analytics-consumer's pipeline, wired as the binary wires it, running in this process.

use std::sync::Arc;
use std::time::Duration;

use adapter_geoip::MmdbGeoLocator;
use adapter_kafka::{ClickConsumer, ConsumerConfig, ConsumerCounts};
use adapter_postgres::PgClickStore;
use application::{IngestClicks, IngestService};
use async_std::channel::{Sender, bounded};
use async_std::task::JoinHandle;
use sea_orm::DatabaseConnection;

use crate::geoip;
use crate::kafka::TestKafka;

pub struct RunningConsumer {
    stop: Sender<()>,
    running: JoinHandle<()>,
    pub counts: Arc<ConsumerCounts>,
}

impl RunningConsumer {
    /// Joins the test's consumer group on its topic and consumes into `db`.
    pub async fn start(kafka: &TestKafka, db: &DatabaseConnection, batch_size: usize) -> Self {
        let geo = MmdbGeoLocator::open(&geoip::database()).expect("GeoIP database");
        let ingest: Arc<dyn IngestClicks> =
            Arc::new(IngestService::new(PgClickStore::new(db), geo));
        let consumer = ClickConsumer::new(
            ConsumerConfig {
                brokers: kafka.brokers.clone(),
                topic: kafka.topic.clone(),
                group_id: kafka.group(),
                batch_size,
                batch_wait: Duration::from_millis(50),
                session_timeout: Duration::from_secs(10),
                dead_letter_topic: kafka.dead_letter_topic(),
                stall_timeout: Duration::from_secs(60),
            },
            ingest,
        )
        .expect("consumer");
        let counts = consumer.counts();
        let (stop, stopped) = bounded::<()>(1);
        let running = async_std::task::spawn(consumer.run_until(async move {
            let _ = stopped.recv().await;
        }));
        Self {
            stop,
            running,
            counts,
        }
    }

    /// The graceful path: SIGTERM's.
    pub async fn stop(self) {
        let _ = self.stop.send(()).await;
        self.running.await;
    }

    /// The crash path: the consumer is dropped wherever it is, nothing finishes or commits.
    pub async fn kill(self) {
        self.running.cancel().await;
    }
}
