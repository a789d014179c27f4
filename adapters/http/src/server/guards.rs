//! How url-api's HTTP refuses, for the shared inbound guards of
//! `adapter_resilience::inbound` (max conns, shedding, timeout, panic recovery): each refusal is
//! a problem, like every other error of the API. And the body limit, which only HTTP has.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use adapter_resilience::inbound::{Outcome, Refusal, Refusals};
use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{Request, Response, StatusCode};
use http_body_util::Limited;
use tower_layer::Layer;
use tower_service::Service;

use crate::api::body::too_large;
use crate::api::problem::Problem;

/// Refusals as problem+json: 503 for each guard (a client should retry them all), 500 for a
/// panic. A 503 is a request that lacked capacity, as go-zero's shedder counts it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpRefusals;

impl<B: From<Bytes> + Send + 'static> Refusals<B> for HttpRefusals {
    fn refuse(&self, refusal: Refusal) -> Response<B> {
        let (slug, detail) = match refusal {
            Refusal::AtCapacity { .. } => (
                "too-many-requests-in-progress",
                "the server is at its limit of concurrent requests; try again shortly".to_owned(),
            ),
            Refusal::Overloaded => (
                "overloaded",
                "the server is overloaded; try again shortly".to_owned(),
            ),
            Refusal::TimedOut(limit) => (
                "timeout",
                format!("the request took longer than {} ms", limit.as_millis()),
            ),
            Refusal::CircuitOpen => (
                "circuit-open",
                "the server's dependencies have been failing; try again shortly".to_owned(),
            ),
            Refusal::Panicked(what) => {
                return Problem::internal(&format!("handler panicked: {what}"))
                    .into_response()
                    .map(B::from);
            }
        };
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            slug,
            "Service Unavailable",
            detail,
        )
        .into_response()
        .map(B::from)
    }

    fn outcome(&self, res: &Response<B>) -> Outcome {
        match res.status() {
            StatusCode::SERVICE_UNAVAILABLE => Outcome::Starved,
            status if status.is_server_error() => Outcome::Failed,
            _ => Outcome::Served,
        }
    }
}

/// Request bodies up to the limit: a declared length over it is refused with 413 before a
/// byte is read; any other body is cut off past it (its reader then fails with
/// `LengthLimitError`, which the handlers answer with 413).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimitLayer(pub(crate) usize);

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimit {
            inner,
            limit: self.0,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BodyLimit<S> {
    inner: S,
    limit: usize,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, RB> Service<Request<B>> for BodyLimit<S>
where
    S: Service<Request<Limited<B>>, Response = Response<RB>>,
    S::Future: Send + 'static,
    RB: From<Bytes> + Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let limit = self.limit;
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            let res = too_large(limit).into_response().map(RB::from);
            return Box::pin(async move { Ok(res) });
        }
        Box::pin(self.inner.call(req.map(|body| Limited::new(body, limit))))
    }
}
