//! Wiring: configuration, then each binary's `build` (which binds and returns a handle with the
//! bound address) and `run_until` (which serves until a shutdown future completes). The binaries
//! and the tests start the services through exactly these functions.

pub mod admin;
pub mod analytics_consumer;
pub mod analytics_rpc;
pub mod config;
mod geo;
mod link_api;
pub mod logging;
pub mod main_support;
pub mod shortener;
pub mod shutdown;
mod telemetry;
pub mod url_api;

use std::fmt;

/// Why a service could not start: one line naming the setting or dependency at fault.
#[derive(Debug)]
pub struct StartError(pub(crate) String);

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}
