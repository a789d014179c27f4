//! Shared fixtures for the integration tests: real services, never mocks.

// Fixtures fail loudly: a test that can't get its database must stop, not limp on.
#![allow(clippy::expect_used, clippy::panic)]

pub mod consumer;
pub mod geoip;
pub mod kafka;
pub mod metrics;
pub mod nginx;
pub mod postgres;
pub mod private;
pub mod process;
pub mod report;
pub mod stores;
pub mod wait;
