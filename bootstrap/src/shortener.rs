//! The embedded shortener: url-api's HTTP API, click ingestion and click analytics in one
//! process, on one SQLite file. The same use cases as the three-process stack, with other
//! adapters behind the same ports: SQLite stores, an in-process click queue instead of Kafka,
//! and the analytics use cases asked directly instead of over gRPC.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_http::HttpServer;
use adapter_queue::QueuedClicks;
use adapter_resilience::{Guard, Resilient};
use adapter_sqlite::{
    SqliteClickStore, SqliteConfig, SqliteDb, SqliteKeyStore, SqliteStatsStore, SqliteUrlRepo,
};
use application::ports::NoReplicas;
use application::{AnalyticsService, IngestClicks, IngestService};

use crate::config::{ShortenerConfig, StorageConfig};
use crate::link_api::{self, Bound, Outbound};
use crate::{StartError, geo, telemetry};

/// A shortener that is bound and ready to serve.
pub struct Shortener {
    server: HttpServer,
    addr: SocketAddr,
    dev_addr: SocketAddr,
    clicks: QueuedClicks,
    draining: tokio::task::JoinHandle<()>,
    flush_timeout: Duration,
    db: SqliteDb,
}

/// Makes `DATA_DIR` when missing and opens the data file in it, its schema brought up to date.
///
/// # Errors
/// One line naming `DATA_DIR` and the file.
pub async fn open_data(storage: &StorageConfig) -> Result<SqliteDb, StartError> {
    let dir = &storage.data_dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| StartError(format!("DATA_DIR: cannot create {}: {e}", dir.display())))?;
    adapter_sqlite::open(&SqliteConfig {
        path: storage.data_file(),
        readers: storage.readers,
        busy_timeout: storage.busy_timeout,
    })
    .await
    .map_err(|e| StartError(format!("DATA_DIR: {e}")))
}

impl Shortener {
    /// Opens the data file, wires the ports, starts draining the click queue and binds the
    /// listener.
    ///
    /// # Errors
    /// When the data file, the GeoIP database or an address is unusable.
    pub async fn build(config: ShortenerConfig) -> Result<Self, StartError> {
        let metrics = telemetry::install_metrics("shortener")?;
        let geo = geo::locator(config.geoip_database.as_deref())?;
        let db = open_data(&config.storage).await?;
        // Outbound: every store is timeout -> adaptive breaker -> adapter, as in the stack;
        // the queue only enqueues, so it has no timeout.
        let guard = |name: &str| Guard::for_dependency(name, Some(config.storage.busy_timeout));
        let ingest: Arc<dyn IngestClicks> = Arc::new(IngestService::new(
            Resilient::new(SqliteClickStore::new(db.clone()), guard("sqlite:clicks")),
            geo,
        ));
        let (clicks, drain) = adapter_queue::click_queue(config.clicks);
        let outbound = Outbound {
            repo: Resilient::new(SqliteUrlRepo::new(db.clone()), guard("sqlite:urls")),
            keys: Resilient::new(SqliteKeyStore::new(db.clone()), guard("sqlite:api_keys")),
            publisher: Resilient::new(clicks.clone(), Guard::for_dependency("queue:clicks", None)),
            analytics: AnalyticsService::new(Resilient::new(
                SqliteStatsStore::new(db.clone()),
                guard("sqlite:stats"),
            )),
            // One process: its cache is the only copy of a link.
            link_events: NoReplicas,
        };
        let Bound { server, addr, .. } = link_api::bind(config.api, outbound).await?;
        // On tokio, which both engines' processes run (sqlx does too).
        let draining = tokio::spawn(async move { drain.run(ingest.as_ref()).await });
        let probes = vec![
            telemetry::sqlite_probe(db.clone()),
            telemetry::listener_probe(addr),
        ];
        let dev_addr = telemetry::serve_dev(config.common.dev_addr, metrics, probes).await?;
        Ok(Self {
            server,
            addr,
            dev_addr,
            clicks,
            draining,
            flush_timeout: config.flush_timeout,
            db,
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

    /// Serves until `shutdown` completes, drains in-flight requests, stores every queued click
    /// (up to the flush timeout), closes the data file and returns.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let engine = self.server.engine();
        tracing::info!(addr = %self.addr, dev_addr = %self.dev_addr, %engine, "shortener listening");
        self.server.serve(shutdown).await;
        // No request is left to queue a click: what is queued is all there will be.
        self.clicks.close();
        match tokio::time::timeout(self.flush_timeout, self.draining).await {
            Ok(Ok(())) => tracing::info!("queued clicks stored"),
            Ok(Err(e)) => tracing::error!(error = %e, "the click queue's drain failed"),
            Err(_) => tracing::error!(
                lost = self.clicks.pending(),
                "clicks still queued at shutdown are lost"
            ),
        }
        self.db.close().await;
        tracing::info!("shortener stopped");
    }
}
