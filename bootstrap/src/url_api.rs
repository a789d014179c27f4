//! url-api: the HTTP link service, wired.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_grpc::{ClientConfig, GrpcAnalytics};
use adapter_http::HttpServer;
use adapter_kafka::{
    KafkaClickPublisher, KafkaLinkEvents, LinkEventListener, LinkEventsConfig, PublisherConfig,
    ensure_topic,
};
use adapter_postgres::{PgKeyStore, PgUrlRepo};
use adapter_resilience::{Guard, Resilient};
use application::LinkCopies;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::UrlApiConfig;
use crate::link_api::{self, Bound, Outbound};
use crate::{StartError, telemetry};

/// A url-api that is bound and ready to serve.
pub struct UrlApi {
    server: HttpServer,
    addr: SocketAddr,
    dev_addr: SocketAddr,
    publisher: Arc<KafkaClickPublisher>,
    link_events: Arc<KafkaLinkEvents>,
    /// The link-events listener, and what stops it.
    following: (watch::Sender<bool>, JoinHandle<()>),
    flush_timeout: Duration,
}

impl UrlApi {
    /// Wires the ports and binds the listener. Nothing here waits for a dependency: the
    /// database pool, the Kafka producer and the gRPC channel all connect lazily, and the
    /// link-events listener starts following when Kafka answers, so url-api starts while they
    /// are down and recovers when they come up.
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
        let link_events_config = LinkEventsConfig {
            brokers: config.kafka.brokers.clone(),
            topic: config.link_events_topic.clone(),
            client_id: "url-api".into(),
        };
        let link_events = Arc::new(
            KafkaLinkEvents::new(&link_events_config)
                .map_err(|e| StartError(format!("KAFKA_BROKERS: {e}")))?,
        );
        let analytics = GrpcAnalytics::new(&ClientConfig {
            url: config.analytics_rpc_url.clone(),
            timeout: config.analytics_timeout,
            token: config.analytics_rpc_token.clone(),
        })
        .map_err(|e| StartError(format!("ANALYTICS_RPC_URL: {e}")))?;

        // Outbound: every port is timeout -> adaptive breaker -> adapter. The publishers only
        // enqueue, so they have no timeout; a link event can't fail its delete, so it has no
        // breaker either.
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
            link_events: Arc::clone(&link_events),
        };
        let Bound {
            server,
            addr,
            cached_links,
        } = link_api::bind(config.api, outbound).await?;
        let (stop, stopping) = watch::channel(false);
        let following = tokio::spawn(follow_link_events(
            link_events_config,
            Arc::new(cached_links),
            stopping,
        ));
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
            link_events,
            following: (stop, following),
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
    /// click and link event to Kafka (up to the flush timeout) and returns.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let engine = self.server.engine();
        tracing::info!(addr = %self.addr, dev_addr = %self.dev_addr, %engine, "url-api listening");
        self.server.serve(shutdown).await;
        let (stop, mut following) = self.following;
        let _ = stop.send(true);
        // A listener still waiting for Kafka may be inside a 5 s attempt: it is dropped,
        // not waited for, so that shutdown doesn't wait on a broker that is away.
        if tokio::time::timeout(Duration::from_secs(1), &mut following)
            .await
            .is_err()
        {
            following.abort();
        }
        let (publisher, link_events, timeout) =
            (self.publisher, self.link_events, self.flush_timeout);
        // librdkafka's flush blocks its thread until delivery or the timeout.
        let flushed = tokio::task::spawn_blocking(move || {
            let deletes = link_events.flush(timeout);
            (publisher.flush(timeout), deletes)
        })
        .await;
        match flushed {
            Ok((clicks, deletes)) => {
                match clicks {
                    Ok(()) => tracing::info!("click events flushed"),
                    Err(e) => {
                        tracing::error!(error = %e, "click events still queued at shutdown are lost");
                    }
                }
                if let Err(e) = deletes {
                    // The other replicas' copies expire within the cache's TTL.
                    tracing::warn!(error = %e, "link events still queued at shutdown are lost");
                }
            }
            Err(e) => tracing::error!(error = %e, "the flush did not finish"),
        }
        tracing::info!("url-api stopped");
    }
}

/// Follows link events from other replicas into the cache, from when Kafka first answers
/// (made sure of every second until then: the topic, its partitions) until `stopping`.
async fn follow_link_events(
    config: LinkEventsConfig,
    copies: Arc<dyn LinkCopies>,
    mut stopping: watch::Receiver<bool>,
) {
    const TIMEOUT: Duration = Duration::from_secs(5);
    let mut attempts = 0_u32;
    let listener = loop {
        let result = match ensure_topic(&config.brokers, &config.topic, TIMEOUT).await {
            Ok(()) => {
                let (config, copies) = (config.clone(), Arc::clone(&copies));
                // Reading the topic's partitions blocks.
                tokio::task::spawn_blocking(move || {
                    LinkEventListener::new(&config, copies, TIMEOUT).map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
            }
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(listener) => break listener,
            // Once, then once a minute: Kafka being away is logged by its probe too.
            Err(error) if attempts.is_multiple_of(60) => {
                tracing::warn!(
                    %error,
                    "not following link events yet: deletes through other replicas are seen when cached links expire"
                );
            }
            Err(_) => {}
        }
        attempts += 1;
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    };
    listener
        .run_until(async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        })
        .await;
}
