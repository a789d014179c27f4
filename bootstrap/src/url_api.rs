//! url-api: the HTTP link service, wired.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_grpc::{ClientConfig, GrpcAnalytics};
use adapter_http::HttpServer;
use adapter_kafka::{KafkaClickPublisher, PublisherConfig};
use adapter_postgres::{PgKeyStore, PgUrlRepo};
use adapter_resilience::{Guard, Resilient};

use crate::config::UrlApiConfig;
use crate::link_api::{self, Outbound};
use crate::{StartError, telemetry};

/// A url-api that is bound and ready to serve.
pub struct UrlApi {
    server: HttpServer,
    addr: SocketAddr,
    dev_addr: SocketAddr,
    publisher: Arc<KafkaClickPublisher>,
    flush_timeout: Duration,
}

impl UrlApi {
    /// Wires the ports and binds the listener. Nothing here waits for a dependency: the
    /// database pool, the Kafka producer and the gRPC channel all connect lazily, so url-api
    /// starts while they are down and recovers when they come up.
    ///
    /// # Errors
    /// When a URL is unusable or the address can't be bound.
    pub async fn build(config: UrlApiConfig) -> Result<Self, StartError> {
        let metrics = telemetry::install_metrics("url-api")?;
        let db = adapter_postgres::connect(&config.database.pool)
            .await
            .map_err(|e| StartError(format!("DATABASE_URL: {e}")))?;
        let publisher = Arc::new(
            KafkaClickPublisher::new(&PublisherConfig {
                brokers: config.kafka.brokers.clone(),
                topic: config.kafka.topic.clone(),
                client_id: "url-api".into(),
            })
            .map_err(|e| StartError(format!("KAFKA_BROKERS: {e}")))?,
        );
        let analytics = GrpcAnalytics::new(&ClientConfig {
            url: config.analytics_rpc_url.clone(),
            timeout: config.analytics_timeout,
            token: config.analytics_rpc_token.clone(),
        })
        .map_err(|e| StartError(format!("ANALYTICS_RPC_URL: {e}")))?;

        // Outbound: every port is timeout -> adaptive breaker -> adapter. The publisher only
        // enqueues, so it has no timeout.
        let outbound = Outbound {
            repo: Resilient::new(
                PgUrlRepo::new(db.clone()),
                Guard::for_dependency("postgres:urls", Some(config.database.query_timeout)),
            ),
            keys: Resilient::new(
                PgKeyStore::new(db.clone()),
                Guard::for_dependency("postgres:api_keys", Some(config.database.query_timeout)),
            ),
            publisher: Resilient::new(
                Arc::clone(&publisher),
                Guard::for_dependency(&format!("kafka:{}", config.kafka.topic), None),
            ),
            analytics: Resilient::new(
                analytics,
                Guard::for_dependency(
                    &format!(
                        "grpc:{}/analytics.v1.Analytics/GetClickCount",
                        config.analytics_rpc_url.trim_end_matches('/')
                    ),
                    Some(config.analytics_timeout),
                ),
            ),
        };
        let (server, addr) = link_api::bind(config.api, outbound).await?;
        let checked = Arc::clone(&publisher);
        let probes = vec![
            telemetry::database_probe(db),
            telemetry::blocking_probe("kafka", move |timeout| checked.check_brokers(timeout)),
            telemetry::listener_probe(addr),
        ];
        let dev_addr = telemetry::serve_dev(config.common.dev_addr, metrics, probes).await?;
        Ok(Self {
            server,
            addr,
            dev_addr,
            publisher,
            flush_timeout: config.flush_timeout,
        })
    }

    /// The address actually bound (the real port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `/metrics` and `/healthz` are served.
    pub fn dev_addr(&self) -> SocketAddr {
        self.dev_addr
    }

    /// Serves until `shutdown` completes, drains in-flight requests, then hands every queued
    /// click to Kafka (up to the flush timeout) and returns.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let engine = self.server.engine();
        tracing::info!(addr = %self.addr, dev_addr = %self.dev_addr, %engine, "url-api listening");
        self.server.serve(shutdown).await;
        let (publisher, timeout) = (self.publisher, self.flush_timeout);
        // librdkafka's flush blocks its thread until delivery or the timeout.
        match tokio::task::spawn_blocking(move || publisher.flush(timeout)).await {
            Ok(Ok(())) => tracing::info!("click events flushed"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "click events still queued at shutdown are lost");
            }
            Err(e) => tracing::error!(error = %e, "the flush did not finish"),
        }
        tracing::info!("url-api stopped");
    }
}
