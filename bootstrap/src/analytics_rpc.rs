//! analytics-rpc: click counts and stats over gRPC, wired.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use adapter_grpc::{CallLimits, Callers};
use adapter_postgres::PgStatsStore;
use adapter_resilience::{Guard, Resilient};
use application::AnalyticsService;
use tokio::net::TcpListener;

use crate::config::{AnalyticsRpcConfig, GuardsConfig};
use crate::{StartError, telemetry};

/// An analytics-rpc that is bound and ready to serve.
pub struct AnalyticsRpc {
    listener: TcpListener,
    addr: SocketAddr,
    dev_addr: SocketAddr,
    analytics: Arc<AnalyticsService<Resilient<PgStatsStore>>>,
    guards: GuardsConfig,
    token: Option<adapter_grpc::RpcToken>,
}

impl AnalyticsRpc {
    /// Wires the stats store (lazy pool) and binds the listener.
    ///
    /// # Errors
    /// When the database URL is unusable or the address can't be bound.
    pub async fn build(config: AnalyticsRpcConfig) -> Result<Self, StartError> {
        let metrics = telemetry::install_metrics("analytics-rpc")?;
        let db = adapter_postgres::connect(&config.database.pool)
            .await
            .map_err(|e| StartError(format!("DATABASE_URL: {e}")))?;
        let listener = TcpListener::bind(config.grpc_addr).await.map_err(|e| {
            StartError(format!(
                "GRPC_ADDR: cannot listen on {}: {e}",
                config.grpc_addr
            ))
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError(format!("GRPC_ADDR: {e}")))?;
        // Outbound: timeout -> adaptive breaker -> adapter.
        let stats = Resilient::new(
            PgStatsStore::new(db.clone()),
            Guard::for_dependency(
                "postgres:click_counters",
                Some(config.database.query_timeout),
            ),
        );
        let probes = vec![
            telemetry::database_probe(db),
            telemetry::listener_probe(addr),
        ];
        let dev_addr = telemetry::serve_dev(config.common.dev_addr, metrics, probes).await?;
        Ok(Self {
            listener,
            addr,
            dev_addr,
            analytics: Arc::new(AnalyticsService::new(stats)),
            guards: config.guards,
            token: config.token,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `/metrics` and `/healthz` are served.
    pub fn dev_addr(&self) -> SocketAddr {
        self.dev_addr
    }

    /// Serves until `shutdown` completes; calls in flight finish first.
    ///
    /// # Errors
    /// When the server fails while running.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
        tracing::info!(addr = %self.addr, dev_addr = %self.dev_addr, "analytics-rpc listening");
        // Inbound: the gRPC adapter builds its own pipeline from these values.
        let limits = CallLimits {
            timeout: self.guards.timeout,
            shed_above_cpu: self.guards.shedding.then_some(self.guards.cpu_threshold),
        };
        let callers = Callers { token: self.token };
        adapter_grpc::serve(self.listener, self.analytics, limits, callers, shutdown)
            .await
            .map_err(|e| StartError(format!("gRPC server failed: {e}")))?;
        tracing::info!("analytics-rpc stopped");
        Ok(())
    }
}
