//! Observing gRPC calls: go-zero's metrics, under its names
//! (`rpc_{server,client}_requests_duration_ms{method}` and
//! `rpc_{server,client}_requests_code_total{method, code}`, the code numeric as go-zero writes
//! it), and a span per served call that continues the caller's trace (W3C `traceparent` in the
//! metadata).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};
use opentelemetry::propagation::{Extractor, Injector};
use tonic::Code;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::methods;

const BUCKETS_MS: [f64; 12] = [
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0,
];

#[derive(Debug, Clone)]
pub(crate) struct RpcMetrics {
    duration: Histogram<f64>,
    codes: Counter<u64>,
}

impl RpcMetrics {
    /// `side` is "server" or "client". Instruments from the global meter provider: install it
    /// first.
    pub(crate) fn new(side: &'static str) -> Self {
        let meter = opentelemetry::global::meter("rpc");
        Self {
            duration: meter
                .f64_histogram(format!("rpc_{side}_requests_duration_ms"))
                .with_description(format!("rpc {side} requests duration(ms)."))
                .with_boundaries(BUCKETS_MS.to_vec())
                .build(),
            codes: meter
                .u64_counter(format!("rpc_{side}_requests_code"))
                .with_description(format!("rpc {side} requests code count."))
                .build(),
        }
    }

    pub(crate) fn record(&self, method: &'static str, code: Code, took: Duration) {
        let method = KeyValue::new("method", method);
        self.duration
            .record(took.as_secs_f64() * 1000.0, std::slice::from_ref(&method));
        self.codes
            .add(1, &[method, KeyValue::new("code", i64::from(code as i32))]);
    }
}

/// The server side, as the outermost tower layer: guards' refusals are counted too.
#[derive(Debug, Clone)]
pub(crate) struct ServerMetricsLayer(pub(crate) RpcMetrics);

impl<S> Layer<S> for ServerMetricsLayer {
    type Service = ServerMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerMetrics {
            inner,
            metrics: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ServerMetrics<S> {
    inner: S,
    metrics: RpcMetrics,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> Service<http::Request<B>> for ServerMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<http::Response<Body>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // Never the raw path: a caller inventing paths would make a series (and a span name)
        // per path.
        let method = methods::label(req.uri().path());
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let span = server_span(method, req.headers());
        let call = self.inner.call(req).instrument(span.clone());
        Box::pin(async move {
            let res = call.await?;
            // Errors travel in the headers (trailers-only); a success's status is in the trailers.
            let code = res
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i32>().ok())
                .map_or(Code::Ok, Code::from_i32);
            let took = started.elapsed();
            metrics.record(method, code, took);
            // The access log, inside the call's span: it carries the ids.
            span.in_scope(|| {
                tracing::info!(
                    code = code as i32,
                    duration_ms = took.as_secs_f64() * 1000.0,
                    "call"
                );
            });
            Ok(res)
        })
    }
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The span of one served call, child of the caller's span when it sent one; every log line
/// inside it names its ids.
fn server_span(method: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc request",
        otel.name = method,
        otel.kind = "server",
        rpc.method = method,
    );
    let caller = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    let _ = span.set_parent(caller);
    span
}

/// Writes the current trace context into a call's metadata.
pub(crate) struct Metadata<'a>(pub(crate) &'a mut tonic::metadata::MetadataMap);

impl Injector for Metadata<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}
