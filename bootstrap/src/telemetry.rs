//! The operator's view of each binary: metrics installed before any adapter creates its
//! instruments, and the dev server with the binary's readiness probes.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

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

/// A probe from an async check over a cloneable handle (a database pool).
pub(crate) fn probe<H, F, Fut>(name: &'static str, handle: H, check: F) -> Probe
where
    H: Clone + Send + Sync + 'static,
    F: Fn(H) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Probe::new(name, move || check.clone()(handle.clone()))
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
