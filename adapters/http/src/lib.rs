//! The HTTP API of url-api: tide's router and handlers (one module per group of routes), spoken
//! over hyper's HTTP/1 ([`server`], [`bridge`]), behind one inbound [`pipeline`].

mod auth;
mod body;
mod bridge;
mod client_ip;
mod deadlines;
mod guards;
mod link_path;
mod links;
mod metrics;
mod openapi;
mod pipeline;
mod problem;
mod query;
mod rate_limits;
mod redirect;
mod request_span;
mod routes;
mod server;
mod shorten;
mod state;

pub use server::HttpServer;
pub use state::{ClientTimeouts, HttpSettings, RequestLimits, State};

/// The query string of `GET /api/v1/links` (without the `?`; `None` when there is none) as the
/// route reads it: the query, or the `detail` of the 400 it answers with. Public for the fuzzer.
///
/// # Errors
/// Why the query is refused, as the client is told.
pub fn parse_link_query(raw: Option<&str>) -> Result<domain::LinkQuery, String> {
    query::link_query(raw).map_err(|problem| problem.detail().to_owned())
}

#[cfg(test)]
mod tests;
