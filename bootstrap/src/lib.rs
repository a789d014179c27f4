//! Wiring: configuration, then each binary's `build` (which binds and returns a handle with the
//! bound address) and `run_until` (which serves until a shutdown future completes). Tests start
//! the services through exactly these functions.

pub mod config;
pub mod logging;
mod placeholders;
pub mod shutdown;
pub mod url_api;
