//! The HTTP API of url-api on tide: one module per group of routes, problem+json errors, and a
//! server loop that drains in-flight requests on shutdown.

mod body;
mod links;
mod metrics;
mod problem;
mod query;
mod redirect;
mod request_span;
mod server;
mod shorten;
mod state;

pub use server::HttpServer;
pub use state::{HttpSettings, State};

use std::sync::Arc;

use application::Links;

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
    app.at("/api/v1/urls").post(shorten::shorten);
    app.at("/api/v1/links").get(links::list);
    app.at("/api/v1/links/:code")
        .get(links::detail)
        .delete(links::delete);
    app.at("/:code")
        .get(redirect::redirect)
        .head(redirect::head);
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
