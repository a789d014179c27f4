//! The HTTP API of url-api, on either of two engines (tide or axum), in three parts:
//! - [`api`]: what the API answers, engine-neutral: the route table, the handlers, auth, rate
//!   limit headers, problems;
//! - [`server`]: hyper's HTTP/1 with the client timeouts, and the tower pipeline of guards,
//!   metrics and spans in front of the engine;
//! - [`engine`]: tide's or axum's router from the route table to [`api`]: glue only.

mod api;
mod engine;
mod server;
mod settings;

pub use server::{ClientTimeouts, HttpServer};
pub use settings::{Engine, HttpSettings, RequestLimits};

/// The query string of `GET /api/v1/links` (without the `?`; `None` when there is none) as the
/// route reads it: the query, or the `detail` of the 400 it answers with. Public for the fuzzer.
///
/// # Errors
/// Why the query is refused, as the client is told.
pub fn parse_link_query(raw: Option<&str>) -> Result<domain::LinkQuery, String> {
    api::query::link_query(raw).map_err(|problem| problem.detail().to_owned())
}

#[cfg(test)]
mod tests;
