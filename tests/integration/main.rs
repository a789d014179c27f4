//! One test binary for everything that needs real services (zero2prod's layout): each module
//! is one adapter or one API, each test gets a fresh database.

// A failing fixture must stop the test.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

mod http_api;
mod pg_url_repo;
mod url_api_app;
