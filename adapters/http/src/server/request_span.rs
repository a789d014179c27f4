//! One span per request, continuing the caller's trace (W3C `traceparent`) when it sends one.
//! The span carries `trace_id` and `span_id` as fields, so every log line inside it does; the
//! access log is its last line.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, Request, Response};
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::api::routes;

#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSpanLayer;

impl<S> Layer<S> for RequestSpanLayer {
    type Service = RequestSpan<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestSpan(inner)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RequestSpan<S>(S);

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, RB> Service<Request<B>> for RequestSpan<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Response<RB>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let route = routes::label(req.method(), req.uri().path());
        let method = req.method().as_str().to_owned();
        let span = tracing::info_span!(
            "http request",
            otel.kind = "server",
            otel.name = format!("{method} {route}"),
            http.request.method = %method,
            http.route = route,
            http.response.status_code = Empty,
            trace_id = Empty,
            span_id = Empty,
        );
        let caller =
            opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(req.headers())));
        let _ = span.set_parent(caller);
        let context = span.context();
        let ids = context.span().span_context().clone();
        span.record("trace_id", ids.trace_id().to_string());
        span.record("span_id", ids.span_id().to_string());
        let started = Instant::now();
        let call = span.in_scope(|| self.0.call(req));
        Box::pin(async move {
            let res = call.instrument(span.clone()).await?;
            let status = res.status().as_u16();
            span.record("http.response.status_code", status);
            // The access log (go-zero logs every request too), inside the span: it carries the
            // ids.
            span.in_scope(|| {
                tracing::info!(
                    status,
                    duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "request"
                );
            });
            Ok(res)
        })
    }
}
