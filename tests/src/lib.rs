//! Shared fixtures for the integration tests: real services, never mocks.

// Fixtures fail loudly: a test that can't get its database must stop, not limp on.
#![allow(clippy::expect_used, clippy::panic)]

pub mod postgres;
