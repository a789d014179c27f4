//! Every request observed once, outermost in the pipeline: its route found once, its span (see
//! [`super::request_span`]) around everything inside, and its metrics (see [`super::metrics`])
//! when it is answered.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Method, Request, Response};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use super::metrics::RequestMetrics;
use super::request_span;
use crate::api::routes;

#[derive(Clone)]
pub(crate) struct ObservedLayer(Arc<RequestMetrics>);

impl ObservedLayer {
    /// Its instruments come from the global meter provider: install it first.
    pub(crate) fn new() -> Self {
        Self(Arc::new(RequestMetrics::new()))
    }
}

impl<S> Layer<S> for ObservedLayer {
    type Service = Observed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observed {
            inner,
            metrics: Arc::clone(&self.0),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Observed<S> {
    inner: S,
    metrics: Arc<RequestMetrics>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, RB> Service<Request<B>> for Observed<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let started = Instant::now();
        // The label of metrics and spans, never the raw path: one series per short code would
        // sink Prometheus.
        let route = routes::label(req.method(), req.uri().path());
        let method = req.method().clone();
        let span = request_span::open(&req, route);
        // Inside the span, so that the refusals of the layers below are traced too.
        let call = span.in_scope(|| self.inner.call(req));
        let metrics = Arc::clone(&self.metrics);
        Box::pin(async move {
            let mut answering = pin!(call.instrument(span));
            let res = answering.as_mut().await?;
            let elapsed = started.elapsed();
            request_span::close(answering.span(), res.status(), elapsed);
            metrics.record(route, &method, res.status(), elapsed);
            Ok(res)
        })
    }
}

/// A method as spans and metrics name it. One no standard defines is `_OTHER` (OpenTelemetry's
/// convention): a client making methods up would otherwise add a metric series with each.
pub(super) fn method_label(method: &Method) -> &'static str {
    static STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    STANDARD
        .iter()
        .find(|standard| *standard == method)
        .map_or("_OTHER", Method::as_str)
}
