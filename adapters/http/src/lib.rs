//! The HTTP API of url-api on tide: one module per group of routes, problem+json errors, and a
//! server loop that drains in-flight requests on shutdown.

mod body;
mod links;
mod problem;
mod query;
mod redirect;
mod server;
mod shorten;
mod state;

pub use server::HttpServer;
pub use state::HttpSettings;

use std::sync::Arc;

use application::Links;

use crate::state::State;

/// The routes of DESIGN.md's HTTP API over a `Links` driving port.
pub(crate) fn app(links: Arc<dyn Links>, settings: HttpSettings) -> tide::Server<State> {
    let mut app = tide::with_state(State::new(links, settings));
    app.with(problem::fill_empty_errors);
    app.at("/api/v1/urls").post(shorten::shorten);
    app.at("/api/v1/links").get(links::list);
    app.at("/api/v1/links/:code")
        .get(links::detail)
        .delete(links::delete);
    app.at("/:code").get(redirect::redirect);
    app
}

#[cfg(test)]
mod tests;
