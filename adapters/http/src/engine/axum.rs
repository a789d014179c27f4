//! axum: its router, built from the route table, on tokio.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, on};
use http_body_util::BodyExt;

use crate::api::problem::unrouted;
use crate::api::routes::{Endpoint, ROUTES};
use crate::api::{Api, BoxError};

/// The API as a tower service: axum's router.
pub(crate) fn service(api: Api) -> Router {
    let mut by_path: BTreeMap<String, MethodRouter> = BTreeMap::new();
    for route in &ROUTES {
        let Ok(filter) = MethodFilter::try_from(route.method.clone()) else {
            continue;
        };
        let (api, endpoint) = (api.clone(), route.endpoint);
        let handler = move |req: Request| handle(api, endpoint, req);
        let path = route.openapi_path();
        let methods = match by_path.remove(&path) {
            Some(methods) => methods.on(filter, handler),
            None => on(filter, handler),
        };
        by_path.insert(path, methods);
    }
    let mut router = Router::new();
    for (path, methods) in by_path {
        router = router.route(&path, methods.fallback(answer_unrouted));
    }
    router.fallback(answer_unrouted)
}

async fn handle(api: Api, endpoint: Endpoint, req: Request) -> Response {
    let (head, body) = req.into_parts();
    let read = async move {
        body.collect()
            .await
            .map(|collected| collected.to_bytes())
            .map_err(|e| -> BoxError { e.into_inner() })
    };
    api.answer(endpoint, &head, read).await.map(Body::from)
}

/// A path no route takes (404), or a method its route doesn't (405).
async fn answer_unrouted(req: Request) -> Response {
    unrouted(req.uri().path()).map(Body::from)
}
