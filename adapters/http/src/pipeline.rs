//! url-api's whole inbound pipeline, in one function: what happens to every request between
//! hyper's HTTP/1 (see [`crate::server`]) and a handler, outermost first.

use std::sync::{Arc, OnceLock};

use adapter_resilience::Shedder;
use application::Links;
use tide::utils::async_trait;
use tide::{Middleware, Next, Request};

use crate::auth::Authenticate;
use crate::guards::{BodyLimit, LoadShedding, MaxConns, Recover, RequestTimeout};
use crate::rate_limits::Throttle;
use crate::routes::{Endpoint, ROUTES};
use crate::state::{HttpSettings, State};
use crate::{links, metrics, openapi, problem, redirect, request_span, shorten};

/// The routes of DESIGN.md's HTTP API over a `Links` driving port, inside go-zero's guards.
pub(crate) fn app(links: Arc<dyn Links>, settings: HttpSettings) -> tide::Server<State> {
    let limits = settings.limits;
    let mut app = tide::with_state(State::new(links, settings));
    // A span per request, continuing the caller's trace; its refusals are traced too.
    app.with(request_span::RequestSpan);
    // go-zero's request metrics, labelled by the route that answered.
    app.with(metrics::RequestMetrics::new());
    // Errors that tide leaves bodiless (404, 405) get a problem body, and 405 its `Allow`.
    app.with(problem::fill_empty_errors);
    // At most `max_conns` requests in progress; the next gets 503 at once.
    app.with(MaxConns::new(limits.max_conns));
    // While this process's CPU is over the threshold, sheds what it can't finish.
    if let Some(threshold) = limits.shed_above_cpu {
        app.with(LoadShedding(Arc::new(Shedder::for_this_process(
            "http", threshold,
        ))));
    }
    // A request taking longer than the timeout gets 503.
    app.with(RequestTimeout(limits.timeout));
    // The one panic catcher: a panicking handler answers 500.
    app.with(Recover);
    // Bodies over the limit get 413, before or while they are read.
    app.with(BodyLimit(limits.max_body_bytes));
    // The handlers, from the route table: all but the public ones know their caller first,
    // and each spends its budget (the caller's key's, else the client address's).
    for route in &ROUTES {
        let mut at = app.at(route.pattern);
        at.with(Matched(route.pattern));
        if !route.endpoint.is_public() {
            at.with(Authenticate(route.endpoint.budget()));
        }
        if let Some(budget) = route.endpoint.budget() {
            at.with(Throttle(budget));
        }
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

/// Marks the route that matched a request, in the [`RouteLabel`] the outer layers gave it, as
/// soon as the route is entered: a request that then times out or panics is still labelled.
#[derive(Debug, Clone, Copy)]
struct Matched(&'static str);

#[async_trait]
impl Middleware<State> for Matched {
    async fn handle(&self, req: Request<State>, next: Next<'_, State>) -> tide::Result {
        if let Some(label) = req.ext::<RouteLabel>() {
            let _ = label.0.set(self.0);
        }
        Ok(next.run(req).await)
    }
}

/// The pattern of the route that matched a request, once it is known: metrics and spans are
/// labelled with it (never with the raw path: one series per short code would sink Prometheus).
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteLabel(Arc<OnceLock<&'static str>>);

impl RouteLabel {
    /// The request's label, given to it by the first layer that asks.
    pub(crate) fn of(req: &mut Request<State>) -> Self {
        if let Some(label) = req.ext::<Self>() {
            return label.clone();
        }
        let label = Self::default();
        req.set_ext(label.clone());
        label
    }

    /// The route's pattern, or `unmatched` when no route took the request.
    pub(crate) fn get(&self) -> &'static str {
        self.0.get().copied().unwrap_or("unmatched")
    }
}
