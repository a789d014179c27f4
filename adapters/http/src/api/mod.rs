//! What url-api answers, engine-neutral: the route table, the handlers, and everything between
//! a routed request and its response (who the caller is, the budget it spends, the problem
//! every error becomes). An engine routes a request here with [`Api::answer`]; nothing here
//! names tide or axum.

mod auth;
pub(crate) mod body;
mod client_ip;
mod link_path;
mod links;
pub(crate) mod openapi;
pub(crate) mod problem;
pub(crate) mod query;
mod rate_limits;
mod redirect;
pub(crate) mod routes;
mod shorten;

use std::future::Future;
use std::sync::Arc;

use application::Links;
use bytes::Bytes;
use domain::{Caller, ShortCode};
use http::Response;
use http::request::Parts;

pub(crate) use body::BoxError;
pub(crate) use client_ip::Peer;

use self::routes::Endpoint;
use crate::settings::HttpSettings;

/// The use cases and settings every request is answered with: cheap to clone, shared by
/// every request of either engine.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) links: Arc<dyn Links>,
    pub(crate) settings: Arc<HttpSettings>,
}

impl Api {
    pub(crate) fn new(links: Arc<dyn Links>, mut settings: HttpSettings) -> Self {
        let trimmed = settings.base_url.trim_end_matches('/').len();
        settings.base_url.truncate(trimmed);
        Self {
            links,
            settings: Arc::new(settings),
        }
    }

    /// The answer to a request an engine routed to `endpoint`: on every route that isn't
    /// public, who the caller is (or 401); then the route's budget spent (or 429); then the
    /// handler. `body` is read only by the routes that take one.
    pub(crate) async fn answer<B>(
        &self,
        endpoint: Endpoint,
        head: &Parts,
        body: B,
    ) -> Response<Bytes>
    where
        B: Future<Output = Result<Bytes, BoxError>>,
    {
        let client = client_ip::client_ip(head, self.settings.trusted_proxies);
        let caller = if endpoint.is_public() {
            Caller::Anonymous
        } else {
            match auth::authenticate(self, endpoint, head, client).await {
                Ok(caller) => caller,
                Err(refused) => return refused,
            }
        };
        let mut allowance = None;
        if let Some(budget) = endpoint.budget() {
            match self.links.admit(budget, caller, client) {
                Ok(admitted) => allowance = admitted.map(|a| (budget, a)),
                Err(throttled) => return rate_limits::too_many(budget, throttled),
            }
        }
        let mut res = match endpoint {
            Endpoint::Shorten => shorten::shorten(self, caller, head, body).await,
            Endpoint::ListLinks => links::list(self, caller, head).await,
            Endpoint::LinkDetail => links::detail(self, caller, head).await,
            Endpoint::DeleteLink => links::delete(self, caller, head).await,
            Endpoint::OpenApi => openapi::document(),
            Endpoint::Redirect => redirect::redirect(self, head, client).await,
            Endpoint::Probe => redirect::head(self, head).await,
        };
        if let Some((budget, allowance)) = allowance {
            rate_limits::label(
                res.headers_mut(),
                budget,
                allowance.quota,
                allowance.remaining,
                allowance.full_in,
            );
        }
        res
    }

    fn short_url(&self, code: ShortCode) -> String {
        format!("{}/{code}", self.settings.base_url)
    }

    fn link_url(&self, code: ShortCode) -> String {
        format!("{}/api/v1/links/{code}", self.settings.base_url)
    }
}
