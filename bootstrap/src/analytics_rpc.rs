//! analytics-rpc: click counts and stats over gRPC, wired.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use adapter_postgres::PgStatsStore;
use application::AnalyticsService;
use tokio::net::TcpListener;

use crate::StartError;
use crate::config::AnalyticsRpcConfig;

/// An analytics-rpc that is bound and ready to serve.
pub struct AnalyticsRpc {
    listener: TcpListener,
    addr: SocketAddr,
    analytics: Arc<AnalyticsService<PgStatsStore>>,
}

impl AnalyticsRpc {
    /// Wires the stats store (lazy pool) and binds the listener.
    ///
    /// # Errors
    /// When the database URL is unusable or the address can't be bound.
    pub async fn build(config: AnalyticsRpcConfig) -> Result<Self, StartError> {
        let db = adapter_postgres::connect(&config.database)
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
        Ok(Self {
            listener,
            addr,
            analytics: Arc::new(AnalyticsService::new(PgStatsStore::new(db))),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes; calls in flight finish first.
    ///
    /// # Errors
    /// When the server fails while running.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
        tracing::info!(addr = %self.addr, "analytics-rpc listening");
        adapter_grpc::serve(self.listener, self.analytics, shutdown)
            .await
            .map_err(|e| StartError(format!("gRPC server failed: {e}")))?;
        tracing::info!("analytics-rpc stopped");
        Ok(())
    }
}
