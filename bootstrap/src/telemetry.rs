//! The operator's view of each binary: metrics installed before any adapter creates its
//! instruments, and the dev server with the binary's readiness probes.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use adapter_postgres::DatabaseConnection;
use adapter_telemetry::{DevServer, Metrics, Probe, Probes};

use crate::StartError;

/// Installs this process's metrics (the global meter provider). Call first in `build`.
pub(crate) fn install_metrics(service: &'static str) -> Result<Metrics, StartError> {
    Metrics::install(service, env!("CARGO_PKG_VERSION")).map_err(StartError)
}

/// Binds the dev server on `DEV_ADDR` and serves it in the background; returns the bound address.
pub(crate) async fn serve_dev(
    addr: SocketAddr,
    metrics: Metrics,
    probes: Vec<Probe>,
) -> Result<SocketAddr, StartError> {
    let server = DevServer::bind(addr, metrics, Probes::new(probes))
        .await
        .map_err(|e| StartError(format!("DEV_ADDR: cannot listen on {addr}: {e}")))?;
    let bound = server
        .local_addr()
        .map_err(|e| StartError(format!("DEV_ADDR: {e}")))?;
    server.spawn();
    Ok(bound)
}

/// A probe that runs a blocking check (librdkafka's metadata request) off the async threads.
pub(crate) fn blocking_probe<F>(name: &'static str, check: F) -> Probe
where
    F: Fn(Duration) -> Result<(), String> + Clone + Send + Sync + 'static,
{
    Probe::new(name, move || {
        let check = check.clone();
        async move {
            tokio::task::spawn_blocking(move || check(Duration::from_secs(1)))
                .await
                .map_err(|e| e.to_string())?
        }
    })
}

/// The database answers a ping (through the service's own pool).
pub(crate) fn database_probe(db: DatabaseConnection) -> Probe {
    Probe::new("database", move || {
        let db = db.clone();
        async move { adapter_postgres::ping(&db).await }
    })
}

/// The embedded data file takes a statement.
pub(crate) fn sqlite_probe(db: adapter_sqlite::SqliteDb) -> Probe {
    Probe::new("database", move || {
        let db = db.clone();
        async move { db.ping().await }
    })
}

/// The service's own listener accepts connections.
pub(crate) fn listener_probe(addr: SocketAddr) -> Probe {
    let target = if addr.ip().is_unspecified() {
        SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()))
    } else {
        addr
    };
    Probe::new("listener", move || async move {
        tokio::net::TcpStream::connect(target)
            .await
            .map(|_| ())
            .map_err(|e| format!("{target}: {e}"))
    })
}
