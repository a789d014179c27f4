//! The HTTP API of url-api on tide: one module per group of routes, problem+json errors, and a
//! server loop that drains in-flight requests on shutdown.

mod body;
mod link_path;
mod links;
mod metrics;
mod openapi;
mod problem;
mod query;
mod redirect;
mod request_span;
mod routes;
mod server;
mod shorten;
mod state;

pub use server::HttpServer;
pub use state::{HttpSettings, State};

/// The query string of `GET /api/v1/links` (without the `?`; `None` when there is none) as the
/// route reads it: the query, or the `detail` of the 400 it answers with. Public for the fuzzer.
///
/// # Errors
/// Why the query is refused, as the client is told.
pub fn parse_link_query(raw: Option<&str>) -> Result<domain::LinkQuery, String> {
    query::link_query(raw).map_err(|problem| problem.detail().to_owned())
}

use std::sync::Arc;

use application::Links;

use crate::routes::Endpoint;

/// Middleware the server runs around every route, outermost first (the resilience guards).
pub type Guards = Vec<Box<dyn tide::Middleware<State>>>;

/// The routes of DESIGN.md's HTTP API over a `Links` driving port, inside `guards`.
pub(crate) fn app(
    links: Arc<dyn Links>,
    settings: HttpSettings,
    guards: Guards,
) -> tide::Server<State> {
    let mut app = tide::with_state(State::new(links, settings));
    // Outermost, as go-zero's trace and Prometheus handlers sit outside its guards: their
    // refusals are traced and counted too.
    app.with(request_span::RequestSpan);
    app.with(metrics::RequestMetrics::new());
    app.with(problem::fill_empty_errors);
    for guard in guards {
        app.with(Boxed(guard));
    }
    for route in routes::ROUTES {
        let mut at = app.at(route.pattern);
        match route.endpoint {
            Endpoint::Shorten => at.method(route.method, shorten::shorten),
            Endpoint::ListLinks => at.method(route.method, links::list),
            Endpoint::LinkDetail => at.method(route.method, links::detail),
            Endpoint::DeleteLink => at.method(route.method, links::delete),
            Endpoint::OpenApi => at.method(route.method, openapi::document),
            Endpoint::Redirect => at.method(route.method, redirect::redirect),
            Endpoint::Probe => at.method(route.method, redirect::head),
        };
    }
    app
}

/// tide takes middleware by type; this lets a list of them be chosen at start-up.
struct Boxed(Box<dyn tide::Middleware<State>>);

#[tide::utils::async_trait]
impl tide::Middleware<State> for Boxed {
    async fn handle(&self, req: tide::Request<State>, next: tide::Next<'_, State>) -> tide::Result {
        self.0.handle(req, next).await
    }
}

#[cfg(test)]
mod tests;
