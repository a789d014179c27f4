//! The signals that stop a service.

use std::pin::pin;

use futures::future::{self, Either};
use tokio::signal::unix::{SignalKind, signal};

/// Completes on SIGTERM (orchestrators) or SIGINT (Ctrl-C). Must be polled inside a tokio
/// context, which every process here has.
pub async fn terminated() {
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        tracing::warn!("cannot listen for SIGTERM; only Ctrl-C stops this process");
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    let which = match future::select(pin!(term.recv()), pin!(tokio::signal::ctrl_c())).await {
        Either::Left(_) => "SIGTERM",
        Either::Right(_) => "SIGINT",
    };
    tracing::info!(signal = which, "stopping");
}
