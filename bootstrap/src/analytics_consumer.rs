//! analytics-consumer: click events from Kafka into PostgreSQL, wired.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_kafka::{ClickConsumer, ConsumerConfig};
use adapter_postgres::PgClickStore;
use adapter_resilience::{Guard, Resilient};
use adapter_telemetry::Probe;
use application::{IngestClicks, IngestService};

use crate::config::AnalyticsConsumerConfig;
use crate::{StartError, geo, telemetry};

/// How long start-up waits for Kafka to confirm the topic exists before going on anyway.
const TOPIC_TIMEOUT: Duration = Duration::from_secs(10);

/// An analytics-consumer that has joined its group.
pub struct AnalyticsConsumer {
    consumer: ClickConsumer,
    dev_addr: SocketAddr,
}

impl AnalyticsConsumer {
    /// Loads the GeoIP database, wires the click store, makes sure the topic exists and joins
    /// the consumer group.
    ///
    /// # Errors
    /// When the GeoIP database can't be loaded or a Kafka or database setting is unusable.
    pub async fn build(config: AnalyticsConsumerConfig) -> Result<Self, StartError> {
        let metrics = telemetry::install_metrics("analytics-consumer")?;
        let geo = geo::locator(config.geoip_database.as_deref())?;
        let db = adapter_postgres::connect(&config.database.pool)
            .await
            .map_err(|e| StartError(format!("DATABASE_URL: {e}")))?;
        // Outbound: timeout -> adaptive breaker -> adapter. (The GeoIP lookup is in memory.)
        let store = Resilient::new(
            PgClickStore::new(&db),
            Guard::for_dependency("postgres:clicks", Some(config.database.query_timeout)),
        );
        let ingest: Arc<dyn IngestClicks> = Arc::new(IngestService::new(store, geo));
        for topic in [&config.kafka.topic, &config.dead_letter_topic] {
            if let Err(e) =
                adapter_kafka::ensure_topic(&config.kafka.brokers, topic, TOPIC_TIMEOUT).await
            {
                // Not fatal: the broker may create it on first use, or come up later.
                tracing::warn!(error = %e, %topic, "could not make sure the topic exists");
            }
        }
        let consumer = ClickConsumer::new(
            ConsumerConfig {
                brokers: config.kafka.brokers,
                topic: config.kafka.topic,
                group_id: config.group_id,
                batch_size: config.batch_size,
                batch_wait: config.batch_wait,
                session_timeout: config.session_timeout,
                dead_letter_topic: config.dead_letter_topic,
                stall_timeout: config.stall_timeout,
            },
            ingest,
        )
        .map_err(|e| StartError(format!("KAFKA_BROKERS: {e}")))?;
        let progress = consumer.progress_check();
        let probes = vec![
            telemetry::database_probe(db),
            telemetry::blocking_probe("kafka", consumer.brokers_check()),
            Probe::new("consumer", move || std::future::ready(progress())),
        ];
        let dev_addr = telemetry::serve_dev(config.common.dev_addr, metrics, probes).await?;
        Ok(Self { consumer, dev_addr })
    }

    /// Consumes until `shutdown` completes; the batch in hand is stored and committed first.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        tracing::info!(dev_addr = %self.dev_addr, "analytics-consumer consuming");
        self.consumer.run_until(shutdown).await;
    }
}
