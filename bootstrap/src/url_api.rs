//! url-api: the HTTP link service, wired.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_cache::{CachedKeyStore, CachedUrlRepo};
use adapter_grpc::{ClientConfig, GrpcAnalytics};
use adapter_http::{HttpServer, HttpSettings, RequestLimits};
use adapter_kafka::{KafkaClickPublisher, PublisherConfig};
use adapter_postgres::{PgKeyStore, PgUrlRepo};
use adapter_ratelimit::GovernorLimiter;
use adapter_resilience::{Guard, Resilient};
use application::LinkService;
use application::ports::{RandomCodes, RateLimiter, SystemClock, Unlimited};
use application::use_cases::ShortenRules;

use crate::config::UrlApiConfig;
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

        let limiter: Arc<dyn RateLimiter> = match config.rate_limits {
            Some(settings) => Arc::new(
                GovernorLimiter::new(settings)
                    .map_err(|e| StartError(format!("rate_limits: {e}")))?,
            ),
            None => Arc::new(Unlimited),
        };

        // Outbound: every port is timeout -> adaptive breaker -> adapter. The publisher only
        // enqueues, so it has no timeout. Links and valid keys are read through in-process
        // caches first, so a hit touches neither the breaker nor the database.
        let links = LinkService {
            repo: CachedUrlRepo::new(
                Resilient::new(
                    PgUrlRepo::new(db.clone()),
                    Guard::for_dependency("postgres:urls", Some(config.database.query_timeout)),
                ),
                config.cache,
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
            codes: RandomCodes,
            clock: SystemClock,
            keys: CachedKeyStore::new(
                Resilient::new(
                    PgKeyStore::new(db.clone()),
                    Guard::for_dependency("postgres:api_keys", Some(config.database.query_timeout)),
                ),
                config.auth.key_cache_ttl,
            ),
            limiter,
            shorten_rules: ShortenRules {
                url_policy: config.url_policy,
                anonymous: config.auth.anonymous_shorten,
            },
        };

        // Inbound: the HTTP adapter builds its own pipeline from these values.
        let settings = HttpSettings {
            base_url: config.base_url,
            trust_proxy_headers: config.trust_proxy_headers,
            limits: RequestLimits {
                max_conns: config.max_conns,
                shed_above_cpu: config
                    .guards
                    .shedding
                    .then_some(config.guards.cpu_threshold),
                timeout: config.guards.timeout,
                max_body_bytes: config.max_body_bytes,
            },
            client_timeouts: config.client_timeouts,
            drain_timeout: config.drain_timeout,
        };
        let server = HttpServer::bind(config.http_addr, Arc::new(links), settings)
            .await
            .map_err(|e| {
                StartError(format!(
                    "HTTP_ADDR: cannot listen on {}: {e}",
                    config.http_addr
                ))
            })?;
        let addr = server
            .local_addr()
            .map_err(|e| StartError(format!("HTTP_ADDR: {e}")))?;
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
        tracing::info!(addr = %self.addr, dev_addr = %self.dev_addr, "url-api listening");
        self.server.serve(shutdown).await;
        let (publisher, timeout) = (self.publisher, self.flush_timeout);
        // librdkafka's flush blocks its thread until delivery or the timeout.
        match async_std::task::spawn_blocking(move || publisher.flush(timeout)).await {
            Ok(()) => tracing::info!("click events flushed"),
            Err(e) => tracing::error!(error = %e, "click events still queued at shutdown are lost"),
        }
        tracing::info!("url-api stopped");
    }
}
