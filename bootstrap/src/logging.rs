//! Logs to stderr, filtered by the validated `RUST_LOG`/`log` setting.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests start several services) do nothing.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into files or collectors.
        .with_ansi(std::io::stderr().is_terminal())
        // Otherwise a failed log write is reported with eprintln!, which panics when stderr
        // itself is the broken pipe: a log collector going away must not kill the service.
        .log_internal_errors(false)
        .try_init();
}
