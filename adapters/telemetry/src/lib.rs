//! What an operator sees of a process from outside: Prometheus metrics, recorded through the
//! OpenTelemetry API by every adapter and exported here, and the dev server that serves them
//! with a truthful `/healthz`.

mod dev_server;
mod metrics;
mod probe;
mod traces;

pub use dev_server::DevServer;
pub use metrics::Metrics;
pub use probe::{Probe, Probes};
pub use traces::{install_propagator, install_tracing};
